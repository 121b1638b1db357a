"""Helpers for the `craton import` tests: compare inventories as Ansible sees them, dump the database."""

from __future__ import annotations

import json
import os

import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.models import Base

from inventory_helpers import run, write_config

INVENTORIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inventories")


def source_path(name):
    """The path of a fixture inventory under tests/integration/inventories."""
    return os.path.join(INVENTORIES, name)


def normalized(listing, extra_groups=()):
    """What the round trip compares, from an ``ansible-inventory --list`` result:
    the hosts, each user group's direct hosts and children, and every host's effective
    variables. (Which groups ``all`` lists as children is not compared: a YAML inventory
    may list a nested group under ``all`` too, which changes nothing for Ansible.) ``all``/``ungrouped`` (Ansible's implicit groups)
    and ``extra_groups`` (the plugin's tenant/region groups) are left out."""
    skip = {"all", "ungrouped", "_meta"} | set(extra_groups)
    hosts, members, children = set(), {}, {}
    for name, entry in listing.items():
        if name == "_meta":
            continue
        hosts.update(entry.get("hosts", ()))
        if name in skip:
            continue
        members[name] = sorted(entry.get("hosts", ()))
        children[name] = sorted(c for c in entry.get("children", ()) if c not in skip)
    hostvars = listing["_meta"]["hostvars"]
    hosts.update(hostvars)
    return {
        "hosts": sorted(hosts),
        "members": members,
        "children": children,
        "hostvars": {h: hostvars.get(h, {}) for h in sorted(hosts)},
    }


def listing(source, env, cwd):
    """``ansible-inventory -i SOURCE --list`` parsed, run in ``cwd`` (away from any
    playbook-adjacent group_vars)."""
    proc = run("ansible-inventory", "-i", source, "--list", env=env, cwd=str(cwd))
    return json.loads(proc.stdout)


def fleet_config(directory, url, tenant, **options):
    """Write ``<tenant>.craton.yml`` for the tenant in ``directory``; returns its path."""
    return write_config(directory, name="%s.craton.yml" % tenant, database_url=url, tenant=tenant, **options)


def dump(url):
    """Every row of every fleet table (without timestamps), to prove nothing changed."""
    engine = db.engine_for(url)
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if c.name not in ("created_at", "updated_at")]
            rows = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
    return out
