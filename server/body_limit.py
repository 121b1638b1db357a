# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ASGI middleware: request bodies over the size limit get 413 before any route runs.

A declared ``Content-Length`` over the limit is refused at once; a chunked body is
counted as it arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.server.errors import error_response


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Wrap an ASGI app; ``max_bytes`` is the largest accepted request body."""

    def __init__(self, app, max_bytes):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = "request body too large: the limit is %d bytes" % self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await error_response(413, message)(scope, receive, send)
                    return
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge()
            return event

        async def tracking_send(event):
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
            await send(event)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await error_response(413, message)(scope, receive, send)
