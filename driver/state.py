# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where runs are persisted: TaskFlow's SQLAlchemy persistence backend.

Each run is one TaskFlow *logbook* whose uuid is derived from the run id (so
``--resume RUN_ID`` finds it without a scan) holding one *flow detail*: the
flow's factory and its arguments (the run spec), the state of every task
(one per host or batch) and of its retry controller, and each task's result.

The state URL (``--state-url``, else ``$CRATON_STATE_URL``):

* for a SQLite fleet database, by default a SQLite file next to it
  (``fleet.db`` -> ``fleet.runs.db``), so that the driver's frequent state
  writes never wait for the fleet database's lock (or hold it);
* for MySQL/MariaDB, by default the fleet database itself.

TaskFlow's tables are ``logbooks``, ``flowdetails`` and ``atomdetails``. Its
own Alembic migrations would record their revision in ``alembic_version`` —
the fleet schema's version table — so they are run here through
``state_migrations/env.py`` with the version table ``craton_taskflow_version``
instead (SQLite gets the tables created directly, as TaskFlow itself does).
"""

from __future__ import annotations

import contextlib
import os
import uuid

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError, NotFound

ENV_URL = "CRATON_STATE_URL"
RUN_NAMESPACE = uuid.UUID("6f1c7f0e-5b8a-4d0c-9a57-0c8f2e1b7d31")
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "state_migrations")
VERSION_TABLE = "craton_taskflow_version"


def default_state_url(fleet_url):
    """The state URL used when none is given, for the fleet database at ``fleet_url``."""
    parsed = db.parse_url(db.resolve_url(fleet_url))
    if parsed.get_backend_name() != "sqlite":
        return parsed.render_as_string(hide_password=False)
    if not parsed.database or parsed.database == ":memory:":
        raise CratonError("an in-memory fleet database has no place for run state: give --state-url")
    stem, _ext = os.path.splitext(os.path.abspath(parsed.database))
    return "sqlite:///%s.runs.db" % stem


def resolve_state_url(state_url, fleet_url):
    """The argument, else $CRATON_STATE_URL, else :func:`default_state_url`."""
    return state_url or os.environ.get(ENV_URL) or default_state_url(fleet_url)


def open_store(state_url, fleet_url, create=True):
    """The StateStore for the options, opened (see :meth:`StateStore.open`)."""
    url = resolve_state_url(state_url, fleet_url)
    fleet = db.parse_url(db.resolve_url(fleet_url))
    own = db.parse_url(url).get_backend_name() == "sqlite" and db.parse_url(url) != fleet
    return StateStore(url, own_file=own).open(create=create)


def book_uuid(run_id):
    """The uuid of the logbook of ``run_id``."""
    return str(uuid.uuid5(RUN_NAMESPACE, run_id))


def _migrate(engine):
    """Bring TaskFlow's tables to its latest revision, in ``craton_taskflow_version``."""
    from alembic import command  # pylint: disable=import-outside-toplevel
    from alembic.config import Config  # pylint: disable=import-outside-toplevel
    from taskflow.persistence.backends.sqlalchemy import migration  # pylint: disable=import-outside-toplevel

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.set_main_option("version_locations", os.path.join(os.path.dirname(migration.__file__),
                                                             "alembic", "versions"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class StateStore:
    """The persistence backend of runs at one URL; :meth:`open` checks it and creates its tables."""

    def __init__(self, url, own_file=False):
        db.require_sqlalchemy()
        self.own_file = own_file
        self.url = url
        self.parsed = db.parse_url(url)
        self.safe = db.safe_url(self.parsed)
        self.backend = None

    def open(self, create=True):
        """Connect, create or migrate TaskFlow's tables; raises CratonError when it cannot.

        ``create=False`` (resuming): a SQLite file that does not exist is not created,
        the run is simply unknown (NotFound)."""
        import logging  # pylint: disable=import-outside-toplevel
        import sqlalchemy as sa  # pylint: disable=import-outside-toplevel
        from taskflow.persistence.backends import impl_sqlalchemy  # pylint: disable=import-outside-toplevel

        # Its connection check logs a warning before raising: the error below says it once.
        logging.getLogger("taskflow.persistence.backends.impl_sqlalchemy").setLevel(logging.ERROR)
        sqlite = self.parsed.get_backend_name() == "sqlite"
        if sqlite and not create and not os.path.exists(self.parsed.database or ""):
            raise NotFound("unknown run id: the run state database %s does not exist" % self.safe)
        conf = {"connection": self.url}
        url = self.parsed
        if sqlite:
            directory = os.path.dirname(os.path.abspath(self.parsed.database or "."))
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise CratonError("cannot create the directory of the run state database %s: %s"
                                  % (self.safe, e)) from None
            # Several engine threads write at once: wait for SQLite's lock instead of failing.
            # Pooled connections: TaskFlow gives SQLite a NullPool, which opens and closes a
            # connection per state write, and closing the last connection to a WAL file
            # checkpoints it with an fsync (~20 ms per write here, ~1 ms pooled).
            conf["engine_args"] = {"connect_args": {"timeout": 60}, "poolclass": sa.pool.QueuePool}
        else:
            if url.drivername in ("mysql", "mariadb"):
                url = url.set(drivername="mysql+pymysql")
            if "charset" not in url.query:
                url = url.update_query_dict({"charset": "utf8mb4"})
            conf["connection"] = url.render_as_string(hide_password=False)
        try:
            backend = impl_sqlalchemy.SQLAlchemyBackend(conf)
            if sqlite and self.own_file:
                # The run state file is the driver's own: write-ahead log, fsync at checkpoints
                # only (a killed driver loses nothing committed; a power cut may lose the last
                # transitions, which only means re-running those hosts).
                sa.event.listen(backend.engine, "connect", _sqlite_wal)
            if sqlite:
                # TaskFlow creates the tables directly on SQLite (no Alembic), check-then-create:
                # processes opening one new file at once (conductors) take turns.
                with _file_lock(self.parsed.database), contextlib.closing(backend.get_connection()) as conn:
                    conn.upgrade()
            else:
                backend.get_connection().validate()
                _migrate(backend.engine)
        except (sa.exc.SQLAlchemyError, OSError) as e:
            raise CratonError("cannot use the run state database %s: %s" % (self.safe, _cause(e))) from None
        except Exception as e:  # taskflow StorageFailure wraps the cause
            raise CratonError("cannot use the run state database %s: %s" % (self.safe, _cause(e))) from None
        self.backend = backend
        return self

    def connection(self):
        """A TaskFlow persistence connection (close it: ``contextlib.closing``)."""
        return self.backend.get_connection()

    def find_book(self, run_id):
        """The logbook of ``run_id``, or None."""
        from taskflow import exceptions as tf_exc  # pylint: disable=import-outside-toplevel
        with contextlib.closing(self.connection()) as conn:
            try:
                return conn.get_logbook(book_uuid(run_id))
            except tf_exc.NotFound:
                return None

    def load_run(self, run_id):
        """(logbook, flow detail) of ``run_id``; NotFound when the run is unknown here."""
        book = self.find_book(run_id)
        details = list(book) if book is not None else []
        if not details:
            raise NotFound("unknown run id %r: no run of that id in the run state database %s"
                           % (run_id, self.safe))
        return book, details[0]

    def new_book(self, run_id, meta):
        """A logbook for a new run (saved by TaskFlow with the flow detail)."""
        from taskflow.persistence import models  # pylint: disable=import-outside-toplevel
        book = models.LogBook("craton-run:%s" % run_id, uuid=book_uuid(run_id))
        book.meta = dict(meta)
        return book

    def close(self):
        if self.backend is not None:
            self.backend.close()


@contextlib.contextmanager
def _file_lock(path):
    """An exclusive flock on the SQLite file itself (SQLite's own locks are fcntl locks,
    independent of flock on Linux); a file that does not exist yet is created empty."""
    import fcntl  # pylint: disable=import-outside-toplevel
    with open(path, "ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_wal(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _cause(error):
    seen = error
    while getattr(seen, "cause", None) is not None or getattr(seen, "__cause__", None) is not None:
        seen = getattr(seen, "cause", None) or seen.__cause__
    orig = getattr(seen, "orig", None) or seen
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__
