"""Archives under load: overload is a 503 with Retry-After, never a 500; a stopping server does not wait forever.

Issue 7's benchmark once got ``500 (TimeoutError)``: 32 archive builds at once held
every pooled database connection. Now each server process builds at most
``--archive-builds`` archives at a time and lets ``--archive-queue`` more wait
(server/archive_limit.py). The tests hold the database locked so that a build
cannot finish: which request waits and which is turned away is then certain, not
a matter of timing.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import os
import socket
import sqlite3
import uuid

import pytest
import requests

from api_fixtures import ApiServer, api_server  # noqa: F401  pylint: disable=unused-import
from inventory_helpers import build

GUARD = 90  # seconds: only so that a broken server fails the test instead of hanging it


@pytest.fixture(scope="module")
def fleets(api_server):  # noqa: F811
    """A small fleet (region ``eu``) and one whose archive is far bigger than the socket buffers
    (region ``big``: 16 hosts with 512 KiB of random text each)."""
    tenant = "a%s" % uuid.uuid4().hex[:6]
    hosts = {"h%d" % i: {"region": "eu", "vars": {"n": i}} for i in range(3)}
    hosts.update({"b%02d" % i: {"region": "big", "vars": {"blob": base64.b64encode(os.urandom(384 * 1024)).decode()}}
                  for i in range(16)})
    build(api_server.database_url, {tenant: {"regions": {"eu": {}, "big": {}}, "hosts": hosts}})
    token = api_server.token(tenant, "editor")
    regions = {r["name"]: r["id"] for r in api_server.session(token).get(api_server.url + "/v1/regions").json()["items"]}
    return {"token": token, "regions": regions}


@pytest.fixture(scope="module")
def limited(api_server, tmp_path_factory):  # noqa: F811
    """A second ``craton serve`` on the same database: one archive at a time, one waiting.
    (The last test stops it.)"""
    server = ApiServer(api_server.database_url, api_server.env, str(tmp_path_factory.mktemp("limited"))).start(
        "--archive-builds", "1", "--archive-queue", "1", "--token-cache-seconds", "3600", "--shutdown-timeout", "2")
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def database_locked(url):
    """Readers of the fleet wait while this is open (SQLite: an exclusive lock; MariaDB: LOCK TABLES)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("LOCK TABLES hosts WRITE")
        try:
            yield
        finally:
            conn.exec_driver_sql("UNLOCK TABLES")
    engine.dispose()


def _turned_away(futures, count):
    """The first ``count`` answers to come back (the others wait), and the futures still waiting."""
    done = []
    for future in concurrent.futures.as_completed(futures, timeout=GUARD):
        done.append(future)
        if len(done) == count:
            break
    for answer in (f.result() for f in done):
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) >= 1
        error = answer.json()["error"]
        assert error["status"] == 503 and "too many inventory archives" in error["message"], error
    return [f for f in futures if f not in done]


def test_too_many_archives_at_once_are_503_with_retry_after(api_server, fleets, limited):  # noqa: F811
    path = limited.url + "/v1/inventory/%d.tgz" % fleets["regions"]["eu"]
    headers = {"Authorization": "Bearer %s" % fleets["token"]}
    first = requests.get(path, headers=headers, timeout=GUARD)  # also puts the token in the server's cache
    assert first.status_code == 200, first.text
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        with database_locked(api_server.database_url):
            futures = [pool.submit(requests.get, path, headers=headers, timeout=GUARD) for _i in range(4)]
            # One builds (and waits for the lock), one waits for its turn: the other two are turned away now.
            served = _turned_away(futures, 2)
        served = [f.result(timeout=GUARD) for f in served]
    assert [a.status_code for a in served] == [200, 200], [a.text for a in served]
    assert all(a.content == first.content for a in served)
    # Every slot was given back.
    again = requests.get(path, headers=headers, timeout=GUARD)
    assert again.status_code == 200 and again.content == first.content


def _stalled_download(server, path, token):
    """A client that asks for an archive and then reads nothing (a tiny receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n" % (path, token)).encode())
    assert sock.recv(12).startswith(b"HTTP/1.1 200"), "the archive did not start"
    return sock


def test_a_client_that_goes_away_gives_its_archive_slot_back(fleets, limited):
    path = limited.url + "/v1/inventory/%d.tgz" % fleets["regions"]["big"]
    headers = {"Authorization": "Bearer %s" % fleets["token"]}
    sock = _stalled_download(limited, path[len(limited.url):], fleets["token"])
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        try:
            # The stalled stream holds the only slot: one request waits for it, the other is turned away.
            futures = [pool.submit(requests.get, path, headers=headers, timeout=GUARD) for _i in range(2)]
            waiting = _turned_away(futures, 1)
        finally:
            sock.close()
        assert waiting[0].result(timeout=GUARD).status_code == 200
    assert requests.get(path, headers=headers, timeout=GUARD).status_code == 200


def test_sigterm_stops_the_server_while_an_archive_streams(fleets, limited):  # the last test: it stops ``limited``
    sock = _stalled_download(limited, "/v1/inventory/%d.tgz" % fleets["regions"]["big"], fleets["token"])
    try:
        limited.proc.terminate()
        # Without a graceful-shutdown timeout uvicorn waits for the stalled client forever.
        assert limited.proc.wait(GUARD) is not None
    finally:
        sock.close()
