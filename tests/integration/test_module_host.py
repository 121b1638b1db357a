"""craton.fleet.host through real playbooks: one host and bulk ``hosts:``; create, update, idempotent rerun,
check mode, diff, groups modes, rename, absent, and bad input that writes nothing; on SQLite and MariaDB."""

from __future__ import annotations

import module_runs as mr

SETUP = r"""
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.region: {tenant: acme, name: east}
    - craton.fleet.region: {tenant: acme, name: west}
    - craton.fleet.group: {tenant: acme, name: web}
    - craton.fleet.group: {tenant: acme, name: db}
    - craton.fleet.group: {tenant: acme, name: app}
"""

SINGLE = r"""
- hosts: far
  gather_facts: false
  tasks:
""" + SETUP + r"""
    - name: create
      craton.fleet.host:
        tenant: acme
        name: web01
        region: east
        ip_address: 10.0.0.1
        port: 22
        user: deploy
        connection: ssh
        groups: [web]
        vars: {http_port: 8080, tags: [a, b]}
      diff: true
      register: created
    - name: the same again
      craton.fleet.host: {tenant: acme, name: web01, region: east, ip_address: 10.0.0.1, port: 22, groups: [web],
                          vars: {http_port: 8080}}
      register: again
    - name: check mode change of every kind
      craton.fleet.host: {tenant: acme, name: web01, region: west, port: 2222, active: false, groups: [db],
                          groups_mode: replace, vars: {http_port: 80}}
      check_mode: true
      diff: true
      register: checked
    - name: the real change sees the old state (check mode wrote nothing)
      craton.fleet.host: {tenant: acme, name: web01, region: west, port: 2222, active: false, groups: [db],
                          groups_mode: replace, vars: {http_port: 80}}
      diff: true
      register: updated
    - name: add a group (the default mode keeps the others)
      craton.fleet.host: {tenant: acme, name: web01, groups: [app, web]}
      register: added
    - name: remove a group
      craton.fleet.host: {tenant: acme, name: web01, groups: [db], groups_mode: remove}
      register: removed_group
    - name: clear columns and the region
      craton.fleet.host: {tenant: acme, name: web01, region: "", ip_address: "", port: 0, user: ""}
      register: cleared
    - name: rename
      craton.fleet.host: {tenant: acme, name: web01, new_name: web-01}
      register: renamed
    - name: rename again is a no-op
      craton.fleet.host: {tenant: acme, name: web01, new_name: web-01}
      register: renamed_again
    - name: a host to remove
      craton.fleet.host: {tenant: acme, name: tmp01, groups: [web], vars: {x: 1}}
    - name: remove it
      craton.fleet.host: {tenant: acme, name: tmp01, state: absent}
      diff: true
      register: removed
    - name: remove it again
      craton.fleet.host: {tenant: acme, name: tmp01, state: absent}
      register: removed_again
    - ansible.builtin.assert:
        that:
          - created is changed
          - "created.host == {'tenant': 'acme', 'name': 'web01', 'region': 'east', 'ip_address': '10.0.0.1',
             'port': 22, 'user': 'deploy', 'connection': 'ssh', 'active': true, 'groups': ['web'],
             'vars': {'http_port': 8080, 'tags': ['a', 'b']}}"
          - created.diff.before == {}
          - created.diff.after.name == 'web01'
          - again is not changed
          - checked is changed
          - "checked.diff.before == {'tenant': 'acme', 'name': 'web01', 'region': 'east', 'port': 22,
             'active': true, 'groups': ['web'], 'vars': {'http_port': 8080}}"
          - "checked.diff.after == {'tenant': 'acme', 'name': 'web01', 'region': 'west', 'port': 2222,
             'active': false, 'groups': ['db'], 'vars': {'http_port': 80}}"
          - updated is changed
          - updated.diff == checked.diff
          - added.host.groups == ['app', 'db', 'web']
          - removed_group.host.groups == ['app', 'web']
          - "[cleared.host.region, cleared.host.ip_address, cleared.host.port, cleared.host.user] == [none, none, none, none]"
          - cleared.host.connection == 'ssh'
          - renamed is changed and renamed.host.name == 'web-01'
          - renamed_again is not changed
          - removed is changed and removed.host == {} and removed.diff.before.name == 'tmp01'
          - removed_again is not changed
"""

BULK = r"""
- hosts: far
  gather_facts: false
  tasks:
    - name: three hosts in one task
      craton.fleet.host:
        tenant: acme
        hosts:
          - {name: n1, region: east, ip_address: 10.1.0.1, groups: [web], vars: {rack: 1, role: web}}
          - {name: n2, region: east, ip_address: 10.1.0.2, groups: [web, db], vars: {rack: 1}}
          - {name: n3, region: west, groups: [db], vars: {rack: 2}}
      register: bulk
    - name: the same again
      craton.fleet.host:
        tenant: acme
        hosts:
          - {name: n1, region: east, ip_address: 10.1.0.1, groups: [web], vars: {rack: 1, role: web}}
          - {name: n2, region: east, ip_address: 10.1.0.2, groups: [web, db], vars: {rack: 1}}
          - {name: n3, region: west, groups: [db], vars: {rack: 2}}
      register: bulk_again
    - name: check mode - change one, remove one, add one
      craton.fleet.host:
        tenant: acme
        groups_mode: replace
        hosts:
          - {name: n1, vars: {rack: 3}, absent_vars: [role], groups: [db]}
          - {name: n2, state: absent}
          - {name: n4, region: west, groups: [web]}
          - {name: n3}
      check_mode: true
      diff: true
      register: bulk_checked
    - name: the real thing
      craton.fleet.host:
        tenant: acme
        groups_mode: replace
        hosts:
          - {name: n1, vars: {rack: 3}, absent_vars: [role], groups: [db]}
          - {name: n2, state: absent}
          - {name: n4, region: west, groups: [web]}
          - {name: n3}
      register: bulk_changed
    - ansible.builtin.assert:
        that:
          - bulk is changed
          - "bulk.summary == {'created': ['n1', 'n2', 'n3'], 'updated': [], 'removed': [], 'unchanged': 0}"
          - bulk_again is not changed
          - bulk_again.summary.unchanged == 3
          - bulk_checked is changed
          - "bulk_checked.summary == {'created': ['n4'], 'updated': ['n1'], 'removed': ['n2'], 'unchanged': 1}"
          - bulk_checked.diff | length == 3
          - "bulk_checked.diff[0].before == {'tenant': 'acme', 'name': 'n1', 'groups': ['web'], 'vars': {'rack': 1, 'role': 'web'}}"
          - "bulk_checked.diff[0].after == {'tenant': 'acme', 'name': 'n1', 'groups': ['db'], 'vars': {'rack': 3}}"
          - bulk_changed.summary == bulk_checked.summary
"""

ERRORS = r"""
- hosts: far
  gather_facts: false
  tasks:
    - name: unknown tenant
      craton.fleet.host: {tenant: nope, name: e1}
      register: e_tenant
      ignore_errors: true
    - name: unknown region
      craton.fleet.host: {tenant: acme, name: e1, region: north}
      register: e_region
      ignore_errors: true
    - name: unknown groups
      craton.fleet.host: {tenant: acme, name: e1, groups: [web, nope1, nope2]}
      register: e_group
      ignore_errors: true
    - name: invalid variable name
      craton.fleet.host: {tenant: acme, name: e1, vars: {"1st": x}}
      register: e_var
      ignore_errors: true
    - name: invalid port
      craton.fleet.host: {tenant: acme, name: e1, port: 70000}
      register: e_port
      ignore_errors: true
    - name: rename onto an existing host
      craton.fleet.host: {tenant: acme, name: n1, new_name: n3}
      register: e_rename
      ignore_errors: true
    - name: a bulk whose last host is bad writes none of them
      craton.fleet.host:
        tenant: acme
        hosts:
          - {name: b1, groups: [web], vars: {a: 1}}
          - {name: n1, vars: {changed: true}}
          - {name: b3, groups: [nope]}
      register: e_bulk
      ignore_errors: true
    - name: a bulk with a bad variable name
      craton.fleet.host:
        tenant: acme
        hosts:
          - {name: b1}
          - {name: b2, vars: {"not valid": 1}}
      register: e_bulk_var
      ignore_errors: true
    - name: the same host twice
      craton.fleet.host:
        tenant: acme
        hosts: [{name: b1}, {name: b1}]
      register: e_twice
      ignore_errors: true
    - name: single-host options with hosts
      craton.fleet.host: {tenant: acme, region: east, hosts: [{name: b1}]}
      register: e_mixed
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - e_tenant is failed and e_tenant.msg == "tenant 'nope' does not exist"
          - e_region is failed and e_region.msg is search("host 'e1' of tenant 'acme'. region 'north' does not exist")
          - e_group is failed and e_group.msg is search("group 'nope1', group 'nope2' do not exist")
          - e_var is failed and e_var.msg is search("host 'e1' of tenant 'acme'. invalid variable name '1st'")
          - e_port is failed and e_port.msg is search("invalid port 70000")
          - e_rename is failed and e_rename.msg is search("cannot rename host 'n1' of tenant 'acme' to 'n3'")
          - e_bulk is failed and e_bulk.msg is search("group 'nope' does not exist")
          - e_bulk_var is failed and e_bulk_var.msg is search("host 'b2' of tenant 'acme'. invalid variable name 'not valid'")
          - e_twice is failed and e_twice.msg is search("host 'b1' is listed twice")
          - e_mixed is failed and e_mixed.msg is search("region cannot be combined with hosts")
"""


def test_one_host_lifecycle(fleet_url, tmp_path):
    mr.playbook(tmp_path, fleet_url, SINGLE)
    assert mr.rows(fleet_url, "SELECT name, region_id, ip_address, port, active FROM hosts") \
        == [("web-01", None, None, None, False)]


def test_bulk_hosts_and_bad_input_writes_nothing(fleet_url, tmp_path):
    mr.playbook(tmp_path, fleet_url, "- hosts: far\n  gather_facts: false\n  tasks:\n" + SETUP)
    mr.playbook(tmp_path, fleet_url, BULK)
    assert sorted(r[0] for r in mr.rows(fleet_url, "SELECT name FROM hosts")) == ["n1", "n3", "n4"]
    before = mr.snapshot(fleet_url)
    proc = mr.playbook(tmp_path, fleet_url, ERRORS)
    assert mr.recap(proc)["ignored"] == 10
    assert mr.snapshot(fleet_url) == before, "a failed task wrote something"
