"""craton.fleet.vars_reference through real playbooks: create, order, sha256 pin, idempotent rerun, check
mode, diff, absent, bad input; the reference reaches the inventory through craton.fleet.inventory_info."""

from __future__ import annotations

import hashlib

import module_runs as mr

PLAY = r"""
- hosts: far
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.group: {tenant: acme, name: web, vars: {own: group}}
    - name: create (goes last, order 0)
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}"}
      diff: true
      register: created
    - name: the same again
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}"}
      register: again
    - name: a second one goes after it
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ extra_url }}"}
      register: second
    - name: check mode - pin the first
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}", sha256: "{{ base_sha | upper }}"}
      check_mode: true
      diff: true
      register: checked
    - name: pin it
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}", sha256: "{{ base_sha }}"}
      register: pinned
    - name: pinned again (upper case is the same digest)
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}", sha256: "{{ base_sha | upper }}"}
      register: pinned_again
    - name: the order of another
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}", order: 1}
      register: e_order
      ignore_errors: true
    - name: move the first after the second
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}", order: 5}
      register: moved
    - name: effective variables through the inventory query
      craton.fleet.inventory_info: {tenant: acme}
      register: inv
    - name: remove
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ extra_url }}", state: absent}
      register: removed
    - name: remove again
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ extra_url }}", state: absent}
      register: removed_again
    - name: unsupported scheme
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "ftp://example.com/x.yml"}
      register: e_url
      ignore_errors: true
    - name: bad digest
      craton.fleet.vars_reference: {tenant: acme, group: web, url: "{{ base_url }}", sha256: abc}
      register: e_sha
      ignore_errors: true
    - name: unknown group
      craton.fleet.vars_reference: {tenant: acme, group: nope, url: "{{ base_url }}"}
      register: e_group
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - created is changed
          - "created.vars_reference == {'tenant': 'acme', 'group': 'web', 'url': base_url, 'sha256': none, 'order': 0}"
          - again is not changed
          - second.vars_reference.order == 1
          - checked is changed
          - "checked.diff.after == {'tenant': 'acme', 'group': 'web', 'url': base_url, 'sha256': base_sha}"
          - pinned is changed and pinned.vars_reference.sha256 == base_sha
          - pinned_again is not changed
          - e_order is failed and e_order.msg is search('order 1 is taken by vars reference')
          - moved is changed and moved.vars_reference.order == 5
          - "(inv.groups | selectattr('name', 'equalto', 'web') | first).vars == {'shared': 'base', 'own': 'group', 'extra_only': 1}"
          - removed is changed and removed_again is not changed
          - e_url is failed and e_url.msg is search("invalid url 'ftp://example.com/x.yml'")
          - e_sha is failed and e_sha.msg is search("invalid sha256 'abc'")
          - e_group is failed and e_group.msg is search("group 'nope' does not exist")
"""


def test_vars_reference_lifecycle_and_bad_input(fleet_url, tmp_path):
    base = tmp_path / "base.yml"
    base.write_text("shared: base\nown: reference\n")
    extra = tmp_path / "extra.yml"
    extra.write_text("shared: extra\nextra_only: 1\n")
    sha = hashlib.sha256(base.read_bytes()).hexdigest()
    mr.playbook(tmp_path, fleet_url, PLAY, "-e", "base_url=file://%s" % base, "-e", "extra_url=file://%s" % extra,
                "-e", "base_sha=%s" % sha)
    assert mr.rows(fleet_url, "SELECT url, sha256, position FROM vars_references") == [("file://%s" % base, sha, 5)]
