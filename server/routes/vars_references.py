# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/v1/groups/{group_id}/vars_references: URLs of YAML files of group variables.

A vars reference makes the controller fetch a URL (``file://`` reads its disk), so
adding or changing one needs an admin token. Writes run through
craton.fleet.vars_reference's engine; two references of a group cannot share an
``order`` (409).
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Response
from pydantic import Field

from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import Group, VarsReference
from ansible_collections.craton.fleet.plugins.module_utils.vars_reference_resource import VarsReferenceResource
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.routes.names import PathId
from ansible_collections.craton.fleet.server.routes.common import (
    READ_ERRORS, WRITE_ERRORS, Strict, apply, located, read)

router = APIRouter(prefix="/v1/groups/{group_id}/vars_references", tags=["vars references"])


class ReferenceOut(Strict):
    """A vars reference."""

    id: int
    group_id: int
    url: str
    sha256: str | None
    order: int


class ReferenceCreate(Strict):
    """A new vars reference; without ``order`` it goes last."""

    url: str = Field(..., min_length=1, max_length=2048)
    sha256: str | None = Field(None, max_length=64)
    order: int | None = Field(None, ge=0, le=2 ** 31 - 1)


class ReferenceUpdate(Strict):
    """Fields to change; ``sha256`` "" removes the pin."""

    sha256: str | None = Field(None, max_length=64)
    order: int | None = Field(None, ge=0, le=2 ** 31 - 1)


def _rows(session, group_id, ref_id=None):
    stmt = sa.select(VarsReference.id, VarsReference.url, VarsReference.sha256, VarsReference.position) \
        .where(VarsReference.group_id == group_id)
    if ref_id is not None:
        stmt = stmt.where(VarsReference.id == ref_id)
    return [{"id": r[0], "group_id": group_id, "url": r[1], "sha256": r[2], "order": r[3]}
            for r in session.execute(stmt.order_by(VarsReference.position))]


def _group(ctx, group_id):
    def names(session):
        row, tenant = located(session, ctx, Group, group_id, "group")
        return row.name, tenant
    return read(ctx, names)


def _one(ctx, group_id, ref_id):
    def work(session):
        located(session, ctx, Group, group_id, "group")
        rows = _rows(session, group_id, ref_id)
        if not rows:
            raise NotFound("vars reference %d of group %d does not exist" % (ref_id, group_id))
        return rows[0]
    return read(ctx, work)


@router.get("", response_model=list[ReferenceOut], responses=READ_ERRORS, summary="List the vars references of a group")
def list_references(group_id: PathId, ctx: Context = Depends(require("reader"))):
    def work(session):
        located(session, ctx, Group, group_id, "group")
        return _rows(session, group_id)
    return read(ctx, work)


@router.post("", response_model=ReferenceOut, status_code=201, responses=WRITE_ERRORS,
             summary="Add a vars reference to a group")
def create_reference(group_id: PathId, body: ReferenceCreate, ctx: Context = Depends(require("admin"))):
    group, tenant = _group(ctx, group_id)
    existing = read(ctx, lambda s: s.scalar(sa.select(VarsReference.id).where(
        VarsReference.group_id == group_id, VarsReference.url == body.url)))
    if existing is not None:
        raise Conflict("group %r already has a vars reference to %r (id %d)" % (group, body.url, existing))
    apply(ctx, VarsReferenceResource({"tenant": tenant, "group": group, "url": body.url, "sha256": body.sha256,
                                      "order": body.order, "state": "present"}))
    ref_id = read(ctx, lambda s: s.scalar(sa.select(VarsReference.id).where(
        VarsReference.group_id == group_id, VarsReference.url == body.url)))
    return _one(ctx, group_id, ref_id)


@router.get("/{ref_id}", response_model=ReferenceOut, responses=READ_ERRORS, summary="Show a vars reference")
def show_reference(group_id: PathId, ref_id: PathId, ctx: Context = Depends(require("reader"))):
    return _one(ctx, group_id, ref_id)


@router.patch("/{ref_id}", response_model=ReferenceOut, responses=WRITE_ERRORS, summary="Re-pin or re-order a vars reference")
def update_reference(group_id: PathId, ref_id: PathId, body: ReferenceUpdate, ctx: Context = Depends(require("admin"))):
    current = _one(ctx, group_id, ref_id)
    group, tenant = _group(ctx, group_id)
    apply(ctx, VarsReferenceResource({"tenant": tenant, "group": group, "url": current["url"], "sha256": body.sha256,
                                      "order": body.order, "state": "present"}))
    return _one(ctx, group_id, ref_id)


@router.delete("/{ref_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Remove a vars reference")
def delete_reference(group_id: PathId, ref_id: PathId, ctx: Context = Depends(require("admin"))):
    current = _one(ctx, group_id, ref_id)
    group, tenant = _group(ctx, group_id)
    apply(ctx, VarsReferenceResource({"tenant": tenant, "group": group, "url": current["url"], "state": "absent"}))
    return Response(status_code=204)
