# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is the comparison fair? Compare ``ansible-inventory --list`` outputs.

Two inventories are the same when they have the same groups, the same hosts and
child groups in each group, and the same effective variables for each host
(``_meta.hostvars``, which ansible-inventory computes with Ansible's own
precedence), compared type-strictly (``1``, ``1.0`` and ``true`` differ). The order of hosts inside a group is reported separately: it is
the play order, but it does not change what a host sees.
"""

from __future__ import annotations

import json


def load_list(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _canon(value):
    """Type-strict form for equality: 1, 1.0 and true are three different values."""
    return json.dumps(value, sort_keys=True)


def _members(data):
    return {name: {key: group.get(key, []) for key in ("hosts", "children")}
            for name, group in data.items() if name != "_meta"}


def differences(expected, actual, limit=8):
    """Human-readable differences between two --list outputs ([] when equal as sets)."""
    out = []
    exp_groups, act_groups = _members(expected), _members(actual)
    for what, names in (("groups only in the floor", sorted(set(exp_groups) - set(act_groups))),
                        ("groups only in the candidate", sorted(set(act_groups) - set(exp_groups)))):
        if names:
            out.append("%s (%d): %s" % (what, len(names), ", ".join(names[:limit])))
    for name in sorted(set(exp_groups) & set(act_groups)):
        for key in ("hosts", "children"):
            e, a = set(exp_groups[name][key]), set(act_groups[name][key])
            if e != a:
                out.append("group %s %s: missing %s, extra %s"
                           % (name, key, sorted(e - a)[:limit], sorted(a - e)[:limit]))
    exp_vars = expected.get("_meta", {}).get("hostvars", {})
    act_vars = actual.get("_meta", {}).get("hostvars", {})
    for what, names in (("hosts only in the floor", sorted(set(exp_vars) - set(act_vars))),
                        ("hosts only in the candidate", sorted(set(act_vars) - set(exp_vars)))):
        if names:
            out.append("%s (%d): %s" % (what, len(names), ", ".join(names[:limit])))
    shown = 0
    differing = 0
    for host in sorted(set(exp_vars) & set(act_vars)):
        e, a = exp_vars[host], act_vars[host]
        if _canon(e) == _canon(a):
            continue
        differing += 1
        if shown < limit:
            shown += 1
            keys = sorted(k for k in set(e) | set(a) if _canon(e.get(k, "<unset>")) != _canon(a.get(k, "<unset>")))
            out.append("host %s vars differ: %s" % (
                host, "; ".join("%s: floor %s, candidate %s" % (
                    k, json.dumps(e.get(k, "<unset>"))[:80], json.dumps(a.get(k, "<unset>"))[:80]) for k in keys[:limit])))
    if differing > shown:
        out.append("... %d hosts with differing vars in all" % differing)
    return out


def strip_trust(value):
    """``value`` with ansible-inventory's untrusted-string markers
    (``{"__ansible_unsafe": "..."}``) replaced by the plain strings."""
    if isinstance(value, dict):
        if len(value) == 1 and "__ansible_unsafe" in value:
            return value["__ansible_unsafe"]
        return {k: strip_trust(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_trust(v) for v in value]
    return value


def compare(expected, actual):
    """(differences, differences once trust markers are ignored, same host order)."""
    strict = differences(expected, actual)
    loose = strict
    if strict:
        loose = differences(strip_trust(expected), strip_trust(actual))
    return strict, loose, same_order(expected, actual)


def same_order(expected, actual):
    """True when every group lists its hosts and children in the same order."""
    exp_groups, act_groups = _members(expected), _members(actual)
    return all(exp_groups[name] == act_groups.get(name) for name in exp_groups)
