"""craton.fleet.tenant through real playbooks: create, update, idempotent rerun, check mode, diff, rename,
absent, and bad input that writes nothing; on SQLite and MariaDB."""

from __future__ import annotations

import sqlalchemy as sa

import module_runs as mr
from ansible_collections.craton.fleet.plugins.module_utils.models import TenantVariable

LIFECYCLE = r"""
- hosts: far
  gather_facts: false
  tasks:
    - name: create
      craton.fleet.tenant: {name: acme, description: ACME, vars: {ntp: [a, b], port: 1, flag: true}}
      register: created
    - name: the same again
      craton.fleet.tenant: {name: acme, description: ACME, vars: {ntp: [a, b], port: 1, flag: true}}
      register: again
    - name: check mode update
      craton.fleet.tenant: {name: acme, vars: {port: 2}}
      check_mode: true
      diff: true
      register: checked
    - name: after check mode nothing changed, so the real update still changes
      craton.fleet.tenant: {name: acme, vars: {port: 2, flag: 1}}
      diff: true
      register: updated
    - name: replace the variables
      craton.fleet.tenant: {name: acme, vars: {ntp: [a, b], extra: x}, vars_mode: replace}
      register: replaced
    - name: remove one (and one that is not set)
      craton.fleet.tenant: {name: acme, absent_vars: [extra, never_set]}
      register: pruned
    - name: rename
      craton.fleet.tenant: {name: acme, new_name: acme2}
      register: renamed
    - name: rename again is a no-op
      craton.fleet.tenant: {name: acme, new_name: acme2}
      register: renamed_again
    - name: a second tenant
      craton.fleet.tenant: {name: gone}
    - name: absent
      craton.fleet.tenant: {name: gone, state: absent}
      diff: true
      register: removed
    - name: absent again
      craton.fleet.tenant: {name: gone, state: absent}
      register: removed_again
    - ansible.builtin.assert:
        that:
          - created is changed
          - "created.tenant == {'name': 'acme', 'description': 'ACME', 'vars': {'ntp': ['a', 'b'], 'port': 1, 'flag': true}}"
          - again is not changed
          - checked is changed
          - checked.tenant.vars.port == 2
          - "checked.diff.before == {'name': 'acme', 'vars': {'port': 1}}"
          - "checked.diff.after == {'name': 'acme', 'vars': {'port': 2}}"
          - updated is changed
          - "updated.diff.before == {'name': 'acme', 'vars': {'port': 1, 'flag': true}}"
          - "updated.diff.after == {'name': 'acme', 'vars': {'port': 2, 'flag': 1}}"
          - "replaced.tenant.vars == {'ntp': ['a', 'b'], 'extra': 'x'}"
          - "pruned.tenant.vars == {'ntp': ['a', 'b']}"
          - renamed is changed and renamed.tenant.name == 'acme2'
          - renamed_again is not changed
          - removed is changed and removed.tenant == {}
          - "removed.diff.after == {} and removed.diff.before.name == 'gone'"
          - removed_again is not changed
"""

ERRORS = r"""
- hosts: far
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: other}
    - name: invalid variable name, together with a valid one
      craton.fleet.tenant: {name: acme2, vars: {good: 1, "bad-name": 2}}
      register: bad_var
      ignore_errors: true
    - name: rename onto an existing tenant
      craton.fleet.tenant: {name: acme2, new_name: other}
      register: taken
      ignore_errors: true
    - name: new_name with state=absent
      craton.fleet.tenant: {name: acme2, new_name: x, state: absent}
      register: absent_rename
      ignore_errors: true
    - name: a variable both set and removed
      craton.fleet.tenant: {name: acme2, vars: {a: 1}, absent_vars: [a]}
      register: both
      ignore_errors: true
    - name: a name with whitespace
      craton.fleet.tenant: {name: "two words"}
      register: bad_name
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - bad_var is failed
          - bad_var.msg is search("tenant 'acme2'. invalid variable name 'bad-name'")
          - taken is failed
          - taken.msg == "cannot rename tenant 'acme2' to 'other'. tenant 'other' already exists" | replace('.', ':')
          - absent_rename is failed and absent_rename.msg is search('new_name cannot be used with state=absent')
          - both is failed and both.msg is search("variable 'a' both in vars and absent_vars")
          - bad_name is failed and bad_name.msg is search("invalid tenant name 'two words'")
"""


def test_tenant_lifecycle_and_bad_input(fleet_url, tmp_path):
    mr.playbook(tmp_path, fleet_url, LIFECYCLE)
    assert mr.rows(fleet_url, "SELECT name, description FROM tenants") == [("acme2", "ACME")]
    assert mr.rows(fleet_url, sa.select(TenantVariable.key, TenantVariable.value)) == [("ntp", ["a", "b"])]
    before = mr.snapshot(fleet_url)
    proc = mr.playbook(tmp_path, fleet_url, ERRORS)
    assert mr.recap(proc)["failed"] == 0
    after = mr.snapshot(fleet_url)
    assert after["tenant_variables"] == before["tenant_variables"], "a failed task wrote variables"
    assert sorted(r[1] for r in mr.rows(fleet_url, "SELECT id, name FROM tenants")) == ["acme2", "other"]
