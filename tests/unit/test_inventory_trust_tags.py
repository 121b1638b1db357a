"""The plugin's trust marking: equal to ansible.template.trust_as_template, recursive, and
rendered by Ansible's own templar; data values (columns, secret paths) never carry a template."""

from __future__ import annotations

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, is_trusted_as_template, trust_as_template

from ansible_collections.craton.fleet.plugins.inventory import inventory as plugin


def test_the_shared_tag_fast_path_is_active_and_equal_to_trust_as_template():
    assert plugin._trust_str is not trust_as_template  # the fast path passed its self-check
    fast, slow = plugin._trust_str("{{ 1 + 1 }}"), trust_as_template("{{ 1 + 1 }}")
    assert fast == slow and type(fast) is type(slow)  # pylint: disable=unidiomatic-typecheck
    assert is_trusted_as_template(fast)


def test_trusted_values_render_recursively_and_untrusted_do_not():
    templar = Templar(loader=DataLoader(), variables={"who": "world"})
    value = plugin._trust({"greeting": ["hello {{ who }}", 3], "n": 1.5})
    assert templar.template(value) == {"greeting": ["hello world", 3], "n": 1.5}
    assert templar.template("hello {{ who }}") == "hello {{ who }}"  # untrusted: left alone


def test_data_values_are_trusted_only_without_template_syntax():
    assert is_trusted_as_template(plugin._data("10.0.0.1"))
    assert not is_trusted_as_template(plugin._data("{{ evil }}"))
    paths = plugin._data({"key": "/tmp/x/1-2-key", "odd": "{% raw %}"})
    assert is_trusted_as_template(paths["key"]) and not is_trusted_as_template(paths["odd"])
