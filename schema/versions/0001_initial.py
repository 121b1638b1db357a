# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Initial schema: tenants, regions, hosts, groups, variables, secrets, vars references.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from ansible_collections.craton.fleet.plugins.module_utils.models import JSONValue

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    """Upgrade the schema."""
    op.create_table(
        'tenants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
        sa.UniqueConstraint('name', name=op.f('uq_tenants_name'))
    )
    op.create_table(
        'groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_groups_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
        sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_groups_tenant_id_name'))
    )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groups_tenant_id'), ['tenant_id'], unique=False)

    op.create_table(
        'regions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_regions_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
        sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_regions_tenant_id_name'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table(
        'tenant_variables',
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('value', JSONValue(), nullable=False),
        sa.Column('trusted', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_variables_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_variables')),
        sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_tenant_variables_tenant_id_key'))
    )
    op.create_table(
        'group_children',
        sa.Column('parent_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['groups.id'], name=op.f('fk_group_children_child_id_groups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['parent_id'], ['groups.id'], name=op.f('fk_group_children_parent_id_groups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('parent_id', 'child_id', name=op.f('pk_group_children'))
    )
    with op.batch_alter_table('group_children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_children_child_id'), ['child_id'], unique=False)

    op.create_table(
        'group_variables',
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('value', JSONValue(), nullable=False),
        sa.Column('trusted', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_variables_group_id_groups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_group_variables')),
        sa.UniqueConstraint('group_id', 'key', name=op.f('uq_group_variables_group_id_key'))
    )
    op.create_table(
        'hosts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=True),
        sa.Column('port', sa.Integer(), nullable=True),
        sa.Column('user', sa.String(length=255), nullable=True),
        sa.Column('connection', sa.String(length=64), nullable=True),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=True),
        sa.Column('last_status', sa.String(length=32), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_hosts_region_id_regions'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_hosts_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hosts')),
        sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_hosts_tenant_id_name'))
    )
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hosts_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hosts_tenant_id'), ['tenant_id'], unique=False)

    op.create_table(
        'region_variables',
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('value', JSONValue(), nullable=False),
        sa.Column('trusted', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_region_variables_region_id_regions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_region_variables')),
        sa.UniqueConstraint('region_id', 'key', name=op.f('uq_region_variables_region_id_key'))
    )
    op.create_table(
        'vars_references',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_vars_references_group_id_groups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vars_references')),
        sa.UniqueConstraint('group_id', 'position', name=op.f('uq_vars_references_group_id_position'))
    )
    op.create_table(
        'group_hosts',
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_hosts_group_id_groups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_group_hosts_host_id_hosts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('group_id', 'host_id', name=op.f('pk_group_hosts'))
    )
    with op.batch_alter_table('group_hosts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_hosts_host_id'), ['host_id'], unique=False)

    op.create_table(
        'host_variables',
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('value', JSONValue(), nullable=False),
        sa.Column('trusted', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_host_variables_host_id_hosts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_host_variables')),
        sa.UniqueConstraint('host_id', 'key', name=op.f('uq_host_variables_host_id_key'))
    )
    op.create_table(
        'secrets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('ciphertext', sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql', 'mariadb'), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_secrets_host_id_hosts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_secrets')),
        sa.UniqueConstraint('host_id', 'name', name=op.f('uq_secrets_host_id_name'))
    )


def downgrade():
    """Downgrade the schema."""
    op.drop_table('secrets')
    op.drop_table('host_variables')
    op.drop_table('group_hosts')
    op.drop_table('vars_references')
    op.drop_table('region_variables')
    op.drop_table('hosts')
    op.drop_table('group_variables')
    op.drop_table('group_children')
    op.drop_table('tenant_variables')
    op.drop_table('regions')
    op.drop_table('groups')
    op.drop_table('tenants')
