"""The README's demo: a fleet of 30 hosts in SQLite, shown through Ansible, and a live run.

One real ``craton demo`` (embedded Redis, ``craton serve``, ``craton run``), stopped
with Ctrl-C (SIGINT to its process group, as a terminal sends it) once the run is
over: the page's JSON has every host's final state, and nothing is left running.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

EXPECTED = {"changed": 26, "failed": 3, "unreachable": 1}


def _port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _read_until(proc, marker, timeout):
    """The demo's output up to the line holding ``marker``."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("no %r in the demo's output:\n%s" % (marker, "".join(lines)))


def test_demo_builds_the_fleet_runs_it_live_and_stops_cleanly_on_ctrl_c(craton_env, tmp_path):
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "fleet.db").write_bytes(b"a stale file from an earlier demo")
    env = dict(craton_env)
    env.pop("CRATON_REDIS_URL", None)  # the demo starts its own Redis
    proc = subprocess.Popen(
        [sys.executable, "-m", "ansible_collections.craton.fleet.cli", "demo", "--dir", str(directory)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        out = _read_until(proc, "Press Ctrl-C", timeout=600)
        # the fleet as Ansible sees it: nested user groups
        assert re.search(r"^@app:\n(.*\n)*  \|--@dbservers:\n  \|  \|--@db_primary:", out, re.M)
        # craton explain traces host variables to the tenant, region and group they come from
        assert "overrides 8080 from group webservers" in out
        assert "<- region west (group region_west)" in out and "<- tenant acme (group tenant_acme)" in out
        # a real play rendered the template stored for the tenant, with region and group values
        assert "Welcome to web03, a web host in us-west" in out
        assert "Welcome to db01, a database host in us-east" in out
        assert "db01 connects with key file" in out
        # craton run drove the rollout: three hosts fail and one is unreachable, on purpose
        assert "30 hosts" in out and "26 changed, 3 failed, 1 unreachable" in out
        assert re.search(r"unreachable hosts:\n  lb06: .*Connection refused", out)
        for host in ("web05", "db04", "cache03"):
            assert re.search(r"^  %s: health check failed on %s" % (host, host), out, re.M)
        assert "craton run exited with 3" in out

        # the printed page works, and its data holds the finished run
        page = re.search(r"Watch the run live:  (http://127\.0\.0\.1:(\d+)/progress/runs/(\S+)\?token=(\S+))", out)
        assert page, out
        url, port, run_id, token = page.group(1), int(page.group(2)), page.group(3), page.group(4)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # ?token= sets a cookie
        with browser.open(url, timeout=10) as response:
            assert response.url.endswith("/progress/runs/" + run_id)  # the token left the address bar
            assert "/progress/static/run.js" in response.read().decode()
        request = urllib.request.Request("http://127.0.0.1:%d/progress/api/runs/%s" % (port, run_id),
                                         headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(request, timeout=10) as response:
            snapshot = json.load(response)
        counts = snapshot["counts"]
        assert {k: counts[k] for k in EXPECTED} == EXPECTED and counts["done"] == 30
        assert snapshot["hosts"]["lb06"]["status"] == "unreachable"
        assert snapshot["driver"]["writers"], "the driver's own state is in the run"

        os.killpg(proc.pid, signal.SIGINT)
        rest = proc.communicate(timeout=60)[0]
        assert proc.returncode == 0, rest
        assert "Stopping." in rest
        assert not _port_open(port), "the demo's server still listens after Ctrl-C"
        redis_port = int(re.search(r"\(Redis redis://127\.0\.0\.1:(\d+)/0\)", out).group(1))
        assert not _port_open(redis_port), "the demo's Redis still listens after Ctrl-C"
        try:
            os.killpg(proc.pid, 0)
            raise AssertionError("processes of the demo are still running after Ctrl-C")
        except ProcessLookupError:
            pass
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    with sqlite3.connect(directory / "fleet.db") as conn:
        assert conn.execute("SELECT count(*) FROM hosts").fetchone() == (30,)
        assert b"PRIVATE KEY" not in conn.execute("SELECT ciphertext FROM secrets").fetchone()[0]
