"""Helpers for the callback tests: real ansible-playbook runs with craton.fleet.redis, and what they wrote.

Hosts run on the local connection with the test's Python as interpreter; the
unreachable host is SSH to a closed port on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid

import redis

from ansible_collections.craton.fleet.plugins.module_utils import events as ev

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
BIN = os.path.dirname(sys.executable)
PREFIX = "craton-test"


def closed_port():
    """A loopback TCP port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def inventory(local=("h1", "h2", "h3"), dead=("dead",)):
    """An INI inventory of local-connection hosts and unreachable (closed SSH port) hosts."""
    lines = ["[local]"]
    lines += ["%s ansible_connection=local ansible_python_interpreter=%s" % (h, sys.executable) for h in local]
    if dead:
        lines.append("[unreachable_hosts]")
        lines += ["%s ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=%d "
                  "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o ConnectTimeout=5'"
                  % (h, closed_port()) for h in dead]
    return "\n".join(lines) + "\n"


def new_run_id():
    return "t-%s" % uuid.uuid4().hex[:12]


def ansible_env(tmp_path, redis_url=None, run_id=None, callback=True, **options):
    """Environment for ansible-playbook: isolated temp dirs, the callback enabled and configured.

    ``options`` become CRATON_* variables, e.g. ``CRATON_REDIS_BUFFER_SIZE=3``."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("CRATON_", "ANSIBLE_")):
            del env[name]
    env.update({
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if callback:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "craton.fleet.redis"
        env["CRATON_REDIS_PREFIX"] = PREFIX
        if redis_url:
            env["CRATON_REDIS_URL"] = redis_url
        if run_id:
            env["CRATON_RUN_ID"] = run_id
    env.update({k: str(v) for k, v in options.items()})
    return env


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def playbook_command(inventory_path, playbook, *args):
    return [os.path.join(BIN, "ansible-playbook"), "-i", inventory_path, playbook, *args]


def run_playbook(env, inventory_path, playbook, *args, timeout=300):
    """Run ansible-playbook to the end; returns the CompletedProcess (never raises on failure)."""
    return subprocess.run(playbook_command(inventory_path, playbook, *args), env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def recap(stdout):
    """The PLAY RECAP lines, as {host: "ok=1 changed=0 ..."}."""
    out = {}
    for line in stdout.split("PLAY RECAP")[-1].splitlines():
        m = re.match(r"^(\S+)\s+:\s+(ok=.*)$", line.strip())
        if m:
            out[m.group(1)] = " ".join(m.group(2).split())
    return out


def callback_warnings(proc=None, text=""):
    """The warnings of the callback in a run's output (one entry per warning)."""
    if proc is not None:
        text = proc.stdout + "\n" + proc.stderr
    return re.findall(r"\[WARNING\]: (craton\.fleet\.redis.*)", text)


def client(redis_url):
    return redis.Redis.from_url(redis_url, socket_timeout=5)


def read_run(redis_url, run_id, prefix=PREFIX):
    """What a run left in Redis: summary, hosts, events (decoded) and the stream ids."""
    keys = ev.RunKeys(prefix, run_id)
    c = client(redis_url)
    rows = ev.read_events(c, keys)
    return {
        "keys": keys,
        "summary": ev.read_summary(c, keys),
        "hosts": ev.read_hosts(c, keys),
        "writers": ev.read_writers(c, keys),
        "ids": [stream_id for stream_id, _event in rows],
        "events": [event for _stream_id, event in rows],
        "text": everything_written(c, keys),
    }


def everything_written(c, keys):
    """Every field and value the run has in Redis, as one string (to look for what must not be there)."""
    parts = []
    for key in (keys.summary, keys.hosts, keys.writers):
        for field, value in c.hgetall(key).items():
            parts += [field, value]
    for _stream_id, fields in c.xrange(keys.events):
        for field, value in fields.items():
            parts += [field, value]
    return "\n".join(p.decode("utf-8", "replace") for p in parts)


def wait_for(condition, timeout=120, what="condition"):
    """Poll ``condition()`` until it returns something true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s" % what)
