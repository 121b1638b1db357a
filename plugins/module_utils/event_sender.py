# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sending run events to Redis off the caller's hot path.

:class:`EventSender` is what a writer (the callback, the driver) talks to. The
caller's side only appends to memory: :meth:`EventSender.emit` numbers an event
and queues it, :meth:`EventSender.set_host` records a host's latest state,
:meth:`EventSender.register_hosts` announces hosts as pending. A background
thread takes what accumulated every ``interval`` seconds (0.5 by default) and writes it with
:func:`events.write_batch` (one pipelined round trip per batch of up to
``batch_size`` events).

When Redis is slow or down, events wait in memory, at most ``buffer_size`` of
them; events made while the buffer is full are dropped (the newest are dropped,
the buffered older ones are kept) and counted in ``events_dropped`` of the run
summary. ``run_start`` and ``run_end`` are never dropped. Host states and the
run's description are state, not events: only the latest value is kept, so
they are never dropped, and after an outage (Redis may have restarted empty)
all of them are written again, with the run's description and index entry
(otherwise written with the first batch only). Delivery is at least once: a batch whose reply
was lost is sent again, so readers may see an event twice (same writer, same
``seq``).

Nothing here raises to the caller or writes to the terminal: problems become
notices (``("warning" | "info", text)``) that the caller takes with
:meth:`EventSender.take_notices` and shows from its own thread.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque

from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils.redis_connection import replicas_to_wait_for

ALWAYS_KEPT = frozenset(("run_start", "run_end"))


class EventSender:  # pylint: disable=too-many-instance-attributes
    """A bounded buffer of events and host states, and the thread that writes them."""

    def __init__(self, connect, keys, source, writer_info=None, run_info=None,
                 maxlen=ev.DEFAULT_STREAM_MAXLEN, buffer_size=10000,
                 retention_days=ev.DEFAULT_RETENTION_DAYS, batch_size=1000, interval=0.5,
                 retry_max=2.0, describe="Redis"):
        self._connect = connect
        self.keys = keys
        self.source = source
        self.writer = ev.new_writer_id()
        self.started_at = time.time()
        self._writer_state = dict(writer_info or {}, source=source, started_at=round(self.started_at, 3))
        # Summary fields set only if absent: the first writer's description wins,
        # and every counter exists (0) from the first write on.
        self._run_setnx = dict(dict.fromkeys(ev.SUMMARY_COUNTERS, 0), **(run_info or {}))
        self._run_setnx.update(run_id=keys.run_id, source=source, schema=ev.SCHEMA_VERSION,
                               started_at="%.3f" % self.started_at)
        self.maxlen = maxlen
        self.buffer_size = max(int(buffer_size), 1)
        self.retention_days = retention_days
        self.batch_size = batch_size
        self.interval = interval
        self.retry_max = retry_max
        self.describe = describe

        self._lock = threading.Lock()
        self._events = deque()
        self._hosts = {}
        self._dirty = set()
        self._registered = {}
        self._pending = []
        self.made = 0
        self.sent = 0
        self.dropped = 0
        self._running = 1
        self._final_sent = False
        self._resync = False
        self._announce = True    # write the run's description and index entry with the next batch
        self._reported = (0, 0)

        self._closing = threading.Event()
        self._wake = threading.Event()
        self._thread = None
        self._notices = deque()
        self.down = False
        self.outages = 0
        self._timed_out = False
        self._client = None

    # --- the caller's side: memory only ----------------------------------------------

    def emit(self, event_type, host=None, **fields):
        """Number and queue an event; returns its sequence number (also when it is dropped)."""
        with self._lock:
            self.made += 1
            seq = self.made
            if len(self._events) >= self.buffer_size and event_type not in ALWAYS_KEPT:
                self.dropped += 1
                return seq
            self._events.append(ev.make_event(self.keys.run_id, seq, event_type, self.source,
                                              self.writer, host=host, **fields))
        return seq

    def set_host(self, name, state):
        """Record the latest state (a dict, not modified afterwards) of a host."""
        with self._lock:
            self._hosts[name] = state
            self._dirty.add(name)

    def register_hosts(self, names):
        """Announce hosts of the run: pending unless the run already knows them."""
        with self._lock:
            for name in names:
                if name not in self._registered:
                    self._registered[name] = True
                    self._pending.append(name)

    def update_writer(self, **fields):
        """Add fields to this writer's description (in the run's writers hash)."""
        with self._lock:
            self._writer_state.update(fields)

    def take_notices(self):
        """The notices since the last call: ``[("warning" | "info", text), ...]``."""
        out = []
        while self._notices:
            out.append(self._notices.popleft())
        return out

    @property
    def unsent(self):
        """Events made but neither written nor dropped (still in memory)."""
        return len(self._events)

    def start(self):
        """Start the background thread (a daemon: it never keeps a process alive)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="craton-event-sender", daemon=True)
            self._thread.start()

    @property
    def has_notices(self):
        """True when :meth:`take_notices` has something (cheap enough for a hot path)."""
        return bool(self._notices)

    @property
    def writer_state(self):
        """A copy of this writer's description."""
        with self._lock:
            return dict(self._writer_state)

    def begin_close(self):
        """Ask the thread to write what is left and stop; returns at once (see :meth:`wait`)."""
        self._closing.set()
        self._wake.set()

    def wait(self, timeout):
        """Wait at most ``timeout`` seconds for the thread to finish; True when all was written.

        If the last attempt timed out (a Redis that does not answer), it is not
        waited for again."""
        self.begin_close()
        if self._thread is None:
            return not self._events
        self._thread.join(0.05 if (self.down and self._timed_out) else timeout)
        return not self._thread.is_alive() and not self._events and self._final_sent

    def close(self, timeout):
        """:meth:`begin_close` and :meth:`wait`."""
        self.begin_close()
        return self.wait(timeout)

    # --- the background thread --------------------------------------------------------

    def _has_work(self):
        # Also when only the counts changed (events dropped since the last write),
        # so that the summary always catches up with what this writer made.
        return bool(self._events or self._dirty or self._pending
                    or (self.made, self.dropped) != self._reported
                    or (self._closing.is_set() and not self._final_sent))

    def _run(self):
        delay = self.interval
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            closing = self._closing.is_set()
            if closing and self.down and self._timed_out:
                return
            if not self._has_work():
                if closing:
                    return
                delay = self.interval
                continue
            try:
                while self._has_work():
                    self._send_one()
            except Exception as e:  # pylint: disable=broad-except
                # Whatever goes wrong (connection, timeout, TLS, a server error),
                # the caller must not notice beyond one notice per outage.
                self._failed(e)
                if closing:
                    return
                delay = min(max(delay * 2, 0.25), self.retry_max)
                continue
            if self.down:
                self._recovered()
            delay = self.interval
            if closing:
                return

    def _send_one(self):
        if self._client is None:
            self._client = self._connect()
        if self.down:
            # A cheap probe before building a batch of everything buffered during the outage.
            self._client.ping()
        with self._lock:
            if self._resync:
                # After an outage Redis may have restarted empty: write every
                # host's state and registration again along with the events.
                self._resync = False
                self._dirty.update(self._hosts)
                self._pending = list(self._registered)
            events = list(itertools.islice(self._events, 0, self.batch_size))
            last = self._closing.is_set() and len(events) == len(self._events)
            dirty, self._dirty = self._dirty, set()
            hosts = {name: self._hosts[name] for name in dirty}
            pending, self._pending = self._pending, []
            counts = {"events": self.made, "events_sent": self.sent + len(events),
                      "events_dropped": self.dropped, "writers_running": 0 if last else self._running}
            writer_state = dict(self._writer_state, writer=self.writer, running=not last,
                                sender_cpu=round(time.thread_time(), 4))
        announce = self._announce
        batch = ev.build_batch(self.writer, writer_state, counts, events=events, hosts=hosts,
                               pending=pending, run_setnx=self._run_setnx if announce else None,
                               maxlen=self.maxlen, retention_days=self.retention_days)
        try:
            ev.write_batch(self._client, self.keys, batch, self.started_at, self.retention_days, index=announce,
                           **self._replicas())
        except BaseException:
            with self._lock:
                self._dirty |= dirty
                self._pending = pending + self._pending
            raise
        with self._lock:
            for _event in events:
                self._events.popleft()
            self.sent += len(events)
            self._announce = False
            self._reported = (counts["events"], counts["events_dropped"])
            if last:
                self._final_sent = True

    def _replicas(self):
        """With a URL's ``wait_replicas=N``: a batch counts as written once N replicas have it
        (WAIT, at most half the client's socket timeout); else it is kept and sent again."""
        wanted = replicas_to_wait_for(self._client)
        if not wanted:
            return {}
        socket_timeout = self._client.connection_pool.connection_kwargs.get("socket_timeout") or 2.0
        return {"wait_replicas": wanted, "wait_ms": max(int(socket_timeout * 500), 1)}

    def _failed(self, error):
        self._resync = True
        self._announce = True
        self._timed_out = "timeout" in type(error).__name__.lower() or "timed out" in str(error).lower()
        if not self.down:
            self.down = True
            self.outages += 1
            self._notices.append(("warning", "cannot write events to %s (%s). The playbook is not affected: "
                                  "up to %d events are kept in memory and sent when Redis answers again, "
                                  "later ones are dropped and counted in the run summary"
                                  % (self.describe, _one_line(error), self.buffer_size)))
        try:
            if self._client is not None:
                self._client.connection_pool.disconnect()
        except Exception:  # pylint: disable=broad-except
            pass

    def _recovered(self):
        self.down = False
        self._timed_out = False
        self._notices.append(("info", "%s answers again; buffered events were sent" % self.describe))


def _one_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
