# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routers of /v1, one module per collection; ``ROUTERS`` is what the app includes."""

from __future__ import annotations

from ansible_collections.craton.fleet.server.routes import tenants

ROUTERS = [tenants.router]
