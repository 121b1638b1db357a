"""Which optional test suites ran on this machine and which were skipped, and why.

tests/conftest.py prints both at the end of the run. A fixture that needs a suite's
service calls :func:`skip_suite` when it is missing, :func:`mark_run` when it is there.
"""

from __future__ import annotations

import pytest

NAMES = ("MariaDB", "Redis", "Browser", "OpenStack", "Galera", "Sentinel")
SKIPPED = {}
RAN = set()


def skip_suite(suite, reason):
    """Skip the calling test and report ``suite`` as skipped for ``reason``."""
    SKIPPED[suite] = reason
    pytest.skip("%s suite: %s" % (suite, reason))


def mark_run(suite):
    """Report ``suite`` as run."""
    RAN.add(suite)
