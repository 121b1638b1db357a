# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jobboard claims that lapse when their conductor dies: an expiry kept alive by a heartbeat.

TaskFlow's Redis jobboard stores a claim as the job's owner key (``<job>.owned``); a
TaskFlow conductor claims *without* an expiry, so the claim of a conductor that died
stays for ever. :class:`ExpiringClaims` wraps the board given to a conductor: every
claim is made with an expiry (``ttl`` seconds, Redis ``PEXPIRE`` on the owner key) and
a heartbeat thread renews the claims this process holds every ``ttl / 3`` seconds —
only while the owner key still names this conductor (one Lua script, so a lapsed claim
that another conductor has taken meanwhile is never extended). A conductor killed with
``kill -9`` stops renewing; at most ``ttl`` seconds later the owner key expires and any
other conductor claims the job and resumes it from the persisted state.

A claim found lost (this conductor stalled longer than ``ttl``, or Redis lost the key)
is reported to ``on_lost(job)``; the conductor then suspends that job's engine so that
two conductors do not start the same hosts (playbooks already running finish).
"""

from __future__ import annotations

import threading

# KEYS[1] = the job's owner key; ARGV[1] = our owner value, ARGV[2] = expiry in ms
RENEW_SCRIPT = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("pexpire", KEYS[1], ARGV[2])
end
return 0
"""


class ExpiringClaims:
    """A jobboard whose claims expire unless renewed (see the module docstring)."""

    def __init__(self, board, client, ttl, on_lost=None):
        if ttl <= 0:
            raise ValueError("the claim expiry must be positive, not %r" % ttl)
        self._board = board
        self._client = client
        self.ttl = float(ttl)
        self.on_lost = on_lost
        self._held = {}  # job uuid -> (job, who)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    def __getattr__(self, name):
        return getattr(self._board, name)

    # --- the jobboard calls a conductor makes on claimed jobs ------------------------------

    def claim(self, job, who, expiry=None):
        self._board.claim(job, who, expiry=expiry or self.ttl)
        with self._lock:
            self._held[job.uuid] = (job, who)
        self._start()

    def consume(self, job, who):
        self._release(job)
        return self._board.consume(job, who)

    def abandon(self, job, who):
        self._release(job)
        return self._board.abandon(job, who)

    def trash(self, job, who):
        self._release(job)
        return self._board.trash(job, who)

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        return self._board.close()

    # --- heartbeat -------------------------------------------------------------------------

    def held(self):
        with self._lock:
            return [job for job, _who in self._held.values()]

    def _release(self, job):
        with self._lock:
            self._held.pop(job.uuid, None)

    def _start(self):
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._beat, name="craton-claims", daemon=True)
        self._thread.start()

    def renew(self):
        """Renew every claim held; returns the jobs whose claim was lost (and reports them)."""
        with self._lock:
            held = list(self._held.values())
        lost = []
        for job, who in held:
            try:
                renewed = self._client.eval(RENEW_SCRIPT, 1, job.owner_key, who, int(self.ttl * 1000))
            except Exception:  # pylint: disable=broad-except
                continue  # Redis unreachable for a moment: try again on the next beat
            if not renewed:
                self._release(job)
                lost.append(job)
        for job in lost:
            if self.on_lost is not None:
                self.on_lost(job)
        return lost

    def _beat(self):
        while not self._stop.wait(self.ttl / 3.0):
            self.renew()
