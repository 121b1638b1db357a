# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton run PLAYBOOK``: drive a playbook host by host with TaskFlow (parallel, retried, resumable).

The logic lives in the ``driver`` package (imported, with TaskFlow, only when the
subcommand runs); docs/driver.md is the user documentation.

Exit codes: 0 every host ok; 1 bad input or Redis / a database unreachable at the
start (nothing recorded); 2 usage error (argparse); 3 the run finished and some hosts
failed or were unreachable; 4 ``--max-fail-percentage`` crossed (the run stopped,
resumable); 5 the driver itself failed (resumable); 130 interrupted (resumable).
"""

from __future__ import annotations

import argparse

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError


def _cmd_run(args):
    from ansible_collections.craton.fleet.driver import runner  # pylint: disable=import-outside-toplevel

    filters = {"tenant": args.tenant, "regions": args.region, "groups": args.group, "hosts": args.host,
               "host_vars": args.host_var, "include_inactive": args.include_inactive or None,
               "reachable": args.reachable}
    args.filters = {k: v for k, v in filters.items() if v}
    if args.reachable is not None:
        args.filters["reachable"] = args.reachable
    if not args.resume and not args.playbook:
        raise CratonError("craton run needs a PLAYBOOK (or --resume RUN_ID)")
    return runner.run(args)


def _bool(text):
    value = text.lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError("expected true or false, not %r" % text)


def register(subparsers, common):
    """Add ``craton run``."""
    parser = subparsers.add_parser(
        "run", parents=[common], help="run a playbook host by host with TaskFlow (parallel, retried, resumable)",
        description="Run PLAYBOOK on the hosts of the fleet that the filters select, one ansible-playbook per "
                    "host (or batch) driven by TaskFlow: N at a time, unreachable hosts retried, the state "
                    "persisted so that a killed run can be resumed, and every event in the run's Redis stream.",
        epilog="Exit codes: 0 all hosts ok; 1 bad input, Redis or a database unreachable at the start (nothing "
               "recorded); 2 usage error; 3 some hosts failed or were unreachable; 4 --max-fail-percentage crossed "
               "(stopped, resumable); 5 the driver failed (resumable); 130 interrupted (resumable). "
               "See docs/driver.md.")
    parser.add_argument("playbook", nargs="?", metavar="PLAYBOOK", help="the playbook to run")
    sel = parser.add_argument_group("hosts (as in a craton.yml)")
    sel.add_argument("-i", "--inventory", metavar="CRATON_YML",
                     help="a craton.fleet inventory file (…craton.yml); its filters select the hosts and every "
                          "ansible-playbook gets it as inventory")
    sel.add_argument("--tenant", help="only this tenant")
    sel.add_argument("--region", action="append", metavar="NAME", help="only hosts of this region (repeatable)")
    sel.add_argument("--group", action="append", metavar="NAME",
                     help="only hosts of this group or its descendants (repeatable)")
    sel.add_argument("--host", action="append", metavar="PATTERN",
                     help="only hosts whose name matches (shell pattern; repeatable)")
    sel.add_argument("--host-var", action="append", metavar="KEY=VALUE",
                     help="only hosts whose own variable KEY has this value (a YAML scalar); repeat a KEY for "
                          "several accepted values")
    sel.add_argument("--include-inactive", action="store_true", help="also hosts not marked active")
    sel.add_argument("--reachable", type=_bool, metavar="BOOL",
                     help="true: skip hosts unreachable last time; false: only those")
    drv = parser.add_argument_group("driving")
    drv.add_argument("--parallel", type=int, metavar="N", help="ansible-playbook processes at once (default 1)")
    drv.add_argument("--batch-size", type=int, default=1, metavar="B", help="hosts per ansible-playbook (default 1)")
    drv.add_argument("--retries", type=int, metavar="K", help="retry unreachable hosts K times (default 0)")
    drv.add_argument("--max-fail-percentage", type=float, metavar="P",
                     help="stop starting hosts once more than P%% of all hosts failed or were unreachable")
    drv.add_argument("-e", "--extra-vars", action="append", metavar="VARS",
                     help="passed to every ansible-playbook as -e (repeatable)")
    drv.add_argument("--run-id", help="the run id (default: generated); also the Redis run")
    drv.add_argument("--resume", metavar="RUN_ID",
                     help="finish an interrupted run: hosts already done are not run again")
    where = parser.add_argument_group("where state and events go")
    where.add_argument("--state-url", metavar="URL",
                       help="run state database (default: $CRATON_STATE_URL, else next to a SQLite fleet database "
                            "as NAME.runs.db, else the fleet database)")
    where.add_argument("--redis-url", metavar="URL", help="Redis for the run's events (default: $CRATON_REDIS_URL)")
    parser.set_defaults(func=_cmd_run)
