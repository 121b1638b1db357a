# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton secrets migrate --to barbican|database``: move stored secret blobs between stores.

Each secret is moved on its own: read (decrypted, or fetched from Barbican), written
to the target store, then its row is switched in one transaction that checks the
row still holds what was read (a secret changed meanwhile is left alone and
reported). Only after that commit is the old Barbican secret deleted. An error
stops the run with everything before it moved and nothing half-moved: run the
command again to continue.
"""

from __future__ import annotations


def _move_one(url, secret_id, old, target, what):
    import sqlalchemy as sa

    from ansible_collections.craton.fleet.plugins.module_utils import barbican_store, db, secret_store
    from ansible_collections.craton.fleet.plugins.module_utils.models import Secret

    new = secret_store.encrypt(secret_store.decrypt(old, what), to=target)
    try:
        with db.transaction(url) as session:
            switched = session.execute(sa.update(Secret).where(Secret.id == secret_id, Secret.ciphertext == old)
                                       .values(ciphertext=new)).rowcount
    except BaseException:
        if barbican_store.is_reference(new):
            barbican_store.delete(new, what)  # the row still points at the old copy
        raise
    if not switched:
        if barbican_store.is_reference(new):
            barbican_store.delete(new, what)
        return False
    if barbican_store.is_reference(old):
        barbican_store.delete(old, what)
    return True


def _cmd_migrate(args):
    import sqlalchemy as sa

    from ansible_collections.craton.fleet.plugins.module_utils import barbican_store, db
    from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
    from ansible_collections.craton.fleet.plugins.module_utils.models import Host, Secret, Tenant

    url = db.resolve_url(args.database_url)
    with db.transaction(url) as session:
        rows = session.execute(
            sa.select(Secret.id, Secret.ciphertext, Secret.name, Host.name, Tenant.name)
            .join(Host, Host.id == Secret.host_id).join(Tenant, Tenant.id == Host.tenant_id)
            .order_by(Secret.id)).all()
    todo = [r for r in rows if barbican_store.is_reference(r[1]) != (args.to == "barbican")]
    moved = skipped = 0
    for secret_id, old, name, host, tenant in todo:
        what = "secret %r of host %r (tenant %r)" % (name, host, tenant)
        try:
            if _move_one(url, secret_id, old, args.to, what):
                moved += 1
            else:
                skipped += 1
        except CratonError as e:
            raise CratonError("%s; %d of %d secrets were moved to %s before it, the rest are unchanged: run the "
                              "command again to continue" % (e, moved, len(todo), args.to)) from None
    print("moved %d secrets to %s (%d were there already%s)" % (
        moved, args.to, len(rows) - len(todo),
        ", %d changed while moving and were left alone: run again" % skipped if skipped else ""))
    return 1 if skipped else 0


def _cmd_prune(args):
    import datetime

    import sqlalchemy as sa

    from ansible_collections.craton.fleet.plugins.module_utils import barbican_store, db
    from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
    from ansible_collections.craton.fleet.plugins.module_utils.models import Secret

    if args.older_than < 0:
        raise CratonError("--older-than must be 0 or more seconds")
    # Barbican first, the database after: a secret listed here is either referenced by a committed
    # row (seen below) or being written by a transaction not committed yet (younger than --older-than).
    stored = barbican_store.list_stored()
    url = db.resolve_url(args.database_url)
    with db.transaction(url) as session:
        referenced = set(bytes(ref)[len(barbican_store.PREFIX):].decode("ascii")
                         for ref in session.scalars(sa.select(Secret.ciphertext)) if barbican_store.is_reference(ref))
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=args.older_than)
    unused = [uuid for uuid, created in stored if uuid not in referenced and (created is None or created <= cutoff)]
    for uuid in unused:
        if not args.dry_run:
            barbican_store.delete(barbican_store.PREFIX + uuid.encode("ascii"), "unused Barbican secret %s" % uuid)
    print("%s %d unused craton.fleet secrets in Barbican (%d in use, %d younger than %gs kept)" % (
        "would delete" if args.dry_run else "deleted", len(unused), len(referenced),
        sum(1 for uuid, created in stored if uuid not in referenced) - len(unused), args.older_than))
    return 0


def register(subparsers, common):
    """Add ``craton secrets migrate``."""
    parser = subparsers.add_parser(
        "secrets", parents=[common], help="move secrets between the database and Barbican",
        description="Secret blobs live in the fleet database, encrypted (the default), or in OpenStack Barbican "
                    "with only a reference in the database (CRATON_SECRET_BACKEND=barbican; see docs/openstack.md).")
    sub = parser.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    p = sub.add_parser("migrate", parents=[common], help="move every stored secret to one store",
                       description="Move every secret to --to: barbican (needs the OS_* Keystone credentials and "
                                   "castellan) or database (needs the secret key). Secrets already there are left "
                                   "alone; Barbican copies are deleted once their row points at the new store.")
    p.add_argument("--to", required=True, choices=("barbican", "database"), help="the target store")
    p.set_defaults(func=_cmd_migrate)
    p = sub.add_parser("prune", parents=[common], help="delete Barbican copies that no secret points at",
                       description="Delete the Barbican secrets named craton.fleet (in the project of the OS_* "
                                   "credentials) that no row of the fleet database references: the old copies "
                                   "of replaced or deleted secrets. Only those older than --older-than are "
                                   "touched, so that writes in progress keep theirs. One fleet database per "
                                   "Barbican project: another fleet's secrets would look unused.")
    p.add_argument("--older-than", type=float, default=3600, metavar="SECONDS",
                   help="only secrets created at least this long ago (default: 3600)")
    p.add_argument("--dry-run", action="store_true", help="only count them")
    p.set_defaults(func=_cmd_prune)
