# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin behind every craton.fleet module: run the module on the controller.

The modules talk to the fleet database, which the controller can reach and the
managed hosts usually cannot (nor do they have SQLAlchemy). So unless a task is
delegated to another host, the module runs on the controller: through the
``local`` connection, with the controller's Python (``ansible_playbook_python``,
never the targeted host's interpreter or interpreter discovery), without
``become``. The targeted host is not contacted at all, so a play over remote
hosts can edit the fleet without ``delegate_to: localhost``.

A task with ``delegate_to`` runs where it is delegated, as usual, except that a
delegated host using the ``local`` connection is the controller too and gets
the controller's Python.
"""

from __future__ import annotations

import sys

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

INTERPRETER = "ansible_python_interpreter"


class ControllerModuleAction(ActionBase):
    """Run the task's module on the controller with the controller's Python."""

    _supports_check_mode = True
    _supports_async = False
    # Tells the task executor not to open a persistent connection (network_cli, ...) to the
    # targeted host before this action runs: the action does not use it.
    _requires_connection = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = dict(task_vars or {})
        delegated = self._task.delegate_to
        if not delegated or self._connection.transport in ("local", "ansible.builtin.local"):
            task_vars = self._on_controller(task_vars, delegated)
        result = super().run(tmp, task_vars)
        result = merge_hash(result, self._execute_module(module_name=self._task.resolved_action or self._task.action,
                                                         module_args=self._task.args, task_vars=task_vars))
        self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result

    def _on_controller(self, task_vars, delegated):
        if self._connection.transport not in ("local", "ansible.builtin.local") or self._connection.become:
            local = self._shared_loader_obj.connection_loader.get("ansible.builtin.local", self._play_context)
            local.set_options(var_options={})
            local._shell.set_options(var_options={})  # pylint: disable=protected-access
            self._connection = local
        python = task_vars.get("ansible_playbook_python") or sys.executable
        if delegated:
            delegated_vars = dict(task_vars.get("ansible_delegated_vars") or {})
            delegated_vars[delegated] = dict(delegated_vars.get(delegated) or {}, **{INTERPRETER: python})
            task_vars["ansible_delegated_vars"] = delegated_vars
        else:
            task_vars[INTERPRETER] = python
        return task_vars
