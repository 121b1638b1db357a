#!/usr/bin/env bash
# Set up the OpenStack test suite (tests/integration/test_openstack_*.py):
#
# 1. Keystone and Barbican in their own virtual environment, build/openstack-venv (or
#    $CRATON_OPENSTACK_VENV). They are not craton's dependencies: they pin their own
#    oslo.*, SQLAlchemy, Flask and friends, so they live apart from .venv. The tests
#    run them on 127.0.0.1 with SQLite databases.
# 2. craton's optional Barbican extra (castellan, python-barbicanclient) in craton's
#    environment, .venv (or $CRATON_VENV); keystoneauth1 is in requirements.txt already.
#
# Without this the suite is skipped and reported as "SKIPPED OpenStack suite: ...".
# About a minute on a fresh machine with a PyPI mirror; nothing when already done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${CRATON_OPENSTACK_VENV:-$ROOT/build/openstack-venv}"
CRATON_VENV="${CRATON_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
PIP_OPTS=(-q --disable-pip-version-check)

if [ ! -f "$VENV/.craton-openstack" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install "${PIP_OPTS[@]}" keystone barbican 2> >(grep -v "is ignored: it is neither" >&2)
    touch "$VENV/.craton-openstack"
    echo "setup: Keystone and Barbican installed in $VENV" >&2
fi
if ! "$CRATON_VENV/bin/python" -c "import castellan, barbicanclient" 2>/dev/null; then
    "$CRATON_VENV/bin/python" -m pip install "${PIP_OPTS[@]}" -r "$ROOT/tests/openstack/requirements-barbican.txt"
    echo "setup: castellan and python-barbicanclient installed in $CRATON_VENV" >&2
fi
