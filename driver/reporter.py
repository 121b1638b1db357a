# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TaskFlow's notifications to the run's Redis stream, and the run's tally of host results.

The driver is one *writer* of the run (source ``driver``) through the shared
:class:`~ansible_collections.craton.fleet.plugins.module_utils.event_sender.EventSender`;
the events are those of ``docs/events.md``:

* ``run_start`` / ``run_end`` (hosts, results by status, recap totals);
* ``flow_state``: every state of the flow (``RUNNING``, ``SUCCESS``, ``SUSPENDED``,
  ``RESUMING``, ``FAILURE``, ``REVERTED``, ...);
* ``task_state``: the state of a batch's task and of its retry controller, with the
  host (batch size 1) or the hosts in ``msg``, and the attempt. The states say what
  happens to the *hosts*, not only to TaskFlow's task:

  - ``PENDING`` (``msg`` ``queued ...``): TaskFlow handed the task to its thread pool
    (TaskFlow itself calls this ``RUNNING``; with ``--parallel 4`` and 30 hosts it does
    so for all 30 at once); ``PENDING`` with ``not started ...`` when the run stopped
    (``--max-fail-percentage``) before the task's playbook started;
  - ``RUNNING`` (``msg`` ``started ansible-playbook (pid N) ...``): its ansible-playbook
    has started — only then;
  - ``SUCCESS``: every host of the task ``ok``, ``changed`` or ``skipped``;
  - ``FAILURE``: a host of the task ``failed`` or was ``unreachable`` on its last attempt
    (``msg``: ``failed: ERROR`` / ``unreachable: ERROR``, for a batch which hosts) —
    although TaskFlow's task succeeded with that result — or TaskFlow's task failed (an
    attempt with unreachable hosts before its retry, a driver error: the exception);
  - ``RETRYING``, ``REVERTING``, ``REVERTED`` as TaskFlow reports them.

The callbacks of the ansible-playbook children write each host's state; the driver
writes a host's state only when no playbook reported on it (not targeted by any
play: ``skipped``; no recap because ansible-playbook crashed: ``failed``).
"""

from __future__ import annotations

import os
import socket
import threading
import time

from ansible_collections.craton.fleet.plugins.module_utils import events as ev

FINAL = ("ok", "changed", "skipped", "failed", "unreachable")


class Tally:
    """Host results of a run as they come (thread-safe), for the terminal, Redis and the exit code."""

    def __init__(self, hosts):
        self.total = len(hosts)
        self.results = {}
        self.lock = threading.Lock()
        self.retrying = {}

    def record(self, hosts):
        """Add final per-host results (a task's ``hosts``); returns the new ones."""
        new = {}
        with self.lock:
            for host, result in hosts.items():
                if host not in self.results:
                    new[host] = result
                self.results[host] = result
        return new

    def counts(self):
        with self.lock:
            counts = dict.fromkeys(FINAL, 0)
            for result in self.results.values():
                counts[result["status"]] = counts.get(result["status"], 0) + 1
            return counts

    @property
    def done(self):
        return len(self.results)

    def failed_hosts(self):
        with self.lock:
            return {h: r for h, r in self.results.items() if r["status"] in ("failed", "unreachable")}

    def totals(self):
        totals = dict.fromkeys(ev.RECAP_KEYS, 0)
        with self.lock:
            for result in self.results.values():
                for key in ev.RECAP_KEYS:
                    totals[key] += (result.get("stats") or {}).get(key, 0)
        return totals


def _short(text, size=ev.DEFAULT_MESSAGE_SIZE):
    return ev.truncate(text, size) if text else None


class Reporter:
    """Registered on an engine's notifiers; turns notifications into events and terminal output."""

    def __init__(self, sender, spec, tally, terminal):
        self.sender = sender
        self.spec = spec
        self.tally = tally
        self.terminal = terminal
        self.hosts_of = dict(zip(spec["names"], spec["batches"]))
        self.attempts = {}
        self._progress_callbacks = []
        self._ended = set()  # tasks whose playbook's end was reported (by _ended_of), not yet by TaskFlow

    # --- registration ------------------------------------------------------------------

    def attach(self, engine, tasks):
        from taskflow.types import notifier  # pylint: disable=import-outside-toplevel
        from taskflow import task as tf_task  # pylint: disable=import-outside-toplevel
        engine.notifier.register(notifier.Notifier.ANY, self.flow_changed)
        engine.atom_notifier.register(notifier.Notifier.ANY, self.atom_changed)
        from ansible_collections.craton.fleet.driver.playbook_task import EVENT_PLAYBOOK_END  # pylint: disable=import-outside-toplevel
        for atom in tasks:
            for event, callback in ((tf_task.EVENT_UPDATE_PROGRESS, self._progress_of(atom.name)),
                                    (EVENT_PLAYBOOK_END, self._ended_of(atom.name))):
                self._progress_callbacks.append((atom, event, callback))
                atom.notifier.register(event, callback)

    def detach(self, engine):
        from taskflow.types import notifier  # pylint: disable=import-outside-toplevel
        engine.notifier.deregister(notifier.Notifier.ANY, self.flow_changed)
        engine.atom_notifier.deregister(notifier.Notifier.ANY, self.atom_changed)
        for atom, event, callback in self._progress_callbacks:
            atom.notifier.deregister(event, callback)
        self._progress_callbacks = []

    # --- flow ----------------------------------------------------------------------------

    def flow_changed(self, state, details):
        self.sender.emit("flow_state", flow=details.get("flow_name"), state=str(state),
                         msg=_short(details.get("reason")) if details.get("reason") else None)
        self.terminal.flow_state(str(state))

    # --- tasks and retries ----------------------------------------------------------------

    def _host_fields(self, name):
        hosts = self.hosts_of.get(name) or []
        if len(hosts) == 1 and name.startswith("host:"):
            return hosts[0], None
        return None, _short("hosts: " + ", ".join(hosts)) if hosts else None

    def atom_changed(self, state, details):
        state = str(state)
        if "retry_name" in details:
            name = details["retry_name"].replace("retry:", "", 1)
            result = details.get("result")
            if state == "SUCCESS" and isinstance(result, dict):
                self.attempts[name] = result.get("number", 1)
            if state not in ("RETRYING",):
                return  # the controller's own bookkeeping; RETRYING is the one users care about
            host, msg = self._host_fields(name)
            attempt = self.attempts.get(name, 1) + 1
            self.sender.emit("task_state", host=host, task=name, state=state, attempt=attempt,
                             msg=msg or "retrying unreachable hosts")
            return
        name = details.get("task_name")
        if name is None:
            return
        host, msg = self._host_fields(name)
        attempt = self.attempts.get(name, 1)
        result = details.get("result")
        shown = state
        if state == "RUNNING":
            # Handed to the thread pool; RUNNING is sent when its ansible-playbook starts (_progress_of).
            shown, msg = "PENDING", "queued: waiting for a free slot" + ("; " + msg if msg else "")
        elif state == "FAILURE" and _not_started(result):
            shown, msg = "PENDING", "not started: the run is stopping" + ("; " + msg if msg else "")
        elif state == "FAILURE" and result is not None:
            msg = _short(getattr(result, "exception_str", None) or str(result))
        elif state == "SUCCESS" and isinstance(result, dict):
            shown, outcome = _outcome(result.get("hosts") or {})
            msg = outcome or msg
        ended = state in ("SUCCESS", "FAILURE") and name in self._ended
        self._ended.discard(name)
        if not ended:  # else already sent when its playbook ended (_ended_of)
            self.sender.emit("task_state", host=host, task=name, state=shown, attempt=attempt, msg=_short(msg))
        if state == "FAILURE" and result is not None and not _retryable(result) and not _not_started(result):
            self.terminal.driver_error(name, getattr(result, "exception_str", str(result)))
        if state == "SUCCESS" and isinstance(result, dict):
            self.task_done(name, result)
        elif state == "FAILURE" and _retryable(result):
            args = getattr(result, "exception_args", None) or ()
            unreachable = args[1] if len(args) > 1 else []
            self.terminal.retrying(name, unreachable, attempt, int(self.spec.get("retries") or 0) + 1)

    def _progress_of(self, name):
        def progress(_event_type, details):
            pid = details.get("pid")
            if pid is None:
                return
            host, msg = self._host_fields(name)
            attempt = details.get("attempt") or 1
            self.attempts[name] = attempt
            self.sender.emit("task_state", host=host, task=name, state="RUNNING", attempt=attempt,
                             msg=_short("started ansible-playbook (pid %s) on %d host%s%s" % (
                                 pid, details.get("hosts") or 0, "" if details.get("hosts") == 1 else "s",
                                 "; " + msg if msg else "")))
            self.terminal.started(name)
        return progress

    def _ended_of(self, name):
        def ended(_event_type, details):
            host, msg = self._host_fields(name)
            state, outcome = _outcome(details.get("hosts") or {})
            if details.get("retrying"):
                outcome += "; retrying"
            self._ended.add(name)
            self.sender.emit("task_state", host=host, task=name, state=state,
                             attempt=details.get("attempt") or self.attempts.get(name, 1), msg=_short(outcome or msg))
        return ended

    def task_done(self, name, result, replay=False):
        """Record a successful task's host results (also for tasks done before a resume)."""
        hosts = result.get("hosts") or {}
        self.terminal.task_finished(name)
        new = self.tally.record(hosts)
        for host, res in new.items():
            if not res.get("recap"):
                state = {"status": res["status"], "event": "task_state", "task": name,
                         "ts": round(time.time(), 3)}
                if res.get("error"):
                    state["error"] = state["msg"] = _short(res["error"])
                elif res.get("msg"):
                    state["msg"] = res["msg"]
                self.sender.set_host(host, state)
            if not replay:
                self.terminal.host_done(host, res)


def _outcome(hosts):
    """(task state, msg) of a finished task from its host results: FAILURE when a host failed or was unreachable."""
    bad = [(h, r) for h, r in hosts.items() if r.get("status") not in ("ok", "changed", "skipped")]
    if not bad:
        return "SUCCESS", None
    if len(hosts) == 1:
        res = bad[0][1]
        return "FAILURE", "%s: %s" % (res.get("status"), res.get("error") or "no message")
    return "FAILURE", "%d of %d hosts failed or unreachable: %s" % (
        len(bad), len(hosts), ", ".join("%s (%s: %s)" % (h, r.get("status"), r.get("error") or "no message")
                                        for h, r in bad))


def _not_started(failure):
    from ansible_collections.craton.fleet.driver.playbook_task import NotStarted  # pylint: disable=import-outside-toplevel
    return failure is not None and hasattr(failure, "check") and bool(failure.check(NotStarted))


def _retryable(failure):
    from ansible_collections.craton.fleet.driver.playbook_task import HostsUnreachable  # pylint: disable=import-outside-toplevel
    return failure is not None and hasattr(failure, "check") and bool(failure.check(HostsUnreachable))


def close_stale_writers(client, keys, controller=None):
    """Mark writers of the run that died on this controller (killed, no ``run_end``) as finished.

    A writer killed with ``kill -9`` (or SIGTERM) never sends its last batch, so the run
    would count it as running forever. Its last reported counts stay as they are;
    ``writers_running`` drops by one and the writer is marked ``interrupted``. Returns
    the writer ids closed."""
    controller = controller or socket.gethostname()
    closed = []
    for writer, state in ev.read_writers(client, keys).items():
        if not state.get("running") or state.get("controller") != controller:
            continue
        pid = state.get("pid")
        if pid and _alive(int(pid)):
            continue
        counts = dict(state.get("counts") or {}, writers_running=0)
        fields = {k: v for k, v in state.items() if k not in ("counts", "updated_at")}
        fields.update(running=False, interrupted=True, ended_at=round(time.time(), 3))
        batch = ev.build_batch(writer, fields, counts)
        ev.write_batch(client, keys, batch, time.time(), index=False)
        closed.append(writer)
    return closed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
