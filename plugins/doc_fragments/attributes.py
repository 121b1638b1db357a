# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes (check mode, diff mode, where they run) of the craton.fleet modules.

Used together with ``ansible.builtin.action_common_attributes`` (and its ``flow``,
``conn`` and ``actiongroups`` sections), which describe the attributes; this fragment says how
far each craton.fleet module supports them. ``DOCUMENTATION`` is for the modules
that write, ``INFO_MODULE`` for the read-only ones.
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Doc fragment: craton.fleet.attributes"""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    details:
      - Reports what would change, validating everything as a real run does; nothing is written.
  diff_mode:
    support: full
    details:
      - Shows the changed fields before and after; secret values are masked.
  action_group:
    support: full
    membership: [craton.fleet.fleet]
  action:
    support: full
    details:
      - An action plugin runs the module on the controller with the controller's Python, whatever host the
        play targets.
  async:
    support: none
  bypass_host_loop:
    support: none
  become:
    support: none
    details:
      - The module runs on the controller as the user running Ansible; C(become) is not applied.
  connection:
    support: none
    details:
      - The targeted host is never contacted; the module talks to the fleet database from the controller.
  delegation:
    support: partial
    details:
      - Not needed. With C(delegate_to) a host that uses the C(local) connection, the module still runs on
        the controller; with C(delegate_to) another host, it runs there with that host's Python.
  platform:
    platforms: posix
"""

    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it runs normally in check mode.
  diff_mode:
    support: N/A
    details:
      - The module only reads.
  action_group:
    support: full
    membership: [craton.fleet.fleet]
  action:
    support: full
    details:
      - An action plugin runs the module on the controller with the controller's Python, whatever host the
        play targets.
  async:
    support: none
  bypass_host_loop:
    support: none
  become:
    support: none
    details:
      - The module runs on the controller as the user running Ansible; C(become) is not applied.
  connection:
    support: none
    details:
      - The targeted host is never contacted; the module talks to the fleet database from the controller.
  delegation:
    support: partial
    details:
      - Not needed. With C(delegate_to) a host that uses the C(local) connection, the module still runs on
        the controller; with C(delegate_to) another host, it runs there with that host's Python.
  platform:
    platforms: posix
"""
