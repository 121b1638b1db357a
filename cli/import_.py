# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton import``: load an existing Ansible inventory into the fleet database.

(The module is ``import_`` because ``import`` is a Python keyword; the subcommand
is ``craton import``.) Reading is Ansible's own (plugin_utils.inventory_source),
writing is one transaction (module_utils.importer).
"""

from __future__ import annotations

import sys
import time

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.importer import import_inventory
from ansible_collections.craton.fleet.plugins.plugin_utils.inventory_source import read_inventory

STAGES = {
    "parsing": "parsing the source",
    "reading": "reading hosts",
    "hosts": "writing hosts",
    "groups": "writing groups",
    "memberships": "writing members",
    "variables": "writing variables",
}


class ProgressBar:
    """A one-line progress bar on a terminal (stderr); silent when stderr is not a TTY."""

    WIDTH = 30

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, stage, done, total):
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        label = STAGES.get(stage, stage)
        if total:
            filled = self.WIDTH * done // total
            line = "%-18s [%s%s] %3d%% %d/%d" % (label, "#" * filled, "." * (self.WIDTH - filled),
                                                 100 * done // total, done, total)
        else:
            line = "%-18s ..." % label
        self.stream.write("\r\033[K" + line)
        self.stream.flush()
        self.shown = True

    def close(self):
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def summary_lines(result):
    """The human summary of an import result."""
    lines = []
    if result["tenant_created"]:
        lines.append("created tenant %r" % result["tenant"])
    if result["region_created"]:
        lines.append("created region %r in tenant %r" % (result["region"], result["tenant"]))
    where = "tenant %r" % result["tenant"]
    if result["region"]:
        where += ", region %r" % result["region"]
    lines.append("imported into %s%s:" % (where, " (pruned)" if result["prune"] else ""))
    for kind in ("hosts", "groups", "variables", "memberships", "children"):
        c = result[kind]
        parts = ["%d added" % c["added"]]
        if kind in ("hosts", "groups", "variables"):
            parts.append("%d updated" % c["updated"])
        parts.append("%d removed" % c["removed"])
        parts.append("%d unchanged" % c["unchanged"])
        label = "group children" if kind == "children" else kind
        lines.append("  %-15s %s" % (label, ", ".join(parts)))
    return lines


def _cmd_import(args):
    progress = ProgressBar()
    try:
        snapshot = read_inventory(args.sources, progress)
        engine = db.connect(args.database_url)
        result = db.run_in_transaction(engine, lambda session: import_inventory(
            session, snapshot, args.tenant, region=args.region, prune=args.prune, progress=progress))
    finally:
        progress.close()
    for warning in result["warnings"]:
        sys.stderr.write("craton: warning: %s\n" % warning)
    print("\n".join(summary_lines(result)))
    return 0


def register(subparsers, common):
    """Add ``craton import``."""
    parser = subparsers.add_parser(
        "import", parents=[common], help="load an existing Ansible inventory into a tenant",
        description="Load any inventory Ansible can read (INI, YAML, directories with group_vars/"
                    "host_vars, scripts, inventory plugin configs) into tenant TENANT, in one "
                    "transaction. Re-importing updates in place; --prune also removes what the "
                    "source no longer has. The variables of Ansible's group 'all' become the "
                    "tenant's variables.")
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="an inventory source, as for ansible-inventory -i")
    parser.add_argument("--tenant", required=True, help="the tenant to import into (created if missing)")
    parser.add_argument("--region", help="put the imported hosts in this region (created if missing)")
    parser.add_argument("--prune", action="store_true",
                        help="remove the tenant's hosts, groups, variables, memberships and child "
                             "links that the source does not have")
    parser.set_defaults(func=_cmd_import)
