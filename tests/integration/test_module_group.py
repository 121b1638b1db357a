"""craton.fleet.group through real playbooks: variables, children and hosts with add/replace/remove, cycles
refused and named, rename, absent, check mode, diff, idempotency; on SQLite and MariaDB."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401  pylint: disable=unused-import

import module_runs as mr
from ansible_collections.craton.fleet.plugins.module_utils.models import Group, GroupChild

PLAY = r"""
- hosts: far
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.host:
        tenant: acme
        hosts: [{name: h1}, {name: h2}, {name: h3}]
    - name: create with variables and hosts
      craton.fleet.group: {tenant: acme, name: web, description: front, vars: {http_port: 80}, hosts: [h1, h2]}
      diff: true
      register: created
    - name: the same again
      craton.fleet.group: {tenant: acme, name: web, description: front, vars: {http_port: 80}, hosts: [h2, h1]}
      register: again
    - name: children must exist first
      craton.fleet.group: {tenant: acme, name: "{{ item }}"}
      loop: [app, leaf, other]
    - name: add a host (the default mode keeps the others)
      craton.fleet.group: {tenant: acme, name: web, hosts: [h3]}
      register: added
    - name: check mode - replace the hosts
      craton.fleet.group: {tenant: acme, name: web, hosts: [h3], hosts_mode: replace}
      check_mode: true
      diff: true
      register: checked
    - name: replace the hosts
      craton.fleet.group: {tenant: acme, name: web, hosts: [h3], hosts_mode: replace}
      register: replaced
    - name: remove a host
      craton.fleet.group: {tenant: acme, name: web, hosts: [h3], hosts_mode: remove}
      register: emptied
    - name: children
      craton.fleet.group: {tenant: acme, name: app, children: [web, other]}
      register: children
    - craton.fleet.group: {tenant: acme, name: web, children: [leaf]}
    - name: replace the children
      craton.fleet.group: {tenant: acme, name: app, children: [web], children_mode: replace}
      register: children_replaced
    - name: a direct cycle
      craton.fleet.group: {tenant: acme, name: web, children: [app]}
      register: e_cycle
      ignore_errors: true
    - name: a longer cycle
      craton.fleet.group: {tenant: acme, name: leaf, children: [other, app]}
      register: e_cycle3
      ignore_errors: true
    - name: a group as its own child
      craton.fleet.group: {tenant: acme, name: leaf, children: [leaf]}
      register: e_self
      ignore_errors: true
    - name: unknown child and host
      craton.fleet.group: {tenant: acme, name: leaf, children: [nope], hosts: [h1]}
      register: e_child
      ignore_errors: true
    - name: unknown host
      craton.fleet.group: {tenant: acme, name: leaf, hosts: [h1, ghost]}
      register: e_host
      ignore_errors: true
    - name: after the failures leaf has no hosts and no children
      craton.fleet.group: {tenant: acme, name: leaf}
      register: leaf
    - name: rename
      craton.fleet.group: {tenant: acme, name: web, new_name: frontend}
      register: renamed
    - name: rename again
      craton.fleet.group: {tenant: acme, name: web, new_name: frontend}
      register: renamed_again
    - name: absent
      craton.fleet.group: {tenant: acme, name: other, state: absent}
      register: removed
    - name: absent again
      craton.fleet.group: {tenant: acme, name: other, state: absent}
      register: removed_again
    - ansible.builtin.assert:
        that:
          - created is changed
          - "created.group == {'tenant': 'acme', 'name': 'web', 'description': 'front', 'vars': {'http_port': 80},
             'children': [], 'hosts': ['h1', 'h2']}"
          - created.diff.before == {}
          - again is not changed
          - added.group.hosts == ['h1', 'h2', 'h3']
          - checked is changed
          - "checked.diff.before == {'tenant': 'acme', 'name': 'web', 'hosts': ['h1', 'h2', 'h3']}"
          - "checked.diff.after == {'tenant': 'acme', 'name': 'web', 'hosts': ['h3']}"
          - replaced is changed and replaced.group.hosts == ['h3']
          - emptied.group.hosts == []
          - children.group.children == ['other', 'web']
          - children_replaced.group.children == ['web']
          - e_cycle is failed and e_cycle.msg == 'group cycle refused. web -> app -> web' | replace('.', ':')
          - e_cycle3 is failed and e_cycle3.msg == 'group cycle refused. leaf -> app -> web -> leaf' | replace('.', ':')
          - e_self is failed and e_self.msg == 'group cycle refused. leaf -> leaf' | replace('.', ':')
          - e_child is failed and e_child.msg is search("group 'leaf' of tenant 'acme'. child group 'nope' does not exist")
          - e_host is failed and e_host.msg is search("host 'ghost' does not exist")
          - leaf is not changed and leaf.group.hosts == [] and leaf.group.children == []
          - renamed is changed and renamed.group.name == 'frontend'
          - renamed_again is not changed
          - removed is changed and removed.group == {}
          - removed_again is not changed
"""


def test_group_lifecycle_cycles_and_bad_input(fleet_url, tmp_path):
    mr.playbook(tmp_path, fleet_url, PLAY)
    parent, child = sa.orm.aliased(Group), sa.orm.aliased(Group)
    edges = mr.rows(fleet_url, sa.select(parent.name, child.name).select_from(GroupChild)
                    .join(parent, parent.id == GroupChild.parent_id).join(child, child.id == GroupChild.child_id)
                    .order_by(parent.name))
    assert edges == [("app", "frontend"), ("frontend", "leaf")]
