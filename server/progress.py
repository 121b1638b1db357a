# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live progress page of ``craton serve``: pages, JSON and Server-Sent Events under ``/progress``.

=========================================  ==============================================
``GET /progress/``                         the runs list (HTML)
``GET /progress/runs/{run}``               the run page (HTML)
``GET /progress/api/runs``                 the runs, running first (JSON)
``GET /progress/api/runs/{run}``           a snapshot of the run (JSON, progress_snapshot)
``GET /progress/api/runs/{run}/events``    the run's stream as SSE (progress_stream)
``/progress/static/...``                   the page's CSS and JavaScript (server/static)
=========================================  ==============================================

Authentication is the REST API's: an API token of any role (reader and up) that
is not bound to a tenant (runs are not tenant-scoped: the events carry no
tenant), checked by the app's authenticator. The token comes from
``Authorization: Bearer TOKEN`` or ``X-Auth-Token: TOKEN`` like the API, or from
the cookie ``craton_token``: a browser opens a page once with ``?token=TOKEN``,
the server checks it, sets the cookie (HttpOnly, SameSite=Strict, path
``/progress``) and redirects to the same URL without the token; the page's
fetches and its EventSource (which cannot set headers) then send the cookie.
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils import redis_connection
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.server import progress_snapshot, progress_stream
from ansible_collections.craton.fleet.server.errors import ApiError

PREFIX = "/progress"
COOKIE = "craton_token"
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
PREFIX_ENV = "CRATON_REDIS_PREFIX"
SSE_RETRY_MS = 1000

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class Progress:
    """Per-app state: the Redis clients (blocking and asyncio), the hubs, the fleet membership cache."""

    def __init__(self, settings):
        self.redis_url = redis_connection.check_url(redis_connection.resolve_url(getattr(settings, "redis_url", None)))
        self.prefix = ev.check_prefix(getattr(settings, "redis_prefix", None)
                                      or os.environ.get(PREFIX_ENV) or ev.DEFAULT_PREFIX)
        # Blocking client (snapshot, runs list) used from worker threads.
        self.client = redis_connection.redis_client(self.redis_url, timeout=10)
        self.fleet = progress_snapshot.FleetMembership(getattr(settings, "database_url", None))
        self._hubs = None

    @property
    def hubs(self):
        """The hub manager, made on first use inside the server's event loop."""
        if self._hubs is None:
            client = redis_connection.async_redis_client(
                self.redis_url, timeout=progress_stream.BLOCK_MS / 1000 + 10, connect_timeout=5)
            self._hubs = progress_stream.HubManager(client, self.prefix)
        return self._hubs

    def keys(self, run_id):
        try:
            return ev.RunKeys(self.prefix, run_id)
        except CratonError as e:
            raise ApiError(400, str(e)) from None


def progress_of(request: Request) -> Progress:
    state = request.app.state
    if getattr(state, "progress", None) is None:
        try:
            state.progress = Progress(state.settings)
        except CratonError as e:
            raise ApiError(503, "progress page: %s" % e) from None
    return state.progress


def _token(request):
    header = request.headers.get("authorization") or ""
    scheme, _sep, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-auth-token") or request.cookies.get(COOKIE)


def check_token(request, token):
    """The principal of ``token`` if it may watch runs, else ApiError (401/403)."""
    if not token:
        raise ApiError(401, "missing API token: send Authorization: Bearer TOKEN, or open the page once "
                            "with ?token=TOKEN (kept in a cookie)")
    principal = request.app.state.authenticator.authenticate(token)
    if principal is None:
        raise ApiError(401, "invalid API token (unknown, revoked, or of a deleted tenant)")
    if not principal.is_global:
        raise ApiError(403, "run progress is not tenant-scoped: use a token of all tenants (any role)")
    return principal


def require_watcher(request: Request):
    """The dependency of every progress route: the REST API's token, or the page's cookie."""
    return check_token(request, _token(request))


# --- pages --------------------------------------------------------------------------

def _page(request, name):
    """A page of server/static, or: set the cookie from ?token= and redirect without it."""
    token = request.query_params.get("token")
    if token:
        try:
            check_token(request, token)
        except ApiError as e:
            return _error_page(e)
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        url = request.url.path + ("?" + urlencode(query) if query else "")
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path=PREFIX,
                            secure=request.url.scheme == "https")
        return response
    try:
        check_token(request, _token(request))
    except ApiError as e:
        return _error_page(e)
    with open(os.path.join(STATIC_DIR, name), encoding="utf-8") as f:
        html = f.read().replace("{{base}}", request.scope.get("root_path", "") + PREFIX)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _error_page(error):
    return HTMLResponse("<!doctype html><title>craton: %d</title><p>%s</p>"
                        % (error.status, _escape(error.message)), status_code=error.status)


def _escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@router.get("/", response_class=HTMLResponse)
def runs_page(request: Request):
    return _page(request, "runs.html")


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str):
    return _page(request, "run.html")


# --- JSON -------------------------------------------------------------------------

@router.get("/api/runs")
async def runs_json(request: Request, limit: int = 100, _principal=Depends(require_watcher)):
    progress = progress_of(request)
    if not 1 <= limit <= 1000:
        raise ApiError(400, "limit must be between 1 and 1000, not %d" % limit)
    runs = await _redis(progress, progress_snapshot.list_runs, progress.client, progress.prefix, limit)
    return JSONResponse({"runs": runs})


@router.get("/api/runs/{run_id}")
async def run_json(request: Request, run_id: str, _principal=Depends(require_watcher)):
    progress = progress_of(request)
    keys = progress.keys(run_id)
    snap = await _redis(progress, progress_snapshot.snapshot, progress.client, keys, progress.fleet)
    return JSONResponse(snap)


async def _redis(progress, function, *args):
    """Run a blocking reader in a worker thread; Redis and craton errors become 503/404."""
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except progress_snapshot.RunNotFound as e:
        raise ApiError(404, str(e)) from None
    except CratonError as e:
        raise ApiError(503, str(e)) from None
    except Exception as e:  # pylint: disable=broad-except
        if type(e).__module__.startswith("redis"):
            raise ApiError(503, "Redis at %s: %s" % (redis_connection.safe_redis_url(progress.redis_url), e)) from None
        raise


# --- Server-Sent Events ------------------------------------------------------------

@router.get("/api/runs/{run_id}/events")
async def run_events(request: Request, run_id: str, after: str | None = None,
                     _principal=Depends(require_watcher)):
    """The run's stream from ``Last-Event-ID`` (a reconnecting EventSource sends it), else
    ``after``, else its beginning; exclusive. A finished run: what is left, then ``end``."""
    progress = progress_of(request)
    keys = progress.keys(run_id)
    raw = request.headers.get("last-event-id") or after
    position = progress_stream.parse_id(raw)
    if position is None:
        raise ApiError(400, "invalid stream position %r: use a Redis stream id such as 1712345678901-0" % raw)
    hubs = progress.hubs
    try:
        exists = await hubs.client.exists(keys.summary)
    except Exception as e:  # pylint: disable=broad-except
        raise ApiError(503, "Redis at %s: %s" % (redis_connection.safe_redis_url(progress.redis_url), e)) from None
    if not exists:
        raise ApiError(404, "no run %s in Redis (unknown, or expired)" % run_id)

    async def snapshot():
        return await anyio.to_thread.run_sync(progress_snapshot.snapshot, progress.client, keys, progress.fleet)

    async def body():
        yield ("retry: %d\n\n" % SSE_RETRY_MS).encode()
        async for chunk in progress_stream.stream_run(hubs, run_id, position, snapshot):
            yield chunk

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def install(app):
    """Add the progress page to ``app``: its routes and its static files."""
    app.include_router(router)
    app.mount(PREFIX + "/static", StaticFiles(directory=STATIC_DIR), name="progress-static")
