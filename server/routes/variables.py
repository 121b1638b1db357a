# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The own variables of tenants, regions, groups and hosts.

``GET .../variables`` shows them; ``PUT`` replaces them all with the body (a JSON
object of name -> value); ``PATCH`` merges the body into them; ``DELETE
.../variables?key=a&key=b`` removes the listed keys. Writes by a non-admin token
are stored untrusted: Ansible gets them as data, never as templates (see
docs/precedence.md, "Templates and trust").
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query

from ansible_collections.craton.fleet.plugins.module_utils.errors import NotFound
from ansible_collections.craton.fleet.plugins.module_utils.group_resource import GroupResource
from ansible_collections.craton.fleet.plugins.module_utils.host_resource import HostResource
from ansible_collections.craton.fleet.plugins.module_utils.models import VARIABLE_MODELS, Group, Host, Region
from ansible_collections.craton.fleet.plugins.module_utils.resources import RegionResource, TenantResource
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.routes.common import (
    READ_ERRORS, WRITE_ERRORS, Variables, apply, located, read, tenant_name)
from ansible_collections.craton.fleet.server.routes.names import PathId, VarKey

router = APIRouter(tags=["variables"])
VariableMap = dict[VarKey, Any]


def _read(session, kind, owner_id):
    model = VARIABLE_MODELS[kind]
    rows = session.execute(sa.select(model.key, model.value, model.trusted)
                           .where(getattr(model, kind + "_id") == owner_id).order_by(model.key)).all()
    return {"variables": {r[0]: r[1] for r in rows}, "untrusted": [r[0] for r in rows if not r[2]]}


class _Owner:
    """Where the variables hang: kind, id, and the module params that name the owner."""

    def __init__(self, kind, locate):
        self.kind, self.locate = kind, locate

    def resolve(self, ctx):
        """(owner id, resource params naming it), checking the token may see it."""
        return read(ctx, lambda session: self.locate(session, ctx))

    def variables(self, ctx):
        """The owner's variables, in one read transaction."""
        def work(session):
            owner_id, _params = self.locate(session, ctx)
            return _read(session, self.kind, owner_id)
        return read(ctx, work)

    def write(self, ctx, **vars_params):
        """Write variables through the owner's module Resource."""
        _owner_id, params = self.resolve(ctx)
        params = dict(params, state="present", **vars_params)
        resource = {"tenant": TenantResource, "region": RegionResource, "group": GroupResource,
                    "host": HostResource}[self.kind]
        if self.kind == "group":
            params.update(children_mode="add", hosts_mode="add")
        if self.kind == "host":
            params.update(groups_mode="add")
        apply(ctx, resource(params))
        return self.variables(ctx)


def _tenant(tenant_id: PathId):
    def locate(session, ctx):
        return tenant_id, {"name": tenant_name(session, ctx, tenant_id)}
    return _Owner("tenant", locate)


def _region(tenant_id: PathId, region_id: PathId):
    def locate(session, ctx):
        tenant = tenant_name(session, ctx, tenant_id)
        name = session.scalar(sa.select(Region.name).where(Region.id == region_id, Region.tenant_id == tenant_id))
        if name is None:
            raise NotFound("region %d of tenant %d does not exist" % (region_id, tenant_id))
        return region_id, {"tenant": tenant, "name": name}
    return _Owner("region", locate)


def _group(group_id: PathId):
    def locate(session, ctx):
        row, tenant = located(session, ctx, Group, group_id, "group")
        return group_id, {"tenant": tenant, "name": row.name}
    return _Owner("group", locate)


def _host(host_id: PathId):
    def locate(session, ctx):
        row, tenant = located(session, ctx, Host, host_id, "host")
        return host_id, {"tenant": tenant, "name": row.name}
    return _Owner("host", locate)


def _add_routes(path, kind, owner_dependency):
    what = "the %s" % kind

    @router.get(path, response_model=Variables, responses=READ_ERRORS, summary="Show the variables of %s" % what,
                operation_id="get_%s_variables" % kind)
    def get_variables(owner: _Owner = Depends(owner_dependency), ctx: Context = Depends(require("reader"))):
        return owner.variables(ctx)

    @router.put(path, response_model=Variables, responses=WRITE_ERRORS,
                summary="Replace the variables of %s" % what, operation_id="replace_%s_variables" % kind)
    def replace_variables(variables: VariableMap = Body(...), owner: _Owner = Depends(owner_dependency),
                          ctx: Context = Depends(require("editor"))):
        return owner.write(ctx, vars=variables, vars_mode="replace")

    @router.patch(path, response_model=Variables, responses=WRITE_ERRORS,
                  summary="Merge variables into those of %s" % what, operation_id="merge_%s_variables" % kind)
    def merge_variables(variables: VariableMap = Body(...), owner: _Owner = Depends(owner_dependency),
                        ctx: Context = Depends(require("editor"))):
        return owner.write(ctx, vars=variables, vars_mode="merge")

    @router.delete(path, response_model=Variables, responses=WRITE_ERRORS,
                   summary="Remove variables of %s" % what, operation_id="delete_%s_variables" % kind)
    def delete_variables(key: list[VarKey] = Query(..., min_length=1, max_length=1000,
                                                   description="a variable to remove (repeat for several)"),
                         owner: _Owner = Depends(owner_dependency), ctx: Context = Depends(require("editor"))):
        return owner.write(ctx, absent_vars=list(key), vars_mode="merge")


_add_routes("/v1/tenants/{tenant_id}/variables", "tenant", _tenant)
_add_routes("/v1/regions/{tenant_id}/{region_id}/variables", "region", _region)
_add_routes("/v1/groups/{group_id}/variables", "group", _group)
_add_routes("/v1/hosts/{host_id}/variables", "host", _host)
