#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.inventory_info: read the fleet as the inventory plugin sees it."""

from __future__ import annotations

DOCUMENTATION = r"""
module: inventory_info
short_description: Read hosts, groups and effective variables of the craton.fleet inventory
version_added: 0.1.0
description:
  - Returns the hosts and groups that the inventory plugin (P(craton.fleet.inventory#inventory)) would load for the
    same filters, and each host's effective variables after precedence (tenant < region < groups by depth and
    priority < host variables < well-known host columns), read through the same query.
  - Useful inside a play to look at the fleet as it is in the database now, for example right after a task changed
    it, without C(meta) C(refresh_inventory).
  - Vars references are fetched and merged as the plugin does. Secrets are not read, so the secret-file variables
    of the plugin (C(craton_secret_files), C(ansible_ssh_private_key_file)) are not among the effective variables.
  - A tenant, region or group named in a filter that does not exist fails the task, naming it.
author:
  - craton.fleet contributors (@craton-fleet)
options:
  tenant:
    description: Only this tenant. When unset, every tenant (host and group names must then be unique across them).
    type: str
  regions:
    description: Only the hosts of these regions.
    type: list
    elements: str
  groups:
    description: Only the hosts in these groups or in any of their descendant groups.
    type: list
    elements: str
  hosts:
    description: Only hosts whose name is in this list; an entry may be a shell-style pattern (C(web*)).
    type: list
    elements: str
  host_vars:
    description:
      - Only hosts whose own host variables match, given as a mapping of variable name to the accepted value or
        list of accepted values.
    type: dict
  active_only:
    description: Only hosts marked active.
    type: bool
    default: true
  reachable:
    description:
      - V(true) leaves out hosts whose last status is C(unreachable); V(false) keeps only them; unset does not
        filter.
    type: bool
  vars_references:
    description: Fetch vars references and merge them into the variables. V(false) ignores them.
    type: bool
    default: true
  vars_references_on_error:
    description: What a vars reference that cannot be fetched or parsed does; V(error) fails, V(warn) warns and skips.
    type: str
    choices: [error, warn]
    default: error
  vars_references_timeout:
    description: Timeout in seconds of each http(s) request for a vars reference.
    type: float
    default: 10.0
extends_documentation_fragment:
  - craton.fleet.database.modules
  - craton.fleet.attributes.info_module
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - plugin: craton.fleet.inventory
    plugin_type: inventory
"""

EXAMPLES = r"""
- name: The web servers of acme, with their effective variables
  craton.fleet.inventory_info:
    tenant: acme
    groups: [webservers]
  register: fleet

- name: Every host of a region
  ansible.builtin.debug:
    msg: "{{ fleet.hosts | map(attribute='name') | list }}"

- name: The effective http_port of web01
  ansible.builtin.debug:
    msg: "{{ (fleet.hosts | selectattr('name', 'equalto', 'web01') | first).vars.http_port }}"
"""

RETURN = r"""
hosts:
  description: The selected hosts, sorted by tenant and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Inventory hostname.
      type: str
      sample: web01
    tenant:
      description: Its tenant.
      type: str
      sample: acme
    region:
      description: Its region, or null.
      type: str
      sample: us-east
    groups:
      description: The user groups it is a direct member of.
      type: list
      elements: str
      sample: [webservers]
    vars:
      description: Its effective variables, after precedence.
      type: dict
      sample: {"ansible_host": "10.1.0.11", "http_port": 8080}
groups:
  description: The user groups of the loaded tenants, sorted by tenant and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Group name.
      type: str
      sample: webservers
    tenant:
      description: Its tenant.
      type: str
      sample: acme
    children:
      description: Its child groups.
      type: list
      elements: str
      sample: []
    hosts:
      description: Its selected member hosts.
      type: list
      elements: str
      sample: [web01, web02]
    vars:
      description: Its variables (vars references merged under its own).
      type: dict
      sample: {"http_port": 8080}
"""

from ansible_collections.craton.fleet.plugins.module_utils.fleet_module import FleetModule
from ansible_collections.craton.fleet.plugins.module_utils.inventory_report import inventory_report


def main():
    """Run the module."""
    spec = dict(tenant=dict(type="str"), regions=dict(type="list", elements="str"),
                groups=dict(type="list", elements="str"), hosts=dict(type="list", elements="str"),
                host_vars=dict(type="dict"), active_only=dict(type="bool", default=True),
                reachable=dict(type="bool"), vars_references=dict(type="bool", default=True),
                vars_references_on_error=dict(type="str", choices=["error", "warn"], default="error"),
                vars_references_timeout=dict(type="float", default=10.0))
    FleetModule(argument_spec=spec).run_function(inventory_report)


if __name__ == "__main__":
    main()
