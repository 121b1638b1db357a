#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.vars_reference: point a group at a YAML file of variables."""

from __future__ import annotations

DOCUMENTATION = r"""
module: vars_reference
short_description: Manage a reference from a group to a YAML file of variables
version_added: 0.1.0
description:
  - Adds, changes and removes a vars reference of a group. A vars reference is the URL of a YAML file (a mapping of
    variable names to values) that the inventory plugin fetches and merges under the group's own variables, in
    O(order), optionally checked against a pinned O(sha256).
  - A reference is identified by its O(group) and O(url). Two references of a group cannot share an O(order).
  - The module only records the reference; it does not fetch the URL.
  - The module is idempotent; it supports check mode and diff mode. One task is one database transaction.
author:
  - craton.fleet contributors (@craton-fleet)
options:
  tenant:
    description:
      - Name of the tenant of the group. It must exist.
    type: str
    required: true
  group:
    description:
      - Name of the group. It must exist in the tenant.
    type: str
    required: true
  url:
    description:
      - The URL of the YAML file, C(file:///absolute/path), C(http://...) or C(https://...) (at most 2048 characters).
    type: str
    required: true
  sha256:
    description:
      - The sha256 digest (64 hexadecimal digits) the content must have; the inventory refuses a file that differs.
      - V("") removes the pin. Left as it is when not given.
    type: str
  order:
    description:
      - Position among the group's references; files with a higher order override those with a lower one, and the
        group's own variables override them all.
      - When not given, a new reference goes after the existing ones and an existing one keeps its position.
    type: int
  state:
    description:
      - V(present) adds or updates the reference; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - craton.fleet.database.modules
  - craton.fleet.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - module: craton.fleet.group
"""

EXAMPLES = r"""
- name: Shared web settings, pinned
  craton.fleet.vars_reference:
    tenant: acme
    group: webservers
    url: https://config.example.com/web/common.yml
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    order: 0

- name: Local overrides, after it
  craton.fleet.vars_reference:
    tenant: acme
    group: webservers
    url: file:///etc/craton/web-overrides.yml
    order: 1

- name: Drop a reference
  craton.fleet.vars_reference:
    tenant: acme
    group: webservers
    url: file:///etc/craton/web-overrides.yml
    state: absent
"""

RETURN = r"""
vars_reference:
  description: The reference after the task; empty when it is absent.
  returned: always
  type: dict
  contains:
    tenant:
      description: Name of the tenant.
      type: str
      sample: acme
    group:
      description: Name of the group.
      type: str
      sample: webservers
    url:
      description: The URL.
      type: str
      sample: https://config.example.com/web/common.yml
    sha256:
      description: The pinned digest, or null.
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    order:
      description: Position among the group's references.
      type: int
      sample: 0
diff:
  description: With C(--diff), the changed fields before and after.
  returned: changed and diff mode
  type: dict
"""

from ansible_collections.craton.fleet.plugins.module_utils.fleet_module import FleetModule, state_argument_spec
from ansible_collections.craton.fleet.plugins.module_utils.vars_reference_resource import VarsReferenceResource


def main():
    """Run the module."""
    spec = dict(tenant=dict(type="str", required=True), group=dict(type="str", required=True),
                url=dict(type="str", required=True), sha256=dict(type="str"), order=dict(type="int"))
    spec.update(state_argument_spec())
    FleetModule(argument_spec=spec).run(VarsReferenceResource)


if __name__ == "__main__":
    main()
