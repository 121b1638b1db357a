# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One JSON error format for every error of the API.

Every 4xx/5xx response body is::

    {"error": {"status": 404, "title": "Not Found", "message": "host 12 does not exist"}}

Mapping: malformed JSON 400; missing or invalid token 401; role too low 403;
unknown object, or an object of another tenant, 404; a name taken or a change
that breaks an invariant (group cycle) 409; body over the size limit 413;
wrong types, unknown fields and invalid values (names, keys, secrets) 422; the
database unusable 503; the server overloaded (no pooled connection free in time,
too many archives at once) 503 with ``Retry-After``. ``NotFound``, ``Conflict`` and ``CratonError`` raised by
module_utils map to 404, 409 and 422.
"""

from __future__ import annotations

import http
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from ansible_collections.craton.fleet.plugins.module_utils.errors import (
    Conflict, CratonError, NotFound, SchemaOutdated, Unavailable)

LOG = logging.getLogger("craton.server")


class ApiError(Exception):
    """Raise in a route to answer with ``status`` and ``message`` in the error format."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or ({"WWW-Authenticate": "Bearer"} if status == 401 else None)


class ErrorDetail(BaseModel):
    """The error: HTTP status, its title, and what is wrong."""

    model_config = ConfigDict(extra="forbid")
    status: int
    title: str
    message: str


class ErrorBody(BaseModel):
    """Every error response."""

    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


def _response(status, message, headers=None):
    title = http.HTTPStatus(status).phrase
    return JSONResponse({"error": {"status": status, "title": title, "message": message}},
                        status_code=status, headers=headers)


def error_response(status, message, headers=None):
    """A JSONResponse in the error format (also for middleware)."""
    return _response(status, message, headers)


def status_of(error):
    """The HTTP status of a module_utils error."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, (Unavailable, SchemaOutdated)):
        return 503
    return 422


def _location(loc):
    parts = [str(p) for p in loc if p not in ("body",)] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "body"


def validation_message(errors):
    """One line naming every invalid field: ``name: Field required; port: ...``."""
    seen = []
    for err in errors:
        where = _location(err.get("loc", ()))
        text = "%s: %s" % (where, err.get("msg", "invalid"))
        if text not in seen:
            seen.append(text)
    return "; ".join(seen[:10]) or "invalid request"


def install(app: FastAPI):
    """Register the handlers that give every error the one format."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return _response(exc.status, exc.message, exc.headers)

    @app.exception_handler(CratonError)
    async def _craton_error(_request: Request, exc: CratonError):
        return _response(status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = next(e for e in errors if e.get("type") == "json_invalid")
            ctx = detail.get("ctx") or {}
            return _response(400, "malformed JSON in the request body: %s" % (ctx.get("error") or detail.get("msg")))
        return _response(422, validation_message(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = "no such path"
        return _response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(sa_exc.TimeoutError)
    async def _pool_timeout(_request: Request, exc: sa_exc.TimeoutError):  # pylint: disable=unused-argument
        # Every pooled database connection stayed busy for the pool's whole timeout: overload,
        # not a fault of the request and not a bug to hide behind a 500.
        LOG.warning("database connection pool exhausted: %s", str(exc).splitlines()[0])
        return _response(503, "the server is overloaded: no database connection became free in time; retry later",
                         {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        LOG.exception("unexpected error")
        return _response(500, "internal error (%s); see the server log" % type(exc).__name__)


# The error responses every route may give, for the OpenAPI document.
def responses(*codes):
    """``responses=`` for a route: the error format under each status code."""
    return {code: {"model": ErrorBody, "description": http.HTTPStatus(code).phrase} for code in codes}
