# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/v1/groups: groups, their child groups and their member hosts.

Writes run through craton.fleet.group's engine (group_resource): a child that
would close a cycle is refused with 409 naming the cycle.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict
from ansible_collections.craton.fleet.plugins.module_utils.group_resource import GroupResource
from ansible_collections.craton.fleet.plugins.module_utils.models import Group, GroupChild, GroupHost, Host
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.routes.common import (
    equals, READ_ERRORS, WRITE_ERRORS, Page, Strict, apply, id_of, iso, located, names_of, one, page, page_params,
    read, scoped, tenant_name, visible_tenant_id)
from ansible_collections.craton.fleet.server.routes.names import Description, Id, MAX_ID, Name, PathId, VariablesBody

router = APIRouter(prefix="/v1/groups", tags=["groups"])
COLUMNS = (Group.id, Group.tenant_id, Group.name, Group.description, Group.created_at, Group.updated_at)


class GroupOut(Strict):
    """A group."""

    id: int
    tenant_id: int
    name: str
    description: str | None
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None


class GroupCreate(Strict):
    """A new group; ``children`` are group ids, ``hosts`` host ids of the same tenant."""

    tenant_id: Id | None = None
    name: Name
    description: Description = None
    variables: VariablesBody = None
    children: list[Id] | None = Field(None, max_length=10000)
    hosts: list[Id] | None = Field(None, max_length=10000)


class GroupUpdate(Strict):
    """Fields to change."""

    name: Name | None = None
    description: Description = None


class Member(Strict):
    """A child group or a member host: id and name."""

    id: int
    name: str


def item(row):
    """A group row as the API shows it."""
    return {"id": row[0], "tenant_id": row[1], "name": row[2], "description": row[3], "created_at": iso(row[4]),
            "updated_at": iso(row[5])}


def get_group(ctx, group_id):
    """The visible group as a dict, else 404."""
    def work(session):
        one(session, ctx, Group, group_id, "group")
        return item(session.execute(sa.select(*COLUMNS).where(Group.id == group_id)).first())
    return read(ctx, work)


def _apply_group(ctx, group_id, **params):
    def names(session):
        row, tenant = located(session, ctx, Group, group_id, "group")
        return row, tenant
    row, tenant = read(ctx, names)
    base = {"tenant": tenant, "name": row.name, "state": "present", "vars_mode": "merge", "children_mode": "add",
            "hosts_mode": "add"}
    base.update(params)
    apply(ctx, GroupResource(base))
    return row


@router.get("", response_model=Page[GroupOut], responses=READ_ERRORS, summary="List groups")
def list_groups(ctx: Context = Depends(require("reader")), pages=Depends(page_params),
                tenant_id: int | None = Query(None, ge=0, le=MAX_ID, description="only groups of this tenant"),
                name: str | None = Query(None, max_length=255, description="only the group of this name")):
    filters = scoped(ctx, Group.tenant_id)
    if tenant_id is not None:
        filters.append(("tenant_id", equals(Group.tenant_id), tenant_id))
    if name is not None:
        filters.append(("name", equals(Group.name), name))
    return page(ctx, "groups", COLUMNS, Group.id, filters, pages, item)


@router.post("", response_model=GroupOut, status_code=201, responses=WRITE_ERRORS, summary="Create a group")
def create_group(body: GroupCreate, ctx: Context = Depends(require("editor"))):
    tenant_id = visible_tenant_id(ctx, body.tenant_id)

    def names(session):
        tenant = tenant_name(session, ctx, tenant_id)
        children = names_of(session, ctx, Group, body.children, tenant_id, "group") if body.children else None
        hosts = names_of(session, ctx, Host, body.hosts, tenant_id, "host") if body.hosts else None
        return tenant, children, hosts

    tenant, children, hosts = read(ctx, names)
    if id_of(ctx, Group, tenant_id, body.name) is not None:
        raise Conflict("group %r already exists in tenant %r" % (body.name, tenant))
    apply(ctx, GroupResource({"tenant": tenant, "name": body.name, "description": body.description,
                              "vars": body.variables, "vars_mode": "replace", "children": children,
                              "children_mode": "replace", "hosts": hosts, "hosts_mode": "replace",
                              "state": "present"}))
    return get_group(ctx, id_of(ctx, Group, tenant_id, body.name))


@router.get("/{group_id}", response_model=GroupOut, responses=READ_ERRORS, summary="Show a group")
def show_group(group_id: PathId, ctx: Context = Depends(require("reader"))):
    return get_group(ctx, group_id)


@router.patch("/{group_id}", response_model=GroupOut, responses=WRITE_ERRORS, summary="Rename or describe a group")
def update_group(group_id: PathId, body: GroupUpdate, ctx: Context = Depends(require("editor"))):
    _apply_group(ctx, group_id, new_name=body.name, description=body.description)
    return get_group(ctx, group_id)


@router.delete("/{group_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Delete a group")
def delete_group(group_id: PathId, ctx: Context = Depends(require("editor"))):
    _apply_group(ctx, group_id, state="absent")
    return Response(status_code=204)


def _members(ctx, group_id, model, edge, edge_parent, edge_member):
    def work(session):
        one(session, ctx, Group, group_id, "group")
        rows = session.execute(sa.select(model.id, model.name).join(edge, edge_member == model.id)
                               .where(edge_parent == group_id).order_by(model.id)).all()
        return [{"id": r[0], "name": r[1]} for r in rows]
    return read(ctx, work)


def _change_member(ctx, group_id, model, member_id, what, option, mode):
    def names(session):
        group, _tenant = located(session, ctx, Group, group_id, "group")
        return names_of(session, ctx, model, [member_id], group.tenant_id, what)
    member = read(ctx, names)
    _apply_group(ctx, group_id, **{option: member, option + "_mode": mode})
    return Response(status_code=204)


@router.get("/{group_id}/children", response_model=list[Member], responses=READ_ERRORS,
            summary="List the child groups of a group")
def list_children(group_id: PathId, ctx: Context = Depends(require("reader"))):
    return _members(ctx, group_id, Group, GroupChild, GroupChild.parent_id, GroupChild.child_id)


@router.put("/{group_id}/children/{child_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
            summary="Make a group a child of this group (409 on a cycle)")
def add_child(group_id: PathId, child_id: PathId, ctx: Context = Depends(require("editor"))):
    return _change_member(ctx, group_id, Group, child_id, "group", "children", "add")


@router.delete("/{group_id}/children/{child_id}", status_code=204, response_class=Response,
               responses=WRITE_ERRORS, summary="Remove a child group from this group")
def remove_child(group_id: PathId, child_id: PathId, ctx: Context = Depends(require("editor"))):
    return _change_member(ctx, group_id, Group, child_id, "group", "children", "remove")


@router.get("/{group_id}/hosts", response_model=list[Member], responses=READ_ERRORS,
            summary="List the member hosts of a group")
def list_members(group_id: PathId, ctx: Context = Depends(require("reader"))):
    return _members(ctx, group_id, Host, GroupHost, GroupHost.group_id, GroupHost.host_id)


@router.put("/{group_id}/hosts/{host_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
            summary="Make a host a member of this group")
def add_member(group_id: PathId, host_id: PathId, ctx: Context = Depends(require("editor"))):
    return _change_member(ctx, group_id, Host, host_id, "host", "hosts", "add")


@router.delete("/{group_id}/hosts/{host_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Remove a host from this group")
def remove_member(group_id: PathId, host_id: PathId, ctx: Context = Depends(require("editor"))):
    return _change_member(ctx, group_id, Host, host_id, "host", "hosts", "remove")
