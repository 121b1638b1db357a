# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Field types shared by the request bodies, matching module_utils/names.py.

The patterns let pydantic refuse most bad values with 422 before any database
work; module_utils checks again (Python keywords as variable names, for one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
VarKey = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Description = Annotated[str | None, Field(max_length=65535)]
VariablesBody = dict[VarKey, Any] | None

# Object ids: JSON-safe integers (SQLite integers overflow at 2**63; JavaScript's at 2**53).
MAX_ID = 2 ** 53
Id = Annotated[int, Field(ge=0, le=MAX_ID)]
PathId = Annotated[int, Path(ge=0, le=MAX_ID)]
