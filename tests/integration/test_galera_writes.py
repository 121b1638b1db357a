"""Galera: the schema is Galera-ready, and writes from 10 forks spread over the three nodes all land.

Each of 10 hosts writes its own host (with variables) and joins one shared group
through ``craton.fleet.host``, in 10 parallel forks, each fork's task pointing
``database_url`` at a different node, so concurrent writes to the same group rows
meet as Galera certification conflicts and are retried. Afterwards
``ansible-inventory`` through each node, and through the multi-host URL, shows
the same fleet.
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

import inventory_helpers as ih
import module_runs as mr
from galera_fixtures import galera, galera_db  # noqa: F401  pylint: disable=unused-import

FORKS = 10
SETUP = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.group: {tenant: acme, name: shared}
"""
PLAY = r"""
- hosts: fleet
  gather_facts: false
  tasks:
    - name: each fork writes its host through its own node
      craton.fleet.host:
        database_url: "{{ node_url }}"
        tenant: acme
        name: "{{ inventory_hostname }}"
        groups: [shared]
        vars: {fork: "{{ inventory_hostname }}", node: "{{ node_url | regex_search('33[0-9][0-9]') }}"}
"""


def test_every_table_has_a_primary_key_and_is_innodb(galera_db):
    from ansible_collections.craton.fleet.driver import state

    # TaskFlow's tables and their version table too: the run state lives in the fleet database on MySQL.
    store = state.open_store(None, galera_db.url)
    store.backend.engine.dispose()
    engine = sa.create_engine(galera_db.nodes[2])
    try:
        with engine.connect() as conn:
            tables = dict(conn.execute(sa.text(
                "SELECT table_name, engine FROM information_schema.tables "
                "WHERE table_schema = :db AND table_type = 'BASE TABLE'"), {"db": galera_db.name}).all())
            with_pk = set(r[0] for r in conn.execute(sa.text(
                "SELECT table_name FROM information_schema.table_constraints "
                "WHERE table_schema = :db AND constraint_type = 'PRIMARY KEY'"), {"db": galera_db.name}))
    finally:
        engine.dispose()
    assert {"alembic_version", "craton_taskflow_version", "logbooks", "flowdetails", "atomdetails",
            "hosts", "groups"} <= set(tables)
    assert sorted(set(tables) - with_pk) == []
    assert {name: e for name, e in tables.items() if e != "InnoDB"} == {}


def test_ten_forks_over_three_nodes_lose_nothing(galera_db, tmp_path):
    names = ["g%02d" % i for i in range(FORKS)]
    inventory = "[fleet]\n" + "".join(
        "%s ansible_host=192.0.2.%d ansible_connection=ssh ansible_python_interpreter=/nonexistent/python "
        "node_url=%s\n" % (name, i + 1, galera_db.nodes[i % 3]) for i, name in enumerate(names))
    mr.playbook(tmp_path, galera_db.url, SETUP, inventory="localhost\n", name="setup.yml")
    proc = mr.playbook(tmp_path, galera_db.url, PLAY, "--forks", str(FORKS), inventory=inventory)
    for name in names:
        assert mr.recap(proc, name) == dict(mr.recap(proc, name), ok=1, changed=1, failed=0)

    listings = []
    for index, url in enumerate(galera_db.nodes + [galera_db.url]):
        directory = tmp_path / ("inventory-%d" % index)
        directory.mkdir()
        config = ih.write_config(directory, name="acme.craton.yml", database_url=url, tenant="acme")
        listing, _proc = ih.inventory_list(config, env=mr.ansible_env(tmp_path, url))
        listings.append(listing)
    first = listings[0]
    assert sorted(ih.group_hosts(first, "shared")) == names
    hostvars = first["_meta"]["hostvars"]
    for i, name in enumerate(names):
        assert ih.plain(hostvars[name])["fork"] == name
        assert ih.plain(hostvars[name])["node"] == str(3311 + i % 3)
    for other in listings[1:]:
        assert other == first

    # Every node holds the same rows.
    counts = []
    for url in galera_db.nodes:
        engine = sa.create_engine(url)
        with contextlib.closing(engine.connect()) as conn:
            counts.append(conn.execute(sa.text(
                "SELECT (SELECT COUNT(*) FROM hosts), (SELECT COUNT(*) FROM host_variables), "
                "(SELECT COUNT(*) FROM group_hosts)")).one())
        engine.dispose()
    assert counts == [(FORKS, 2 * FORKS, FORKS)] * 3
