"""Helpers for the progress page tests: a real ``craton serve`` process, an SSE reader, run writers.

The server runs as a subprocess on a fixed loopback port (so a test can stop and
start it again on the same address) with its own SQLite fleet database, a global
reader API token, the session's Redis and the callback tests' key prefix.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

from ansible_collections.craton.fleet.cli.embedded_redis import free_port
from ansible_collections.craton.fleet.plugins.module_utils import events as ev

from callback_runs import PREFIX

CRATON = [sys.executable, "-m", "ansible_collections.craton.fleet.cli"]


class ProgressServer:
    """``craton serve`` for the progress tests: ``start()``, ``stop()``, ``url``, ``token``."""

    def __init__(self, directory, redis_url, database_url):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.redis_url = redis_url
        self.database_url = database_url
        self.port = free_port()
        self.proc = None
        self.env = dict(os.environ)
        for name in list(self.env):
            if name.startswith("CRATON_"):
                del self.env[name]
        self.env.update({"CRATON_DATABASE_URL": database_url, "CRATON_REDIS_URL": redis_url,
                         "CRATON_REDIS_PREFIX": PREFIX, "XDG_CONFIG_HOME": os.path.join(self.directory, "config"),
                         "XDG_DATA_HOME": os.path.join(self.directory, "data")})
        self.craton("db", "upgrade")
        self.token = self.create_token("--global")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def craton(self, *args):
        proc = subprocess.run(CRATON + list(args), env=self.env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def create_token(self, *scope, role="reader"):
        out = self.craton("token", "create", *scope, "--role", role)
        return re.search(r"(craton_\S+)", out).group(1)

    def start(self, timeout=30):
        log = open(os.path.join(self.directory, "serve.log"), "a", encoding="utf-8")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(CRATON + ["serve", "--port", str(self.port)], env=self.env,
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "craton serve exited: %s" % self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("craton serve did not listen within %d s: %s" % (timeout, self.log()))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def log(self):
        with open(os.path.join(self.directory, "serve.log"), encoding="utf-8") as f:
            return f.read()[-3000:]

    def get(self, path, token=None, headers=None):
        """(status, headers, body bytes) of a GET."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            hdrs = dict(headers or {})
            if token is not False:
                hdrs.setdefault("Authorization", "Bearer %s" % (token or self.token))
            conn.request("GET", path, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def json(self, path, token=None):
        status, _h, body = self.get(path, token)
        assert status == 200, (status, body)
        return json.loads(body)


class SSEReader:
    """One SSE connection: ``messages()`` yields (event, id, data) as they come."""

    def __init__(self, server, run_id, last_event_id=None, after=None, token=None, timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        headers = {"Authorization": "Bearer %s" % (token or server.token), "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        path = "/progress/api/runs/%s/events" % run_id + ("?after=%s" % after if after else "")
        self.conn.request("GET", path, headers=headers)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, (self.resp.status, self.resp.read())
        assert self.resp.getheader("content-type").startswith("text/event-stream")

    def messages(self, comments=False):
        """(event, id, data) per message; with ``comments`` also ("comment", None, text)."""
        fields = {}
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode("utf-8").rstrip("\n")
            if not line:
                if "event" in fields or "data" in fields:
                    data = json.loads(fields["data"]) if "data" in fields else None
                    yield fields.get("event", "message"), fields.get("id"), data
                fields = {}
                continue
            if line.startswith(":"):
                if comments:
                    yield "comment", None, line[1:].strip()
                continue
            key, _sep, value = line.partition(": ")
            fields[key] = value

    def close(self):
        self.conn.close()


class RunWriter:
    """Writes a run the way the callback does (events.build_batch + write_batch), step by step."""

    def __init__(self, client, run_id, hosts, maxlen=ev.DEFAULT_STREAM_MAXLEN):
        self.client = client
        self.keys = ev.RunKeys(PREFIX, run_id)
        self.writer = ev.new_writer_id()
        self.hosts = list(hosts)
        self.maxlen = maxlen
        self.seq = 0
        self.sent = 0
        self.started_at = time.time()
        self.states = {}

    def write(self, specs, running=True, first=False):
        """``specs``: [(event type, host or None, fields)]; host results also set the host's state."""
        events, hosts = [], {}
        for event_type, host, fields in specs:
            self.seq += 1
            event = ev.make_event(self.keys.run_id, self.seq, event_type, "callback", self.writer, host=host, **fields)
            events.append(event)
            if host and event_type in ev.HOST_EVENT_STATUS:
                status = "running" if event_type in ("host_ok", "host_changed", "host_skipped") \
                    else ev.HOST_EVENT_STATUS[event_type]
                state = {"status": status, "task": fields.get("task"), "event": event_type, "seq": self.seq}
                if fields.get("msg"):
                    state["msg"] = state["error"] = fields["msg"]
                hosts[host] = self.states[host] = state
        if not running:
            for host in self.hosts:
                state = dict(self.states.get(host) or {"status": "pending"})
                if state["status"] == "running":
                    state["status"] = "changed"
                hosts[host] = self.states[host] = state
        counts = {"events": self.seq, "events_sent": self.sent + len(events), "events_dropped": 0,
                  "writers_running": 1 if running else 0}
        setnx = {"run_id": self.keys.run_id, "schema": 1, "source": "callback", "playbook": "/t/site.yml",
                 "user": "tester", "controller": "test", "started_at": "%.3f" % self.started_at} if first else None
        batch = ev.build_batch(self.writer, {"source": "callback", "running": running}, counts, events=events,
                               hosts=hosts, pending=self.hosts if first else (), run_setnx=setnx, maxlen=self.maxlen)
        ev.write_batch(self.client, self.keys, batch, self.started_at, index=first)
        self.sent += len(events)

    def start(self):
        self.write([("run_start", None, {"playbook": "/t/site.yml", "hosts": len(self.hosts)}),
                    ("play_start", None, {"play": "p", "play_id": "p1", "hosts": len(self.hosts)})], first=True)

    def results(self, task, statuses):
        """One task: task_start, then one result per host (``statuses``: host -> event type)."""
        specs = [("task_start", None, {"task": task, "task_id": task})]
        for host, event_type in statuses.items():
            fields = {"task": task, "task_id": task}
            if event_type in ("host_failed", "host_unreachable"):
                fields["msg"] = "%s broke at %s" % (host, task)
            specs.append((event_type, host, fields))
        self.write(specs)

    def finish(self):
        self.seq_end = self.seq + 1
        self.write([("run_end", None, {"results": {}, "totals": {}, "events": self.seq + 1, "dropped": 0})],
                   running=False)

    def stream_ids(self, after="-"):
        return [i for i, _e in ev.read_events(self.client, self.keys, after=after)]
