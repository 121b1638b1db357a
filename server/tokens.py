# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""API tokens in the fleet database: created, listed, revoked, looked up by hash.

A token is ``craton_`` followed by 43 random URL-safe characters (256 bits). Only
its sha256 is stored; the token itself is shown once, when it is created. A
token belongs to one tenant (or, created with ``--global``, to all tenants) and
carries one role: ``reader``, ``editor`` or ``admin``. No FastAPI here: the
``craton token`` command uses this module without the server's dependencies.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db, fleet
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import API_ROLES, ApiToken, Tenant

PREFIX = "craton_"
# last_used_at is written at most this often per token (a write per request would
# serialise readers on SQLite).
LAST_USED_EVERY = datetime.timedelta(seconds=60)


def hash_token(token):
    """The stored form of a token: its sha256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_role(role):
    """``role`` if it is reader, editor or admin."""
    if role not in API_ROLES:
        raise CratonError("invalid role %r: use %s" % (role, ", ".join(API_ROLES)))
    return role


def create_token(url, tenant, role, name=None):
    """Create a token of ``tenant`` (a name; None = all tenants) -> (id, token)."""
    check_role(role)
    if name is not None and (not name or len(name) > 255):
        raise CratonError("invalid token name %r: use 1 to 255 characters" % (name,))
    token = PREFIX + secrets.token_urlsafe(32)

    def work(session):
        tenant_id = fleet.get_tenant(session, tenant).id if tenant is not None else None
        row = ApiToken(tenant_id=tenant_id, role=role, name=name, token_sha256=hash_token(token))
        session.add(row)
        session.flush()
        return row.id

    return db.run_in_transaction(db.connect(url), work), token


def list_tokens(url, tenant=None):
    """Every token (of ``tenant`` when given) as dicts, without the secret part."""
    with db.transaction(url) as session:
        stmt = (sa.select(ApiToken.id, ApiToken.name, Tenant.name, ApiToken.role, ApiToken.created_at,
                          ApiToken.last_used_at, ApiToken.revoked)
                .outerjoin(Tenant, Tenant.id == ApiToken.tenant_id).order_by(ApiToken.id))
        if tenant is not None:
            stmt = stmt.where(ApiToken.tenant_id == fleet.get_tenant(session, tenant).id)
        return [{"id": r[0], "name": r[1], "tenant": r[2], "role": r[3], "created_at": r[4],
                 "last_used_at": r[5], "revoked": r[6]} for r in session.execute(stmt)]


def revoke_token(url, token_id):
    """Revoke token ``token_id``; True when it was not revoked yet."""
    def work(session):
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound("token %s does not exist" % token_id)
        if row.revoked:
            return False
        row.revoked = True
        return True
    return db.run_in_transaction(db.connect(url), work)


def lookup(url, token):
    """(token id, tenant id or None, tenant name or None, role) of a valid token, or None.

    Revoked tokens and tokens of deleted tenants are not valid. ``last_used_at`` is
    refreshed when older than :data:`LAST_USED_EVERY`."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    engine = db.connect(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(ApiToken.id, ApiToken.tenant_id, Tenant.name, ApiToken.role, ApiToken.last_used_at)
                .outerjoin(Tenant, Tenant.id == ApiToken.tenant_id)
                .where(ApiToken.token_sha256 == digest, ApiToken.revoked.is_(False))).first()
    except sa.exc.DBAPIError as e:
        raise db.unreachable(engine, e) from None
    if row is None or (row[1] is not None and row[2] is None):
        return None
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if row[4] is None or now - row[4] > LAST_USED_EVERY:
        _touch(engine, row[0], now)
    return row[0], row[1], row[2], row[3]


def _touch(engine, token_id, now):
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    except sa.exc.DBAPIError:
        pass  # last_used_at is informative; a busy database must not fail the request
