# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster benchmark (issue 10): one MariaDB node against a three-node Galera cluster.

In one run, on a fresh database on each:

  (a) one node   ``craton import`` of a generated inventory (default 10,000 hosts x 10
                 variables, 500 groups; bench/import_load.py's generator), then
                 ``ansible-inventory --list`` of the tenant through the craton.fleet plugin,
                 on a single MariaDB server (default 127.0.0.1:3306);
  (b) cluster    the same on the Galera cluster of tests/cluster/galera.sh (127.0.0.1:3311-3313)
                 through the multi-host URL (writes go to node 1 and are certified by all three).

It prints wall and CPU time of each and the ratio cluster / one node. Targets (issue 10):
reads within 1.2x, writes within 2x. The cluster is started in build/galera-bench when
none answers on 127.0.0.1:3311 (and stopped afterwards).

    .venv/bin/python bench/cluster.py                 # 10,000 hosts
    .venv/bin/python bench/cluster.py --hosts 2000    # quick check
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)

import measure as measuring  # noqa: E402  pylint: disable=wrong-import-position
from import_load import craton_bin, write_inventory  # noqa: E402  pylint: disable=wrong-import-position
from inventory_load import (  # noqa: E402  pylint: disable=wrong-import-position
    ansible_env, ansible_inventory_bin, craton_config, mariadb_database)

SCRIPT = os.path.join(ROOT, "tests", "cluster", "galera.sh")
NODES = ("127.0.0.1:3311", "127.0.0.1:3312", "127.0.0.1:3313")


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def cluster_answers():
    import sqlalchemy as sa
    try:
        engine = sa.create_engine("mysql+pymysql://root@%s/test" % NODES[0], connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            size = conn.execute(sa.text("SHOW STATUS LIKE 'wsrep_cluster_size'")).one()[1]
        engine.dispose()
        return size == "3"
    except Exception:  # pylint: disable=broad-except
        return False


def cluster_url(single_node_url):
    """The multi-host URL of the database that ``single_node_url`` (node 1) names."""
    import sqlalchemy as sa
    name = sa.engine.make_url(single_node_url).database
    return "mysql+pymysql://root@%s/%s" % (",".join(NODES), name)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--hosts", type=int, default=10_000, help="hosts in the inventory (default 10000)")
    p.add_argument("--mysql-server", default="mysql+pymysql://root@127.0.0.1:3306",
                   help="the single MariaDB server (default 127.0.0.1:3306)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds after which a run is killed")
    args = p.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="craton-cluster-bench-")
    started = None
    drops = []
    try:
        if not cluster_answers():
            started = os.path.join(ROOT, "build", "galera-bench")
            log("starting the Galera cluster in %s" % started)
            subprocess.run(["bash", SCRIPT, "start", started], check=True, stdout=subprocess.DEVNULL)
        source = os.path.join(workdir, "inventory")
        log("writing the inventory: %d hosts" % args.hosts)
        write_inventory(source, args.hosts)
        env = ansible_env(workdir, "ini")  # craton import reads the INI source
        read_env = ansible_env(workdir, "craton.fleet.inventory")
        targets = []
        for label, server in (("one node", args.mysql_server), ("cluster", "mysql+pymysql://root@%s" % NODES[0])):
            url, drop = mariadb_database(server)
            if url is None:
                log("cannot benchmark %s: %s" % (label, drop))
                return 2
            drops.append(drop)
            targets.append((label, url if label == "one node" else cluster_url(url)))
        results = {}
        for label, url in targets:
            up = subprocess.run([craton_bin(), "db", "upgrade", "--database-url", url], env=env,
                                capture_output=True, text=True, check=False)
            if up.returncode != 0:
                log("craton db upgrade failed on %s: %s" % (label, up.stderr.strip()))
                return 1
            config = craton_config(os.path.join(workdir, "%s.craton.yml" % label.replace(" ", "-")), url, "bench")
            for kind, argv, kind_env in (
                    ("import", [craton_bin(), "import", source, "--tenant", "bench", "--database-url", url], env),
                    ("inventory", [ansible_inventory_bin(), "-i", config, "--list"], read_env)):
                log("%s: %s ..." % (label, kind))
                m = measuring.run_measured("%s: %s" % (label, kind), argv, kind_env, workdir,
                                           os.path.join(workdir, "out-%s-%s.txt" % (kind, label.replace(" ", "-"))),
                                           timeout=args.timeout)
                if not m.ok:
                    log("%s %s FAILED (%s):\n%s" % (label, kind, m.returncode, m.stderr_tail()))
                    return 1
                results[(label, kind)] = m
        print("\ncraton.fleet on one MariaDB node vs a three-node Galera cluster: %d hosts x 10 variables (%s)"
              % (args.hosts, measuring.method()))
        print("%-44s %9s %9s %9s %9s %10s %9s" % ("run", "one s", "cluster s", "ratio", "target",
                                                  "one CPU s", "clu CPU s"))
        for kind, what, target in (("import", "write: craton import", 2.0),
                                   ("inventory", "read: ansible-inventory --list", 1.2)):
            one, clu = results[("one node", kind)], results[("cluster", kind)]
            ratio = clu.seconds / one.seconds
            print("%-44s %9.1f %9.1f %9.2f %8.1fx %10.1f %9.1f%s" % (
                what, one.seconds, clu.seconds, ratio, target, one.cpu_seconds, clu.cpu_seconds,
                "" if ratio <= target else "  (over target)"))
        print("Wall time; CPU is the client's own user+system time (not the servers'). The cluster's three\n"
              "servers share this machine's cores with the client, which a real cluster does not.")
        return 0
    finally:
        for drop in drops:
            try:
                drop()
            except Exception:  # pylint: disable=broad-except
                pass
        if started:
            subprocess.run(["bash", SCRIPT, "stop", started], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
