"""Helpers for the inventory tests: build a fleet from a spec, run real Ansible over it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from ansible_collections.craton.fleet.plugins.module_utils import db, fleet
from ansible_collections.craton.fleet.plugins.module_utils.models import VarsReference

BIN = os.path.dirname(sys.executable)


def build(url, spec):
    """Create the fleet described by ``spec`` in one transaction.

    spec = {tenant: {"vars": {}, "untrusted_vars": {}, "regions": {name: {"vars": {}}},
                     "groups": {name: {"vars": {}, "untrusted_vars": {}, "children": [names],
                                       "references": [(url, sha256 or None)]}},
                     "hosts": {name: {"region": r, "groups": [g], "vars": {}, "untrusted_vars": {},
                                      "columns": {"ip_address": ...}, "secrets": {name: (kind, data)},
                                      "active": bool, "last_status": str}}}}
    """
    def work(session):
        for tname, tspec in spec.items():
            tenant = fleet.create_tenant(session, tname)
            _set_vars(session, "tenant", tenant.id, tspec)
            regions = {}
            for rname, rspec in tspec.get("regions", {}).items():
                regions[rname] = fleet.create_region(session, tenant, rname)
                _set_vars(session, "region", regions[rname].id, rspec)
            groups = {}
            for gname, gspec in tspec.get("groups", {}).items():
                groups[gname] = fleet.create_group(session, tenant, gname)
                _set_vars(session, "group", groups[gname].id, gspec)
                for position, (ref_url, sha) in enumerate(gspec.get("references", ())):
                    session.add(VarsReference(group_id=groups[gname].id, url=ref_url, sha256=sha,
                                              position=position))
            for gname, gspec in tspec.get("groups", {}).items():
                for child in gspec.get("children", ()):
                    fleet.add_child(session, groups[gname], groups[child])
            for hname, hspec in tspec.get("hosts", {}).items():
                columns = dict(hspec.get("columns", {}))
                for key in ("active", "last_status"):
                    if key in hspec:
                        columns[key] = hspec[key]
                host = fleet.create_host(session, tenant, hname, region=regions.get(hspec.get("region")),
                                         **columns)
                _set_vars(session, "host", host.id, hspec)
                for gname in hspec.get("groups", ()):
                    fleet.add_member(session, groups[gname], host)
                for sname, (kind, data) in hspec.get("secrets", {}).items():
                    fleet.put_secret(session, host, sname, kind, data)
        session.flush()
    db.run_in_transaction(db.connect(url), work)


def _set_vars(session, kind, owner_id, spec):
    if spec.get("vars"):
        fleet.set_variables(session, kind, owner_id, spec["vars"])
    if spec.get("untrusted_vars"):
        fleet.set_variables(session, kind, owner_id, spec["untrusted_vars"], trusted=False)


def write_config(directory, name="test.craton.yml", **options):
    """Write a craton.yml for the plugin; returns its path."""
    config = {"plugin": "craton.fleet.inventory"}
    config.update(options)
    path = os.path.join(str(directory), name)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f)
    return path


def run(tool, *args, env, check=True, cwd=None):
    """Run an Ansible command line tool from the venv; -> CompletedProcess."""
    proc = subprocess.run([os.path.join(BIN, tool), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=cwd, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s %s failed (%d):\n%s\n%s"
                             % (tool, " ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr))
    return proc


def inventory_list(config, env, check=True):
    """``ansible-inventory -i config --list`` parsed, plus the process."""
    proc = run("ansible-inventory", "-i", config, "--list", env=env, check=check)
    return (json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None), proc


def playbook(directory, config, text, env, check=True, extra=()):
    """Run a playbook given as YAML text; -> CompletedProcess."""
    path = os.path.join(str(directory), "play.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return run("ansible-playbook", "-i", config, path, *extra, env=env, check=check)


def group_hosts(listing, group):
    """All hosts of ``group`` in an ``ansible-inventory --list`` result (children included)."""
    entry = listing.get(group, {})
    hosts = list(entry.get("hosts", []))
    for child in entry.get("children", []):
        hosts.extend(h for h in group_hosts(listing, child) if h not in hosts)
    return hosts


def all_hosts(listing):
    """Every host in an ``ansible-inventory --list`` result (hosts without variables have no
    ``_meta.hostvars`` entry, so group members count too)."""
    hosts = set(listing.get("_meta", {}).get("hostvars", {}))
    for name, group in listing.items():
        if name != "_meta":
            hosts.update(group.get("hosts", ()))
    return sorted(hosts)


def plain(value):
    """``value`` with ansible-inventory's untrusted-string markers (``{"__ansible_unsafe": s}``)
    replaced by the strings."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
