# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet's stand-in for ansible-test's pip bootstrap script (get-pip.py).

``ansible-test sanity --venv`` creates each virtual environment without pip and
bootstraps pip with a script that it downloads from a host our machines cannot
reach, unless ``~/.ansible/test/cache/get_pip_<version>.py`` exists.
``tests/sanity/run.sh`` copies this file there. ansible-test runs it as
``__main__`` with get-pip's arguments, e.g.::

    --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel

It does what get-pip.py does, from what the Python installation already has:
it runs the pip wheel that ``ensurepip`` bundles (or ``python -m ensurepip``
when the wheel cannot be found) to install the requested packages from the
package index (PyPI). ``--no-setuptools`` and ``--no-wheel`` are get-pip's own
flags: setuptools and wheel are simply not installed.
"""

from __future__ import annotations

import glob
import os
import runpy
import subprocess
import sys

MARKER = "craton.fleet pip bootstrap"  # run.sh only replaces files that carry this marker
GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")


def bundled_pip_wheel():
    """The pip wheel that ensurepip would install, or None."""
    try:
        import ensurepip
    except ImportError:
        return None
    candidates = []
    for attribute in ("_WHEEL_PKG_DIR",):  # Debian and others: wheels outside the stdlib
        directory = getattr(ensurepip, attribute, None)
        if directory:
            candidates.extend(glob.glob(os.path.join(directory, "pip-*.whl")))
    bundled = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")
    candidates.extend(glob.glob(os.path.join(bundled, "pip-*.whl")))
    return candidates[0] if candidates else None


def main():
    """Install the requested packages (normally ``pip==X``) into this Python."""
    arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    wheel = bundled_pip_wheel()
    if wheel:
        # A wheel of pure Python is importable as it is: run that pip to install pip.
        sys.path.insert(0, wheel)
        sys.argv = ["pip", "install"] + arguments
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
        return
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + arguments)


if __name__ == "__main__":
    main()
