# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type that craton.fleet raises for user-facing problems.

Library code raises :class:`CratonError` with a message that names what is wrong;
modules turn it into ``fail_json``, plugins into ``AnsibleError`` and the command
line into one line on stderr.
"""

from __future__ import annotations


class CratonError(Exception):
    """A problem the user can fix: bad input, a missing key, an old schema..."""


class SchemaOutdated(CratonError):
    """The database is not at the revision this code needs."""


class NotFound(CratonError):
    """A named tenant, region, group, host or secret does not exist."""


class Conflict(CratonError):
    """A name is already taken, or a change would break an invariant (cycles)."""


class Unavailable(CratonError):
    """The fleet database cannot be used at all (unreachable, refused, broken)."""
