# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What craton.fleet.inventory_info returns: the inventory for the filters, as data.

It reads through the one inventory query (``inventory_query.load_inventory``,
the same code path and filters as the inventory plugin and ``craton.yml``),
resolves vars references like the plugin, and computes each host's effective
variables with the plugin's precedence (``precedence.explain_host``). Secrets
are not read: the secret-file variables of the plugin are not part of the
effective variables.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import load_inventory
from ansible_collections.craton.fleet.plugins.module_utils.precedence import (
    explain_host, merged_group_vars, name_groups)
from ansible_collections.craton.fleet.plugins.module_utils.vars_references import (
    ReferenceFetcher, resolve_references)

FILTERS = ("tenant", "regions", "groups", "hosts", "host_vars", "active_only", "reachable")


def inventory_report(params, warn):
    """``{"hosts": [...], "groups": [...]}`` for the module's parameters; ``warn(message)`` for warnings."""
    filters = dict((key, params.get(key)) for key in FILTERS if params.get(key) is not None)
    with db.transaction(params.get("database_url")) as session:
        inventory = load_inventory(session, filters, strict=True)
    warnings = list(inventory.get("warnings", ()))
    if params.get("vars_references", True):
        warnings += resolve_references(inventory, ReferenceFetcher(params.get("vars_references_timeout") or 10.0),
                                       on_error=params.get("vars_references_on_error") or "error")
    else:
        for group in inventory["groups"]:
            group["resolved_references"] = []
    name_groups(inventory)
    hosts = []
    for host in sorted(inventory["hosts"], key=lambda h: (h["tenant"], h["name"])):
        effective = explain_host(inventory, host)
        hosts.append({"name": host["name"], "tenant": host["tenant"], "region": host["region"],
                      "groups": sorted(host["groups"]),
                      "vars": dict((key, info["value"]) for key, info in effective.items())})
    groups = []
    for group in sorted(inventory["groups"], key=lambda g: (g["tenant"], g["name"])):
        groups.append({"name": group["name"], "tenant": group["tenant"], "children": sorted(group["children"]),
                       "hosts": sorted(group["hosts"]), "vars": merged_group_vars(group)[0]})
    for warning in warnings:
        warn(warning)
    return {"changed": False, "hosts": hosts, "groups": groups}
