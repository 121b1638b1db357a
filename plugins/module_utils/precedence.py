# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How fleet data becomes Ansible groups, and which value of a variable wins.

Tenants and regions become Ansible groups so that their variables follow
Ansible's own precedence. The rule (docs/precedence.md):

* the tenant group is called ``tenant_<name>`` and each region group
  ``region_<name>`` (the prefixes are options of the inventory plugin); every
  character of the name other than ASCII letters, digits and ``_`` becomes ``_``;
* both are children of ``all`` (depth 1), like top-level user groups, and get
  ``ansible_group_priority`` -2 (tenant) and -1 (region); user groups keep
  Ansible's default priority 1 unless they set ``ansible_group_priority``;
* Ansible merges a host's group variables in the order (depth, priority, name),
  later wins, then the host's own variables. So: tenant < region < top-level
  user groups < their children < grandchildren ... < host;
* inside one group, its vars references (in position order) come first and the
  group's own variables override them;
* on the host, the well-known columns (``ip_address`` -> ``ansible_host`` ...)
  override host variables of the same name, and the variables made from secrets
  (``ansible_ssh_private_key_file``, ``craton_secret_files``) override both.

Merging is Ansible's default (``hash_behaviour = replace``): a key set at a
higher level replaces the whole value of the lower level.

:func:`explain_host` applies the same rule to one host and reports where each
effective value came from and what it overrides (``craton explain``).
"""

from __future__ import annotations

import re

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY

if HAS_SQLALCHEMY:
    from ansible_collections.craton.fleet.plugins.module_utils.models import WELL_KNOWN
else:  # pragma: no cover
    WELL_KNOWN = {}

TENANT_PREFIX = "tenant_"
REGION_PREFIX = "region_"
TENANT_PRIORITY = -2
REGION_PRIORITY = -1
SECRET_FILES_VAR = "craton_secret_files"
SSH_KEY_VAR = "ansible_ssh_private_key_file"
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def group_name(prefix, name):
    """The Ansible group name of a tenant or region: prefix + name, unsafe chars -> ``_``."""
    return _UNSAFE.sub("_", prefix + name)


def name_groups(inventory, tenant_prefix=TENANT_PREFIX, region_prefix=REGION_PREFIX):
    """Add ``group`` (the Ansible group name) to each tenant and region of ``inventory``.

    Raises CratonError when two of them, or one and a user group, get the same name."""
    taken = {g["name"]: "group %r" % g["name"] for g in inventory["groups"]}
    for kind, prefix, entries in (("tenant", tenant_prefix, inventory["tenants"]),
                                  ("region", region_prefix, inventory["regions"])):
        for entry in entries:
            name = group_name(prefix, entry["name"])
            what = "%s %r" % (kind, entry["name"])
            if name in taken:
                raise CratonError(
                    "%s becomes the Ansible group %r, which is already %s: rename one, or change "
                    "the inventory option %s_group_prefix" % (what, name, taken[name], kind))
            taken[name] = "the group of " + what
            entry["group"] = name
    return inventory


def group_depths(groups):
    """{group name: Ansible depth} for user groups: 1 + the longest path from a top-level group."""
    parents = {}
    for group in groups:
        for child in group["children"]:
            parents.setdefault(child, []).append(group["name"])
    depths = {}

    def depth(name, trail=()):
        if name in depths:
            return depths[name]
        if name in trail:
            raise CratonError("group cycle: %s" % " -> ".join(trail + (name,)))
        value = 1 + max((depth(p, trail + (name,)) for p in parents.get(name, ())), default=0)
        depths[name] = value
        return value

    for group in groups:
        depth(group["name"])
    return depths


def merged_group_vars(group):
    """A group's variables as Ansible sees them: references first, own variables over them.

    Returns (vars, set of untrusted keys)."""
    if not group.get("resolved_references"):
        return group["vars"], set(group["untrusted"])
    merged, untrusted = {}, set()
    for ref in group.get("resolved_references", ()):
        for key, value in ref["vars"].items():
            merged[key] = value
            if ref.get("trusted"):
                untrusted.discard(key)
            else:
                untrusted.add(key)
    own_untrusted = set(group["untrusted"])
    for key, value in group["vars"].items():
        merged[key] = value
        if key in own_untrusted:
            untrusted.add(key)
        else:
            untrusted.discard(key)
    return merged, untrusted


def host_layer(host, secret_vars=None):
    """A host's own variables, then the well-known columns, then the secret variables.

    Returns a list of (origin, variables, untrusted keys)."""
    layers = [("host variable", host["vars"], set(host["untrusted"]))]
    columns = {ansible: column for column, ansible in WELL_KNOWN.items()}
    for key, value in host["well_known"].items():
        layers.append(("host column %s" % columns.get(key, key), {key: value}, {key}))
    if secret_vars:
        for key, value in secret_vars.items():
            layers.append(("host secrets" if key == SECRET_FILES_VAR else "host secret", {key: value}, {key}))
    return layers


def host_layers(inventory, host, secret_vars=None):
    """Every layer of variables that applies to ``host``, lowest precedence first.

    Each layer is a dict: ``origin`` (e.g. ``tenant acme``, ``group web``),
    ``group`` (the Ansible group or None), ``vars``, ``untrusted``. A group with
    vars references gives one layer per reference (in position order) before
    its own variables."""
    groups = {g["name"]: g for g in inventory["groups"]}
    parents = {}
    for g in inventory["groups"]:
        for child in g["children"]:
            parents.setdefault(child, []).append(g["name"])
    mine, stack = set(), list(host["groups"])
    while stack:
        name = stack.pop()
        if name not in mine:
            mine.add(name)
            stack.extend(parents.get(name, ()))
    depths = group_depths(inventory["groups"])
    ordered = []
    for tenant in inventory["tenants"]:
        if tenant["name"] == host["tenant"]:
            ordered.append((1, TENANT_PRIORITY, tenant.get("group", ""), "tenant %s (group %s)" % (tenant["name"], tenant.get("group")), tenant))
    for region in inventory["regions"]:
        if region["name"] == host["region"] and region.get("tenant", host["tenant"]) == host["tenant"]:
            ordered.append((1, REGION_PRIORITY, region.get("group", ""), "region %s (group %s)" % (region["name"], region.get("group")), region))
    for name in mine:
        ordered.append((depths[name], groups[name]["priority"], name, "group %s" % name, groups[name]))
    ordered.sort(key=lambda item: item[:3])
    layers = []
    for _depth, _priority, gname, origin, entry in ordered:
        for ref in entry.get("resolved_references", ()):
            layers.append({"origin": "%s (vars reference %s)" % (origin, ref["url"]), "group": gname,
                           "vars": ref["vars"], "untrusted": set() if ref.get("trusted") else set(ref["vars"])})
        layers.append({"origin": origin, "group": gname, "vars": entry["vars"],
                       "untrusted": set(entry["untrusted"])})
    for origin, variables, untrusted in host_layer(host, secret_vars):
        layers.append({"origin": origin, "group": None, "vars": variables, "untrusted": untrusted})
    return layers


def explain_host(inventory, host, secret_vars=None):
    """Effective variables of ``host`` with their origin and what they override.

    Returns {key: {"value", "origin", "trusted", "overrides": [{"value", "origin"}]}}
    where ``overrides`` lists the lower-precedence values, highest first."""
    result = {}
    for layer in host_layers(inventory, host, secret_vars):
        for key, value in layer["vars"].items():
            if key == "ansible_group_priority" and layer["group"]:
                continue  # Ansible takes it as the group's priority, not as a variable
            origin = layer["origin"]
            entry = {"value": value, "origin": origin, "trusted": key not in layer["untrusted"],
                     "overrides": []}
            previous = result.get(key)
            if previous is not None:
                entry["overrides"] = [{"value": previous["value"], "origin": previous["origin"]}] \
                    + previous["overrides"]
            result[key] = entry
    return dict(sorted(result.items()))
