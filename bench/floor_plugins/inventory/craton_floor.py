# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floor of the inventory-load benchmark (bench/inventory_load.py).

Not part of the collection: loaded from bench/floor_plugins/inventory through
ANSIBLE_INVENTORY_PLUGINS. It reads a pickle made by the benchmark from the
same generated fleet (what craton.fleet.inventory must hand to Ansible) and
does nothing but the Ansible calls: add_group, set_variable, add_child,
add_host. Every string is marked trusted for templating, as the craton plugin
marks the strings of trusted variables, by Ansible itself while it copies each
value in (``trusted_by_default``), which is the cheapest way there is. Its own
cost (unpickling plain data) is a small fraction of the run; what is left is
what Ansible itself spends on the content, the floor that any inventory plugin
pays.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: craton_floor
short_description: benchmark floor, feeds Ansible a precomputed inventory
description:
  - Reads a pickle written by bench/inventory_load.py and only calls add_group, add_host,
    set_variable and add_child. For benchmarking; not shipped in the collection.
options:
  plugin:
    description: Marks this as a craton_floor config file.
    required: true
    choices: [craton_floor]
  dump:
    description: Path of the pickle written by the benchmark.
    required: true
    type: path
  trust_strings:
    description:
      - Have Ansible mark every string trusted as a template while it copies the values in
        (the plugin attribute C(trusted_by_default)), as a static YAML inventory's strings are.
      - Off, the values are handed over exactly as pickled.
    type: bool
    default: true
"""

import pickle

from ansible.plugins.inventory import BaseInventoryPlugin


class InventoryModule(BaseInventoryPlugin):
    """Feed Ansible the dumped inventory, nothing else."""

    NAME = "craton_floor"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("floor.yml", "floor.yaml"))

    def parse(self, inventory, loader, path, cache=False):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        # Sampled by Ansible at the first set_variable: its own copy of each value
        # (which it makes anyway) then tags every string trusted, at no extra pass.
        self.trusted_by_default = self.get_option("trust_strings")
        with open(self.get_option("dump"), "rb") as f:
            dump = pickle.load(f)
        inv = self.inventory
        add_group, add_host, add_child, set_variable = (
            inv.add_group, inv.add_host, inv.add_child, inv.set_variable)
        for name, variables in dump["groups"]:
            add_group(name)
            for key, value in variables.items():
                set_variable(name, key, value)
        for parent, child in dump["children"]:
            add_child(parent, child)
        for name, variables, member_of in dump["hosts"]:
            add_host(name)
            for key, value in variables.items():
                set_variable(name, key, value)
            for group in member_of:
                add_child(group, name)
