"""After a module changes the fleet, ``meta: refresh_inventory`` shows the change through
craton.fleet.inventory in the same playbook; craton.fleet.inventory_info sees it at once."""

from __future__ import annotations

import module_runs as mr

SETUP = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme, vars: {role: generic}}
    - craton.fleet.group: {tenant: acme, name: web, vars: {role: web}}
    - craton.fleet.host: {tenant: acme, name: old01, groups: [web], connection: local}
"""
PLAY = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.assert:
        that: ["groups['web'] == ['old01']"]
    - name: provision a host
      craton.fleet.host:
        tenant: acme
        name: new01
        ip_address: 10.9.9.9
        groups: [web]
        vars: {motd: "hello {{ '{{' }} inventory_hostname {{ '}}' }}"}
    - name: decommission one
      craton.fleet.host: {tenant: acme, name: old01, state: absent}
    - name: the inventory of this run does not know yet
      ansible.builtin.assert:
        that: ["'new01' not in groups['all']"]
    - name: inventory_info reads the database now
      craton.fleet.inventory_info: {tenant: acme, groups: [web]}
      register: info
    - ansible.builtin.assert:
        that:
          - info.hosts | map(attribute='name') | list == ['new01']
          - info.hosts[0].vars.role == 'web'
          - info.hosts[0].vars.ansible_host == '10.9.9.9'
    - ansible.builtin.meta: refresh_inventory
    - name: after refresh_inventory the change is there
      ansible.builtin.assert:
        that:
          - groups['web'] == ['new01']
          - "'old01' not in groups['all']"
          - hostvars['new01'].role == 'web'
          - hostvars['new01'].ansible_host == '10.9.9.9'

- hosts: web
  gather_facts: false
  tasks:
    - name: a play over the new host renders its trusted template variable
      ansible.builtin.assert:
        that: ["motd == 'hello new01'"]
"""


def test_refresh_inventory_shows_module_changes(fleet_url, tmp_path):
    mr.playbook(tmp_path, fleet_url, SETUP, inventory="localhost\n", name="setup.yml")
    config = tmp_path / "fleet.craton.yml"
    config.write_text("plugin: craton.fleet.inventory\ntenant: acme\n")
    proc = mr.playbook(tmp_path, fleet_url, PLAY, "-i", str(config), inventory="localhost\n")
    assert mr.recap(proc, "new01")["ok"] == 1
