# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module that takes the arguments of a bulk craton.fleet.host task and does nothing.

bench/modules_bulk.py runs it to measure what ansible-core itself spends passing
10,000 host definitions to a module (templating, serialisation, transfer,
argument validation), as the floor under the craton.fleet.host task.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: bulk_noop
short_description: Benchmark helper that accepts the arguments of a bulk host task and does nothing
description:
  - Accepts O(tenant) and O(hosts) as M(craton.fleet.host) does, validates them with the same kind of spec, and
    returns what a bulk task returns, without touching a database.
options:
  tenant:
    description: Ignored.
    type: str
  hosts:
    description: Validated, then ignored.
    type: list
    elements: dict
author:
  - craton.fleet contributors (@craton-fleet)
"""

EXAMPLES = r"""
- bulk_noop:
    tenant: bench
    hosts: "{{ lookup('ansible.builtin.file', 'hosts.json') | from_json }}"
"""

RETURN = r"""
summary:
  description: As M(craton.fleet.host), with every host counted as created.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    """Run the module."""
    element = dict(name=dict(type="str", required=True), region=dict(type="str"), ip_address=dict(type="str"),
                   port=dict(type="int"), user=dict(type="str"), connection=dict(type="str"),
                   active=dict(type="bool"), groups=dict(type="list", elements="str"), vars=dict(type="dict"))
    module = AnsibleModule(argument_spec=dict(tenant=dict(type="str"),
                                              hosts=dict(type="list", elements="dict", options=element)),
                           supports_check_mode=True)
    module.exit_json(changed=True, invocation={"module_args": {}},
                     summary={"created": [h["name"] for h in module.params["hosts"]], "updated": [],
                              "removed": [], "unchanged": 0})


if __name__ == "__main__":
    main()
