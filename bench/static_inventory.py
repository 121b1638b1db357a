# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renderings of the inventory view (inventory_view.py) for the benchmark:
the floor plugin's pickle and one static YAML inventory file."""

from __future__ import annotations

import pickle

import yaml


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Safe dumper without anchors/aliases (every value written out in full)."""

    def ignore_aliases(self, data):
        return True


def write_floor_dump(view, path):
    """The pickle read by bench/floor_plugins/inventory/craton_floor.py: plain
    values; the floor plugin has Ansible mark the strings trusted."""
    dump = {"groups": list(view.groups), "children": list(view.children), "hosts": list(view.hosts())}
    with open(path, "wb") as f:
        pickle.dump(dump, f, protocol=pickle.HIGHEST_PROTOCOL)


def write_static_yaml(view, path):
    """One YAML inventory file with the same groups, children, hosts and variables.

    Groups without parents are top-level keys; every other group is defined
    (vars, hosts, children) under its first parent and named with an empty
    mapping under its other parents, so no group becomes a child of ``all``
    that is not one in the plugin's inventory. A host's variables are written
    at its first membership; further memberships name it with null."""
    groups = {name: {"vars": dict(variables)} if variables else {} for name, variables in view.groups}
    first_parent = {}
    kids = {name: [] for name in groups}
    for parent, child in view.children:
        if parent == "all":
            continue  # a group without parents is a top-level key: a child of all
        kids[parent].append(child)
        first_parent.setdefault(child, parent)
    for name, variables, member_of in view.hosts():
        for n, group in enumerate(member_of):
            groups[group].setdefault("hosts", {})[name] = variables if n == 0 and variables else None

    def render(name):
        node = groups[name]
        if kids[name]:
            node["children"] = {child: render(child) if first_parent[child] == name else {}
                                for child in kids[name]}
        return node or None

    document = {name: render(name) for name, _v in view.groups if name not in first_parent}
    with open(path, "w", encoding="utf-8") as f:
        yaml.dump(document, f, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=1000)
