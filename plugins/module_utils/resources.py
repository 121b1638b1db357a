# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one create/update/delete/diff engine behind the craton.fleet modules.

A module describes what it manages with a :class:`Resource`; :func:`apply` runs it:

1. ``resource.plan(session)`` reads the current state and computes the wanted
   one, as plain dicts (a list of :class:`Change`, one per object). It
   validates everything (names, references, cycles, secrets) and writes nothing.
2. Unless in check mode, ``resource.write(session, changes)`` writes the
   changes that are real changes.
3. The task result: ``changed``, the resource's return values, and with
   ``--diff`` the before/after of the changed fields.

Plan and write run in one transaction (``db.run_in_transaction``: deadlocks and
Galera certification failures are retried there). A unique-key race with a
concurrent task (both saw no row, both insert) surfaces as an IntegrityError at
write time; the whole transaction is then planned again from fresh data, and
only a conflict that persists becomes an error. Either everything of a task is
written, or nothing.

This module also holds what tenants, regions and groups share
(:class:`NamedResource`: name, new_name, description, variables) and the
variable rules (:func:`plan_variables`, :func:`write_variables`).
"""

from __future__ import annotations

import json

from ansible_collections.craton.fleet.plugins.module_utils import bulk_sql, db, fleet
from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.names import check_name, check_var_name

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc
    from ansible_collections.craton.fleet.plugins.module_utils.models import VARIABLE_MODELS, Region, Tenant

# How often a task is planned again after losing a unique-key race.
RACE_ATTEMPTS = 4
MASK = "********"
# Variable names already checked in this process (10,000 hosts share their 10 names).
_VALID_KEYS = set()


def same(a, b):
    """True when two JSON values are the same value of the same types (1, 1.0 and true differ)."""
    if type(a) is not type(b):  # pylint: disable=unidiomatic-typecheck
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(key in b and same(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


class Change:
    """One object's state before and after (plain dicts; None = does not exist)."""

    __slots__ = ("label", "before", "after", "identity", "data", "changed")

    def __init__(self, label, before, after, identity=("name",), data=None):
        self.label = label
        self.before = before
        self.after = after
        self.identity = identity
        self.data = data  # what write() needs (ids, rows), never shown
        self.changed = not same(before, after)  # whether writing it alters the database

    def diff(self):
        """Ansible's diff dict: the changed fields only (all fields on create/delete)."""
        before, after = self.before, self.after
        if before is not None and after is not None:
            before, after = _changed_fields(before, after, self.identity)
        return {"before_header": self.label, "after_header": self.label,
                "before": before or {}, "after": after or {}}


def _changed_fields(before, after, identity):
    b, a = {}, {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key in identity:
            b[key], a[key] = old, new
        elif key == "vars" and isinstance(old, dict) and isinstance(new, dict):
            keys = sorted(k for k in set(old) | set(new) if k not in old or k not in new or not same(old[k], new[k]))
            if keys:
                b[key] = dict((k, old[k]) for k in keys if k in old)
                a[key] = dict((k, new[k]) for k in keys if k in new)
        elif not same(old, new):
            b[key], a[key] = old, new
    return b, a


class Resource:
    """What a module manages. Subclasses implement plan(), write() and result()."""

    kind = "object"

    def __init__(self, params):
        self.params = params

    def plan(self, session):
        """Read and validate; return the list of Change. Must not write."""
        raise NotImplementedError

    def write(self, session, changes):
        """Write the changes (only those with ``changed`` true are passed)."""
        raise NotImplementedError

    def result(self, changes):
        """Return values besides ``changed`` and ``diff``: the object after the task."""
        after = changes[0].after if changes else None
        return {self.kind: self.public(after) if after is not None else {}}

    def public(self, state):
        """The state as returned to the user (override to hide fields)."""
        return state


class _LostRace(Exception):
    """A unique-key or foreign-key race with a concurrent transaction."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def apply(resource, url, check_mode=False, diff=False):
    """Plan and (unless ``check_mode``) write ``resource`` in one transaction; the task result."""
    engine = db.connect(url)

    def work(session):
        changes = resource.plan(session)
        real = [change for change in changes if change.changed]
        if real and not check_mode:
            try:
                resource.write(session, real)
                session.flush()
            except sa_exc.IntegrityError as e:
                raise _LostRace(e) from None
        return changes

    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            changes = db.run_in_transaction(engine, work)
            break
        except _LostRace as race:
            if attempt == RACE_ATTEMPTS:
                raise Conflict("the change conflicts with the fleet database: %s"
                               % db._orig_message(race.error)) from None  # pylint: disable=protected-access
    result = {"changed": any(change.changed for change in changes)}
    result.update(resource.result(changes))
    if diff:
        diffs = [change.diff() for change in changes if change.changed]
        if len(diffs) == 1:
            result["diff"] = diffs[0]
        elif diffs:
            result["diff"] = diffs
    return result


# --- variables --------------------------------------------------------------------

def plan_variables(current, params, label):
    """The variables wanted by ``vars``/``vars_mode``/``absent_vars`` given ``current``.

    ``vars_mode=merge`` keeps keys not given, ``replace`` drops them (only when
    ``vars`` is given); ``absent_vars`` are removed in either mode."""
    variables = params.get("vars")
    absent = params.get("absent_vars") or []
    try:
        for key in list(variables or ()) + list(absent):
            if key not in _VALID_KEYS:
                _VALID_KEYS.add(check_var_name(key))
    except CratonError as e:
        raise CratonError("%s: %s" % (label, e)) from None
    if absent and variables:
        both = sorted(set(variables) & set(absent))
        if both:
            raise CratonError("%s: variable %s both in vars and absent_vars" % (label, ", ".join(map(repr, both))))
    if variables is None:
        wanted = dict(current)
    elif params.get("vars_mode") == "replace":
        wanted = dict(variables)
    else:
        wanted = dict(current)
        wanted.update(variables)
    for key in absent:
        wanted.pop(key, None)
    return wanted


def load_variables(session, owner_kind, owner_ids):
    """``{owner_id: {key: value}}`` of many owners, and ``{(owner_id, key): row id}``.

    The JSON texts are decoded in one ``json.loads`` call (100,000 small values
    decode several times faster that way than one by one)."""
    model = VARIABLE_MODELS[owner_kind]
    fk = getattr(model, owner_kind + "_id")
    rows = bulk_sql.select_in(session, sa.select(fk, model.id, model.key, sa.type_coerce(model.value, sa.Text)),
                              fk, owner_ids)
    # SQLite gives numbers back as numbers (the JSON column has numeric affinity).
    decoded = json.loads("[%s]" % ",".join(row[3] if isinstance(row[3], str) else "null" if row[3] is None
                                           else repr(row[3]) for row in rows))
    values, ids = {}, {}
    for (owner_id, row_id, key, _text), value in zip(rows, decoded):
        values.setdefault(owner_id, {})[key] = value
        ids[(owner_id, key)] = row_id
    return values, ids


def write_variables(session, owner_kind, plans, row_ids, trusted=True):
    """Write variables of many owners: ``plans`` is ``[(owner_id, before, after)]``
    (dicts), ``row_ids`` is from :func:`load_variables`. Set-based. ``trusted`` is
    the provenance of the values written (false for the REST API's non-admins);
    a value that does not change keeps its provenance."""
    model = VARIABLE_MODELS[owner_kind]
    fk_name = owner_kind + "_id"
    inserts, updates, deletes = [], [], []
    for owner_id, before, after in plans:
        for key in before:
            if key not in after:
                deletes.append(row_ids[(owner_id, key)])
        for key, value in after.items():
            if key not in before:
                inserts.append({fk_name: owner_id, "key": key, "value": value, "trusted": trusted})
            elif not same(before[key], value):
                updates.append({"id": row_ids[(owner_id, key)], "value": value, "trusted": trusted})
    bulk_sql.delete_in(session, model.id, deletes)
    bulk_sql.update_rows(session, model, updates)
    bulk_sql.insert_rows(session, model, inserts)


# --- references -----------------------------------------------------------------

def resolve_names(session, model, tenant_id, names, what, label):
    """``{name: id}`` of named rows (groups, hosts, regions) of a tenant; NotFound naming the missing."""
    names = sorted(set(names))
    found = dict(bulk_sql.select_in(session, sa.select(model.name, model.id).where(model.tenant_id == tenant_id),
                                    model.name, names))
    missing = [name for name in names if name not in found]
    if missing:
        listed = ", ".join("%s %r" % (what, n) for n in missing)
        raise NotFound("%s: %s %s not exist" % (label, listed, "does" if len(missing) == 1 else "do"))
    return found


# --- tenants, regions, groups ----------------------------------------------------

def check_modes(mode, what):
    """``mode`` if it is add, replace or remove."""
    if mode not in ("add", "replace", "remove"):
        raise CratonError("invalid %s %r: use add, replace or remove" % (what, mode))
    return mode


def plan_members(current, listed, mode):
    """The names wanted by a list option with an add/replace/remove mode (sorted)."""
    if listed is None:
        return sorted(current)
    if mode == "replace":
        return sorted(set(listed))
    if mode == "remove":
        return sorted(set(current) - set(listed))
    return sorted(set(current) | set(listed))


class NamedResource(Resource):
    """A named object with a description and variables: tenant, region, group.

    Subclasses set ``model``/``kind`` and may add fields with ``read_extra``,
    ``plan_extra`` and ``write_extra``."""

    model = None
    scoped = True  # belongs to a tenant

    def label(self, name):
        """How messages and diffs name the object."""
        if self.scoped:
            return "%s %r of tenant %r" % (self.kind, name, self.params["tenant"])
        return "%s %r" % (self.kind, name)

    def scope(self, session):
        """The columns that place the object (``tenant_id``), resolving the tenant."""
        if not self.scoped:
            return {}
        self.tenant = fleet.get_tenant(session, self.params["tenant"])
        return {"tenant_id": self.tenant.id}

    def identity_fields(self):
        """Fields always shown in a diff."""
        return ("tenant", "name") if self.scoped else ("name",)

    def _find(self, session, name, where):
        return session.scalars(sa.select(self.model).filter_by(name=name, **where)).one_or_none()

    def locate(self, session):
        """The existing object (by name, else by new_name: already renamed) or None."""
        name, new_name = self.params["name"], self.params.get("new_name")
        check_name(name, self.kind)
        self.where = self.scope(session)
        obj = self._find(session, name, self.where)
        if new_name is not None and new_name != name:
            if self.params["state"] == "absent":
                raise CratonError("%s: new_name cannot be used with state=absent" % self.label(name))
            check_name(new_name, self.kind)
            target = self._find(session, new_name, self.where)
            if obj is not None and target is not None:
                raise Conflict("cannot rename %s to %r: %s %r already exists"
                               % (self.label(name), new_name, self.kind, new_name))
            if obj is None:
                obj = target
        return obj

    def plan(self, session):
        self.obj = obj = self.locate(session)
        before = None
        if obj is not None:
            variables, self.var_ids = load_variables(session, self.kind, [obj.id])
            before = {"name": obj.name, "description": obj.description, "vars": variables.get(obj.id, {})}
            if self.scoped:
                before["tenant"] = self.tenant.name
            self.read_extra(session, obj, before)
        label = self.label(obj.name if obj is not None else self.params["name"])
        after = None
        if self.params["state"] == "present":
            after = dict(before) if before else {"description": None, "vars": {}}
            if self.scoped:
                after["tenant"] = self.tenant.name
            after["name"] = self.params.get("new_name") or self.params["name"]
            if self.params.get("description") is not None:
                after["description"] = self.params["description"]
            after["vars"] = plan_variables(before["vars"] if before else {}, self.params, label)
            self.plan_extra(session, obj, before, after, label)
        return [Change(label, before, after, identity=self.identity_fields())]

    def write(self, session, changes):
        change = changes[0]
        obj, before, after = self.obj, change.before, change.after
        if after is None:
            session.execute(sa.delete(self.model).where(self.model.id == obj.id))
            return
        if obj is None:
            obj = self.model(name=after["name"], description=after["description"], **self.where)
            session.add(obj)
            session.flush()
            before_vars, self.var_ids = {}, {}
        else:
            if obj.name != after["name"]:
                obj.name = after["name"]
            if obj.description != after["description"]:
                obj.description = after["description"]
            before_vars = before["vars"]
        write_variables(session, self.kind, [(obj.id, before_vars, after["vars"])], self.var_ids,
                        trusted=self.params.get("trusted", True))
        self.write_extra(session, obj, before, after)
        session.flush()

    def read_extra(self, session, obj, state):
        """Add kind-specific fields of ``obj`` to ``state``."""

    def plan_extra(self, session, obj, before, after, label):
        """Compute kind-specific fields of ``after``."""

    def write_extra(self, session, obj, before, after):
        """Write kind-specific fields."""


class TenantResource(NamedResource):
    """craton.fleet.tenant"""

    kind = "tenant"
    scoped = False

    def __init__(self, params):
        super().__init__(params)
        self.model = Tenant


class RegionResource(NamedResource):
    """craton.fleet.region"""

    kind = "region"

    def __init__(self, params):
        super().__init__(params)
        self.model = Region
