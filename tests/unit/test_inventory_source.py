"""Reading inventories through Ansible's parser (plugin_utils.inventory_source): levels,
Ansible's precedence quirks, value conversion. Real Ansible, real files, no database."""

from __future__ import annotations

import textwrap

import pytest

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.plugin_utils.inventory_source import read_inventory


def write_tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return str(root)


def test_levels_children_and_members(tmp_path):
    source = write_tree(tmp_path, {"hosts.yml": """\
        all:
          vars: {site: x}
          children:
            parent-group:
              vars: {p: 1}
              children:
                child:
                  hosts:
                    h[1:2]:
                      own: yes
            other:
              hosts:
                h1:
                h3:
        """})
    snapshot = read_inventory(source)
    assert snapshot.tenant_vars == {"site": "x"}
    assert snapshot.groups == {
        "parent-group": {"vars": {"p": 1}, "children": ["child"], "hosts": []},
        "child": {"vars": {}, "children": [], "hosts": ["h1", "h2"]},
        "other": {"vars": {}, "children": [], "hosts": ["h1", "h3"]},
    }
    assert snapshot.hosts == {"h1": {"own": True}, "h2": {"own": True}, "h3": {}}


def test_group_priority_is_kept_as_the_variable(tmp_path):
    source = write_tree(tmp_path, {"hosts.ini": "[g]\nh1\n[g:vars]\nansible_group_priority=7\n"})
    assert read_inventory(source).groups["g"]["vars"] == {"ansible_group_priority": 7}


def test_group_vars_and_host_vars_files_join_their_level(tmp_path):
    source = write_tree(tmp_path, {
        "hosts.ini": "[g]\nh1 a=inventory b=inventory\n[g:vars]\nx=inventory\ny=inventory\n",
        "group_vars/g.yml": "y: file\nz: file\n",
        "host_vars/h1/main.yml": "b: file\n",
    })
    snapshot = read_inventory(str(tmp_path / "hosts.ini"))
    assert snapshot.groups["g"]["vars"] == {"x": "inventory", "y": "file", "z": "file"}
    assert snapshot.hosts["h1"] == {"a": "inventory", "b": "file"}


def test_inventory_values_that_group_vars_of_all_or_a_parent_always_override_are_dropped(tmp_path):
    source = write_tree(tmp_path, {
        "hosts.ini": "[p:children]\nc\n[c]\nh1\n[c:vars]\nfrom_all=inventory\nfrom_parent=inventory\nsame=v\n",
        "group_vars/all.yml": "from_all: all-file\n",
        "group_vars/p.yml": "from_parent: parent-file\nsame: v\n",
    })
    snapshot = read_inventory(source + "/hosts.ini")
    assert snapshot.groups["c"]["vars"] == {}
    assert snapshot.tenant_vars == {"from_all": "all-file"}
    assert snapshot.groups["p"]["vars"] == {"from_parent": "parent-file", "same": "v"}
    assert [w for w in snapshot.warnings if "not imported" in w] == [
        "variable 'from_all' of group 'c' not imported: a group_vars file of 'all' or of a parent group "
        "overrides it for every host (Ansible ranks group_vars files above inventory-file group variables)",
        "variable 'from_parent' of group 'c' not imported: a group_vars file of 'all' or of a parent group "
        "overrides it for every host (Ansible ranks group_vars files above inventory-file group variables)"]


def test_ungrouped_vars_fold_into_their_hosts_below_their_own_and_group_vars_all(tmp_path):
    source = write_tree(tmp_path, {
        "hosts.ini": "h1 own=host\nh2\n[g]\nh3\n[ungrouped:vars]\nu=ungrouped\nown=ungrouped\nshadowed=ungrouped\n",
        "group_vars/all.yml": "shadowed: all-file\n",
    })
    snapshot = read_inventory(source + "/hosts.ini")
    assert snapshot.hosts["h1"] == {"u": "ungrouped", "own": "host"}
    assert snapshot.hosts["h2"] == {"u": "ungrouped", "own": "ungrouped"}
    assert snapshot.hosts["h3"] == {}
    assert "ungrouped" not in snapshot.groups


def test_values_become_plain_json_with_notes(tmp_path):
    source = write_tree(tmp_path, {"hosts.yml": """\
        all:
          hosts:
            h1:
              when: 2024-05-01
              ports: {80: http, true: yes}
              text: "caf\\u00e9"
        """})
    snapshot = read_inventory(source + "/hosts.yml")
    assert snapshot.hosts["h1"] == {"when": "2024-05-01", "ports": {"80": "http", "true": True}, "text": "café"}
    assert type(snapshot.hosts["h1"]["text"]) is str  # pylint: disable=unidiomatic-typecheck
    assert "YAML dates stored as ISO 8601 strings: variable 'when' of host 'h1'" in snapshot.warnings
    assert "non-string mapping keys stored as strings: variable 'ports' of host 'h1'" in snapshot.warnings


def test_a_host_list_is_a_source(tmp_path):
    assert sorted(read_inventory("a.example,b.example,").hosts) == ["a.example", "b.example"]


@pytest.mark.parametrize("files,source,message", [
    ({}, "missing.ini", "import source {root}/missing.ini does not exist"),
    ({"bad.ini": "[g\n"}, "bad.ini", "cannot parse inventory source {root}/bad.ini: ini plugin: "),
    ({"u.yml": "all:\n  children:\n    ungrouped:\n      children:\n        odd: {}\n"}, "u.yml",
     "group 'odd' is a child of Ansible's implicit group 'ungrouped'"),
])
def test_unreadable_sources_are_errors(tmp_path, files, source, message):
    write_tree(tmp_path, files)
    with pytest.raises(CratonError) as info:
        read_inventory(str(tmp_path / source))
    assert message.format(root=tmp_path) in str(info.value)
