"""The bundle's YAML writer (module_utils/bundle.py): any JSON value written to a variables file
reads back through Ansible's own loader (the one host_group_vars uses) as the same value of the
same type; values marked untrusted come back untrusted, the others trusted; tar headers. Property-based."""

from __future__ import annotations

import math
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.parsing.dataloader import DataLoader
from ansible.template import is_trusted_as_template

from ansible_collections.craton.fleet.plugins.module_utils import bundle
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

# Every Unicode character a JSON document from the database can hold (no lone surrogates).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["", "5", "-1.5", "1e+100", "0x1F", "true", "yes", "Off", "null", "~", "2024-01-01", "{{ x }}", "a: b", "- x"])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
           | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                      max_leaves=12)
YAML_WORDS = ("true", "false", "null", "yes", "no", "on", "off", "y", "n")
NAMES = st.from_regex(r"\A[a-z_][a-z0-9_]{0,12}\Z").filter(lambda n: n not in YAML_WORDS)
WORDS = st.sampled_from(["true", "null", "yes", "on", "off", "no", "y", "n", "False", "NULL", "_", "x1"])


def kind(value):
    """The JSON type of a value (Ansible's loader returns tagged subclasses of the builtins)."""
    for name, types in (("null", type(None)), ("bool", bool), ("int", int), ("float", float), ("str", str),
                        ("list", list), ("dict", dict)):
        if isinstance(value, types):
            return name
    return type(value).__name__


def same(a, b):
    """Equal, and of the same JSON type all the way down (True is not 1, 1.0 is not 1)."""
    if kind(a) != kind(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def load(tmp_path, data):
    path = tmp_path / "vars.yml"
    path.write_bytes(data)
    return DataLoader().load_from_file(str(path), cache="none", unsafe=True, trusted_as_template=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(variables=st.dictionaries(NAMES | WORDS, VALUES, min_size=1, max_size=6), untrusted=st.sets(NAMES | WORDS))
def test_any_json_value_reads_back_the_same_through_ansible(tmp_path, variables, untrusted):
    marked = bundle._variables(variables, untrusted)  # pylint: disable=protected-access
    data = bundle._dump_vars(marked)  # pylint: disable=protected-access
    # YAML, unless an untrusted string would read as another type under !unsafe: then JSON
    ambiguous = any(k in untrusted and isinstance(v, str) and not bundle._reads_as_str(v)  # pylint: disable=protected-access
                    for k, v in variables.items())
    assert data.startswith(b"{\n" if ambiguous else b"---\n"), data
    loaded = load(tmp_path, data)
    assert same(dict(variables), dict(loaded)), data
    for key, value in loaded.items():
        for text in strings(value):
            assert is_trusted_as_template(text) == (key not in untrusted), (key, text)


def test_json_when_an_untrusted_string_reads_as_another_type_in_yaml(tmp_path):
    marked = bundle._variables({"port": "8080", "empty": "", "nested": ["", "5", {"k": "true"}], "ok": "{{ x }}",  # pylint: disable=protected-access
                                "trusted": "{{ y }}"}, {"port", "empty", "nested", "ok"})
    data = bundle._dump_vars(marked)  # pylint: disable=protected-access
    assert data.startswith(b"{")
    loaded = load(tmp_path, data)
    assert same(dict(loaded), {"port": "8080", "empty": "", "nested": ["", "5", {"k": "true"}], "ok": "{{ x }}",
                               "trusted": "{{ y }}"})
    assert [is_trusted_as_template(loaded[k]) for k in ("port", "empty", "ok", "trusted")] == [False, False, False, True]
    assert not any(is_trusted_as_template(s) for s in strings(loaded["nested"]))


def test_a_marker_key_next_to_such_a_string_is_an_error():
    marked = bundle._variables({"port": "8080", "data": {"__ansible_vault": "x"}}, {"port"})  # pylint: disable=protected-access
    with pytest.raises(CratonError, match="variable 'data': a mapping with the key __ansible_vault"):
        bundle._dump_vars(marked)  # pylint: disable=protected-access


def test_long_keys_fall_back_to_pyyaml(tmp_path):
    variables = {"nested": {"k" * 1500: ["v", 1.5e300, -0.0]}, "plain": "x"}
    data = bundle._dump_vars(variables)  # pylint: disable=protected-access
    assert b"? " in data  # PyYAML's explicit key
    assert same(variables, dict(load(tmp_path, data)))


def test_hosts_file_quotes_names_yaml_would_read_as_other_types(tmp_path):
    inventory = {"tenants": [{"id": 1, "name": "t", "vars": {}, "untrusted": [], "group": "tenant_t"}],
                 "regions": [], "warnings": [],
                 "groups": [{"id": 1, "name": name, "tenant": "t", "vars": {}, "untrusted": [], "priority": 1,
                             "children": [], "hosts": [name], "references": [], "resolved_references": []}
                            for name in ("null", "1.5", "0x1F", "2024-01-01", "web:x", "#g", "a b")],
                 "hosts": [{"id": i, "name": name, "tenant": "t", "region": None, "vars": {}, "untrusted": [],
                            "well_known": {}, "groups": [name]}
                           for i, name in enumerate(("null", "1.5", "0x1F", "2024-01-01", "web:x", "#g", "a b"))]}
    plan = bundle._Plan(inventory, decrypt=None)  # pylint: disable=protected-access
    loaded = load(tmp_path, plan.hosts_file(inventory["hosts"]))
    names = ["null", "1.5", "0x1F", "2024-01-01", "web:x", "#g", "a b"]
    assert list(loaded) == ["tenant_t"] + names
    assert list(loaded["tenant_t"]["hosts"]) == names
    for name in names:
        assert list(loaded[name]["hosts"]) == [name]


@settings(max_examples=300, deadline=None)
@given(path=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0/"), min_size=1, max_size=60)
       .map(lambda p: "dir/" + p), mode=st.sampled_from([0o755, 0o644, 0o600, 0o700]),
       size=st.none() | st.integers(min_value=0, max_value=8 ** 11 + 5))
def test_tar_headers_read_back_as_written(path, mode, size):
    """The hand-built tar headers (the common case) say what tarfile's own would say."""
    header = bundle._tar_header(path, mode, size)  # pylint: disable=protected-access
    assert len(header) % tarfile.BLOCKSIZE == 0
    if len(header) == tarfile.BLOCKSIZE:
        info = tarfile.TarInfo.frombuf(header, "utf-8", "strict")  # checks the checksum too
        assert (info.name.rstrip("/"), info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname) == (
            path, mode, 0, 0, 0, "root", "root")
        assert info.isdir() if size is None else (info.isreg() and info.size == size)
    assert header == bundle._tarfile_header(path, mode, size)  # pylint: disable=protected-access


def test_the_marker_error_comes_before_the_first_byte():
    host = {"id": 1, "name": "h", "tenant": "t", "region": None, "groups": [], "well_known": {},
            "vars": {"port": "8080", "data": {"__ansible_unsafe": "x"}}, "untrusted": ["port"]}
    inventory = {"tenants": [{"id": 1, "name": "t", "vars": {}, "untrusted": []}], "regions": [], "groups": [],
                 "hosts": [host], "warnings": []}
    with pytest.raises(CratonError, match="variable 'data'"):
        bundle.iter_bundle(inventory, "tgz")  # raises here, not while the chunks are consumed
