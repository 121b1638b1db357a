# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``Client``: the HTTP session, errors, pagination, and one manager per collection."""

from __future__ import annotations

import os

import requests

from ansible_collections.craton.fleet.client.managers import Groups, Hosts, Inventory, Regions, Tenants

DEFAULT_TIMEOUT = 60


class ClientError(Exception):
    """An error answer of the API (or no answer): ``status`` (None when the server could
    not be reached) and the server's ``message``."""

    def __init__(self, message, status=None):
        super().__init__(message if status is None else "HTTP %d: %s" % (status, message))
        self.status = status
        self.message = message


class Client:
    """A client of the craton.fleet REST API at ``url`` with an API token, or with ``auth``
    (a requests auth; ``keystone_session.keystone_client`` builds one from Keystone credentials).

    Managers: ``tenants``, ``regions``, ``hosts``, ``groups`` (list/get/create/update/
    delete, variables; secrets of hosts; children, members and vars references of
    groups) and ``inventory`` (the data for filters; archive downloads)."""

    def __init__(self, url, token=None, timeout=DEFAULT_TIMEOUT, verify=True, auth=None):
        if not url or not url.startswith(("http://", "https://")):
            raise ClientError("invalid API URL %r: use http(s)://host:port" % (url,))
        if not token and auth is None:
            raise ClientError("no API token: create one with craton token create (or use Keystone credentials: "
                              "client.keystone_session.keystone_client)")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if auth is not None:  # e.g. keystone_session.KeystoneAuth: a Keystone token per request
            self.session.auth = auth
        else:
            self.session.headers["Authorization"] = "Bearer %s" % token
        self.session.headers["User-Agent"] = "craton.fleet-client"
        self.session.verify = verify
        self.tenants = Tenants(self)
        self.regions = Regions(self)
        self.hosts = Hosts(self)
        self.groups = Groups(self)
        self.inventory = Inventory(self)

    def request(self, method, path, params=None, json=None, stream=False):
        """Send a request; the Response of a 2xx, else ClientError with the server's message."""
        url = path if path.startswith(("http://", "https://")) else self.url + path
        try:
            response = self.session.request(method, url, params=params, json=json, timeout=self.timeout,
                                            stream=stream)
        except requests.RequestException as e:
            raise ClientError("cannot reach the craton API at %s: %s" % (self.url, e)) from None
        if response.status_code >= 400:
            raise ClientError(_message(response), response.status_code)
        return response

    def call(self, method, path, params=None, json=None):
        """``request`` and decode the JSON answer (None for 204)."""
        response = self.request(method, path, params=params, json=json)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def paginate(self, path, params=None):
        """Every item of a list endpoint, following the ``next`` links."""
        data = self.call("GET", path, params=_clean(params))
        while True:
            yield from data["items"]
            if not data.get("next"):
                return
            data = self.call("GET", data["next"])

    def download(self, path, target, params=None):
        """Stream a binary answer into the file ``target`` (written in place once complete)."""
        response = self.request("GET", path, params=_clean(params), stream=True)
        partial = "%s.part" % target
        try:
            with open(partial, "wb") as f:
                for chunk in response.iter_content(64 * 1024):
                    f.write(chunk)
            os.replace(partial, target)
        except OSError as e:
            raise ClientError("cannot write %s: %s" % (target, e.strerror or e)) from None
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return target


def _message(response):
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:500] or response.reason


def _clean(params):
    """Query parameters without the None values; booleans as true/false."""
    if not params:
        return None
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
