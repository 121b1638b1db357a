#!/usr/bin/env bash
# Install the OpenStack services of the OpenStack test suite (Keystone, Barbican) into
# their own virtual environment, build/openstack-venv (or $CRATON_OPENSTACK_VENV).
#
# They are not craton's dependencies: they pin their own versions of oslo.*, SQLAlchemy,
# Flask and friends, so they live apart from .venv. The tests
# (tests/integration/test_openstack_*.py) run them on 127.0.0.1 with SQLite and skip,
# saying why, when this environment is missing. About a minute on a fresh machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${CRATON_OPENSTACK_VENV:-$ROOT/build/openstack-venv}"
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/keystone-manage" ] && [ -f "$VENV/.craton-openstack" ]; then
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check keystone barbican
touch "$VENV/.craton-openstack"
echo "OpenStack test services installed in $VENV" >&2
