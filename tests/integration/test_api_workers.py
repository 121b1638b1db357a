"""craton serve --workers N: every worker takes connections, a taken port is a clear error, SIGTERM stops all.

uvicorn's workers used to accept from one shared socket: 32 clients connecting at
once all landed on one worker in half the runs of bench/api_load.py (the other
worker idle, throughput halved). Each worker now listens on its own SO_REUSEPORT
socket (server/reuse_port.py).
"""

from __future__ import annotations

import glob
import os
import socket
import subprocess
import sys
import time

import pytest

from api_fixtures import ApiServer

CLIENTS = 32


def children(pid):
    """Pids of the processes whose parent is ``pid``."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.split("/")[2]))
    return found


ESTABLISHED, LISTEN = "01", "0A"


def socket_inodes(port, state):
    """Inodes of the TCP sockets in ``state`` whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                    inodes.add(fields[9])
    return inodes


def sockets_per_process(pids, port, state=ESTABLISHED):
    """{pid: its TCP sockets of local port ``port`` in ``state``}."""
    inodes = socket_inodes(port, state)
    counts = {}
    for pid in pids:
        held = 0
        for fd in glob.glob("/proc/%d/fd/*" % pid):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held += 1
        counts[pid] = held
    return counts


def get_over(sock):
    """One keep-alive GET of the OpenAPI document on ``sock``; the status line."""
    sock.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b"\r\n")[0]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """``craton serve --workers 2`` on a new SQLite fleet (the sockets do not depend on the database)."""
    from ansible_collections.craton.fleet.cli import db as db_cli

    workdir = tmp_path_factory.mktemp("workers")
    url = "sqlite:///%s" % (workdir / "fleet.db")
    db_cli.upgrade(url)
    env = dict(os.environ, XDG_DATA_HOME=str(workdir / "xdg-data"), XDG_CONFIG_HOME=str(workdir / "xdg-config"))
    server = ApiServer(url, env, str(workdir)).start("--workers", "2")
    try:
        yield server
    finally:
        server.stop()


def test_connections_opened_at_once_are_spread_over_the_workers(two_workers):
    # Both workers listening (the first answers before the second has started; the supervisor
    # has other children too: multiprocessing's resource tracker).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listening = sockets_per_process(children(two_workers.proc.pid), two_workers.port, LISTEN)
        if sum(1 for count in listening.values() if count) == 2:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("two workers did not listen within 60 s: %s" % listening)
    socks = [socket.create_connection(("127.0.0.1", two_workers.port), timeout=30) for _i in range(CLIENTS)]
    try:
        assert {get_over(sock) for sock in socks} == {b"HTTP/1.1 200 OK"}
        counts = sockets_per_process(children(two_workers.proc.pid), two_workers.port)
    finally:
        for sock in socks:
            sock.close()
    serving = sorted(count for count in counts.values() if count)
    assert sum(serving) == CLIENTS, counts
    # The kernel hashes each connection to one worker's socket: 32 of 32 on one worker
    # (what the shared socket gave in half the runs) has a chance of 2 in 2**32 now.
    assert len(serving) == 2, counts


def test_a_second_server_on_a_taken_port_says_so_and_the_first_keeps_serving(two_workers):
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.craton.fleet.cli", "serve", "--workers", "2",
         "--port", str(two_workers.port), "--database-url", two_workers.database_url],
        capture_output=True, text=True, env=two_workers.env, timeout=120, check=False)
    assert proc.returncode != 0
    assert "cannot listen on 127.0.0.1 port %d" % two_workers.port in proc.stderr
    assert "Traceback" not in proc.stderr
    with socket.create_connection(("127.0.0.1", two_workers.port), timeout=30) as sock:
        assert get_over(sock) == b"HTTP/1.1 200 OK"


def test_sigterm_stops_the_supervisor_and_every_worker(two_workers):
    workers = children(two_workers.proc.pid)
    assert len(workers) >= 2
    two_workers.proc.terminate()
    assert two_workers.proc.wait(30) == 0
    deadline = time.monotonic() + 30
    while any(os.path.exists("/proc/%d" % pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists("/proc/%d" % pid) for pid in workers)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", two_workers.port), timeout=5).close()
