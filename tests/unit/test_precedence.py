"""Pure logic of the inventory: filter validation, group naming, depths and the precedence
used by craton explain (no database, no Ansible run)."""

from __future__ import annotations

import pytest

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import (
    _json_value, _name_matcher, check_filters)
from ansible_collections.craton.fleet.plugins.module_utils.precedence import (
    explain_host, group_depths, group_name, name_groups)


def _group(name, children=(), variables=None, priority=1, untrusted=(), refs=()):
    return {"name": name, "children": list(children), "vars": variables or {}, "priority": priority,
            "untrusted": list(untrusted), "resolved_references": list(refs), "hosts": []}


def _inventory(groups):
    return name_groups({
        "tenants": [{"name": "acme", "vars": {"x": "tenant", "t": 1}, "untrusted": []}],
        "regions": [{"name": "eu-west", "tenant": "acme", "vars": {"x": "region"}, "untrusted": []}],
        "groups": groups,
        "hosts": [],
    })


def _host(groups, variables=None, well_known=None):
    return {"name": "h", "tenant": "acme", "region": "eu-west", "groups": list(groups),
            "vars": variables or {}, "untrusted": [], "well_known": well_known or {}}


def test_group_names_replace_unsafe_characters():
    assert group_name("region_", "eu-west.1") == "region_eu_west_1"
    assert group_name("tenant_", "acme") == "tenant_acme"


def test_colliding_group_names_are_refused():
    with pytest.raises(CratonError, match="region 'eu_west' becomes the Ansible group 'region_eu_west'"):
        name_groups({"tenants": [], "groups": [], "regions": [
            {"name": "eu-west", "tenant": "a"}, {"name": "eu_west", "tenant": "a"}]})
    with pytest.raises(CratonError, match="already group 'tenant_acme'"):
        name_groups({"tenants": [{"name": "acme"}], "regions": [], "groups": [_group("tenant_acme")]})


def test_depth_is_the_longest_path_from_a_top_level_group():
    groups = [_group("a", ["b", "d"]), _group("b", ["c"]), _group("c", ["d"]), _group("d")]
    assert group_depths(groups) == {"a": 1, "b": 2, "c": 3, "d": 4}


def test_explain_orders_tenant_region_groups_host():
    inventory = _inventory([_group("aaa", ["child"], {"x": "top"}), _group("child", [], {"x": "child"})])
    result = explain_host(inventory, _host(["child"], {"y": 1}, {"ansible_host": "10.0.0.1"}))
    assert result["x"]["value"] == "child"
    assert [o["origin"] for o in result["x"]["overrides"]] == [
        "group aaa", "region eu-west (group region_eu_west)", "tenant acme (group tenant_acme)"]
    assert result["ansible_host"]["origin"] == "host column ip_address"
    assert result["t"]["origin"] == "tenant acme (group tenant_acme)"


def test_explain_same_depth_uses_priority_then_name():
    inventory = _inventory([_group("b", [], {"x": "b"}), _group("a", [], {"x": "a"}),
                            _group("z", [], {"x": "z", "ansible_group_priority": 0}, priority=0)])
    result = explain_host(inventory, _host(["a", "b", "z"]))
    assert result["x"]["value"] == "b"
    assert [o["origin"] for o in result["x"]["overrides"]][:2] == ["group a", "group z"]
    assert "ansible_group_priority" not in result


def test_explain_references_come_under_the_groups_own_variables():
    refs = [{"url": "file:///one.yml", "vars": {"x": "ref1", "r": 1}, "trusted": False},
            {"url": "file:///two.yml", "vars": {"x": "ref2"}, "trusted": False}]
    inventory = _inventory([_group("g", [], {"x": "own"}, refs=refs)])
    result = explain_host(inventory, _host(["g"]))
    assert result["x"]["value"] == "own"
    assert [o["origin"] for o in result["x"]["overrides"]][:2] == [
        "group g (vars reference file:///two.yml)", "group g (vars reference file:///one.yml)"]
    assert result["r"] == {"value": 1, "origin": "group g (vars reference file:///one.yml)",
                           "trusted": False, "overrides": []}


@pytest.mark.parametrize("filters, message", [
    ({"tenant": 5}, "filter tenant must be a tenant name"),
    ({"regions": [1]}, "filter regions must be a list of names"),
    ({"host_vars": ["a"]}, "filter host_vars must be a mapping"),
    ({"host_vars": {"a-b": 1}}, "invalid host_vars filter variable name 'a-b'"),
    ({"active_only": "yes"}, "filter active_only must be true or false"),
    ({"reachable": "no"}, "filter reachable must be true, false or null"),
    ({"colour": "red"}, "unknown inventory filter 'colour'"),
])
def test_bad_filters_are_named(filters, message):
    with pytest.raises(CratonError, match=message):
        check_filters(filters)


def test_filters_are_normalised():
    f = check_filters({"regions": "eu", "host_vars": {"wave": 1, "role": ["a", "b"]}})
    assert f["regions"] == ["eu"] and f["host_vars"] == {"wave": [1], "role": ["a", "b"]}
    assert f["active_only"] is True and f["reachable"] is None


def test_host_name_patterns():
    exact, likes, match = _name_matcher(["web*", "db-0?", "cache01"])
    assert exact == ["cache01"] and likes == ["web%", "db-0_"]
    assert [n for n in ("web1", "Web1", "db-01", "db-001", "cache01", "cache011") if match(n)] == [
        "web1", "db-01", "cache01"]
    _exact, likes, match = _name_matcher(["node[0-3]", "a_b*"])
    assert likes is None  # a character class: Python only
    assert match("node2") and not match("node7") and match("a_bc") and not match("axbc")
    _exact, likes, _match = _name_matcher(["a_b%*"])
    assert likes == ["a\\_b\\%%"]


@pytest.mark.parametrize("raw, value", [
    ('"plain"', "plain"), ('"esc\\"aped"', 'esc"aped'), ('"caf\\u00e9"', "café"), ("true", True),
    ("false", False), ("null", None), ("42", 42), ("4.5", 4.5), ('{"a": [1, "b"]}', {"a": [1, "b"]}),
    (7, 7), (2.5, 2.5), (b'"bytes"', "bytes"), ("2.0", 2.0), ("-0.5", -0.5), ("1e5", 1e5), ("-7", -7),
    ("12345678901234567890", 12345678901234567890), ("-Infinity", float("-inf")), ("[]", []), ('""', ""),
])
def test_stored_json_values_decode_like_json(raw, value):
    import json
    assert _json_value(raw) == value
    assert type(_json_value(raw)) is type(value)  # pylint: disable=unidiomatic-typecheck
    if isinstance(raw, str):
        assert _json_value(raw) == json.loads(raw)
