"""craton run with its TaskFlow state in the fleet database itself (SQLite and MariaDB).

TaskFlow's own Alembic migrations would use ``alembic_version``, the fleet schema's
version table; the driver runs them with ``craton_taskflow_version`` instead. After a
run, the fleet schema's revision is untouched: ``craton db current`` / ``upgrade`` and
the revision check of every entry point still work.
"""

from __future__ import annotations

import subprocess
import sys
import time

import sqlalchemy as sa

from ansible_collections.craton.fleet.cli import db as db_cli
from ansible_collections.craton.fleet.plugins.module_utils.models import SCHEMA_REVISION

import callback_runs as cr
import driver_helpers as dh
import inventory_helpers as ih


def test_state_in_the_fleet_database_leaves_the_fleet_revision_alone(db_url, tmp_path, redis_url, run_craton):
    db_cli.upgrade(db_url)
    ih.build(db_url, {"acme": {"hosts": {"h1": dh.local_host()}}})
    env = dh.env(tmp_path, redis_url)
    (tmp_path / "markers").mkdir()
    args = ["--database-url", db_url, "run", dh.write_playbook(tmp_path), "--tenant", "acme", "--state-url", db_url,
            "-e", "marker_dir=%s" % (tmp_path / "markers")]
    first = dh.craton(env, *args, "--run-id", cr.new_run_id())
    assert first.returncode == 0, first.stdout + first.stderr

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert {"logbooks", "flowdetails", "atomdetails"} <= tables
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [SCHEMA_REVISION]
        if engine.dialect.name != "sqlite":  # on SQLite TaskFlow creates its tables without Alembic
            assert len(conn.execute(sa.text("SELECT version_num FROM craton_taskflow_version")).all()) == 1
        assert conn.execute(sa.text("SELECT state FROM flowdetails")).scalars().all() == ["SUCCESS"]
    engine.dispose()

    assert run_craton("db", "current", "--database-url", db_url).stdout.strip() == "%s (up to date)" % SCHEMA_REVISION
    assert "is at revision %s" % SCHEMA_REVISION in run_craton("db", "upgrade", "--database-url", db_url).stdout
    # a second run on the same database: its state tables are migrated already, the fleet check passes
    second = dh.craton(env, *args, "--run-id", cr.new_run_id())
    assert second.returncode == 0, second.stdout + second.stderr
    assert dh.markers(tmp_path / "markers", "done") == {"h1": 2}


_OPEN_AT_ONCE = """
import sys, time
from ansible_collections.craton.fleet.driver.state import open_store
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
open_store(sys.argv[1], None).close()
"""


def test_processes_opening_one_new_sqlite_state_file_at_once_all_succeed(tmp_path):
    """Conductors started together create TaskFlow's tables in the same new file: they take turns."""
    for attempt in range(3):
        url = "sqlite:///%s" % (tmp_path / ("runs-%d.db" % attempt))
        start_at = str(time.time() + 3)  # after every process has imported TaskFlow
        procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, url, start_at],
                                  stderr=subprocess.PIPE, text=True) for _i in range(4)]
        errors = [proc.communicate(timeout=120)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0, 0], errors
        with sa.create_engine(url).connect() as conn:
            assert {"logbooks", "flowdetails", "atomdetails"} <= set(sa.inspect(conn).get_table_names())
