# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing fleet objects inside a caller's session.

These functions take an open Session (the caller owns the transaction, see
``db.run_in_transaction``) and raise CratonError subclasses that name the
problem. They never commit: a failure anywhere leaves nothing written.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.names import check_var_name
from ansible_collections.craton.fleet.plugins.module_utils import secret_store

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import (
        VARIABLE_MODELS, Group, GroupChild, GroupHost, Host, Region, Secret, Tenant)


def _one(session, model, what, name, **where):
    obj = session.scalars(sa.select(model).filter_by(name=name, **where)).one_or_none()
    if obj is None:
        raise NotFound("%s %r does not exist" % (what, name))
    return obj


def get_tenant(session, name):
    """The tenant called ``name``."""
    return _one(session, Tenant, "tenant", name)


def get_region(session, tenant, name):
    """The region ``name`` of ``tenant``."""
    return _one(session, Region, "region", name, tenant_id=tenant.id)


def get_host(session, tenant, name):
    """The host ``name`` of ``tenant``."""
    return _one(session, Host, "host", name, tenant_id=tenant.id)


def get_group(session, tenant, name):
    """The group ``name`` of ``tenant``."""
    return _one(session, Group, "group", name, tenant_id=tenant.id)


def _create(session, model, what, name, where, **values):
    exists = session.scalar(sa.select(model.id).filter_by(name=name, **where))
    if exists is not None:
        raise Conflict("%s %r already exists" % (what, name))
    obj = model(name=name, **where, **values)
    session.add(obj)
    session.flush()
    return obj


def create_tenant(session, name, description=None):
    """Add a tenant; its name must be new."""
    return _create(session, Tenant, "tenant", name, {}, description=description)


def create_region(session, tenant, name, description=None):
    """Add a region to ``tenant``; its name must be new in the tenant."""
    return _create(session, Region, "region", name, {"tenant_id": tenant.id}, description=description)


def create_group(session, tenant, name, description=None):
    """Add a group to ``tenant``; its name must be new in the tenant."""
    return _create(session, Group, "group", name, {"tenant_id": tenant.id}, description=description)


def create_host(session, tenant, name, region=None, **columns):
    """Add a host to ``tenant`` (optionally in ``region``); well-known columns as keywords."""
    if region is not None and region.tenant_id != tenant.id:
        raise CratonError("region %r belongs to another tenant" % region.name)
    return _create(session, Host, "host", name, {"tenant_id": tenant.id},
                   region_id=region.id if region is not None else None, **columns)


def get_variables(session, owner_kind, owner_id):
    """The variables of one tenant/region/group/host as a dict."""
    model = VARIABLE_MODELS[owner_kind]
    fk = getattr(model, owner_kind + "_id")
    return dict(session.execute(sa.select(model.key, model.value).where(fk == owner_id)).all())


def set_variables(session, owner_kind, owner_id, variables, mode="merge", absent=(), trusted=True):
    """Set variables of one owner. ``mode`` is ``merge`` (keep other keys) or
    ``replace`` (drop keys not given); ``absent`` lists keys to remove.
    Returns ``(before, after)`` dicts."""
    if mode not in ("merge", "replace"):
        raise CratonError("invalid vars_mode %r: use merge or replace" % mode)
    if not isinstance(variables, dict):
        raise CratonError("variables must be a mapping of names to values, not %s" % type(variables).__name__)
    for key in list(variables) + list(absent):
        check_var_name(key)
    model = VARIABLE_MODELS[owner_kind]
    fk_name = owner_kind + "_id"
    rows = {row.key: row for row in session.scalars(
        sa.select(model).where(getattr(model, fk_name) == owner_id))}
    before = {key: row.value for key, row in rows.items()}
    drop = set(absent) | (set(rows) - set(variables) if mode == "replace" else set())
    for key in drop & set(rows):
        session.delete(rows.pop(key))
    for key, value in variables.items():
        row = rows.get(key)
        if row is None:
            session.add(model(key=key, value=value, trusted=trusted, **{fk_name: owner_id}))
        elif row.value != value or row.trusted != trusted:
            row.value, row.trusted = value, trusted
    session.flush()
    after = {key: row.value for key, row in rows.items()}
    after.update(variables)
    return before, after


def _group_edges(session, tenant_id):
    parent, child = sa.orm.aliased(Group), sa.orm.aliased(Group)
    rows = session.execute(
        sa.select(GroupChild.parent_id, GroupChild.child_id)
        .join(parent, parent.id == GroupChild.parent_id)
        .where(parent.tenant_id == tenant_id)).all()
    edges = {}
    for p, c in rows:
        edges.setdefault(p, []).append(c)
    return edges


def find_path(edges, start, goal):
    """A list of node ids from ``start`` to ``goal`` following ``edges``, or None."""
    stack, seen = [(start, [start])], {start}
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def add_child(session, parent, child):
    """Make ``child`` a child group of ``parent``; refuse a cycle, naming it."""
    if parent.tenant_id != child.tenant_id:
        raise CratonError("groups %r and %r belong to different tenants" % (parent.name, child.name))
    edges = _group_edges(session, parent.tenant_id)
    if child.id in edges.get(parent.id, ()):
        return False
    path = [child.id] if child.id == parent.id else find_path(edges, child.id, parent.id)
    if path is not None:
        names = dict(session.execute(sa.select(Group.id, Group.name).where(Group.id.in_(path))).all())
        cycle = [parent.name] + [names[i] for i in path]
        raise Conflict("group cycle refused: %s" % " -> ".join(cycle))
    session.add(GroupChild(parent_id=parent.id, child_id=child.id))
    session.flush()
    return True


def add_member(session, group, host):
    """Put ``host`` in ``group``; returns False when it already was."""
    if group.tenant_id != host.tenant_id:
        raise CratonError("host %r and group %r belong to different tenants" % (host.name, group.name))
    if session.get(GroupHost, (group.id, host.id)) is not None:
        return False
    session.add(GroupHost(group_id=group.id, host_id=host.id))
    session.flush()
    return True


def put_secret(session, host, name, kind, data):
    """Store (or replace) secret ``name`` of ``host``, validated and encrypted.
    Returns True when something changed."""
    what = "secret %r of host %r" % (name, host.name)
    blob = secret_store.validate(kind, data, what)
    row = session.scalars(sa.select(Secret).filter_by(host_id=host.id, name=name)).one_or_none()
    if row is not None and row.kind == kind and secret_store.decrypt(row.ciphertext, what) == blob:
        return False
    ciphertext = secret_store.encrypt(blob)
    if row is None:
        session.add(Secret(host_id=host.id, name=name, kind=kind, ciphertext=ciphertext))
    else:
        row.kind, row.ciphertext = kind, ciphertext
    session.flush()
    return True


def read_secret(session, host, name):
    """The plaintext bytes of secret ``name`` of ``host``."""
    row = session.scalars(sa.select(Secret).filter_by(host_id=host.id, name=name)).one_or_none()
    if row is None:
        raise NotFound("secret %r of host %r does not exist" % (name, host.name))
    return secret_store.decrypt(row.ciphertext, "secret %r of host %r" % (name, host.name))
