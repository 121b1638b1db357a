# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every craton.fleet module shares: the argument specs and a thin AnsibleModule.

The arg specs here are the twins of the doc fragments: ``DATABASE_SPEC`` of
``craton.fleet.database.modules``, ``VARIABLES_SPEC`` of ``craton.fleet.variables``.
:class:`FleetModule` adds the database options, masks the password of the
database URL in everything the module returns or logs, and turns the one
exception type of the library (CratonError) into ``fail_json``. A module's
``main()`` is then: build the spec, ``module.run(TheResource)``.
"""

from __future__ import annotations

import copy
import os
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.craton.fleet.plugins.module_utils import resources
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY, SQLALCHEMY_IMPORT_ERROR

ENV_URL = "CRATON_DATABASE_URL"  # the same name as db.ENV_URL; db.py needs SQLAlchemy to import

DATABASE_SPEC = {
    "database_url": {"type": "str", "fallback": (env_fallback, [ENV_URL])},
}

VARIABLES_SPEC = {
    "vars": {"type": "dict"},
    "vars_mode": {"type": "str", "choices": ["merge", "replace"], "default": "merge"},
    "absent_vars": {"type": "list", "elements": "str", "no_log": False},
}

STATE_SPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}

MODES = ["add", "replace", "remove"]

# user:password@ in a URL, for when SQLAlchemy cannot parse it.
_URL_PASSWORD = re.compile(r"^[^:/?#]+://[^:/?#@]*:([^@/]*)@")
# Lists longer than this are summarised in the invocation log (bulk host lists).
_LOG_LIST_MAX = 50


def database_argument_spec():
    """The arg spec of the database options (a fresh copy)."""
    return copy.deepcopy(DATABASE_SPEC)


def variables_argument_spec():
    """The arg spec of ``vars``, ``vars_mode`` and ``absent_vars`` (a fresh copy)."""
    return copy.deepcopy(VARIABLES_SPEC)


def state_argument_spec():
    """The arg spec of ``state`` (a fresh copy)."""
    return copy.deepcopy(STATE_SPEC)


def url_password(url):
    """The password in a database URL, or None."""
    if not url or not isinstance(url, str):
        return None
    if HAS_SQLALCHEMY:
        import sqlalchemy as sa  # pylint: disable=import-outside-toplevel
        try:
            return sa.engine.make_url(url).password or None
        except Exception:  # pylint: disable=broad-except
            pass
    match = _URL_PASSWORD.match(url)
    return match.group(1) if match and match.group(1) else None


class FleetModule(AnsibleModule):
    """AnsibleModule with the database options, password masking and CratonError handling."""

    def __init__(self, argument_spec, **kwargs):
        spec = database_argument_spec()
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        super().__init__(argument_spec=spec, **kwargs)

    def _load_params(self):
        # Mask the password before anything (validation errors included) can echo the URL.
        super()._load_params()
        password = url_password(self.params.get("database_url") or os.environ.get(ENV_URL))
        if password:
            self.no_log_values.add(password)

    def _summarised_params(self):
        return dict((key, "<%d items>" % len(value) if isinstance(value, list) and len(value) > _LOG_LIST_MAX
                     else value) for key, value in self.params.items())

    def _log_invocation(self):
        # A bulk host list of 10,000 entries belongs neither in the system log...
        params, self.params = self.params, self._summarised_params()
        try:
            super()._log_invocation()
        finally:
            self.params = params

    def exit_json(self, **kwargs):
        # ...nor in the result (module_args are echoed back as "invocation").
        kwargs.setdefault("invocation", {"module_args": self._summarised_params()})
        super().exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.setdefault("invocation", {"module_args": self._summarised_params()})
        super().fail_json(msg, **kwargs)

    def run(self, resource_class):
        """Apply a ``resources.Resource`` class to the parameters; exit with its result."""
        self.run_function(lambda params, _warn: resources.apply(
            resource_class(params), params.get("database_url"), check_mode=self.check_mode, diff=self._diff))

    def run_function(self, function):
        """Exit with the result dict of ``function(params, warn)``; CratonError fails the task.

        ``warn(message)`` adds a warning to the task result."""
        if not HAS_SQLALCHEMY:
            self.fail_json(msg=missing_required_lib("sqlalchemy"), exception=SQLALCHEMY_IMPORT_ERROR)
        try:
            result = function(self.params, self.warn)
        except CratonError as e:
            self.fail_json(msg=str(e))
        except Exception as e:  # pylint: disable=broad-except
            self.fail_json(msg="craton.fleet: unexpected %s: %s" % (type(e).__name__, e),
                           exception=traceback.format_exc())
        self.exit_json(**result)
