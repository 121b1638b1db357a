# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret blobs in OpenStack Barbican, through castellan (OpenStack's key-manager library).

Used by secret_store when ``CRATON_SECRET_BACKEND=barbican``: a blob is stored in
Barbican as opaque data and the fleet database keeps only the reference,
``barbican:<uuid>`` (in the column that otherwise holds the Fernet token, so
both kinds can live side by side while ``craton secrets migrate`` moves them).

Credentials are Keystone's, from the usual ``OS_*`` variables of an openrc file:
``OS_AUTH_URL``, ``OS_USERNAME``, ``OS_PASSWORD``, ``OS_PROJECT_NAME``,
``OS_USER_DOMAIN_NAME``, ``OS_PROJECT_DOMAIN_NAME`` (default ``Default``). The
secrets belong to that project. Barbican's endpoint is ``CRATON_BARBICAN_URL``
when set, else the ``key-manager`` endpoint of Keystone's catalog.

Errors name Barbican (or Keystone) and what to check; a write that fails
raises before anything reaches the fleet database.
"""

from __future__ import annotations

import logging
import os

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

# castellan (and oslo.config, oslo.log, barbicanclient under it) is imported on first use only:
# reading secrets from the database must not pay for it.

PREFIX = b"barbican:"
ENV_URL = "CRATON_BARBICAN_URL"

_MANAGERS = {}


def is_reference(stored):
    """True when ``stored`` (the secrets.ciphertext column) is a Barbican reference."""
    return isinstance(stored, (bytes, bytearray)) and bytes(stored).startswith(PREFIX)


def _castellan():
    """castellan's modules, or a CratonError saying what to install."""
    try:
        from castellan import key_manager, options
        from castellan.common import exception
        from castellan.common.credentials import keystone_password
        from castellan.common.objects import opaque_data
        from oslo_config import cfg
    except ImportError as e:
        raise CratonError("CRATON_SECRET_BACKEND=barbican and secrets stored in Barbican need the Python packages "
                          "castellan and python-barbicanclient (pip install castellan python-barbicanclient): %s"
                          % e) from None
    return key_manager, options, exception, keystone_password, opaque_data, cfg


def _credentials():
    keystone_password = _castellan()[3]
    env = os.environ
    missing = [v for v in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME") if not env.get(v)]
    if missing:
        raise CratonError("the Barbican secret store needs Keystone credentials: set %s (an openrc file)"
                          % ", ".join(missing))
    return keystone_password.KeystonePassword(
        password=env["OS_PASSWORD"], auth_url=env["OS_AUTH_URL"], username=env["OS_USERNAME"],
        user_domain_name=env.get("OS_USER_DOMAIN_NAME") or "Default", project_name=env["OS_PROJECT_NAME"],
        project_domain_name=env.get("OS_PROJECT_DOMAIN_NAME") or "Default")


def _manager():
    key_manager, options, cfg = _castellan()[0], _castellan()[1], _castellan()[5]
    key = (os.environ.get(ENV_URL), os.environ.get("OS_AUTH_URL"))
    if key not in _MANAGERS:
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            # castellan and barbicanclient log every failure themselves; craton says it once, in its error
            for name in ("castellan", "barbicanclient"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        conf = cfg.ConfigOpts()
        options.set_defaults(conf, backend="barbican", barbican_endpoint=key[0] or None, auth_endpoint=key[1],
                             number_of_retries=5, retry_delay=1)
        _MANAGERS[key] = key_manager.API(conf)
    return _MANAGERS[key]


def _where():
    return "Barbican at %s" % (os.environ.get(ENV_URL) or "the key-manager endpoint of Keystone's catalog (%s)"
                               % os.environ.get("OS_AUTH_URL"))


def _problem(error, doing):
    reason = getattr(error, "message", None) or str(error) or type(error).__name__
    reason = reason.splitlines()[0]
    if "Unauthorized" in reason or "401" in reason:
        hint = "check the Keystone credentials (OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME)"
    elif "Forbidden" in reason or "403" in reason:
        hint = "give user %s a role that may manage secrets in project %s (member, or creator)" % (
            os.environ.get("OS_USERNAME"), os.environ.get("OS_PROJECT_NAME"))
    else:
        hint = "check %s and OS_AUTH_URL, and that Barbican and Keystone run" % ENV_URL
    return CratonError("%s with %s failed: %s (%s)" % (doing, _where(), reason, hint))


def store(blob, name=None):
    """Store ``blob`` (bytes) in Barbican; the reference to keep in the database."""
    manager, context = _manager(), _credentials()
    exception, opaque_data = _castellan()[2], _castellan()[4]
    try:
        uuid = manager.store(context, opaque_data.OpaqueData(bytes(blob), name=name))
    except exception.CastellanException as e:
        raise _problem(e, "storing %s" % (name or "a secret")) from None
    return PREFIX + uuid.encode("ascii")


def _uuid(reference):
    return bytes(reference)[len(PREFIX):].decode("ascii")


def fetch(reference, what="secret"):
    """The blob that ``reference`` points at."""
    manager, context = _manager(), _credentials()
    exception = _castellan()[2]
    uuid = _uuid(reference)
    try:
        managed = manager.get(context, uuid)
    except exception.ManagedObjectNotFoundError:
        raise CratonError("%s: its Barbican secret %s no longer exists in %s (deleted in Barbican, or another "
                          "project's? check OS_PROJECT_NAME)" % (what, uuid, _where())) from None
    except exception.CastellanException as e:
        raise _problem(e, "reading %s" % what) from None
    return managed.get_encoded()


def delete(reference, what="secret"):
    """Delete the Barbican secret of ``reference``; False when it was already gone."""
    manager, context = _manager(), _credentials()
    exception = _castellan()[2]
    try:
        manager.delete(context, _uuid(reference))
    except exception.ManagedObjectNotFoundError:
        return False
    except exception.CastellanException as e:
        raise _problem(e, "deleting %s" % what) from None
    return True


def list_stored(name="craton.fleet"):
    """(uuid, created as an aware UTC datetime or None) of every Barbican secret called ``name`` in the
    project of the credentials (castellan lists 10 at most: python-barbicanclient pages through them)."""
    import datetime

    _castellan()
    from barbicanclient import client as barbican_client
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    creds = _credentials()
    auth = v3.Password(auth_url=creds.auth_url, username=creds.username, password=creds.password,
                       user_domain_name=creds.user_domain_name, project_name=creds.project_name,
                       project_domain_name=creds.project_domain_name)
    client = barbican_client.Client(session=ks_session.Session(auth=auth), endpoint=os.environ.get(ENV_URL) or None)
    out, offset = [], 0
    try:
        while True:
            page = client.secrets.list(limit=100, offset=offset, name=name)
            for secret in page:
                created = secret.created
                if created is not None and created.tzinfo is None:
                    created = created.replace(tzinfo=datetime.timezone.utc)
                out.append((secret.secret_ref.rstrip("/").rsplit("/", 1)[-1], created))
            if len(page) < 100:
                return out
            offset += len(page)
    except Exception as e:  # barbicanclient's and keystoneauth1's exceptions
        raise _problem(e, "listing secrets") from None
