#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.host: manage one host, or many at once."""

from __future__ import annotations

DOCUMENTATION = r"""
module: host
short_description: Manage hosts of the craton.fleet inventory, one or thousands per task
version_added: 0.1.0
description:
  - Creates, renames, changes and removes a host of a tenant, with its region, connection columns, active flag,
    group memberships and variables.
  - With O(hosts), upserts (or removes) a whole list of hosts in one transaction with a fixed number of set-based
    statements; provisioning 10,000 hosts is one task, not 10,000.
  - Options that are not given are left as they are. V("") clears O(region), O(ip_address), O(user) and
    O(connection); V(0) clears O(port).
  - Every region and group named must exist in the tenant; otherwise the task fails, naming them, and nothing is
    written.
  - The module is idempotent; it supports check mode and diff mode. One task is one database transaction.
author:
  - craton.fleet contributors (@craton-fleet)
options:
  tenant:
    description:
      - Name of the tenant of the host(s). It must exist.
    type: str
    required: true
  name:
    description:
      - Name of the host (its inventory hostname), unique in the tenant.
      - Exactly one of O(name) and O(hosts) is required.
    type: str
  new_name:
    description:
      - Rename the host to this name.
      - When O(name) does not exist but O(new_name) does, the host counts as already renamed (a second run
        changes nothing); when neither exists, the host is created as O(new_name).
      - Fails if both exist. Not allowed with O(state=absent) or O(hosts).
    type: str
  region:
    description:
      - Name of the region of the host, in the same tenant. V("") takes the host out of its region.
    type: str
  ip_address:
    description:
      - Address to connect to; becomes C(ansible_host) in the inventory.
    type: str
  port:
    description:
      - Port to connect to (1 to 65535; V(0) clears it); becomes C(ansible_port).
    type: int
  user:
    description:
      - User to connect as; becomes C(ansible_user).
    type: str
  connection:
    description:
      - Connection plugin for the host (for example V(ssh), V(local)); becomes C(ansible_connection).
    type: str
  active:
    description:
      - Whether the host is active. A new host is active unless this says otherwise.
    type: bool
  groups:
    description:
      - Names of groups of the host, applied according to O(groups_mode). Each must exist in the tenant.
      - When not given, memberships are left as they are.
    type: list
    elements: str
  groups_mode:
    description:
      - V(add) (the default) puts the host in the listed groups and keeps its other memberships.
      - V(replace) makes the host's groups exactly O(groups); O(groups=[]) takes it out of all groups.
      - V(remove) takes the host out of the listed groups.
      - With O(hosts), the default for each host definition that does not set its own.
    type: str
    choices: [add, replace, remove]
    default: add
  hosts:
    description:
      - Many hosts in one task and one transaction. Each element defines a host with the same options as a single
        host (except O(new_name)).
      - O(state), O(vars_mode) and O(groups_mode) given at the task level are the defaults of each element; the
        other single-host options (O(name), O(region), O(ip_address), O(vars), ...) cannot be combined with
        O(hosts).
      - Hosts of the tenant that are not listed are left alone.
      - For lists of thousands of hosts, read them with C(lookup('ansible.builtin.file', 'hosts.json') | from_json)
        rather than from variables files or extra vars; ansible-core 2.19 templates task arguments that come from
        variables files several times slower (see C(docs/modules.md) and C(bench/modules_bulk.py)).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the host.
        type: str
        required: true
      region:
        description: As O(region).
        type: str
      ip_address:
        description: As O(ip_address).
        type: str
      port:
        description: As O(port).
        type: int
      user:
        description: As O(user).
        type: str
      connection:
        description: As O(connection).
        type: str
      active:
        description: As O(active).
        type: bool
      groups:
        description: As O(groups).
        type: list
        elements: str
      groups_mode:
        description: As O(groups_mode); defaults to the task's O(groups_mode).
        type: str
        choices: [add, replace, remove]
      vars:
        description: As O(vars).
        type: dict
      vars_mode:
        description: As O(vars_mode); defaults to the task's O(vars_mode).
        type: str
        choices: [merge, replace]
      absent_vars:
        description: As O(absent_vars).
        type: list
        elements: str
      state:
        description: As O(state); defaults to the task's O(state).
        type: str
        choices: [present, absent]
  state:
    description:
      - V(present) creates or updates the host(s).
      - V(absent) removes the host(s) with their variables, memberships and secrets.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - craton.fleet.database.modules
  - craton.fleet.variables
  - craton.fleet.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - module: craton.fleet.group
  - module: craton.fleet.secret
"""

EXAMPLES = r"""
- name: A web server
  craton.fleet.host:
    tenant: acme
    name: web01
    region: us-east
    ip_address: 10.1.0.11
    user: deploy
    groups: [webservers]
    vars:
      http_port: 8080

- name: Set one variable from a play over the fleet (runs on the controller, no delegate_to needed)
  craton.fleet.host:
    tenant: acme
    name: "{{ inventory_hostname }}"
    vars:
      kernel: "{{ ansible_facts.kernel }}"

- name: Decommission
  craton.fleet.host:
    tenant: acme
    name: web09
    state: absent

- name: Provision a rack in one task and one transaction
  craton.fleet.host:
    tenant: acme
    groups_mode: replace
    hosts: "{{ rack_hosts }}"  # [{name: r1-01, region: us-east, ip_address: ..., groups: [rack1], vars: {...}}, ...]
"""

RETURN = r"""
host:
  description: The host after the task (single host); empty when it is absent.
  returned: when O(name) is used
  type: dict
  contains:
    tenant:
      description: Name of the tenant.
      type: str
      sample: acme
    name:
      description: Name of the host.
      type: str
      sample: web01
    region:
      description: Name of its region, or null.
      type: str
      sample: us-east
    ip_address:
      description: Its address, or null.
      type: str
      sample: 10.1.0.11
    port:
      description: Its port, or null.
      type: int
      sample: 22
    user:
      description: Its remote user, or null.
      type: str
      sample: deploy
    connection:
      description: Its connection plugin, or null.
      type: str
      sample: ssh
    active:
      description: Whether it is active.
      type: bool
      sample: true
    groups:
      description: Names of its groups, sorted.
      type: list
      elements: str
      sample: [webservers]
    vars:
      description: Its variables.
      type: dict
      sample: {"http_port": 8080}
summary:
  description: What a bulk task (O(hosts)) did.
  returned: when O(hosts) is used
  type: dict
  contains:
    created:
      description: Names of the hosts created.
      type: list
      elements: str
      sample: [web10, web11]
    updated:
      description: Names of the hosts changed.
      type: list
      elements: str
      sample: [web01]
    removed:
      description: Names of the hosts removed.
      type: list
      elements: str
      sample: []
    unchanged:
      description: Number of listed hosts that needed no change.
      type: int
      sample: 9997
diff:
  description: With C(--diff), the changed fields before and after; a list with one entry per changed host for
    O(hosts).
  returned: changed and diff mode
  type: raw
"""

from ansible_collections.craton.fleet.plugins.module_utils.fleet_module import (
    MODES, FleetModule, state_argument_spec, variables_argument_spec)
from ansible_collections.craton.fleet.plugins.module_utils.host_resource import HostResource


def host_options():
    """The options that define one host (the single-host options and each element of hosts)."""
    return dict(region=dict(type="str"), ip_address=dict(type="str"), port=dict(type="int"),
                user=dict(type="str"), connection=dict(type="str"), active=dict(type="bool"),
                groups=dict(type="list", elements="str"))


def main():
    """Run the module."""
    element = dict(host_options(), name=dict(type="str", required=True),
                   groups_mode=dict(type="str", choices=MODES), vars=dict(type="dict"),
                   vars_mode=dict(type="str", choices=["merge", "replace"]),
                   absent_vars=dict(type="list", elements="str", no_log=False),
                   state=dict(type="str", choices=["present", "absent"]))
    spec = dict(host_options(), tenant=dict(type="str", required=True), name=dict(type="str"),
                new_name=dict(type="str"), groups_mode=dict(type="str", choices=MODES, default="add"),
                hosts=dict(type="list", elements="dict", options=element))
    spec.update(variables_argument_spec())
    spec.update(state_argument_spec())
    FleetModule(argument_spec=spec, mutually_exclusive=[("name", "hosts")],
                required_one_of=[("name", "hosts")]).run(HostResource)


if __name__ == "__main__":
    main()
