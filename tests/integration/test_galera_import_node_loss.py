"""Galera: a node killed -9 in the middle of a `craton import` of 3,000 hosts.

The import runs through the multi-host URL and so writes through node 1. When its
transaction has written rows on node 1, node 1 is killed. The import's connection
is lost; ``run_in_transaction`` retries the whole import (it reads the tenant and
writes the difference) on the next node that answers. The import exits 0, every
host is there once with its variables, node 1 restarts, rejoins by IST and holds
exactly what the other nodes hold.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

from galera_fixtures import galera, galera_db  # noqa: F401  pylint: disable=unused-import

HOSTS = 3000
DUMP = {
    "hosts": "SELECT t.name, h.name, h.ip_address FROM hosts h JOIN tenants t ON t.id = h.tenant_id",
    "host_variables": "SELECT h.name, v.`key`, v.value FROM host_variables v JOIN hosts h ON h.id = v.host_id",
    "group_hosts": "SELECT g.name, h.name FROM group_hosts gh JOIN `groups` g ON g.id = gh.group_id "
                   "JOIN hosts h ON h.id = gh.host_id",
}


def write_inventory(path):
    lines = []
    for group in range(10):
        lines.append("[rack%d]" % group)
        lines.extend("h%05d ansible_host=10.%d.%d.%d rack=%d serial=S%05d"
                     % (i, group, i // 250, i % 250, group, i) for i in range(group, HOSTS, 10))
    path.write_text("\n".join(lines) + "\n")


def dump(url):
    """Every row that matters, per table, sorted (the same on every node when they agree)."""
    engine = sa.create_engine(url)
    try:
        with contextlib.closing(engine.connect()) as conn:
            return {table: sorted(tuple(str(c) for c in row) for row in conn.execute(sa.text(query)))
                    for table, query in DUMP.items()}
    finally:
        engine.dispose()


def kill_when_writing(cluster, node_url, database, node, seen):
    """Kill ``node`` as soon as a transaction on it has modified rows of ``database``."""
    engine = sa.create_engine(node_url, isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + 240
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET SESSION wsrep_sync_wait = 0"))
            while time.monotonic() < deadline and not seen:
                rows = conn.execute(sa.text(
                    "SELECT MAX(t.trx_rows_modified) FROM information_schema.innodb_trx t "
                    "JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id "
                    "WHERE p.db = :db"), {"db": database}).scalar()
                if rows and rows > 100:
                    cluster.kill(node)
                    seen.append(rows)
                    return
                # InnoDB refreshes innodb_trx only when it was not read for 100 ms.
                time.sleep(0.15)
    except sa.exc.DBAPIError:
        pass
    finally:
        engine.dispose()


def test_import_survives_a_killed_node_and_the_node_catches_up(galera, galera_db, tmp_path, craton_env):
    source = tmp_path / "fleet.ini"
    write_inventory(source)
    seen = []
    killer = threading.Thread(target=kill_when_writing,
                              args=(galera, galera_db.nodes[0], galera_db.name, 1, seen), daemon=True)
    killer.start()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ansible_collections.craton.fleet.cli", "import", str(source),
             "--tenant", "acme", "--database-url", galera_db.url],
            capture_output=True, text=True, env=craton_env, timeout=600, check=False)
        killer.join(timeout=30)
        assert seen, "node 1 was not killed during the import:\n%s\n%s" % (proc.stdout, proc.stderr)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        after = [dump(url) for url in galera_db.nodes[1:]]
        assert after[0] == after[1]
        assert len(after[0]["hosts"]) == HOSTS
        assert len(set(after[0]["hosts"])) == HOSTS
        assert len(after[0]["host_variables"]) == 2 * HOSTS
        assert len(after[0]["group_hosts"]) == HOSTS
        assert ("h01234", "serial", '"S01234"') in after[0]["host_variables"] \
            or ("h01234", "serial", "S01234") in after[0]["host_variables"]
    finally:
        if "down" in galera.status():
            galera.restart(1)
    # The node rejoined by IST and holds the same rows.
    assert "node1 127.0.0.1:3311 Synced cluster_size=3" in galera.status()
    assert dump(galera_db.nodes[0]) == after[0]
