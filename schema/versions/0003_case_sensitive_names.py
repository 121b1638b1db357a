# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Case-sensitive names and keys on MySQL/MariaDB (binary collation utf8mb4_bin).

The default collation of MySQL and MariaDB ignores case, so the hosts `Web1` and
`web1`, or the variables `Foo` and `foo`, collided on the unique keys, while
Ansible and SQLite tell them apart. Nothing changes on SQLite. Going to the binary
collation cannot create duplicates; going back can (downgrade refuses then, with
MySQL's "Duplicate entry" error, and changes nothing).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# table -> [(column, nullable)]: every VARCHAR(255) name or key column.
COLUMNS = {
    'tenants': [('name', False)],
    'regions': [('name', False)],
    'hosts': [('name', False), ('user', True)],
    'groups': [('name', False)],
    'secrets': [('name', False)],
    'tenant_variables': [('key', False)],
    'region_variables': [('key', False)],
    'group_variables': [('key', False)],
    'host_variables': [('key', False)],
    'api_tokens': [('name', True)],
}


def _alter(collation):
    if op.get_bind().dialect.name not in ('mysql', 'mariadb'):
        return
    for table, columns in COLUMNS.items():
        for column, nullable in columns:
            op.alter_column(table, column, existing_type=sa.String(255), existing_nullable=nullable,
                            type_=mysql.VARCHAR(255, collation=collation), nullable=nullable)


def upgrade():
    """Upgrade the schema."""
    _alter('utf8mb4_bin')


def downgrade():
    """Downgrade the schema."""
    _alter(None)
