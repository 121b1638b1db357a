# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of the names users give to things: variables, hosts, groups, ..."""

from __future__ import annotations

import keyword
import re

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

# Ansible's own rule (ansible.utils.vars.isidentifier): an ASCII Python identifier
# that is not a keyword and not True/False/None.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Inventory names: anything Ansible accepts in an INI or YAML inventory, but no
# whitespace, no control characters, and a bounded length (the columns are 255).
_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,255}$")

NAME_MAX = 255
SECRET_KINDS = ("pem", "ssh_private_key", "certificate", "opaque")


def check_var_name(key, what="variable"):
    """Return ``key`` if it is a valid Ansible variable name, else raise CratonError."""
    if not isinstance(key, str) or not _IDENTIFIER.match(key) or keyword.iskeyword(key) \
            or key in ("True", "False", "None"):
        raise CratonError(
            "invalid %s name %r: Ansible variable names are letters, digits and "
            "underscores, not starting with a digit, and not a Python keyword" % (what, key))
    return key


def check_name(name, what):
    """Return ``name`` if it is a valid tenant/region/host/group/secret name."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise CratonError(
            "invalid %s name %r: use 1 to %d characters without whitespace" % (what, name, NAME_MAX))
    return name


def check_secret_kind(kind):
    """Return ``kind`` if craton.fleet knows it, else raise CratonError."""
    if kind not in SECRET_KINDS:
        raise CratonError("invalid secret kind %r: use one of %s" % (kind, ", ".join(SECRET_KINDS)))
    return kind
