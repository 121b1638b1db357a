#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Profile one ``ansible-inventory`` run in CPU time (cProfile with process_time).

CPU time, not wall time, so that other work on the machine does not blur the
figures. Use it on the sources that ``inventory_load.py --workdir DIR`` leaves
behind, with that run's environment::

    ANSIBLE_CONFIG=DIR/ansible.cfg ANSIBLE_INVENTORY_ENABLED=craton.fleet.inventory \\
    ANSIBLE_INVENTORY_PLUGINS=bench/floor_plugins/inventory \\
        .venv/bin/python bench/profile_inventory.py -o craton.prof -- \\
        -i DIR/fleet-100000/sqlite.craton.yml --graph

Prints the top functions by cumulative and by own time; ``-o`` keeps the
profile for ``python -m pstats`` or snakeviz.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("-o", "--output", help="write the profile here")
    p.add_argument("--top", type=int, default=35, help="functions to show (default 35)")
    p.add_argument("--filter", default="", help="only show functions whose path matches this regex")
    p.add_argument("args", nargs=argparse.REMAINDER, help="-- then the ansible-inventory arguments")
    args = p.parse_args()
    argv = args.args[1:] if args.args[:1] == ["--"] else args.args
    from ansible.cli.inventory import InventoryCLI

    profiler = cProfile.Profile(time.process_time)
    stdout = sys.stdout
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # the inventory itself is not of interest
    try:
        profiler.runcall(InventoryCLI.cli_executor, ["ansible-inventory"] + argv)
    except SystemExit:
        pass
    finally:
        sys.stdout.close()
        sys.stdout = stdout
    if args.output:
        profiler.dump_stats(args.output)
    stats = pstats.Stats(profiler)
    print("total CPU %.2f s" % stats.total_tt)
    for order in ("cumulative", "tottime"):
        stats.sort_stats(order)
        stats.print_stats(*([args.filter] if args.filter else []) + [args.top])


if __name__ == "__main__":
    main()
