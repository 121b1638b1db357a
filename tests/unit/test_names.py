"""Names users give to things are validated with Ansible's rules."""

from __future__ import annotations

import pytest

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.names import check_name, check_secret_kind, check_var_name


@pytest.mark.parametrize("key", ["a", "_x", "ntp_servers", "A1", "ansible_host"])
def test_valid_variable_names_are_accepted(key):
    assert check_var_name(key) == key


@pytest.mark.parametrize("key", ["", "1abc", "with-dash", "has space", "class", "None", "ünï", "a.b", 5, None])
def test_invalid_variable_names_are_refused_with_the_name(key):
    with pytest.raises(CratonError, match="invalid variable name"):
        check_var_name(key)


@pytest.mark.parametrize("name", ["web01", "db-a.example.com", "group-with-dashes", "x" * 255])
def test_inventory_names_allow_what_ansible_allows(name):
    assert check_name(name, "host") == name


@pytest.mark.parametrize("name", ["", "two words", "tab\there", "x" * 256, None])
def test_inventory_names_refuse_whitespace_empty_and_overlong(name):
    with pytest.raises(CratonError, match="invalid host name"):
        check_name(name, "host")


def test_unknown_secret_kind_is_refused_naming_the_kinds():
    with pytest.raises(CratonError, match="pem, ssh_private_key, certificate, opaque"):
        check_secret_kind("password")
