# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/v1/inventory: the inventory for filters, as data or as an archive.

Both come from the one inventory query (``inventory_query.load_inventory``):

* ``GET /v1/inventory``: its data as JSON, what the inventory plugin reads when
  configured with ``api_url``. With ``secrets=true`` (editor and admin tokens
  only) each host's secrets carry their decrypted value (``data_base64``) instead
  of the ciphertext: the key never leaves the server, the value crosses the
  connection once and the plugin writes it to a file of mode 0600.
* ``GET /v1/inventory/{region_id}.tgz`` and ``.zip``: the region's inventory as a
  deterministic archive (module_utils/bundle.py, the same bytes as
  ``craton export``), streamed. Secret files are included (editor and admin
  tokens) unless ``secrets=false``. Each server process builds at most
  ``--archive-builds`` archives at a time and lets ``--archive-queue`` more wait;
  beyond that the answer is 503 with ``Retry-After`` (server/archive_limit.py).

Filters: ``group`` (repeat; hosts of these groups and their descendants), ``host``
(repeat; names or shell patterns), ``var=key=value`` (repeat; the host's own
variable equals the value, read as JSON when it parses, else as a string;
several values of a key accept any of them).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from ansible_collections.craton.fleet.plugins.module_utils import secret_store
from ansible_collections.craton.fleet.plugins.module_utils.errors import NotFound
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import load_inventory
from ansible_collections.craton.fleet.plugins.module_utils.models import Region, Tenant
from ansible_collections.craton.fleet.server.archive_limit import NoCyclicGC, SlotStreamingResponse
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.errors import ApiError, responses
from ansible_collections.craton.fleet.server.routes.names import PathId
from ansible_collections.craton.fleet.server.routes.common import READ_ERRORS, read

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])
MEDIA = {"tgz": "application/gzip", "zip": "application/zip"}
STREAM_CHUNK = 256 * 1024
Names = list[str] | None


class InventoryData(BaseModel):
    """``load_inventory``'s data: tenants, regions, groups, hosts (see inventory_query.py), warnings."""

    tenants: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    hosts: list[dict[str, Any]]
    warnings: list[str]


def host_vars_filter(var):
    """``["key=value", ...]`` -> ``{key: [values]}`` (values as JSON when they parse)."""
    accepted = {}
    for item in var or ():
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ApiError(422, "var: %r is not key=value" % item)
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        accepted.setdefault(key, []).append(value)
    return accepted or None


def _names(values, what):
    for value in values or ():
        if not value or len(value) > 255:
            raise ApiError(422, "%s: %r is not a name" % (what, value))
    return list(values) if values else None


def _tenant_filter(ctx, tenant):
    """The tenant name to load: the token's own tenant unless a global token names one."""
    principal = ctx.principal
    if principal.is_global:
        return tenant
    if tenant is not None and tenant != principal.tenant_name:
        raise NotFound("tenant %r does not exist" % tenant)
    return principal.tenant_name


def _with_secret_values(inventory):
    for host in inventory["hosts"]:
        secrets = host.get("secrets")
        if not secrets:
            continue
        host["secrets"] = [{"id": s["id"], "name": s["name"], "kind": s["kind"],
                            "data_base64": base64.b64encode(secret_store.decrypt(
                                s["ciphertext"].encode("ascii"), "secret %r of host %r" % (s["name"], host["name"])))
                            .decode("ascii")} for s in secrets]
    return inventory


@router.get("", response_model=InventoryData, responses=READ_ERRORS, summary="The inventory for filters (data)")
def inventory_data(ctx: Context = Depends(require("reader")),
                   tenant: str | None = Query(None, max_length=255, description="tenant name (default: the token's)"),
                   region: Names = Query(None, description="region names (repeat)"),
                   group: Names = Query(None, description="group names (repeat)"),
                   host: Names = Query(None, description="host names or shell patterns (repeat)"),
                   var: Names = Query(None, description="key=value on the hosts' own variables (repeat)"),
                   active_only: bool = Query(True, description="only active hosts"),
                   reachable: bool | None = Query(None, description="filter on the last reachability status"),
                   strict: bool = Query(False, description="an unknown tenant, region or group is 404"),
                   secrets: bool = Query(False, description="include the secrets' values (editor, admin)")):
    if secrets and not ctx.principal.has("editor"):
        raise ApiError(403, "secret values need an editor or admin token")
    filters = {"tenant": _tenant_filter(ctx, tenant), "regions": _names(region, "region"),
               "groups": _names(group, "group"), "hosts": _names(host, "host"),
               "host_vars": host_vars_filter(var), "active_only": active_only, "reachable": reachable}
    data = read(ctx, lambda s: load_inventory(s, filters, strict=strict, with_secrets=secrets))
    if secrets:
        _with_secret_values(data)
    return JSONResponse(data)


def _archive(ctx, region_id, fmt, filters, per_host, secrets):
    """(chunks, file name) of the region's archive; runs in a worker thread, every check before any byte."""
    from ansible_collections.craton.fleet.plugins.module_utils import bundle  # the writer of craton export

    def names(session):
        row = session.execute(sa.select(Region.name, Tenant.name, Region.tenant_id)
                              .join(Tenant, Tenant.id == Region.tenant_id).where(Region.id == region_id)).first()
        if row is None or (not ctx.principal.is_global and row[2] != ctx.principal.tenant_id):
            raise NotFound("region %d does not exist" % region_id)
        return row[0], row[1]

    region, tenant = read(ctx, names)
    filters = dict(filters, tenant=tenant, regions=[region])
    # Loading and planning make many objects and no garbage cycles: the cyclic collector
    # would walk the server's whole heap again and again for nothing (as in the plugin).
    with NoCyclicGC():
        inventory = bundle.load_for_bundle(ctx.database_url, filters, strict=True, secrets=secrets)
        chunks = bundle.iter_bundle(inventory, fmt, per_host=per_host)  # every check runs here, before any byte
    name = "%s-%s%s.%s" % (tenant, region, "-per-host" if per_host else "", fmt)
    return chunks, name.replace('"', "_")


async def _archive_response(ctx, region_id, fmt, group, host, var, per_host, secrets, active_only):
    """The streamed archive, built in a worker thread when this process has room for it
    (server/archive_limit.py: at most --archive-builds at once, --archive-queue waiting, else 503)."""
    if secrets and not ctx.principal.has("editor"):
        raise ApiError(403, "secret files need an editor or admin token; ask with secrets=false")
    filters = {"groups": _names(group, "group"), "hosts": _names(host, "host"), "host_vars": host_vars_filter(var),
               "active_only": active_only}
    slot = await ctx.request.app.state.archive_builds.acquire()
    try:
        chunks, name = await slot.run(_archive, ctx, region_id, fmt, filters, per_host, secrets)
    except BaseException:
        slot.release()
        raise
    return SlotStreamingResponse(slot.stream(_coalesced(chunks)), slot, media_type=MEDIA[fmt],
                                 headers={"Content-Disposition": 'attachment; filename="%s"' % name})


def _coalesced(chunks, size=STREAM_CHUNK):
    """The archive's chunks joined into pieces of at least ``size`` bytes: each piece is one
    hop from the worker thread to the event loop and one write to the socket."""
    pending, length = [], 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield b"".join(pending)
            pending, length = [], 0
    if pending:
        yield b"".join(pending)


_ARCHIVE_RESPONSES = dict(responses(400, 401, 403, 404, 422, 503))


def _archive_route(fmt):
    documented = dict(_ARCHIVE_RESPONSES)
    documented[200] = {"content": {MEDIA[fmt]: {"schema": {"type": "string", "format": "binary"}}},
                       "description": "the %s archive" % fmt}
    documented[503] = dict(documented[503], description="the database is unusable, or this server process has "
                           "--archive-builds archives in progress and --archive-queue more waiting",
                           headers={"Retry-After": {"description": "seconds to wait before asking again (busy only)",
                                                    "schema": {"type": "integer"}}})

    @router.get("/{region_id}.%s" % fmt, response_class=StreamingResponse, responses=documented,
                summary="The region's inventory as a %s archive" % fmt, operation_id="inventory_%s" % fmt)
    async def archive(region_id: PathId, ctx: Context = Depends(require("reader")),
                      group: Names = Query(None, description="group names (repeat)"),
                      host: Names = Query(None, description="host names or shell patterns (repeat)"),
                      var: Names = Query(None, description="key=value on the hosts' own variables (repeat)"),
                      per_host: bool = Query(False, description="one inventory directory per host"),
                      secrets: bool = Query(True, description="include secret files (editor, admin)"),
                      active_only: bool = Query(True, description="only active hosts")):
        return await _archive_response(ctx, region_id, fmt, group, host, var, per_host, secrets, active_only)
    return archive


_archive_route("tgz")
_archive_route("zip")
