# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alembic environment of the fleet database (run by `craton db ...`)."""

from __future__ import annotations

from alembic import context

from ansible_collections.craton.fleet.plugins.module_utils.db import engine_for
from ansible_collections.craton.fleet.plugins.module_utils.models import Base

config = context.config


def run_migrations():
    """Run migrations online, on the engine `craton db` resolved."""
    engine = config.attributes.get("engine") or engine_for(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things: batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            transaction_per_migration=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
