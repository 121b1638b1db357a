# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/v1/hosts: hosts of the tenants a token can see.

Writes run through craton.fleet.host's engine (host_resource): the same
validation, the same semantics. In PATCH a field given as null is cleared
(region, ip_address, port, user, connection); a field not given stays.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.host_resource import HostResource
from ansible_collections.craton.fleet.plugins.module_utils.models import Group, GroupHost, Host, Region
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.routes.common import (
    equals, READ_ERRORS, WRITE_ERRORS, Page, Strict, apply, id_of, iso, located, names_of, one, page, page_params,
    read, scoped, tenant_name, visible_tenant_id)
from ansible_collections.craton.fleet.server.routes.names import Id, MAX_ID, Name, PathId, VariablesBody

router = APIRouter(prefix="/v1/hosts", tags=["hosts"])
COLUMNS = (Host.id, Host.tenant_id, Host.region_id, Host.name, Host.ip_address, Host.port, Host.user,
           Host.connection, Host.active, Host.last_seen_at, Host.last_status, Host.last_error, Host.created_at,
           Host.updated_at)


class HostOut(Strict):
    """A host; ``last_*`` are written back by runs (reachability)."""

    id: int
    tenant_id: int
    region_id: int | None
    name: str
    ip_address: str | None
    port: int | None
    user: str | None
    connection: str | None
    active: bool
    last_seen_at: datetime.datetime | None
    last_status: str | None
    last_error: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None


class _HostFields(Strict):
    region_id: Id | None = None
    ip_address: str | None = Field(None, min_length=1, max_length=64)
    port: int | None = Field(None, ge=1, le=65535)
    user: str | None = Field(None, min_length=1, max_length=255)
    connection: str | None = Field(None, min_length=1, max_length=64)
    active: bool | None = None


class HostCreate(_HostFields):
    """A new host; ``tenant_id`` defaults to the token's tenant, ``groups`` are group ids."""

    tenant_id: Id | None = None
    name: Name
    groups: list[Id] | None = Field(None, max_length=10000)
    variables: VariablesBody = None


class HostUpdate(_HostFields):
    """Fields to change; null clears region, ip_address, port, user and connection."""

    name: Name | None = None


def item(row):
    """A host row as the API shows it."""
    return {"id": row[0], "tenant_id": row[1], "region_id": row[2], "name": row[3], "ip_address": row[4],
            "port": row[5], "user": row[6], "connection": row[7], "active": bool(row[8]),
            "last_seen_at": iso(row[9]), "last_status": row[10], "last_error": row[11],
            "created_at": iso(row[12]), "updated_at": iso(row[13])}


def get_host(ctx, host_id):
    """The visible host as a dict, else 404."""
    def work(session):
        one(session, ctx, Host, host_id, "host")
        return item(session.execute(sa.select(*COLUMNS).where(Host.id == host_id)).first())
    return read(ctx, work)


def region_name(session, region_id, tenant_id):
    """The name of region ``region_id`` of the tenant, else 404."""
    name = session.scalar(sa.select(Region.name).where(Region.id == region_id, Region.tenant_id == tenant_id))
    if name is None:
        raise NotFound("region %d does not exist" % region_id)
    return name


@router.get("", response_model=Page[HostOut], responses=READ_ERRORS, summary="List hosts")
def list_hosts(ctx: Context = Depends(require("reader")), pages=Depends(page_params),
               tenant_id: int | None = Query(None, ge=0, le=MAX_ID, description="only hosts of this tenant"),
               region_id: int | None = Query(None, ge=0, le=MAX_ID, description="only hosts of this region"),
               group_id: int | None = Query(None, ge=0, le=MAX_ID, description="only direct members of this group"),
               name: str | None = Query(None, max_length=255, description="only the host of this name"),
               active: bool | None = Query(None, description="only active (true) or inactive (false) hosts")):
    filters = scoped(ctx, Host.tenant_id)
    if tenant_id is not None:
        filters.append(("tenant_id", equals(Host.tenant_id), tenant_id))
    if region_id is not None:
        filters.append(("region_id", equals(Host.region_id), region_id))
    if group_id is not None:
        filters.append(("group_id", lambda p: Host.id.in_(sa.select(GroupHost.host_id).where(GroupHost.group_id == p)),
                        group_id))
    if name is not None:
        filters.append(("name", equals(Host.name), name))
    if active is not None:
        filters.append(("active", equals(Host.active), active))
    return page(ctx, "hosts", COLUMNS, Host.id, filters, pages, item)


@router.post("", response_model=HostOut, status_code=201, responses=WRITE_ERRORS, summary="Create a host")
def create_host(body: HostCreate, ctx: Context = Depends(require("editor"))):
    tenant_id = visible_tenant_id(ctx, body.tenant_id)

    def names(session):
        tenant = tenant_name(session, ctx, tenant_id)
        region = region_name(session, body.region_id, tenant_id) if body.region_id is not None else None
        groups = names_of(session, ctx, Group, body.groups, tenant_id, "group") if body.groups else None
        return tenant, region, groups

    tenant, region, groups = read(ctx, names)
    exists = id_of(ctx, Host, tenant_id, body.name)
    if exists is not None:
        raise Conflict("host %r already exists in tenant %r" % (body.name, tenant))
    apply(ctx, HostResource({"tenant": tenant, "name": body.name, "region": region, "ip_address": body.ip_address,
                             "port": body.port, "user": body.user, "connection": body.connection,
                             "active": body.active if body.active is not None else True, "groups": groups,
                             "groups_mode": "replace", "vars": body.variables, "vars_mode": "replace",
                             "state": "present"}))
    return get_host(ctx, id_of(ctx, Host, tenant_id, body.name))


@router.get("/{host_id}", response_model=HostOut, responses=READ_ERRORS, summary="Show a host")
def show_host(host_id: PathId, ctx: Context = Depends(require("reader"))):
    return get_host(ctx, host_id)


@router.patch("/{host_id}", response_model=HostOut, responses=WRITE_ERRORS, summary="Change a host")
def update_host(host_id: PathId, body: HostUpdate, ctx: Context = Depends(require("editor"))):
    given = body.model_fields_set

    def names(session):
        row, tenant = located(session, ctx, Host, host_id, "host")
        region = None
        if "region_id" in given:
            region = region_name(session, body.region_id, row.tenant_id) if body.region_id is not None else ""
        return row.name, tenant, region

    name, tenant, region = read(ctx, names)
    params = {"tenant": tenant, "name": name, "new_name": body.name, "region": region, "active": body.active,
              "groups_mode": "add", "vars_mode": "merge", "state": "present"}
    for key, cleared in (("ip_address", ""), ("port", 0), ("user", ""), ("connection", "")):
        if key in given:
            value = getattr(body, key)
            params[key] = cleared if value is None else value
    apply(ctx, HostResource(params))
    return get_host(ctx, host_id)


@router.delete("/{host_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Delete a host")
def delete_host(host_id: PathId, ctx: Context = Depends(require("editor"))):
    def names(session):
        row, tenant = located(session, ctx, Host, host_id, "host")
        return row.name, tenant
    name, tenant = read(ctx, names)
    apply(ctx, HostResource({"tenant": tenant, "name": name, "state": "absent", "groups_mode": "add",
                             "vars_mode": "merge"}))
    return Response(status_code=204)
