"""craton run: the pure parts of a run spec (filters from options, batches, state URL)."""

from __future__ import annotations

import pytest

from ansible_collections.craton.fleet.driver import run_spec, state
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError


def test_host_vars_are_yaml_scalars_and_repeat_into_lists():
    assert run_spec.parse_host_vars(["wave=canary", "wave=early", "port=22", "on=true", 'id="7"']) == {
        "wave": ["canary", "early"], "port": [22], "on": [True], "id": ["7"]}


@pytest.mark.parametrize("item", ["novalue", "=x", "k=[1, 2]"])
def test_bad_host_vars_are_errors(item):
    with pytest.raises(CratonError, match="--host-var"):
        run_spec.parse_host_vars([item])


def test_filters_from_options_mirror_craton_yml():
    assert run_spec.filters_from_options(tenant="acme", regions=["eu"], hosts=["web*"], host_vars=["a=1"],
                                         include_inactive=True, reachable=False) == {
        "tenant": "acme", "regions": ["eu"], "hosts": ["web*"], "host_vars": {"a": [1]},
        "active_only": False, "reachable": False}
    assert run_spec.filters_from_options() == {"active_only": True}


def test_batches_keep_the_order_and_name_tasks():
    assert run_spec.batches_of(["a", "b", "c"], 1) == ([["a"], ["b"], ["c"]], ["host:a", "host:b", "host:c"])
    batches, names = run_spec.batches_of(["h%d" % i for i in range(11)], 5)
    assert [len(b) for b in batches] == [5, 5, 1] and names == ["batch:1", "batch:2", "batch:3"]
    with pytest.raises(CratonError, match="--batch-size must be at least 1"):
        run_spec.batches_of(["a"], 0)


def test_state_defaults_next_to_a_sqlite_fleet_and_in_a_mysql_fleet(tmp_path):
    assert state.default_state_url("sqlite:///%s/fleet.db" % tmp_path) == "sqlite:///%s/fleet.runs.db" % tmp_path
    mysql = "mysql+pymysql://u:p@db.example.com/fleet"
    assert state.default_state_url(mysql).startswith("mysql+pymysql://u:p@db.example.com/fleet")
    assert state.book_uuid("run-1") == state.book_uuid("run-1") != state.book_uuid("run-2")
