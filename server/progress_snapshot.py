# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the progress page shows of a run at one moment, read from Redis (and the fleet database).

Everything here is blocking (the redis client of ``redis_connection`` and the
readers of ``events``: ``read_summary``, ``read_hosts``, ``read_writers``,
``list_runs``); the router runs it in a worker thread.

Regions and groups of the hosts come from the fleet database, through the one
inventory query (``inventory_query.load_inventory``): the events do not carry
them, and the database is where they live. A host of the run that the database
does not know (a static inventory, another tenant's database) counts under the
region ``(not in fleet)`` and in no group. A host's groups are its groups and
their ancestors, as in Ansible. The membership is cached for
:data:`MEMBERSHIP_TTL` seconds per server process.
"""

from __future__ import annotations

import threading
import time

from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

MEMBERSHIP_TTL = 30.0
NO_REGION = "(not in fleet)"
NO_REGION_SET = "(no region)"
RECENT_EVENTS = 50       # the tail of the stream shown in the page's log
DRIVER_SCAN = 2000       # events scanned back for the driver's latest flow/task states
DONE_STATUSES = frozenset(ev.FINAL_STATUSES)


class RunNotFound(CratonError):
    """The run is not in Redis (unknown id, or expired)."""


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def counts_of(states):
    """Hosts by status (every status of ``events.HOST_STATUSES``), plus ``expected`` and ``done``."""
    counts = dict.fromkeys(ev.HOST_STATUSES, 0)
    for state in states:
        status = state.get("status") or "pending"
        counts[status] = counts.get(status, 0) + 1
    counts["expected"] = sum(counts[s] for s in ev.HOST_STATUSES)
    counts["done"] = sum(counts[s] for s in ev.FINAL_STATUSES)
    return counts


def list_runs(client, prefix, limit=100):
    """The runs of the index with their summaries: running first, then newest first."""
    runs = ev.list_runs(client, prefix, limit)
    pipe = client.pipeline(transaction=False)
    for run_id, _score in runs:
        pipe.hgetall(ev.RunKeys(prefix, run_id).summary)
    out = []
    for (run_id, score), raw in zip(runs, pipe.execute() if runs else []):
        if not raw:
            continue  # expired: the index entry outlived the run's keys
        summary = ev.decode_summary(raw)
        summary.setdefault("run_id", run_id)
        summary.setdefault("started_at", score)
        out.append(summary)
    out.sort(key=lambda s: (s.get("state") != "running", -float(s.get("started_at") or 0)))
    return out


class FleetMembership:
    """Region and groups of each host of the fleet database, cached for a while."""

    def __init__(self, database_url, ttl=MEMBERSHIP_TTL):
        self.database_url = database_url
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = None
        self._value = None

    def _load(self):
        from ansible_collections.craton.fleet.plugins.module_utils import db  # pylint: disable=import-outside-toplevel
        from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import (  # pylint: disable=import-outside-toplevel
            load_inventory)
        with db.transaction(self.database_url) as session:
            inventory = load_inventory(session, {"active_only": False})
        parents = {}
        for group in inventory["groups"]:
            for child in group.get("children") or ():
                parents.setdefault(child, set()).add(group["name"])

        def with_ancestors(names):
            seen, todo = set(), list(names)
            while todo:
                name = todo.pop()
                if name not in seen:
                    seen.add(name)
                    todo.extend(parents.get(name, ()))
            return sorted(seen)

        hosts = {h["name"]: (h.get("region"), with_ancestors(h.get("groups") or ())) for h in inventory["hosts"]}
        return {"hosts": hosts, "error": None}

    def get(self):
        """``{"hosts": {name: (region, [groups])}, "error": None or a message}``."""
        with self._lock:
            now = time.monotonic()
            if self._value is None or now - self._loaded_at > self.ttl:
                try:
                    self._value = self._load()
                except CratonError as e:
                    self._value = {"hosts": {}, "error": str(e)}
                except Exception as e:  # pylint: disable=broad-except
                    self._value = {"hosts": {}, "error": "%s: %s" % (type(e).__name__, e)}
                self._loaded_at = now
            return self._value


def membership_of(hosts, fleet):
    """Regions and groups of the run's hosts: ``{"regions": {region: [hosts]}, "groups": {group: [hosts]},
    "error": ...}``."""
    known = fleet["hosts"]
    regions, groups = {}, {}
    for name in sorted(hosts):
        if name in known:
            region, host_groups = known[name]
            region = region or NO_REGION_SET
        else:
            region, host_groups = NO_REGION, ()
        regions.setdefault(region, []).append(name)
        for group in host_groups:
            groups.setdefault(group, []).append(name)
    return {"regions": regions, "groups": groups, "error": fleet["error"]}


def aggregates(hosts, membership):
    """Counts per region and per group (counts_of of their hosts)."""
    out = {}
    for kind in ("regions", "groups"):
        out[kind] = {name: counts_of(hosts[h] for h in members if h in hosts)
                     for name, members in sorted(membership[kind].items())}
    return out


def _recent(client, keys, count):
    """The newest ``count`` events, oldest first, each with its stream ``id``."""
    out = []
    for stream_id, fields in reversed(client.xrevrange(keys.events, count=count)):
        event = ev.decode_event(fields)
        event["id"] = _text(stream_id)
        out.append(event)
    return out


def driver_state(writers, tail):
    """The driver's part (``craton run``): its writers, the latest ``flow_state`` of each flow, the
    latest ``task_state`` per host (tasks of one host) and per TaskFlow task (batches too), as
    found in the newest :data:`DRIVER_SCAN` events; the page keeps them up to date from the stream."""
    flows, tasks, by_task = {}, {}, {}
    for event in tail:
        if event.get("type") == "flow_state":
            flows[event.get("flow") or ""] = event
        elif event.get("type") == "task_state":
            by_task[event.get("task") or ""] = event
            if event.get("host"):
                tasks[event["host"]] = event
    return {"writers": {k: w for k, w in writers.items() if w.get("source") == "driver"},
            "flows": flows, "tasks": tasks, "by_task": by_task}


def snapshot(client, keys, fleet):
    """The whole state of a run: summary, hosts, writers, driver, membership, aggregates, recent events.

    ``last_id`` is the stream's last id read *before* the state, so a client that
    streams from it (``after=last_id``) misses no change: every later event comes
    with the then-current state of the hosts it names."""
    last = client.xrevrange(keys.events, count=1)
    last_id = _text(last[0][0]) if last else "0-0"
    summary = ev.read_summary(client, keys)
    if not summary:
        raise RunNotFound("no run %s in Redis (unknown, or expired)" % keys.run_id)
    hosts = ev.read_hosts(client, keys)
    writers = ev.read_writers(client, keys)
    tail = _recent(client, keys, DRIVER_SCAN)
    membership = membership_of(hosts, fleet.get() if fleet is not None else {"hosts": {}, "error": None})
    return {
        "run_id": keys.run_id,
        "last_id": last_id,
        "summary": summary,
        "counts": counts_of(hosts.values()),
        "hosts": hosts,
        "writers": writers,
        "driver": driver_state(writers, tail),
        "membership": membership,
        "aggregates": aggregates(hosts, membership),
        "recent": [e for e in tail[-RECENT_EVENTS:] if parse_le(e["id"], last_id)],
    }


def parse_le(a, b):
    """Stream id ``a`` <= ``b``."""
    def parse(x):
        ms, _s, seq = x.partition("-")
        return int(ms), int(seq or 0)
    return parse(a) <= parse(b)
