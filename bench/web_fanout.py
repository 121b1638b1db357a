# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fan-out of the live progress page: one run's events to many SSE clients.

    .venv/bin/python bench/web_fanout.py [--hosts 10000] [--events 100000] [--clients 20]
                                         [--rate 2500] [--redis-url URL]

Starts a real ``craton serve`` (its own SQLite fleet database and API token) and
a real redis-server (or uses --redis-url), then replays a synthetic run of HOSTS
hosts and EVENTS events into Redis through the callback's own write path
(``events.build_batch`` + ``events.write_batch``: the batch script, host states,
summary counters), in batches every 0.1 s at RATE events per second (0: as fast
as Redis takes them), while CLIENTS Server-Sent-Events clients (asyncio, plain
HTTP/1.1) watch ``/progress/api/runs/RUN/events``.

Each client checks that it got every event exactly once and in order (stream ids
strictly increasing, count = stream length), and records each event's lag: the
time the client read it minus the time Redis stored it (the stream id's
milliseconds; one clock, one machine). Prints the replay rate (baseline: what
Redis was given), the delivered rate of the slowest client (candidate), their
ratio, the lag distribution over all clients (p50, p90, p99, max) and the CPU
seconds of the server and Redis.

With ``--browser /usr/bin/chromium`` (Python playwright) the run page is open in a
headless chromium during the replay too, and the bench reports how fluid it stayed:
the gaps between animation frames (p50, p99, max), the long tasks (> 50 ms) of the
page's main thread, and whether the page's final counts equal the run summary.

Target: >= 2,000 events/s delivered to every one of 20 clients, p99 lag <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "build", "collections"))

from ansible_collections.craton.fleet.plugins.module_utils import events as ev  # noqa: E402
from ansible_collections.craton.fleet.cli.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

PREFIX = "craton-bench"
TICK = 0.1
EVENT_ID = re.compile(rb'"id":"(\d+)-(\d+)"')


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def last_stream_id(client, keys):
    return client.xrevrange(keys.events, count=1)[0][0].decode()


def cpu_seconds(pid):
    """User + system CPU seconds of a process (from /proc)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


# --- the synthetic run ------------------------------------------------------------

class Replay:
    """A synthetic run written like the callback writes one: events, host states, counters."""

    def __init__(self, client, run_id, hosts, total):
        self.client = client
        self.keys = ev.RunKeys(PREFIX, run_id)
        self.writer = ev.new_writer_id()
        self.hosts = ["host%05d" % i for i in range(hosts)]
        self.total = total
        self.seq = 0
        self.sent = 0
        self.started_at = time.time()
        self.writer_state = {"source": "callback", "pid": os.getpid(), "controller": socket.gethostname(),
                             "playbook": "/bench/site.yml", "started_at": self.started_at, "running": True}
        self.rng = random.Random(8)

    def event(self, event_type, host=None, **fields):
        self.seq += 1
        return ev.make_event(self.keys.run_id, self.seq, event_type, "callback", self.writer, host=host, **fields)

    def write(self, events, hosts=None, pending=(), first=False, running=1):
        counts = {"events": self.seq, "events_sent": self.sent + len(events), "events_dropped": 0,
                  "writers_running": running}
        state = dict(self.writer_state, running=bool(running))
        run_setnx = None
        if first:
            run_setnx = {"run_id": self.keys.run_id, "schema": ev.SCHEMA_VERSION, "source": "callback",
                         "playbook": "/bench/site.yml", "user": "bench", "controller": socket.gethostname(),
                         "started_at": "%.3f" % self.started_at}
        batch = ev.build_batch(self.writer, state, counts, events=events, hosts=hosts, pending=pending,
                               run_setnx=run_setnx, maxlen=max(self.total + 10, ev.DEFAULT_STREAM_MAXLEN))
        ev.write_batch(self.client, self.keys, batch, self.started_at, index=first)
        self.sent += len(events)

    def start(self):
        self.write([self.event("run_start", playbook="/bench/site.yml", hosts=len(self.hosts), user="bench",
                               controller=socket.gethostname()),
                    self.event("play_start", play="bench", play_id="p1", hosts=len(self.hosts))],
                   pending=self.hosts, first=True)

    def body(self):
        """Generator of (event, host state or None) until ``total`` events (run_end included)."""
        failed, unreachable = set(), set()
        task = 0
        made = self.seq
        while True:
            task += 1
            name = "task %d" % task
            made += 1
            yield self.event("task_start", task=name, task_id="t%d" % task, action="command", play="bench"), None
            for host in self.hosts:
                if host in failed or host in unreachable:
                    continue
                if made >= self.total - 1:
                    return
                roll = self.rng.random()
                if task == 1 and roll < 0.01:
                    unreachable.add(host)
                    e = self.event("host_unreachable", host=host, task=name, task_id="t%d" % task, action="command",
                                   duration=0.1, msg="ssh: connect to host %s port 22: Connection timed out" % host)
                    status = "unreachable"
                elif task == 3 and roll < 0.02:
                    failed.add(host)
                    e = self.event("host_failed", host=host, task=name, task_id="t%d" % task, action="command",
                                   duration=0.2, rc=1, msg="non-zero return code")
                    status = "failed"
                else:
                    kind = "host_changed" if roll < 0.3 else "host_ok"
                    e = self.event(kind, host=host, task=name, task_id="t%d" % task, action="command", duration=0.05)
                    status = "running"
                made += 1
                state = {"status": status, "task": name, "event": e["type"], "ts": round(e["ts"], 3), "seq": e["seq"]}
                if status in ("failed", "unreachable"):
                    state["msg"] = state["error"] = e["msg"]
                yield e, (host, state)

    def finish(self, states):
        final = {}
        for host in self.hosts:
            state = dict(states.get(host) or {"status": "pending"})
            if state["status"] == "running":
                state["status"] = "changed"
            final[host] = state
        results = {}
        for state in final.values():
            results[state["status"]] = results.get(state["status"], 0) + 1
        end = self.event("run_end", results=results, totals={}, events=self.seq + 1, dropped=0)
        self.write([end], hosts=final, running=0)


def replay(replay_run, rate):
    """Write the run's body at ``rate`` events/s (0: flat out); returns (events, seconds)."""
    states = {}
    body = replay_run.body()
    per_tick = int(rate * TICK) if rate else 1000
    start = time.perf_counter()
    n = 0
    done = False
    tick = 0
    while not done:
        events, hosts = [], {}
        for _i in range(per_tick):
            try:
                e, host_state = next(body)
            except StopIteration:
                done = True
                break
            events.append(e)
            if host_state:
                hosts[host_state[0]] = host_state[1]
                states[host_state[0]] = host_state[1]
        if events:
            replay_run.write(events, hosts=hosts)
            n += len(events)
        tick += 1
        if rate:
            delay = start + tick * TICK - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    replay_run.finish(states)
    return n + 1, time.perf_counter() - start


# --- the SSE clients ---------------------------------------------------------------

class Client:
    """One SSE client: plain HTTP/1.1 over asyncio, chunked body, resumes with Last-Event-ID."""

    def __init__(self, port, path, token):
        self.port, self.path, self.token = port, path, token
        self.last = (0, 0)
        self.count = 0
        self.lags = []
        self.order_errors = 0
        self.connects = 0
        self.first_at = None
        self.last_at = None
        self.ended = False
        self.got_first = asyncio.Event()

    async def run(self):
        while not self.ended:
            try:
                await self._once()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                await asyncio.sleep(0.2)

    async def _once(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 24)
        self.connects += 1
        last_id = "%d-%d" % self.last
        writer.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                      "Authorization: Bearer %s\r\nLast-Event-ID: %s\r\n\r\n" % (self.path, self.token, last_id))
                     .encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise ValueError("HTTP %r" % status)
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        buf = b""
        try:
            while True:
                size = int((await reader.readline()).strip() or b"0", 16)
                if size == 0:
                    return
                buf += await reader.readexactly(size)
                await reader.readexactly(2)
                while b"\n\n" in buf:
                    message, buf = buf.split(b"\n\n", 1)
                    self._message(message)
                    if self.ended:
                        return
        finally:
            writer.close()

    def _message(self, message):
        fields = {}
        for line in message.split(b"\n"):
            key, _sep, value = line.partition(b": ")
            fields[key] = value
        kind = fields.get(b"event")
        if kind == b"end":
            self.ended = True
            return
        if kind != b"batch":
            return
        now = time.time()
        # The events' stream ids, without decoding the whole message (host states, summary):
        # the client stays cheap, so the lag measured is the server's, not this process's.
        for ms, seq in EVENT_ID.findall(fields[b"data"]):
            sid = (int(ms), int(seq))
            if sid <= self.last:
                self.order_errors += 1
            self.last = sid
            self.count += 1
            self.lags.append(now - sid[0] / 1000.0)
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        self.got_first.set()


# --- the page in a browser (optional) -------------------------------------------------

FRAME_PROBE = """
window.__gaps = []; window.__long = [];
(function () {
  var last = performance.now();
  function tick(t) { window.__gaps.push(t - last); last = t; requestAnimationFrame(tick); }
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) { window.__long.push(e.duration); }); })
      .observe({entryTypes: ["longtask"]});
  } catch (e) {}
})();
"""


class BrowserWatch(threading.Thread):
    """The run page in headless chromium (playwright) while the run is replayed."""

    def __init__(self, chromium, url, done, last_id):
        super().__init__(daemon=True)
        self.last_id = last_id
        self.chromium, self.url, self.done = chromium, url, done
        self.ready = threading.Event()
        self.result = None
        self.error = None

    def run(self):
        try:
            from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=self.chromium, args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run"])
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.add_init_script(FRAME_PROBE)
                page.goto(self.url)
                page.wait_for_selector("body[data-ready]")
                self.ready.set()
                self.done.wait()
                page.wait_for_function("cratonProgress.state.lastId === %s" % json.dumps(self.last_id()),
                                       timeout=120000)
                page.wait_for_timeout(500)
                self.result = page.evaluate("""() => ({gaps: window.__gaps, long: window.__long,
                    counts: ["ok", "changed", "failed", "unreachable", "skipped", "running", "pending"].map(
                        k => [k, Number(document.getElementById("count-" + k).textContent)]),
                    hosts: cratonProgress.state.hosts.size, events: cratonProgress.state.events})""")
                browser.close()
        except Exception as e:  # pylint: disable=broad-except
            self.error = e
        finally:
            self.ready.set()


# --- main ---------------------------------------------------------------------------

def start_server(tmp, redis_url):
    env = dict(os.environ, CRATON_DATABASE_URL="sqlite:///%s/fleet.db" % tmp, CRATON_REDIS_URL=redis_url,
               CRATON_REDIS_PREFIX=PREFIX, XDG_CONFIG_HOME=os.path.join(tmp, "config"))
    craton = [sys.executable, "-m", "ansible_collections.craton.fleet.cli"]
    subprocess.run(craton + ["db", "upgrade"], env=env, check=True, capture_output=True)
    out = subprocess.run(craton + ["token", "create", "--global", "--role", "reader"], env=env, check=True,
                         capture_output=True, text=True).stdout
    token = re.search(r"(craton_\S+)", out).group(1)
    port = free_port()
    proc = subprocess.Popen(craton + ["serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "serve.log"), "w"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port, token
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("craton serve did not start: see %s/serve.log" % tmp)


async def bench(args, port, token, redis_client, redis_pid, server_pid):
    run_id = ev.new_run_id()
    run = Replay(redis_client, run_id, args.hosts, args.events)
    run.start()
    path = "/progress/api/runs/%s/events" % run_id
    clients = [Client(port, path, token) for _i in range(args.clients)]
    tasks = [asyncio.ensure_future(c.run()) for c in clients]
    await asyncio.wait_for(asyncio.gather(*(c.got_first.wait() for c in clients)), 30)
    for c in clients:  # the announcement batch was written before the clients came: not a lag
        c.lags.clear()
        c.count = 0
    watch = None
    replay_done = threading.Event()
    if args.browser:
        watch = BrowserWatch(args.browser, "http://127.0.0.1:%d/progress/runs/%s?token=%s" % (port, run_id, token),
                             replay_done, partial(last_stream_id, redis_client, run.keys))
        watch.start()
        await asyncio.get_running_loop().run_in_executor(None, watch.ready.wait)
    cpu0 = cpu_seconds(server_pid), cpu_seconds(redis_pid) if redis_pid else float("nan")
    loop = asyncio.get_running_loop()
    t0 = time.time()
    written, seconds = await loop.run_in_executor(None, replay, run, args.rate)
    replay_done.set()
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    except asyncio.TimeoutError:
        for t in tasks:
            t.cancel()
    cpu1 = cpu_seconds(server_pid), cpu_seconds(redis_pid) if redis_pid else float("nan")
    length = redis_client.xlen(run.keys.events)
    expected = length - 2  # run_start and play_start came before the measurement
    lags = [lag for c in clients for lag in c.lags]
    rates = [c.count / (c.last_at - t0) for c in clients if c.last_at]
    print("run %s: %d hosts, %d events in the stream, %d SSE clients" % (run_id, args.hosts, length, args.clients))
    print("replay:    %d events in %.2f s = %.0f events/s written to Redis (baseline)"
          % (written, seconds, written / seconds))
    print("delivered: slowest client %.0f events/s, fastest %.0f events/s (candidate)"
          % (min(rates or [0]), max(rates or [0])))
    print("ratio:     %.3f (delivered by the slowest client / written)" % (min(rates or [0]) / (written / seconds)))
    print("complete:  %d of %d clients got all %d events exactly once, in order (order errors: %d, connects: %d)"
          % (sum(1 for c in clients if c.count == expected and not c.order_errors), len(clients), expected,
             sum(c.order_errors for c in clients), sum(c.connects for c in clients)))
    print("lag:       p50 %.3f s  p90 %.3f s  p99 %.3f s  max %.3f s  (%d samples)"
          % (percentile(lags, 50), percentile(lags, 90), percentile(lags, 99), max(lags or [0]), len(lags)))
    print("cpu:       craton serve %.1f s, redis-server %.1f s over %.1f s"
          % (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1], time.time() - t0))
    if watch is not None:
        await loop.run_in_executor(None, watch.join, 180)
        if watch.result is None:
            print("browser:   no result (%s)" % (watch.error,))
        else:
            r = watch.result
            gaps = r["gaps"][1:]
            summary = ev.read_summary(redis_client, run.keys)
            same = all(summary.get("hosts_" + k, 0) == v for k, v in r["counts"])
            print("browser:   %d hosts, %d live events; frame gaps p50 %.0f ms  p99 %.0f ms  max %.0f ms (%d frames); "
                  "long tasks %d (%.0f ms in all, longest %.0f ms); final counts %s the summary"
                  % (r["hosts"], r["events"], percentile(gaps, 50), percentile(gaps, 99), max(gaps or [0]),
                     len(gaps), len(r["long"]), sum(r["long"]), max(r["long"] or [0]),
                     "equal" if same else "DIFFER FROM"))
    ok = min(rates or [0]) >= 2000 and percentile(lags, 99) <= 1.0
    print("target:    >= 2000 events/s to every client, p99 lag <= 1 s: %s" % ("met" if ok else "NOT met"))
    redis_client.delete(*run.keys.run_keys())
    redis_client.zrem(run.keys.index, run_id)
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--events", type=int, default=100000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=int, default=2500, help="events/s to replay (0: as fast as possible)")
    parser.add_argument("--redis-url", help="an existing Redis (default: a redis-server started here)")
    parser.add_argument("--browser", metavar="CHROMIUM",
                        help="also watch the run page in this chromium (e.g. /usr/bin/chromium) and report its frames")
    args = parser.parse_args()
    import redis  # pylint: disable=import-outside-toplevel
    tmp = tempfile.mkdtemp(prefix="craton-fanout-")
    server = embedded = None
    try:
        redis_pid = None
        if args.redis_url:
            redis_url = args.redis_url
        else:
            embedded = EmbeddedRedis(os.path.join(tmp, "redis")).start()
            redis_url, redis_pid = embedded.url, embedded.proc.pid
        client = redis.Redis.from_url(redis_url, socket_timeout=30)
        server, port, token = start_server(tmp, redis_url)
        return asyncio.run(bench(args, port, token, client, redis_pid, server.pid))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
