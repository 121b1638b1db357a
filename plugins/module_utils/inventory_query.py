# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory for these filters: the one code path that reads the fleet for Ansible.

:func:`load_inventory` reads the filtered inventory with a fixed number of
set-based queries (Core ``select()`` of the needed columns, no ORM objects, no
query per host) and returns plain data (lists, dicts, strings) that the
inventory plugin, the exporter, the REST API and ``craton explain`` all use,
and that an inventory cache can store as JSON::

    {
      "tenants": [{"id", "name", "vars", "untrusted"}],
      "regions": [{"id", "name", "tenant", "vars", "untrusted"}],
      "groups":  [{"id", "name", "tenant", "vars", "untrusted", "priority",
                   "children": [group names], "hosts": [host names],
                   "references": [{"url", "sha256", "position"}]}],
      "hosts":   [{"id", "name", "tenant", "region", "vars", "untrusted",
                   "well_known": {"ansible_host": ...}, "groups": [group names],
                   "secrets": [{"id", "name", "kind", "ciphertext"}]}],
      "warnings": [str],
    }

``vars`` are a host's / group's own variables; ``untrusted`` lists the keys
whose value was written by an untrusted path (``trusted`` false in the
database): such values must never be rendered as templates. ``well_known``
holds the non-null well-known host columns under their Ansible names
(``models.WELL_KNOWN``). ``secrets`` is only loaded when asked and holds the
ciphertext, never the plaintext. Host names are unique in the result (a name
found in two loaded tenants is an error), and so are group names.
"""

from __future__ import annotations

import fnmatch
import json
import re

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.names import check_var_name

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import (
        WELL_KNOWN, Group, GroupChild, GroupHost, GroupVariable, Host, HostVariable, Region,
        RegionVariable, Secret, Tenant, TenantVariable, VarsReference)

FILTER_OPTIONS = ("tenant", "regions", "groups", "hosts", "host_vars", "active_only", "reachable")
DEFAULT_GROUP_PRIORITY = 1
# Rows fetched per round trip when streaming the big results (hosts, host variables).
STREAM_ROWS = 10000
_PATTERN_CHARS = re.compile(r"[*?\[]")
_EMPTY = ()
_JSON_CONSTANTS = {"true": True, "false": False, "null": None}
_NUMBER_START = frozenset("-0123456789")


def _json_value(raw, _loads=json.loads):
    """Decode a variable's value as read raw from the database (JSON text).

    Simple strings and constants skip the JSON parser: at a million values this
    is most of the cost of reading them. SQLite may hand back numbers as numbers
    (the JSON column has numeric affinity)."""
    if not isinstance(raw, str):
        if isinstance(raw, (bytes, bytearray)):
            return _loads(raw.decode("utf-8"))
        return raw
    first = raw[:1]
    if first == '"' and "\\" not in raw:
        return raw[1:-1]
    if first in _NUMBER_START:
        try:
            return int(raw)
        except ValueError:
            return float(raw)
    if raw in _JSON_CONSTANTS:
        return _JSON_CONSTANTS[raw]
    return _loads(raw)


def _raw(column):
    """Select a JSON column as its stored text (decoded by :func:`_json_value`)."""
    return sa.type_coerce(column, sa.UnicodeText())


def _stream(conn, stmt):
    """Rows of a big result without holding them all in memory.

    SQLite's cursor already steps through the result lazily, so plain iteration is
    both the cheapest and streaming; MySQL/MariaDB drivers buffer the whole result
    unless asked for a server-side cursor, so there the rows come in chunks."""
    if conn.dialect.name == "sqlite":
        return conn.execute(stmt)
    return _chunks(conn.execute(stmt, execution_options={"yield_per": STREAM_ROWS}))


def _chunks(result):
    for chunk in result.partitions():
        yield from chunk


def check_filters(filters):
    """Validate and normalise a mapping of filters; returns a new dict with every key.

    Raises CratonError naming the first bad filter."""
    filters = dict(filters or {})
    unknown = sorted(set(filters) - set(FILTER_OPTIONS))
    if unknown:
        raise CratonError("unknown inventory filter %s: use %s" % (", ".join(map(repr, unknown)),
                                                                   ", ".join(FILTER_OPTIONS)))
    out = {}
    tenant = filters.get("tenant")
    if tenant is not None and (not isinstance(tenant, str) or not tenant):
        raise CratonError("filter tenant must be a tenant name, not %r" % (tenant,))
    out["tenant"] = tenant or None
    for key in ("regions", "groups", "hosts"):
        value = filters.get(key)
        if isinstance(value, str):
            value = [value]
        if value is not None and (not isinstance(value, (list, tuple))
                                  or not all(isinstance(v, str) and v for v in value)):
            raise CratonError("filter %s must be a list of names, not %r" % (key, value))
        out[key] = list(value) if value else None
    host_vars = filters.get("host_vars")
    if host_vars is not None:
        if not isinstance(host_vars, dict):
            raise CratonError("filter host_vars must be a mapping of variable names to accepted "
                              "values, not %r" % (host_vars,))
        for key in host_vars:
            check_var_name(key, "host_vars filter variable")
        host_vars = {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in host_vars.items()}
    out["host_vars"] = host_vars or None
    active_only = filters.get("active_only", True)
    if active_only is None:
        active_only = True
    if not isinstance(active_only, bool):
        raise CratonError("filter active_only must be true or false, not %r" % (active_only,))
    out["active_only"] = active_only
    reachable = filters.get("reachable")
    if reachable is not None and not isinstance(reachable, bool):
        raise CratonError("filter reachable must be true, false or null, not %r" % (reachable,))
    out["reachable"] = reachable
    return out


def empty_inventory(warnings=()):
    """An inventory with nothing in it."""
    return {"tenants": [], "regions": [], "groups": [], "hosts": [], "warnings": list(warnings)}


class _Problems:
    """Unknown names in filters: an error when strict, else warnings."""

    def __init__(self, strict):
        self.strict = strict
        self.warnings = []

    def unknown(self, what, names, where):
        if not names:
            return
        message = "%s %s%s named in the inventory filter %s not exist%s" % (
            what if len(names) == 1 else what + "s", ", ".join(map(repr, sorted(names))),
            " " + where if where else "", "does" if len(names) == 1 else "do",
            "" if self.strict else "; it selects no hosts")
        if self.strict:
            raise NotFound(message)
        self.warnings.append(message)


def _matches(value, accepted):
    """``value`` equals one of ``accepted`` (True is not 1, as in JSON)."""
    is_bool = isinstance(value, bool)
    return any(value == a and isinstance(a, bool) == is_bool for a in accepted)


def _vars_by_owner(conn, stmt):
    """Run ``select(owner_id, key, raw value, trusted)``; -> {owner_id: (vars, untrusted keys)}."""
    owners = {}
    for owner, key, value, trusted in conn.execute(stmt):
        entry = owners.get(owner)
        if entry is None:
            entry = owners[owner] = ({}, [])
        entry[0][key] = _json_value(value)
        if not trusted:
            entry[1].append(key)
    return owners


def _descendants(edges, roots):
    seen, stack = set(roots), list(roots)
    while stack:
        for child in edges.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def _name_matcher(patterns):
    """(exact names, SQL LIKE prefilters or None, python predicate) for the hosts filter."""
    exact = [p for p in patterns if not _PATTERN_CHARS.search(p)]
    globs = [p for p in patterns if _PATTERN_CHARS.search(p)]
    if not globs:
        names = set(exact)
        return exact, [], names.__contains__
    regex = re.compile("|".join(fnmatch.translate(p) for p in globs))
    names = set(exact)
    likes = []
    for glob in globs:
        if "[" in glob:
            likes = None  # a character class has no LIKE equivalent: filter in Python only
            break
        likes.append(glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                     .replace("*", "%").replace("?", "_"))
    return exact, likes, lambda name: name in names or regex.match(name) is not None


def load_inventory(session, filters=None, strict=False, with_secrets=False):
    """The inventory for ``filters`` (see :func:`check_filters`) as plain data.

    ``strict``: an unknown tenant, region or group named in a filter raises
    NotFound; otherwise it adds a warning and selects no hosts.
    ``with_secrets``: also load each host's secrets (ciphertext only).
    The number of statements does not depend on the size of the fleet."""
    f = check_filters(filters)
    problems = _Problems(strict)
    # Core statements on the session's connection: plain tuples, no ORM machinery per row.
    conn = session.connection() if hasattr(session, "connection") and not hasattr(session, "exec_driver_sql") \
        else session

    # 1. tenants
    stmt = sa.select(Tenant.id, Tenant.name).order_by(Tenant.id)
    if f["tenant"]:
        stmt = stmt.where(Tenant.name == f["tenant"])
    tenants = dict(conn.execute(stmt).all())
    if f["tenant"] and not tenants:
        problems.unknown("tenant", [f["tenant"]], "")
        return empty_inventory(problems.warnings)
    if not tenants:
        return empty_inventory()
    tenant_ids = list(tenants) if f["tenant"] else None

    def in_tenants(column):
        return (column.in_(tenant_ids),) if tenant_ids else ()

    # 2. regions, 3. groups, 4. group edges
    regions = {rid: (name, tid) for rid, name, tid in conn.execute(
        sa.select(Region.id, Region.name, Region.tenant_id).where(*in_tenants(Region.tenant_id))
        .order_by(Region.id))}
    groups = {gid: (name, tid) for gid, name, tid in conn.execute(
        sa.select(Group.id, Group.name, Group.tenant_id).where(*in_tenants(Group.tenant_id))
        .order_by(Group.id))}
    edges = {}
    for parent, child in conn.execute(
            sa.select(GroupChild.parent_id, GroupChild.child_id)
            .join(Group, Group.id == GroupChild.parent_id).where(*in_tenants(Group.tenant_id))
            .order_by(GroupChild.parent_id, GroupChild.child_id)):
        edges.setdefault(parent, []).append(child)

    region_ids = None
    if f["regions"]:
        wanted = set(f["regions"])
        region_ids = [rid for rid, (name, _t) in regions.items() if name in wanted]
        problems.unknown("region", wanted - {regions[r][0] for r in region_ids},
                         "in tenant %r" % f["tenant"] if f["tenant"] else "")
        regions = {rid: regions[rid] for rid in region_ids}
    group_filter_ids = None
    if f["groups"]:
        wanted = set(f["groups"])
        roots = [gid for gid, (name, _t) in groups.items() if name in wanted]
        problems.unknown("group", wanted - {groups[g][0] for g in roots},
                         "in tenant %r" % f["tenant"] if f["tenant"] else "")
        group_filter_ids = sorted(_descendants(edges, roots))

    # Host conditions shared by the host, host-variable, membership and secret queries.
    conds = list(in_tenants(Host.tenant_id))
    if region_ids is not None:
        conds.append(Host.region_id.in_(region_ids or [-1]))
    if group_filter_ids is not None:
        conds.append(Host.id.in_(sa.select(GroupHost.host_id)
                                 .where(GroupHost.group_id.in_(group_filter_ids or [-1]))))
    if f["active_only"]:
        conds.append(Host.active.is_(True))
    if f["reachable"] is True:
        conds.append(sa.or_(Host.last_status.is_(None), Host.last_status != "unreachable"))
    elif f["reachable"] is False:
        conds.append(Host.last_status == "unreachable")
    name_ok = None
    if f["hosts"]:
        exact, likes, name_ok = _name_matcher(f["hosts"])
        if likes is not None:
            conds.append(sa.or_(Host.name.in_(exact or [""]),
                                *(Host.name.like(like, escape="\\") for like in likes)))

    # 5-8. variables of tenants, regions and groups; vars references
    tenant_vars = _vars_by_owner(conn, sa.select(
        TenantVariable.tenant_id, TenantVariable.key, _raw(TenantVariable.value), TenantVariable.trusted)
        .where(*in_tenants(TenantVariable.tenant_id)))
    region_vars = _vars_by_owner(conn, sa.select(
        RegionVariable.region_id, RegionVariable.key, _raw(RegionVariable.value), RegionVariable.trusted)
        .join(Region, Region.id == RegionVariable.region_id).where(*in_tenants(Region.tenant_id)))
    group_vars = _vars_by_owner(conn, sa.select(
        GroupVariable.group_id, GroupVariable.key, _raw(GroupVariable.value), GroupVariable.trusted)
        .join(Group, Group.id == GroupVariable.group_id).where(*in_tenants(Group.tenant_id)))
    references = {}
    for gid, url, sha256, position in conn.execute(
            sa.select(VarsReference.group_id, VarsReference.url, VarsReference.sha256, VarsReference.position)
            .join(Group, Group.id == VarsReference.group_id).where(*in_tenants(Group.tenant_id))
            .order_by(VarsReference.group_id, VarsReference.position)):
        references.setdefault(gid, []).append({"url": url, "sha256": sha256, "position": position})

    # 9. hosts
    columns = [getattr(Host, column) for column in WELL_KNOWN]
    ansible_names = list(WELL_KNOWN.values())
    hosts = {}
    first_column = 4
    for row in _stream(conn, sa.select(Host.id, Host.name, Host.tenant_id, Host.region_id, *columns)
                       .where(*conds).order_by(Host.id)):
        if name_ok is not None and not name_ok(row[1]):
            continue
        region = regions.get(row[3])
        well_known = {}
        for index, ansible_name in enumerate(ansible_names, first_column):
            if row[index] is not None:
                well_known[ansible_name] = row[index]
        hosts[row[0]] = {
            "id": row[0], "name": row[1], "tenant": tenants[row[2]],
            "region": region[0] if region else None,
            "vars": {}, "untrusted": _EMPTY, "well_known": well_known, "groups": [],
        }

    # 10. host variables
    for host_id, key, value, trusted in _stream(
            conn, sa.select(HostVariable.host_id, HostVariable.key, _raw(HostVariable.value), HostVariable.trusted)
            .join(Host, Host.id == HostVariable.host_id).where(*conds)):
        host = hosts.get(host_id)
        if host is None:
            continue
        host["vars"][key] = _json_value(value)
        if not trusted:
            if host["untrusted"] is _EMPTY:
                host["untrusted"] = []
            host["untrusted"].append(key)

    if f["host_vars"]:
        accepted = f["host_vars"]
        hosts = {hid: h for hid, h in hosts.items()
                 if all(k in h["vars"] and _matches(h["vars"][k], values) for k, values in accepted.items())}

    # 11. group memberships
    members = {}
    for gid, host_id in _stream(conn, sa.select(GroupHost.group_id, GroupHost.host_id)
                                .join(Host, Host.id == GroupHost.host_id).where(*conds)
                                .order_by(GroupHost.group_id, GroupHost.host_id)):
        host = hosts.get(host_id)
        group = groups.get(gid)
        if host is None or group is None:
            continue
        members.setdefault(gid, []).append(host["name"])
        host["groups"].append(group[0])

    # 12. secrets (ciphertext only)
    if with_secrets:
        for host in hosts.values():
            host["secrets"] = []
        for sid, host_id, name, kind, ciphertext in conn.execute(
                sa.select(Secret.id, Secret.host_id, Secret.name, Secret.kind, Secret.ciphertext)
                .join(Host, Host.id == Secret.host_id).where(*conds).order_by(Secret.host_id, Secret.name)):
            host = hosts.get(host_id)
            if host is not None:
                host["secrets"].append({"id": sid, "name": name, "kind": kind,
                                        "ciphertext": bytes(ciphertext).decode("ascii")})

    _check_unique(tenants, [(h["name"], h["tenant"]) for h in hosts.values()], "host")
    _check_unique(tenants, [(name, tenants[tid]) for name, tid in groups.values()], "group")

    group_names = {gid: name for gid, (name, _t) in groups.items()}
    out = empty_inventory(problems.warnings)
    out["tenants"] = [_owner(tid, name, tenant_vars.get(tid)) for tid, name in tenants.items()]
    for rid, (name, tid) in regions.items():
        entry = _owner(rid, name, region_vars.get(rid))
        entry["tenant"] = tenants[tid]
        out["regions"].append(entry)
    for gid, (name, tid) in groups.items():
        entry = _owner(gid, name, group_vars.get(gid))
        entry.update(tenant=tenants[tid], priority=_priority(entry["vars"], name),
                     children=[group_names[c] for c in edges.get(gid, ()) if c in group_names],
                     hosts=members.get(gid, []), references=references.get(gid, []))
        out["groups"].append(entry)
    out["hosts"] = list(hosts.values())
    return out


def _owner(oid, name, found):
    variables, untrusted = found or ({}, [])
    return {"id": oid, "name": name, "vars": variables, "untrusted": untrusted}


def _priority(variables, group):
    value = variables.get("ansible_group_priority", DEFAULT_GROUP_PRIORITY)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CratonError("group %r: ansible_group_priority must be an integer, not %r" % (group, value)) from None


def _check_unique(tenants, pairs, what):
    """Refuse two loaded tenants sharing a host or group name: Ansible would merge them."""
    if len(tenants) < 2:
        return
    seen = {}
    for name, tenant in pairs:
        other = seen.setdefault(name, tenant)
        if other != tenant:
            raise CratonError("%s %r exists in tenants %r and %r; Ansible cannot tell them apart: "
                              "set the tenant filter to load one tenant" % (what, name, other, tenant))
