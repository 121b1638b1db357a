# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton export``: the inventory for some filters as a tgz or zip bundle, without a server.

The bundle is written by ``module_utils.bundle`` (the same writer as the REST
API's ``/v1/inventory/{region_id}.tgz``) from ``inventory_query.load_inventory``
(the same query as the inventory plugin). The file appears complete or not at
all: the archive is written to a temporary file next to it and renamed.
"""

from __future__ import annotations

import os
import sys
import tempfile

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.filter_args import host_vars_filter

FORMATS = ("tgz", "zip")


def filters_from_args(args):
    """The inventory filters (as in craton.yml) given on the command line."""
    return {"tenant": args.tenant, "regions": args.region, "groups": args.group, "hosts": args.host,
            "host_vars": host_vars_filter(args.host_var), "active_only": not args.all}


class AtomicOutput:
    """A binary file that appears at ``path`` only when complete (``-`` is stdout)."""

    def __init__(self, path):
        self.path = path
        self.temp = None
        self.file = None

    def __enter__(self):
        if self.path == "-":
            if sys.stdout.isatty():
                raise CratonError("not writing an archive to a terminal: use -o FILE or a pipe")
            self.file = sys.stdout.buffer
            return self.file
        directory = os.path.dirname(os.path.abspath(self.path))
        if os.path.isdir(self.path):
            raise CratonError("cannot write %s: it is a directory" % self.path)
        try:
            fd, self.temp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(self.path),
                                             suffix=".part")
        except OSError as e:
            raise CratonError("cannot write %s: %s" % (self.path, e.strerror or e)) from None
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, kind, value, traceback):
        if self.path == "-":
            self.file.flush()
            return False
        try:
            self.file.close()
            if kind is None:
                os.replace(self.temp, self.path)
                self.temp = None
        except OSError as e:
            raise CratonError("cannot write %s: %s" % (self.path, e.strerror or e)) from None
        finally:
            if self.temp is not None:
                try:
                    os.unlink(self.temp)
                except OSError:
                    pass
        return False


def _cmd_export(args):
    from ansible_collections.craton.fleet.plugins.module_utils import bundle
    from ansible_collections.craton.fleet.plugins.module_utils.vars_references import ReferenceFetcher

    inventory = bundle.load_for_bundle(args.database_url, filters_from_args(args), strict=True,
                                       secrets=not args.no_secrets)
    chunks = bundle.iter_bundle(inventory, args.format, per_host=args.per_host,
                                references_trusted=args.vars_references_trusted,
                                fetcher=ReferenceFetcher(args.timeout))
    for warning in inventory["warnings"]:
        sys.stderr.write("craton: warning: %s\n" % warning)
    written = 0
    with AtomicOutput(args.output) as out:
        for chunk in chunks:
            try:
                out.write(chunk)
            except OSError as e:
                raise CratonError("cannot write %s: %s" % (args.output, e.strerror or e)) from None
            written += len(chunk)
    hosts = len(inventory["hosts"])
    sys.stderr.write("craton: wrote %d host%s to %s (%s%s, %d bytes)\n" % (
        hosts, "" if hosts == 1 else "s", "stdout" if args.output == "-" else args.output, args.format,
        ", one directory per host" if args.per_host else "", written))
    return 0


def register(subparsers, common):
    """Add ``craton export``."""
    parser = subparsers.add_parser(
        "export", parents=[common], help="write the inventory as a tgz or zip bundle",
        description="Write the inventory selected by the filters (the same as in craton.yml) as an archive "
                    "of a plain Ansible inventory directory: hosts.yml, group_vars/, host_vars/ and the hosts' "
                    "secrets as files of mode 0600 in .secrets/. Extracted, `ansible-inventory -i DIR` sees what "
                    "the craton.fleet.inventory plugin sees. The same inventory gives a byte-identical archive. "
                    "See docs/bundles.md.")
    parser.add_argument("--format", choices=FORMATS, default="tgz", help="archive format (default: %(default)s)")
    parser.add_argument("--per-host", action="store_true",
                        help="one inventory directory per host (HOST/hosts.yml ...) with only what it needs")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the archive to write (replaced when complete; mode 0600); - for stdout")
    parser.add_argument("--tenant", help="only this tenant")
    parser.add_argument("--region", action="append", metavar="REGION", help="only hosts of this region (repeatable)")
    parser.add_argument("--group", action="append", metavar="GROUP",
                        help="only hosts of this group or its descendants (repeatable)")
    parser.add_argument("--host", action="append", metavar="PATTERN",
                        help="only hosts with this name or shell-style pattern (repeatable)")
    parser.add_argument("--host-var", action="append", metavar="KEY=VALUE",
                        help="only hosts whose own variable KEY equals VALUE (repeatable; a key given twice "
                             "accepts either value)")
    parser.add_argument("--all", action="store_true", help="include inactive hosts")
    parser.add_argument("--no-secrets", action="store_true",
                        help="leave the secrets out (no secret key needed)")
    parser.add_argument("--vars-references-trusted", action="store_true",
                        help="write values from vars references as trusted (templates in them render), like the "
                             "plugin option vars_references_trusted")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="timeout in seconds for fetching http(s) vars references (default: %(default)s)")
    parser.set_defaults(func=_cmd_export)
