"""Where the modules run, and what they say when the database is not usable.

The action plugins run every craton.fleet module on the controller with the
controller's Python: a play over hosts that cannot be reached (SSH to a
TEST-NET address, a nonexistent interpreter), with ``become`` set to a
nonexistent executable, still edits the fleet, without ``delegate_to``. A task
delegated to a host using the local connection also runs with the controller's
Python. ``module_defaults`` of the action group ``craton.fleet.fleet`` give
every module its database. A database that cannot be reached, or has no schema, fails the task
with a message naming it, and the password of its URL never shows.
"""

from __future__ import annotations

import socket

import module_runs as mr

PASSWORD = "Sup3r-Secret-Pw"

REMOTE_PLAY = r"""
- hosts: remote
  gather_facts: false
  become: true
  become_exe: /nonexistent/sudo
  module_defaults:
    group/craton.fleet.fleet:
      database_url: "{{ fleet_url }}"
  tasks:
    - craton.fleet.tenant: {name: acme}
    - name: one task per unreachable host, no delegate_to
      craton.fleet.host: {tenant: acme, name: "{{ inventory_hostname }}", ip_address: "{{ ansible_host }}"}
      register: created
    - ansible.builtin.assert:
        that: [created is changed]
- hosts: localbox
  gather_facts: false
  module_defaults:
    group/craton.fleet.fleet:
      database_url: "{{ fleet_url }}"
  tasks:
    - name: delegated to a local-connection host whose interpreter does not exist
      craton.fleet.host: {tenant: acme, name: far1, vars: {delegated: true}}
      delegate_to: localbox
      register: delegated
    - ansible.builtin.assert:
        that: [delegated is changed]
"""
INVENTORY = """[remote]
far1 ansible_host=192.0.2.1 ansible_connection=ssh ansible_python_interpreter=/nonexistent/python
far2 ansible_host=192.0.2.2 ansible_connection=ssh ansible_python_interpreter=/nonexistent/python
[local]
localbox ansible_connection=local ansible_python_interpreter=/nonexistent/python
"""


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_modules_run_on_the_controller_for_remote_plays(fleet_url, tmp_path):
    env = mr.ansible_env(tmp_path, fleet_url)
    del env["CRATON_DATABASE_URL"]  # the URL comes from module_defaults of the action group
    mr.playbook(tmp_path, fleet_url, REMOTE_PLAY, "-e", "fleet_url=%s" % fleet_url, inventory=INVENTORY, env=env)
    rows = sorted(mr.rows(fleet_url, "SELECT name, ip_address FROM hosts"))
    assert rows == [("far1", "192.0.2.1"), ("far2", "192.0.2.2")]
    assert mr.rows(fleet_url, "SELECT COUNT(*) FROM host_variables") == [(1,)]


def test_unusable_databases_fail_clearly_without_showing_the_password(tmp_path):
    dead = "mysql+pymysql://craton:%s@127.0.0.1:%d/fleet" % (PASSWORD, closed_port())
    empty = "sqlite:///%s" % (tmp_path / "empty.db")
    play = r"""
- hosts: far
  gather_facts: false
  tasks:
    - name: unreachable, URL given to the task
      craton.fleet.tenant: {name: acme, database_url: "{{ dead_url }}"}
      register: e_param
      ignore_errors: true
    - name: unreachable, URL from CRATON_DATABASE_URL
      craton.fleet.inventory_info: {}
      register: e_env
      ignore_errors: true
    - name: no schema
      craton.fleet.region: {tenant: acme, name: east, database_url: "{{ empty_url }}"}
      register: e_schema
      ignore_errors: true
    - name: an invalid URL
      craton.fleet.group: {tenant: acme, name: web, database_url: "postgresql://u:{{ password }}@h/db"}
      register: e_scheme
      ignore_errors: true
    - name: a bad parameter fails before anything, still masking the URL password
      craton.fleet.tenant: {name: acme, database_url: "{{ dead_url }}", bogus: 1}
      register: e_bogus
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - e_param is failed
          - e_param.msg is search('cannot use database mysql\+pymysql://craton:\*\*\*@127.0.0.1')
          - e_param.msg is search("Can't connect to MySQL server")
          - e_env is failed and e_env.msg is search('cannot use database mysql\+pymysql://craton:\*\*\*@127.0.0.1')
          - e_schema is failed and e_schema.msg is search('has no craton schema.*run `craton db upgrade`')
          - e_scheme is failed and e_scheme.msg is search("unsupported database 'postgresql'")
          - e_bogus is failed and e_bogus.msg is search('Unsupported parameters')
"""
    env = mr.ansible_env(tmp_path, dead)
    proc = mr.playbook(tmp_path, dead, play, "-vvv", "-e", "dead_url=%s" % dead, "-e", "empty_url=%s" % empty,
                       "-e", "password=%s" % PASSWORD, env=env)
    output = proc.stdout + proc.stderr
    shown = [line for line in output.splitlines() if PASSWORD in line]
    assert shown == [], "the database password shows in the output:\n%s" % "\n".join(shown)
    assert mr.recap(proc)["ignored"] == 5
