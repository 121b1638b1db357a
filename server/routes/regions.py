# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/v1/regions: regions of the tenants a token can see.

As in the seed, ``GET /v1/regions/{tenant_id}`` lists the regions of a tenant; one
region is ``/v1/regions/{tenant_id}/{region_id}`` (its variables below it).
``GET /v1/regions`` lists every visible region, with filters.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response

from ansible_collections.craton.fleet.plugins.module_utils.errors import NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import Region
from ansible_collections.craton.fleet.plugins.module_utils.resources import RegionResource
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.routes.common import (
    equals, READ_ERRORS, WRITE_ERRORS, Page, Strict, apply, id_of, iso, page, page_params, read, scoped, tenant_name,
    visible_tenant_id)
from ansible_collections.craton.fleet.server.routes.names import Description, Id, MAX_ID, Name, PathId, VariablesBody

router = APIRouter(prefix="/v1/regions", tags=["regions"])
COLUMNS = (Region.id, Region.tenant_id, Region.name, Region.description, Region.created_at, Region.updated_at)


class RegionOut(Strict):
    """A region."""

    id: int
    tenant_id: int
    name: str
    description: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None


class RegionCreate(Strict):
    """A new region; ``tenant_id`` defaults to the token's tenant."""

    tenant_id: Id | None = None
    name: Name
    description: Description = None
    variables: VariablesBody = None


class RegionUpdate(Strict):
    """Fields to change."""

    name: Name | None = None
    description: Description = None


def item(row):
    """A region row as the API shows it."""
    return {"id": row[0], "tenant_id": row[1], "name": row[2], "description": row[3], "created_at": iso(row[4]),
            "updated_at": iso(row[5])}


def get_region(ctx, tenant_id, region_id):
    """The visible region as a dict plus its tenant's name, else 404."""
    def work(session):
        tenant = tenant_name(session, ctx, tenant_id)
        row = session.execute(sa.select(*COLUMNS).where(Region.id == region_id, Region.tenant_id == tenant_id)).first()
        if row is None:
            raise NotFound("region %d of tenant %d does not exist" % (region_id, tenant_id))
        return item(row), tenant
    return read(ctx, work)


@router.get("", response_model=Page[RegionOut], responses=READ_ERRORS, summary="List regions")
def list_regions(ctx: Context = Depends(require("reader")), pages=Depends(page_params),
                 tenant_id: int | None = Query(None, ge=0, le=MAX_ID, description="only regions of this tenant"),
                 name: str | None = Query(None, max_length=255, description="only regions of this name")):
    filters = scoped(ctx, Region.tenant_id)
    if tenant_id is not None:
        filters.append(("tenant_id", equals(Region.tenant_id), tenant_id))
    if name is not None:
        filters.append(("name", equals(Region.name), name))
    return page(ctx, "regions", COLUMNS, Region.id, filters, pages, item)


@router.post("", response_model=RegionOut, status_code=201, responses=WRITE_ERRORS, summary="Create a region")
def create_region(body: RegionCreate, ctx: Context = Depends(require("editor"))):
    tenant_id = visible_tenant_id(ctx, body.tenant_id)
    tenant = read(ctx, lambda s: tenant_name(s, ctx, tenant_id))
    apply(ctx, RegionResource({"tenant": tenant, "name": body.name, "description": body.description,
                               "vars": body.variables, "vars_mode": "replace", "state": "present"}))
    return get_region(ctx, tenant_id, id_of(ctx, Region, tenant_id, body.name))[0]


@router.get("/{tenant_id}", response_model=Page[RegionOut], responses=READ_ERRORS,
            summary="List the regions of a tenant")
def regions_of_tenant(tenant_id: PathId, ctx: Context = Depends(require("reader")), pages=Depends(page_params)):
    read(ctx, lambda s: tenant_name(s, ctx, tenant_id))
    return page(ctx, "regions", COLUMNS, Region.id, [("tenant_id", equals(Region.tenant_id), tenant_id)], pages, item)


@router.get("/{tenant_id}/{region_id}", response_model=RegionOut, responses=READ_ERRORS, summary="Show a region")
def show_region(tenant_id: PathId, region_id: PathId, ctx: Context = Depends(require("reader"))):
    return get_region(ctx, tenant_id, region_id)[0]


@router.patch("/{tenant_id}/{region_id}", response_model=RegionOut, responses=WRITE_ERRORS,
              summary="Rename or describe a region")
def update_region(tenant_id: PathId, region_id: PathId, body: RegionUpdate, ctx: Context = Depends(require("editor"))):
    current, tenant = get_region(ctx, tenant_id, region_id)
    apply(ctx, RegionResource({"tenant": tenant, "name": current["name"], "new_name": body.name,
                               "description": body.description, "state": "present"}))
    return get_region(ctx, tenant_id, region_id)[0]


@router.delete("/{tenant_id}/{region_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Delete a region (its hosts stay, without a region)")
def delete_region(tenant_id: PathId, region_id: PathId, ctx: Context = Depends(require("editor"))):
    current, tenant = get_region(ctx, tenant_id, region_id)
    apply(ctx, RegionResource({"tenant": tenant, "name": current["name"], "state": "absent"}))
    return Response(status_code=204)
