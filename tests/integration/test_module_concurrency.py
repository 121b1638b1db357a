"""20 forks edit the same group at once: every host and every variable ends up written, none lost.

Each of 20 hosts (all on the controller through the action plugins) creates
its own host with variables, adds itself to group ``shared`` through the group
module while setting its own variable on that group, and joins group
``shared2`` through the host module, all three tasks running in 20 parallel
forks. Deadlocks (InnoDB) and lock timeouts ("database is locked" on SQLite)
are retried inside the module, so no task fails."""

from __future__ import annotations

import sqlalchemy as sa

import module_runs as mr
from ansible_collections.craton.fleet.plugins.module_utils.models import (
    Group, GroupHost, GroupVariable, Host, HostVariable)

FORKS = 20
SETUP = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.group: {tenant: acme, name: shared}
    - craton.fleet.group: {tenant: acme, name: shared2}
"""
PLAY = r"""
- hosts: fleet
  gather_facts: false
  tasks:
    - name: each fork creates its host with variables
      craton.fleet.host:
        tenant: acme
        name: "{{ inventory_hostname }}"
        vars: {fork: "{{ inventory_hostname }}", ntp: [a, b]}
    - name: each fork adds its host to the same group and sets its own variable on it
      craton.fleet.group:
        tenant: acme
        name: shared
        hosts: ["{{ inventory_hostname }}"]
        vars: "{{ {'fork_' ~ inventory_hostname: inventory_hostname} }}"
    - name: each fork joins another group from the host side and sets one more variable
      craton.fleet.host:
        tenant: acme
        name: "{{ inventory_hostname }}"
        groups: [shared2]
        vars: {joined: true}
"""


def test_twenty_forks_on_one_group_lose_nothing(fleet_url, tmp_path):
    names = ["n%02d" % i for i in range(FORKS)]
    inventory = "[fleet]\n" + "".join(
        "%s ansible_host=192.0.2.%d ansible_connection=ssh ansible_python_interpreter=/nonexistent/python\n"
        % (name, i + 1) for i, name in enumerate(names))
    mr.playbook(tmp_path, fleet_url, SETUP, inventory="localhost\n", name="setup.yml")
    proc = mr.playbook(tmp_path, fleet_url, PLAY, "--forks", str(FORKS), inventory=inventory)
    for name in names:
        assert mr.recap(proc, name) == dict(mr.recap(proc, name), ok=3, changed=3, failed=0)

    def members(group):
        return sorted(r[0] for r in mr.rows(fleet_url, sa.select(Host.name).join(GroupHost, GroupHost.host_id == Host.id)
                                            .join(Group, Group.id == GroupHost.group_id).where(Group.name == group)))

    assert members("shared") == names
    assert members("shared2") == names
    group_vars = dict(mr.rows(fleet_url, sa.select(GroupVariable.key, GroupVariable.value)))
    assert group_vars == {"fork_" + name: name for name in names}
    host_vars = mr.rows(fleet_url, sa.select(Host.name, HostVariable.key, HostVariable.value)
                        .join(HostVariable, HostVariable.host_id == Host.id))
    assert sorted(host_vars) == sorted([(n, "fork", n) for n in names] + [(n, "ntp", ["a", "b"]) for n in names]
                                       + [(n, "joined", True) for n in names])
