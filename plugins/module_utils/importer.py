# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing an inventory snapshot into the fleet database (``craton import``).

:func:`import_inventory` takes an ``InventorySnapshot`` (plugin_utils.inventory_source,
which reads any inventory through Ansible's own parser, or any object with the same
``tenant_vars``, ``groups``, ``hosts`` and ``warnings``) and
makes one tenant hold it, inside the caller's transaction (``db.run_in_transaction``):
nothing is written unless the whole import succeeds.

How the levels are stored:

* the variables of Ansible's group ``all`` are the **tenant's variables**: the
  tenant is the lowest level craton.fleet gives Ansible, as ``all`` is the lowest
  group level in Ansible (``all`` < every other group < host);
* every other group is a group of the tenant, with its own variables, child groups
  and direct members; ``ungrouped`` is not stored (Ansible recomputes it);
* every host is a host of the tenant (in ``region`` when given) with its own
  variables. A host's ``ansible_host``, ``ansible_port``, ``ansible_user`` and
  ``ansible_connection`` go to the well-known columns when they fit them (a plain
  string without template markers that fits the column; a port from 1 to 65535),
  else they stay host variables; one place only, never both.

Re-importing updates in place (same rows, changed values only). Without ``prune``
nothing that the source lacks is removed; with ``prune`` the tenant mirrors the
source: hosts, groups, variables (tenant, group and host), memberships, child
links and well-known columns that the source lacks are removed. Regions are never
pruned. Every variable written is trusted: an imported template renders in plays
as it did from the source.

The diff is set-based: a fixed number of queries read the tenant, and the writes
are bulk ``executemany`` statements (SQLAlchemy Core), whatever the size.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.names import check_name, check_var_name

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import (
        WELL_KNOWN, Group, GroupChild, GroupHost, GroupVariable, Host, HostVariable, Region,
        Tenant, TenantVariable)

BATCH = 5000      # rows per executemany / ids per IN (...) list
TEMPLATE_MARKERS = ("{{", "{%", "{#")


def _batches(rows, size=BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Writer:
    """Bulk writes with progress reporting."""

    def __init__(self, session, progress):
        self.session = session
        self.progress = progress

    def report(self, stage, done, total):
        if self.progress:
            self.progress(stage, done, total)

    def insert(self, table, rows, stage=None, total=None):
        count = 0
        for batch in _batches(rows):
            self.session.execute(table.insert(), batch)
            count += len(batch)
            if stage:
                self.report(stage, count, total or count)
        return count

    def update(self, table, values, rows):
        """``values``: column name -> bind name; rows carry ``_id`` and the bind names."""
        stmt = table.update().where(table.c.id == sa.bindparam("_id")).values(
            {column: sa.bindparam(bind, type_=table.c[column].type) for column, bind in values.items()})
        count = 0
        for batch in _batches(rows):
            self.session.execute(stmt, batch)
            count += len(batch)
        return count

    def delete_ids(self, table, ids):
        ids = sorted(ids)
        for start in range(0, len(ids), BATCH):
            self.session.execute(table.delete().where(table.c.id.in_(ids[start:start + BATCH])))
        return len(ids)

    def delete_pairs(self, table, first, second, pairs):
        stmt = table.delete().where(table.c[first] == sa.bindparam("_a"), table.c[second] == sa.bindparam("_b"))
        rows = [{"_a": a, "_b": b} for a, b in pairs]
        for batch in _batches(rows):
            self.session.execute(stmt, batch)
        return len(rows)


# --- validation -----------------------------------------------------------------------

def _check_snapshot(snapshot):
    """Raise CratonError naming the first bad name in the snapshot, before any write."""
    for name in snapshot.groups:
        check_name(name, "group")
    for name in snapshot.hosts:
        check_name(name, "host")
    seen = set()

    def keys(variables, where):
        for key in variables:
            if key not in seen:
                try:
                    check_var_name(key)
                except CratonError as e:
                    raise CratonError("%s in the import source: %s" % (where, e)) from None
                seen.add(key)

    keys(snapshot.tenant_vars, "group 'all'")
    for name, group in snapshot.groups.items():
        keys(group["vars"], "group %r" % name)
        for child in group["children"]:
            if child not in snapshot.groups:
                raise CratonError("group %r in the import source has an unknown child group %r" % (name, child))
    for name, variables in snapshot.hosts.items():
        keys(variables, "host %r" % name)


def _column_fits(table, column, value):
    if column == "port":
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536
    if not isinstance(value, str) or not value or any(m in value for m in TEMPLATE_MARKERS):
        return False
    return len(value) <= (table.c[column].type.length or len(value))


def _split_well_known(table, variables):
    """(columns set from the source, variables left, well-known variables given)."""
    given = [var for var in WELL_KNOWN.values() if var in variables]
    if not given:
        return {}, variables, ()
    rest = dict(variables)
    columns = {}
    for column, var in WELL_KNOWN.items():
        if var in rest and _column_fits(table, column, rest[var]):
            columns[column] = rest.pop(var)
    return columns, rest, given


# --- the import -----------------------------------------------------------------------

def _tenant_and_region(session, tenant_name, region_name):
    check_name(tenant_name, "tenant")
    created = {"tenant": False, "region": False}
    tenant = session.scalars(sa.select(Tenant).filter_by(name=tenant_name)).one_or_none()
    if tenant is None:
        tenant = Tenant(name=tenant_name)
        session.add(tenant)
        session.flush()
        created["tenant"] = True
    region = None
    if region_name is not None:
        check_name(region_name, "region")
        region = session.scalars(sa.select(Region).filter_by(tenant_id=tenant.id, name=region_name)).one_or_none()
        if region is None:
            region = Region(tenant_id=tenant.id, name=region_name)
            session.add(region)
            session.flush()
            created["region"] = True
    return tenant, region, created


def _counter():
    return {"added": 0, "updated": 0, "removed": 0, "unchanged": 0}


def import_inventory(session, snapshot, tenant, region=None, prune=False, progress=None):
    """Make tenant ``tenant`` (created if missing) hold ``snapshot``; see the module docstring.

    ``region``: a region name (created if missing) for the imported hosts.
    ``progress(stage, done, total)`` is called as the work goes. Returns a summary dict."""
    _check_snapshot(snapshot)
    tenant, region, created = _tenant_and_region(session, tenant, region)
    writer = _Writer(session, progress)
    result = {
        "tenant": tenant.name, "tenant_created": created["tenant"],
        "region": region.name if region is not None else None, "region_created": created["region"],
        "hosts": _counter(), "groups": _counter(), "variables": _counter(),
        "memberships": _counter(), "children": _counter(), "prune": bool(prune),
        "warnings": list(snapshot.warnings),
    }
    host_ids, forced_absent, changed_hosts, new_hosts, host_vars = _sync_hosts(
        session, writer, snapshot, tenant, region, prune, result["hosts"])
    group_ids, new_groups = _sync_groups(session, writer, snapshot, tenant, prune, result["groups"])
    _sync_children(session, writer, snapshot, tenant, group_ids, prune, result["children"])
    _sync_members(session, writer, snapshot, tenant, group_ids, host_ids, prune, result["memberships"])

    variables = result["variables"]
    _sync_variables(writer, TenantVariable.__table__, "tenant_id",
                    sa.select(Tenant.__table__.c.id).where(Tenant.__table__.c.id == tenant.id),
                    {tenant.id: snapshot.tenant_vars}, {}, prune, variables)
    group_table = Group.__table__
    changed_groups = _sync_variables(
        writer, GroupVariable.__table__, "group_id",
        sa.select(group_table.c.id).where(group_table.c.tenant_id == tenant.id),
        {group_ids[name]: group["vars"] for name, group in snapshot.groups.items()}, {}, prune, variables)
    host_table = Host.__table__
    changed_hosts |= _sync_variables(
        writer, HostVariable.__table__, "host_id",
        sa.select(host_table.c.id).where(host_table.c.tenant_id == tenant.id),
        {host_ids[name]: rest for name, rest in host_vars.items()}, forced_absent, prune, variables)
    _recount(result["hosts"], changed_hosts - new_hosts, len(snapshot.hosts))
    _recount(result["groups"], changed_groups - new_groups, len(snapshot.groups))
    session.flush()
    return result


def _recount(counter, changed, total):
    counter["updated"] = len(changed)
    counter["unchanged"] = total - counter["added"] - counter["updated"]


def _sync_hosts(session, writer, snapshot, tenant, region, prune, counter):
    """Insert/update/prune host rows. Returns (name -> id, host id -> well-known variables
    that went to columns (to remove as variables), ids of existing hosts that changed,
    ids of the new hosts, name -> the host variables that are not in columns)."""
    table = Host.__table__
    columns = list(WELL_KNOWN)
    existing = {row.name: row for row in session.execute(
        sa.select(table.c.id, table.c.name, table.c.region_id, *[table.c[c] for c in columns])
        .where(table.c.tenant_id == tenant.id))}
    region_id = region.id if region is not None else None
    new_rows, updates, in_columns, changed, rest_vars = [], [], {}, set(), {}
    for name, variables in snapshot.hosts.items():
        set_columns, rest_vars[name], given = _split_well_known(table, variables)
        row = existing.get(name)
        if row is None:
            values = {c: set_columns.get(c) for c in columns}
            new_rows.append(dict(values, tenant_id=tenant.id, name=name, region_id=region_id, active=True))
            if set_columns:
                in_columns[name] = [WELL_KNOWN[c] for c in set_columns]
            continue
        final = {"region_id": region_id if region is not None else row.region_id}
        for column in columns:
            if column in set_columns:
                final[column] = set_columns[column]
            elif WELL_KNOWN[column] in given or prune:
                final[column] = None  # given as a variable instead, or gone from the source
            else:
                final[column] = getattr(row, column)
        if any(final[c] != getattr(row, c) for c in final):
            updates.append(dict({"_" + c: v for c, v in final.items()}, _id=row.id))
            changed.add(row.id)
        if set_columns:
            in_columns[name] = [WELL_KNOWN[c] for c in set_columns]
    total = len(snapshot.hosts)
    counter["added"] = writer.insert(table, new_rows, "hosts", total)
    writer.update(table, {c: "_" + c for c in ["region_id"] + columns}, updates)
    if prune:
        gone = [row.id for name, row in existing.items() if name not in snapshot.hosts]
        counter["removed"] = writer.delete_ids(table, gone)
    ids = dict(session.execute(sa.select(table.c.name, table.c.id).where(table.c.tenant_id == tenant.id)).all())
    writer.report("hosts", total, total)
    forced_absent = {ids[name]: keys for name, keys in in_columns.items()}
    return ids, forced_absent, changed, {ids[row["name"]] for row in new_rows}, rest_vars


def _sync_groups(session, writer, snapshot, tenant, prune, counter):
    table = Group.__table__
    existing = dict(session.execute(
        sa.select(table.c.name, table.c.id).where(table.c.tenant_id == tenant.id)).all())
    new_rows = [{"tenant_id": tenant.id, "name": name} for name in snapshot.groups if name not in existing]
    counter["added"] = writer.insert(table, new_rows)
    if prune:
        counter["removed"] = writer.delete_ids(
            table, [gid for name, gid in existing.items() if name not in snapshot.groups])
    ids = dict(session.execute(sa.select(table.c.name, table.c.id).where(table.c.tenant_id == tenant.id)).all())
    writer.report("groups", len(snapshot.groups), len(snapshot.groups))
    return ids, {ids[row["name"]] for row in new_rows}


def _sync_children(session, writer, snapshot, tenant, group_ids, prune, counter):
    table, groups = GroupChild.__table__, Group.__table__
    existing = set(session.execute(
        sa.select(table.c.parent_id, table.c.child_id)
        .join(groups, groups.c.id == table.c.parent_id).where(groups.c.tenant_id == tenant.id)).all())
    wanted = {(group_ids[name], group_ids[child])
              for name, group in snapshot.groups.items() for child in group["children"]}
    kept = existing & wanted
    removed = existing - wanted if prune else set()
    final = wanted | (existing - removed)
    _refuse_cycles(final, {gid: name for name, gid in group_ids.items()})
    counter["added"] = writer.insert(table, [{"parent_id": p, "child_id": c} for p, c in sorted(wanted - existing)])
    counter["removed"] = writer.delete_pairs(table, "parent_id", "child_id", sorted(removed))
    counter["unchanged"] = len(kept)


def _refuse_cycles(edges, names):
    """Raise CratonError naming a cycle if the child links ``edges`` have one."""
    children = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
    state = {}  # 1: on the current path, 2: done
    for root in list(children):
        if state.get(root):
            continue
        path, stack = [root], [iter(children.get(root, ()))]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                cycle = path[path.index(child):] + [child]
                raise CratonError("the import would make a group cycle with the groups already in the "
                                  "tenant: %s (use --prune to replace the tenant's child links)"
                                  % " -> ".join(names.get(g, str(g)) for g in cycle))
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append(iter(children.get(child, ())))


def _sync_members(session, writer, snapshot, tenant, group_ids, host_ids, prune, counter):
    table, groups = GroupHost.__table__, Group.__table__
    existing = set(session.execute(
        sa.select(table.c.group_id, table.c.host_id)
        .join(groups, groups.c.id == table.c.group_id).where(groups.c.tenant_id == tenant.id)).all())
    wanted = {(group_ids[name], host_ids[host])
              for name, group in snapshot.groups.items() for host in group["hosts"]}
    added = wanted - existing
    counter["added"] = writer.insert(table, ({"group_id": g, "host_id": h} for g, h in sorted(added)),
                                     "memberships", len(added))
    if prune:
        counter["removed"] = writer.delete_pairs(table, "group_id", "host_id", sorted(existing - wanted))
    counter["unchanged"] = len(existing & wanted)


def _sync_variables(writer, table, owner, owners_stmt, desired, forced_absent, prune, counter):
    """Make the variables of the owners in ``desired`` (owner id -> {key: value}) equal to
    it: add and update always; remove keys the owner lacks only with ``prune``, and the
    keys in ``forced_absent`` (owner id -> keys) always. Owners are limited to
    ``owners_stmt`` (the tenant's). Returns the ids of the owners that changed."""
    session = writer.session
    serialize = table.c.value.type.bind_processor(session.get_bind().dialect) or (lambda v: v)
    existing = {}
    rows = session.execute(
        sa.select(table.c.id, table.c[owner], table.c.key, sa.type_coerce(table.c.value, sa.Text),
                  table.c.trusted).where(table.c[owner].in_(owners_stmt)))
    for row_id, owner_id, key, raw, trusted in rows:
        if not isinstance(raw, str):  # SQLite gives JSON numbers back as numbers (NUMERIC affinity)
            raw = serialize(raw)
        existing.setdefault(owner_id, {})[key] = (row_id, raw, trusted)
    inserts, updates, deletes, changed = [], [], [], set()
    for owner_id, variables in desired.items():
        have = existing.get(owner_id, {})
        for key, value in variables.items():
            old = have.get(key)
            if old is None:
                inserts.append({owner: owner_id, "key": key, "value": value, "trusted": True})
                changed.add(owner_id)
            elif not old[2] or old[1] != serialize(value):
                updates.append({"_id": old[0], "_value": value, "_trusted": True})
                changed.add(owner_id)
            else:
                counter["unchanged"] += 1
        drop = set(forced_absent.get(owner_id, ()))
        if prune:
            drop |= set(have) - set(variables)
        for key in drop & set(have):
            deletes.append(have[key][0])
            changed.add(owner_id)
    counter["added"] += writer.insert(table, inserts, "variables", len(inserts))
    counter["updated"] += writer.update(table, {"value": "_value", "trusted": "_trusted"}, updates)
    counter["removed"] += writer.delete_ids(table, deletes)
    return changed
