"""Helpers for the craton run tests: a fleet of local-connection hosts, the environment, what a run left.

Hosts run on the local connection with the test's Python as interpreter; an
unreachable host is SSH to a closed port on 127.0.0.1. Per-host behaviour comes
from host variables (``pause_for`` seconds of sleep, ``fail_me``), so one trivial
playbook serves every test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from ansible_collections.craton.fleet.cli import db as db_cli

import callback_runs as cr
import inventory_helpers as ih

PREFIX = cr.PREFIX
PLAYBOOK = """
- name: Driver test play
  hosts: all
  gather_facts: false
  tasks:
    - name: Note the start
      ansible.builtin.shell: "echo {{ inventory_hostname }} >> {{ marker_dir }}/started"
    - name: Take a while
      ansible.builtin.command: "sleep {{ pause_for | default(0) }}"
      when: (pause_for | default(0) | int) > 0
    - name: Fail when asked
      ansible.builtin.fail:
        msg: "{{ inventory_hostname }} broke on purpose"
      when: fail_me | default(false)
    - name: Note the end
      ansible.builtin.shell: "echo {{ inventory_hostname }} {{ greeting | default('') }} >> {{ marker_dir }}/done"
"""


def local_host(**variables):
    return {"vars": dict({"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
                         **variables)}


def dead_host():
    return {"vars": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": cr.closed_port(),
                     "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o ConnectTimeout=5"}}


def make_fleet(directory, hosts, tenant="acme"):
    """A migrated SQLite fleet in ``directory`` with ``hosts`` (name -> spec); returns its URL."""
    url = "sqlite:///%s" % os.path.join(str(directory), "fleet.db")
    db_cli.upgrade(url)
    ih.build(url, {tenant: {"hosts": hosts}})
    return url


def write_playbook(directory, text=PLAYBOOK):
    path = os.path.join(str(directory), "play.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def env(directory, redis_url):
    """Environment of craton run: isolated temp and state dirs, the test Redis and key prefix."""
    e = cr.ansible_env(directory, callback=False)
    e.update({"CRATON_REDIS_URL": redis_url, "CRATON_REDIS_PREFIX": PREFIX,
              "XDG_STATE_HOME": os.path.join(str(directory), "xdg-state"),
              "XDG_CONFIG_HOME": os.path.join(str(directory), "xdg-config")})
    return e


def craton_argv(*args):
    return [sys.executable, "-m", "ansible_collections.craton.fleet.cli", *map(str, args)]


def craton(environ, *args, timeout=600):
    """Run craton to the end; -> CompletedProcess (never raises on a non-zero exit)."""
    return subprocess.run(craton_argv(*args), env=environ, capture_output=True, text=True, timeout=timeout,
                          check=False)


def markers(marker_dir, name):
    """{host: times} from a marker file (``started`` / ``done``)."""
    path = os.path.join(str(marker_dir), name)
    counts = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    host = line.split()[0]
                    counts[host] = counts.get(host, 0) + 1
    return counts


def state_rows(state_db):
    """[(atom name, state, results)] of the run state SQLite file."""
    with sqlite3.connect(state_db) as conn:
        rows = conn.execute("SELECT name, state, results FROM atomdetails ORDER BY name").fetchall()
    return [(n, s, json.loads(r) if r else None) for n, s, r in rows]


def flow_states(state_db):
    with sqlite3.connect(state_db) as conn:
        return [s for (s,) in conn.execute("SELECT state FROM flowdetails")]


def read_run(redis_url, run_id):
    return cr.read_run(redis_url, run_id, prefix=PREFIX)
