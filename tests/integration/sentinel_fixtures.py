"""Fixtures of the Sentinel suite: a real Redis primary, its replica and three sentinels on 127.0.0.1.

``sentinel_cluster`` (one per test: the fault tests kill its primary) starts the
setup with ``tests/cluster/sentinel.sh start DIR`` on five free loopback ports and
stops it (``stop``: every process, and DIR) afterwards. Without ``redis-server``
and ``redis-cli`` the suite is skipped and reported as "SKIPPED Sentinel suite: ..."
at the end of the run.

Import the fixture in a test module with::

    from sentinel_fixtures import sentinel_cluster  # noqa: F401  pylint: disable=unused-import
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time

import pytest
import redis

from suites import mark_run, skip_suite

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "cluster", "sentinel.sh")
SUITE = "Sentinel"
SERVICE = "craton"
NAMES = ("redis-1", "redis-2", "sentinel-1", "sentinel-2", "sentinel-3")


def _free_base_port():
    """A port P such that P..P+4 are all free on 127.0.0.1 right now."""
    for _attempt in range(200):
        base = random.randint(20000, 40000)
        try:
            for port in range(base, base + len(NAMES)):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise AssertionError("no five free consecutive ports on 127.0.0.1")


class SentinelCluster:
    """A started sentinel.sh setup: ``url``, ``port(name)``, ``primary()``, ``kill(name)``, ..."""

    def __init__(self, directory):
        self.directory = str(directory)
        self.base = _free_base_port()
        self.env = dict(os.environ, CRATON_SENTINEL_PORT=str(self.base), CRATON_SENTINEL_SERVICE=SERVICE)
        self.url = None

    def script(self, command, check=True):
        proc = subprocess.run([SCRIPT, command, self.directory], env=self.env, capture_output=True, text=True,
                              timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("sentinel.sh %s failed (%d):\n%s\n%s"
                                 % (command, proc.returncode, proc.stdout, proc.stderr))
        return proc

    def start(self):
        self.url = self.script("start").stdout.strip().splitlines()[-1]
        return self

    def stop(self):
        self.script("stop", check=False)

    def port(self, name):
        return self.base + NAMES.index(name)

    def client(self, name, timeout=5):
        """A plain client of one process (not through Sentinel)."""
        return redis.Redis("127.0.0.1", self.port(name), socket_timeout=timeout, socket_connect_timeout=timeout)

    def pid(self, name):
        with open(os.path.join(self.directory, name, "pid"), encoding="ascii") as f:
            return int(f.read().strip())

    def primary(self, sentinel="sentinel-1"):
        """The name of the process a sentinel calls the primary now ("redis-1" or "redis-2")."""
        _host, port = self.client(sentinel).sentinel_get_master_addr_by_name(SERVICE)
        return NAMES[int(port) - self.base]

    def promoted(self, name):
        """True once every sentinel names ``name`` the primary and sees it up (what redis-py's
        Sentinel client checks before using it), and ``name`` itself has the role master."""
        for sentinel in ("sentinel-1", "sentinel-2", "sentinel-3"):
            if self.primary(sentinel) != name:
                return False
            state = self.client(sentinel).sentinel_master(SERVICE)
            if not state.get("is_master") or state.get("is_sdown") or state.get("is_odown"):
                return False
        return self.client(name).info("replication").get("role") == "master"

    def kill(self, name):
        """kill -9 a process, as a crash would; returns once it is gone."""
        pid = self.pid(name)
        os.kill(pid, 9)
        deadline = time.monotonic() + 10
        while os.path.exists("/proc/%d" % pid):    # a daemon: init reaps it
            assert time.monotonic() < deadline, "%s (pid %d) survived kill -9" % (name, pid)
            time.sleep(0.02)

    def replicated(self, primary="redis-1", replica="redis-2"):
        """True when the replica has everything the primary wrote (equal replication offsets)."""
        offset = self.client(primary).info("replication")["master_repl_offset"]
        info = self.client(replica).info("replication")
        return info.get("master_link_status") == "up" and info.get("slave_repl_offset") == offset

    def log(self):
        parts = []
        for name in NAMES:
            path = os.path.join(self.directory, name, "log")
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    parts.append("== %s\n%s" % (name, f.read()[-2000:]))
        return "\n".join(parts)


@pytest.fixture
def sentinel_cluster(tmp_path):
    """A fresh primary, replica and three sentinels for one test; stopped and removed afterwards."""
    missing = [name for name in ("redis-server", "redis-cli") if shutil.which(name) is None]
    if missing:
        skip_suite(SUITE, "%s not on PATH (Debian: apt-get install redis-server)" % " and ".join(missing))
    mark_run(SUITE)
    cluster = SentinelCluster(tmp_path / "sentinel")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
