"""Migrations: round trip on SQLite and MariaDB, and the migrated schema equals the models."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ansible_collections.craton.fleet.cli import db as db_cli
from ansible_collections.craton.fleet.plugins.module_utils import db, models

TABLES = {"tenants", "regions", "hosts", "groups", "group_children", "group_hosts", "secrets",
          "vars_references", "tenant_variables", "region_variables", "group_variables", "host_variables",
          "api_tokens"}


def _tables(url):
    engine = db.engine_for(url)
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def _schema_diff(url):
    engine = db.engine_for(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, models.Base.metadata)


def test_upgrade_downgrade_upgrade_round_trip(db_url):
    db_cli.upgrade(db_url)
    assert _tables(db_url) == TABLES
    assert db.current_revision(db.engine_for(db_url)) == models.SCHEMA_REVISION

    db_cli.downgrade(db_url, "base")
    assert _tables(db_url) == set()
    assert db.current_revision(db.engine_for(db_url)) is None

    db_cli.upgrade(db_url)
    assert _tables(db_url) == TABLES
    assert db.current_revision(db.engine_for(db_url)) == models.SCHEMA_REVISION


def test_migrated_schema_equals_the_models(fleet_url):
    assert _schema_diff(fleet_url) == []


def test_head_of_migrations_is_the_revision_the_code_needs():
    from alembic.script import ScriptDirectory
    config, _engine = db_cli.alembic_config("sqlite://")
    assert ScriptDirectory.from_config(config).get_current_head() == models.SCHEMA_REVISION


def test_every_table_has_a_primary_key_and_named_constraints(fleet_url):
    engine = db.engine_for(fleet_url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in TABLES:
            pk = inspector.get_pk_constraint(table)
            assert pk["constrained_columns"], table
            for fk in inspector.get_foreign_keys(table):
                assert fk["name"].startswith("fk_%s_" % table)
            for uq in inspector.get_unique_constraints(table):
                assert uq["name"].startswith("uq_%s_" % table)


def test_cli_upgrade_downgrade_current(db_url, run_craton):
    assert "base" in run_craton("db", "current", "--database-url", db_url).stdout
    out = run_craton("--database-url", db_url, "db", "upgrade").stdout
    assert "at revision %s" % models.SCHEMA_REVISION in out
    assert run_craton("db", "current", "--database-url", db_url).stdout.startswith(
        "%s (up to date)" % models.SCHEMA_REVISION)
    run_craton("db", "downgrade", "base", "--database-url", db_url)
    assert "needs `craton db upgrade`" in run_craton("db", "current", "--database-url", db_url).stdout


def test_cli_uses_the_environment_url(db_url, run_craton, craton_env):
    env = dict(craton_env, CRATON_DATABASE_URL=db_url)
    run_craton("db", "upgrade", env=env)
    assert _tables(db_url) == TABLES


def test_default_database_is_a_sqlite_file_under_xdg_data_home(run_craton, craton_env):
    run_craton("db", "upgrade")
    assert os.path.exists(os.path.join(craton_env["XDG_DATA_HOME"], "craton", "fleet.db"))
