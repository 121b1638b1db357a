# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``craton`` command: argument parsing and error handling.

Each subcommand lives in its own module of this package with a
``register(subparsers, common)`` function; every such module is found and
registered (in alphabetical order), so adding a subcommand touches no other file.
User errors (CratonError) print one line on stderr and exit 1; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

_PACKAGE = "ansible_collections.craton.fleet.cli"
_NOT_SUBCOMMANDS = {"main", "__main__"}


def _subcommand_modules():
    """The modules of this package that define a subcommand, by name."""
    package = importlib.import_module(_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _NOT_SUBCOMMANDS or info.name.startswith("_"):
            continue
        module = importlib.import_module("%s.%s" % (_PACKAGE, info.name))
        if hasattr(module, "register"):
            yield module


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
    for module in _subcommand_modules():
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
