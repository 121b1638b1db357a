# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many inventory archives one server process builds at once.

An archive of a big region is seconds of CPU (load, plan, compress) and its whole
inventory in memory. Built all at once, 32 of them in one process share one core
(the GIL), each takes 32 times longer, each holds a database connection while it
loads, and the pool runs dry: requests of every kind waited 30 s for a connection
and failed (issue 7). So each process builds at most ``builds`` archives at a time
(``craton serve --archive-builds``); up to ``queue`` more requests wait for their
turn on the event loop, holding no thread and no connection
(``--archive-queue``); a request beyond that is answered at once with **503** and a
``Retry-After`` estimated from recent builds. A slot is held from the first query
until the last byte is sent (compression happens while streaming) or the client
goes away. Builds run in threads of their own (``builds`` of them at most), never in
the threads of the other database routes (``--threads``): a few archives never hold
up every list call.

The cyclic garbage collector is switched off while any archive loads and plans
(many objects, no cycles; as in the inventory plugin), and on again when the last
one is done: a per-process flag, so it is counted, not toggled per build.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import math
import threading
import time

import anyio
import anyio.to_thread
from starlette.responses import StreamingResponse

from ansible_collections.craton.fleet.server.errors import ApiError

DEFAULT_BUILDS = 2
DEFAULT_QUEUE = 32
RETRY_AFTER_MIN, RETRY_AFTER_MAX = 1, 60


class ArchiveBuilds:
    """At most ``builds`` archives in progress in this process, at most ``queue`` waiting."""

    def __init__(self, builds=DEFAULT_BUILDS, queue=DEFAULT_QUEUE):
        if builds < 1 or queue < 0:
            raise ValueError("archive builds must be at least 1 and the queue 0 or more")
        self.builds = builds
        self.queue = queue
        self._semaphore = asyncio.Semaphore(builds)
        self._waiting = 0
        self._recent = collections.deque(maxlen=16)  # seconds of the last builds (start to last byte)
        self._threads = None  # anyio.CapacityLimiter(builds), made on the event loop

    async def acquire(self):
        """A :class:`Slot` once a build may start; :class:`ApiError` 503 when ``queue`` requests wait already."""
        if self._semaphore.locked() and self._waiting >= self.queue:
            raise ApiError(503, "too many inventory archives requested at once: this server process builds %d "
                                "at a time and %d more are waiting; retry later" % (self.builds, self._waiting),
                           headers={"Retry-After": str(self.retry_after())})
        self._waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        if self._threads is None:
            self._threads = anyio.CapacityLimiter(self.builds)
        return Slot(self)

    def retry_after(self):
        """Seconds until a retry may find room: the builds ahead of it times a recent build's duration."""
        typical = sum(self._recent) / len(self._recent) if self._recent else 1.0
        ahead = (self._waiting + self.builds) / float(self.builds)
        return max(RETRY_AFTER_MIN, min(RETRY_AFTER_MAX, int(math.ceil(typical * ahead))))

    def _done(self, seconds):
        self._recent.append(seconds)
        self._semaphore.release()


class Slot:
    """One archive's turn; :meth:`release` (idempotent) lets the next one start."""

    def __init__(self, owner):
        self._owner = owner
        self._started = time.monotonic()
        self._released = False

    async def run(self, function, *args):
        """``function(*args)`` in one of the archive threads."""
        return await anyio.to_thread.run_sync(function, *args, limiter=self._owner._threads)  # pylint: disable=protected-access

    async def stream(self, chunks):
        """The chunks of the iterator ``chunks``, each produced in one of the archive threads."""
        while True:
            chunk = await self.run(next, chunks, None)
            if chunk is None:
                return
            yield chunk

    def release(self):
        """Give the turn back (on the event loop)."""
        if not self._released:
            self._released = True
            self._owner._done(time.monotonic() - self._started)  # pylint: disable=protected-access


class SlotStreamingResponse(StreamingResponse):
    """A StreamingResponse that gives its archive slot back when it ends, however it ends
    (last byte sent, client gone, server shutting down)."""

    def __init__(self, content, slot, **kwargs):
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


_gc_lock = threading.Lock()
_gc_holders = [0, False]  # builds loading now; whether the collector was on before the first


class NoCyclicGC:
    """``with NoCyclicGC():`` the cyclic collector off while any archive loads (thread-safe, counted)."""

    def __enter__(self):
        with _gc_lock:
            if _gc_holders[0] == 0:
                _gc_holders[1] = gc.isenabled()
                gc.disable()
            _gc_holders[0] += 1
        return self

    def __exit__(self, *exc):
        with _gc_lock:
            _gc_holders[0] -= 1
            if _gc_holders[0] == 0 and _gc_holders[1]:
                gc.enable()
        return False
