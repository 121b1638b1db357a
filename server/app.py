# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ASGI application of ``craton serve``.

FastAPI on uvicorn (see docs/api.md for why): the OpenAPI document comes from the
routes' pydantic models (served at /v1/openapi.json, browsable at /v1/docs),
pydantic validates every body (unknown fields, wrong types: 422), and async
streaming responses serve archives now and the live progress page (server-sent
events) later.
"""

from __future__ import annotations

import contextlib

import anyio.to_thread
from fastapi import FastAPI

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.server import errors
from ansible_collections.craton.fleet.server.archive_limit import ArchiveBuilds
from ansible_collections.craton.fleet.server.auth import TokenAuthenticator
from ansible_collections.craton.fleet.server.body_limit import BodySizeLimit
from ansible_collections.craton.fleet.server.settings import Settings

API_VERSION = "1.0"
OPENAPI_PATH = "/v1/openapi.json"


def create_app(settings=None, authenticator=None):
    """The app for ``settings`` (default: from the environment). ``authenticator``
    defaults to craton's own API tokens (a Keystone validator can be passed instead)."""
    from ansible_collections.craton.fleet.server.routes import ROUTERS

    settings = settings or Settings.from_env()
    # One pooled connection per thread that may hold one: with SQLAlchemy's default of 5,
    # connections would be opened and closed for most requests under load.
    db.engine_for(settings.database_url, pool_size=settings.db_pool_size)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        # FastAPI runs plain-function routes in anyio's default pool, 40 threads. Those
        # routes are mostly Python work under one GIL: 40 of them at once only wait for
        # each other (and for the GIL after every SQLite call), so --threads bounds them.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield

    app = FastAPI(lifespan=lifespan, title="craton.fleet API", version=API_VERSION,
                  description="The fleet inventory as a service: tenants, regions, hosts, groups, variables, "
                              "secrets (write-only), vars references and inventory bundles. See docs/api.md.",
                  openapi_url=OPENAPI_PATH, docs_url="/v1/docs", redoc_url=None)
    app.state.settings = settings
    app.state.archive_builds = ArchiveBuilds(settings.archive_builds, settings.archive_queue)
    app.state.authenticator = authenticator or TokenAuthenticator(settings.database_url, settings.token_cache_seconds)
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    # --- the REST API /v1 (server/routes/<collection>.py) ---
    for router in ROUTERS:
        app.include_router(router)

    # --- the live progress page (issue 8): /progress pages, JSON, SSE and static files ---
    from ansible_collections.craton.fleet.server import progress
    progress.install(app)

    return app


def app_from_env():
    """Factory for uvicorn workers (``craton serve --workers N``): settings from the environment."""
    settings = Settings.from_env()
    from ansible_collections.craton.fleet.server.keystone_settings import KeystoneSettings
    keystone = KeystoneSettings.from_env()
    if not keystone.enabled:
        return create_app(settings)
    from ansible_collections.craton.fleet.server import keystone_auth
    return create_app(settings, keystone_auth.build(keystone, settings.database_url, TokenAuthenticator(
        settings.database_url, settings.token_cache_seconds)))
