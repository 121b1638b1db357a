# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton api``: talk to a craton server (``craton serve``) with the Python client.

    craton api list hosts [--filter region_id=3]    one JSON object per line, all pages
    craton api get /v1/hosts/12                      any GET, the JSON answer
    craton api download REGION_ID -o eu.tgz          the region's archive

The server and token come from ``--api-url``/``--api-token`` or
``CRATON_API_URL``/``CRATON_API_TOKEN``.
"""

from __future__ import annotations

import json
import os

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

COLLECTIONS = ("tenants", "regions", "hosts", "groups")


def _client(args):
    from ansible_collections.craton.fleet.client import Client, ClientError

    url = args.api_url or os.environ.get("CRATON_API_URL")
    token = args.api_token or os.environ.get("CRATON_API_TOKEN")
    if not url:
        raise CratonError("no server: give --api-url or set CRATON_API_URL")
    try:
        return Client(url, token), ClientError
    except ClientError as e:
        raise CratonError(str(e)) from None


def _filters(items):
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CratonError("invalid --filter %r: use KEY=VALUE" % item)
        out[key] = value
    return out


def _cmd_list(args):
    client, client_error = _client(args)
    try:
        for item in getattr(client, args.collection).list(**_filters(args.filter)):
            print(json.dumps(item, sort_keys=True))
    except client_error as e:
        raise CratonError(str(e)) from None


def _cmd_get(args):
    client, client_error = _client(args)
    if not args.path.startswith("/v1/"):
        raise CratonError("invalid path %r: API paths start with /v1/" % args.path)
    try:
        print(json.dumps(client.call("GET", args.path), indent=2, sort_keys=True))
    except client_error as e:
        raise CratonError(str(e)) from None


def _cmd_download(args):
    client, client_error = _client(args)
    try:
        path = client.inventory.download(args.region_id, args.output, fmt=args.format, per_host=args.per_host,
                                         groups=args.group, hosts=args.host, secrets=not args.no_secrets)
    except client_error as e:
        raise CratonError(str(e)) from None
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def register(subparsers, common):
    """Add ``craton api``."""
    parser = subparsers.add_parser("api", parents=[common], help="talk to a craton server (REST API client)",
                                   description="Read the fleet through a craton server (craton serve).")
    parser.add_argument("--api-url", help="the server (default: $CRATON_API_URL)")
    parser.add_argument("--api-token", help="an API token (default: $CRATON_API_TOKEN)")
    sub = parser.add_subparsers(dest="api_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", parents=[common], help="list a collection (every page), one JSON object per line")
    p.add_argument("collection", choices=COLLECTIONS)
    p.add_argument("--filter", action="append", metavar="KEY=VALUE", help="a list filter, e.g. region_id=3")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("get", parents=[common], help="GET an API path and print the JSON answer")
    p.add_argument("path", help="e.g. /v1/hosts/12/variables")
    p.set_defaults(func=_cmd_get)
    p = sub.add_parser("download", parents=[common], help="download a region's inventory archive")
    p.add_argument("region_id", type=int)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--format", choices=("tgz", "zip"), default="tgz")
    p.add_argument("--per-host", action="store_true", help="one inventory directory per host")
    p.add_argument("--group", action="append", help="only hosts of this group (repeatable)")
    p.add_argument("--host", action="append", help="only hosts matching this name/pattern (repeatable)")
    p.add_argument("--no-secrets", action="store_true", help="without secret files (reader tokens)")
    p.set_defaults(func=_cmd_download)
