#!/usr/bin/env bash
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ansible-test sanity and ansible-lint on the collection (run by `./dev sanity`).
#
#   tests/sanity/run.sh [ansible-test sanity options, e.g. --test pylint]
#
# ansible-test wants the collection at .../ansible_collections/craton/fleet, so the
# files of the working tree that git would commit (tracked, plus untracked files
# that .gitignore does not exclude) are copied to a temporary folder of that shape.
# Every sanity test runs in its own virtual environment (--venv); ansible-test
# bootstraps pip in those with a script it downloads from a host that our machines
# cannot reach unless a cached copy exists, so tests/sanity/get_pip.py is put in
# that cache first (it installs pip from the package index with ensurepip's pip).
# No sanity ignore file: problems are fixed in the code.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The Python that runs ansible-test (the venv's) is the one the sanity tests use.
PYTHON_VERSION="${CRATON_SANITY_PYTHON:-$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')}"
CACHE="$HOME/.ansible/test/cache"

command -v ansible-test >/dev/null || { echo "sanity: ansible-test not on PATH (use ./dev sanity)" >&2; exit 1; }
command -v ansible-lint >/dev/null || { echo "sanity: ansible-lint not on PATH (use ./dev sanity)" >&2; exit 1; }

# The pip version ansible-test bootstraps (ansible_test/_internal/python_requirements.py).
pip_version="$(python - "$PYTHON_VERSION" <<'PY'
import sys
from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version=sys.argv[1]))["pip"])
PY
)"
mkdir -p "$CACHE"
bootstrap="$CACHE/get_pip_${pip_version//./_}.py"
if [ ! -e "$bootstrap" ] || grep -q "craton.fleet pip bootstrap" "$bootstrap"; then
    cp "$ROOT/tests/sanity/get_pip.py" "$bootstrap"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/craton-sanity.XXXXXX")"
trap 'rm -rf "$work"' EXIT
collection="$work/ansible_collections/craton/fleet"
mkdir -p "$collection"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
              if [ -e "$ROOT/$f" ] || [ -L "$ROOT/$f" ]; then printf '%s\0' "$f"; fi
          done \
        | tar -C "$ROOT" --null -T - -cf - | tar -C "$collection" -xf -
else
    rsync -a --exclude .venv --exclude build --exclude tests/output --exclude .pytest_cache \
        --exclude __pycache__ --exclude .git "$ROOT/" "$collection/"
fi
cd "$collection"

status=0
echo "sanity: ansible-test sanity --venv --python $PYTHON_VERSION $*"
ansible-test sanity --venv --python "$PYTHON_VERSION" --color no "$@" || status=1

echo "sanity: ansible-lint (profile from .ansible-lint)"
ansible-lint --offline --nocolor || status=1

if [ "$status" -ne 0 ]; then
    echo "sanity: FAILED (see above)" >&2
else
    echo "sanity: ansible-test sanity and ansible-lint passed"
fi
exit "$status"
