# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floor of the inventory-load benchmark (bench/inventory_load.py).

Not part of the collection: loaded from bench/floor_plugins/inventory through
ANSIBLE_INVENTORY_PLUGINS. It reads a pickle made by the benchmark from the
same generated fleet (what craton.fleet.inventory must hand to Ansible) and
does nothing but the Ansible calls: add_group, set_variable, add_child,
add_host. Its own cost (unpickling plain data) is a small fraction of the run;
what is left is what Ansible itself spends on the content, the floor that any
inventory plugin pays.

Every string is handed over trusted for templating, as the craton plugin does
for trusted variables (and as a static YAML inventory's strings are). Of the
ways to do that, the cheapest measured one is used: tag each string with one
shared TrustedAsTemplate tag mapping (tag mappings are immutable). It relies on
ansible-core internals, so it is verified at import; when it does not verify,
the floor falls back to ``trusted_by_default`` (Ansible tags every string while
it copies the value in), which costs the same for ``--graph`` at 100,000 hosts
and about 7% more CPU for ``--list``.

Python's cyclic garbage collector is suspended while the floor feeds Ansible
(loading makes millions of objects and no cycles, and the collector would walk
the growing heap again and again): a plugin may do that, and craton.fleet's
does, so the floor must too or it would not be the floor.
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
    description: Hand every string over trusted for templating. Off, the values go in as pickled.
    type: bool
    default: true
  collect_garbage:
    description: Leave Python's cyclic garbage collector on while loading (off by default, see above).
    type: bool
    default: false
"""

import gc
import pickle

from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.template import is_trusted_as_template, trust_as_template


def _shared_tagger():
    """A function equal to trust_as_template for plain strings, sharing one tag mapping; or None."""
    try:
        sample = trust_as_template("floor")
        tagged_type, mapping = type(sample), sample._ansible_tags_mapping  # pylint: disable=protected-access

        def trust(value):
            tagged = tagged_type(value)
            tagged._ansible_tags_mapping = mapping  # pylint: disable=protected-access
            return tagged

        probe = trust("{{ probe }}")
        if probe == "{{ probe }}" and is_trusted_as_template(probe) and type(probe) is type(sample):
            return trust
    except Exception:  # pylint: disable=broad-except
        pass
    return None


_TRUST = _shared_tagger()


def _trusted(value):
    kind = type(value)
    if kind is str:
        return _TRUST(value)
    if kind is dict:
        return {k: _trusted(v) for k, v in value.items()}
    if kind is list:
        return [_trusted(v) for v in value]
    return value


def _as_is(value):
    return value


class InventoryModule(BaseInventoryPlugin):
    """Feed Ansible the dumped inventory, nothing else."""

    NAME = "craton_floor"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("floor.yml", "floor.yaml"))

    def parse(self, inventory, loader, path, cache=False):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        convert = _as_is
        if self.get_option("trust_strings"):
            if _TRUST is not None:
                convert = _trusted
            else:
                # Sampled by Ansible at the first set_variable.
                self.trusted_by_default = True
        collecting = gc.isenabled()
        if not self.get_option("collect_garbage"):
            gc.disable()
        try:
            self._feed(convert)
        finally:
            if collecting:
                gc.enable()

    def _feed(self, convert):
        with open(self.get_option("dump"), "rb") as f:
            dump = pickle.load(f)
        inv = self.inventory
        add_group, add_host, add_child, set_variable = (
            inv.add_group, inv.add_host, inv.add_child, inv.set_variable)
        for name, variables in dump["groups"]:
            add_group(name)
            for key, value in variables.items():
                set_variable(name, key, convert(value))
        for parent, child in dump["children"]:
            add_child(parent, child)
        for name, variables, member_of in dump["hosts"]:
            add_host(name)
            for key, value in variables.items():
                set_variable(name, key, convert(value))
            for group in member_of:
                add_child(group, name)
