# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two ways to install craton.fleet both give a working collection.

* Galaxy: ``ansible-galaxy collection build`` then ``collection install`` of the
  tarball into a temporary collections path.
* pip: ``pip install .`` into a fresh virtual environment gives the Python
  dependencies, the ``craton`` command, and the collection in
  ``site-packages/ansible_collections`` where Ansible finds it unconfigured.

"Working" means Ansible lists the collection and every plugin of the repository
(plugins/inventory, plugins/callback, plugins/modules, ...: the expectation grows
with the collection), ``ansible-doc`` renders each plugin's documentation, and the
``craton`` command migrates a database with the migrations that were installed.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

from ansible_collections.craton.fleet.plugins.module_utils.models import SCHEMA_REVISION

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
NAMESPACE, NAME = "craton", "fleet"

# plugin folder -> ansible-doc plugin type (folders whose file names are the plugin names)
PLUGIN_TYPES = {
    "modules": "module",
    "inventory": "inventory",
    "callback": "callback",
    "lookup": "lookup",
    "connection": "connection",
    "become": "become",
    "cache": "cache",
    "vars": "vars",
}
# Never in a release artifact.
JUNK = (".venv", "build", ".git", ".pytest_cache", "tests/output", "__pycache__", ".ci")

pytestmark = pytest.mark.slow


def _version():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["version"]


def repository_plugins():
    """{ansible-doc type: {FQCN, ...}} of the plugin files in the repository."""
    plugins = {}
    for folder, plugin_type in PLUGIN_TYPES.items():
        for path in glob.glob(os.path.join(ROOT, "plugins", folder, "*.py")):
            name = os.path.splitext(os.path.basename(path))[0]
            if name != "__init__":
                plugins.setdefault(plugin_type, set()).add("%s.%s.%s" % (NAMESPACE, NAME, name))
    return plugins


def run(args, env, cwd=None, timeout=600):
    """Run a command; fail the test with its output when it fails."""
    proc = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(map(str, args)), proc.returncode,
                                                          proc.stdout, proc.stderr))
    return proc


def clean_env(tmp_path, path_first=None):
    """The environment without anything that points Ansible or Python at the working tree."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "PYTHON", "CRATON_", "VIRTUAL_ENV"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update({
        "HOME": str(home),  # no ~/.ansible/collections of the user's
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if path_first:
        env["PATH"] = str(path_first) + os.pathsep + env.get("PATH", "")
    return env


def listed_collections(output):
    """``ansible-galaxy collection list`` output -> {collections path: {name: version}}."""
    listing, section = {}, None
    for line in output.splitlines():
        if line.startswith("# "):
            section = listing.setdefault(line[2:].strip(), {})
        elif section is not None and line.strip() and not line.startswith(("Collection", "---")):
            name, version = line.split()[:2]
            section[name] = version
    return listing


def documented_plugins(ansible_doc, env, plugin_types):
    """{type: {FQCN, ...}} that ``ansible-doc -l`` lists for craton.fleet, per plugin type."""
    found = {}
    for plugin_type in plugin_types:
        out = run([ansible_doc, "-t", plugin_type, "-l", "--json", "%s.%s" % (NAMESPACE, NAME)], env).stdout
        names = set(json.loads(out or "{}"))
        if names:
            found[plugin_type] = names
    return found


def assert_every_plugin_is_documented(ansible_doc, env):
    expected = repository_plugins()
    assert documented_plugins(ansible_doc, env, set(expected) | {"module"}) == expected
    for plugin_type, names in expected.items():  # and each one's documentation renders
        docs = json.loads(run([ansible_doc, "-t", plugin_type, "--json", *sorted(names)], env).stdout)
        for fqcn in names:
            assert docs[fqcn]["doc"]["short_description"], fqcn
            assert docs[fqcn]["doc"]["description"], fqcn


# --- Galaxy ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def galaxy_install(tmp_path_factory):
    """(tarball, collections path, env) after build + install into a temporary path."""
    tmp_path = tmp_path_factory.mktemp("galaxy")
    collections = tmp_path / "collections"
    env = clean_env(tmp_path)
    # Only the temporary path: not the working tree that the dev venv puts on sys.path.
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    galaxy = os.path.join(BIN, "ansible-galaxy")
    run([galaxy, "collection", "build", ROOT, "--output-path", tmp_path / "dist"], env)
    tarball = tmp_path / "dist" / ("%s-%s-%s.tar.gz" % (NAMESPACE, NAME, _version()))
    assert tarball.exists(), os.listdir(tmp_path / "dist")
    run([galaxy, "collection", "install", tarball, "-p", collections], env)
    return tarball, collections, env


def test_galaxy_tarball_holds_the_collection_and_no_junk(galaxy_install):
    tarball, _collections, _env = galaxy_install
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    for required in ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "requirements.txt", "README.md",
                     "plugins/module_utils/models.py", "schema/env.py", "schema/versions/0001_initial.py",
                     "cli/main.py"):
        assert required in names, required
    junk = sorted(n for n in names
                  if any(n == j or n.startswith(j + "/") or "/%s/" % j in "/" + n for j in JUNK)
                  or n.endswith((".pyc", ".tar.gz")))
    assert junk == []
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == NAMESPACE
    assert manifest["collection_info"]["name"] == NAME
    assert manifest["collection_info"]["version"] == _version()


def test_galaxy_installed_collection_is_listed_from_the_temporary_path(galaxy_install):
    _tarball, collections, env = galaxy_install
    out = run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "-p", collections], env).stdout
    listing = listed_collections(out)
    assert listing.get(str(collections / "ansible_collections")) == {"craton.fleet": _version()}
    assert (collections / "ansible_collections" / NAMESPACE / NAME / "MANIFEST.json").exists()


def test_galaxy_installed_collection_documents_every_plugin(galaxy_install):
    _tarball, _collections, env = galaxy_install
    assert_every_plugin_is_documented(os.path.join(BIN, "ansible-doc"), env)


# --- pip ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory):
    """(venv bin folder, env) of a fresh virtual environment after ``pip install <repo>``."""
    tmp_path = tmp_path_factory.mktemp("pip")
    venv = tmp_path / "venv"
    # pip's cache (under the real HOME) keeps this fast after the first run.
    cache = run([sys.executable, "-m", "pip", "cache", "dir"], dict(os.environ), timeout=60).stdout.strip()
    run([sys.executable, "-m", "venv", venv], clean_env(tmp_path))
    env = clean_env(tmp_path, path_first=venv / "bin")
    pip_env = dict(env, PIP_CACHE_DIR=cache, PIP_DISABLE_PIP_VERSION_CHECK="1")
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", ROOT], pip_env, cwd=tmp_path, timeout=1200)
    return venv / "bin", env


def test_pip_install_puts_the_collection_in_site_packages(pip_venv):
    bin_dir, env = pip_venv
    purelib = run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  env).stdout.strip()
    collection = os.path.join(purelib, "ansible_collections", NAMESPACE, NAME)
    for path in ("galaxy.yml", "meta/runtime.yml", "plugins/module_utils/models.py",
                 "schema/versions/0001_initial.py", "cli/main.py", "driver/run_spec.py",
                 "server/app.py", "server/static", "client/__init__.py", "playbooks/rollout.yml"):
        assert os.path.exists(os.path.join(collection, path)), path
    assert not os.path.exists(os.path.join(collection, "tests"))
    assert not os.path.exists(os.path.join(purelib, "craton-fleet-dev.pth"))  # not the dev set-up


def test_pip_installed_collection_is_found_by_ansible_without_configuration(pip_venv):
    bin_dir, env = pip_venv
    assert "ANSIBLE_COLLECTIONS_PATH" not in env
    out = run([bin_dir / "ansible-galaxy", "collection", "list"], env).stdout
    found = {path: cols["craton.fleet"] for path, cols in listed_collections(out).items() if "craton.fleet" in cols}
    assert len(found) == 1, out
    (path, version), = found.items()
    assert path.startswith(str(bin_dir.parent)) and path.endswith("site-packages/ansible_collections"), path
    assert version == _version()
    assert_every_plugin_is_documented(bin_dir / "ansible-doc", env)


def test_pip_installed_craton_command_migrates_a_sqlite_database(pip_venv, tmp_path):
    bin_dir, env = pip_venv
    craton = bin_dir / "craton"
    help_text = run([craton, "--help"], env).stdout
    assert "usage: craton" in help_text
    for command in ("db", "demo", "export", "run", "serve", "token", "secrets"):
        assert command in help_text, command
        assert "usage: craton %s" % command in run([craton, command, "--help"], env).stdout, command
    url = "sqlite:///%s" % (tmp_path / "fleet.db")
    out = run([craton, "--database-url", url, "db", "upgrade"], env).stdout
    assert out.strip().endswith("is at revision %s" % SCHEMA_REVISION)
    assert "(up to date)" in run([craton, "--database-url", url, "db", "current"], env).stdout
