# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connecting to the fleet database.

``database_url`` comes from the caller, else ``CRATON_DATABASE_URL``, else the
SQLite file ``$XDG_DATA_HOME/craton/fleet.db`` (``~/.local/share/craton/fleet.db``).
MySQL/MariaDB URLs use PyMySQL (``mysql+pymysql://user:pass@host/db``).

Every entry point opens the database with :func:`connect`, which checks that the
schema is at :data:`models.SCHEMA_REVISION` and otherwise says to run
``craton db upgrade``. Writes go through :func:`transaction`, one transaction per
unit of work, retried when the server reports a deadlock (InnoDB, Galera
certification failures) and translated into :class:`CratonError` otherwise.
"""

from __future__ import annotations

import os
import random
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
_ENGINES = {}


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


def parse_url(url):
    """Parse a database URL into a SQLAlchemy URL, or raise CratonError."""
    require_sqlalchemy()
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError:
        raise CratonError("invalid database URL %r: expected e.g. sqlite:////path/fleet.db "
                          "or mysql+pymysql://user:password@host/database" % url) from None
    if parsed.get_backend_name() not in ("sqlite", "mysql", "mariadb"):
        raise CratonError("unsupported database %r in database URL %s: use sqlite or mysql+pymysql"
                          % (parsed.get_backend_name(), safe_url(parsed)))
    return parsed


def safe_url(url):
    """A URL fit for messages and logs: the password is masked."""
    if HAS_SQLALCHEMY and isinstance(url, sa.engine.URL):
        return url.render_as_string(hide_password=True)
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # pylint: disable=broad-except
        return "<unparsable database URL>"


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def engine_for(url=None, pool_size=None):
    """An Engine for the URL (cached per URL in this process). Does not connect.

    ``pool_size``: connections kept open for MySQL/MariaDB (default SQLAlchemy's 5);
    only used when this call creates the engine. A server with many worker threads
    needs as many, or connections are opened and closed for every request."""
    parsed = parse_url(resolve_url(url))
    key = parsed.render_as_string(hide_password=False)
    engine = _ENGINES.get(key)
    if engine is not None:
        return engine
    kwargs = {"future": True}
    if parsed.get_backend_name() == "sqlite":
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


def _retryable(error):
    orig = getattr(error, "orig", None)
    args = getattr(orig, "args", ())
    if args and args[0] in RETRYABLE_MYSQL_ERRORS:
        return True
    return "database is locked" in str(orig)


def run_in_transaction(engine, work, attempts=8):
    """Run ``work(session)`` in one transaction and return its result.

    The transaction is retried from scratch (with jittered back-off) when the
    server reports a deadlock or a Galera certification failure; integrity and
    connection errors become CratonError. Nothing is written unless ``work``
    returns normally."""
    for attempt in range(1, attempts + 1):
        try:
            with Session(engine, expire_on_commit=False) as session:
                with session.begin():
                    return work(session)
        except sa_exc.DBAPIError as e:
            if attempt < attempts and _retryable(e):
                time.sleep(min(2.0, 0.02 * 2 ** attempt) * random.uniform(0.5, 1.5))
                continue
            if isinstance(e, sa_exc.IntegrityError):
                raise Conflict("the change conflicts with the fleet database: %s" % _orig_message(e)) from None
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
