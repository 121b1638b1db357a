# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/v1/hosts/{host_id}/secrets: write-only secrets of a host.

``PUT .../secrets/{name}`` stores (or replaces) a secret: validated for its kind and
encrypted at rest by craton.fleet.secret's engine. No response ever holds a
value: reads show the name, kind and times only. The one way out for a value is
``GET /v1/inventory?secrets=true`` (editor and admin tokens), which the inventory
plugin turns into files of mode 0600 (see docs/api.md).
"""

from __future__ import annotations

import datetime
from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Response
from pydantic import Field

from ansible_collections.craton.fleet.plugins.module_utils.errors import NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import Host, Secret
from ansible_collections.craton.fleet.plugins.module_utils.names import SECRET_KINDS
from ansible_collections.craton.fleet.plugins.module_utils.secret_resource import SecretResource
from ansible_collections.craton.fleet.server.auth import Context, require
from ansible_collections.craton.fleet.server.routes.common import (
    READ_ERRORS, WRITE_ERRORS, Strict, apply, iso, located, read)
from ansible_collections.craton.fleet.server.routes.names import Name, PathId

router = APIRouter(prefix="/v1/hosts/{host_id}/secrets", tags=["secrets"])
Kind = Literal[SECRET_KINDS]  # pylint: disable=invalid-name


class SecretOut(Strict):
    """A secret without its value."""

    host_id: int
    name: str
    kind: str
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None


class SecretPut(Strict):
    """The secret's kind and value (text: PEM, OpenSSH key, ...)."""

    kind: Kind
    data: str = Field(..., min_length=1, max_length=512 * 1024)


def _rows(session, host_id, name=None):
    stmt = sa.select(Secret.name, Secret.kind, Secret.created_at, Secret.updated_at).where(Secret.host_id == host_id)
    if name is not None:
        stmt = stmt.where(Secret.name == name)
    return [{"host_id": host_id, "name": r[0], "kind": r[1], "created_at": iso(r[2]), "updated_at": iso(r[3])}
            for r in session.execute(stmt.order_by(Secret.name))]


def _show(ctx, host_id, name):
    def work(session):
        located(session, ctx, Host, host_id, "host")
        rows = _rows(session, host_id, name)
        if not rows:
            raise NotFound("secret %r of host %d does not exist" % (name, host_id))
        return rows[0]
    return read(ctx, work)


def _names(ctx, host_id):
    def work(session):
        row, tenant = located(session, ctx, Host, host_id, "host")
        return row.name, tenant
    return read(ctx, work)


@router.get("", response_model=list[SecretOut], responses=READ_ERRORS, summary="List the secrets of a host (no values)")
def list_secrets(host_id: PathId, ctx: Context = Depends(require("reader"))):
    def work(session):
        located(session, ctx, Host, host_id, "host")
        return _rows(session, host_id)
    return read(ctx, work)


@router.get("/{name}", response_model=SecretOut, responses=READ_ERRORS, summary="Show a secret (no value)")
def show_secret(host_id: PathId, name: str, ctx: Context = Depends(require("reader"))):
    return _show(ctx, host_id, name)


@router.put("/{name}", response_model=SecretOut, responses=WRITE_ERRORS,
            summary="Store or replace a secret (validated, encrypted)")
def put_secret(host_id: PathId, name: Name, body: SecretPut, ctx: Context = Depends(require("editor"))):
    host, tenant = _names(ctx, host_id)
    apply(ctx, SecretResource({"tenant": tenant, "host": host, "name": name, "kind": body.kind, "data": body.data,
                               "state": "present"}))
    return _show(ctx, host_id, name)


@router.delete("/{name}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Delete a secret")
def delete_secret(host_id: PathId, name: str, ctx: Context = Depends(require("editor"))):
    _show(ctx, host_id, name)
    host, tenant = _names(ctx, host_id)
    apply(ctx, SecretResource({"tenant": tenant, "host": host, "name": name, "state": "absent"}))
    return Response(status_code=204)
