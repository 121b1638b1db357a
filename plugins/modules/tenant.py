#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.tenant: manage a tenant of the fleet."""

from __future__ import annotations

DOCUMENTATION = r"""
module: tenant
short_description: Manage a tenant of the craton.fleet inventory
version_added: 0.1.0
description:
  - Creates, renames, changes and removes a tenant in the craton.fleet database, with its description and
    variables.
  - A tenant is the top of the inventory, a customer's slice of the fleet. Its variables have the lowest
    precedence; in the inventory the tenant is also a group.
  - The module is idempotent; it supports check mode and diff mode. One task is one database transaction.
author:
  - craton.fleet contributors (@craton-fleet)
options:
  name:
    description:
      - Name of the tenant.
    type: str
    required: true
  new_name:
    description:
      - Rename the tenant to this name.
      - When O(name) does not exist but O(new_name) does, the tenant counts as already renamed (a second run
        changes nothing); when neither exists, the tenant is created as O(new_name).
      - Fails if both O(name) and O(new_name) exist. Not allowed with O(state=absent).
    type: str
  description:
    description:
      - Free text describing the tenant. Left as it is when not given.
    type: str
  state:
    description:
      - V(present) creates or updates the tenant.
      - V(absent) removes it B(with everything it owns) (regions, hosts, groups, variables, secrets).
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
  - module: craton.fleet.region
  - module: craton.fleet.inventory_info
"""

EXAMPLES = r"""
- name: A tenant with tenant-wide variables
  craton.fleet.tenant:
    name: acme
    description: ACME Corp.
    vars:
      ntp_servers: [0.pool.ntp.org, 1.pool.ntp.org]
      dns_domain: acme.example

- name: Rename it (a second run reports no change)
  craton.fleet.tenant:
    name: acme
    new_name: acme-corp

- name: Make the variables exactly these (others are removed)
  craton.fleet.tenant:
    name: acme-corp
    vars:
      dns_domain: acme.example
    vars_mode: replace

- name: Remove one variable
  craton.fleet.tenant:
    name: acme-corp
    absent_vars: [dns_domain]

- name: Remove the tenant and everything it owns
  craton.fleet.tenant:
    name: old-customer
    state: absent
"""

RETURN = r"""
tenant:
  description: The tenant after the task; empty when it is absent.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the tenant.
      type: str
      sample: acme
    description:
      description: Description of the tenant.
      type: str
      sample: ACME Corp.
    vars:
      description: Variables of the tenant.
      type: dict
      sample: {"dns_domain": "acme.example"}
diff:
  description: With C(--diff), the changed fields before and after.
  returned: changed and diff mode
  type: dict
"""

from ansible_collections.craton.fleet.plugins.module_utils.fleet_module import (
    FleetModule, state_argument_spec, variables_argument_spec)
from ansible_collections.craton.fleet.plugins.module_utils.resources import TenantResource


def main():
    """Run the module."""
    spec = dict(name=dict(type="str", required=True), new_name=dict(type="str"), description=dict(type="str"))
    spec.update(variables_argument_spec())
    spec.update(state_argument_spec())
    FleetModule(argument_spec=spec).run(TenantResource)


if __name__ == "__main__":
    main()
