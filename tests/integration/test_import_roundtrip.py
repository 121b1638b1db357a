"""Round trip: after `craton import SOURCE`, `ansible-inventory -i craton.yml --list` equals
`ansible-inventory -i SOURCE --list`: the same hosts, group members and children, and the
same effective host variables, apart from the plugin's tenant/region groups."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.craton.fleet.plugins.module_utils.precedence import (
    REGION_PREFIX, TENANT_PREFIX, group_name)

from import_helpers import fleet_config, listing, normalized, source_path

SOURCES = {
    "ini-file-with-group_vars": "ini_nested/hosts.ini",
    "ini-directory": "ini_nested",
    "yaml-every-type": "yaml_types/inventory.yml",
    "executable-script": "script/inventory.sh",
    "directory-of-ini-and-yaml": "mixed_dir",
    "generator-plugin": "generator/inventory.generator.yml",
}


def assert_round_trip(source, url, tenant, run_craton, craton_env, tmp_path, region=None):
    args = ["import", source, "--tenant", tenant, "--database-url", url]
    if region:
        args += ["--region", region]
    run_craton(*args)
    expected = normalized(listing(source, craton_env, tmp_path))
    extra = [group_name(TENANT_PREFIX, tenant)] + ([group_name(REGION_PREFIX, region)] if region else [])
    got = normalized(listing(fleet_config(tmp_path, url, tenant), craton_env, tmp_path), extra)
    assert got["hosts"] == expected["hosts"]
    assert got["members"] == expected["members"]
    assert got["children"] == expected["children"]
    for host in expected["hosts"]:
        assert got["hostvars"][host] == expected["hostvars"][host], host
    return expected, got


@pytest.mark.parametrize("name", SOURCES)
def test_round_trip_keeps_hosts_groups_and_effective_variables(name, fleet_url, run_craton, craton_env, tmp_path):
    expected, _got = assert_round_trip(source_path(SOURCES[name]), fleet_url, "t1", run_craton, craton_env, tmp_path)
    assert len(expected["hosts"]) >= 3


def test_round_trip_of_an_ansible_host_list(fleet_url, run_craton, craton_env, tmp_path):
    expected, _got = assert_round_trip("alpha.example.com,beta.example.com,", fleet_url, "lists",
                                       run_craton, craton_env, tmp_path)
    assert expected["hosts"] == ["alpha.example.com", "beta.example.com"]


def test_round_trip_with_a_region_adds_only_the_region_group(fleet_url, run_craton, craton_env, tmp_path):
    source = source_path("ini_nested/hosts.ini")
    expected, _got = assert_round_trip(source, fleet_url, "acme", run_craton, craton_env, tmp_path, region="eu-1")
    raw = listing(fleet_config(tmp_path, fleet_url, "acme"), craton_env, tmp_path)
    assert sorted(raw["region_eu_1"]["hosts"]) == expected["hosts"]
    assert sorted(raw["tenant_acme"]["hosts"]) == expected["hosts"]


def test_round_trip_of_hosts_in_many_groups(fleet_url, run_craton, craton_env, tmp_path):
    """300 hosts, each in 20 of 60 groups (3 levels of children), variables at every
    level with conflicting values, so that Ansible's group order decides."""
    groups = {}
    for g in range(60):
        groups["g-%02d" % g] = {"hosts": {}, "vars": {"level": "g%02d" % g, "g%02d" % g: g,
                                                      "shared": {"from": g}}}
    for g in range(20):  # g-00..g-19 are parents of g-20..g-39, which are parents of g-40..g-59
        groups["g-%02d" % g]["children"] = {"g-%02d" % (g + 20): {}}
        groups["g-%02d" % (g + 20)]["children"] = {"g-%02d" % (g + 40): {}}
    groups["g-07"]["vars"]["ansible_group_priority"] = 5
    for h in range(300):
        name = "host-%03d" % h
        for k in range(20):
            members = groups["g-%02d" % ((h * 7 + k * 3) % 60)]["hosts"]
            members[name] = {"own": h, "shared": {"host": h}} if k == 0 else None
    source = tmp_path / "many.yml"
    source.write_text(yaml.safe_dump({"all": {"vars": {"level": "all"}, "children": groups}}))
    expected, _got = assert_round_trip(str(source), fleet_url, "many", run_craton, craton_env, tmp_path)
    assert len(expected["hosts"]) == 300
