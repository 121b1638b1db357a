"""Fixtures of the REST API tests: one real ``craton serve`` process per test module.

``api_server`` is module-scoped and parametrised like ``db_url``: a SQLite file,
and a fresh MariaDB database when ``CRATON_TEST_MYSQL_URL`` is set. The server
runs as a subprocess (``python -m ansible_collections.craton.fleet.cli serve``)
on a free port of 127.0.0.1; tests talk to it over real HTTP.

Import the fixtures in a test module with::

    from api_fixtures import api_server  # noqa: F401  pylint: disable=unused-import
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

MYSQL_URL = os.environ.get("CRATON_TEST_MYSQL_URL")


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiServer:
    """A running ``craton serve`` and the means to talk to it."""

    def __init__(self, database_url, env, workdir):
        self.database_url = database_url
        self.env = env
        self.workdir = workdir
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.log = os.path.join(workdir, "serve.log")

    def craton(self, *args, check=True):
        """Run ``craton ARGS`` against the server's database; the CompletedProcess."""
        proc = subprocess.run([sys.executable, "-m", "ansible_collections.craton.fleet.cli", *map(str, args),
                               "--database-url", self.database_url],
                              capture_output=True, text=True, env=self.env, timeout=120, check=False)
        if check and proc.returncode:
            raise AssertionError("craton %s failed:\n%s\n%s" % (" ".join(map(str, args)), proc.stdout, proc.stderr))
        return proc

    def token(self, tenant, role, name=None):
        """A new API token (``tenant`` None: a global token)."""
        args = ["token", "create", "--role", role] + (["--tenant", tenant] if tenant else ["--global"])
        if name:
            args += ["--name", name]
        return self.craton(*args).stdout.strip().splitlines()[-1]

    def start(self, *extra):
        """Start the server and wait until it answers."""
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ansible_collections.craton.fleet.cli", "serve", "--port", str(self.port),
                 "--database-url", self.database_url, "--token-cache-seconds", "1", *extra], stdout=log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("craton serve exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                requests.get(self.url + "/v1/openapi.json", timeout=10)
                return self
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a busy machine
                time.sleep(0.1)
        self.stop()
        raise AssertionError("craton serve did not answer within 60 s:\n%s" % self.read_log())

    def read_log(self):
        """What the server printed."""
        with open(self.log) as f:
            return f.read()

    def stop(self):
        """Stop the server (SIGTERM, then SIGKILL)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def session(self, token, header="bearer"):
        """A requests Session that sends ``token``."""
        session = requests.Session()
        if header == "bearer":
            session.headers["Authorization"] = "Bearer %s" % token
        else:
            session.headers["X-Auth-Token"] = token
        return session


def _mysql_database():
    import sqlalchemy as sa
    server = sa.engine.make_url(MYSQL_URL)
    name = "craton_api_%s" % uuid.uuid4().hex[:12]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE %s CHARACTER SET utf8mb4" % name))
    return server.set(database=name).render_as_string(hide_password=False), admin, name


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def api_server(request, tmp_path_factory):
    """A migrated database with a secret key, and ``craton serve`` on it (module-scoped)."""
    from cryptography.fernet import Fernet
    from ansible_collections.craton.fleet.cli import db as db_cli

    workdir = tmp_path_factory.mktemp("api")
    admin = name = None
    if request.param == "sqlite":
        url = "sqlite:///%s" % (workdir / "fleet.db")
    else:
        if not MYSQL_URL:
            pytest.skip("MariaDB: set CRATON_TEST_MYSQL_URL=mysql+pymysql://root@127.0.0.1:3306/test to run it")
        url, admin, name = _mysql_database()
    key = Fernet.generate_key().decode()
    env = dict(os.environ)
    env.pop("CRATON_DATABASE_URL", None)
    env.update({"CRATON_SECRET_KEY": key, "XDG_DATA_HOME": str(workdir / "xdg-data"),
                "XDG_CONFIG_HOME": str(workdir / "xdg-config"), "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
                "ANSIBLE_NOCOLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    saved_key = os.environ.get("CRATON_SECRET_KEY")
    os.environ["CRATON_SECRET_KEY"] = key  # the tests build fleets in-process with the same key
    db_cli.upgrade(url)
    server = ApiServer(url, env, str(workdir)).start()
    try:
        yield server
    finally:
        server.stop()
        if saved_key is None:
            os.environ.pop("CRATON_SECRET_KEY", None)
        else:
            os.environ["CRATON_SECRET_KEY"] = saved_key
        from ansible_collections.craton.fleet.plugins.module_utils import db as craton_db
        for engine_key, engine in list(craton_db._ENGINES.items()):  # pylint: disable=protected-access
            if name and name in engine_key or engine_key.endswith(str(workdir / "fleet.db")):
                engine.dispose()
                del craton_db._ENGINES[engine_key]  # pylint: disable=protected-access
        if admin is not None:
            with admin.connect() as conn:
                import sqlalchemy as sa
                conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
            admin.dispose()
