# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet schema: SQLAlchemy 2.x typed models.

Tenants own regions, hosts and groups. Hosts belong to a region (optional) and to
any number of groups; groups form a DAG through ``group_children``. Variables
(key -> JSON value) hang off tenants, regions, groups and hosts, one table each so
that every row has a real foreign key. Secrets belong to hosts and are stored
encrypted. ``vars_references`` point a group at YAML files of variables.

Relationships are ``lazy="raise"``: every query is written out where it is used,
so no statement hides behind an attribute access.

The Alembic migrations in ``schema/`` must produce exactly this schema (a test
compares them); ``SCHEMA_REVISION`` names the migration this code needs.
"""

from __future__ import annotations

import datetime
import traceback

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.names import (
    check_name, check_secret_kind, check_var_name)

try:
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql
    from sqlalchemy.dialects.sqlite import base as sqlite_base
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
    HAS_SQLALCHEMY = True
    SQLALCHEMY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the entry points
    HAS_SQLALCHEMY = False
    SQLALCHEMY_IMPORT_ERROR = traceback.format_exc()

# The Alembic revision that matches these models. Bump it with every migration.
SCHEMA_REVISION = "0003"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_LEN = 255
NAME_COLLATION = "utf8mb4_bin"
HOST_STATUSES = ("ok", "changed", "failed", "unreachable", "skipped")
API_ROLES = ("reader", "editor", "admin")

if HAS_SQLALCHEMY:

    class JSONValue(sa.JSON):
        """JSON; on SQLite the column is declared ``JSON_TEXT``.

        A column declared ``JSON`` has NUMERIC affinity in SQLite, which turns the
        stored text ``2.0`` into the integer 2 (and Ansible would see 2, not 2.0).
        ``JSON_TEXT`` has TEXT affinity: the JSON text is kept as written."""

        cache_ok = True

    @compiles(JSONValue, "sqlite")
    def _json_value_sqlite(_type, _compiler, **_kw):
        return "JSON_TEXT"

    # Reflection (Alembic's schema comparison) reads the column back as JSONValue.
    sqlite_base.ischema_names.setdefault("JSON_TEXT", JSONValue)

    class Base(DeclarativeBase):
        """Declarative base with the naming convention and audit columns."""

        metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
        type_annotation_map = {
            # Names and keys compare as Ansible compares them, case-sensitively: on
            # MySQL/MariaDB with a binary collation (the default one ignores case,
            # so `Web1` and `web1` would collide), as SQLite does by default.
            str: sa.String(NAME_LEN).with_variant(
                mysql.VARCHAR(NAME_LEN, collation=NAME_COLLATION), "mysql", "mariadb"),
            datetime.datetime: sa.DateTime(),
        }

        created_at: Mapped[datetime.datetime] = mapped_column(server_default=sa.func.now())
        updated_at: Mapped[datetime.datetime] = mapped_column(
            server_default=sa.func.now(), onupdate=sa.func.now())

    def _fk(target):
        return sa.ForeignKey(target, ondelete="CASCADE")

    class Tenant(Base):
        """A customer's slice of the fleet; a customer may own several."""

        __tablename__ = "tenants"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(unique=True)
        description: Mapped[str | None] = mapped_column(sa.Text)

        @validates("name")
        def _check_name(self, _key, value):
            return check_name(value, "tenant")

    class Region(Base):
        """A region of one tenant; hosts live in regions."""

        __tablename__ = "regions"
        __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

        id: Mapped[int] = mapped_column(primary_key=True)
        tenant_id: Mapped[int] = mapped_column(_fk("tenants.id"), index=True)
        name: Mapped[str]
        description: Mapped[str | None] = mapped_column(sa.Text)

        tenant: Mapped[Tenant] = relationship(lazy="raise")

        @validates("name")
        def _check_name(self, _key, value):
            return check_name(value, "region")

    class Host(Base):
        """A machine in the inventory. ``name`` is the inventory hostname."""

        __tablename__ = "hosts"
        __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

        id: Mapped[int] = mapped_column(primary_key=True)
        tenant_id: Mapped[int] = mapped_column(_fk("tenants.id"), index=True)
        region_id: Mapped[int | None] = mapped_column(
            sa.ForeignKey("regions.id", ondelete="SET NULL"), index=True)
        name: Mapped[str]
        # Well-known columns; each maps to an Ansible connection variable (WELL_KNOWN).
        ip_address: Mapped[str | None] = mapped_column(sa.String(64))
        port: Mapped[int | None]
        user: Mapped[str | None]
        connection: Mapped[str | None] = mapped_column(sa.String(64))
        active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
        # Reachability, written back by runs (the craton.fleet.redis callback).
        last_seen_at: Mapped[datetime.datetime | None]
        last_status: Mapped[str | None] = mapped_column(sa.String(32))
        last_error: Mapped[str | None] = mapped_column(sa.Text)

        tenant: Mapped[Tenant] = relationship(lazy="raise")
        region: Mapped[Region | None] = relationship(lazy="raise")

        @validates("name")
        def _check_name(self, _key, value):
            return check_name(value, "host")

        @validates("port")
        def _check_port(self, _key, value):
            if value is not None and not (isinstance(value, int) and 0 < value < 65536):
                raise CratonError("invalid port %r for host %r: use 1 to 65535" % (value, self.name))
            return value

    # Host column -> the Ansible variable it becomes.
    WELL_KNOWN = {
        "ip_address": "ansible_host",
        "port": "ansible_port",
        "user": "ansible_user",
        "connection": "ansible_connection",
    }

    class Group(Base):
        """A user group of hosts; groups nest through ``group_children``."""

        __tablename__ = "groups"
        __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

        id: Mapped[int] = mapped_column(primary_key=True)
        tenant_id: Mapped[int] = mapped_column(_fk("tenants.id"), index=True)
        name: Mapped[str]
        description: Mapped[str | None] = mapped_column(sa.Text)

        tenant: Mapped[Tenant] = relationship(lazy="raise")

        @validates("name")
        def _check_name(self, _key, value):
            return check_name(value, "group")

    class GroupChild(Base):
        """Edge of the group DAG: ``parent`` contains ``child``."""

        __tablename__ = "group_children"

        parent_id: Mapped[int] = mapped_column(_fk("groups.id"), primary_key=True)
        child_id: Mapped[int] = mapped_column(_fk("groups.id"), primary_key=True, index=True)

    class GroupHost(Base):
        """Membership of a host in a group."""

        __tablename__ = "group_hosts"

        group_id: Mapped[int] = mapped_column(_fk("groups.id"), primary_key=True)
        host_id: Mapped[int] = mapped_column(_fk("hosts.id"), primary_key=True, index=True)

    class _VariableMixin:
        """Key -> JSON value. ``trusted`` keeps the provenance of the value: values
        written by trusted paths (import, modules, admins) may be templates that
        Ansible renders; others are handed to Ansible as plain data."""

        id: Mapped[int] = mapped_column(primary_key=True)
        key: Mapped[str]
        value: Mapped[object] = mapped_column(JSONValue)
        trusted: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

        @validates("key")
        def _check_key(self, _key, value):
            return check_var_name(value)

    class TenantVariable(_VariableMixin, Base):
        """A variable of a tenant (lowest precedence)."""

        __tablename__ = "tenant_variables"
        __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)
        tenant_id: Mapped[int] = mapped_column(_fk("tenants.id"))

    class RegionVariable(_VariableMixin, Base):
        """A variable of a region."""

        __tablename__ = "region_variables"
        __table_args__ = (sa.UniqueConstraint("region_id", "key"),)
        region_id: Mapped[int] = mapped_column(_fk("regions.id"))

    class GroupVariable(_VariableMixin, Base):
        """A variable of a user group."""

        __tablename__ = "group_variables"
        __table_args__ = (sa.UniqueConstraint("group_id", "key"),)
        group_id: Mapped[int] = mapped_column(_fk("groups.id"))

    class HostVariable(_VariableMixin, Base):
        """A variable of a host (highest precedence)."""

        __tablename__ = "host_variables"
        __table_args__ = (sa.UniqueConstraint("host_id", "key"),)
        host_id: Mapped[int] = mapped_column(_fk("hosts.id"))

    class Secret(Base):
        """A blob that belongs to a host (PEM, SSH key, ...), encrypted at rest.

        ``ciphertext`` is a Fernet token (secret_crypto); the plaintext never
        reaches the database."""

        __tablename__ = "secrets"
        __table_args__ = (sa.UniqueConstraint("host_id", "name"),)

        id: Mapped[int] = mapped_column(primary_key=True)
        host_id: Mapped[int] = mapped_column(_fk("hosts.id"))
        name: Mapped[str]
        kind: Mapped[str] = mapped_column(sa.String(32))
        ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"))

        @validates("name")
        def _check_name(self, _key, value):
            return check_name(value, "secret")

        @validates("kind")
        def _check_kind(self, _key, value):
            return check_secret_kind(value)

    class VarsReference(Base):
        """A URL of a YAML file of group variables, merged under the group's own
        variables in ``position`` order, optionally pinned by sha256."""

        __tablename__ = "vars_references"
        __table_args__ = (sa.UniqueConstraint("group_id", "position"),)

        id: Mapped[int] = mapped_column(primary_key=True)
        group_id: Mapped[int] = mapped_column(_fk("groups.id"))
        url: Mapped[str] = mapped_column(sa.String(2048))
        sha256: Mapped[str | None] = mapped_column(sa.String(64))
        position: Mapped[int] = mapped_column(default=0)

    class ApiToken(Base):
        """A token of the REST API: it belongs to a tenant (all tenants when
        ``tenant_id`` is null: a global token) and carries a role. Only the
        sha256 of the token is stored."""

        __tablename__ = "api_tokens"

        id: Mapped[int] = mapped_column(primary_key=True)
        tenant_id: Mapped[int | None] = mapped_column(_fk("tenants.id"), index=True)
        name: Mapped[str | None]
        role: Mapped[str] = mapped_column(sa.String(16))
        token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
        last_used_at: Mapped[datetime.datetime | None]
        revoked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

        @validates("role")
        def _check_role(self, _key, value):
            if value not in API_ROLES:
                raise CratonError("invalid role %r: use %s" % (value, ", ".join(API_ROLES)))
            return value

    VARIABLE_MODELS = {
        "tenant": TenantVariable,
        "region": RegionVariable,
        "group": GroupVariable,
        "host": HostVariable,
    }
