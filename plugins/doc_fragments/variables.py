# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variable options of the tenant, region, group and host modules, documented once.

The twin arg spec is ``VARIABLES_SPEC`` in ``module_utils/fleet_module.py``.
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Doc fragment: craton.fleet.variables"""

    DOCUMENTATION = r"""
options:
  vars:
    description:
      - Variables of the object, a mapping of Ansible variable names to values (any JSON value).
      - Names must be valid Ansible variable names (letters, digits and underscores, not starting with a digit,
        not a Python keyword); an invalid name fails the task and nothing is written.
      - Values written by modules are trusted, so a template stored in a variable renders in the plays that use the
        inventory. Ansible templates task arguments before the module sees them, so to store a template rather than
        its value at task time, protect it, for example C("{% raw %}{{ inventory_hostname }}{% endraw %}").
      - When not given, the variables are left as they are (except O(absent_vars)).
    type: dict
  vars_mode:
    description:
      - How O(vars) is applied, when it is given.
      - V(merge) sets the given variables and keeps the others.
      - V(replace) makes the variables exactly O(vars); variables not listed are removed.
    type: str
    choices: [merge, replace]
    default: merge
  absent_vars:
    description:
      - Names of variables to remove. Names that are not set are ignored.
      - A name cannot be in both O(vars) and O(absent_vars).
    type: list
    elements: str
"""
