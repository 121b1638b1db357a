# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings of Keystone authentication in ``craton serve`` (no OpenStack imports here).

``craton serve --keystone-url URL`` turns it on. The service credentials (a user
and project, or an application credential) are what craton validates tokens
with; without them every token validates itself (Keystone lets a token's owner
validate it). The settings travel to ``--workers N`` worker processes as
``CRATON_KEYSTONE_*`` environment variables.
"""

from __future__ import annotations

import dataclasses
import os

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

DEFAULT_CACHE_SECONDS = 60.0
DEFAULT_TIMEOUT = 10.0


@dataclasses.dataclass
class KeystoneSettings:
    """Where Keystone is and how craton authenticates to it (``url`` None: Keystone off)."""

    url: str | None = None
    username: str | None = None
    password: str | None = None
    project_name: str | None = None
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    application_credential_id: str | None = None
    application_credential_secret: str | None = None
    cache_seconds: float = DEFAULT_CACHE_SECONDS
    timeout: float = DEFAULT_TIMEOUT
    cafile: str | None = None

    _ENV = {"url": "CRATON_KEYSTONE_URL", "username": "CRATON_KEYSTONE_USERNAME",
            "password": "CRATON_KEYSTONE_PASSWORD", "project_name": "CRATON_KEYSTONE_PROJECT_NAME",
            "user_domain_name": "CRATON_KEYSTONE_USER_DOMAIN_NAME",
            "project_domain_name": "CRATON_KEYSTONE_PROJECT_DOMAIN_NAME",
            "application_credential_id": "CRATON_KEYSTONE_APPLICATION_CREDENTIAL_ID",
            "application_credential_secret": "CRATON_KEYSTONE_APPLICATION_CREDENTIAL_SECRET",
            "cache_seconds": "CRATON_KEYSTONE_CACHE_SECONDS", "timeout": "CRATON_KEYSTONE_TIMEOUT",
            "cafile": "CRATON_KEYSTONE_CAFILE"}

    @property
    def enabled(self):
        """True when Keystone authentication is configured."""
        return bool(self.url)

    def check(self):
        """Refuse an incomplete or contradictory configuration with a one-line error."""
        if not self.enabled:
            return self
        if not self.url.startswith(("http://", "https://")):
            raise CratonError("invalid --keystone-url %r: use the identity endpoint, e.g. http://keystone:5000/v3"
                              % self.url)
        password_auth = any((self.username, self.password, self.project_name))
        appcred_auth = any((self.application_credential_id, self.application_credential_secret))
        if password_auth and appcred_auth:
            raise CratonError("Keystone service credentials: give either --keystone-username/--keystone-password/"
                              "--keystone-project or an application credential, not both")
        if password_auth and not (self.username and self.password and self.project_name):
            raise CratonError("Keystone service credentials are incomplete: --keystone-username, "
                              "--keystone-password (or $CRATON_KEYSTONE_PASSWORD) and --keystone-project "
                              "are all needed")
        if appcred_auth and not (self.application_credential_id and self.application_credential_secret):
            raise CratonError("Keystone application credential is incomplete: both "
                              "--keystone-application-credential-id and $CRATON_KEYSTONE_APPLICATION_"
                              "CREDENTIAL_SECRET are needed")
        if self.cache_seconds < 0:
            raise CratonError("--keystone-cache-seconds must be 0 or more")
        if self.timeout <= 0:
            raise CratonError("--keystone-timeout must be more than 0")
        return self

    @classmethod
    def from_env(cls, environ=None):
        """The settings from the CRATON_KEYSTONE_* variables (see :meth:`to_env`)."""
        env = os.environ if environ is None else environ
        values = {}
        for field, var in cls._ENV.items():
            if env.get(var):
                values[field] = float(env[var]) if field in ("cache_seconds", "timeout") else env[var]
        return cls(**values)

    def to_env(self):
        """The environment that :meth:`from_env` reads back (for ``--workers N``)."""
        env = {}
        for field, var in self._ENV.items():
            value = getattr(self, field)
            if value is not None:
                env[var] = str(value)
        return env

    @classmethod
    def from_args(cls, args):
        """The settings from ``craton serve``'s options (see :func:`add_arguments`)."""
        return cls(url=args.keystone_url, username=args.keystone_username,
                   password=args.keystone_password or os.environ.get("CRATON_KEYSTONE_PASSWORD") or None,
                   project_name=args.keystone_project, user_domain_name=args.keystone_user_domain,
                   project_domain_name=args.keystone_project_domain,
                   application_credential_id=args.keystone_application_credential_id,
                   application_credential_secret=os.environ.get("CRATON_KEYSTONE_APPLICATION_CREDENTIAL_SECRET")
                   or None,
                   cache_seconds=args.keystone_cache_seconds, timeout=args.keystone_timeout,
                   cafile=args.keystone_cafile).check()


def add_arguments(parser):
    """Add the --keystone-* options to ``craton serve``."""
    group = parser.add_argument_group(
        "Keystone authentication (optional; see docs/openstack.md)",
        "With --keystone-url, X-Auth-Token / Bearer tokens issued by Keystone are accepted: the token's project "
        "is the craton tenant whose variable keystone_project_id holds the project's id, and its roles map to "
        "reader (reader), editor (member) and admin (admin). craton's own tokens keep working.")
    group.add_argument("--keystone-url", default=os.environ.get("CRATON_KEYSTONE_URL"), metavar="URL",
                       help="Keystone's identity endpoint, e.g. http://keystone:5000/v3 (default: "
                            "$CRATON_KEYSTONE_URL; unset: Keystone off)")
    group.add_argument("--keystone-username", default=os.environ.get("CRATON_KEYSTONE_USERNAME"),
                       help="craton's service user, which validates tokens")
    group.add_argument("--keystone-password", default=None,
                       help="the service user's password (better: $CRATON_KEYSTONE_PASSWORD)")
    group.add_argument("--keystone-project", default=os.environ.get("CRATON_KEYSTONE_PROJECT_NAME"),
                       help="the service user's project (e.g. service)")
    group.add_argument("--keystone-user-domain", default="Default", help="the service user's domain (Default)")
    group.add_argument("--keystone-project-domain", default="Default",
                       help="the service project's domain (Default)")
    group.add_argument("--keystone-application-credential-id", default=None, metavar="ID",
                       help="validate with an application credential instead (its secret in "
                            "$CRATON_KEYSTONE_APPLICATION_CREDENTIAL_SECRET)")
    group.add_argument("--keystone-cache-seconds", type=float, default=DEFAULT_CACHE_SECONDS, metavar="SECONDS",
                       help="how long a validated Keystone token is trusted without asking Keystone again, never "
                            "past its expiry; a revoked token stops working within this time (default: 60)")
    group.add_argument("--keystone-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help="timeout of each call to Keystone (default: 10)")
    group.add_argument("--keystone-cafile", default=None, metavar="FILE",
                       help="CA bundle that signs Keystone's certificate (default: the system's)")
