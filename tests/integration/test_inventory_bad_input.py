"""Bad input to craton.fleet.inventory: a clear message naming the problem, never a traceback."""

from __future__ import annotations

import pytest

from ansible_collections.craton.fleet.cli import db as db_cli

from inventory_helpers import all_hosts, build, inventory_list, write_config

FLEET = {"acme": {"regions": {"eu": {}}, "groups": {"web": {}}, "hosts": {"h1": {"region": "eu", "groups": ["web"]}}}}


@pytest.fixture
def strict_env(craton_env):
    """Make an unparsable inventory source fail the command instead of a warning."""
    return dict(craton_env, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")


@pytest.fixture
def small_fleet(fleet_url):
    build(fleet_url, FLEET)
    return fleet_url


def _fails(config, env, *expected):
    proc = inventory_list(config, env, check=False)[1]
    assert proc.returncode != 0
    stderr = " ".join(proc.stderr.split())
    for text in expected:
        assert text in stderr
    assert "Traceback" not in proc.stderr
    return stderr


@pytest.mark.parametrize("options, expected", [
    ({"tennant": "acme"}, ["unknown option 'tennant' for craton.fleet.inventory", "valid options:"]),
    ({"active_only": "maybe"}, ["option active_only must be true or false, not 'maybe'"]),
    ({"reachable": "sometimes"}, ["option reachable must be true or false, not 'sometimes'"]),
    ({"regions": 5}, ["Config 'regions'", "Invalid value provided for 'list': 5"]),
    ({"host_vars": "wave=1"}, ["Config 'host_vars'", "Invalid value provided for 'dict'"]),
    ({"host_vars": {"not-a-name": 1}}, ["invalid host_vars filter variable name 'not-a-name'"]),
    ({"groups": 5}, ["option groups must be a list of group names (a filter) or a mapping"]),
    ({"secrets": "print"}, ["Invalid value 'print' for config 'secrets'", "files, skip"]),
    ({"vars_references_timeout": "soon"}, ["Config 'vars_references_timeout'", "'float': 'soon'"]),
])
def test_unknown_option_or_wrong_type_in_the_config(small_fleet, tmp_path, strict_env, options, expected):
    config = write_config(tmp_path, database_url=small_fleet, tenant="acme", **options)
    _fails(config, strict_env, *expected)


@pytest.mark.parametrize("options, message, hosts", [
    ({"tenant": "nobody"}, "tenant 'nobody' named in the inventory filter does not exist", []),
    ({"tenant": "acme", "regions": ["mars"]},
     "region 'mars' in tenant 'acme' named in the inventory filter does not exist", []),
    ({"tenant": "acme", "regions": ["eu", "mars"]},
     "region 'mars' in tenant 'acme' named in the inventory filter does not exist", ["h1"]),
    ({"tenant": "acme", "groups": ["web", "dbz", "cache"]},
     "groups 'cache', 'dbz' in tenant 'acme' named in the inventory filter do not exist", ["h1"]),
    ({"groups": ["nope"]}, "group 'nope' named in the inventory filter does not exist", []),
])
def test_unknown_names_in_filters(small_fleet, tmp_path, strict_env, options, message, hosts):
    """strict: an error naming it; else a warning, and that name selects no hosts."""
    config = write_config(tmp_path, database_url=small_fleet, strict=True, **options)
    _fails(config, strict_env, message)

    config = write_config(tmp_path, database_url=small_fleet, strict=False, **options)
    listing, proc = inventory_list(config, strict_env)
    assert message + "; it selects no hosts" in " ".join(proc.stderr.split())
    assert all_hosts(listing) == hosts


def test_unreachable_database(tmp_path, strict_env):
    config = write_config(tmp_path, database_url="mysql+pymysql://craton:pw@127.0.0.1:9/fleet")
    stderr = _fails(config, strict_env, "cannot use database mysql+pymysql://craton:***@127.0.0.1:9/fleet",
                    "Can't connect to MySQL server")
    assert ":pw@" not in stderr


def test_unsupported_database_url(tmp_path, strict_env):
    config = write_config(tmp_path, database_url="postgresql://db.example.com/fleet")
    _fails(config, strict_env, "unsupported database 'postgresql'")


def test_schema_that_needs_craton_db_upgrade(db_url, tmp_path, strict_env):
    config = write_config(tmp_path, database_url=db_url)
    _fails(config, strict_env, "has no craton schema", "run `craton db upgrade`")
    db_cli.upgrade(db_url)
    db_cli.downgrade(db_url, "base")
    _fails(config, strict_env, "run `craton db upgrade`")


def test_database_url_from_the_environment(small_fleet, tmp_path, craton_env):
    config = write_config(tmp_path, tenant="acme")
    listing = inventory_list(config, dict(craton_env, CRATON_DATABASE_URL=small_fleet))[0]
    assert all_hosts(listing) == ["h1"]


def test_a_file_not_named_craton_yml_is_not_taken(small_fleet, tmp_path, strict_env):
    config = write_config(tmp_path, name="inventory.yml", database_url=small_fleet)
    proc = inventory_list(config, strict_env, check=False)[1]
    assert proc.returncode != 0
    assert "h1" not in proc.stdout


def test_tenant_and_region_group_names_that_collide(fleet_url, tmp_path, strict_env):
    build(fleet_url, {"acme": {"regions": {"eu-west": {}, "eu_west": {}}, "hosts": {"h": {}}}})
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme")
    _fails(config, strict_env, "region 'eu_west' becomes the Ansible group 'region_eu_west', which is already "
                               "the group of region 'eu-west'", "region_group_prefix")
