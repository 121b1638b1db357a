# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set-based SQL for many rows at once: chunked reads, batched writes.

Writing 10,000 hosts must not mean 10,000 round trips. These helpers take whole
lists of rows and issue a bounded number of statements:

* reads: ``WHERE column IN (...)`` in chunks of :data:`CHUNK` values (SQLite
  allows 32,766 parameters per statement);
* inserts: one ``executemany`` (PyMySQL turns it into multi-row INSERTs);
* updates: on MySQL/MariaDB ``UPDATE ... SET c = CASE id WHEN ...`` for 500 rows
  per statement (PyMySQL would send an ``executemany`` UPDATE row by row); on
  SQLite an ``executemany`` UPDATE, which runs in-process;
* deletes: ``WHERE id IN (...)`` / ``WHERE (a, b) IN (...)`` in chunks.

All of them run in the caller's session (transaction) and never commit.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY

if HAS_SQLALCHEMY:
    import sqlalchemy as sa

CHUNK = 5000
CASE_CHUNK = 500


def core(session):
    """The session's connection, for Core statements (pending ORM changes flushed first).

    Core results skip the ORM's per-row bookkeeping, which matters at 100,000 rows."""
    session.flush()
    return session.connection()


def chunks(values, size=CHUNK):
    """``values`` (a sequence) in lists of at most ``size``."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def select_in(session, stmt, column, values):
    """All rows of ``stmt`` whose ``column`` is in ``values``, chunk by chunk."""
    rows, conn = [], core(session)
    for chunk in chunks(values):
        rows.extend(conn.execute(stmt.where(column.in_(chunk))).all())
    return rows


def insert_rows(session, model, rows):
    """INSERT many rows (dicts with the same keys) in one executemany."""
    if rows:
        core(session).execute(sa.insert(model.__table__), rows)


def delete_in(session, column, values):
    """DELETE the rows of ``column``'s table whose ``column`` is in ``values``."""
    for chunk in chunks(values):
        core(session).execute(sa.delete(column.table).where(column.in_(chunk)))


def delete_pairs(session, column_a, column_b, pairs):
    """DELETE the rows whose ``(column_a, column_b)`` is one of ``pairs``."""
    for chunk in chunks(pairs):
        core(session).execute(sa.delete(column_a.table).where(sa.tuple_(column_a, column_b).in_(chunk)))


def update_rows(session, model, rows, key="id"):
    """UPDATE existing rows of ``model`` found by the unique column ``key``.

    ``rows`` are dicts holding ``key`` and the columns to set; rows are grouped
    by their set of columns. SQLite gets an ``executemany`` (in-process, fast);
    MySQL/MariaDB, where that would be one round trip per row, gets
    ``UPDATE ... SET c = CASE key WHEN ... THEN ... END WHERE key IN (...)``
    for :data:`CASE_CHUNK` rows at a time. Never inserts: a row deleted
    meanwhile stays deleted."""
    table = model.__table__
    groups = {}
    for row in rows:
        groups.setdefault(tuple(sorted(c for c in row if c != key)), []).append(row)
    conn = core(session)
    mysql_like = conn.dialect.name in ("mysql", "mariadb")
    for columns, batch in groups.items():
        if not mysql_like:
            stmt = (sa.update(table).where(table.c[key] == sa.bindparam("k_" + key, type_=table.c[key].type))
                    .values({c: sa.bindparam("v_" + c, type_=table.c[c].type) for c in columns}))
            conn.execute(stmt, [dict([("k_" + key, row[key])] + [("v_" + c, row[c]) for c in columns])
                                for row in batch])
            continue
        for chunk in chunks(batch, CASE_CHUNK):
            values = {}
            for c in columns:
                whens = dict((row[key], sa.bindparam(None, row[c], type_=table.c[c].type)) for row in chunk)
                values[c] = sa.case(whens, value=table.c[key], else_=table.c[c])
            conn.execute(sa.update(table).where(table.c[key].in_([row[key] for row in chunk])).values(values))
