# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alembic environment for TaskFlow's own migrations, with a version table of their own.

TaskFlow ships Alembic migrations for its persistence tables (``logbooks``,
``flowdetails``, ``atomdetails``) whose environment uses Alembic's default
version table ``alembic_version`` — the table the fleet schema uses too. Run in
the fleet database, they would read the fleet's revision as theirs and fail (or
worse). This environment runs the same migration scripts (``version_locations``
points at TaskFlow's) but records their revision in ``craton_taskflow_version``.
"""

from __future__ import annotations

from alembic import context

config = context.config
VERSION_TABLE = "craton_taskflow_version"


def run_migrations():
    """Online migrations on the connection the caller handed over."""
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
