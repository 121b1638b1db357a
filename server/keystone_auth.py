# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keystone tokens for the REST API: :class:`KeystoneAuthenticator`.

Implements the :class:`~server.auth.Authenticator` interface with keystoneauth1
(OpenStack's maintained auth library): the token is validated with
``GET /v3/auth/tokens`` (``X-Subject-Token``) through a keystoneauth1 session
that holds craton's service credentials, and the answer is parsed by
``keystoneauth1.access``. Then:

- **Project -> tenant.** The token must be scoped to a project. Its tenant is the
  craton tenant whose variable ``keystone_project_id`` is the project's id,
  written by a trusted path (an admin, a module, ``craton import``). No such
  tenant, or several: 403 naming the project. Tenants are never created on
  first use (who may see a fleet is decided in craton, not by whoever can
  create a Keystone project).
- **Roles.** ``admin`` -> admin, ``member`` (also ``_member_``, ``editor``) ->
  editor, ``reader`` -> reader; the highest wins (Keystone lists implied roles
  too). A token with none of them: 403.
- **Cache.** A valid token's principal is kept for ``cache_seconds`` (default
  60), never past the token's expiry; invalid tokens are not cached.
- craton's own tokens (``craton_...``) still go to the :class:`TokenAuthenticator`.

Keystone unreachable, refusing the service credentials, or refusing the service
user the right to validate tokens: 503 naming Keystone and what to check.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time

import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.models import Tenant, TenantVariable
from ansible_collections.craton.fleet.server import tokens
from ansible_collections.craton.fleet.server.auth import ROLE_RANK, Authenticator, Principal
from ansible_collections.craton.fleet.server.errors import ApiError

PROJECT_VARIABLE = "keystone_project_id"
ROLE_MAP = {"admin": "admin", "member": "editor", "_member_": "editor", "editor": "editor", "reader": "reader"}


def identity_url(url):
    """The v3 identity endpoint for ``url`` (``/v3`` appended when missing)."""
    base = url.rstrip("/")
    return base if base.endswith("/v3") else base + "/v3"


def craton_role(role_names):
    """The craton role for a list of Keystone role names (None when none maps)."""
    best = None
    for name in role_names or ():
        role = ROLE_MAP.get(name.lower())
        if role is not None and (best is None or ROLE_RANK[role] > ROLE_RANK[best]):
            best = role
    return best


class KeystoneAuthenticator(Authenticator):
    """Keystone tokens validated through keystoneauth1; craton tokens via ``fallback``."""

    def __init__(self, keystone, database_url, fallback=None):
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import v3

        self.keystone = keystone
        self.url = identity_url(keystone.url)
        self.database_url = database_url
        self.fallback = fallback
        if keystone.application_credential_id:
            auth = v3.ApplicationCredential(auth_url=self.url,
                                            application_credential_id=keystone.application_credential_id,
                                            application_credential_secret=keystone.application_credential_secret)
            self.service_user = "application credential %s" % keystone.application_credential_id
        elif keystone.username:
            auth = v3.Password(auth_url=self.url, username=keystone.username, password=keystone.password,
                               project_name=keystone.project_name, user_domain_name=keystone.user_domain_name,
                               project_domain_name=keystone.project_domain_name)
            self.service_user = "user %s of project %s" % (keystone.username, keystone.project_name)
        else:
            auth = None  # every token validates itself
            self.service_user = None
        self.session = ks_session.Session(auth=auth, verify=keystone.cafile or True, timeout=keystone.timeout,
                                          app_name="craton.fleet")
        self._cache = {}
        self._lock = threading.Lock()

    # --- startup check -------------------------------------------------------------------

    def check(self):
        """Reach Keystone (and log the service user in) now: a CratonError naming what to fix."""
        try:
            response = self.session.get(self.url, authenticated=False, raise_exc=False)
            if response.status_code >= 400:
                raise CratonError("Keystone at %s answers HTTP %d: check --keystone-url (the identity endpoint, "
                                  "e.g. http://keystone:5000/v3)" % (self.url, response.status_code))
            if self.service_user:
                self.session.get_token()
        except CratonError:
            raise
        except Exception as e:  # keystoneauth1's exceptions: connect failures, 401 of the service login
            raise CratonError(self._problem(e)) from None
        return self

    def _problem(self, error):
        from keystoneauth1 import exceptions as ks_exc

        if isinstance(error, (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.DiscoveryFailure)):
            reason = ("timed out" if isinstance(error, ks_exc.ConnectTimeout)
                      else "connection refused" if "refused" in str(error) else "connection failed")
            return "cannot reach Keystone at %s: %s (check --keystone-url and that Keystone runs)" % (
                self.url, reason)
        if isinstance(error, ks_exc.Unauthorized):
            return ("Keystone at %s refused craton's service credentials (%s): check the --keystone-* "
                    "credentials" % (self.url, self.service_user))
        return "Keystone at %s failed: %s" % (self.url, str(error).splitlines()[0] if str(error) else type(error).__name__)

    # --- Authenticator --------------------------------------------------------------------

    def cached(self, token):
        if not isinstance(token, str):
            return None
        if token.startswith(tokens.PREFIX):
            return self.fallback.cached(token) if self.fallback is not None else None
        with self._lock:
            entry = self._cache.get(hashlib.sha256(token.encode("utf-8")).digest())
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def authenticate(self, token):
        """Runs in a worker thread (server/auth.py): the calls to Keystone and the database block."""
        if not isinstance(token, str) or len(token) > 10000:
            return None
        if token.startswith(tokens.PREFIX):
            return self.fallback.authenticate(token) if self.fallback is not None else None
        key = hashlib.sha256(token.encode("utf-8")).digest()
        now = time.monotonic()
        access = self._validate(token)
        if access is None:
            with self._lock:
                self._cache.pop(key, None)
            return None
        principal = self._principal(access)
        if self.keystone.cache_seconds > 0:
            until = now + self.keystone.cache_seconds
            if access.expires is not None:
                left = (access.expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
                until = min(until, now + left)
            with self._lock:
                if len(self._cache) > 10000:
                    self._cache.clear()
                self._cache[key] = (principal, until)
        return principal

    def _validate(self, token):
        """keystoneauth1's AccessInfo of a valid token, None for an invalid one."""
        from keystoneauth1 import access

        headers = {"X-Subject-Token": token}
        if self.service_user is None:
            headers["X-Auth-Token"] = token
        try:
            response = self.session.get(self.url + "/auth/tokens", headers=headers,
                                        authenticated=self.service_user is not None, raise_exc=False)
        except Exception as e:  # keystoneauth1's exceptions
            raise ApiError(503, self._problem(e)) from None
        if response.status_code in (401, 404):
            if response.status_code == 401 and self.service_user is not None:
                # 401 to an authenticated call: the service token itself was refused
                self.session.invalidate()
                raise ApiError(503, "Keystone at %s refused craton's service token (%s): check the --keystone-* "
                                    "credentials" % (self.url, self.service_user))
            return None  # unknown, expired or revoked token
        if response.status_code == 403:
            raise ApiError(503, "Keystone at %s does not let craton's %s validate tokens: give it the service "
                                "(or admin) role" % (self.url, self.service_user or "callers"))
        if response.status_code != 200:
            raise ApiError(503, "Keystone at %s answered HTTP %d to a token validation"
                           % (self.url, response.status_code))
        try:
            return access.create(body=response.json(), auth_token=token)
        except (ValueError, KeyError, TypeError):
            raise ApiError(503, "Keystone at %s answered a token validation with something that is not a "
                                "token" % self.url) from None

    def _principal(self, access):
        if not access.project_scoped:
            raise ApiError(403, "this Keystone token is not scoped to a project: ask for a project-scoped token "
                                "(the project is the craton tenant)")
        role = craton_role(access.role_names)
        if role is None:
            raise ApiError(403, "the Keystone token of project %s has none of the roles reader, member, admin "
                                "(it has: %s)" % (access.project_name, ", ".join(access.role_names) or "none"))
        tenant_id, tenant_name = self._tenant(access.project_id, access.project_name)
        return Principal(tenant_id=tenant_id, tenant_name=tenant_name, role=role)

    def _tenant(self, project_id, project_name):
        engine = db.connect(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(Tenant.id, Tenant.name, TenantVariable.value)
                    .join(TenantVariable, TenantVariable.tenant_id == Tenant.id)
                    .where(TenantVariable.key == PROJECT_VARIABLE, TenantVariable.trusted.is_(True))).all()
        except sa.exc.DBAPIError as e:
            raise db.unreachable(engine, e) from None
        found = [(r[0], r[1]) for r in rows if r[2] == project_id]
        if not found:
            raise ApiError(403, "Keystone project %s (%s) has no craton tenant: an admin sets the variable %s: %s "
                                "on the tenant it may see" % (project_name, project_id, PROJECT_VARIABLE, project_id))
        if len(found) > 1:
            raise ApiError(403, "Keystone project %s (%s) is claimed by several tenants (%s): keep %s on one of them"
                           % (project_name, project_id, ", ".join(sorted(name for _tenant_id, name in found)), PROJECT_VARIABLE))
        return found[0]


def build(keystone, database_url, fallback):
    """The KeystoneAuthenticator for ``keystone`` settings, checked against the live Keystone."""
    try:
        import keystoneauth1  # noqa: F401
    except ImportError:
        raise CratonError("--keystone-url needs the Python package keystoneauth1 (pip install keystoneauth1)") from None
    return KeystoneAuthenticator(keystone, database_url, fallback).check()
