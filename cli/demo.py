from __future__ import annotations
def register(subparsers, common):
    pass
