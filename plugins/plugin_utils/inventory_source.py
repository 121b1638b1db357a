# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an existing inventory through Ansible's own parsing, for ``craton import``.

(Controller-side code: it uses ansible-core's inventory manager, so it lives in
plugin_utils, not in module_utils; the writing is module_utils.importer.)

:func:`read_inventory` hands the sources to Ansible's ``InventoryManager`` (so every
inventory Ansible reads is accepted: INI, YAML, TOML, directories, scripts, host
lists and inventory plugins), runs the vars plugins on every group and host the way
``ansible-inventory`` does (``group_vars/`` and ``host_vars/`` next to the source),
and returns an :class:`InventorySnapshot` of plain JSON-able data, level by level:

* ``tenant_vars``: the variables of Ansible's implicit group ``all``;
* ``groups``: every other group with its own variables, child groups and direct
  host members (``all`` and ``ungrouped`` are not groups of the snapshot);
* ``hosts``: every host with its own variables.

Variables stay at the level they were defined, with two adjustments that keep each
host's *effective* variables equal to Ansible's (a stored level cannot express
Ansible's rule that every ``group_vars/`` file outranks every inventory-file group
variable):

* a group's inventory-file value that a ``group_vars/`` file of ``all`` or of an
  ancestor group overrides for every host of the group is dead in Ansible and is
  not imported (a warning names it);
* the variables of the implicit group ``ungrouped`` are folded into the host
  variables of its hosts, under their own.

A source that Ansible fails to parse is an error here (Ansible only warns), as are
vault-encrypted values (import them as secrets instead) and values JSON cannot hold.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig
from ansible.utils.display import Display
from ansible.utils.vars import combine_vars
from ansible.vars.plugins import get_vars_from_inventory_sources

try:  # ansible-core >= 2.19
    from ansible.parsing.vault import EncryptedString as _VAULTED
except ImportError:  # pragma: no cover - older ansible-core
    _VAULTED = ()
try:
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode as _LEGACY_VAULTED
except ImportError:  # pragma: no cover
    _LEGACY_VAULTED = ()

IMPLICIT_GROUPS = ("all", "ungrouped")
# Set by Ansible on every host it adds (the source file), never by the user.
SOURCE_VARS = ("inventory_file", "inventory_dir")
GROUP_PRIORITY_VAR = "ansible_group_priority"
DEFAULT_GROUP_PRIORITY = 1
WARNING_EXAMPLES = 5


class InventorySnapshot:
    """An inventory as Ansible sees it, as plain data (see the module docstring)."""

    def __init__(self):
        self.tenant_vars = {}
        self.groups = {}        # name -> {"vars": {}, "children": [names], "hosts": [names]}
        self.hosts = {}         # name -> {vars}
        self.warnings = []

    def __repr__(self):
        return "<InventorySnapshot %d hosts, %d groups>" % (len(self.hosts), len(self.groups))


# --- parsing ----------------------------------------------------------------------

@contextmanager
def _captured_display():
    """Collect Ansible's parse failures, warnings and deprecations instead of printing them."""
    display = Display()
    failures, warnings = [], []

    def warning(msg, *_args, **_kwargs):
        if str(msg) not in warnings:
            warnings.append(str(msg))

    def deprecated(msg, *_args, **_kwargs):
        warning("[deprecated] %s" % msg)

    def error_as_warning(msg, exception, *_args, **_kwargs):
        failures.append((str(msg or ""), exception))

    names = ("warning", "deprecated", "error_as_warning")
    saved = {name: display.__dict__.get(name) for name in names}
    display.warning, display.deprecated, display.error_as_warning = warning, deprecated, error_as_warning
    try:
        yield failures, warnings
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(display, name)
            else:
                setattr(display, name, value)


def _describe_failures(source, failures):
    """One line from the failures of the plugins that tried ``source``: which plugin
    said what (and at which line), without repeats; for a YAML/JSON file the INI
    plugin's complaint (it tries everything) is left out when another plugin spoke,
    and so it is for an executable file (a script)."""
    described = []
    for msg, exception in failures:
        origin = getattr(exception, "obj", None)
        path = getattr(origin, "path", None)
        if path and source not in (path, os.path.dirname(path)) and not path.startswith(source + os.sep):
            continue
        plugin = msg.split(" with '", 1)[1].split("'", 1)[0] if " with '" in msg else None
        message = " ".join(str(getattr(exception, "message", None) or exception).split())
        help_text = getattr(exception, "_help_text", None)  # e.g. a failing script's stderr
        if help_text:
            message += " " + " ".join(str(help_text).split())[:500]
        described.append((plugin, message, getattr(origin, "line_num", None)))
    relevant = "script" if os.path.isfile(source) and os.access(source, os.X_OK) else \
        "yaml" if source.endswith((".yml", ".yaml", ".json")) else None
    if relevant and any(p != "ini" for p, _m, _l in described):
        described = [d for d in described if d[0] != "ini"]
    parts, seen = [], set()
    for plugin, message, line in described:
        if message in seen:
            continue
        seen.add(message)
        text = "%s plugin: %s" % (plugin, message) if plugin else message
        parts.append(text + (" (line %d)" % line if line else ""))
    return "; ".join(parts) or "no inventory plugin accepts it"


def _check_sources(sources):
    checked = []
    for source in sources:
        if not isinstance(source, str) or not source:
            raise CratonError("invalid import source %r" % (source,))
        if "," in source and not os.path.exists(source):
            checked.append(source)  # an Ansible host list: "web1,web2,"
            continue
        path = os.path.abspath(os.path.expanduser(source))
        if not os.path.exists(path):
            raise CratonError("import source %s does not exist" % source)
        if not os.access(path, os.R_OK) or (os.path.isdir(path) and not os.access(path, os.X_OK)):
            raise CratonError("import source %s is not readable" % source)
        checked.append(path)
    if not checked:
        raise CratonError("no import source given")
    return checked


def _parse(sources):
    if AnsibleCollectionConfig.collection_finder is None:
        # As Ansible's own commands do: needed for sources naming a collection's plugin.
        init_plugin_loader()
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=sources, parse=False)
    with _captured_display() as (failures, warnings):
        try:
            inventory.parse_sources()
        except AnsibleError as e:
            raise CratonError("cannot read the import source: %s" % " ".join(str(e).split())) from None
    unparsed = [w.split("Unable to parse ", 1)[1].rsplit(" as an inventory source", 1)[0]
                for w in warnings if w.startswith("Unable to parse ")]
    if unparsed:
        raise CratonError("cannot parse inventory source %s: %s" % (
            unparsed[0], _describe_failures(unparsed[0], failures)))
    other = [w for w in warnings if not w.startswith(("Unable to parse ", "No inventory was parsed"))]
    return loader, inventory, other


# --- plain values -----------------------------------------------------------------

class _Plain:
    """Turns Ansible's (tagged) values into plain JSON-able Python values."""

    def __init__(self):
        self.notes = {}  # kind -> [where]

    def note(self, kind, where):
        places = self.notes.setdefault(kind, [])
        if where not in places:
            places.append(where)

    def __call__(self, value, where):
        if value is None:
            return value
        if isinstance(value, (_VAULTED, _LEGACY_VAULTED)):
            raise CratonError("%s is vault-encrypted: craton import does not copy vaulted values; "
                              "store it as a secret (craton.fleet.secret) or decrypt it first" % where)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, str):
            return str.__str__(value)  # a plain str, without Ansible's tags
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                raise CratonError("%s is %r, which JSON cannot store" % (where, value))
            return float(value)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    self.note("non-string mapping keys stored as strings", where)
                    key = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
                else:
                    key = str.__str__(key)
                out[key] = self(item, "%s.%s" % (where, key))
            return out
        if isinstance(value, (list, tuple)):
            return [self(item, "%s[%d]" % (where, i)) for i, item in enumerate(value)]
        if hasattr(value, "isoformat"):  # YAML dates and timestamps
            self.note("YAML dates stored as ISO 8601 strings", where)
            return value.isoformat()
        raise CratonError("%s has a value of type %s, which craton.fleet cannot store as JSON"
                          % (where, type(value).__name__))

    def plain_vars(self, variables, where):
        return {str.__str__(key) if isinstance(key, str) else key: self(value, "variable %r of %s" % (key, where))
                for key, value in variables.items()}


# --- levels -----------------------------------------------------------------------

def _sort_key(group):
    return (group.depth, group.priority, group.name)


def _drop_dead_group_values(groups, inline, plugin, warnings):
    """Remove inventory-file group values that a group_vars file of ``all`` or of an
    ancestor overrides for every host of the group (Ansible ranks every vars-plugin
    group variable above every inventory-file group variable)."""
    all_plugin = plugin.get("all", {})
    dead = {}
    for name, variables in inline.items():
        if name in IMPLICIT_GROUPS:
            continue
        own_plugin = plugin.get(name, {})
        ancestors = [a.name for a in groups[name].get_ancestors() if a.name not in IMPLICIT_GROUPS]
        for key in list(variables):
            if key in own_plugin or key == GROUP_PRIORITY_VAR:
                continue
            overriding = [plugin[a][key] for a in ancestors if key in plugin.get(a, {})]
            if key in all_plugin:
                overriding.append(all_plugin[key])
            if overriding:
                value = variables.pop(key)
                if any(other != value for other in overriding):
                    dead.setdefault(key, []).append(name)
    for key, names in sorted(dead.items()):
        warnings.append(
            "variable %r of group%s %s not imported: a group_vars file of 'all' or of a parent group "
            "overrides it for every host (Ansible ranks group_vars files above inventory-file "
            "group variables)" % (key, "s" if len(names) > 1 else "", _examples(names)))


def _warn_partial_overrides(groups, inline, plugin, warnings):
    """Warn where a group_vars file of a group that is not an ancestor overrides an
    inventory-file value for the hosts the two groups share: that cannot be stored
    per level, and craton.fleet gives the value of the later group in Ansible's
    group order instead. One warning per variable."""
    plugin_keys = {}
    for name, variables in plugin.items():
        if name not in IMPLICIT_GROUPS:
            for key in variables:
                plugin_keys.setdefault(key, []).append(name)
    hosts_of = {}

    def hosts(name):
        if name not in hosts_of:
            hosts_of[name] = {h.name for h in groups[name].get_hosts()}
        return hosts_of[name]

    clashes = {}  # key -> [(inventory group, group_vars group, shared hosts)]
    for name, variables in inline.items():
        if name in IMPLICIT_GROUPS:
            continue
        for key in variables:
            if key in plugin.get(name, {}):
                continue  # the group's own group_vars file already wins on its level
            for other in plugin_keys.get(key, ()):
                if other == name or _sort_key(groups[other]) > _sort_key(groups[name]):
                    continue  # the group_vars file wins in both orders
                if plugin[other][key] == variables[key]:
                    continue
                shared = hosts(name) & hosts(other)
                if shared:
                    clashes.setdefault(key, []).append((name, other, shared))
    for key, found in sorted(clashes.items()):
        name, other, shared = found[0]
        more = " (and %d more pairs of groups)" % (len(found) - 1) if len(found) > 1 else ""
        warnings.append(
            "variable %r: for the hosts in both %r and %r (%s) Ansible uses the value of the group_vars "
            "file of %r, craton.fleet the inventory value of %r%s" % (
                key, name, other, _examples(sorted(shared)), other, name, more))


def _examples(names):
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:WARNING_EXAMPLES])
    if len(names) > WARNING_EXAMPLES:
        shown += " and %d more" % (len(names) - WARNING_EXAMPLES)
    return shown


def read_inventory(sources, progress=None):
    """Read ``sources`` (paths or Ansible host lists) into an InventorySnapshot.

    ``progress(stage, done, total)`` is called while the hosts are read."""
    if isinstance(sources, str):
        sources = [sources]
    sources = _check_sources(list(sources))
    if progress:
        progress("parsing", 0, 0)
    loader, inventory, parse_warnings = _parse(sources)
    vars_sources = getattr(inventory, "_sources", sources)
    snapshot = InventorySnapshot()
    snapshot.warnings.extend(parse_warnings)
    plain = _Plain()

    def plugin_vars(entity):
        try:
            return get_vars_from_inventory_sources(loader, vars_sources, [entity], "all")
        except AnsibleError as e:
            raise CratonError("cannot read the variables of %s: %s" % (entity.name, " ".join(str(e).split()))) from None

    groups = dict(inventory.groups)
    inline, from_plugins = {}, {}
    for name, group in groups.items():
        where = "group %r" % name
        own = dict(group.get_vars())
        if group.priority != DEFAULT_GROUP_PRIORITY:
            own[GROUP_PRIORITY_VAR] = group.priority
        inline[name] = plain.plain_vars(own, where)
        found = plain.plain_vars(plugin_vars(group), where)
        found.pop(GROUP_PRIORITY_VAR, None)  # only inventory sources set a group's priority
        from_plugins[name] = found
    _drop_dead_group_values(groups, inline, from_plugins, snapshot.warnings)
    _warn_partial_overrides(groups, inline, from_plugins, snapshot.warnings)

    snapshot.tenant_vars = combine_vars(inline["all"], from_plugins["all"])
    ungrouped = groups.get("ungrouped")
    if ungrouped is not None and ungrouped.child_groups:
        raise CratonError("group %r is a child of Ansible's implicit group 'ungrouped', which craton.fleet "
                          "cannot store: make it a child of another group" % ungrouped.child_groups[0].name)
    # Effective order for an ungrouped host: all < ungrouped < group_vars/all < group_vars/ungrouped < host.
    folded = {}
    if ungrouped is not None:
        folded = {k: v for k, v in inline["ungrouped"].items()
                  if k not in from_plugins["all"] and k != GROUP_PRIORITY_VAR}
        folded = combine_vars(folded, from_plugins["ungrouped"])
    for name, group in groups.items():
        if name in IMPLICIT_GROUPS:
            continue
        snapshot.groups[name] = {
            "vars": combine_vars(inline[name], from_plugins[name]),
            "children": [child.name for child in group.child_groups],
            "hosts": [host.name for host in group.hosts],
        }
    ungrouped_hosts = {h.name for h in ungrouped.hosts} if ungrouped is not None and folded else set()

    hosts = list(inventory.hosts.values())
    total = len(hosts)
    step = max(1, total // 200)
    for done, host in enumerate(hosts, 1):
        where = "host %r" % host.name
        own = {k: v for k, v in host.vars.items() if k not in SOURCE_VARS}
        variables = combine_vars(plain.plain_vars(own, where), plain.plain_vars(plugin_vars(host), where))
        if host.name in ungrouped_hosts:
            variables = combine_vars(folded, variables)
        snapshot.hosts[host.name] = variables
        if progress and (done % step == 0 or done == total):
            progress("reading", done, total)
    for kind, places in sorted(plain.notes.items()):
        more = " and %d more" % (len(places) - WARNING_EXAMPLES) if len(places) > WARNING_EXAMPLES else ""
        snapshot.warnings.append("%s: %s%s" % (kind, ", ".join(places[:WARNING_EXAMPLES]), more))
    return snapshot
