# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton explain HOST``: every effective variable of a host and where it came from.

It reads the host through the same query as the inventory plugin
(``inventory_query.load_inventory``) and applies the same precedence
(``precedence.explain_host``): tenant < region < user groups (by depth, then
priority, then name) < host variables < well-known columns < secret files.
"""

from __future__ import annotations

import json
import sys

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import load_inventory
from ansible_collections.craton.fleet.plugins.module_utils.precedence import (
    REGION_PREFIX, TENANT_PREFIX, explain_host, name_groups)
from ansible_collections.craton.fleet.plugins.module_utils.secret_files import secret_placeholders
from ansible_collections.craton.fleet.plugins.module_utils.vars_references import (
    DEFAULT_TIMEOUT, ReferenceFetcher, resolve_references)


def _tenant_of(session, host, tenant):
    """The tenant to load: the given one, else the only tenant that has the host."""
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import Host, Tenant

    if tenant:
        return tenant
    tenants = session.scalars(sa.select(Tenant.name).join(Host, Host.tenant_id == Tenant.id)
                              .where(Host.name == host).order_by(Tenant.name)).all()
    if not tenants:
        raise NotFound("host %r does not exist" % host)
    if len(tenants) > 1:
        raise CratonError("host %r exists in tenants %s: choose one with --tenant"
                          % (host, ", ".join(map(repr, tenants))))
    return tenants[0]


def explain(url, host, tenant=None, timeout=DEFAULT_TIMEOUT, tenant_prefix=TENANT_PREFIX,
            region_prefix=REGION_PREFIX):
    """(host entry, {key: explanation}, warnings) for ``host``."""
    with db.transaction(url) as session:
        tenant = _tenant_of(session, host, tenant)
        inventory = load_inventory(session, {"tenant": tenant, "hosts": [host], "active_only": False},
                                   strict=True, with_secrets=True)
    entry = next((h for h in inventory["hosts"] if h["name"] == host), None)
    if entry is None:
        raise NotFound("host %r does not exist in tenant %r" % (host, tenant))
    warnings = resolve_references(inventory, ReferenceFetcher(timeout), on_error="warn")
    name_groups(inventory, tenant_prefix, region_prefix)
    return entry, explain_host(inventory, entry, secret_placeholders(entry)), warnings


def _has_template(value):
    text = _show(value)
    return "{{" in text or "{%" in text or "{#" in text


def _show(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def render_text(entry, variables):
    """The human-readable explanation."""
    lines = ["host %s (tenant %s, region %s; groups: %s)" % (
        entry["name"], entry["tenant"], entry["region"] or "none", ", ".join(sorted(entry["groups"])) or "none")]
    width = max((len(k) for k in variables), default=0)
    for key, info in variables.items():
        note = "" if info["trusted"] or not _has_template(info["value"]) else "  (untrusted: never rendered as a template)"
        lines.append("%s = %s    <- %s%s" % (key.ljust(width), _show(info["value"]), info["origin"], note))
        for overridden in info["overrides"]:
            lines.append("%s   overrides %s from %s" % (" " * width, _show(overridden["value"]), overridden["origin"]))
    return "\n".join(lines) + "\n"


def _cmd_explain(args):
    entry, variables, warnings = explain(args.database_url, args.host, args.tenant, args.timeout)
    for warning in warnings:
        sys.stderr.write("craton: warning: %s\n" % warning)
    if args.json:
        payload = {"host": entry["name"], "tenant": entry["tenant"], "region": entry["region"],
                   "groups": sorted(entry["groups"]), "variables": variables}
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(render_text(entry, variables))
    return 0


def register(subparsers, common):
    """Add ``craton explain``."""
    parser = subparsers.add_parser(
        "explain", parents=[common], help="show a host's effective variables and where each comes from",
        description="Show every effective variable of HOST as the craton.fleet.inventory plugin gives it to "
                    "Ansible: its value, where it comes from (tenant, region, group, vars reference, host) "
                    "and the values it overrides. Inventory sources other than the fleet database "
                    "(group_vars/ directories next to a playbook, extra vars) are not included.")
    parser.add_argument("host", metavar="HOST", help="the inventory hostname")
    parser.add_argument("--tenant", help="the tenant of the host (needed when several tenants have one of that name)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="timeout in seconds for fetching http(s) vars references (default: %(default)s)")
    parser.set_defaults(func=_cmd_explain)
