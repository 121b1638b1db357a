# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.group: a group, its variables, child groups and member hosts.

``children`` and ``hosts`` each come with a mode: ``add`` (the default: the
listed names become members, nobody is removed), ``replace`` (exactly the listed
names) or ``remove`` (the listed names stop being members). Every listed name
must exist in the tenant. A child that would close a cycle is refused, naming
the cycle.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils import bulk_sql, fleet
from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.resources import (
    NamedResource, plan_members, resolve_names)

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import Group, GroupChild, GroupHost, Host


def tenant_edges(session, tenant_id):
    """The group DAG of a tenant as ``{parent_id: set(child_id)}``."""
    rows = session.execute(sa.select(GroupChild.parent_id, GroupChild.child_id)
                           .join(Group, Group.id == GroupChild.parent_id)
                           .where(Group.tenant_id == tenant_id)).all()
    edges = {}
    for parent, child in rows:
        edges.setdefault(parent, set()).add(child)
    return edges


class GroupResource(NamedResource):
    """craton.fleet.group"""

    kind = "group"

    def __init__(self, params):
        super().__init__(params)
        self.model = Group

    def read_extra(self, session, obj, state):
        self.child_ids = dict(session.execute(
            sa.select(Group.name, Group.id).join(GroupChild, GroupChild.child_id == Group.id)
            .where(GroupChild.parent_id == obj.id)).all())
        self.host_ids = dict(session.execute(
            sa.select(Host.name, Host.id).join(GroupHost, GroupHost.host_id == Host.id)
            .where(GroupHost.group_id == obj.id)).all())
        state["children"] = sorted(self.child_ids)
        state["hosts"] = sorted(self.host_ids)

    def plan_extra(self, session, obj, before, after, label):
        if obj is None:
            self.child_ids, self.host_ids = {}, {}
            after["children"], after["hosts"] = [], []
        tenant_id = self.tenant.id
        listed_children, listed_hosts = self.params.get("children"), self.params.get("hosts")
        if listed_children is not None:
            self.child_ids.update(resolve_names(session, Group, tenant_id, listed_children, "child group", label))
            after["children"] = plan_members(after["children"], listed_children, self.params["children_mode"])
            self._refuse_cycles(session, obj, before, after)
        if listed_hosts is not None:
            self.host_ids.update(resolve_names(session, Host, tenant_id, listed_hosts, "host", label))
            after["hosts"] = plan_members(after["hosts"], listed_hosts, self.params["hosts_mode"])

    def _refuse_cycles(self, session, obj, before, after):
        new = sorted(set(after["children"]) - set(before["children"] if before else ()))
        for child in new:
            if child == after["name"] or (obj is not None and self.child_ids[child] == obj.id):
                raise Conflict("group cycle refused: %s -> %s" % (after["name"], after["name"]))
        if obj is None or not new:
            return
        edges = tenant_edges(session, self.tenant.id)
        edges[obj.id] = set(self.child_ids[name] for name in after["children"])
        for child in new:
            path = fleet.find_path(edges, self.child_ids[child], obj.id)
            if path is not None:
                names = dict(session.execute(sa.select(Group.id, Group.name).where(Group.id.in_(path))).all())
                names[obj.id] = after["name"]
                raise Conflict("group cycle refused: %s" % " -> ".join([after["name"]] + [names[i] for i in path]))

    def write_extra(self, session, obj, before, after):
        old_children = set(before["children"]) if before else set()
        old_hosts = set(before["hosts"]) if before else set()
        bulk_sql.delete_pairs(session, GroupChild.parent_id, GroupChild.child_id,
                              [(obj.id, self.child_ids[n]) for n in sorted(old_children - set(after["children"]))])
        bulk_sql.insert_rows(session, GroupChild, [{"parent_id": obj.id, "child_id": self.child_ids[n]}
                                                   for n in sorted(set(after["children"]) - old_children)])
        bulk_sql.delete_pairs(session, GroupHost.group_id, GroupHost.host_id,
                              [(obj.id, self.host_ids[n]) for n in sorted(old_hosts - set(after["hosts"]))])
        bulk_sql.insert_rows(session, GroupHost, [{"group_id": obj.id, "host_id": self.host_ids[n]}
                                                  for n in sorted(set(after["hosts"]) - old_hosts)])
