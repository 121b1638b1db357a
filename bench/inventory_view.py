# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Ansible must end up with for the generated fleet (fleet_generator.py).

This is the content the floor plugin and the static YAML file hand to Ansible,
computed from the fleet itself (not from the craton plugin's output), following
the rules that craton.fleet.inventory documents for tenant and region groups.
The benchmark checks that ``ansible-inventory --list`` of the floor equals the
craton plugin's: if the rules here and in the plugin drift apart, it says so.
"""

from __future__ import annotations

import re

import fleet_generator as fg

# --- the plugin's documented conventions (plugins/inventory/inventory.py) ---------
# The tenant becomes group tenant_<name>, each region group region_<name> (characters
# other than ASCII letters, digits and _ become _); both are children of all with
# ansible_group_priority -2 and -1; every host is a member of both. Well-known host
# columns become their Ansible variables (ip_address -> ansible_host).
# Trust: the plugin marks every string of a trusted variable trusted for templating,
# and a well-known column's string when it holds no template syntax. Every variable
# of the generated fleet is written trusted and no address holds template syntax,
# so every string Ansible gets is trusted - as in a static YAML inventory. The floor
# plugin marks them (bench/floor_plugins/inventory/craton_floor.py).

TENANT_PRIORITY = -2
REGION_PRIORITY = -1
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def tenant_group(tenant):
    return _UNSAFE.sub("_", "tenant_" + tenant)


def region_group(region):
    return _UNSAFE.sub("_", "region_" + region)


class InventoryView:
    """Groups (name, vars) in creation order, (parent, child) edges, and hosts
    (name, vars, [group names]) for one fleet shape. Values are plain data."""

    def __init__(self, shape):
        self.shape = shape
        grps = fg.groups(shape)
        self._group_names = [name for name, _l, _p in grps]
        self._leaves = fg.leaf_indexes(shape)
        tenant = tenant_group(shape.tenant)
        regions = [region_group(fg.region_name(r)) for r in range(shape.regions)]
        self.groups = [(tenant, dict(fg.tenant_vars(shape), ansible_group_priority=TENANT_PRIORITY))]
        self.groups += [(name, dict(fg.region_vars(r), ansible_group_priority=REGION_PRIORITY))
                        for r, name in enumerate(regions)]
        self.groups += [(name, fg.group_vars(g, name, level)) for g, (name, level, _p) in enumerate(grps)]
        self.children = [("all", tenant)] + [("all", name) for name in regions]
        self.children += [(self._group_names[p], name) for name, _l, p in grps if p is not None]

    def hosts(self):
        shape, names, leaves = self.shape, self._group_names, self._leaves
        tenant = tenant_group(shape.tenant)
        for i in range(shape.hosts):
            variables = fg.host_vars(i)
            variables["ansible_host"] = fg.host_ip(i)
            member_of = [tenant, region_group(fg.region_name(fg.host_region(shape, i)))]
            member_of += [names[leaves[leaf]] for leaf in fg.host_leaf_groups(i, leaves)]
            yield fg.host_name(i), variables, member_of
