"""Precedence: tenant < region < user groups (parent < child) < host, checked with conflicting
values at every level through real ansible-inventory and ansible-playbook runs, and craton explain
agreeing with Ansible on every effective value."""

from __future__ import annotations

import json
import sys

import pytest

from inventory_helpers import build, inventory_list, playbook, write_config

LEVELS = ("tenant", "region", "top", "child", "grandchild", "host")


def _conflicts(upto):
    """The variables a level sets: k_<L> for every level L at or above it, valued by its own name.

    So k_<L> is set by L and by every level below L, and the value shows which level won."""
    return {"k_" + level: upto for level in LEVELS[LEVELS.index(upto):]}


# Names chosen so that alphabetical order alone would give the wrong answer: the top-level
# user group "aaa" sorts before "region_..." and "tenant_...", the region "zz" after them.
FLEET = {
    "acme": {
        "vars": dict(_conflicts("tenant"), ansible_python_interpreter=sys.executable, ansible_connection="local"),
        "regions": {"zz": {"vars": _conflicts("region")}},
        "groups": {
            "aaa": {"vars": _conflicts("top"), "children": ["mid"]},
            "mid": {"vars": _conflicts("child"), "children": ["leaf"]},
            "leaf": {"vars": _conflicts("grandchild")},
        },
        "hosts": {
            "deep": {"region": "zz", "groups": ["leaf"], "vars": _conflicts("host")},
            "shallow": {"region": "zz", "groups": ["aaa"]},
            "regional": {"region": "zz"},
            "bare": {},
        },
    },
}

EXPECTED = {
    # host: {key: winning level}
    "deep": {"k_tenant": "tenant", "k_region": "region", "k_top": "top", "k_child": "child",
             "k_grandchild": "grandchild", "k_host": "host"},
    "shallow": {"k_tenant": "tenant", "k_region": "region", "k_top": "top", "k_child": "top",
                "k_grandchild": "top", "k_host": "top"},
    "regional": {"k_tenant": "tenant", "k_region": "region", "k_top": "region", "k_child": "region",
                 "k_grandchild": "region", "k_host": "region"},
    "bare": {key: "tenant" for key in ("k_tenant", "k_region", "k_top", "k_child", "k_grandchild", "k_host")},
}


@pytest.fixture
def precedence_db(fleet_url):
    build(fleet_url, FLEET)
    return fleet_url


def test_conflicting_values_resolve_tenant_region_groups_host(precedence_db, tmp_path, craton_env):
    config = write_config(tmp_path, database_url=precedence_db, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    for host, expected in EXPECTED.items():
        hostvars = listing["_meta"]["hostvars"][host]
        assert {k: hostvars[k] for k in expected} == expected, host


def test_a_play_sees_the_same_winners(precedence_db, tmp_path, craton_env):
    config = write_config(tmp_path, database_url=precedence_db, tenant="acme")
    proc = playbook(tmp_path, config, """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "RESULT {{ inventory_hostname }} {{ {'k_tenant': k_tenant, 'k_region': k_region, 'k_top': k_top,
              'k_child': k_child, 'k_grandchild': k_grandchild, 'k_host': k_host} | to_json }}"
""", craton_env)
    seen = {}
    for line in proc.stdout.splitlines():
        if '"msg": "RESULT ' in line:
            text = json.loads("{%s}" % line.strip().rstrip(","))["msg"]
            _marker, host, payload = text.split(" ", 2)
            seen[host] = json.loads(payload)
    assert seen == EXPECTED


def test_user_group_priority_is_kept_and_can_reorder_groups(fleet_url, tmp_path, craton_env):
    build(fleet_url, {"acme": {
        "groups": {"one": {"vars": {"x": "one", "ansible_group_priority": 10}}, "two": {"vars": {"x": "two"}}},
        "hosts": {"h": {"groups": ["one", "two"]}},
    }})
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    assert listing["_meta"]["hostvars"]["h"]["x"] == "one"  # priority 10 beats the name order
    assert "ansible_group_priority" not in listing["_meta"]["hostvars"]["h"]


def test_well_known_columns_override_host_variables(fleet_url, tmp_path, craton_env):
    build(fleet_url, {"acme": {"hosts": {"h": {"columns": {"ip_address": "10.9.9.9"},
                                               "vars": {"ansible_host": "192.0.2.1", "ansible_user": "me"}}}}})
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    hostvars = listing["_meta"]["hostvars"]["h"]
    assert (hostvars["ansible_host"], hostvars["ansible_user"]) == ("10.9.9.9", "me")


def test_explain_agrees_with_ansible_on_every_effective_value(precedence_db, tmp_path, craton_env, run_craton):
    config = write_config(tmp_path, database_url=precedence_db, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    for host in EXPECTED:
        proc = run_craton("--database-url", precedence_db, "explain", host, "--tenant", "acme", "--json")
        explained = json.loads(proc.stdout)["variables"]
        assert {k: v["value"] for k, v in explained.items()} == {
            k: v for k, v in listing["_meta"]["hostvars"][host].items()
            if k not in ("inventory_file", "inventory_dir")}, host


def test_explain_names_origins_and_overridden_values(precedence_db, run_craton):
    out = run_craton("--database-url", precedence_db, "explain", "deep").stdout
    assert "host deep (tenant acme, region zz; groups: leaf)" in out
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("k_host "))
    block = lines[start:start + 6]
    assert block[0].endswith("<- host variable")
    assert [line.split(" from ", 1)[1] for line in block[1:]] == [
        "group leaf", "group mid", "group aaa", "region zz (group region_zz)", "tenant acme (group tenant_acme)"]
    assert '"grandchild"' in block[1] and '"tenant"' in block[5]
    data = json.loads(run_craton("--database-url", precedence_db, "explain", "shallow", "--json").stdout)
    assert data["variables"]["k_child"] == {
        "value": "top", "origin": "group aaa", "trusted": True,
        "overrides": [{"value": "region", "origin": "region zz (group region_zz)"},
                      {"value": "tenant", "origin": "tenant acme (group tenant_acme)"}]}
