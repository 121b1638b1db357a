# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton serve``: the REST API /v1 (and, later, the live progress page) on FastAPI + uvicorn."""

from __future__ import annotations
