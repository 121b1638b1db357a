"""craton.fleet.inventory_info through a real playbook: the filters of craton.yml, effective variables after
precedence, unchanged in check mode, and unknown names in filters failing with a message naming them."""

from __future__ import annotations

import module_runs as mr

PLAY = r"""
- hosts: far
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme, vars: {level: tenant, from_tenant: 1}}
    - craton.fleet.region: {tenant: acme, name: east, vars: {level: region}}
    - craton.fleet.group: {tenant: acme, name: "{{ item }}"}
      loop: [app, web, db]
    - craton.fleet.group: {tenant: acme, name: app, children: [web, db], vars: {level: app}}
    - craton.fleet.group: {tenant: acme, name: web, vars: {level: web}}
    - craton.fleet.host:
        tenant: acme
        hosts:
          - {name: web01, region: east, ip_address: 10.0.0.1, groups: [web], vars: {tier: gold}}
          - {name: web02, groups: [web], vars: {tier: silver, level: host}}
          - {name: db01, region: east, groups: [db], active: false}
    - name: everything active
      craton.fleet.inventory_info: {tenant: acme}
      register: all_active
    - name: the descendants of app, inactive too, in check mode
      craton.fleet.inventory_info: {tenant: acme, groups: [app], active_only: false}
      check_mode: true
      register: app
    - name: a region
      craton.fleet.inventory_info: {tenant: acme, regions: [east], active_only: false}
      register: east
    - name: a name pattern and a host variable
      craton.fleet.inventory_info: {tenant: acme, hosts: ["web*"], host_vars: {tier: [gold, platinum]}}
      register: gold
    - name: an unknown group
      craton.fleet.inventory_info: {tenant: acme, groups: [nope]}
      register: e_group
      ignore_errors: true
    - name: an unknown region
      craton.fleet.inventory_info: {tenant: acme, regions: [north]}
      register: e_region
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - all_active is not changed
          - all_active.hosts | map(attribute='name') | list == ['web01', 'web02']
          - "(all_active.hosts | first).vars == {'level': 'web', 'from_tenant': 1, 'tier': 'gold', 'ansible_host': '10.0.0.1'}"
          - (all_active.hosts | last).vars.level == 'host'
          - "all_active.groups | map(attribute='name') | list == ['app', 'db', 'web']"
          - "(all_active.groups | first).children == ['db', 'web']"
          - app is not changed
          - app.hosts | map(attribute='name') | sort == ['db01', 'web01', 'web02']
          - "(app.hosts | selectattr('name', 'equalto', 'db01') | first).vars.level == 'app'"
          - east.hosts | map(attribute='name') | sort == ['db01', 'web01']
          - gold.hosts | map(attribute='name') | list == ['web01']
          - e_group is failed and e_group.msg is search("group 'nope'")
          - e_region is failed and e_region.msg is search("region 'north'")
"""


def test_inventory_info_filters_and_precedence(fleet_url, tmp_path):
    mr.playbook(tmp_path, fleet_url, PLAY)
    before = mr.snapshot(fleet_url)
    mr.playbook(tmp_path, fleet_url, "- hosts: far\n  gather_facts: false\n  tasks:\n"
                "    - craton.fleet.inventory_info: {tenant: acme, active_only: false}\n", name="read.yml")
    assert mr.snapshot(fleet_url) == before, "inventory_info wrote to the database"
