# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run event schema in Redis, shared by the callback, the driver and the web page.

This module is the one definition of the keys, the event fields and their
encoding, the per-host status hash, the run summary hash, the runs index and
the stream cap; ``docs/events.md`` describes the same schema for readers.

Per run (``RUN`` is the run id, ``P`` the key prefix, ``craton`` by default)::

    P:runs                  sorted set  run id -> start time (epoch seconds)
    P:run:{RUN}             hash        the run summary
    P:run:{RUN}:hosts       hash        host name -> JSON state of the host
    P:run:{RUN}:events      stream      the events, at most ``maxlen`` entries
    P:run:{RUN}:writers     hash        writer id -> JSON state of one writer

A *writer* is one process that reports into the run: one ``ansible-playbook``
with the callback (source ``callback``) or the driver (source ``driver``).
Several writers may share a run (``CRATON_RUN_ID``). Every write is one
pipelined round trip: a Lua script (:data:`BATCH_SCRIPT`) appends the events,
updates host states and keeps the summary's counters right even when several
writers report at once or Redis lost its data and a writer re-sends its state.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

SCHEMA_VERSION = 1
DEFAULT_PREFIX = "craton"
DEFAULT_STREAM_MAXLEN = 100000
DEFAULT_MESSAGE_SIZE = 256
DEFAULT_RETENTION_DAYS = 7

SOURCES = ("callback", "driver")
# Event type -> the fields it may carry besides the common ones.
EVENT_TYPES = {
    "run_start": ("playbook", "hosts", "user", "controller"),
    "playbook_start": ("playbook", "hosts"),
    "play_start": ("play", "play_id", "hosts"),
    "task_start": ("task", "task_id", "action", "play", "handler"),
    "host_ok": ("task", "task_id", "action", "duration", "rc", "items"),
    "host_changed": ("task", "task_id", "action", "duration", "rc", "items"),
    "host_failed": ("task", "task_id", "action", "duration", "rc", "msg", "ignored", "items", "no_log"),
    "host_unreachable": ("task", "task_id", "action", "duration", "msg", "ignored", "no_log"),
    "host_skipped": ("task", "task_id", "action", "msg", "items"),
    "playbook_end": ("playbook", "results", "totals"),
    "run_end": ("results", "totals", "events", "dropped"),
    # Driver events (craton run): flow and per-host task state changes of TaskFlow.
    "flow_state": ("flow", "state", "msg"),
    "task_state": ("task", "state", "attempt", "msg"),
}
COMMON_FIELDS = ("run", "seq", "ts", "source", "writer", "type", "host")
HOST_EVENT_STATUS = {
    "host_ok": "ok", "host_changed": "changed", "host_failed": "failed",
    "host_unreachable": "unreachable", "host_skipped": "skipped",
}
# Per-host status in the hosts hash: pending until the host's first result,
# running while it has results, one of FINAL_STATUSES once it is done.
FINAL_STATUSES = ("ok", "changed", "failed", "unreachable", "skipped")
HOST_STATUSES = ("pending", "running") + FINAL_STATUSES
# Recap counters of ansible (AggregateStats.summarize) kept per host at the end.
RECAP_KEYS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")

_INT_FIELDS = frozenset(("seq", "hosts", "rc", "events", "dropped", "attempt"))
_FLOAT_FIELDS = frozenset(("ts", "duration"))
_BOOL_FIELDS = frozenset(("handler", "ignored", "no_log"))
_JSON_FIELDS = frozenset(("items", "results", "totals"))

SUMMARY_COUNTERS = (
    ("hosts_expected",) + tuple("hosts_" + s for s in HOST_STATUSES)
    + ("events", "events_sent", "events_dropped", "writers_running"))
SUMMARY_FLOAT_FIELDS = ("started_at", "updated_at", "ended_at")
_SUMMARY_INTS = frozenset(SUMMARY_COUNTERS + ("schema",))

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


# --- names --------------------------------------------------------------------------

def check_run_id(run_id):
    """Return ``run_id`` if it is a valid run id, else raise CratonError."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise CratonError("invalid run id %r: use 1 to 128 letters, digits, '.', '_', ':' or '-', "
                          "starting with a letter or digit" % (run_id,))
    return run_id


def new_run_id(now=None):
    """A fresh run id: UTC start time and a random suffix, e.g. ``20250101T120000Z-3fa9c1``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return "%s-%s" % (stamp, secrets.token_hex(3))


def new_writer_id():
    """A short random id for one writer (one process reporting into a run)."""
    return secrets.token_hex(4)


def check_prefix(prefix):
    """Return the key prefix if usable, else raise CratonError."""
    if not isinstance(prefix, str) or not prefix or any(c in prefix for c in " {}\n\r\t"):
        raise CratonError("invalid Redis key prefix %r: use a non-empty string without spaces or braces"
                          % (prefix,))
    return prefix


class RunKeys:
    """The Redis keys of one run. The run id is a hash tag, so a run lives in one slot."""

    __slots__ = ("prefix", "run_id", "summary", "hosts", "events", "writers", "index")

    def __init__(self, prefix, run_id):
        self.prefix = check_prefix(prefix)
        self.run_id = check_run_id(run_id)
        base = "%s:run:{%s}" % (prefix, run_id)
        self.summary = base
        self.hosts = base + ":hosts"
        self.events = base + ":events"
        self.writers = base + ":writers"
        self.index = index_key(prefix)

    def run_keys(self):
        """The keys the batch script writes, in its KEYS order."""
        return [self.summary, self.hosts, self.events, self.writers]


def index_key(prefix=DEFAULT_PREFIX):
    """The sorted set of runs (run id -> start time)."""
    return "%s:runs" % check_prefix(prefix)


# --- events -------------------------------------------------------------------------

def make_event(run_id, seq, event_type, source, writer, host=None, ts=None, **fields):
    """One event as a dict of Python values; None values are left out.

    Raises CratonError for an unknown type, source or field, so a writer cannot
    invent fields that readers do not know."""
    if event_type not in EVENT_TYPES:
        raise CratonError("unknown event type %r" % (event_type,))
    if source not in SOURCES:
        raise CratonError("unknown event source %r: use one of %s" % (source, ", ".join(SOURCES)))
    allowed = EVENT_TYPES[event_type]
    event = {"run": run_id, "seq": seq, "ts": time.time() if ts is None else ts,
             "source": source, "writer": writer, "type": event_type}
    if host is not None:
        event["host"] = host
    for key, value in fields.items():
        if value is None:
            continue
        if key not in allowed:
            raise CratonError("field %r is not part of a %s event" % (key, event_type))
        event[key] = value
    return event


def _encode_value(key, value):
    if key in _JSON_FIELDS:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if key in _FLOAT_FIELDS:
        return "%.3f" % value
    return str(value)


def encode_event(event):
    """The flat list ``[field, value, ...]`` of strings stored as one stream entry."""
    out = []
    for key, value in event.items():
        out.append(key)
        out.append(_encode_value(key, value))
    return out


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def decode_event(fields):
    """An event dict from a stream entry's fields (bytes or str keys/values)."""
    event = {}
    for key, value in fields.items():
        key, value = _text(key), _text(value)
        try:
            if key in _INT_FIELDS:
                value = int(value)
            elif key in _FLOAT_FIELDS:
                value = float(value)
            elif key in _BOOL_FIELDS:
                value = value == "true"
            elif key in _JSON_FIELDS:
                value = json.loads(value)
        except ValueError:
            pass  # keep what a newer writer sent as text
        event[key] = value
    return event


def truncate(text, size=DEFAULT_MESSAGE_SIZE):
    """``text`` as one string of at most ``size`` characters (an ellipsis marks a cut)."""
    if text is None:
        return None
    text = str(text).strip()
    if len(text) <= size:
        return text
    return text[:max(size - 1, 0)] + "\u2026"


def error_message(result, size=DEFAULT_MESSAGE_SIZE):
    """The short error text of a failed or unreachable task result (a dict), or None.

    ``msg`` when set, else the last non-empty line of ``stderr``, else of ``stdout``;
    for a loop, the first failed item's. The caller must not pass no_log results."""
    if not isinstance(result, dict):
        return None
    msg = result.get("msg")
    if isinstance(result.get("results"), list) and (not msg or msg == "One or more items failed"):
        for item in result["results"]:
            if isinstance(item, dict) and item.get("failed") and not item.get("censored"):
                msg = error_message(item, size) or msg
                break
    if not msg:
        for key in ("stderr", "stdout"):
            lines = [line for line in str(result.get(key) or "").splitlines() if line.strip()]
            if lines:
                msg = lines[-1]
                break
    if not msg and result.get("exception"):
        msg = str(result["exception"]).strip().splitlines()[-1]
    if isinstance(msg, (list, dict)):
        msg = json.dumps(msg, default=str)
    return truncate(msg, size) if msg else None


def summarise_items(results):
    """Counts of a loop's item results: total, ok, changed, failed, skipped, unreachable."""
    counts = {"total": 0, "ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0}
    for item in results:
        counts["total"] += 1
        if not isinstance(item, dict):
            counts["ok"] += 1
        elif item.get("unreachable"):
            counts["unreachable"] += 1
        elif item.get("failed"):
            counts["failed"] += 1
        elif item.get("skipped"):
            counts["skipped"] += 1
        elif item.get("changed"):
            counts["changed"] += 1
        else:
            counts["ok"] += 1
    return {k: v for k, v in counts.items() if v or k == "total"}


# --- host states and the run summary ------------------------------------------------

def final_status(recap):
    """A host's final status from its recap counters (ansible's stats), or None if it did nothing."""
    for key, status in (("unreachable", "unreachable"), ("failures", "failed"),
                        ("changed", "changed"), ("ok", "ok"), ("skipped", "skipped")):
        if recap.get(key):
            return status
    return None


def encode_state(state):
    """A host or writer state as the JSON stored in a hash."""
    return json.dumps(state, separators=(",", ":"), sort_keys=True, default=str)


def decode_summary(raw):
    """The run summary hash as a dict with numbers where numbers belong."""
    summary = {}
    for key, value in raw.items():
        key, value = _text(key), _text(value)
        try:
            if key in _SUMMARY_INTS:
                value = int(value)
            elif key in SUMMARY_FLOAT_FIELDS:
                value = float(value)
        except ValueError:
            pass
        summary[key] = value
    return summary


# --- writing: one pipelined round trip per batch ------------------------------------

# KEYS: summary, hosts, events, writers. ARGV[1]: the batch as JSON (see write_batch).
BATCH_SCRIPT = r"""
local summary, hosts, stream, writers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local b = cjson.decode(ARGV[1])
local function status_of(value)
  if not value then return false end
  local ok, state = pcall(cjson.decode, value)
  if ok and type(state) == 'table' and type(state.status) == 'string' then return state.status end
  return false
end
local function move(old, new)
  if old == new then return end
  if old then redis.call('HINCRBY', summary, 'hosts_' .. old, -1) end
  if new then redis.call('HINCRBY', summary, 'hosts_' .. new, 1) end
end
for k, v in pairs(b.run_setnx) do redis.call('HSETNX', summary, k, v) end
for _, e in ipairs(b.events) do
  redis.call('XADD', stream, 'MAXLEN', b.maxlen, '*', unpack(e))
end
for _, h in ipairs(b.pending) do
  if redis.call('HSETNX', hosts, h, b.pending_state) == 1 then move(false, 'pending') end
end
for i = 1, #b.hosts, 2 do
  local h, s = b.hosts[i], b.hosts[i + 1]
  move(status_of(redis.call('HGET', hosts, h)), status_of(s))
  redis.call('HSET', hosts, h, s)
end
local before = {}
local old = redis.call('HGET', writers, b.writer)
if old then
  local ok, w = pcall(cjson.decode, old)
  if ok and type(w) == 'table' and type(w.counts) == 'table' then before = w.counts end
end
for k, v in pairs(b.counts) do
  local d = v - (tonumber(before[k]) or 0)
  if d ~= 0 then redis.call('HINCRBY', summary, k, d) end
end
redis.call('HSET', writers, b.writer, b.writer_state)
local state = 'finished'
if tonumber(redis.call('HGET', summary, 'writers_running') or '0') > 0 then state = 'running' end
if redis.call('HGET', summary, 'state') ~= state then
  redis.call('HSET', summary, 'state', state)
  if state == 'finished' then redis.call('HSET', summary, 'ended_at', b.now)
  else redis.call('HDEL', summary, 'ended_at') end
end
redis.call('HSET', summary, 'updated_at', b.now, 'hosts_expected', redis.call('HLEN', hosts))
if b.ttl > 0 then
  for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, b.ttl) end
end
return redis.call('XLEN', stream)
"""
BATCH_SCRIPT_SHA = hashlib.sha1(BATCH_SCRIPT.encode("utf-8")).hexdigest()


def build_batch(writer, writer_state, counts, events=(), hosts=None, pending=(), run_setnx=None,
                maxlen=DEFAULT_STREAM_MAXLEN, retention_days=DEFAULT_RETENTION_DAYS, now=None):
    """The JSON document the batch script takes.

    ``events``: event dicts (make_event), appended in order; ``hosts``: host name
    -> state dict (written as is); ``pending``: host names to register as pending
    unless the run already knows them; ``run_setnx``: summary fields set only if
    absent (the first writer's values win); ``counts``: this writer's absolute
    ``events`` / ``events_sent`` / ``events_dropped`` / ``writers_running`` (the
    script adds the difference to what it last reported to the summary);
    ``writer_state``: the writer's own description."""
    now = time.time() if now is None else now
    state = dict(writer_state, counts=counts, updated_at=round(now, 3))
    flat_hosts = []
    for name, host_state in (hosts or {}).items():
        flat_hosts.append(name)
        flat_hosts.append(encode_state(host_state))
    return json.dumps({
        "events": [encode_event(e) for e in events],
        "hosts": flat_hosts,
        "pending": list(pending),
        "pending_state": encode_state({"status": "pending"}),
        "run_setnx": {k: str(v) for k, v in (run_setnx or {}).items() if v is not None},
        "writer": writer,
        "writer_state": encode_state(state),
        "counts": counts,
        "maxlen": int(maxlen),
        "ttl": int(retention_days * 86400) if retention_days else 0,
        "now": "%.3f" % now,
    }, separators=(",", ":"))


class ReplicasBehind(Exception):
    """Fewer replicas than asked for (``wait_replicas``) acknowledged a batch."""


def write_batch(client, keys, batch, started_at, retention_days=DEFAULT_RETENTION_DAYS, index=True,
                wait_replicas=0, wait_ms=1000):
    """Write one batch (build_batch) for the run ``keys`` in one pipelined round trip.

    With ``index``, also indexes the run (``P:runs``, score ``started_at``) and
    prunes runs older than the retention from the index. With ``wait_replicas``,
    the round trip ends with ``WAIT wait_replicas wait_ms`` and ReplicasBehind is
    raised when fewer replicas have the batch. Raises redis errors to the caller."""
    from redis.exceptions import NoScriptError  # pylint: disable=import-outside-toplevel
    for attempt in (1, 2):
        pipe = client.pipeline(transaction=False)
        pipe.evalsha(BATCH_SCRIPT_SHA, 4, *keys.run_keys(), batch)
        if index:
            pipe.zadd(keys.index, {keys.run_id: started_at}, nx=True)
        if index and retention_days:
            pipe.zremrangebyscore(keys.index, "-inf", "(%f" % (time.time() - retention_days * 86400))
        if wait_replicas:
            pipe.execute_command("WAIT", wait_replicas, wait_ms)
        results = pipe.execute(raise_on_error=False)
        if isinstance(results[0], NoScriptError) and attempt == 1:
            client.script_load(BATCH_SCRIPT)
            continue
        for result in results:
            if isinstance(result, Exception):
                raise result
        if wait_replicas and int(results[-1]) < wait_replicas:
            raise ReplicasBehind("%s of %d replicas acknowledged the batch within %d ms (wait_replicas)"
                                 % (results[-1], wait_replicas, wait_ms))
        return results[0]
    raise AssertionError("unreachable")  # pragma: no cover


# --- reading ------------------------------------------------------------------------

def read_summary(client, keys):
    """The run summary (decode_summary), or {} for an unknown run."""
    return decode_summary(client.hgetall(keys.summary))


def read_hosts(client, keys):
    """Host name -> state dict of a run."""
    return {_text(k): json.loads(_text(v)) for k, v in client.hgetall(keys.hosts).items()}


def read_writers(client, keys):
    """Writer id -> state dict of a run."""
    return {_text(k): json.loads(_text(v)) for k, v in client.hgetall(keys.writers).items()}


def read_events(client, keys, after="-", count=None):
    """``[(stream id, event dict), ...]`` after the stream id ``after`` (exclusive), oldest first."""
    start = "-" if after in (None, "-") else "(" + _text(after)
    return [(_text(i), decode_event(f)) for i, f in client.xrange(keys.events, min=start, max="+", count=count)]


def list_runs(client, prefix=DEFAULT_PREFIX, limit=100):
    """``[(run id, started_at), ...]``, newest first."""
    rows = client.zrevrange(index_key(prefix), 0, limit - 1, withscores=True)
    return [(_text(run_id), score) for run_id, score in rows]
