"""craton.fleet.inventory through real ansible-inventory / ansible-playbook runs:
what Ansible sees, and the filters."""

from __future__ import annotations

import sys

import pytest

from inventory_helpers import all_hosts, build, group_hosts, inventory_list, playbook, write_config

PY = sys.executable

FLEET = {
    "acme": {
        "vars": {"ansible_python_interpreter": PY, "owner": "acme"},
        "regions": {"eu-west": {"vars": {"dc": "dublin"}}, "us": {"vars": {"dc": "virginia"}}},
        "groups": {
            "app": {"vars": {"tier": "app"}, "children": ["web", "db"]},
            "web": {"vars": {"http_port": 80}, "children": ["web-canary"]},
            "web-canary": {"vars": {"canary": True}},
            "db": {"vars": {"engine": "mariadb"}},
            "empty": {"vars": {"unused": 1}},
        },
        "hosts": {
            "web01": {"region": "eu-west", "groups": ["web"], "vars": {"wave": "early"},
                      "columns": {"ip_address": "10.0.0.1", "port": 2222, "user": "deploy", "connection": "local"}},
            "web02": {"region": "eu-west", "groups": ["web-canary"], "vars": {"wave": "canary"}},
            "web03": {"region": "us", "groups": ["web"], "vars": {"wave": "late"}, "last_status": "unreachable"},
            "db01": {"region": "us", "groups": ["db"], "vars": {"wave": "early"}, "last_status": "ok"},
            "old01": {"region": "us", "groups": ["web"], "active": False},
            "lonely": {},
        },
    },
    "globex": {
        "vars": {"owner": "globex"},
        "hosts": {"gx01": {}},
    },
}


@pytest.fixture
def fleet_db(fleet_url):
    build(fleet_url, FLEET)
    return fleet_url


def listing_for(tmp_path, craton_env, url, **options):
    config = write_config(tmp_path, database_url=url, **options)
    listing, proc = inventory_list(config, craton_env)
    return listing, proc


def test_hosts_groups_and_variables_as_ansible_sees_them(fleet_db, tmp_path, craton_env):
    listing = listing_for(tmp_path, craton_env, fleet_db, tenant="acme")[0]
    assert all_hosts(listing) == ["db01", "lonely", "web01", "web02", "web03"]  # old01 is inactive
    assert sorted(listing["all"]["children"]) == sorted(
        ["ungrouped", "tenant_acme", "region_eu_west", "region_us", "app", "empty"])
    assert sorted(listing["app"]["children"]) == ["db", "web"]
    assert listing["web"]["children"] == ["web-canary"]
    assert listing["web"]["hosts"] == ["web01", "web03"]
    assert group_hosts(listing, "app") == ["web01", "web03", "web02", "db01"]
    assert listing["tenant_acme"]["hosts"] == ["web01", "web02", "web03", "db01", "lonely"]
    assert listing["region_eu_west"]["hosts"] == ["web01", "web02"]
    web01 = listing["_meta"]["hostvars"]["web01"]
    assert web01["ansible_host"] == "10.0.0.1"
    assert web01["ansible_port"] == 2222
    assert web01["ansible_user"] == "deploy"
    assert web01["ansible_connection"] == "local"
    assert (web01["owner"], web01["dc"], web01["tier"], web01["http_port"], web01["wave"]) == (
        "acme", "dublin", "app", 80, "early")
    assert "ansible_group_priority" not in web01
    web02 = listing["_meta"]["hostvars"]["web02"]
    assert web02["canary"] is True and web02["tier"] == "app"
    assert "ansible_host" not in web02


def test_a_real_play_runs_over_the_hosts(fleet_db, tmp_path, craton_env):
    config = write_config(tmp_path, database_url=fleet_db, tenant="acme", groups=["web"])
    proc = playbook(tmp_path, config, """
- hosts: all
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.command: "echo {{ inventory_hostname }}-{{ dc }}"
      register: out
    - ansible.builtin.assert:
        that: out.stdout == inventory_hostname ~ '-' ~ dc
""", craton_env)
    assert "web01" in proc.stdout and "web02" in proc.stdout and "web03" in proc.stdout
    assert "failed=0" in proc.stdout and "db01" not in proc.stdout


@pytest.mark.parametrize("options, expected", [
    ({"regions": ["us"]}, ["db01", "web03"]),
    ({"groups": ["web"]}, ["web01", "web02", "web03"]),
    ({"groups": ["app"]}, ["db01", "web01", "web02", "web03"]),
    ({"groups": ["web-canary", "db"]}, ["db01", "web02"]),
    ({"hosts": ["web*"]}, ["web01", "web02", "web03"]),
    ({"hosts": ["web0[12]", "lonely"]}, ["lonely", "web01", "web02"]),
    ({"hosts": ["db01", "w?b03"]}, ["db01", "web03"]),
    ({"hosts": ["WEB01"]}, []),
    ({"host_vars": {"wave": "early"}}, ["db01", "web01"]),
    ({"host_vars": {"wave": ["early", "canary"]}}, ["db01", "web01", "web02"]),
    ({"host_vars": {"wave": "early"}, "regions": ["eu-west"]}, ["web01"]),
    ({"host_vars": {"wave": "early", "missing": 1}}, []),
    ({"active_only": False, "regions": ["us"]}, ["db01", "old01", "web03"]),
    ({"reachable": True}, ["db01", "lonely", "web01", "web02"]),
    ({"reachable": False}, ["web03"]),
])
def test_filters_select_hosts(fleet_db, tmp_path, craton_env, options, expected):
    listing = listing_for(tmp_path, craton_env, fleet_db, tenant="acme", **options)[0]
    assert all_hosts(listing) == expected


def test_without_tenant_every_tenant_is_loaded(fleet_db, tmp_path, craton_env):
    listing = listing_for(tmp_path, craton_env, fleet_db)[0]
    assert "gx01" in all_hosts(listing) and "web01" in all_hosts(listing)
    assert listing["_meta"]["hostvars"]["gx01"]["owner"] == "globex"
    assert listing["_meta"]["hostvars"]["web01"]["owner"] == "acme"
    assert listing["tenant_globex"]["hosts"] == ["gx01"]


def test_a_host_name_in_two_loaded_tenants_is_an_error(fleet_url, tmp_path, craton_env):
    build(fleet_url, {"a": {"hosts": {"same": {}}}, "b": {"hosts": {"same": {}}}})
    proc = listing_for(tmp_path, craton_env, fleet_url)[1]
    assert "host 'same' exists in tenants 'a' and 'b'" in proc.stderr
    assert "set the tenant filter" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_constructed_features_compose_keyed_groups_and_groups(fleet_db, tmp_path, craton_env):
    listing = listing_for(
        tmp_path, craton_env, fleet_db, tenant="acme",
        compose={"where": "dc ~ '/' ~ inventory_hostname"},
        keyed_groups=[{"key": "wave", "prefix": "wave"}],
        groups={"in_dublin": "dc == 'dublin'"})[0]
    # a template's result is data: Ansible marks it unsafe, as with ansible.builtin.constructed
    assert listing["_meta"]["hostvars"]["web02"]["where"] == {"__ansible_unsafe": "dublin/web02"}
    assert sorted(listing["wave_early"]["hosts"]) == ["db01", "web01"]
    assert sorted(listing["in_dublin"]["hosts"]) == ["web01", "web02"]


def test_inventory_cache_serves_the_same_inventory(fleet_db, tmp_path, craton_env):
    cache_dir = tmp_path / "cache"
    options = dict(tenant="acme", cache=True, cache_plugin="ansible.builtin.jsonfile",
                   cache_connection=str(cache_dir), cache_timeout=3600)
    first = listing_for(tmp_path, craton_env, fleet_db, **options)[0]
    assert list(cache_dir.iterdir())
    # Same config file (same cache key), database now unusable: only the cache can answer.
    second = listing_for(tmp_path, craton_env, "sqlite:///%s" % (tmp_path / "missing" / "none.db"), **options)[0]
    assert second == first
    assert "web01" in second["_meta"]["hostvars"]


VALUES = {"whole_float": 2.0, "zero_float": 0.0, "small_float": 0.1, "integer": 1, "negative": -5,
          "numeric_string": "5", "float_string": "2.0", "bool_string": "true", "true": True, "false": False,
          "null": None, "empty": "", "big": 2 ** 53 + 1, "unicode": "café ✓", "quoted": 'say "hi" \\ bye',
          "listed": [1, 2.5, "x", None, True], "nested": {"a": {"b": [None, {"c": 1.0}]}}}


def test_variables_of_every_json_type_keep_their_type(fleet_url, tmp_path, craton_env):
    build(fleet_url, {"acme": {"hosts": {"h": {"vars": VALUES, "groups": ["g"]}}, "groups": {"g": {"vars": {"gf": 3.0}}}}})
    listing = listing_for(tmp_path, craton_env, fleet_url, tenant="acme")[0]
    hostvars = listing["_meta"]["hostvars"]["h"]
    got = {k: hostvars[k] for k in VALUES}
    assert got == VALUES
    assert {k: type(v).__name__ for k, v in got.items()} == {k: type(v).__name__ for k, v in VALUES.items()}
    assert isinstance(got["nested"]["a"]["b"][1]["c"], float)
    assert hostvars["gf"] == 3.0 and isinstance(hostvars["gf"], float)
