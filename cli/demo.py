# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton demo``: a fleet of 30 hosts in SQLite, shown through Ansible, and a live run.

Everything lives in one directory (default ``$XDG_DATA_HOME/craton/demo``): the
SQLite database, the secret key, ``demo.craton.yml`` and the embedded Redis's
directory. The hosts use the local connection, so the shipped playbooks really
run against them; three fail their health check and one is unreachable, on purpose.
The demo starts ``craton serve`` and runs ``craton run`` on the shipped rollout
playbook, printing the URL of the run's progress page; Ctrl-C stops it all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

from ansible_collections.craton.fleet.cli import db as db_cli
from ansible_collections.craton.fleet.cli.embedded_redis import EmbeddedRedis, free_port
from ansible_collections.craton.fleet.plugins.module_utils import db, fleet, secret_store
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK = os.path.join(COLLECTION_ROOT, "playbooks", "show_fleet.yml")
ROLLOUT = os.path.join(COLLECTION_ROOT, "playbooks", "rollout.yml")

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
# name: (region, ip address, variables); about thirty hosts in two regions, all on
# the local connection, except lb06, which is unreachable on purpose (ssh to a
# closed port), and three hosts whose health check fails on purpose.
HOSTS = {
    "web01": ("east", "10.1.0.11", {}),
    "web02": ("east", "10.1.0.12", {}),
    "web03": ("west", "10.2.0.13", {"http_port": 8443}),
    "web04": ("west", "10.2.0.14", {}),
    "web05": ("east", "10.1.0.15", {"demo_fail": True, "demo_fail_reason": "port 8080 refused"}),
    "web06": ("east", "10.1.0.16", {}),
    "web07": ("west", "10.2.0.17", {}),
    "web08": ("west", "10.2.0.18", {}),
    "web09": ("east", "10.1.0.19", {}),
    "web10": ("west", "10.2.0.20", {}),
    "db01": ("east", "10.1.0.21", {"db_engine": "mariadb-10.11"}),
    "db02": ("west", "10.2.0.22", {}),
    "db03": ("east", "10.1.0.23", {}),
    "db04": ("west", "10.2.0.24", {"demo_fail": True, "demo_fail_reason": "replication lag 412 s"}),
    "cache01": ("east", "10.1.0.31", {}),
    "cache02": ("east", "10.1.0.32", {}),
    "cache03": ("west", "10.2.0.33", {"demo_fail": True, "demo_fail_reason": "out of memory"}),
    "cache04": ("west", "10.2.0.34", {}),
    "cache05": ("east", "10.1.0.35", {}),
    "cache06": ("west", "10.2.0.36", {}),
    "lb01": ("east", "10.1.0.41", {}),
    "lb02": ("west", "10.2.0.42", {}),
    "lb03": ("east", "10.1.0.43", {}),
    "lb04": ("west", "10.2.0.44", {}),
    "lb05": ("east", "10.1.0.45", {}),
    "lb06": ("west", "127.0.0.1", {}),
    "mon01": ("east", "10.1.0.51", {}),
    "mon02": ("west", "10.2.0.52", {}),
    "bastion01": ("east", "10.1.0.61", {}),
    "bastion02": ("west", "10.2.0.62", {}),
}
UNREACHABLE = {"lb06": {"connection": "ssh", "port": 1}}  # nothing listens on port 1
GROUPS = {
    "app": ({"monitoring": True}, []),
    "webservers": ({"role": "web", "http_port": 8080}, [h for h in HOSTS if h.startswith("web")]),
    "dbservers": ({"role": "database", "db_engine": "mariadb"}, [h for h in HOSTS if h.startswith("db")]),
    "db_primary": ({"db_primary": True}, ["db01"]),
    "caches": ({"role": "cache", "cache_size_mb": 512}, [h for h in HOSTS if h.startswith("cache")]),
    "loadbalancers": ({"role": "loadbalancer"}, [h for h in HOSTS if h.startswith("lb")]),
    "ops": ({"role": "ops"}, ["mon01", "mon02", "bastion01", "bastion02"]),
}
CHILDREN = [("app", "webservers"), ("app", "dbservers"), ("app", "caches"), ("dbservers", "db_primary")]


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
        columns = UNREACHABLE.get(name, {"connection": "local"})
        hosts[name] = fleet.create_host(session, tenant, name, region=regions[region],
                                        ip_address=ip, **columns)
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


def _step(title, argv, env, check=True):
    print("\n$ %s    # %s" % (" ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv)), title),
          flush=True)
    proc = subprocess.run(argv, env=env, check=False)
    if check and proc.returncode != 0:
        raise CratonError("demo step failed (exit %d): %s" % (proc.returncode, " ".join(argv)))
    return proc.returncode


def _token(env):
    """A reader token for the progress page (runs are not tenant-scoped: a global token)."""
    proc = subprocess.run([_tool("craton"), "token", "create", "--global", "--role", "reader",
                           "--name", "demo progress page"], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CratonError("demo step failed: craton token create: %s" % proc.stderr.strip())
    return proc.stdout.strip().splitlines()[-1]


def _wait_for_http(url, server, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CratonError("craton serve exited (code %d) before answering" % server.returncode)
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise CratonError("craton serve did not answer on %s within %d s" % (url, timeout))


def _stop(proc):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _live_run(directory, env, port, wait):
    """Start Redis (embedded unless CRATON_REDIS_URL is set) and the server, run the rollout."""
    redis = None
    server = None
    try:
        if not env.get("CRATON_REDIS_URL"):
            redis = EmbeddedRedis(os.path.join(directory, "redis")).start()
            env["CRATON_REDIS_URL"] = redis.url
        port = port or free_port()
        base = "http://127.0.0.1:%d" % port
        print("\n$ craton serve --port %d &    # the REST API and the progress page (Redis %s)"
              % (port, env["CRATON_REDIS_URL"]), flush=True)
        server = subprocess.Popen([_tool("craton"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_http(base + "/progress/", server)
        run_id = "demo-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        page = "%s/progress/runs/%s?token=%s" % (base, run_id, _token(env))
        print("\nWatch the run live:  %s\n" % page, flush=True)
        code = _step("roll out a release, host by host, 4 at a time",
                     [_tool("craton"), "run", ROLLOUT, "--tenant", "acme", "--parallel", "4",
                      "--run-id", run_id], env, check=False)
        print("\ncraton run exited with %d (some hosts fail and one is unreachable on purpose)." % code)
        if wait:
            print("The finished run stays on the page:  %s" % page, flush=True)
            print("Press Ctrl-C to stop the server%s." % (" and Redis" if redis else ""), flush=True)
            while server.poll() is None:
                time.sleep(0.5)
            raise CratonError("craton serve stopped unexpectedly (exit %d)" % server.returncode)
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    finally:
        _stop(server)
        if redis is not None:
            redis.stop()


def run_demo(directory, port=None, wait=True):
    """Build the demo fleet in ``directory``, show it through Ansible, run a rollout live."""
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
    _step("the fleet as Ansible sees it", [_tool("ansible-inventory"), "-i", config, "--graph", "app"], env)
    _step("where each variable of web03 comes from", [_tool("craton"), "explain", "web03", "--tenant", "acme"], env)
    _step("a real play over the web and database servers",
          [_tool("ansible-playbook"), "-i", config, PLAYBOOK, "--limit", "webservers:dbservers"], env)
    _live_run(directory, env, port, wait)
    print("\nDone. Try it yourself:\n  export CRATON_DATABASE_URL=%s CRATON_SECRET_KEY_FILE=%s\n"
          "  ansible-inventory -i %s --list\n  craton explain db01 --tenant acme\n"
          "  craton run %s --tenant acme --host 'web*' --parallel 2" % (url, key_file, config, ROLLOUT))


def _cmd_demo(args):
    if args.database_url:
        raise CratonError("the demo builds its own SQLite database in --dir; --database-url is not used")
    run_demo(os.path.abspath(args.dir), port=args.port, wait=not args.no_wait)


def register(subparsers, common):
    """Add ``craton demo``."""
    default = os.path.join(os.path.dirname(db.default_database_url()[len("sqlite:///"):]), "demo")
    parser = subparsers.add_parser(
        "demo", parents=[common], help="build a sample fleet and watch a run of it live",
        description="Build a sample fleet of 30 hosts (SQLite, local connection), show it through "
                    "Ansible, start the server (and an embedded Redis unless CRATON_REDIS_URL is set), "
                    "run a rollout with craton run and print the progress page's URL. Ctrl-C stops "
                    "everything.")
    parser.add_argument("--dir", default=default, help="where the demo keeps its files (default: %s)" % default)
    parser.add_argument("--port", type=int, default=None,
                        help="port of the demo's server on 127.0.0.1 (default: a free port)")
    parser.add_argument("--no-wait", action="store_true",
                        help="stop the server as soon as the run ends (default: keep serving until Ctrl-C)")
    parser.set_defaults(func=_cmd_demo)
