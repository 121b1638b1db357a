"""Reachability written back to the fleet database at the end of a run, and used by the inventory's filter.

The whole chain: hosts in the fleet database (SQLite and MariaDB), the inventory
plugin as the inventory, the shipped craton.fleet.reachability playbook with the
callback, then the inventory plugin's ``reachable`` filter.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time

import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db, fleet, reachability
from ansible_collections.craton.fleet.plugins.module_utils.models import Host, Tenant

import callback_runs as cr

EARLIER = datetime.datetime(2020, 1, 2, 3, 4, 5)


def build_fleet(url, dead_port):
    def work(session):
        tenant = fleet.create_tenant(session, "acme")
        for name in ("web1", "web2"):
            host = fleet.create_host(session, tenant, name, connection="local")
            fleet.set_variables(session, "host", host.id, {"ansible_python_interpreter": sys.executable})
        dead = fleet.create_host(session, tenant, "dead1", ip_address="127.0.0.1", port=dead_port,
                                 connection="ssh")
        dead.last_seen_at = EARLIER
    db.run_in_transaction(db.connect(url), work)


def host_rows(url):
    with db.transaction(url) as session:
        rows = session.execute(sa.select(Host.name, Host.last_status, Host.last_error, Host.last_seen_at))
        return {name: (status, error, seen) for name, status, error, seen in rows}


def inventory_hosts(env, config_path):
    proc = subprocess.run([os.path.join(cr.BIN, "ansible-inventory"), "-i", config_path, "--list"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return sorted(json.loads(proc.stdout)["_meta"]["hostvars"])


def craton_yml(tmp_path, name, url, **filters):
    lines = ["plugin: craton.fleet.inventory", "database_url: %s" % json.dumps(url), "secrets: skip"]
    lines += ["%s: %s" % (k, json.dumps(v)) for k, v in filters.items()]
    return cr.write(tmp_path, name, "\n".join(lines) + "\n")


def test_reachability_is_written_back_and_used_by_the_reachable_filter(fleet_url, redis_url, tmp_path):
    build_fleet(fleet_url, cr.closed_port())
    config = craton_yml(tmp_path, "fleet.craton.yml", fleet_url)
    run_id = cr.new_run_id()
    env = cr.ansible_env(tmp_path, redis_url, run_id, CRATON_CALLBACK_DATABASE_URL=fleet_url)
    started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    proc = cr.run_playbook(env, config, "craton.fleet.reachability")
    ended = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(seconds=1)

    assert proc.returncode == 4, proc.stdout + proc.stderr      # dead1 is unreachable
    assert "2 of 3 hosts answered; unreachable: dead1" in proc.stdout
    assert cr.callback_warnings(proc) == []

    rows = host_rows(fleet_url)
    for name in ("web1", "web2"):
        status, error, seen = rows[name]
        assert (status, error) == ("ok", None)
        assert started <= seen <= ended
    status, error, seen = rows["dead1"]
    assert status == "unreachable" and "Failed to connect to the host via ssh" in error
    assert seen == EARLIER                                   # never reached: last_seen_at unchanged

    data = cr.read_run(redis_url, run_id)
    assert {h: s["status"] for h, s in data["hosts"].items()} == {"web1": "ok", "web2": "ok", "dead1": "unreachable"}

    plain = cr.ansible_env(tmp_path, callback=False)
    assert inventory_hosts(plain, config) == ["dead1", "web1", "web2"]
    assert inventory_hosts(plain, craton_yml(tmp_path, "up.craton.yml", fleet_url, reachable=True)) == ["web1", "web2"]
    assert inventory_hosts(plain, craton_yml(tmp_path, "down.craton.yml", fleet_url, reachable=False)) == ["dead1"]


def test_write_back_matches_names_within_the_tenant_and_skips_ambiguous_ones(fleet_url):
    def work(session):
        for tenant_name in ("acme", "globex"):
            tenant = fleet.create_tenant(session, tenant_name)
            fleet.create_host(session, tenant, "shared")
        fleet.create_host(session, fleet.get_tenant(session, "acme"), "only-acme")
    engine = db.connect(fleet_url)
    db.run_in_transaction(engine, work)
    now = time.time()
    outcomes = {"shared": reachability.outcome("failed", "boom", now),
                "only-acme": reachability.outcome("changed", "ignored error text", now),
                "nowhere": reachability.outcome("ok", None, now),
                "skipped-only": reachability.outcome("skipped", None, now)}
    assert outcomes["skipped-only"] is None

    done = reachability.record(engine, outcomes)
    assert done == {"updated": 1, "unknown": ["nowhere"], "ambiguous": ["shared"]}

    done = reachability.record(engine, {"shared": outcomes["shared"]}, tenant="globex")
    assert done == {"updated": 1, "unknown": [], "ambiguous": []}
    with db.transaction(fleet_url) as session:
        rows = {(t, h): (s, e) for t, h, s, e in session.execute(
            sa.select(Tenant.name, Host.name, Host.last_status, Host.last_error).join(Tenant))}
    assert rows == {("acme", "shared"): (None, None), ("globex", "shared"): ("failed", "boom"),
                    ("acme", "only-acme"): ("changed", None)}


def test_a_database_that_cannot_be_used_is_one_warning_and_changes_nothing(redis_url, tmp_path):
    empty = "sqlite:///%s" % (tmp_path / "no-schema.db")
    env = cr.ansible_env(tmp_path, redis_url, cr.new_run_id(), CRATON_CALLBACK_DATABASE_URL=empty)
    proc = cr.run_playbook(env, cr.write(tmp_path, "hosts.ini", cr.inventory(local=("h1",), dead=())),
                           cr.write(tmp_path, "play.yml", "- name: One ping\n  hosts: all\n  gather_facts: false\n"
                                    "  tasks:\n    - name: Ping\n      ansible.builtin.ping:\n"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [warning] = cr.callback_warnings(proc)
    assert "reachability not written to the fleet database" in warning and "craton db upgrade" in warning
