# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.recap_file: each host's final status, recap and last error in a JSON file."""

from __future__ import annotations

DOCUMENTATION = r"""
name: recap_file
type: aggregate
short_description: Writes each host's final status, recap counters and last error to a JSON file
version_added: 0.1.0
description:
  - At the end of the run, writes a JSON document to O(path) with, for every host the playbook ran on, its final
    status (V(ok), V(changed), V(failed), V(unreachable) or V(skipped), the same rule as C(craton.fleet.redis)),
    Ansible's recap counters and the message of its last failed or unreachable result that counted.
  - C(craton run) enables it for every C(ansible-playbook) it starts and reads each host's result from the file,
    so that results do not depend on parsing the terminal output nor on Redis being up.
  - The file is written atomically (a temporary file renamed into place). A playbook that ends without its recap
    (interrupted, or a parse error) leaves no file.
  - C(no_log) results never contribute a message, only V((hidden by no_log)).
author:
  - craton.fleet contributors (@craton-fleet)
options:
  path:
    description: The file to write. Unset, the callback does nothing.
    type: path
    env:
      - name: CRATON_RECAP_FILE
    ini:
      - section: callback_craton_recap_file
        key: path
notes:
  - Enable it with C(callbacks_enabled = craton.fleet.recap_file) and set E(CRATON_RECAP_FILE).
"""

EXAMPLES = r"""
# CRATON_RECAP_FILE=/tmp/recap.json ANSIBLE_CALLBACKS_ENABLED=craton.fleet.recap_file ansible-playbook site.yml
# /tmp/recap.json:
# {"complete": true,
#  "hosts": {"web1": {"status": "failed", "error": "No package matching 'foo'",
#                     "stats": {"ok": 3, "changed": 1, "failures": 1, ...}}}}
"""

import json
import os
import tempfile

from ansible.plugins.callback import CallbackBase

from ansible_collections.craton.fleet.plugins.module_utils import events


class CallbackModule(CallbackBase):
    """Collects each host's last counted error; writes the recap at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "craton.fleet.recap_file"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._errors = {}
        self._path = None

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._path = self.get_option("path")

    def _error(self, result):
        data = getattr(result, "_return_data", None)
        if not isinstance(data, dict):
            data = result.result
        if result.task.no_log is True or data.get("censored") or data.get("_ansible_no_log"):
            return "(hidden by no_log)"
        return events.error_message(data) or "(no message)"

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._errors[result.host.name] = self._error(result)

    def v2_runner_on_unreachable(self, result):
        if not result.task_fields.get("ignore_unreachable"):
            self._errors[result.host.name] = self._error(result)

    def v2_playbook_on_stats(self, stats):
        if not self._path:
            return
        hosts = {}
        for name in sorted(stats.processed):
            recap = stats.summarize(name)
            status = events.final_status(recap) or "skipped"
            entry = {"status": status, "stats": {k: recap.get(k, 0) for k in events.RECAP_KEYS}}
            if status in ("failed", "unreachable") and self._errors.get(name):
                entry["error"] = self._errors[name]
            hosts[name] = entry
        directory = os.path.dirname(os.path.abspath(self._path))
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".recap-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"complete": True, "hosts": hosts}, f, sort_keys=True)
            os.replace(tmp, self._path)
        except OSError as e:
            self._display.warning("craton.fleet.recap_file: cannot write %s: %s" % (self._path, e))
