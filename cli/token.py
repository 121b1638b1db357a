# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton token``: API tokens of the REST API (local database administration).

``create`` prints the new token alone on the last line of its output; only its
sha256 is stored, so it cannot be shown again.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

ROLES = ("reader", "editor", "admin")


def _cmd_create(args):
    from ansible_collections.craton.fleet.server import tokens

    if (args.tenant is None) == (not args.all_tenants):
        raise CratonError("give either --tenant NAME or --global (a token of every tenant)")
    token_id, token = tokens.create_token(args.database_url, args.tenant, args.role, args.name)
    print("created API token %d (%s of %s%s); it is shown only now:"
          % (token_id, args.role, "tenant %r" % args.tenant if args.tenant else "every tenant",
             ", name %r" % args.name if args.name else ""))
    print(token)


def _cmd_list(args):
    from ansible_collections.craton.fleet.server import tokens

    rows = tokens.list_tokens(args.database_url, args.tenant)
    print("%-5s %-20s %-20s %-7s %-8s %-19s %s" % ("ID", "TENANT", "NAME", "ROLE", "STATE", "CREATED", "LAST USED"))
    for row in rows:
        print("%-5d %-20s %-20s %-7s %-8s %-19s %s" % (
            row["id"], row["tenant"] or "(global)", row["name"] or "-", row["role"],
            "revoked" if row["revoked"] else "active", _time(row["created_at"]), _time(row["last_used_at"])))


def _time(value):
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _cmd_revoke(args):
    from ansible_collections.craton.fleet.server import tokens

    if tokens.revoke_token(args.database_url, args.id):
        print("revoked API token %d" % args.id)
    else:
        print("API token %d was already revoked" % args.id)


def register(subparsers, common):
    """Add ``craton token`` and its subcommands."""
    parser = subparsers.add_parser("token", parents=[common], help="manage REST API tokens",
                                   description="Tokens of the REST API (craton serve). Each belongs to a "
                                               "tenant and has a role: reader, editor or admin.")
    sub = parser.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    p = sub.add_parser("create", parents=[common], help="create a token and print it (once)")
    p.add_argument("--tenant", help="the tenant the token belongs to")
    p.add_argument("--global", dest="all_tenants", action="store_true",
                   help="a token of every tenant (the only kind that can create tenants)")
    p.add_argument("--role", required=True, choices=ROLES, help="reader, editor or admin")
    p.add_argument("--name", help="a name to recognise the token by")
    p.set_defaults(func=_cmd_create)
    p = sub.add_parser("list", parents=[common], help="list tokens (never their value)")
    p.add_argument("--tenant", help="only the tokens of this tenant")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("revoke", parents=[common], help="revoke a token")
    p.add_argument("id", type=int, help="the token's id (craton token list)")
    p.set_defaults(func=_cmd_revoke)
