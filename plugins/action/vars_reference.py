# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of craton.fleet.vars_reference: runs the module on the controller (see plugin_utils/controller_action.py)."""

from __future__ import annotations

from ansible_collections.craton.fleet.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    """Runs craton.fleet.vars_reference on the controller, with the controller's Python."""
