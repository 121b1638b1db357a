#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory-load benchmark of craton.fleet.inventory (issue 3, "Performance").

Generates a fleet (default 100,000 hosts, 10 variables each, 20 regions, 500
groups nested 3 deep) and, in one run, measures wall time and peak RSS of
``ansible-inventory --graph`` and ``ansible-inventory --list`` for:

  (a) floor    the craton_floor plugin (bench/floor_plugins): only add_group /
               add_host / set_variable / add_child with the same content, read
               from a pickle made from the same fleet;
  (b) sqlite   craton.fleet.inventory on a SQLite file;
  (c) mariadb  the same on MariaDB (127.0.0.1:3306, root) when reachable;
  (d) static   the same inventory as one static YAML file.

Targets: (b)/(a) <= 1.25 in time and memory; (b) at least 10x faster than (d).
Ansible's YAML path is slow (minutes at 100,000 hosts), so (d) runs at
--static-hosts (default 10,000) on a second fleet of that size, where (a) and
(b) are measured too; d/b is judged there, never on extrapolated figures.

Every candidate's ``--list`` output is compared with the floor's: when they
differ the comparison is unfair, and the benchmark says what differs.

Run with the development venv (``./dev shell``, or .venv/bin/python):

    .venv/bin/python bench/inventory_load.py              # full size (~15 min)
    .venv/bin/python bench/inventory_load.py --hosts 2000 # quick check
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)

import compare_outputs  # noqa: E402  pylint: disable=wrong-import-position
import fleet_generator  # noqa: E402  pylint: disable=wrong-import-position
import inventory_view  # noqa: E402  pylint: disable=wrong-import-position
import static_inventory  # noqa: E402  pylint: disable=wrong-import-position
import measure as measuring  # noqa: E402  pylint: disable=wrong-import-position

CRATON_PLUGIN = "craton.fleet.inventory"
FLOOR_PLUGIN = "craton_floor"
PLUGIN_FILE = os.path.join(ROOT, "plugins", "inventory", "inventory.py")
TIME_TARGET = MEMORY_TARGET = 1.25
STATIC_SPEEDUP_TARGET = 10.0
CASES = (("a", "floor", FLOOR_PLUGIN), ("b", "sqlite", CRATON_PLUGIN),
         ("c", "mariadb", CRATON_PLUGIN), ("d", "static", "yaml"))
COMMANDS = (("graph", ["--graph"]), ("list", ["--list"]))


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", type=int, default=100_000, help="hosts in the fleet (default 100000)")
    p.add_argument("--regions", type=int, default=20, help="regions (default 20)")
    p.add_argument("--static-hosts", type=int, default=10_000,
                   help="hosts of the fleet on which (d) static YAML is measured, with (a) and (b) "
                        "again (default 10000; capped at --hosts)")
    p.add_argument("--static-timeout", type=float, default=600,
                   help="seconds after which a static YAML run is killed (default 600)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds after which any other run is killed")
    p.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest counts")
    p.add_argument("--mysql-server", default="mysql+pymysql://root@127.0.0.1:3306",
                   help="MariaDB/MySQL server URL; the bench creates and drops its own database")
    p.add_argument("--no-mariadb", action="store_true", help="skip (c)")
    p.add_argument("--no-static", action="store_true", help="skip (d)")
    p.add_argument("--no-craton", action="store_true", help="skip (b) and (c): measure the floor and YAML only")
    p.add_argument("--workdir", help="keep all files here (default: a temporary directory, removed)")
    args = p.parse_args(argv)
    args.static_hosts = min(args.static_hosts, args.hosts)
    return args


# --- setup ------------------------------------------------------------------------

def ansible_inventory_bin():
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    return beside if os.path.exists(beside) else shutil.which("ansible-inventory")


def ansible_env(workdir, plugin):
    """A clean environment: no user ansible.cfg, no inventory cache, only the
    plugin under test enabled, an unparsable source is an error."""
    cfg = os.path.join(workdir, "ansible.cfg")
    if not os.path.exists(cfg):
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[defaults]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CRATON_"))}
    env.update({
        "ANSIBLE_CONFIG": cfg,
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, "build", "collections"),
        "ANSIBLE_INVENTORY_PLUGINS": os.path.join(BENCH_DIR, "floor_plugins", "inventory"),
        "ANSIBLE_INVENTORY_ENABLED": plugin,
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "ANSIBLE_INVENTORY_CACHE": "0",
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "ansible-tmp"),
        "ANSIBLE_HOME": os.path.join(workdir, "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "XDG_DATA_HOME": os.path.join(workdir, "xdg"),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    })
    return env


def mariadb_database(server_url):
    """Create a fresh database on the server; return (url, drop) or (None, reason)."""
    import sqlalchemy as sa
    try:
        server = sa.engine.make_url(server_url)
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = "craton_bench_%s" % uuid.uuid4().hex[:10]
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE %s CHARACTER SET utf8mb4" % name))
    except Exception as e:  # pylint: disable=broad-except
        return None, "MariaDB not reachable at %s: %s" % (server_url, str(e).splitlines()[0])

    def drop():
        from ansible_collections.craton.fleet.plugins.module_utils import db as craton_db
        for key, engine in list(craton_db._ENGINES.items()):  # pylint: disable=protected-access
            if name in key:
                engine.dispose()
                del craton_db._ENGINES[key]  # pylint: disable=protected-access
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def fill_database(shape, url, label):
    from ansible_collections.craton.fleet.cli import db as db_cli
    from ansible_collections.craton.fleet.plugins.module_utils import db
    start = time.perf_counter()
    db_cli.upgrade(url)
    last = [0.0]

    def progress(table, count):
        now = time.perf_counter()
        if now - last[0] > 10:
            last[0] = now
            log("  %s: %s %d rows" % (label, table, count))

    fleet_generator.write_database(shape, db.engine_for(url), progress)
    log("  %s: %d hosts written in %.1f s" % (label, shape.hosts, time.perf_counter() - start))


def craton_config(path, url, tenant):
    with open(path, "w", encoding="utf-8") as f:
        f.write("plugin: %s\ndatabase_url: %s\ntenant: %s\n" % (CRATON_PLUGIN, url, tenant))
    return path


# --- one fleet size ---------------------------------------------------------------

class Size:
    """All sources of one fleet size and their measurements."""

    def __init__(self, shape, directory):
        self.shape = shape
        self.dir = directory
        self.sources = {}      # case letter -> inventory source path
        self.skipped = {}      # case letter -> reason
        self.results = {}      # (letter, command) -> Measurement (fastest)
        self.fairness = {}     # letter -> list of differences ([] = same as the floor)
        self.loose = {}        # letter -> differences when trust markers are ignored
        self.order = {}        # letter -> same host order as the floor
        self.graph_same = {}   # letter -> --graph text equal to the floor's


def prepare(args, hosts, cases, directory, drops):
    shape = fleet_generator.FleetShape(hosts=hosts, regions=args.regions)
    size = Size(shape, directory)
    shutil.rmtree(directory, ignore_errors=True)  # a fresh SQLite file, no stale outputs
    os.makedirs(directory)
    log("fleet of %d hosts (%d groups, %d regions) in %s" % (hosts, shape.groups, shape.regions, directory))
    view = inventory_view.InventoryView(shape)
    start = time.perf_counter()
    dump = os.path.join(directory, "fleet.pickle")
    static_inventory.write_floor_dump(view, dump)
    floor = os.path.join(directory, "bench.floor.yml")
    with open(floor, "w", encoding="utf-8") as f:
        f.write("plugin: %s\ndump: %s\n" % (FLOOR_PLUGIN, dump))
    size.sources["a"] = floor
    log("  floor dump written in %.1f s (%.1f MiB)" % (time.perf_counter() - start, os.path.getsize(dump) / 2**20))
    if "b" in cases:
        url = "sqlite:///" + os.path.join(directory, "fleet.db")
        fill_database(shape, url, "sqlite")
        size.sources["b"] = craton_config(os.path.join(directory, "sqlite.craton.yml"), url, shape.tenant)
    else:
        size.skipped["b"] = cases.get("reason_b", "skipped")
    if "c" in cases:
        url, drop = mariadb_database(args.mysql_server)
        if url is None:
            size.skipped["c"] = drop
            log("  " + drop)
        else:
            drops.append(drop)
            fill_database(shape, url, "mariadb")
            size.sources["c"] = craton_config(os.path.join(directory, "mariadb.craton.yml"), url, shape.tenant)
    else:
        size.skipped["c"] = cases.get("reason_c", "skipped")
    if "d" in cases:
        start = time.perf_counter()
        path = os.path.join(directory, "static.yml")
        static_inventory.write_static_yaml(view, path)
        size.sources["d"] = path
        log("  static YAML written in %.1f s (%.1f MiB)"
            % (time.perf_counter() - start, os.path.getsize(path) / 2**20))
    else:
        size.skipped["d"] = cases.get("reason_d", "skipped")
    return size


def measure(args, size):
    binary = ansible_inventory_bin()
    plugins = {letter: plugin for letter, _n, plugin in CASES}
    names = {letter: name for letter, name, _p in CASES}
    for rep in range(args.repeat):
        for command, flags in COMMANDS:
            for letter in sorted(size.sources):
                out = os.path.join(size.dir, "%s.%s.%d.out" % (names[letter], command, rep))
                timeout = args.static_timeout if letter == "d" else args.timeout
                m = measuring.run_measured(
                    "%s %s" % (names[letter], command), [binary, "-i", size.sources[letter]] + flags,
                    ansible_env(args.workdir, plugins[letter]), size.dir, out, timeout)
                state = "TIMED OUT" if m.timed_out else ("exit %d" % m.returncode if m.returncode else "ok")
                log("  %-8s %-6s %8.2f s  %8.1f MiB  (%s)" % (names[letter], command, m.seconds, m.max_rss_mib, state))
                if not m.ok and not m.timed_out:
                    log("    stderr: " + m.stderr_tail().strip().replace("\n", "\n    "))
                best = size.results.get((letter, command))
                if best is None or (m.ok and (not best.ok or m.seconds < best.seconds)):
                    size.results[(letter, command)] = m


def check_fairness(size):
    floor_list = size.results.get(("a", "list"))
    floor_graph = size.results.get(("a", "graph"))
    if not floor_list or not floor_list.ok:
        return
    expected = compare_outputs.load_list(floor_list.stdout_path)
    with open(floor_graph.stdout_path, encoding="utf-8") as f:
        graph = f.read()
    for letter in ("b", "c", "d"):
        m = size.results.get((letter, "list"))
        if m and m.ok:
            actual = compare_outputs.load_list(m.stdout_path)
            strict, loose, order = compare_outputs.compare(expected, actual)
            size.fairness[letter] = strict
            size.loose[letter] = loose
            size.order[letter] = order
            del actual
        g = size.results.get((letter, "graph"))
        if g and g.ok:
            with open(g.stdout_path, encoding="utf-8") as f:
                size.graph_same[letter] = f.read() == graph


# --- report -----------------------------------------------------------------------

def fmt_m(m):
    if m is None:
        return "%28s" % "not run"
    if m.timed_out:
        return "%28s" % (">%.0f s (killed)" % m.seconds)
    if m.returncode:
        return "%28s" % ("FAILED (exit %d)" % m.returncode)
    return "%9.2f s %9.1f MiB %6.1f cpu" % (m.seconds, m.max_rss_mib, m.cpu_seconds)


def ratio(num, den, attr):
    if not (num and den and num.ok and den.ok):
        return None
    return getattr(num, attr) / getattr(den, attr)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report(args, sizes):
    names = {letter: name for letter, name, _p in CASES}
    lines = ["", "=" * 78, "craton.fleet inventory load benchmark  (ansible-core %s, %s, %d CPUs)"
             % (ansible_version(), sys.version.split()[0], os.cpu_count() or 0),
             "craton plugin: %s" % plugin_revision(),
             "wall time, %s, CPU = user + system" % measuring.method(),
             "load average at start %.2f, at end %.2f (other work on the machine skews wall times)"
             % (args.load_at_start, os.getloadavg()[0]), "=" * 78]
    verdicts = []
    for size in sizes:
        shape = size.shape
        lines.append("")
        lines.append("Fleet: %d hosts x 10 variables (+ansible_host), %d regions, %d groups nested 3 deep, 1 tenant"
                     % (shape.hosts, shape.regions, shape.groups))
        lines.append("%-22s %-30s %-30s" % ("", "ansible-inventory --graph", "ansible-inventory --list"))
        lines.append("%-22s %-30s %-30s" % ("", "   wall    peak RSS     CPU", "   wall    peak RSS     CPU"))
        for letter, name, _p in CASES:
            label = "(%s) %s" % (letter, {"a": "floor", "b": "craton on SQLite", "c": "craton on MariaDB",
                                          "d": "static YAML"}[letter])
            if letter in size.skipped:
                lines.append("%-22s skipped: %s" % (label, size.skipped[letter]))
                continue
            graph, listing = size.results.get((letter, "graph")), size.results.get((letter, "list"))
            lines.append("%-22s %s %s" % (label, fmt_m(graph), fmt_m(listing)))
        lines.append("Same inventory as the floor (--list: groups, members, effective host vars; --graph text):")
        for letter in ("b", "c", "d"):
            if letter in size.fairness:
                diffs, loose = size.fairness[letter], size.loose[letter]
                if not diffs:
                    state = "identical"
                elif not loose:
                    state = ("same groups, members and values; only the trust markers differ "
                             "(strings shown as {\"__ansible_unsafe\": ...} in one of them)")
                else:
                    state = "DIFFERS"
                lines.append("  (%s) %-8s --list %s%s; --graph %s" % (
                    letter, names[letter], state,
                    "" if size.order.get(letter) else " (host order inside groups differs)",
                    "identical" if size.graph_same.get(letter) else "DIFFERS"))
                for d in (loose or diffs)[:4 if loose else 2]:
                    lines.append("        " + (d if len(d) < 400 else d[:400] + " ..."))
        lines.append("Ratios (CPU of (c) is the client's only; the MariaDB server's work shows in its wall time):"
                     if "c" in size.sources else "Ratios:")
        for command, _f in COMMANDS:
            a, b, c, d = (size.results.get((x, command)) for x in "abcd")
            rt, rm, rc = ratio(b, a, "seconds"), ratio(b, a, "max_rss_mib"), ratio(b, a, "cpu_seconds")
            if rt is not None:
                ok_t, ok_m = rt <= TIME_TARGET, rm <= MEMORY_TARGET
                lines.append("  --%-5s b/a time %5.2f (target <= %.2f) %s   b/a memory %5.2f (target <= %.2f) %s"
                             "   [b/a CPU %.2f]"
                             % (command, rt, TIME_TARGET, verdict(ok_t), rm, MEMORY_TARGET, verdict(ok_m), rc))
                verdicts += [("%d hosts --%s b/a time" % (shape.hosts, command), ok_t),
                             ("%d hosts --%s b/a memory" % (shape.hosts, command), ok_m)]
            ct, cm, cc = ratio(c, a, "seconds"), ratio(c, a, "max_rss_mib"), ratio(c, a, "cpu_seconds")
            if ct is not None:
                lines.append("  --%-5s c/a time %5.2f   c/a memory %5.2f   [c/a CPU %.2f]   (MariaDB; no target)"
                             % (command, ct, cm, cc))
            dt, dm, dc = ratio(d, b, "seconds"), ratio(d, b, "max_rss_mib"), ratio(d, b, "cpu_seconds")
            if dt is not None:
                ok = dt >= STATIC_SPEEDUP_TARGET
                lines.append("  --%-5s d/b time %5.1f (target >= %.0f: craton %.1fx faster than static YAML) %s"
                             "   d/b memory %5.2f   [d/b CPU %.1f]"
                             % (command, dt, STATIC_SPEEDUP_TARGET, dt, verdict(ok), dm, dc))
                verdicts.append(("%d hosts --%s d/b time" % (shape.hosts, command), ok))
            elif d is not None and d.timed_out and b is not None and b.ok:
                lines.append("  --%-5s d/b time > %.1f (static YAML killed after %.0f s)   PASS"
                             % (command, d.seconds / b.seconds, d.seconds))
                verdicts.append(("%d hosts --%s d/b time" % (shape.hosts, command), d.seconds / b.seconds >= 10))
            da, dac = ratio(d, a, "seconds"), ratio(d, a, "cpu_seconds")
            if da is not None:
                lines.append("  --%-5s d/a time %5.1f   [d/a CPU %.1f]   (static YAML against the floor: the best "
                             "any plugin can do against (d))" % (command, da, dac))
                if da < STATIC_SPEEDUP_TARGET:
                    lines.append("          note: the floor itself is only %.1fx faster than static YAML here, so "
                                 "d/b >= %.0f would need the plugin to beat the floor" % (da, STATIC_SPEEDUP_TARGET))
        unfair = [letter for letter, diffs in size.loose.items() if diffs]
        if unfair:
            lines.append("  WARNING: %s do not produce the floor's inventory: the ratios compare different work"
                         % ", ".join("(%s)" % x for x in unfair))
    big, small = sizes[0], sizes[-1]
    if len(sizes) > 1 and ("d", "list") in small.results and small.results[("d", "list")].ok:
        lines.append("")
        lines.append("Static YAML was measured at %d hosts only, not at %d." % (small.shape.hosts, big.shape.hosts))
        factor = big.shape.hosts / small.shape.hosts
        for command, _f in COMMANDS:
            d, b = small.results.get(("d", command)), big.results.get(("b", command))
            if d and d.ok:
                wall, cpu = d.seconds * factor, d.cpu_seconds * factor
                extra = (" -> vs measured (b) at %d hosts: %.1fx wall, %.1fx CPU"
                         % (big.shape.hosts, wall / b.seconds, cpu / b.cpu_seconds) if b and b.ok else "")
                lines.append("  EXTRAPOLATED (linear, not measured): static --%s at %d hosts ~ %.0f s wall, %.0f s CPU%s"
                             % (command, big.shape.hosts, wall, cpu, extra))
    lines.append("")
    lines.append("Targets are judged on wall time. When the load average exceeds the CPU count, other work "
                 "inflates wall times unevenly: the [CPU] ratios are then the steadier figures.")
    if verdicts:
        failed = [name for name, ok in verdicts if not ok]
        detail = (": " + "; ".join(failed)) if failed else ""
        lines.append("Targets: %d checked, %d failed%s" % (len(verdicts), len(failed), detail))
    return "\n".join(lines), verdicts


def plugin_revision():
    """The commit of the plugin files, and whether the working tree changes them."""
    import subprocess
    files = ["plugins/inventory/inventory.py", "plugins/module_utils/inventory_query.py"]
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h %s", "--"] + files, cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--"] + files, cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return "%s%s" % (commit[:70] or "uncommitted", " + uncommitted changes" if dirty else "")


def ansible_version():
    try:
        from ansible.release import __version__
        return __version__
    except ImportError:
        return "?"


# --- main -------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(argv)
    args.load_at_start = os.getloadavg()[0]
    try:
        import ansible_collections.craton.fleet.plugins.module_utils.models  # noqa: F401
    except ImportError:
        sys.exit("inventory_load.py: run it with the development venv: .venv/bin/python bench/inventory_load.py")
    if not ansible_inventory_bin():
        sys.exit("inventory_load.py: ansible-inventory not found (use the development venv)")
    cases = {"a": True}
    if args.no_craton:
        cases.update(reason_b="--no-craton", reason_c="--no-craton")
    elif not os.path.exists(PLUGIN_FILE):
        cases.update(reason_b="plugin not written yet (%s)" % PLUGIN_FILE, reason_c="plugin not written yet")
    else:
        cases["b"] = True
        if args.no_mariadb:
            cases["reason_c"] = "--no-mariadb"
        else:
            cases["c"] = True
    keep = bool(args.workdir)
    args.workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="craton-bench-"))
    os.makedirs(args.workdir, exist_ok=True)
    drops = []
    sizes = []
    started = time.perf_counter()
    try:
        plan = [args.hosts]
        if not args.no_static and args.static_hosts < args.hosts:
            plan.append(args.static_hosts)
        for hosts in plan:
            these = dict(cases)
            if not args.no_static and hosts == args.static_hosts:
                these["d"] = True
            elif args.no_static:
                these["reason_d"] = "--no-static"
            else:
                these["reason_d"] = "measured at %d hosts (--static-hosts)" % args.static_hosts
            size = prepare(args, hosts, these, os.path.join(args.workdir, "fleet-%d" % hosts), drops)
            measure(args, size)
            check_fairness(size)
            sizes.append(size)
    finally:
        for drop in drops:
            try:
                drop()
            except Exception as e:  # pylint: disable=broad-except
                log("could not drop the MariaDB bench database: %s" % e)
        if not keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    text, verdicts = report(args, sizes)
    print(text)
    kept = "" if not keep else "; files kept in %s" % args.workdir
    print("Benchmark took %.0f s%s." % (time.perf_counter() - started, kept))
    return 1 if any(not ok for _n, ok in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
