# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.host: one host, or many (``hosts:``) in one transaction.

One host is a bulk of one: the same code plans and writes both, with a fixed
number of set-based statements whatever the number of hosts (see bulk_sql):
the tenant, its regions and groups, the existing hosts, their variables and
memberships are read in a few chunked queries, and the writes are batched.

Options that are not given are left as they are. ``""`` clears a string column
or the region, ``port: 0`` clears the port. ``groups`` comes with
``groups_mode`` (add, the default; replace; remove); every group and region
named must exist in the tenant.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils import bulk_sql, fleet
from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.names import check_name
from ansible_collections.craton.fleet.plugins.module_utils.resources import (
    Change, Resource, load_variables, plan_members, plan_variables, resolve_names, write_variables)

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import Group, GroupHost, Host, Region

COLUMNS = ("ip_address", "port", "user", "connection")
HOST_OPTIONS = ("name", "region", "ip_address", "port", "user", "connection", "active", "groups",
                "groups_mode", "vars", "vars_mode", "absent_vars", "state")
# Single-host options that cannot be combined with ``hosts``.
SINGLE_ONLY = ("name", "new_name", "region", "ip_address", "port", "user", "connection", "active", "groups",
               "vars", "absent_vars")
IDENTITY = ("tenant", "name")


def host_specs(params):
    """The host definitions of a task: ``hosts`` with the task-level defaults, or the one host."""
    if params.get("hosts") is None:
        return [dict((key, params.get(key)) for key in HOST_OPTIONS + ("new_name",))], False
    given = [key for key in SINGLE_ONLY if params.get(key) is not None]
    if given:
        raise CratonError("%s cannot be combined with hosts: put them in each host definition"
                          % ", ".join(given))
    specs = []
    for item in params["hosts"]:
        spec = dict((key, item.get(key)) for key in HOST_OPTIONS)
        for key in ("groups_mode", "vars_mode", "state"):
            if spec[key] is None:
                spec[key] = params[key]
        specs.append(spec)
    return specs, True


def _column_value(spec, key, label):
    value = spec.get(key)
    if key == "port":
        if value == 0:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
            raise CratonError("%s: invalid port %r: use 1 to 65535 (0 clears it)" % (label, value))
        return value
    return value if value != "" else None


class HostResource(Resource):
    """craton.fleet.host"""

    kind = "host"

    def __init__(self, params):
        super().__init__(params)
        self.specs, self.bulk = host_specs(params)

    def label(self, name):
        """How messages and diffs name a host."""
        return "host %r of tenant %r" % (name, self.tenant.name)

    def plan(self, session):
        self.tenant = tenant = fleet.get_tenant(session, self.params["tenant"])
        specs = self.specs
        seen = set()
        for spec in specs:
            check_name(spec["name"], "host")
            if spec["name"] in seen:
                raise CratonError("host %r is listed twice in hosts" % spec["name"])
            seen.add(spec["name"])
        rows = self._existing(session, specs)
        self.regions = dict(session.execute(sa.select(Region.name, Region.id)
                                            .where(Region.tenant_id == tenant.id)).all())
        region_names = dict((rid, name) for name, rid in self.regions.items())
        wanted_regions = sorted(set(s["region"] for s in specs if s["region"]) - set(self.regions))
        if wanted_regions:
            raise NotFound("%s: %s not exist" % (
                self.label(specs[0]["name"]) if not self.bulk else "hosts of tenant %r" % tenant.name,
                ", ".join("region %r" % r for r in wanted_regions) + (" does" if len(wanted_regions) == 1 else " do")))

        ids = [row.id for row in rows.values()]
        with_vars = not self.bulk or any(s["vars"] is not None or s["absent_vars"] for s in specs)
        with_groups = not self.bulk or any(s["groups"] is not None for s in specs)
        variables, self.var_ids = load_variables(session, "host", ids) if with_vars else ({}, {})
        self.group_ids, memberships = {}, {}
        if with_groups:
            listed = set(g for s in specs for g in (s["groups"] or ()))
            if listed:
                self.group_ids = resolve_names(session, Group, tenant.id, listed, "group",
                                               self.label(specs[0]["name"]) if not self.bulk
                                               else "hosts of tenant %r" % tenant.name)
            for host_id, name, group_id in bulk_sql.select_in(
                    session, sa.select(GroupHost.host_id, Group.name, Group.id)
                    .join(Group, Group.id == GroupHost.group_id), GroupHost.host_id, ids):
                memberships.setdefault(host_id, []).append(name)
                self.group_ids[name] = group_id

        changes = []
        for spec in specs:
            row = rows.get(spec["name"])
            if row is None and spec.get("new_name"):
                row = rows.get(spec["new_name"])
            before = None
            if row is not None:
                before = {"tenant": tenant.name, "name": row.name, "region": region_names.get(row.region_id),
                          "ip_address": row.ip_address, "port": row.port, "user": row.user,
                          "connection": row.connection, "active": row.active}
                if with_groups:
                    before["groups"] = sorted(memberships.get(row.id, ()))
                if with_vars:
                    before["vars"] = variables.get(row.id, {})
            label = self.label(row.name if row is not None else spec["name"])
            after = None
            if spec["state"] == "present":
                after = self._after(spec, before, label, with_vars, with_groups)
            changes.append(Change(label, before, after, identity=IDENTITY, data=row.id if row is not None else None))
        return changes

    def _existing(self, session, specs):
        names = [s["name"] for s in specs]
        new_name = specs[0].get("new_name") if not self.bulk else None
        if new_name is not None and new_name != specs[0]["name"]:
            if specs[0]["state"] == "absent":
                raise CratonError("%s: new_name cannot be used with state=absent" % self.label(specs[0]["name"]))
            check_name(new_name, "host")
            names.append(new_name)
        stmt = sa.select(Host.id, Host.name, Host.region_id, Host.ip_address, Host.port, Host.user,
                         Host.connection, Host.active).where(Host.tenant_id == self.tenant.id)
        rows = dict((row.name, row) for row in bulk_sql.select_in(session, stmt, Host.name, names))
        if new_name is not None and new_name != specs[0]["name"] and specs[0]["name"] in rows and new_name in rows:
            raise Conflict("cannot rename %s to %r: host %r already exists"
                           % (self.label(specs[0]["name"]), new_name, new_name))
        return rows

    def _after(self, spec, before, label, with_vars, with_groups):
        after = dict(before) if before else {"tenant": self.tenant.name, "region": None, "ip_address": None,
                                             "port": None, "user": None, "connection": None, "active": True}
        after["name"] = spec.get("new_name") or spec["name"]
        if spec["region"] is not None:
            after["region"] = spec["region"] or None
        for key in COLUMNS:
            if spec[key] is not None:
                after[key] = _column_value(spec, key, label)
        if spec["active"] is not None:
            after["active"] = spec["active"]
        if with_groups:
            after["groups"] = plan_members(before["groups"] if before else [], spec["groups"], spec["groups_mode"])
        if with_vars:
            after["vars"] = plan_variables(before["vars"] if before else {}, spec, label)
        return after

    def write(self, session, changes):
        tenant_id = self.tenant.id
        gone = [c.data for c in changes if c.after is None]
        bulk_sql.delete_in(session, Host.id, gone)
        fields = ("name", "region", "active") + COLUMNS
        updates, inserts = [], []
        for change in changes:
            after = change.after
            if after is None:
                continue
            row = dict((key, after[key]) for key in fields)
            region = row.pop("region")
            row["region_id"] = self.regions[region] if region else None
            if change.before is None:
                row["tenant_id"] = tenant_id
                inserts.append(row)
                continue
            before = change.before
            update = dict((key, row[key]) for key in row if key != "region_id" and before[key] != after[key])
            if before["region"] != after["region"]:
                update["region_id"] = row["region_id"]
            if update:
                update["id"] = change.data
                updates.append(update)
        bulk_sql.update_rows(session, Host, updates)
        bulk_sql.insert_rows(session, Host, inserts)
        if inserts:
            stmt = sa.select(Host.name, Host.id).where(Host.tenant_id == tenant_id)
            new_ids = dict(bulk_sql.select_in(session, stmt, Host.name, [row["name"] for row in inserts]))
            for change in changes:
                if change.before is None and change.after is not None:
                    change.data = new_ids[change.after["name"]]
        present = [c for c in changes if c.after is not None]
        if present and "vars" in present[0].after:
            write_variables(session, "host", [(c.data, c.before["vars"] if c.before else {}, c.after["vars"])
                                              for c in present], self.var_ids,
                            trusted=self.params.get("trusted", True))
        if present and "groups" in present[0].after:
            adds, removes = [], []
            for c in present:
                old = set(c.before["groups"]) if c.before else set()
                new = set(c.after["groups"])
                adds.extend({"group_id": self.group_ids[g], "host_id": c.data} for g in sorted(new - old))
                removes.extend((self.group_ids[g], c.data) for g in sorted(old - new))
            bulk_sql.delete_pairs(session, GroupHost.group_id, GroupHost.host_id, removes)
            bulk_sql.insert_rows(session, GroupHost, adds)

    def result(self, changes):
        if not self.bulk:
            return super().result(changes)
        summary = {"created": [], "updated": [], "removed": [], "unchanged": 0}
        for change in changes:
            if not change.changed:
                summary["unchanged"] += 1
            elif change.before is None:
                summary["created"].append(change.after["name"])
            elif change.after is None:
                summary["removed"].append(change.before["name"])
            else:
                summary["updated"].append(change.after["name"])
        return {"summary": summary}
