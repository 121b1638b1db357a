# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton demo``: a small fleet in SQLite, shown through Ansible.

Everything lives in one directory (default ``$XDG_DATA_HOME/craton/demo``): the
SQLite database, the secret key, and ``demo.craton.yml``. The hosts use the local
connection, so the shipped playbook really runs against them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from ansible_collections.craton.fleet.cli import db as db_cli
from ansible_collections.craton.fleet.plugins.module_utils import db, fleet, secret_store
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK = os.path.join(COLLECTION_ROOT, "playbooks", "show_fleet.yml")

TENANT_VARS = {
    "ansible_python_interpreter": None,  # filled with the running Python
    "ntp_servers": ["0.pool.ntp.org", "1.pool.ntp.org"],
    "motd": "Welcome to {{ inventory_hostname }}, a {{ role | default('generic') }} host in {{ region }}",
    "role": "generic",
}
REGIONS = {
    "east": {"region": "us-east", "dns_servers": ["10.1.0.2", "10.1.0.3"]},
    "west": {"region": "us-west", "dns_servers": ["10.2.0.2"]},
}
GROUPS = {
    "app": ({"monitoring": True}, []),
    "webservers": ({"role": "web", "http_port": 8080}, ["web01", "web02", "web03", "web04"]),
    "dbservers": ({"role": "database", "db_engine": "mariadb"}, ["db01", "db02"]),
    "db_primary": ({"db_primary": True}, ["db01"]),
}
CHILDREN = [("app", "webservers"), ("app", "dbservers"), ("dbservers", "db_primary")]
HOSTS = {
    "web01": ("east", "10.1.0.11", {}),
    "web02": ("east", "10.1.0.12", {}),
    "web03": ("west", "10.2.0.13", {"http_port": 8443}),
    "web04": ("west", "10.2.0.14", {}),
    "db01": ("east", "10.1.0.21", {"db_engine": "mariadb-10.11"}),
    "db02": ("west", "10.2.0.22", {}),
}


def _build(session):
    tenant = fleet.create_tenant(session, "acme", "the demo tenant")
    fleet.set_variables(session, "tenant", tenant.id, dict(TENANT_VARS, ansible_python_interpreter=sys.executable))
    regions = {}
    for name, variables in REGIONS.items():
        regions[name] = fleet.create_region(session, tenant, name)
        fleet.set_variables(session, "region", regions[name].id, variables)
    hosts = {}
    for name, (region, ip, variables) in HOSTS.items():
        # ip_address is kept as data; the local connection ignores it.
        hosts[name] = fleet.create_host(session, tenant, name, region=regions[region],
                                        ip_address=ip, connection="local")
        fleet.set_variables(session, "host", hosts[name].id, variables)
    groups = {}
    for name, (variables, members) in GROUPS.items():
        groups[name] = fleet.create_group(session, tenant, name)
        fleet.set_variables(session, "group", groups[name].id, variables)
        for member in members:
            fleet.add_member(session, groups[name], hosts[member])
    for parent, child in CHILDREN:
        fleet.add_child(session, groups[parent], groups[child])
    fleet.put_secret(session, hosts["db01"], "deploy_key", "ssh_private_key", _demo_ssh_key())


def _demo_ssh_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())


def _tool(name):
    """An Ansible or craton executable: next to this Python first, then on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return beside if os.path.exists(beside) else (shutil.which(name) or name)


def _step(title, argv, env):
    print("\n$ %s    # %s" % (" ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv)), title),
          flush=True)
    proc = subprocess.run(argv, env=env, check=False)
    if proc.returncode != 0:
        raise CratonError("demo step failed (exit %d): %s" % (proc.returncode, " ".join(argv)))


def run_demo(directory):
    """Build the demo fleet in ``directory`` and show it through Ansible."""
    os.makedirs(directory, exist_ok=True)
    db_path = os.path.join(directory, "fleet.db")
    if os.path.exists(db_path):
        os.remove(db_path)
    url = "sqlite:///" + db_path
    key_file = os.path.join(directory, "secret.key")
    os.environ[secret_store.ENV_KEY_FILE] = key_file
    os.environ.pop(secret_store.ENV_KEY, None)
    if not os.path.exists(key_file):
        secret_store.generate_key_file(key_file)

    print("craton.fleet demo: building a sample fleet in %s" % db_path, flush=True)
    db_cli.upgrade(url)
    db.run_in_transaction(db.connect(url), _build)
    config = os.path.join(directory, "demo.craton.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write("# craton.fleet inventory: `ansible-inventory -i %s --graph`\n"
                "plugin: craton.fleet.inventory\ndatabase_url: %s\ntenant: acme\n" % (config, url))
    print("tenant acme: %d regions, %d groups, %d hosts, 1 secret (encrypted with %s)"
          % (len(REGIONS), len(GROUPS), len(HOSTS), key_file))

    env = dict(os.environ, CRATON_DATABASE_URL=url, ANSIBLE_NOCOLOR=os.environ.get("ANSIBLE_NOCOLOR", "0"))
    _step("the fleet as Ansible sees it", [_tool("ansible-inventory"), "-i", config, "--graph"], env)
    _step("where each variable of web03 comes from", [_tool("craton"), "explain", "web03", "--tenant", "acme"], env)
    _step("a real play over the fleet", [_tool("ansible-playbook"), "-i", config, PLAYBOOK], env)
    print("\nDone. Try it yourself:\n  export CRATON_DATABASE_URL=%s CRATON_SECRET_KEY_FILE=%s\n"
          "  ansible-inventory -i %s --list\n  craton explain db01 --tenant acme" % (url, key_file, config))


def _cmd_demo(args):
    if args.database_url:
        raise CratonError("the demo builds its own SQLite database in --dir; --database-url is not used")
    run_demo(os.path.abspath(args.dir))


def register(subparsers, common):
    """Add ``craton demo``."""
    default = os.path.join(os.path.dirname(db.default_database_url()[len("sqlite:///"):]), "demo")
    parser = subparsers.add_parser(
        "demo", parents=[common], help="build a sample fleet and show it through Ansible",
        description="Build a sample fleet (SQLite, local connection) and show it through Ansible.")
    parser.add_argument("--dir", default=default, help="where the demo keeps its files (default: %s)" % default)
    parser.set_defaults(func=_cmd_demo)
