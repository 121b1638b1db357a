#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load benchmark of the REST API (issue 7, "Performance").

Builds a fleet (default 10,000 hosts with 10 variables each, one region, 500
groups nested 3 deep: bench/fleet_generator.py) in a SQLite file (or MariaDB with
--mariadb), starts ``craton serve`` and, in one run, measures:

  (1) ``GET /v1/hosts?limit=100`` (random markers) from 32 concurrent clients:
      p50 / p99 latency and requests per second; target p99 <= 100 ms;
  (2) ``GET /v1/inventory/{region_id}.tgz`` (the whole region, secrets included)
      from 32 concurrent clients: p50 / p99 and requests per second;
  (3) the archive alone: the API's ``.tgz`` (one client) against ``craton export``
      of the same archive, both as the median of --repeat runs; target
      API / export <= 1.2. The baseline is ``bundle.export_bundle`` in-process
      (the export's own work, without the interpreter start); the ``craton
      export`` command line, start included, is printed too. The bytes must be
      identical.

The clients are asyncio tasks on persistent HTTP/1.1 connections in one
process, so that the load generator costs little next to the server (the
machine's cores are shared by both: that is part of the measurement).

    .venv/bin/python bench/api_load.py                 # 10,000 hosts
    .venv/bin/python bench/api_load.py --hosts 2000    # quick check
    .venv/bin/python bench/api_load.py --archive-requests 0 --repeat 0   # the list only

A 503 with Retry-After (the server's archive queue is full, see docs/api.md) is
counted and asked again after the time it names; any other failure stops every
client and the run. At the end the server gets SIGTERM and the time it took to
stop is printed (it is killed after 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

import fleet_generator  # noqa: E402  pylint: disable=wrong-import-position

LIST_P99_TARGET_MS = 100.0
ARCHIVE_RATIO_TARGET = 1.2


def free_port():
    """A free TCP port of 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Connection:
    """One persistent HTTP/1.1 connection: GET and read the whole answer (length or chunked)."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.reader = self.writer = None

    async def open(self):
        """Connect."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def get(self, path):
        """(status, headers {lower-case name: value}, body bytes) of GET path."""
        self.writer.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n"
                           % (path, self.token)).encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _sep, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            return status, headers, await self.reader.readexactly(int(headers.get("content-length") or 0))
        parts = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return status, headers, b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()

    def close(self):
        """Close."""
        if self.writer is not None:
            self.writer.close()


async def _load(port, token, clients, total, make_path):
    """``total`` answered requests from ``clients`` concurrent connections; (latencies s, wall s, bytes, busy).

    A 503 with Retry-After (the server is saturated) is counted in ``busy`` and asked again after
    the time it names; its latency is not a sample. Any other status than 200 stops the run with
    the server's answer."""
    latencies, sizes = [], []
    remaining = [total]
    busy = [0]

    async def client():
        conn = Connection(port, token)
        await conn.open()
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                path = make_path()
                while True:
                    start = time.perf_counter()
                    status, headers, body = await conn.get(path)
                    if status == 503 and "retry-after" in headers:
                        busy[0] += 1
                        await asyncio.sleep(min(5.0, float(headers["retry-after"])))
                        continue
                    break
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    raise RuntimeError("GET %s: HTTP %d: %s" % (path, status, body[:300]))
                sizes.append(len(body))
        finally:
            conn.close()

    start = time.perf_counter()
    tasks = [asyncio.ensure_future(client()) for _client in range(clients)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:  # the first failure stops the other clients too
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies, time.perf_counter() - start, sizes, busy[0]


def load(port, token, clients, total, make_path):
    """Run :func:`_load` in a fresh event loop."""
    return asyncio.run(_load(port, token, clients, total, make_path))


def tree_cpu(pid):
    """CPU seconds (user + system) of process ``pid`` and its children (uvicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(values, p):
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))]


def report(label, latencies, wall):
    """Print and return (p50 ms, p99 ms, req/s)."""
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    rate = len(latencies) / wall
    print("  %-34s n=%-5d p50 %8.1f ms   p99 %8.1f ms   %8.1f req/s" % (label, len(latencies), p50, p99, rate))
    return p50, p99, rate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--list-requests", type=int, default=3200, help="list requests in (1)")
    parser.add_argument("--archive-requests", type=int, default=64, help="archive requests in (2); 0 skips (2)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side in (3); 0 skips (3)")
    parser.add_argument("--workers", type=int, default=2, help="craton serve --workers (default 2: one per core of the CI machine)")
    parser.add_argument("--threads", type=int, help="craton serve --threads (default: its own)")
    parser.add_argument("--archive-builds", type=int, help="craton serve --archive-builds (default: its own)")
    parser.add_argument("--archive-queue", type=int, help="craton serve --archive-queue (default: its own)")
    parser.add_argument("--mariadb", metavar="SERVER_URL", help="use a new database on this MariaDB server")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)

    from cryptography.fernet import Fernet

    from ansible_collections.craton.fleet.cli import db as db_cli
    from ansible_collections.craton.fleet.plugins.module_utils import bundle, db, fleet
    from ansible_collections.craton.fleet.server import tokens

    work = tempfile.mkdtemp(prefix="craton-api-bench-")
    os.environ["CRATON_SECRET_KEY"] = Fernet.generate_key().decode()
    drop = None
    if args.mariadb:
        from inventory_load import mariadb_database
        url, drop = mariadb_database(args.mariadb)
        if url is None:
            sys.exit(drop)
    else:
        url = "sqlite:///%s" % os.path.join(work, "fleet.db")
    server = None
    try:
        shape = fleet_generator.FleetShape(hosts=args.hosts, regions=1, tenant="bench")
        print("fleet: %d hosts, %d groups, 1 region, %s" % (shape.hosts, shape.groups, db.safe_url(url)))
        db_cli.upgrade(url)
        started = time.perf_counter()
        fleet_generator.write_database(shape, db.engine_for(url))

        def secrets(session):  # a few secrets, so that the archive decrypts some
            tenant = fleet.get_tenant(session, "bench")
            for i in range(0, shape.hosts, max(1, shape.hosts // 20)):
                host = fleet.get_host(session, tenant, fleet_generator.host_name(i))
                fleet.put_secret(session, host, "api_token", "opaque", "secret-%d" % i)
        db.run_in_transaction(db.connect(url), secrets)
        print("  built in %.1f s" % (time.perf_counter() - started))
        token = tokens.create_token(url, "bench", "editor", "bench")[1]

        port = free_port()
        env = dict(os.environ)
        log = open(os.path.join(work, "serve.log"), "w")
        command = [sys.executable, "-m", "ansible_collections.craton.fleet.cli", "serve", "--port", str(port),
                   "--database-url", url, "--workers", str(args.workers)]
        for option in ("threads", "archive_builds", "archive_queue"):
            if getattr(args, option) is not None:
                command += ["--" + option.replace("_", "-"), str(getattr(args, option))]
        server = subprocess.Popen(command,
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit("craton serve did not start; see %s" % log.name)
                time.sleep(0.1)
        print("craton serve: %d worker(s), port %d; %d concurrent clients" % (args.workers, port, args.clients))

        # warm up (imports, connection pools, caches of the OS)
        load(port, token, args.clients, args.clients * 4, lambda: "/v1/hosts?limit=100")
        rng = random.Random(7)

        def list_path():
            return "/v1/hosts?limit=100&marker=%d" % rng.randrange(0, max(1, shape.hosts - 100))

        print("(1) GET /v1/hosts?limit=100")
        one = load(port, token, 1, 200, list_path)
        report("1 client", one[0], one[1])
        cpu = tree_cpu(server.pid)
        lat, wall, sizes, busy = load(port, token, args.clients, args.list_requests, list_path)
        cpu = tree_cpu(server.pid) - cpu
        _p50, list_p99, _rate = report("%d clients" % args.clients, lat, wall)
        if busy:
            print("  %d answers were 503 (busy) and asked again" % busy)
        print("  server CPU %.2f ms per request; load average %.1f (other processes share the cores)"
              % (cpu * 1000 / len(lat), os.getloadavg()[0]))
        assert min(sizes) > 1000, "short list answers"

        region_path = "/v1/inventory/1.tgz"
        if args.archive_requests:
            print("(2) GET %s (%d hosts)" % (region_path, shape.hosts))
            cpu = tree_cpu(server.pid)
            lat, wall, sizes, busy = load(port, token, args.clients, args.archive_requests, lambda: region_path)
            cpu = tree_cpu(server.pid) - cpu
            report("%d clients" % args.clients, lat, wall)
            print("  archive size %d bytes; server CPU %.2f s per archive; %d answers 503 (busy, asked again)"
                  % (sizes[0], cpu / len(lat), busy))

        ratio = None
        if args.repeat:
            print("(3) one archive: API vs craton export (median of %d)" % args.repeat)
            # Interleaved, so that a change of the machine's load hits both sides alike.
            api_times, export_times, exported = [], [], None
            api_body = asyncio.run(_fetch(port, token, region_path))
            filters = {"tenant": "bench", "regions": [fleet_generator.region_name(0)]}
            for _run in range(args.repeat):
                api_times.append(load(port, token, 1, 1, lambda: region_path)[0][0])
                buf = io.BytesIO()
                start = time.perf_counter()
                bundle.export_bundle(url, filters, buf, fmt="tgz")
                export_times.append(time.perf_counter() - start)
                exported = buf.getvalue()
            print("  runs: API %s; export %s" % (" ".join("%.2f" % t for t in api_times),
                                                 " ".join("%.2f" % t for t in export_times)))
            cli_times = []
            target = os.path.join(work, "export.tgz")
            for _run in range(args.repeat):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "ansible_collections.craton.fleet.cli", "export", "--format", "tgz",
                                "--tenant", "bench", "--region", fleet_generator.region_name(0), "-o", target,
                                "--database-url", url], check=True, env=env, capture_output=True)
                cli_times.append(time.perf_counter() - start)
            with open(target, "rb") as f:
                cli_bytes = f.read()
            api, export, cli = (statistics.median(v) for v in (api_times, export_times, cli_times))
            print("  API .tgz (1 client)              %8.3f s" % api)
            print("  bundle.export_bundle (baseline)  %8.3f s" % export)
            print("  craton export (command line)     %8.3f s" % cli)
            print("  identical bytes: API == export_bundle: %s, API == craton export: %s"
                  % (api_body == exported, api_body == cli_bytes))
            ratio = api / export
        print()
        print("RESULT list p99 %.1f ms (target <= %.0f ms): %s" % (
            list_p99, LIST_P99_TARGET_MS, "met" if list_p99 <= LIST_P99_TARGET_MS else "MISSED"))
        if ratio is not None:
            print("RESULT archive API / export %.2f (target <= %.1f): %s; API / craton export command %.2f" % (
                ratio, ARCHIVE_RATIO_TARGET, "met" if ratio <= ARCHIVE_RATIO_TARGET else "MISSED", api / cli))
    finally:
        if server is not None:
            stop_server(server)
        if drop:
            drop()
        if args.keep:
            print("work directory: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def stop_server(server, patience=30):
    """SIGTERM, and say how long the server took to stop (SIGKILL after ``patience`` seconds)."""
    if server.poll() is not None:
        print("craton serve had exited already with %s" % server.returncode)
        return
    start = time.perf_counter()
    server.terminate()
    try:
        server.wait(patience)
        print("craton serve stopped %.1f s after SIGTERM" % (time.perf_counter() - start))
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        print("craton serve did NOT stop within %d s of SIGTERM: killed" % patience)


async def _fetch(port, token, path):
    conn = Connection(port, token)
    await conn.open()
    try:
        return (await conn.get(path))[2]
    finally:
        conn.close()


if __name__ == "__main__":
    main()
