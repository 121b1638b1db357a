"""craton.fleet.region through real playbooks: create, update, idempotent rerun, check mode, diff, rename,
absent (hosts stay, without region), and bad input that writes nothing; on SQLite and MariaDB."""

from __future__ import annotations

import module_runs as mr

PLAY = r"""
- hosts: far
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme}
    - name: create
      craton.fleet.region: {tenant: acme, name: east, description: Virginia, vars: {dns: [10.0.0.2]}}
      register: created
    - name: the same again
      craton.fleet.region: {tenant: acme, name: east, description: Virginia, vars: {dns: [10.0.0.2]}}
      register: again
    - name: check mode
      craton.fleet.region: {tenant: acme, name: east, description: N. Virginia}
      check_mode: true
      diff: true
      register: checked
    - name: update
      craton.fleet.region: {tenant: acme, name: east, description: N. Virginia, vars: {ntp: x}}
      diff: true
      register: updated
    - name: rename
      craton.fleet.region: {tenant: acme, name: east, new_name: us-east}
      register: renamed
    - name: rename again
      craton.fleet.region: {tenant: acme, name: east, new_name: us-east}
      register: renamed_again
    - name: a host in it
      craton.fleet.host: {tenant: acme, name: h1, region: us-east}
    - name: absent
      craton.fleet.region: {tenant: acme, name: us-east, state: absent}
      register: removed
    - name: absent again
      craton.fleet.region: {tenant: acme, name: us-east, state: absent}
      register: removed_again
    - name: the host stays, without region
      craton.fleet.host: {tenant: acme, name: h1}
      register: host
    - name: unknown tenant
      craton.fleet.region: {tenant: nope, name: east}
      register: e_tenant
      ignore_errors: true
    - name: invalid variable name
      craton.fleet.region: {tenant: acme, name: west, vars: {ok: 1, "a.b": 2}}
      register: e_var
      ignore_errors: true
    - name: the region of a failed task was not created
      craton.fleet.region: {tenant: acme, name: west, state: absent}
      register: west_absent
    - ansible.builtin.assert:
        that:
          - created is changed
          - "created.region == {'tenant': 'acme', 'name': 'east', 'description': 'Virginia', 'vars': {'dns': ['10.0.0.2']}}"
          - again is not changed
          - checked is changed
          - "checked.diff.before == {'tenant': 'acme', 'name': 'east', 'description': 'Virginia'}"
          - "checked.diff.after == {'tenant': 'acme', 'name': 'east', 'description': 'N. Virginia'}"
          - updated is changed
          - "updated.diff.after == {'tenant': 'acme', 'name': 'east', 'description': 'N. Virginia', 'vars': {'ntp': 'x'}}"
          - renamed is changed and renamed.region.name == 'us-east'
          - renamed_again is not changed
          - removed is changed and removed.region == {}
          - removed_again is not changed
          - host is not changed and host.host.region == none
          - e_tenant is failed and e_tenant.msg == "tenant 'nope' does not exist"
          - e_var is failed and e_var.msg is search("region 'west' of tenant 'acme'. invalid variable name 'a.b'")
          - west_absent is not changed
"""


def test_region_lifecycle_and_bad_input(fleet_url, tmp_path):
    mr.playbook(tmp_path, fleet_url, PLAY)
    assert mr.rows(fleet_url, "SELECT COUNT(*) FROM regions") == [(0,)]
    assert mr.rows(fleet_url, "SELECT name, region_id FROM hosts") == [("h1", None)]
