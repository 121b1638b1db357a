# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton db``: schema migrations of the fleet database (Alembic)."""

from __future__ import annotations

import os

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schema")


def alembic_config(url=None):
    """An Alembic Config for the collection's migrations on the database at ``url``."""
    from alembic.config import Config  # imported late: only `craton db` needs Alembic

    config = Config()
    config.set_main_option("script_location", SCHEMA_DIR)
    engine = db.engine_for(url)
    config.attributes["engine"] = engine
    return config, engine


def _run(action, url, *args):
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    config, engine = alembic_config(url)
    try:
        return getattr(command, action)(config, *args)
    except CommandError as e:
        raise CratonError("%s failed: %s" % (action, e)) from None
    except DBAPIError as e:
        raise db.unreachable(engine, e) from None


def upgrade(url=None, revision="head"):
    """Migrate the database up to ``revision`` (default: the latest)."""
    _run("upgrade", url, revision)


def downgrade(url, revision):
    """Migrate the database down to ``revision`` (``base`` removes everything)."""
    _run("downgrade", url, revision)


def _report_revision(url):
    engine = db.engine_for(url)
    print("database %s is at revision %s" % (db.safe_url(engine.url), db.current_revision(engine) or "base"))


def _cmd_upgrade(args):
    upgrade(args.database_url, args.revision)
    _report_revision(args.database_url)


def _cmd_downgrade(args):
    downgrade(args.database_url, args.revision)
    _report_revision(args.database_url)


def _cmd_current(args):
    engine = db.engine_for(args.database_url)
    revision = db.current_revision(engine)
    state = "up to date" if revision == db.SCHEMA_REVISION else "needs `craton db upgrade` to %s" % db.SCHEMA_REVISION
    print("%s (%s)" % (revision or "base", state))


def register(subparsers, common):
    """Add ``craton db`` and its subcommands."""
    parser = subparsers.add_parser("db", parents=[common], help="create and migrate the fleet database",
                                   description="Create and migrate the fleet database schema.")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = sub.add_parser("upgrade", parents=[common], help="migrate up (default: to the latest revision)")
    p.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    p.set_defaults(func=_cmd_upgrade)
    p = sub.add_parser("downgrade", parents=[common], help="migrate down to a revision")
    p.add_argument("revision", help="target revision; 'base' removes the whole schema")
    p.set_defaults(func=_cmd_downgrade)
    p = sub.add_parser("current", parents=[common], help="show the database's revision")
    p.set_defaults(func=_cmd_current)
