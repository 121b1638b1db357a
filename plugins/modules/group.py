#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.group: manage a group, its variables, child groups and hosts."""

from __future__ import annotations

DOCUMENTATION = r"""
module: group
short_description: Manage a group of the craton.fleet inventory, its children and hosts
version_added: 0.1.0
description:
  - Creates, renames, changes and removes a group of a tenant, with its description, variables, child groups and
    member hosts.
  - Groups form a directed acyclic graph; a child that would close a cycle is refused and the cycle is named.
  - B(Membership lists never remove anything unless you ask:) O(children_mode) and O(hosts_mode) default to V(add),
    which only adds the listed names. Use V(replace) to make the list exact, or V(remove) to take the listed names
    out.
  - The module is idempotent; it supports check mode and diff mode. One task is one database transaction.
author:
  - craton.fleet contributors (@craton-fleet)
options:
  tenant:
    description:
      - Name of the tenant the group belongs to. It must exist.
    type: str
    required: true
  name:
    description:
      - Name of the group, unique in the tenant.
    type: str
    required: true
  new_name:
    description:
      - Rename the group to this name.
      - When O(name) does not exist but O(new_name) does, the group counts as already renamed (a second run
        changes nothing); when neither exists, the group is created as O(new_name).
      - Fails if both O(name) and O(new_name) exist. Not allowed with O(state=absent).
    type: str
  description:
    description:
      - Free text describing the group. Left as it is when not given.
    type: str
  children:
    description:
      - Names of child groups, applied according to O(children_mode). Each must exist in the tenant.
      - When not given, the children are left as they are.
    type: list
    elements: str
  children_mode:
    description:
      - V(add) (the default) makes the listed groups children and keeps the other children.
      - V(replace) makes the children exactly O(children); O(children=[]) removes all children.
      - V(remove) removes the listed groups from the children.
    type: str
    choices: [add, replace, remove]
    default: add
  hosts:
    description:
      - Names of member hosts, applied according to O(hosts_mode). Each must exist in the tenant.
      - When not given, the members are left as they are.
    type: list
    elements: str
  hosts_mode:
    description:
      - V(add) (the default) makes the listed hosts members and keeps the other members.
      - V(replace) makes the members exactly O(hosts); O(hosts=[]) removes all members.
      - V(remove) removes the listed hosts from the group.
    type: str
    choices: [add, replace, remove]
    default: add
  state:
    description:
      - V(present) creates or updates the group.
      - V(absent) removes the group, its variables, memberships, child links and vars references. Its hosts and
        child groups stay.
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
  - module: craton.fleet.host
  - module: craton.fleet.vars_reference
"""

EXAMPLES = r"""
- name: Web servers, with variables
  craton.fleet.group:
    tenant: acme
    name: webservers
    vars:
      http_port: 8080

- name: Add two hosts (other members stay)
  craton.fleet.group:
    tenant: acme
    name: webservers
    hosts: [web01, web02]

- name: The members are exactly these
  craton.fleet.group:
    tenant: acme
    name: webservers
    hosts: [web01, web03]
    hosts_mode: replace

- name: A parent group
  craton.fleet.group:
    tenant: acme
    name: app
    children: [webservers, dbservers]

- name: Take a host out
  craton.fleet.group:
    tenant: acme
    name: webservers
    hosts: [web03]
    hosts_mode: remove

- name: Remove the group (hosts and child groups stay)
  craton.fleet.group:
    tenant: acme
    name: legacy
    state: absent
"""

RETURN = r"""
group:
  description: The group after the task; empty when it is absent.
  returned: always
  type: dict
  contains:
    tenant:
      description: Name of the tenant.
      type: str
      sample: acme
    name:
      description: Name of the group.
      type: str
      sample: webservers
    description:
      description: Description of the group.
      type: str
      sample: Front-end web servers
    vars:
      description: Variables of the group.
      type: dict
      sample: {"http_port": 8080}
    children:
      description: Names of the child groups, sorted.
      type: list
      elements: str
      sample: []
    hosts:
      description: Names of the member hosts, sorted.
      type: list
      elements: str
      sample: [web01, web02]
diff:
  description: With C(--diff), the changed fields before and after.
  returned: changed and diff mode
  type: dict
"""

from ansible_collections.craton.fleet.plugins.module_utils.fleet_module import (
    MODES, FleetModule, state_argument_spec, variables_argument_spec)
from ansible_collections.craton.fleet.plugins.module_utils.group_resource import GroupResource


def main():
    """Run the module."""
    spec = dict(tenant=dict(type="str", required=True), name=dict(type="str", required=True),
                new_name=dict(type="str"), description=dict(type="str"),
                children=dict(type="list", elements="str"),
                children_mode=dict(type="str", choices=MODES, default="add"),
                hosts=dict(type="list", elements="str"),
                hosts_mode=dict(type="str", choices=MODES, default="add"))
    spec.update(variables_argument_spec())
    spec.update(state_argument_spec())
    FleetModule(argument_spec=spec).run(GroupResource)


if __name__ == "__main__":
    main()
