# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton key``: the key that encrypts secrets at rest."""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.module_utils import secret_store


def _cmd_generate(args):
    path = secret_store.generate_key_file(args.file)
    print("wrote a new secret key to %s (mode 0600); keep a copy: secrets cannot be read without it" % path)


def register(subparsers, common):
    """Add ``craton key generate``."""
    parser = subparsers.add_parser(
        "key", parents=[common], help="manage the key that encrypts secrets",
        description="Secrets are encrypted with the key in $CRATON_SECRET_KEY, else the file in "
                    "$CRATON_SECRET_KEY_FILE, else %s." % secret_store.default_key_file())
    sub = parser.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    p = sub.add_parser("generate", parents=[common], help="write a new key file (never overwrites)")
    p.add_argument("--file", help="where to write it (default: $CRATON_SECRET_KEY_FILE or %s)"
                   % secret_store.default_key_file())
    p.set_defaults(func=_cmd_generate)
