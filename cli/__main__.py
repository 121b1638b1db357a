# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m ansible_collections.craton.fleet.cli`` is the ``craton`` command."""

from __future__ import annotations

from ansible_collections.craton.fleet.cli.main import main

main()
