# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connecting to the fleet database.

``database_url`` comes from the caller, else ``CRATON_DATABASE_URL``, else the
SQLite file ``$XDG_DATA_HOME/craton/fleet.db`` (``~/.local/share/craton/fleet.db``).
MySQL/MariaDB URLs use PyMySQL (``mysql+pymysql://user:pass@host/db``).

A MySQL URL may name several servers of one cluster (MariaDB Galera):
``mysql+pymysql://user:pass@db1:3306,db2:3306,db3:3306/fleet``. Every new
connection goes to the first of them that accepts it and reports itself ready
(``wsrep_ready``), so when a node goes away the next connection uses the next
one (docs/deployment.md). Internally the list travels in the URL's query as
``craton_hosts`` (first host as the URL's host), which any engine made in this
process understands, TaskFlow's included.

Every entry point opens the database with :func:`connect`, which checks that the
schema is at :data:`models.SCHEMA_REVISION` and otherwise says to run
``craton db upgrade``. Writes go through :func:`transaction`, one transaction per
unit of work, retried when the server reports a deadlock (InnoDB, Galera
certification failures) and translated into :class:`CratonError` otherwise.
"""

from __future__ import annotations

import os
import random
import re
import time
from contextlib import contextmanager

from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, CratonError, SchemaOutdated, Unavailable
from ansible_collections.craton.fleet.plugins.module_utils.models import (
    HAS_SQLALCHEMY, SCHEMA_REVISION, SQLALCHEMY_IMPORT_ERROR)

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.orm import Session

ENV_URL = "CRATON_DATABASE_URL"
# MySQL error codes worth retrying: deadlock (also Galera certification failure),
# lock wait timeout, and "WSREP has not yet prepared node for application use".
RETRYABLE_MYSQL_ERRORS = (1213, 1205, 1047)
# The server went away (killed, restarted, network): retried too, on a new connection,
# which on a cluster URL goes to the next node that answers. A lost COMMIT may have been
# applied: every writer's work reads the current state and writes the difference, so a
# repeat finds its own changes there and writes nothing twice.
CONNECTION_LOST_MYSQL_ERRORS = (2003, 2006, 2013)
HOSTS_PARAM = "craton_hosts"
CLUSTER_CONNECT_TIMEOUT = 5
_ENGINES = {}
_HOST_LIST = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?)(?P<hosts>[^/?#@]*,[^/?#@]*)"
                        r"(?P<tail>[/?#].*)?$", re.S)


def default_database_url():
    """The SQLite file used when no URL is configured."""
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return "sqlite:///" + os.path.join(data_home, "craton", "fleet.db")


def resolve_url(url=None):
    """The URL to use: the argument, else $CRATON_DATABASE_URL, else the default file."""
    return url or os.environ.get(ENV_URL) or default_database_url()


def require_sqlalchemy():
    """Raise a clear error when SQLAlchemy is not installed."""
    if not HAS_SQLALCHEMY:
        raise CratonError("craton.fleet needs the Python packages sqlalchemy and pymysql "
                          "(pip install -r requirements.txt): %s" % SQLALCHEMY_IMPORT_ERROR)


def _split_host(text):
    """("host", port or None) of ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; ValueError when bad."""
    match = re.match(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>[0-9]+))?$", text.strip())
    if not match:
        raise ValueError(text)
    port = int(match.group("port")) if match.group("port") else None
    if port is not None and not 0 < port < 65536:
        raise ValueError(text)
    return match.group("v6") or match.group("host"), port


def _join_host(host, port):
    host = "[%s]" % host if ":" in host else host
    return host if port is None else "%s:%d" % (host, port)


def cluster_hosts(parsed):
    """[(host, port)] of a cluster URL (several hosts), else None."""
    hosts = parsed.query.get(HOSTS_PARAM)
    if not hosts:
        return None
    return [_split_host(h) for h in hosts.split(",")]


def _with_host_list(url):
    """``url`` with a list of hosts rewritten as its first host plus the ``craton_hosts`` query."""
    match = _HOST_LIST.match(url) if isinstance(url, str) else None
    if not match:
        return url
    hosts = []
    for text in match.group("hosts").split(","):
        try:
            hosts.append(_split_host(text))
        except ValueError:
            raise CratonError("invalid database URL: %r in the list of hosts is not host or host:port"
                              % text) from None
    tail = match.group("tail") or "/"
    first = match.group("head") + _join_host(*hosts[0]) + tail
    parsed = sa.engine.make_url(first)
    if parsed.get_backend_name() not in ("mysql", "mariadb"):
        raise CratonError("several hosts in a database URL are for MySQL/MariaDB clusters, not %s"
                          % parsed.get_backend_name())
    return parsed.update_query_dict({HOSTS_PARAM: ",".join(_join_host(h, p) for h, p in hosts)})


def parse_url(url):
    """Parse a database URL into a SQLAlchemy URL, or raise CratonError."""
    require_sqlalchemy()
    try:
        parsed = sa.engine.make_url(_with_host_list(url))
    except (sa_exc.ArgumentError, ValueError):
        raise CratonError("invalid database URL %r: expected e.g. sqlite:////path/fleet.db, "
                          "mysql+pymysql://user:password@host/database or "
                          "mysql+pymysql://user:password@host1,host2:3307,host3/database" % _masked(url)) from None
    if parsed.get_backend_name() not in ("sqlite", "mysql", "mariadb"):
        raise CratonError("unsupported database %r in database URL %s: use sqlite or mysql+pymysql"
                          % (parsed.get_backend_name(), safe_url(parsed)))
    try:
        cluster_hosts(parsed)
    except ValueError as e:
        raise CratonError("invalid database URL %s: %r in %s is not host or host:port"
                          % (safe_url(parsed), str(e), HOSTS_PARAM)) from None
    return parsed


def _masked(url):
    """An unparsable URL string with whatever looks like a password masked."""
    return re.sub(r"^([^:/]+://[^:@/]*):[^@/]*@", r"\1:***@", str(url))


def safe_url(url):
    """A URL fit for messages and logs: the password is masked; a cluster URL shows all its hosts."""
    try:
        parsed = url if isinstance(url, sa.engine.URL) else sa.engine.make_url(_with_host_list(url))
        hosts = parsed.query.get(HOSTS_PARAM)
        if not hosts:
            return parsed.render_as_string(hide_password=True)
        marker = "craton-host-list"
        plain = parsed.difference_update_query([HOSTS_PARAM])._replace(host=marker, port=None)
        return plain.render_as_string(hide_password=True).replace(marker, hosts, 1)
    except Exception:  # pylint: disable=broad-except
        return "<unparsable database URL>"


def _connect_to_cluster(dialect, _conn_rec, cargs, cparams):
    """``do_connect`` for every engine: a URL with ``craton_hosts`` connects to the first ready node."""
    hosts = cparams.pop(HOSTS_PARAM, None)
    if not hosts:
        return None
    cparams.setdefault("connect_timeout", CLUSTER_CONNECT_TIMEOUT)
    failures = []
    for host, port in (_split_host(h) for h in hosts.split(",")):
        params = dict(cparams, host=host, port=port or 3306)
        try:
            connection = dialect.connect(*cargs, **params)
        except dialect.loaded_dbapi.Error as e:
            failures.append("%s: %s" % (_join_host(host, port), _first_line(e)))
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW STATUS LIKE 'wsrep_ready'")
                row = cursor.fetchone()
        except dialect.loaded_dbapi.Error as e:
            row = ("wsrep_ready", "unknown (%s)" % _first_line(e))
        if row is None or str(row[1]).upper() == "ON":  # not Galera, or a node that takes queries
            return connection
        connection.close()
        failures.append("%s: not ready (wsrep_ready %s)" % (_join_host(host, port), row[1]))
    raise dialect.loaded_dbapi.OperationalError(
        2003, "no host of the cluster accepted the connection: %s" % "; ".join(failures))


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


if HAS_SQLALCHEMY:
    sa.event.listen(sa.engine.Engine, "do_connect", _connect_to_cluster)


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def engine_for(url=None, pool_size=None):
    """An Engine for the URL (cached per URL in this process). Does not connect.

    ``pool_size``: connections kept open (default SQLAlchemy's 5); only used when this
    call creates the engine. A server with many worker threads needs as many, or
    connections are opened and closed for most requests under load."""
    parsed = parse_url(resolve_url(url))
    key = parsed.render_as_string(hide_password=False)
    engine = _ENGINES.get(key)
    if engine is not None:
        return engine
    kwargs = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        if pool_size and parsed.database and parsed.database != ":memory:":
            kwargs.update(pool_size=pool_size, max_overflow=10)
        if parsed.database and parsed.database != ":memory:":
            directory = os.path.dirname(os.path.abspath(parsed.database))
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise CratonError("cannot create the directory of SQLite database %s: %s"
                                  % (parsed.database, e)) from None
    else:
        if parsed.drivername in ("mysql", "mariadb"):
            parsed = parsed.set(drivername="mysql+pymysql")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        kwargs.update(pool_pre_ping=True, pool_recycle=3600)
        if pool_size:
            kwargs.update(pool_size=pool_size, max_overflow=10)
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as e:
        raise CratonError("cannot use database URL %s: %s" % (safe_url(parsed), e)) from None
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    _ENGINES[key] = engine
    return engine


def current_revision(engine):
    """The Alembic revision of the database, or None when it has no craton schema."""
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa_exc.DBAPIError as e:
        raise unreachable(engine, e) from None


def unreachable(engine, error):
    """The CratonError for a database that cannot be used at all."""
    return Unavailable("cannot use database %s: %s" % (safe_url(engine.url), _orig_message(error)))


def _orig_message(error):
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def connect(url=None):
    """An Engine for a database whose schema is at the revision this code needs."""
    engine = engine_for(url)
    if getattr(engine, "_craton_checked", False):
        return engine
    revision = current_revision(engine)
    if revision != SCHEMA_REVISION:
        where = "has no craton schema" if revision is None else "is at schema revision %s" % revision
        raise SchemaOutdated("database %s %s, this craton.fleet needs revision %s: run `craton db upgrade`"
                             % (safe_url(engine.url), where, SCHEMA_REVISION))
    engine._craton_checked = True  # pylint: disable=protected-access
    return engine


def _mysql_code(error):
    args = getattr(getattr(error, "orig", None), "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _retryable(error):
    """"conflict" (deadlock, certification failure, lock), "lost" (server went away) or None."""
    code = _mysql_code(error)
    if code in RETRYABLE_MYSQL_ERRORS or "database is locked" in str(getattr(error, "orig", "")):
        return "conflict"
    if code in CONNECTION_LOST_MYSQL_ERRORS or getattr(error, "connection_invalidated", False):
        return "lost"
    return None


def backoff(attempt):
    """Seconds to wait before attempt ``attempt + 1``: doubling from 40 ms, at most 2 s, jittered ±50 %."""
    return min(2.0, 0.02 * 2 ** attempt) * random.uniform(0.5, 1.5)


def run_in_transaction(engine, work, attempts=8):
    """Run ``work(session)`` in one transaction and return its result.

    The transaction is retried from scratch, at most ``attempts`` times in all
    with jittered exponential back-off (about 4.5 s of waiting at most), when the
    server reports a deadlock, a lock wait timeout or a Galera certification
    failure, or when the connection is lost (on a cluster URL the next attempt
    connects to another node). ``work`` must therefore read what it needs and
    may run more than once. When the attempts are exhausted the CratonError says
    so and gives the server's last error; integrity errors are Conflict. Nothing
    is written unless ``work`` returns normally and the commit succeeds."""
    for attempt in range(1, attempts + 1):
        try:
            with Session(engine, expire_on_commit=False) as session:
                with session.begin():
                    return work(session)
        except sa_exc.DBAPIError as e:
            kind = _retryable(e)
            if kind and attempt < attempts:
                time.sleep(backoff(attempt))
                continue
            if isinstance(e, sa_exc.IntegrityError):
                raise Conflict("the change conflicts with the fleet database: %s" % _orig_message(e)) from None
            if kind == "conflict":
                raise Unavailable("database %s: the transaction conflicted with concurrent writes %d times "
                                  "(deadlock or Galera certification failure), giving up: %s"
                                  % (safe_url(engine.url), attempts, _orig_message(e))) from None
            if kind == "lost":
                raise Unavailable("cannot use database %s: the connection failed %d times, giving up: %s"
                                  % (safe_url(engine.url), attempts, _orig_message(e))) from None
            raise unreachable(engine, e) from None
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def transaction(url=None):
    """``with transaction(url) as session:`` one transaction on a checked database.

    Unlike :func:`run_in_transaction` this does not retry; use it for reads and
    for work that is not worth repeating."""
    engine = connect(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            with session.begin():
                yield session
    except sa_exc.IntegrityError as e:
        raise Conflict("the change conflicts with the fleet database: %s" % _orig_message(e)) from None
    except sa_exc.DBAPIError as e:
        raise unreachable(engine, e) from None
