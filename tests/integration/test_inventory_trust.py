"""Templates and trust (ansible-core 2.19 data tagging): a template in a trusted value renders
in a real play, one in an untrusted value (or in a well-known column) never does."""

from __future__ import annotations

import json
import sys

import pytest

from inventory_helpers import build, inventory_list, playbook, write_config

PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "RESULT {{ {'motd': motd, 'nested': nested, 'evil': evil, 'evil_nested': evil_nested,
              'column_user': ansible_user} | to_json }}"
"""


@pytest.fixture
def trust_db(fleet_url):
    build(fleet_url, {"acme": {
        "vars": {"ansible_python_interpreter": sys.executable, "ansible_connection": "local"},
        "groups": {"web": {"vars": {"nested": {"greetings": ["hi {{ inventory_hostname }}", 42]}}}},
        "hosts": {"h1": {
            "groups": ["web"],
            "columns": {"user": "{{ 'root' if true else 'x' }}"},
            "vars": {"motd": "hello {{ inventory_hostname }} in {{ 'dub' ~ 'lin' }}"},
            "untrusted_vars": {"evil": "{{ 6 * 7 }}", "evil_nested": {"list": ["{{ 1 + 1 }}"]}},
        }},
    }})
    return fleet_url


def _result(stdout):
    for line in stdout.splitlines():
        if '"msg": "RESULT ' in line:
            return json.loads(json.loads("{%s}" % line.strip().rstrip(","))["msg"].split(" ", 1)[1])
    raise AssertionError("no RESULT line in:\n" + stdout)


def test_trusted_templates_render_and_untrusted_ones_do_not(trust_db, tmp_path, craton_env):
    config = write_config(tmp_path, database_url=trust_db, tenant="acme")
    proc = playbook(tmp_path, config, PLAY, craton_env)
    result = _result(proc.stdout)
    assert result["motd"] == "hello h1 in dublin"
    assert result["nested"] == {"greetings": ["hi h1", 42]}
    assert result["evil"] == "{{ 6 * 7 }}"
    assert result["evil_nested"] == {"list": ["{{ 1 + 1 }}"]}
    assert result["column_user"] == "{{ 'root' if true else 'x' }}"


def test_inventory_listing_marks_only_untrusted_strings(trust_db, tmp_path, craton_env):
    config = write_config(tmp_path, database_url=trust_db, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    hostvars = listing["_meta"]["hostvars"]["h1"]
    assert hostvars["motd"] == "hello {{ inventory_hostname }} in {{ 'dub' ~ 'lin' }}"
    assert hostvars["evil"] == {"__ansible_unsafe": "{{ 6 * 7 }}"}
    assert hostvars["evil_nested"] == {"list": [{"__ansible_unsafe": "{{ 1 + 1 }}"}]}
    assert hostvars["ansible_user"] == {"__ansible_unsafe": "{{ 'root' if true else 'x' }}"}
    assert hostvars["ansible_connection"] == "local"


def test_trust_survives_the_inventory_cache(trust_db, tmp_path, craton_env):
    options = dict(database_url=trust_db, tenant="acme", cache=True, cache_plugin="ansible.builtin.jsonfile",
                   cache_connection=str(tmp_path / "cache"))
    config = write_config(tmp_path, **options)
    playbook(tmp_path, config, PLAY, craton_env)  # fills the cache
    # Same file (same cache key), database now unusable: only the cache can answer.
    broken = dict(options)
    broken["database_url"] = "sqlite:///%s" % (tmp_path / "missing" / "none.db")
    write_config(tmp_path, **broken)
    result = _result(playbook(tmp_path, config, PLAY, craton_env).stdout)
    assert result["motd"] == "hello h1 in dublin"
    assert result["evil"] == "{{ 6 * 7 }}"
