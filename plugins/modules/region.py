#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.region: manage a region of a tenant."""

from __future__ import annotations

DOCUMENTATION = r"""
module: region
short_description: Manage a region of a craton.fleet tenant
version_added: 0.1.0
description:
  - Creates, renames, changes and removes a region of a tenant, with its description and variables.
  - Hosts live in regions (M(craton.fleet.host) O(craton.fleet.host#module:region)). Region variables override
    tenant variables and are overridden by group and host variables; in the inventory the region is also a group.
  - The module is idempotent; it supports check mode and diff mode. One task is one database transaction.
author:
  - craton.fleet contributors (@craton-fleet)
options:
  tenant:
    description:
      - Name of the tenant the region belongs to. It must exist.
    type: str
    required: true
  name:
    description:
      - Name of the region, unique in the tenant.
    type: str
    required: true
  new_name:
    description:
      - Rename the region to this name.
      - When O(name) does not exist but O(new_name) does, the region counts as already renamed (a second run
        changes nothing); when neither exists, the region is created as O(new_name).
      - Fails if both O(name) and O(new_name) exist. Not allowed with O(state=absent).
    type: str
  description:
    description:
      - Free text describing the region. Left as it is when not given.
    type: str
  state:
    description:
      - V(present) creates or updates the region.
      - V(absent) removes it and its variables; its hosts stay, without a region.
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
  - module: craton.fleet.tenant
  - module: craton.fleet.host
"""

EXAMPLES = r"""
- name: A region with its own DNS servers
  craton.fleet.region:
    tenant: acme
    name: us-east
    description: Virginia
    vars:
      dns_servers: [10.1.0.2, 10.1.0.3]

- name: Rename it
  craton.fleet.region:
    tenant: acme
    name: us-east
    new_name: us-east-1

- name: Remove it (its hosts stay, without a region)
  craton.fleet.region:
    tenant: acme
    name: us-west
    state: absent
"""

RETURN = r"""
region:
  description: The region after the task; empty when it is absent.
  returned: always
  type: dict
  contains:
    tenant:
      description: Name of the tenant.
      type: str
      sample: acme
    name:
      description: Name of the region.
      type: str
      sample: us-east
    description:
      description: Description of the region.
      type: str
      sample: Virginia
    vars:
      description: Variables of the region.
      type: dict
      sample: {"dns_servers": ["10.1.0.2", "10.1.0.3"]}
diff:
  description: With C(--diff), the changed fields before and after.
  returned: changed and diff mode
  type: dict
"""

from ansible_collections.craton.fleet.plugins.module_utils.fleet_module import (
    FleetModule, state_argument_spec, variables_argument_spec)
from ansible_collections.craton.fleet.plugins.module_utils.resources import RegionResource


def main():
    """Run the module."""
    spec = dict(tenant=dict(type="str", required=True), name=dict(type="str", required=True),
                new_name=dict(type="str"), description=dict(type="str"))
    spec.update(variables_argument_spec())
    spec.update(state_argument_spec())
    FleetModule(argument_spec=spec).run(RegionResource)


if __name__ == "__main__":
    main()
