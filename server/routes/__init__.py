# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routers of /v1, one module per collection; ``ROUTERS`` is what the app includes."""

from __future__ import annotations

from ansible_collections.craton.fleet.server.routes import (
    groups, hosts, inventory, regions, secrets, tenants, variables, vars_references)

ROUTERS = [tenants.router, regions.router, hosts.router, groups.router, variables.router, secrets.router,
           vars_references.router, inventory.router]
