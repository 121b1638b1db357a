# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A deterministic synthetic fleet for the inventory-load benchmark.

The fleet is a pure function of its :class:`FleetShape`: host ``i`` always has
the same name, region, address, variables and groups, so the database, the
floor plugin's dump and the static YAML file are three renderings of one
fleet and never need to be held in memory all at once.

Shape (defaults): one tenant, 20 regions, 500 groups nested 3 deep (20 top
groups, each with 4 children, each with 5 children), 100,000 hosts with 10
variables each plus ``ip_address``; every host is in its region and in two
leaf groups. Variables of every JSON type, with keys that conflict across the
levels (tenant, region, parent group, child group, host) so that precedence
matters for the effective values that ``ansible-inventory --list`` prints.
"""

from __future__ import annotations

import dataclasses

TOP_GROUPS = 20
CHILDREN_PER_TOP = 4
CHILDREN_PER_MID = 5


@dataclasses.dataclass(frozen=True)
class FleetShape:
    """How big the fleet is. Group counts are fixed by the 3-level tree."""

    hosts: int = 100_000
    regions: int = 20
    tenant: str = "bench"

    @property
    def groups(self):
        return TOP_GROUPS * (1 + CHILDREN_PER_TOP * (1 + CHILDREN_PER_MID))


# --- the fleet, as pure functions -------------------------------------------------

def tenant_vars(shape):
    return {"tenant_name": shape.tenant, "level": -1, "support_email": "ops@%s.example" % shape.tenant}


def region_name(r):
    return "dc-%02d" % r


def region_vars(r):
    return {"region_code": "rg%02d" % r, "level": 0,
            "ntp_servers": ["ntp%d.dc-%02d.example" % (k, r) for k in (1, 2)]}


def groups(shape):
    """[(name, level, parent index or None)] in id order (index = id - 1)."""
    out = []
    for t in range(TOP_GROUPS):
        top = len(out)
        out.append(("app-%02d" % t, 1, None))
        for m in range(CHILDREN_PER_TOP):
            mid = len(out)
            out.append(("app-%02d-%d" % (t, m), 2, top))
            for c in range(CHILDREN_PER_MID):
                out.append(("app-%02d-%d-%d" % (t, m, c), 3, mid))
    assert len(out) == shape.groups
    return out


def group_vars(index, name, level):
    value = {"owner": "team-%s" % name, "level": level,
             "alerts": {"email": "%s@alerts.example" % name, "page": level == 3},
             "maintenance_window": "sun %02d:00" % (index % 24)}
    if level == 1:
        value["ntp_servers"] = ["ntp.%s.example" % name]
    else:
        value["tier_%d_weight" % level] = round(index / 7.0, 3)
    return value


def leaf_indexes(shape):
    return [i for i, (_n, level, _p) in enumerate(groups(shape)) if level == 3]


def host_name(i):
    return "node-%06d.fleet.example" % i


def host_region(shape, i):
    return i % shape.regions


def host_ip(i):
    return "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)


def host_leaf_groups(i, leaves):
    """Indexes (into the leaf list) of the two leaf groups of host ``i``."""
    n = len(leaves)
    a = i % n
    b = (i * 37 + 11) % n
    if b == a:
        b = (a + 1) % n
    return (a, b)


def host_vars(i):
    """The 10 variables of host ``i`` (the address is the ``ip_address`` column)."""
    return {
        "env": ("prod", "staging", "dev")[i % 3],
        "rack": "rack-%03d" % (i % 250),
        "cpu_count": (2, 4, 8, 16, 32)[i % 5],
        "mem_gb": 4 * (1 + i % 64),
        "monitored": i % 7 != 0,
        "weight": (i % 100) / 10.0,
        "dns_servers": ["10.0.%d.53" % (i % 20), "10.1.%d.53" % (i % 20)],
        "labels": {"team": "team-%02d" % (i % 30), "cost_center": 1000 + i % 17, "pager": None},
        "motd": "welcome to {{ inventory_hostname }}",
        "serial": "SN%010d" % (i * 7919 % 10_000_000_000),
    }


# --- the database -----------------------------------------------------------------

def _batches(rows, size=20_000):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_database(shape, engine, progress=None):
    """Fill a migrated, empty craton database with the fleet: Core bulk inserts,
    explicit ids, one transaction."""
    from ansible_collections.craton.fleet.plugins.module_utils import models as m

    grps = groups(shape)
    leaves = leaf_indexes(shape)

    def insert(conn, model, rows):
        table = model.__table__
        count = 0
        for batch in _batches(rows):
            conn.execute(table.insert(), batch)
            count += len(batch)
            if progress:
                progress(table.name, count)

    with engine.begin() as conn:
        insert(conn, m.Tenant, [{"id": 1, "name": shape.tenant}])
        insert(conn, m.TenantVariable, ({"tenant_id": 1, "key": k, "value": v, "trusted": True}
                                        for k, v in tenant_vars(shape).items()))
        insert(conn, m.Region, ({"id": r + 1, "tenant_id": 1, "name": region_name(r)}
                                for r in range(shape.regions)))
        insert(conn, m.RegionVariable, ({"region_id": r + 1, "key": k, "value": v, "trusted": True}
                                        for r in range(shape.regions) for k, v in region_vars(r).items()))
        insert(conn, m.Group, ({"id": g + 1, "tenant_id": 1, "name": name}
                               for g, (name, _l, _p) in enumerate(grps)))
        insert(conn, m.GroupChild, ({"parent_id": p + 1, "child_id": g + 1}
                                    for g, (_n, _l, p) in enumerate(grps) if p is not None))
        insert(conn, m.GroupVariable, ({"group_id": g + 1, "key": k, "value": v, "trusted": True}
                                       for g, (name, level, _p) in enumerate(grps)
                                       for k, v in group_vars(g, name, level).items()))
        insert(conn, m.Host, ({"id": i + 1, "tenant_id": 1, "region_id": host_region(shape, i) + 1,
                               "name": host_name(i), "ip_address": host_ip(i), "active": True}
                              for i in range(shape.hosts)))
        insert(conn, m.GroupHost, ({"group_id": leaves[leaf] + 1, "host_id": i + 1}
                                   for i in range(shape.hosts) for leaf in host_leaf_groups(i, leaves)))
        insert(conn, m.HostVariable, ({"host_id": i + 1, "key": k, "value": v, "trusted": True}
                                      for i in range(shape.hosts) for k, v in host_vars(i).items()))
