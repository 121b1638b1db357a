# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``craton`` command: argument parsing and error handling.

Each subcommand lives in its own module of this package with a
``register(subparsers, common)`` function; add it to ``SUBCOMMANDS``.
User errors (CratonError) print one line on stderr and exit 1; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

SUBCOMMANDS = ("db", "key", "demo", "import_", "explain")


def _common_options():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url", default=argparse.SUPPRESS, metavar="URL",
        help="fleet database URL (default: $CRATON_DATABASE_URL, else "
             "sqlite:///$XDG_DATA_HOME/craton/fleet.db)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and debug logging")
    return common


def build_parser():
    """The argument parser of the whole command."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="craton", parents=[common],
        description="craton.fleet: the fleet inventory for Ansible, in a database.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        module = importlib.import_module("ansible_collections.craton.fleet.cli." + name)
        module.register(subparsers, common)
    return parser


def main(argv=None):
    """Entry point of the ``craton`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    args.database_url = getattr(args, "database_url", None)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(message)s", stream=sys.stderr)
    if not debug:  # say which migrations run, nothing more
        migration_log = logging.getLogger("alembic.runtime.migration")
        migration_log.setLevel(logging.INFO)
        migration_log.addFilter(lambda record: record.getMessage().startswith("Running"))
    try:
        code = args.func(args)
    except CratonError as e:
        if debug:
            raise
        sys.stderr.write("craton: error: %s\n" % e)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("craton: interrupted\n")
        sys.exit(130)
    sys.exit(code or 0)
