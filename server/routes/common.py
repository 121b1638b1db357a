# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every router shares: pagination, tenant scoping, reads and writes.

Reads run in one read transaction (``db.transaction``); writes go through the
modules' plan/write engine (``resources.apply``) with the params a module task
would pass, so the API, the modules and the CLI share create/update/delete
semantics, validation and messages. Objects of a tenant the token cannot see
are reported exactly like objects that do not exist (404).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from ansible_collections.craton.fleet.plugins.module_utils import db, resources
from ansible_collections.craton.fleet.plugins.module_utils.errors import NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import Tenant
from ansible_collections.craton.fleet.server.errors import ApiError, responses

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
READ_ERRORS = responses(400, 401, 403, 404, 422, 503)
WRITE_ERRORS = responses(400, 401, 403, 404, 409, 413, 422, 503)

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies: unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, and the URL of the next page (null on the last)."""

    items: list[T]
    next: str | None


class Variables(BaseModel):
    """The own variables of an object; ``untrusted`` lists the keys whose values were
    written by a non-admin API token (never rendered as templates)."""

    variables: dict[str, Any]
    untrusted: list[str]


async def page_params(limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                                         description="items per page (1 to %d)" % MAX_LIMIT),
                      marker: int | None = Query(None, ge=0, le=2 ** 53,
                                                 description="the id of the last item of the previous page")):
    """The pagination query parameters."""
    return limit, marker


# Compiled list queries: (dialect, route, filters given, marker given) -> (SQL text, compiled, positions).
_LIST_SQL = {}
# Checked engines by database URL: db.connect parses the URL again on every call.
_ENGINES = {}


def page(ctx, route, columns, id_column, filters, limit_marker, row_to_item):
    """One page of a list, ordered by id, as a JSON Response (serialised directly).

    ``filters`` is a list of ``(label, clause(bindparam), value)``; the statement
    for each combination of labels is compiled once and then run on a pooled DBAPI
    cursor: SQLAlchemy's statement building, Connection and result objects cost
    more than the query itself on this hot path. Rows are handed raw to
    ``row_to_item`` (SQLite gives booleans as 0/1 and times as text; :func:`iso`
    takes both). The page is serialised with orjson, not through the route's
    pydantic ``response_model`` (which only documents it) nor the standard json
    module: that was half the CPU of a ``GET /v1/hosts?limit=100``. List routes
    are plain functions run in a worker thread (a locked SQLite file must never
    stall the event loop)."""
    limit, marker = limit_marker
    engine = _ENGINES.get(ctx.database_url)
    if engine is None:
        engine = _ENGINES[ctx.database_url] = db.connect(ctx.database_url)
    key = (engine.dialect.name, route, tuple(label for label, _c, _v in filters), marker is not None)
    entry = _LIST_SQL.get(key)
    if entry is None:
        stmt = sa.select(*columns).where(*(clause(sa.bindparam(label)) for label, clause, _v in filters))
        if marker is not None:
            stmt = stmt.where(id_column > sa.bindparam("page_marker"))
        stmt = stmt.order_by(id_column).limit(sa.bindparam("page_limit"))
        compiled = stmt.compile(dialect=engine.dialect)
        entry = _LIST_SQL[key] = (str(compiled), compiled, compiled.positiontup if compiled.positional else None)
    sql, compiled, positions = entry
    values = {label: value for label, _c, value in filters}
    values.update(page_marker=marker, page_limit=limit + 1)
    params = compiled.construct_params(values)
    if positions is not None:
        params = tuple(params[name] for name in positions)
    try:
        connection = engine.raw_connection()  # the pool's: rolled back and kept when closed
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            cursor.close()
        finally:
            connection.close()
    except (sa.exc.DBAPIError, engine.dialect.loaded_dbapi.Error) as e:
        raise db.unreachable(engine, e) from None
    items = [row_to_item(row) for row in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        nxt = str(ctx.request.url.include_query_params(marker=items[-1]["id"], limit=limit))
    return Response(orjson.dumps({"items": items, "next": nxt}), media_type="application/json")


def equals(column):
    """A filter clause: ``column = :param``."""
    return lambda param: column == param


def iso(value):
    """A datetime of the database (UTC, naive; or SQLite's text of it) as RFC 3339 text
    (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's own text: "2026-11-26 23:43:11"
        return value.replace(" ", "T", 1) + "Z"
    return value.isoformat() + "Z" if value.tzinfo is None else value.isoformat()


def scoped(ctx, tenant_column):
    """The list filter restricting ``tenant_column`` to what the token may see."""
    principal = ctx.principal
    return [] if principal.is_global else [("scope", equals(tenant_column), principal.tenant_id)]


def visible_tenant_id(ctx, tenant_id):
    """The tenant id a new object goes to: the token's tenant unless ``tenant_id`` names
    another visible one. A global token must name it."""
    principal = ctx.principal
    if tenant_id is None:
        if principal.is_global:
            raise ApiError(422, "tenant_id: a global token must say which tenant")
        return principal.tenant_id
    if not principal.is_global and tenant_id != principal.tenant_id:
        raise NotFound("tenant %d does not exist" % tenant_id)
    return tenant_id


def read(ctx, work):
    """``work(session)`` in one read transaction."""
    with db.transaction(ctx.database_url) as session:
        return work(session)


def one(session, ctx, model, object_id, what):
    """The row of ``model`` with ``object_id`` visible to the token (tenant-scoped), else 404."""
    row = session.get(model, object_id)
    if row is None or (not ctx.principal.is_global and row.tenant_id != ctx.principal.tenant_id):
        raise NotFound("%s %d does not exist" % (what, object_id))
    return row


def tenant_name(session, ctx, tenant_id):
    """The name of a visible tenant, else 404."""
    if not ctx.principal.is_global and tenant_id != ctx.principal.tenant_id:
        raise NotFound("tenant %d does not exist" % tenant_id)
    name = session.scalar(sa.select(Tenant.name).where(Tenant.id == tenant_id))
    if name is None:
        raise NotFound("tenant %d does not exist" % tenant_id)
    return name


def apply(ctx, resource):
    """Run a module Resource (plan + write, one transaction) as this token: values written
    by non-admins are stored untrusted."""
    resource.params.setdefault("trusted", ctx.principal.trusted)
    return resources.apply(resource, ctx.database_url)


def with_defaults(params, **defaults):
    """Module-style params: ``defaults`` filled in where ``params`` has None."""
    out = dict(defaults)
    out.update((k, v) for k, v in params.items() if v is not None or k not in out)
    return out


def located(session, ctx, model, object_id, what):
    """(row, tenant name) of a visible tenant-scoped object, else 404."""
    row = one(session, ctx, model, object_id, what)
    return row, session.scalar(sa.select(Tenant.name).where(Tenant.id == row.tenant_id))


def locate(ctx, model, object_id, what):
    """:func:`located` in its own read transaction; returns (name, tenant name, tenant id)."""
    def work(session):
        row, tenant = located(session, ctx, model, object_id, what)
        return row.name, tenant, row.tenant_id
    return read(ctx, work)


def id_of(ctx, model, tenant_id, name):
    """The id of the object called ``name`` in a tenant (after a create)."""
    return read(ctx, lambda s: s.scalar(sa.select(model.id).where(model.tenant_id == tenant_id, model.name == name)))


def names_of(session, ctx, model, ids, tenant_id, what):
    """The names of objects ``ids`` of one tenant, in order; 404 naming the first missing."""
    found = dict(session.execute(sa.select(model.id, model.name)
                                 .where(model.id.in_(list(ids)), model.tenant_id == tenant_id)).all())
    for object_id in ids:
        if object_id not in found:
            raise NotFound("%s %d does not exist" % (what, object_id))
    return [found[i] for i in ids]
