# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live run updates for the progress page: the run's Redis stream as Server-Sent Events.

One :class:`RunHub` per watched run tails the run's stream (``XREAD COUNT ..
BLOCK ..``) and turns each read into **one batch message**, encoded once and
handed to every subscriber: the events (decoded with ``events.decode_event``,
each with its stream ``id``), the current state of every host the events name
(all hosts after a run/playbook/play start or end, when Ansible announces hosts
or writes final statuses) and the run summary. The SSE ``id:`` of a message is
the stream id of its last event.

A client that connects with a position (``Last-Event-ID``, or ``after`` on a
first connection) first catches up from Redis (``XRANGE (position +``), then
takes the hub's batches, skipping what it already sent, so a reconnect has no
gap and no duplicate. When the position is older than the stream's first entry
and the stream was trimmed (``stream_maxlen``), the gap cannot be filled from
events: the client gets a ``reset`` message with a full snapshot instead.

Messages (``event:`` names): ``batch`` (JSON ``{"first", "last", "events",
"hosts", "summary"}``), ``reset`` (a snapshot, see progress_snapshot), ``end``
(the run is finished and everything was sent; the server closes the stream),
a ``: live`` comment once the catch-up is done, and ``: keep-alive`` comments.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from ansible_collections.craton.fleet.plugins.module_utils import events as ev

LOG = logging.getLogger("craton.progress")

# Event types after which every host's state may have changed (hosts announced,
# final statuses from the recap): the batch carries all host states.
ALL_HOSTS_EVENTS = frozenset(("run_start", "playbook_start", "play_start", "playbook_end", "run_end"))
READ_COUNT = 2000          # events per XREAD / XRANGE
BLOCK_MS = 1000            # XREAD BLOCK
MIN_INTERVAL = 0.1         # at most 10 batch messages per second per run
KEEPALIVE = 15.0           # seconds between keep-alive comments
IDLE_STOP = 10.0           # a hub with no subscriber stops after this
MAX_QUEUE = 300            # batches a slow subscriber may owe before it is dropped
ZERO_ID = "0-0"


def parse_id(stream_id):
    """A stream id as a comparable tuple; None for something that is not one."""
    if stream_id in (None, "", "-", "0"):
        return (0, 0)
    try:
        ms, _sep, seq = str(stream_id).partition("-")
        return (int(ms), int(seq or 0))
    except ValueError:
        return None


def format_id(parsed):
    return "%d-%d" % parsed


def _dumps(data):
    return json.dumps(data, separators=(",", ":"), default=str)


def sse(event, data, event_id=None):
    """One SSE message as bytes (``data`` is JSON on one line)."""
    head = "id: %s\n" % event_id if event_id else ""
    return ("%sevent: %s\ndata: %s\n\n" % (head, event, _dumps(data))).encode("utf-8")


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _host_state(raw):
    try:
        return json.loads(_text(raw))
    except (TypeError, ValueError):
        return {"status": "pending", "msg": "unreadable host state"}


class Batch:
    """One read of the stream: the encoded ``batch`` message, its first and last ids, the decoded events."""

    __slots__ = ("message", "first", "last", "events", "finished")

    def __init__(self, message, first, last, events, finished):
        self.message, self.first, self.last, self.events, self.finished = message, first, last, events, finished


async def read_batch(client, keys, entries, cache=None):
    """The :class:`Batch` for stream entries ``[(stream id, fields), ...]`` (not empty).

    Reads the summary and the states of the hosts the events name (every host's
    after a start or end event) in one round trip, after the events: the states
    are at least as new as the events.

    ``cache`` (the hub's: host name -> the raw state it last sent) makes an
    every-host read send only the hosts whose state changed since: ``craton run``
    has one playbook (so start and end events) per host or batch, and a run of
    10,000 hosts must not send 10,000 states each time. A client only ever gets
    hub batches read after its own catch-up, so what the cache leaves out is what
    the client already has."""
    events = []
    named = {}
    all_hosts = False
    for stream_id, fields in entries:
        event = ev.decode_event(fields)
        event["id"] = _text(stream_id)
        events.append(event)
        host = event.get("host")
        if host:
            named[host] = None
        if event.get("type") in ALL_HOSTS_EVENTS:
            all_hosts = True
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.summary)
    if all_hosts:
        pipe.hgetall(keys.hosts)
    elif named:
        pipe.hmget(keys.hosts, list(named))
    results = await pipe.execute()
    summary = ev.decode_summary(results[0])
    if all_hosts:
        raw = {_text(k): v for k, v in results[1].items()}
        if cache is not None:
            changed = {name: value for name, value in raw.items()
                       if name in named or cache.get(name) != value}
            cache.update(changed)
            raw = changed
    elif named:
        raw = {name: value for name, value in zip(named, results[1]) if value is not None}
        if cache is not None:
            cache.update(raw)
    else:
        raw = {}
    hosts = {name: _host_state(value) for name, value in raw.items()}
    first, last = events[0]["id"], events[-1]["id"]
    data = {"first": first, "last": last, "events": events, "hosts": hosts, "summary": summary}
    return Batch(sse("batch", data, last), parse_id(first), parse_id(last), events,
                 summary.get("state") == "finished")


END = object()  # queued to subscribers when the run is finished and fully sent


class RunHub:
    """Tails one run's stream and fans each batch out to its subscribers' queues."""

    def __init__(self, manager, keys):
        self.manager = manager
        self.keys = keys
        self.subscribers = set()
        self.task = None
        self.cursor = None
        self.ready = asyncio.Event()
        self.idle_since = time.monotonic()
        self.hosts_sent = {}  # host name -> raw state last broadcast (read_batch's cache)

    def subscribe(self):
        queue = asyncio.Queue()
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue):
        self.subscribers.discard(queue)
        if not self.subscribers:
            self.idle_since = time.monotonic()

    def _broadcast(self, item):
        for queue in list(self.subscribers):
            if item is not None and item is not END and queue.qsize() >= MAX_QUEUE:
                # A client that does not keep up is dropped; its browser reconnects
                # with Last-Event-ID and catches up from Redis.
                self.subscribers.discard(queue)
                queue.put_nowait(None)
                continue
            queue.put_nowait(item)

    async def run(self):
        client = self.manager.client
        keys = self.keys
        try:
            # The cursor is known before any subscriber catches up (they wait for
            # ``ready``): the catch-up reads past it, the hub from it: no gap.
            last = await client.xrevrange(keys.events, count=1)
            self.cursor = _text(last[0][0]) if last else ZERO_ID
            self.ready.set()
            finished_seen = False
            sent_at = 0.0
            while True:
                if not self.subscribers and time.monotonic() - self.idle_since > IDLE_STOP:
                    return
                wait = MIN_INTERVAL - (time.monotonic() - sent_at)
                if wait > 0:
                    await asyncio.sleep(wait)  # let events accumulate: fewer, bigger messages
                reply = await client.xread({keys.events: self.cursor}, count=READ_COUNT,
                                           block=1 if finished_seen else BLOCK_MS)
                entries = reply[0][1] if reply else []
                if entries:
                    batch = await read_batch(client, keys, entries, self.hosts_sent)
                    self.cursor = format_id(batch.last)
                    finished_seen = batch.finished
                    self._broadcast(batch)
                    sent_at = time.monotonic()
                    continue
                if finished_seen:
                    # Finished before this read, and nothing came after: all sent.
                    self._broadcast(END)
                    return
                summary = ev.decode_summary(await client.hgetall(keys.summary))
                finished_seen = summary.get("state") == "finished"
        except asyncio.CancelledError:
            raise
        except Exception as e:  # pylint: disable=broad-except
            LOG.warning("progress: reading run %s stopped: %s: %s", keys.run_id, type(e).__name__, e)
            self._broadcast(None)
        finally:
            self.ready.set()
            self.manager.hub_done(self)


class HubManager:
    """The hubs of one server process, one per watched run; owns the asyncio Redis client."""

    def __init__(self, client, prefix):
        self.client = client
        self.prefix = prefix
        self.hubs = {}

    def keys(self, run_id):
        return ev.RunKeys(self.prefix, run_id)

    def hub(self, run_id):
        hub = self.hubs.get(run_id)
        if hub is None or hub.task is None or hub.task.done():
            hub = RunHub(self, self.keys(run_id))
            self.hubs[run_id] = hub
            hub.task = asyncio.get_running_loop().create_task(hub.run())
        return hub

    def hub_done(self, hub):
        if self.hubs.get(hub.keys.run_id) is hub:
            del self.hubs[hub.keys.run_id]

    async def close(self):
        for hub in list(self.hubs.values()):
            if hub.task is not None:
                hub.task.cancel()
        self.hubs.clear()
        await self.client.aclose()


async def trimmed_after(client, keys, position):
    """Whether events after ``position`` are gone (stream cap, or a Redis that lost its data).

    True when the stream's first entry is newer than ``position`` and fewer entries
    are left than were written (``events_sent`` of the summary)."""
    pipe = client.pipeline(transaction=False)
    pipe.xrange(keys.events, count=1)
    pipe.xlen(keys.events)
    pipe.hget(keys.summary, "events_sent")
    first, length, written = await pipe.execute()
    if not first or parse_id(_text(first[0][0])) <= position:
        return False
    try:
        return int(written or 0) > length
    except ValueError:
        return False


async def stream_run(manager, run_id, position, snapshot, keepalive=KEEPALIVE):
    """Async generator of SSE bytes for one client, from the stream id ``position`` (exclusive).

    ``snapshot()`` is an async callable returning the snapshot dict of the run
    (progress_snapshot), sent as a ``reset`` when the stream was trimmed past ``position``."""
    client = manager.client
    keys = manager.keys(run_id)
    hub = manager.hub(run_id)
    queue = hub.subscribe()
    try:
        await hub.ready.wait()
        sent = position
        # What this connection sent of each host: a catch-up over many playbooks' start and
        # end events sends every host once, then only changes.
        sent_hosts = {}
        if await trimmed_after(client, keys, position):
            snap = await snapshot()
            sent = parse_id(snap["last_id"])
            yield sse("reset", snap, snap["last_id"])
        summary = ev.decode_summary(await client.hgetall(keys.summary))
        finished_before = summary.get("state") == "finished"
        # Catch up from Redis: everything after the client's position, in batches.
        while True:
            start = "(" + format_id(sent) if sent != (0, 0) else "-"
            entries = await client.xrange(keys.events, min=start, max="+", count=READ_COUNT)
            if not entries:
                break
            batch = await read_batch(client, keys, entries, sent_hosts)
            sent = batch.last
            yield batch.message
        if finished_before:
            yield sse("end", {"state": "finished", "last": format_id(sent)})
            return
        # Then the hub's batches, without what the catch-up already sent.
        yield b": live\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), keepalive)
            except asyncio.TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if item is None:
                return  # dropped (too slow) or the hub failed: the client reconnects
            if item is END:
                yield sse("end", {"state": "finished", "last": format_id(sent)})
                return
            if item.last <= sent:
                continue
            if item.first <= sent:
                # Partly sent by the catch-up: send the rest (read again, with fresh state).
                rest = [e["id"] for e in item.events if parse_id(e["id"]) > sent]
                entries = await client.xrange(keys.events, min=rest[0], max=rest[-1])
                if entries:
                    batch = await read_batch(client, keys, entries, sent_hosts)
                    sent = batch.last
                    yield batch.message
                continue
            sent = item.last
            yield item.message
    finally:
        hub.unsubscribe(queue)
