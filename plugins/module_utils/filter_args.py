# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory filters given as text (command line options, URL query parameters).

``craton.yml`` gives the ``host_vars`` filter as a YAML mapping with typed
values; on a command line or in a URL each condition is a ``KEY=VALUE`` string.
:func:`host_vars_filter` turns those strings into the mapping that
``inventory_query.check_filters`` takes, the same way everywhere.
"""

from __future__ import annotations

import json

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.names import check_var_name


def host_vars_filter(pairs, what="--host-var"):
    """{key: [accepted values]} from ``KEY=VALUE`` strings, or None when there are none.

    A VALUE is accepted as the string and, when it reads as a JSON scalar
    (``80``, ``true``, ``null``), as that value too, so ``port=80`` selects a
    host whose ``port`` is 80 or "80". A key given several times accepts any of
    its values. Raises CratonError naming a string without ``=`` or an invalid
    variable name (``what`` names the option in messages)."""
    accepted = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CratonError("%s expects KEY=VALUE, not %r" % (what, pair))
        check_var_name(key, what)
        values = accepted.setdefault(key, [])
        values.append(value)
        try:
            parsed = json.loads(value)
        except ValueError:
            continue
        if not isinstance(parsed, (dict, list, str)):
            values.append(parsed)
    return accepted or None
