"""One query path: load_inventory runs the same number of SQL statements at 10 and at 1,000
hosts (counted with SQLAlchemy events), whatever the filters."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ansible_collections.craton.fleet.plugins.module_utils import db, secret_store
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import load_inventory
from ansible_collections.craton.fleet.plugins.module_utils.models import (
    Group, GroupChild, GroupHost, GroupVariable, Host, HostVariable, Region, RegionVariable, Secret, Tenant,
    TenantVariable, VarsReference)

GROUPS = ["top", "mid-a", "mid-b", "leaf-1", "leaf-2", "leaf-3"]
EDGES = [("top", "mid-a"), ("top", "mid-b"), ("mid-a", "leaf-1"), ("mid-a", "leaf-2"), ("mid-b", "leaf-3")]


def bulk_fleet(url, hosts, tenant="acme"):
    """A fleet of ``hosts`` hosts (5 variables, 2 groups, a region each; every 10th has a secret),
    written with Core bulk inserts."""
    engine = db.connect(url)
    ciphertext = secret_store.encrypt(b"opaque secret")
    with engine.begin() as conn:
        tid = conn.execute(sa.insert(Tenant).values(name=tenant)).inserted_primary_key[0]
        conn.execute(sa.insert(TenantVariable), [{"tenant_id": tid, "key": "t", "value": 1, "trusted": True}])
        rids = [conn.execute(sa.insert(Region).values(tenant_id=tid, name="r%d" % i)).inserted_primary_key[0]
                for i in range(3)]
        conn.execute(sa.insert(RegionVariable), [{"region_id": r, "key": "r", "value": r, "trusted": True}
                                                 for r in rids])
        gids = {name: conn.execute(sa.insert(Group).values(tenant_id=tid, name=name)).inserted_primary_key[0]
                for name in GROUPS}
        conn.execute(sa.insert(GroupChild), [{"parent_id": gids[p], "child_id": gids[c]} for p, c in EDGES])
        conn.execute(sa.insert(GroupVariable), [{"group_id": g, "key": "g", "value": {"n": g}, "trusted": False}
                                                for g in gids.values()])
        conn.execute(sa.insert(VarsReference), [{"group_id": gids["top"], "url": "file:///dev/null",
                                                 "position": 0}])
        conn.execute(sa.insert(Host), [{"tenant_id": tid, "region_id": rids[i % 3], "name": "host%04d" % i,
                                        "ip_address": "10.0.%d.%d" % (i // 250, i % 250),
                                        "last_status": "unreachable" if i % 7 == 0 else "ok"}
                                       for i in range(hosts)])
        ids = dict(conn.execute(sa.select(Host.name, Host.id).where(Host.tenant_id == tid)).all())
        conn.execute(sa.insert(HostVariable), [
            {"host_id": hid, "key": key, "value": value, "trusted": True}
            for name, hid in ids.items()
            for key, value in (("wave", int(name[4:]) % 3), ("role", "web"), ("n", name), ("tags", ["a", "b"]),
                               ("meta", {"x": 1}))])
        leaves = [gids["leaf-1"], gids["leaf-2"], gids["leaf-3"]]
        conn.execute(sa.insert(GroupHost), [
            {"group_id": g, "host_id": hid} for n, hid in enumerate(ids.values())
            for g in (leaves[n % 3], gids["mid-b"] if n % 2 else gids["top"])])
        conn.execute(sa.insert(Secret), [{"host_id": hid, "name": "s", "kind": "opaque", "ciphertext": ciphertext}
                                         for n, hid in enumerate(ids.values()) if n % 10 == 0])


def count_statements(url, filters, **kwargs):
    engine = db.connect(url)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session, session.begin():
            inventory = load_inventory(session, filters, **kwargs)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return statements, inventory


FILTERS = [
    ({"tenant": "acme"}, {}),
    ({}, {}),
    ({"tenant": "acme"}, {"with_secrets": True}),
    ({"tenant": "acme", "groups": ["mid-a"]}, {}),
    ({"tenant": "acme", "regions": ["r1", "r2"], "reachable": True}, {}),
    ({"tenant": "acme", "hosts": ["host00*", "host0[1-3]?5", "host0999"]}, {}),
    ({"tenant": "acme", "host_vars": {"wave": [0, 2], "role": "web"}, "active_only": False}, {}),
    ({"tenant": "acme", "groups": ["nope"]}, {}),
]


@pytest.mark.parametrize("filters, kwargs", FILTERS)
def test_statement_count_does_not_grow_with_the_fleet(db_url, tmp_path, secret_key, filters, kwargs):
    from ansible_collections.craton.fleet.cli import db as db_cli
    base = db_url.rsplit("/", 1)[0] if not db_url.startswith("sqlite") else None
    small_url = db_url
    db_cli.upgrade(small_url)
    bulk_fleet(small_url, 10)
    if base is None:
        big_url = "sqlite:///%s" % (tmp_path / "big.db")
    else:  # a second database on the same server, dropped with the first by the fixture's naming
        big_url = db_url + "_big"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE %s CHARACTER SET utf8mb4" % big_url.rsplit("/", 1)[1]))
    try:
        db_cli.upgrade(big_url)
        bulk_fleet(big_url, 1000)
        db.connect(small_url), db.connect(big_url)  # schema checks done before counting
        small, small_inventory = count_statements(small_url, filters, **kwargs)
        big, big_inventory = count_statements(big_url, filters, **kwargs)
    finally:
        if base is not None:
            db.engine_for(big_url).dispose()
            with admin.connect() as conn:
                conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % big_url.rsplit("/", 1)[1]))
            admin.dispose()
    assert len(small) == len(big), "\n---\n".join(big)
    assert len(big) <= 12
    if filters.get("groups") != ["nope"]:
        assert len(big_inventory["hosts"]) > len(small_inventory["hosts"]) > 0
