# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ASGI middleware: request bodies over the size limit get 413 before any route runs.

A declared ``Content-Length`` over the limit is refused at once (uvicorn never hands
more bytes than declared to the app); a chunked body is read first, up to the
limit, and refused as soon as it passes it.
"""

from __future__ import annotations

from ansible_collections.craton.fleet.server.errors import error_response


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
        chunked = any(name == b"transfer-encoding" and b"chunked" in value.lower()
                      for name, value in scope.get("headers", ()))
        if not chunked:
            await self.app(scope, receive, send)
            return
        # A body of unknown length: read it (up to the limit) before the app sees it.
        body, more = [], True
        received = 0
        while more:
            event = await receive()
            if event["type"] != "http.request":
                return  # the client went away
            body.append(event.get("body", b""))
            received += len(body[-1])
            more = event.get("more_body", False)
            if received > self.max_bytes:
                await error_response(413, message)(scope, receive, send)
                return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
