"""Helpers for the module tests: real ansible-playbook runs of craton.fleet modules, and the database after.

Unless a test says otherwise, plays target ``far``, a host behind SSH at a
TEST-NET address (192.0.2.1, never routed) with a nonexistent Python: a task
there succeeds only because the action plugins run the modules on the
controller with the controller's Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
BIN = os.path.dirname(sys.executable)

REMOTE_INVENTORY = """[remote]
far ansible_host=192.0.2.1 ansible_connection=ssh ansible_user=nobody ansible_python_interpreter=/nonexistent/python
"""
RESULT_MARK = "CRATON_RESULT="


def ansible_env(tmp_path, url, **extra):
    """Environment for ansible-playbook: the database URL, the dev collection, isolated temp dirs."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("ANSIBLE_") or (name.startswith("CRATON_") and name != "CRATON_SECRET_KEY"):
            del env[name]
    env.update({
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "CRATON_DATABASE_URL": url,
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def playbook(tmp_path, url, play, *args, inventory=REMOTE_INVENTORY, env=None, check=True, timeout=600,
             name="play.yml"):
    """Run the playbook text ``play`` with ansible-playbook; the CompletedProcess.

    With ``check`` (default) a failed run raises AssertionError with the output."""
    path = tmp_path / name
    path.write_text(play)
    inventory_path = tmp_path / "inventory.ini"
    inventory_path.write_text(inventory)
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory_path), str(path), *args],
                          env=env or ansible_env(tmp_path, url), capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=str(tmp_path))
    if check and proc.returncode != 0:
        raise AssertionError("ansible-playbook failed (%d):\n%s\n%s"
                             % (proc.returncode, proc.stdout[-12000:], proc.stderr[-4000:]))
    return proc


def results(proc):
    """Values a play printed with ``debug: msg="CRATON_RESULT={{ x | to_json }}"``, in order."""
    return [json.loads(line.split(RESULT_MARK, 1)[1].rstrip('",'))
            for line in proc.stdout.splitlines() if RESULT_MARK in line]


def recap(proc, host="far"):
    """The PLAY RECAP counters of ``host`` as a dict."""
    for line in proc.stdout.split("PLAY RECAP")[-1].splitlines():
        m = re.match(r"^%s\s+:\s+(ok=.*)$" % re.escape(host), line.strip())
        if m:
            return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1)))
    raise AssertionError("no recap for %s in:\n%s" % (host, proc.stdout[-3000:]))


def rows(url, statement):
    """All rows of a SQL statement (text or select) on the fleet database."""
    with db.transaction(url) as session:
        if isinstance(statement, str):
            statement = sa.text(statement)
        return [tuple(row) for row in session.execute(statement).all()]


def snapshot(url):
    """Every table's rows without timestamps: to compare the database before and after."""
    from ansible_collections.craton.fleet.plugins.module_utils.models import Base
    out = {}
    with db.transaction(url) as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in ("created_at", "updated_at")]
            out[table.name] = sorted((tuple(repr(v) for v in row)
                                      for row in session.execute(sa.select(*columns)).all()))
    return out
