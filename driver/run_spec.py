# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run is, as plain JSON data (the arguments of the flow factory, persisted with the run).

::

    {"run_id": "...", "playbook": "/abs/site.yml",
     "inventory": {"path": "/abs/prod.craton.yml"} | {"config": {"plugin": ..., filters}},
     "hosts": ["h1", ...], "batches": [["h1"], ["h2"], ...], "names": ["host:h1", ...],
     "retries": 1, "extra_vars": ["k=v", "@vars.yml"], "max_fail_percentage": null,
     "parallel": 4, "batch_size": 1}

The hosts are chosen once, when the run is made, by the one inventory query
(``inventory_query.load_inventory``) with the filters of the craton.yml given with
``-i`` or of the options; a resumed run uses the same hosts and batches. Every
ansible-playbook of the run gets the same inventory: the user's craton.yml, or one
written from the options into the run's work directory (no database URL in it: the
children get ``CRATON_DATABASE_URL``).
"""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import FILTER_OPTIONS

PLUGIN = "craton.fleet.inventory"
CONFIG_SUFFIXES = ("craton.yml", "craton.yaml")
ENV_WORK_DIR = "CRATON_RUN_DIR"


def base_work_dir():
    """Where runs keep their logs and inventory: $CRATON_RUN_DIR, else $XDG_STATE_HOME/craton/runs."""
    if os.environ.get(ENV_WORK_DIR):
        return os.environ[ENV_WORK_DIR]
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state_home, "craton", "runs")


def read_inventory_file(path):
    """(filters, database_url or None, strict) of a craton.yml; CratonError when it is not one."""
    if not path.endswith(CONFIG_SUFFIXES):
        raise CratonError("inventory %s is not a craton.fleet inventory: its name must end in craton.yml "
                          "or craton.yaml" % path)
    try:
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    except OSError as e:
        raise CratonError("cannot read inventory %s: %s" % (path, e.strerror or e)) from None
    except yaml.YAMLError as e:
        raise CratonError("inventory %s does not parse as YAML: %s" % (path, _one_line(e))) from None
    if not isinstance(config, dict) or config.get("plugin") != PLUGIN:
        raise CratonError("inventory %s is not a craton.fleet inventory: it needs 'plugin: %s'" % (path, PLUGIN))
    filters = {k: config[k] for k in FILTER_OPTIONS if k in config}
    if isinstance(filters.get("groups"), dict):  # constructed groups, not the filter
        filters.pop("groups")
    return filters, config.get("database_url"), bool(config.get("strict", False))


def parse_host_vars(items):
    """``["wave=canary", "wave=early", "port=22"]`` -> ``{"wave": ["canary", "early"], "port": [22]}``.

    Values are YAML scalars (``22`` is a number, ``true`` a boolean; quote for a string)."""
    out = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise CratonError("--host-var %r: use KEY=VALUE" % item)
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (dict, list)):
            raise CratonError("--host-var %r: the value must be a scalar (string, number, boolean)" % item)
        out.setdefault(key, []).append(value)
    return out


def filters_from_options(tenant=None, regions=None, groups=None, hosts=None, host_vars=None,
                         include_inactive=False, reachable=None):
    """The craton.yml filters for the command line's filter options."""
    filters = {"tenant": tenant, "regions": regions or None, "groups": groups or None,
               "hosts": hosts or None, "host_vars": parse_host_vars(host_vars) or None,
               "active_only": not include_inactive, "reachable": reachable}
    return {k: v for k, v in filters.items() if v is not None}


def batches_of(hosts, batch_size):
    """``hosts`` cut into batches of ``batch_size``, and the task name of each."""
    if batch_size < 1:
        raise CratonError("--batch-size must be at least 1, not %d" % batch_size)
    batches = [hosts[i:i + batch_size] for i in range(0, len(hosts), batch_size)]
    if batch_size == 1:
        names = ["host:%s" % b[0] for b in batches]
    else:
        width = len(str(len(batches)))
        names = ["batch:%0*d" % (width, i + 1) for i in range(len(batches))]
    return batches, names


def make_spec(run_id, playbook, inventory, hosts, batch_size=1, retries=0, extra_vars=(),
              max_fail_percentage=None, parallel=1):
    """The spec of a new run (see the module docstring)."""
    batches, names = batches_of(list(hosts), batch_size)
    return {"run_id": run_id, "playbook": playbook, "inventory": inventory, "hosts": list(hosts),
            "batches": batches, "names": names, "retries": retries, "extra_vars": list(extra_vars),
            "max_fail_percentage": max_fail_percentage, "parallel": parallel, "batch_size": batch_size}


def workspace(spec):
    """The run's directories and inventory file, created when missing; -> paths."""
    work_dir = os.path.join(base_work_dir(), _safe(spec["run_id"]))
    log_dir = os.path.join(work_dir, "logs")
    try:
        os.makedirs(log_dir, mode=0o700, exist_ok=True)
    except OSError as e:
        raise CratonError("cannot create the run directory %s: %s" % (work_dir, e.strerror or e)) from None
    inventory = spec["inventory"].get("path")
    if not inventory:
        inventory = os.path.join(work_dir, "inventory.craton.yml")
        if not os.path.exists(inventory):
            tmp = inventory + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                yaml.safe_dump(spec["inventory"]["config"], f, default_flow_style=False)
            os.replace(tmp, inventory)
    return {"work_dir": work_dir, "log_dir": log_dir, "inventory": inventory}


def _safe(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _one_line(error):
    text = str(error).strip()
    return " ".join(text.split()) if text else type(error).__name__
