"""Fixtures of the Galera suite: a real three-node MariaDB Galera cluster on 127.0.0.1.

``galera`` (session-scoped): the cluster of ``tests/cluster/galera.sh`` (nodes on
127.0.0.1:3311-3313), started for the session in a temporary directory and stopped at
the end; or, when ``CRATON_TEST_GALERA_URLS`` is set (the three node URLs, comma
or space separated, e.g. from ``galera.sh urls``), that running cluster, left
running (killing and restarting a node then needs ``CRATON_GALERA_DIR`` to be the
directory it was started in, default build/galera). Without mariadbd, the Galera
library or rsync, or when the cluster does not start, the suite is skipped and
reported as "SKIPPED Galera suite: ..." with what failed.

``galera_db``: a fresh database on the cluster, migrated to the current schema,
dropped afterwards: ``.nodes`` (one URL per node), ``.url`` (the multi-host URL
of all three).

Import the fixtures in a test module with::

    from galera_fixtures import galera, galera_db  # noqa: F401  pylint: disable=unused-import
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from suites import mark_run, skip_suite

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "cluster", "galera.sh")
SUITE = "Galera"
NEEDED = {"/usr/sbin/mariadbd": "mariadb-server", "/usr/lib/galera/libgalera_smm.so": "galera-4"}


def multi_host_url(node_urls, database):
    """``mysql+pymysql://user@h1:p1,h2:p2,h3:p3/database`` of single-node URLs."""
    import sqlalchemy as sa
    first = sa.engine.make_url(node_urls[0]).set(database=database)
    hosts = ",".join("%s:%d" % (sa.engine.make_url(u).host, sa.engine.make_url(u).port or 3306) for u in node_urls)
    marker = "craton-hosts"
    return first._replace(host=marker, port=None).render_as_string(hide_password=False).replace(marker, hosts, 1)


class Cluster:
    """The running cluster: node URLs (database ``test``), and kill/restart of a node."""

    def __init__(self, node_urls, basedir):
        self.node_urls = list(node_urls)
        self.basedir = basedir

    def script(self, *args, timeout=120):
        proc = subprocess.run(["bash", SCRIPT, *map(str, args), self.basedir], capture_output=True, text=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            raise AssertionError("galera.sh %s failed (%d):\n%s\n%s"
                                 % (" ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout

    def kill(self, node):
        """kill -9 node 1, 2 or 3."""
        self.script("kill", node)

    def restart(self, node):
        """Start a killed node; returns when it has rejoined (IST) and is Synced."""
        return self.script("restart", node)

    def status(self):
        return subprocess.run(["bash", SCRIPT, "status", self.basedir], capture_output=True, text=True,
                              timeout=60, check=False).stdout

    def admin(self, node=0):
        """An AUTOCOMMIT engine on one node (database ``test``)."""
        import sqlalchemy as sa
        return sa.create_engine(self.node_urls[node], isolation_level="AUTOCOMMIT", pool_pre_ping=True)


# One cluster per test session, whichever test module asks first (a fixture imported into several
# modules is a separate fixture in each, so the cluster itself is kept here).
_SESSION = {}


@pytest.fixture(scope="session")
def galera(request):
    """The Galera cluster of the session (see the module docstring)."""
    if "skipped" in _SESSION:
        skip_suite(SUITE, _SESSION["skipped"])
    if "cluster" not in _SESSION:
        try:
            _SESSION["cluster"] = _start(request.config)
        except pytest.skip.Exception as e:
            _SESSION["skipped"] = str(e.msg).split(": ", 1)[-1]
            raise
    mark_run(SUITE)
    return _SESSION["cluster"]


def _start(config):
    given = os.environ.get("CRATON_TEST_GALERA_URLS")
    if given:
        urls = [u for u in re.split(r"[,\s]+", given) if u]
        if len(urls) != 3:
            skip_suite(SUITE, "CRATON_TEST_GALERA_URLS must name the three node URLs, got %d" % len(urls))
        return Cluster(urls, os.environ.get("CRATON_GALERA_DIR") or os.path.join(ROOT, "build", "galera"))
    for path, package in NEEDED.items():
        if not os.path.exists(path):
            skip_suite(SUITE, "%s is missing (Debian package %s)" % (path, package))
    for tool, package in (("rsync", "rsync"), ("mariadb", "mariadb-client"), ("mariadb-install-db", "mariadb-server")):
        if not shutil.which(tool):
            skip_suite(SUITE, "%s is not on PATH (Debian package %s)" % (tool, package))
    # Under /tmp: the servers run as user mysql, which must reach the directory (a clone under
    # /root would not do).
    basedir = tempfile.mkdtemp(prefix="craton-galera-")

    def stop():
        subprocess.run(["bash", SCRIPT, "stop", basedir], capture_output=True, timeout=120, check=False)

    proc = subprocess.run(["bash", SCRIPT, "start", basedir], capture_output=True, text=True, timeout=180,
                          check=False)
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.startswith("galera.sh:")]
        stop()
        what = lines[-1] if lines else "galera.sh start exited %d" % proc.returncode
        skip_suite(SUITE, "the cluster did not start: %s" % what)
    config.add_cleanup(stop)
    return Cluster(proc.stdout.split(), basedir)


class GaleraDatabase:
    """A database on the cluster: ``nodes`` (one URL per node) and ``url`` (all three)."""

    def __init__(self, cluster, name):
        import sqlalchemy as sa
        self.cluster = cluster
        self.name = name
        self.nodes = [sa.engine.make_url(u).set(database=name).render_as_string(hide_password=False)
                      for u in cluster.node_urls]
        self.url = multi_host_url(cluster.node_urls, name)


@pytest.fixture
def galera_db(galera):
    """A fresh database on the cluster at the current schema, dropped afterwards."""
    import sqlalchemy as sa

    from ansible_collections.craton.fleet.cli import db as db_cli
    from ansible_collections.craton.fleet.plugins.module_utils import db as craton_db

    name = "craton_g_%s" % uuid.uuid4().hex[:12]
    admin = galera.admin()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE %s CHARACTER SET utf8mb4" % name))
    finally:
        admin.dispose()
    database = GaleraDatabase(galera, name)
    try:
        db_cli.upgrade(database.url)
        yield database
    finally:
        for key, engine in list(craton_db._ENGINES.items()):  # pylint: disable=protected-access
            if name in key:
                engine.dispose()
                del craton_db._ENGINES[key]  # pylint: disable=protected-access
        admin = galera.admin()  # a new connection: a test may have killed and restarted a node
        try:
            with admin.connect() as conn:
                conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
        finally:
            admin.dispose()
