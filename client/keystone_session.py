# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keystone credentials for the client: a keystoneauth1 session whose token goes with every request.

Where the credentials come from, first match wins:

1. explicit arguments (``auth_url`` + ``username``/``password``/``project_name``, or
   ``auth_url`` + ``application_credential_id``/``application_credential_secret``);
2. ``cloud`` (or ``$OS_CLOUD``): that entry of ``clouds.yaml``, looked up where
   OpenStack's tools look: ``$OS_CLIENT_CONFIG_FILE``, ``./clouds.yaml``,
   ``~/.config/openstack/clouds.yaml``, ``/etc/openstack/clouds.yaml`` (its ``auth``,
   ``auth_type``, ``cacert`` and ``verify``; ``secure.yaml`` and vendor profiles are
   not read);
3. the ``OS_*`` variables of an openrc file (``OS_AUTH_URL``, ``OS_USERNAME``,
   ``OS_PASSWORD``, ``OS_PROJECT_NAME``, ``OS_USER_DOMAIN_NAME``,
   ``OS_PROJECT_DOMAIN_NAME``, ``OS_APPLICATION_CREDENTIAL_ID``/``_SECRET``).

The token is asked of the session for each request, so keystoneauth1 renews it
before it expires. Used by ``Client(url, auth=keystone_session(...))`` and by the
inventory plugin's ``api_url`` mode.
"""

from __future__ import annotations

import os

import requests
import yaml

from ansible_collections.craton.fleet.client.client import ClientError

CLOUDS_YAML_PATHS = ("clouds.yaml", "~/.config/openstack/clouds.yaml", "/etc/openstack/clouds.yaml")


def _require_keystoneauth():
    try:
        import keystoneauth1  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        raise ClientError("Keystone credentials need the Python package keystoneauth1 "
                          "(pip install keystoneauth1)") from None


def clouds_yaml(cloud):
    """(path, entry) of ``cloud`` in the first clouds.yaml that has it."""
    paths = [os.environ["OS_CLIENT_CONFIG_FILE"]] if os.environ.get("OS_CLIENT_CONFIG_FILE") else []
    paths += [os.path.expanduser(p) for p in CLOUDS_YAML_PATHS]
    looked = []
    for path in paths:
        try:
            with open(path) as f:
                data = yaml.safe_load(f) or {}
        except FileNotFoundError:
            looked.append(path)
            continue
        except (OSError, yaml.YAMLError) as e:
            raise ClientError("cannot read %s: %s" % (path, str(e).splitlines()[0])) from None
        clouds = data.get("clouds") if isinstance(data, dict) else None
        if isinstance(clouds, dict) and cloud in clouds:
            entry = clouds[cloud]
            if not isinstance(entry, dict) or not isinstance(entry.get("auth"), dict):
                raise ClientError("cloud %r in %s has no auth mapping" % (cloud, path))
            return path, entry
        looked.append(path)
    raise ClientError("cloud %r is not in any clouds.yaml (looked in %s)" % (cloud, ", ".join(looked)))


def _auth_from_cloud(cloud):
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import loading

    path, entry = clouds_yaml(cloud)
    auth = dict(entry["auth"])
    auth_type = entry.get("auth_type") or ("v3applicationcredential" if auth.get("application_credential_id")
                                           else "password")
    try:
        plugin = loading.get_plugin_loader(auth_type).load_from_options(**auth)
    except ks_exc.NoMatchingPlugin:
        raise ClientError("cloud %r in %s: unknown auth_type %r" % (cloud, path, auth_type)) from None
    except ks_exc.MissingRequiredOptions as e:
        raise ClientError("cloud %r in %s: auth lacks %s" % (
            cloud, path, ", ".join(o.dest for o in e.options))) from None
    verify = entry.get("cacert") or entry.get("verify", True)
    return plugin, verify, "cloud %r of %s" % (cloud, path)


def keystone_session(auth_url=None, username=None, password=None, project_name=None,
                     user_domain_name=None, project_domain_name=None, application_credential_id=None,
                     application_credential_secret=None, cloud=None, verify=True, timeout=None):
    """A keystoneauth1 Session from these credentials, ``clouds.yaml`` or ``OS_*`` (see the module)."""
    _require_keystoneauth()
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    env = os.environ
    if not auth_url and (cloud or env.get("OS_CLOUD")):
        plugin, cloud_verify, source = _auth_from_cloud(cloud or env["OS_CLOUD"])
        verify = cloud_verify if verify is True else verify
    else:
        auth_url = auth_url or env.get("OS_AUTH_URL")
        if not auth_url:
            raise ClientError("no Keystone credentials: give auth_url (or OS_AUTH_URL), or a cloud of clouds.yaml "
                              "(OS_CLOUD)")
        application_credential_id = application_credential_id or env.get("OS_APPLICATION_CREDENTIAL_ID")
        if application_credential_id:
            secret = application_credential_secret or env.get("OS_APPLICATION_CREDENTIAL_SECRET")
            if not secret:
                raise ClientError("Keystone application credential %s has no secret (OS_APPLICATION_CREDENTIAL_"
                                  "SECRET)" % application_credential_id)
            plugin = v3.ApplicationCredential(auth_url=auth_url, application_credential_id=application_credential_id,
                                              application_credential_secret=secret)
            source = "application credential %s" % application_credential_id
        else:
            username = username or env.get("OS_USERNAME")
            password = password or env.get("OS_PASSWORD")
            project_name = project_name or env.get("OS_PROJECT_NAME")
            missing = [n for n, v in (("username", username), ("password", password),
                                      ("project_name", project_name)) if not v]
            if missing:
                raise ClientError("Keystone credentials at %s lack %s (or OS_%s)"
                                  % (auth_url, ", ".join(missing), "/OS_".join(m.upper() for m in missing)))
            plugin = v3.Password(auth_url=auth_url, username=username, password=password, project_name=project_name,
                                 user_domain_name=user_domain_name or env.get("OS_USER_DOMAIN_NAME") or "Default",
                                 project_domain_name=project_domain_name or env.get("OS_PROJECT_DOMAIN_NAME")
                                 or "Default")
            source = "user %s of project %s" % (username, project_name)
    ks = session.Session(auth=plugin, verify=verify, timeout=timeout, app_name="craton.fleet-client")
    ks.craton_source = source
    return ks


class KeystoneAuth(requests.auth.AuthBase):
    """requests auth: ``X-Auth-Token`` from a keystoneauth1 session (renewed before it expires)."""

    def __init__(self, ks_session):
        self.session = ks_session

    def token(self):
        """The session's current token, or a ClientError naming Keystone and what to check."""
        from keystoneauth1 import exceptions as ks_exc

        source = getattr(self.session, "craton_source", "the Keystone credentials")
        auth_url = getattr(self.session.auth, "auth_url", "?")
        try:
            token = self.session.get_token()
        except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.DiscoveryFailure):
            raise ClientError("cannot reach Keystone at %s (check OS_AUTH_URL / clouds.yaml auth_url)"
                              % auth_url) from None
        except ks_exc.Unauthorized:
            raise ClientError("Keystone at %s refused %s: check the credentials" % (auth_url, source)) from None
        except ks_exc.ClientException as e:
            raise ClientError("Keystone at %s: %s" % (auth_url, str(e).splitlines()[0] if str(e) else e)) from None
        if not token:
            raise ClientError("Keystone at %s gave no token for %s" % (auth_url, source))
        return token

    def __call__(self, request):
        request.headers["X-Auth-Token"] = self.token()
        request.headers.pop("Authorization", None)
        return request


def keystone_client(url, timeout=None, verify=True, **credentials):
    """A ``Client`` of the API at ``url`` that authenticates with Keystone (``credentials``: see
    :func:`keystone_session`)."""
    from ansible_collections.craton.fleet.client.client import DEFAULT_TIMEOUT, Client

    timeout = timeout or DEFAULT_TIMEOUT
    ks = keystone_session(verify=verify, timeout=timeout, **credentials)
    return Client(url, auth=KeystoneAuth(ks), timeout=timeout, verify=verify)
