# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authentication and roles of the REST API.

One small interface, :class:`Authenticator`: ``authenticate(token)`` returns the
:class:`Principal` (tenant, role) of a valid token or None. :class:`TokenAuthenticator`
checks craton's own API tokens (hashed in the ``api_tokens`` table); a Keystone
validator will implement the same method. The app holds one authenticator
(``app.state.authenticator``).

Routers declare what they need with the dependency :func:`require`:
``ctx: Context = Depends(require("editor"))``. The token comes from
``Authorization: Bearer TOKEN`` or ``X-Auth-Token: TOKEN``; none or an invalid one
is 401, a role below the one required is 403. Roles are ordered
reader < editor < admin. A principal with ``tenant_id`` None is global (all tenants).
"""

from __future__ import annotations

import dataclasses
import time

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ansible_collections.craton.fleet.server import tokens
from ansible_collections.craton.fleet.server.errors import ApiError

ROLE_RANK = {"reader": 0, "editor": 1, "admin": 2}


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant (None = every tenant) and a role."""

    tenant_id: int | None
    tenant_name: str | None
    role: str
    token_id: int | None = None

    @property
    def is_global(self):
        """True for a token of every tenant."""
        return self.tenant_id is None

    def has(self, role):
        """True when this principal's role is ``role`` or above."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def trusted(self):
        """Whether values written by this principal may be rendered as templates (admins only)."""
        return self.role == "admin"


class Authenticator:
    """The interface: a token in, a Principal (or None for an invalid token) out."""

    def authenticate(self, token):
        """The Principal of ``token``, or None when the token is not valid. May block
        (database, network): it runs in a worker thread."""
        raise NotImplementedError

    def cached(self, token):  # pylint: disable=unused-argument
        """The Principal of ``token`` if known without any I/O, else None (runs on the event loop)."""
        return None


class TokenAuthenticator(Authenticator):
    """craton API tokens (``craton token create``), stored as sha256 in the fleet database.

    A valid token's principal is kept for ``cache_seconds`` (default 5): a revoked
    token, or a token of a deleted tenant, stops working within that time. Invalid
    tokens are never cached (no memory for an attacker to fill)."""

    def __init__(self, database_url, cache_seconds=5.0):
        self.database_url = database_url
        self.cache_seconds = cache_seconds
        self._cache = {}

    def cached(self, token):
        entry = self._cache.get(tokens.hash_token(token))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def authenticate(self, token):
        now = time.monotonic()
        key = tokens.hash_token(token)
        found = tokens.lookup(self.database_url, token)
        if found is None:
            self._cache.pop(key, None)
            return None
        token_id, tenant_id, tenant_name, role = found
        principal = Principal(tenant_id=tenant_id, tenant_name=tenant_name, role=role, token_id=token_id)
        if self.cache_seconds > 0:
            if len(self._cache) > 10000:
                self._cache.clear()
            self._cache[key] = (principal, now + self.cache_seconds)
        return principal


@dataclasses.dataclass(frozen=True)
class Context:
    """What a route gets from :func:`require`: the caller and the database URL."""

    principal: Principal
    database_url: str | None
    request: Request


_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer TOKEN (a craton API token)")
_x_auth = APIKeyHeader(name="X-Auth-Token", auto_error=False,
                       description="X-Auth-Token: TOKEN, as OpenStack clients send it")


def require(role):
    """A FastAPI dependency: the request's Context when its token has ``role`` or above."""
    if role not in ROLE_RANK:
        raise ValueError("unknown role %r" % role)

    # async: a cached token costs no thread hop; a cache miss goes to a worker thread.
    async def dependency(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                         x_auth_token: str | None = Depends(_x_auth)) -> Context:
        token = bearer.credentials if bearer is not None else x_auth_token
        if not token:
            raise ApiError(401, "missing API token: send Authorization: Bearer TOKEN or X-Auth-Token: TOKEN")
        authenticator = request.app.state.authenticator
        principal = authenticator.cached(token)
        if principal is None:  # database or network work: in a worker thread, never on the event loop
            principal = await run_in_threadpool(authenticator.authenticate, token)
        if principal is None:
            raise ApiError(401, "invalid API token (unknown, revoked, or of a deleted tenant)")
        if not principal.has(role):
            raise ApiError(403, "this needs the %s role; the token has %s" % (role, principal.role))
        return Context(principal=principal, database_url=request.app.state.settings.database_url,
                       request=request)

    dependency.__name__ = "require_%s" % role
    return dependency
