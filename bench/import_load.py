# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import benchmark of ``craton import`` (issue 3, item 6: fast enough for 100,000 hosts).

Generates an INI inventory directory (default 100,000 hosts with 10 variables each,
500 groups nested 3 deep, group_vars/ for the top groups, host_vars/ for 1% of the
hosts) and, in one run, measures wall time and peak RSS of:

  (a) baseline   ``ansible-inventory -i DIR --graph``: Ansible reading the same source
                 (``craton import`` reads through the same parser, so this is its floor);
  (b) import     ``craton import DIR`` into an empty SQLite database;
  (c) re-import  the same again (nothing changes: the set-based diff only);
  (d) prune      ``craton import DIR2 --prune`` where 1% of the hosts changed a variable,
                 1% vanished and 1% are new;
  (e)-(g)        (b)-(d) on MariaDB when reachable.

It prints each figure and its ratio to (a): the import's own cost is what the
ratio adds to 1.0.

    .venv/bin/python bench/import_load.py               # full size (~20 min)
    .venv/bin/python bench/import_load.py --hosts 5000  # quick check
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

import measure as measuring  # noqa: E402  pylint: disable=wrong-import-position
from inventory_load import ansible_env, ansible_inventory_bin, mariadb_database  # noqa: E402  pylint: disable=wrong-import-position

TOPS, MIDS_PER_TOP, LEAVES_PER_MID = 20, 4, 5   # 20 + 80 + 400 = 500 groups


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def write_inventory(directory, hosts, variant=0):
    """The INI inventory directory. ``variant`` 1 changes a variable of 1% of the
    hosts, drops another 1% and adds 1% new ones."""
    os.makedirs(os.path.join(directory, "group_vars"), exist_ok=True)
    os.makedirs(os.path.join(directory, "host_vars"), exist_ok=True)
    leaves = ["leaf-%03d" % i for i in range(TOPS * MIDS_PER_TOP * LEAVES_PER_MID)]
    names = list(range(hosts))
    if variant:
        names = [i for i in names if i % 100 != 1] + list(range(hosts, hosts + hosts // 100))
    by_leaf = {}
    for i in names:
        by_leaf.setdefault(leaves[i % len(leaves)], []).append(i)
    with open(os.path.join(directory, "hosts.ini"), "w", encoding="utf-8") as f:
        for li, leaf in enumerate(leaves):
            f.write("[%s]\n" % leaf)
            for i in by_leaf.get(leaf, ()):
                changed = "changed" if variant and i % 100 == 2 else "v%d" % (i % 13)
                f.write("host%06d.example.com ansible_host=10.%d.%d.%d ansible_port=22 serial=%d "
                        "rack='r%d' active=True weight=1.5 motd=\"{{ inventory_hostname }}\" "
                        "tag=%s tier=%d owner=ops\n"
                        % (i, i >> 16, (i >> 8) & 255, i & 255, i, i % 40, changed, i % 7))
            f.write("\n[%s:vars]\nleaf_index=%d\n\n" % (leaf, li))
        for mi in range(TOPS * MIDS_PER_TOP):
            f.write("[mid-%03d:children]\n" % mi)
            for leaf in leaves[mi * LEAVES_PER_MID:(mi + 1) * LEAVES_PER_MID]:
                f.write(leaf + "\n")
            f.write("\n[mid-%03d:vars]\nmid_index=%d\n\n" % (mi, mi))
        for ti in range(TOPS):
            f.write("[top-%02d:children]\n" % ti)
            for mi in range(ti * MIDS_PER_TOP, (ti + 1) * MIDS_PER_TOP):
                f.write("mid-%03d\n" % mi)
            f.write("\n")
        f.write("[all:vars]\nsite=bench\n")
    for ti in range(TOPS):
        with open(os.path.join(directory, "group_vars", "top-%02d.yml" % ti), "w", encoding="utf-8") as f:
            f.write("top_index: %d\nntp: [a.example.com, b.example.com]\n" % ti)
    for i in names[::100]:
        with open(os.path.join(directory, "host_vars", "host%06d.example.com.yml" % i), "w",
                  encoding="utf-8") as f:
            f.write("pinned: true\nextra: {k: %d}\n" % i)
    return len(names)


def craton_bin():
    return os.path.join(os.path.dirname(sys.executable), "craton")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--hosts", type=int, default=100_000, help="hosts in the inventory (default 100000)")
    p.add_argument("--mysql-server", default="mysql+pymysql://root@127.0.0.1:3306",
                   help="MariaDB/MySQL server URL; the bench creates and drops its own database")
    p.add_argument("--no-mariadb", action="store_true", help="skip (e)-(g)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds after which a run is killed")
    p.add_argument("--workdir", help="keep all files here (default: a temporary directory, removed)")
    args = p.parse_args(argv)

    workdir = args.workdir or tempfile.mkdtemp(prefix="craton-import-bench-")
    os.makedirs(workdir, exist_ok=True)
    try:
        source, changed = os.path.join(workdir, "inventory"), os.path.join(workdir, "inventory-changed")
        log("writing the inventory: %d hosts, 500 groups" % args.hosts)
        write_inventory(source, args.hosts)
        write_inventory(changed, args.hosts, variant=1)
        env = ansible_env(workdir, "ini")
        results = []

        def run(key, label, argv):
            log("(%s) %s ..." % (key, label))
            m = measuring.run_measured(label, argv, env, workdir, os.path.join(workdir, "out-%s.txt" % key),
                                       timeout=args.timeout)
            if not m.ok:
                log("(%s) FAILED (%s):\n%s" % (key, m.returncode, m.stderr_tail()))
            results.append((key, m))
            return m

        base = run("a", "ansible-inventory --graph (baseline)", [ansible_inventory_bin(), "-i", source, "--graph"])
        databases = [("sqlite", "sqlite:///" + os.path.join(workdir, "fleet.db"), None)]
        if not args.no_mariadb:
            url, drop = mariadb_database(args.mysql_server)
            if url is None:
                log("skipping MariaDB: %s" % drop)
            else:
                databases.append(("mariadb", url, drop))
        keys = iter("bcdefg")
        try:
            for name, url, _drop in databases:
                up = run("-", "craton db upgrade", [craton_bin(), "db", "upgrade", "--database-url", url])
                results.pop()
                if not up.ok:
                    continue
                common = ["--tenant", "bench", "--database-url", url]
                run(next(keys), "%s: craton import" % name, [craton_bin(), "import", source] + common)
                run(next(keys), "%s: craton import again (no change)" % name,
                    [craton_bin(), "import", source] + common)
                run(next(keys), "%s: craton import --prune (3%% changed)" % name,
                    [craton_bin(), "import", changed, "--prune"] + common)
        finally:
            for _name, _url, drop in databases:
                if drop:
                    drop()

        print("\ncraton import benchmark: %d hosts x 10 variables, 500 groups nested 3 deep (%s)"
              % (args.hosts, measuring.method()))
        print("%-4s %-44s %8s %8s %9s %10s %9s %10s" % (
            "", "run", "wall s", "CPU s", "peak MiB", "wall ratio", "CPU ratio", "mem ratio"))
        for key, m in results:
            ok = "" if m.ok else "  FAILED"
            print("%-4s %-44s %8.1f %8.1f %9.0f %10.2f %9.2f %10.2f%s" % (
                "(%s)" % key, m.label, m.seconds, m.cpu_seconds, m.max_rss_mib, m.seconds / base.seconds,
                m.cpu_seconds / base.cpu_seconds, m.max_rss_mib / base.max_rss_mib, ok))
        print("ratios are to (a), Ansible reading the same source; what exceeds 1.0 is the import's own cost.\n"
              "CPU is the command's own user+system time (not the MariaDB server's); on a loaded machine it is\n"
              "steadier than wall time.")
        return 0 if all(m.ok for _k, m in results) else 1
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
