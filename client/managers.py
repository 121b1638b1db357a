# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One manager per collection of the API (used through ``Client``)."""

from __future__ import annotations

import json as _json


class _Manager:
    path = ""

    def __init__(self, client):
        self.client = client

    def list(self, **filters):
        """Every item, as a generator that follows the pagination (``limit`` sets the page size)."""
        return self.client.paginate(self.path, filters)

    def get(self, object_id):
        """One item by id."""
        return self.client.call("GET", "%s/%d" % (self.path, object_id))

    def create(self, **fields):
        """Create an item; returns it."""
        return self.client.call("POST", self.path, json=fields)

    def update(self, object_id, **fields):
        """Change the given fields (None clears a clearable field); returns the item."""
        return self.client.call("PATCH", "%s/%d" % (self.path, object_id), json=fields)

    def delete(self, object_id):
        """Delete an item."""
        self.client.call("DELETE", "%s/%d" % (self.path, object_id))

    def variables(self, object_id):
        """The variables of one item."""
        return Variables(self.client, "%s/%d/variables" % (self.path, object_id))


class Variables:
    """The own variables of a tenant, region, group or host."""

    def __init__(self, client, path):
        self.client, self.path = client, path

    def get(self):
        """``{"variables": {...}, "untrusted": [keys]}``."""
        return self.client.call("GET", self.path)

    def replace(self, variables):
        """Replace all variables with ``variables``."""
        return self.client.call("PUT", self.path, json=variables)

    def merge(self, variables):
        """Merge ``variables`` into the existing ones."""
        return self.client.call("PATCH", self.path, json=variables)

    def delete(self, *keys):
        """Remove the listed keys."""
        return self.client.call("DELETE", self.path, params={"key": list(keys)})


class Tenants(_Manager):
    """/v1/tenants"""

    path = "/v1/tenants"


class Regions(_Manager):
    """/v1/regions; one region is addressed under its tenant: (tenant_id, region_id)."""

    path = "/v1/regions"

    def list(self, tenant_id=None, **filters):
        """Every visible region; with ``tenant_id`` the seed's GET /v1/regions/{tenant_id}."""
        if tenant_id is not None:
            return self.client.paginate("%s/%d" % (self.path, tenant_id), filters)
        return self.client.paginate(self.path, filters)

    def get(self, tenant_id, region_id):  # pylint: disable=arguments-differ
        return self.client.call("GET", "%s/%d/%d" % (self.path, tenant_id, region_id))

    def update(self, tenant_id, region_id, **fields):  # pylint: disable=arguments-differ
        return self.client.call("PATCH", "%s/%d/%d" % (self.path, tenant_id, region_id), json=fields)

    def delete(self, tenant_id, region_id):  # pylint: disable=arguments-differ
        self.client.call("DELETE", "%s/%d/%d" % (self.path, tenant_id, region_id))

    def variables(self, tenant_id, region_id):  # pylint: disable=arguments-differ
        return Variables(self.client, "%s/%d/%d/variables" % (self.path, tenant_id, region_id))


class Hosts(_Manager):
    """/v1/hosts"""

    path = "/v1/hosts"

    def secrets(self, host_id):
        """The write-only secrets of a host."""
        return Secrets(self.client, "%s/%d/secrets" % (self.path, host_id))


class Secrets:
    """Secrets of one host: names and kinds can be read, values only written."""

    def __init__(self, client, path):
        self.client, self.path = client, path

    def list(self):
        """The secrets (no values)."""
        return self.client.call("GET", self.path)

    def get(self, name):
        """One secret (no value)."""
        return self.client.call("GET", "%s/%s" % (self.path, name))

    def put(self, name, kind, data):
        """Store or replace a secret."""
        return self.client.call("PUT", "%s/%s" % (self.path, name), json={"kind": kind, "data": data})

    def delete(self, name):
        """Delete a secret."""
        self.client.call("DELETE", "%s/%s" % (self.path, name))


class _Edges:
    def __init__(self, client, path):
        self.client, self.path = client, path

    def list(self):
        """``[{"id", "name"}]``."""
        return self.client.call("GET", self.path)

    def add(self, object_id):
        """Add a member by id."""
        self.client.call("PUT", "%s/%d" % (self.path, object_id))

    def remove(self, object_id):
        """Remove a member by id."""
        self.client.call("DELETE", "%s/%d" % (self.path, object_id))


class References:
    """Vars references of one group."""

    def __init__(self, client, path):
        self.client, self.path = client, path

    def list(self):
        """The references, in order."""
        return self.client.call("GET", self.path)

    def create(self, url, sha256=None, order=None):
        """Add a reference."""
        return self.client.call("POST", self.path, json={"url": url, "sha256": sha256, "order": order})

    def get(self, ref_id):
        """One reference."""
        return self.client.call("GET", "%s/%d" % (self.path, ref_id))

    def update(self, ref_id, **fields):
        """Re-pin (sha256) or re-order (order)."""
        return self.client.call("PATCH", "%s/%d" % (self.path, ref_id), json=fields)

    def delete(self, ref_id):
        """Remove a reference."""
        self.client.call("DELETE", "%s/%d" % (self.path, ref_id))


class Groups(_Manager):
    """/v1/groups"""

    path = "/v1/groups"

    def children(self, group_id):
        """The child groups of a group (list/add/remove by id)."""
        return _Edges(self.client, "%s/%d/children" % (self.path, group_id))

    def members(self, group_id):
        """The member hosts of a group (list/add/remove by id)."""
        return _Edges(self.client, "%s/%d/hosts" % (self.path, group_id))

    def vars_references(self, group_id):
        """The vars references of a group."""
        return References(self.client, "%s/%d/vars_references" % (self.path, group_id))


def inventory_params(group=None, host=None, host_vars=None, **others):
    """Query parameters of the inventory endpoints from plugin-style filters."""
    params = dict(others)
    params["group"] = list(group) if group else None
    params["host"] = list(host) if host else None
    if host_vars:
        params["var"] = ["%s=%s" % (key, _json.dumps(value)) for key, values in host_vars.items()
                         for value in (values if isinstance(values, (list, tuple)) else [values])]
    return params


class Inventory:
    """/v1/inventory: the inventory data for filters, and region archives."""

    def __init__(self, client):
        self.client = client

    def data(self, tenant=None, regions=None, groups=None, hosts=None, host_vars=None, active_only=True,
             reachable=None, strict=False, secrets=False):
        """``load_inventory``'s data for plugin-style filters (secret values with ``secrets``)."""
        params = inventory_params(groups, hosts, host_vars, tenant=tenant, active_only=active_only,
                                  reachable=reachable, strict=strict, secrets=secrets)
        params["region"] = list(regions) if regions else None
        from ansible_collections.craton.fleet.client.client import _clean
        return self.client.call("GET", "/v1/inventory", params=_clean(params))

    def download(self, region_id, path, fmt="tgz", per_host=False, groups=None, hosts=None, host_vars=None,
                 secrets=True):
        """Write the region's archive (tgz or zip) to ``path``; returns ``path``."""
        if fmt not in ("tgz", "zip"):
            raise ValueError("fmt must be tgz or zip, not %r" % (fmt,))
        params = inventory_params(groups, hosts, host_vars, per_host=per_host, secrets=secrets)
        return self.client.download("/v1/inventory/%d.%s" % (region_id, fmt), path, params)
