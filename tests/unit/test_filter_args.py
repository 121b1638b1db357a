"""KEY=VALUE host-variable filters (module_utils/filter_args.py), as craton export takes them,
applied by the real inventory_query matcher."""

from __future__ import annotations

import pytest

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.filter_args import host_vars_filter
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import _matches, check_filters


def test_values_match_as_strings_and_as_json_scalars():
    accepted = host_vars_filter(["port=80", "wave=early", "wave=late", "on=true", "none=null", "data=[1]"])
    assert accepted == {"port": ["80", 80], "wave": ["early", "late"], "on": ["true", True],
                        "none": ["null", None], "data": ["[1]"]}
    assert check_filters({"host_vars": accepted})["host_vars"] == accepted
    assert _matches(80, accepted["port"]) and _matches("80", accepted["port"]) and not _matches(80.5, accepted["port"])
    assert _matches(True, accepted["on"]) and not _matches(1, accepted["on"])
    assert host_vars_filter([]) is None and host_vars_filter(None) is None
    assert host_vars_filter(["empty="]) == {"empty": [""]}
    assert host_vars_filter(["eq=a=b"]) == {"eq": ["a=b"]}


@pytest.mark.parametrize("pair, message", [
    ("wave", "--host-var expects KEY=VALUE, not 'wave'"),
    ("=x", "--host-var expects KEY=VALUE, not '=x'"),
    ("1x=2", "invalid --host-var name '1x'"),
    ("class=2", "invalid --host-var name 'class'"),
])
def test_bad_pairs_name_the_problem(pair, message):
    with pytest.raises(CratonError, match=message.replace("[", r"\[")):
        host_vars_filter([pair])
