# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/v1/tenants: the tenants a token can see (its own; every tenant for a global token).

Creating a tenant needs a global admin token (``craton token create --global --role admin``):
a tenant's own token cannot reach a tenant that does not exist yet.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response

from ansible_collections.craton.fleet.plugins.module_utils.models import Tenant
from ansible_collections.craton.fleet.plugins.module_utils.resources import TenantResource
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.errors import ApiError
from ansible_collections.craton.fleet.server.routes.common import (
    equals, READ_ERRORS, WRITE_ERRORS, Page, Strict, apply, iso, page, page_params, read, scoped)
from ansible_collections.craton.fleet.server.routes.names import Description, Name, PathId, VariablesBody

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
COLUMNS = (Tenant.id, Tenant.name, Tenant.description, Tenant.created_at, Tenant.updated_at)


class TenantOut(Strict):
    """A tenant."""

    id: int
    name: str
    description: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None


class TenantCreate(Strict):
    """A new tenant (global admin tokens only)."""

    name: Name
    description: Description = None
    variables: VariablesBody = None


class TenantUpdate(Strict):
    """Fields to change; fields not given stay."""

    name: Name | None = None
    description: Description = None


def item(row):
    """A tenant row as the API shows it."""
    return {"id": row[0], "name": row[1], "description": row[2], "created_at": iso(row[3]), "updated_at": iso(row[4])}


def get_tenant(ctx, tenant_id):
    """The visible tenant ``tenant_id`` as a dict, else 404."""
    def work(session):
        if not ctx.principal.is_global and tenant_id != ctx.principal.tenant_id:
            raise ApiError(404, "tenant %d does not exist" % tenant_id)
        row = session.execute(sa.select(*COLUMNS).where(Tenant.id == tenant_id)).first()
        if row is None:
            raise ApiError(404, "tenant %d does not exist" % tenant_id)
        return item(row)
    return read(ctx, work)


@router.get("", response_model=Page[TenantOut], responses=READ_ERRORS, summary="List tenants")
def list_tenants(ctx: Context = Depends(require("reader")), pages=Depends(page_params),
                 name: str | None = Query(None, max_length=255, description="only the tenant of this name")):
    filters = scoped(ctx, Tenant.id)
    if name is not None:
        filters.append(("name", equals(Tenant.name), name))
    return page(ctx, "tenants", COLUMNS, Tenant.id, filters, pages, item)


@router.post("", response_model=TenantOut, status_code=201, responses=WRITE_ERRORS, summary="Create a tenant")
def create_tenant(body: TenantCreate, ctx: Context = Depends(require("admin"))):
    if not ctx.principal.is_global:
        raise ApiError(403, "creating tenants needs a global admin token (craton token create --global)")
    apply(ctx, TenantResource({"name": body.name, "description": body.description, "vars": body.variables,
                               "vars_mode": "replace", "state": "present"}))
    tenant_id = read(ctx, lambda s: s.scalar(sa.select(Tenant.id).where(Tenant.name == body.name)))
    return get_tenant(ctx, tenant_id)


@router.get("/{tenant_id}", response_model=TenantOut, responses=READ_ERRORS, summary="Show a tenant")
def show_tenant(tenant_id: PathId, ctx: Context = Depends(require("reader"))):
    return get_tenant(ctx, tenant_id)


@router.patch("/{tenant_id}", response_model=TenantOut, responses=WRITE_ERRORS, summary="Rename or describe a tenant")
def update_tenant(tenant_id: PathId, body: TenantUpdate, ctx: Context = Depends(require("admin"))):
    current = get_tenant(ctx, tenant_id)
    apply(ctx, TenantResource({"name": current["name"], "new_name": body.name, "description": body.description,
                               "state": "present"}))
    return get_tenant(ctx, tenant_id)


@router.delete("/{tenant_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Delete a tenant and everything in it")
def delete_tenant(tenant_id: PathId, ctx: Context = Depends(require("admin"))):
    current = get_tenant(ctx, tenant_id)
    apply(ctx, TenantResource({"name": current["name"], "state": "absent"}))
    return Response(status_code=204)
