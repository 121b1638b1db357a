# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.secret: a secret of a host, validated and encrypted at rest.

The value is validated for its kind before anything is written (a ``pem`` or
``ssh_private_key`` that does not parse is refused), compared with the stored
one after decryption (idempotency), and never part of a result or a diff: the
diff shows ``********`` and whether the value changes.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils import fleet, secret_store
from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.names import check_name, check_secret_kind
from ansible_collections.craton.fleet.plugins.module_utils.resources import MASK, Change, Resource

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import Secret

CHANGED_MASK = MASK + " (new value)"


class SecretResource(Resource):
    """craton.fleet.secret"""

    kind = "secret"

    def plan(self, session):
        params = self.params
        name, new_name = params["name"], params.get("new_name")
        tenant = fleet.get_tenant(session, params["tenant"])
        label = "secret %r of host %r of tenant %r" % (name, params["host"], tenant.name)
        check_name(name, "secret")
        try:
            self.host = fleet.get_host(session, tenant, params["host"])
        except NotFound as e:
            raise NotFound("%s: %s" % (label, e)) from None
        rows = dict((row.name, row) for row in session.scalars(
            sa.select(Secret).where(Secret.host_id == self.host.id, Secret.name.in_([name, new_name or name]))))
        self.row = row = rows.get(name)
        if new_name is not None and new_name != name:
            if params["state"] == "absent":
                raise CratonError("%s: new_name cannot be used with state=absent" % label)
            check_name(new_name, "secret")
            if row is not None and new_name in rows:
                raise Conflict("cannot rename %s to %r: secret %r already exists" % (label, new_name, new_name))
            if row is None:
                self.row = row = rows.get(new_name)
        base = {"tenant": tenant.name, "host": self.host.name}
        before = dict(base, name=row.name, kind=row.kind, data=MASK) if row is not None else None
        after = None
        if params["state"] == "present":
            kind = check_secret_kind(params["kind"])
            what = "secret %r of host %r" % (new_name or name, self.host.name)
            self.blob = secret_store.validate(kind, params["data"], what)
            unchanged = row is not None and secret_store.decrypt(row.ciphertext, what) == self.blob
            after = dict(base, name=new_name or name, kind=kind, data=MASK if unchanged else CHANGED_MASK)
        return [Change(label, before, after, identity=("tenant", "host", "name"))]

    def write(self, session, changes):
        after, row = changes[0].after, self.row
        if after is None:
            session.execute(sa.delete(Secret).where(Secret.id == row.id))
            return
        if row is None:
            row = Secret(host_id=self.host.id, name=after["name"], kind=after["kind"], ciphertext=b"")
            session.add(row)
        row.name, row.kind = after["name"], after["kind"]
        if after["data"] != MASK:
            row.ciphertext = secret_store.encrypt(self.blob)

    def public(self, state):
        return dict((key, value) for key, value in state.items() if key != "data")
