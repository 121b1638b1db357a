# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``craton serve``: the REST API /v1 on uvicorn (FastAPI app in server/app.py).

Once the app is built, ``gc.freeze()`` moves every object made so far (modules,
routes, models: most of the heap) out of the cyclic collector's reach, so that its
full collections, triggered by the garbage of requests, no longer walk them."""

from __future__ import annotations

import gc
import os

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.server.keystone_settings import KeystoneSettings, add_arguments
from ansible_collections.craton.fleet.server.settings import (
    DEFAULT_ARCHIVE_BUILDS, DEFAULT_ARCHIVE_QUEUE, DEFAULT_SHUTDOWN_SECONDS, DEFAULT_THREADS)


def frozen_app_from_env():
    """The app of a worker process (``--workers N``), with the objects made so far frozen."""
    from ansible_collections.craton.fleet.server.app import app_from_env

    app = app_from_env()
    gc.freeze()
    return app


def _cmd_serve(args):
    # Heavy imports here, not at the top: every craton invocation imports this module.
    import uvicorn

    from ansible_collections.craton.fleet.plugins.module_utils import db
    from ansible_collections.craton.fleet.server.app import create_app
    from ansible_collections.craton.fleet.server.settings import Settings

    if args.max_body_size < 1024:
        raise CratonError("--max-body-size must be at least 1024 bytes, not %d" % args.max_body_size)
    if not 0 <= args.port < 65536:
        raise CratonError("invalid --port %d: use 0 to 65535" % args.port)
    if args.token_cache_seconds < 0:
        raise CratonError("--token-cache-seconds must be 0 or more")
    if args.workers < 1:
        raise CratonError("--workers must be at least 1")
    if args.archive_builds < 1 or args.archive_queue < 0:
        raise CratonError("--archive-builds must be at least 1 and --archive-queue 0 or more")
    if args.shutdown_timeout < 0:
        raise CratonError("--shutdown-timeout must be 0 or more")
    if args.threads < 1:
        raise CratonError("--threads must be at least 1")
    settings = Settings(database_url=db.resolve_url(args.database_url), redis_url=args.redis_url,
                        host=args.host, port=args.port, max_body_bytes=args.max_body_size,
                        token_cache_seconds=args.token_cache_seconds, archive_builds=args.archive_builds,
                        archive_queue=args.archive_queue, threads=args.threads)
    db.engine_for(settings.database_url, pool_size=settings.db_pool_size)
    db.connect(settings.database_url)  # a missing or outdated schema is an error now, not at the first request
    keystone = KeystoneSettings.from_args(args)
    authenticator = None
    if keystone.enabled:  # Keystone tokens (docs/openstack.md); checked against Keystone now
        from ansible_collections.craton.fleet.server import keystone_auth
        from ansible_collections.craton.fleet.server.auth import TokenAuthenticator
        authenticator = keystone_auth.build(keystone, settings.database_url, TokenAuthenticator(
            settings.database_url, settings.token_cache_seconds))
    log_level = "debug" if getattr(args, "debug", False) else args.log_level
    if args.workers == 1:
        app = create_app(settings, authenticator)
        gc.freeze()
        uvicorn.run(app, host=args.host, port=args.port, log_level=log_level,
                    access_log=args.access_log, server_header=False, timeout_graceful_shutdown=args.shutdown_timeout)
        return 0
    os.environ.update(settings.to_env())
    os.environ.update(keystone.to_env())
    from uvicorn.supervisors import Multiprocess

    from ansible_collections.craton.fleet.server.reuse_port import bound_socket
    config = uvicorn.Config("ansible_collections.craton.fleet.cli.serve:frozen_app_from_env", factory=True,
                            host=args.host, port=args.port, workers=args.workers, log_level=log_level,
                            access_log=args.access_log, server_header=False,
                            timeout_graceful_shutdown=args.shutdown_timeout)
    # Each worker listens on a socket of its own (SO_REUSEPORT): server/reuse_port.py says why.
    Multiprocess(config, sockets=[bound_socket(args.host, args.port)]).run()
    return 0


def register(subparsers, common):
    """Add ``craton serve``."""
    parser = subparsers.add_parser(
        "serve", parents=[common], help="serve the REST API /v1",
        description="Serve the fleet as a REST API (/v1; OpenAPI document at /v1/openapi.json) with FastAPI on "
                    "uvicorn. Clients authenticate with tokens from `craton token create`.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080; 0 picks one)")
    parser.add_argument("--redis-url", default=os.environ.get("CRATON_REDIS_URL"),
                        help="Redis of the live progress page (default: $CRATON_REDIS_URL)")
    parser.add_argument("--max-body-size", type=int, default=1024 * 1024, metavar="BYTES",
                        help="largest accepted request body; larger ones get 413 (default: 1048576)")
    parser.add_argument("--token-cache-seconds", type=float, default=5.0, metavar="SECONDS",
                        help="how long a valid token is trusted without asking the database; a revoked token "
                             "stops working within this time (default: 5; 0 checks every request)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, metavar="N",
                        help="threads of each worker process that run database requests (default: %d)"
                             % DEFAULT_THREADS)
    parser.add_argument("--archive-builds", type=int, default=DEFAULT_ARCHIVE_BUILDS, metavar="N",
                        help="inventory archives each worker process builds at once (default: %d)"
                             % DEFAULT_ARCHIVE_BUILDS)
    parser.add_argument("--archive-queue", type=int, default=DEFAULT_ARCHIVE_QUEUE, metavar="N",
                        help="archive requests that may wait for their turn in each worker; more get 503 with "
                             "Retry-After (default: %d)" % DEFAULT_ARCHIVE_QUEUE)
    parser.add_argument("--shutdown-timeout", type=float, default=DEFAULT_SHUTDOWN_SECONDS, metavar="SECONDS",
                        help="on SIGTERM, how long requests in progress (streaming archives) may finish before "
                             "they are cancelled (default: %g)" % DEFAULT_SHUTDOWN_SECONDS)
    parser.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"),
                        help="uvicorn's log level (default: warning)")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    add_arguments(parser)
    parser.set_defaults(func=_cmd_serve)
