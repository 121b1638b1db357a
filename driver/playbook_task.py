# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TaskFlow task that runs a playbook on one host or batch, and its retry controller.

:class:`PlaybookBatch` runs ``ansible-playbook PLAYBOOK -i INVENTORY --limit @HOSTS``
with the callbacks ``craton.fleet.redis`` (events into the run's Redis stream,
``CRATON_RUN_ID``) and ``craton.fleet.recap_file`` (each host's final status, recap
and last error into a JSON file). The host results come from that file, not from the
terminal output and not from Redis (which may be down without the playbook noticing);
without a recap (ansible-playbook crashed or was killed) every host of the attempt is
``failed`` with the last line of the playbook's output as its error.

A host's failure is a result, not a task failure: the task succeeds with
``{"hosts": {name: {"status", "error", "stats"}}, ...}`` so that one host's failure
never stops or reverts the others. Only unreachable hosts make the task fail
(:class:`HostsUnreachable`), and only while attempts remain: :class:`RetryUnreachable`
then decides ``RETRY`` and the next attempt runs the unreachable hosts only. On the
last attempt unreachable hosts are a result like failed ones.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

from taskflow import retry, task

from ansible_collections.craton.fleet.driver import processes
from ansible_collections.craton.fleet.driver.run_spec import workspace

SUCCESS_STATUSES = ("ok", "changed", "skipped")
# Told to the task's listeners (not persisted) when its ansible-playbook has ended, in the
# worker thread: before the thread pool starts another task, so that reporters never show
# more tasks running than there are slots. Details: hosts (this attempt's results), attempt, retrying.
EVENT_PLAYBOOK_END = "craton.playbook_end"
CALLBACKS = ("craton.fleet.redis", "craton.fleet.recap_file")
# Per-process settings of the runs this process drives: run id -> {"env": {...}}.
CONTEXT = {}


class NotStarted(Exception):
    """The run is stopping (``--max-fail-percentage`` crossed): this batch was not started.

    TaskFlow's parallel engine hands every ready task to its thread pool at once, so
    suspending the engine does not stop the queued ones; they end here instead, and
    their retry controller runs them when the run is resumed (not counted as an attempt)."""


class HostsUnreachable(Exception):
    """Some hosts of a batch were unreachable and may be retried; ``args[0]`` holds the results so far."""

    def __init__(self, results, unreachable):
        super().__init__(results, unreachable)
        self.results = results
        self.unreachable = unreachable

    def __str__(self):
        return "unreachable: %s" % ", ".join(self.unreachable)


def enabled_callbacks():
    """The callbacks the user enabled (ansible.cfg, environment) plus ours."""
    names = []
    try:
        from ansible import constants as C  # pylint: disable=import-outside-toplevel
        names = [n for n in (C.CALLBACKS_ENABLED or []) if n]
    except Exception:  # pylint: disable=broad-except
        names = [n.strip() for n in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if n.strip()]
    for name in CALLBACKS:
        if name not in names:
            names.append(name)
    return ",".join(names)


def ansible_playbook():
    """The ansible-playbook next to this Python (a venv), else the one on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return local if os.access(local, os.X_OK) else "ansible-playbook"


def child_env(run_id, base=None):
    """The environment of the ansible-playbook children of ``run_id``."""
    context = CONTEXT.get(run_id) or {}
    env = dict(base if base is not None else os.environ)
    env.update(context.get("env") or {})
    env["CRATON_RUN_ID"] = run_id
    if "ANSIBLE_CALLBACKS_ENABLED" not in (context.get("env") or {}):
        env["ANSIBLE_CALLBACKS_ENABLED"] = enabled_callbacks()
    env.setdefault("ANSIBLE_RETRY_FILES_ENABLED", "False")
    return env


def _last_line(path):
    try:
        with open(path, "rb") as f:
            f.seek(max(os.path.getsize(path) - 4096, 0))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return None
    return lines[-1][:256] if lines else None


def _read_recap(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data.get("hosts") if isinstance(data, dict) and data.get("complete") else None


def run_playbook(spec, name, hosts, attempt):
    """Run the playbook on ``hosts``; -> (per-host results, rc, log path, pid-callback-able Popen)."""
    paths = workspace(spec)
    stem = "%s.%d" % (name.replace(":", "_").replace("/", "_"), attempt)
    limit = os.path.join(paths["work_dir"], stem + ".limit")
    recap = os.path.join(paths["work_dir"], stem + ".recap.json")
    log = os.path.join(paths["log_dir"], stem + ".log")
    with open(limit, "w", encoding="utf-8") as f:
        f.write("".join(h + "\n" for h in hosts))
    for stale in (recap,):
        if os.path.exists(stale):
            os.unlink(stale)
    argv = [ansible_playbook(), spec["playbook"], "-i", paths["inventory"], "--limit", "@" + limit]
    for extra in spec.get("extra_vars") or ():
        argv += ["-e", extra]
    env = child_env(spec["run_id"])
    env["CRATON_RECAP_FILE"] = recap
    return argv, env, log, recap


def results_of(hosts, rc, recap_path, log_path):
    """Per-host results of one attempt from its recap file, else from the exit code and log."""
    recap = _read_recap(recap_path)
    out = {}
    if recap is None:
        error = "ansible-playbook exited with %s without a recap: %s" % (rc, _last_line(log_path) or "no output")
        for host in hosts:
            out[host] = {"status": "failed", "error": error, "recap": False}
        return out
    for host in hosts:
        entry = recap.get(host)
        if entry is None:
            # Not targeted by any play of the playbook (or skipped by --limit semantics).
            out[host] = {"status": "skipped", "error": None, "recap": False, "msg": "no play targets the host"}
        else:
            out[host] = {"status": entry.get("status") or "skipped", "error": entry.get("error"),
                         "stats": entry.get("stats") or {}, "recap": True}
    return out


class PlaybookBatch(task.Task):
    """Runs the run's playbook on ``hosts`` (one host by default); see the module docstring."""

    TASK_EVENTS = (task.EVENT_UPDATE_PROGRESS, EVENT_PLAYBOOK_END)

    def __init__(self, name, hosts, spec, attempts):
        super().__init__(name=name, rebind={"attempt": "attempt:" + name})
        self.hosts = list(hosts)
        self.spec = spec
        self.attempts = attempts

    def execute(self, attempt):  # pylint: disable=arguments-differ
        stop = (CONTEXT.get(self.spec["run_id"]) or {}).get("stop")
        if stop is not None and stop.is_set():
            raise NotStarted("not started: the run is stopping")
        number = attempt["number"]
        previous = attempt.get("previous") or {}
        todo = [h for h in self.hosts if h not in previous or previous[h]["status"] == "unreachable"]
        argv, env, log, recap = run_playbook(self.spec, self.name, todo, number)
        started = time.time()
        proc = processes.start(argv, env, log)
        # Progress details are persisted with the task (the pid lets --resume stop a leftover child).
        self.notifier.notify(task.EVENT_UPDATE_PROGRESS, {
            "progress": 0.01, "pid": proc.pid, "controller": socket.gethostname(), "attempt": number,
            "hosts": len(todo), "log": log, "started_at": round(started, 3)})
        rc = processes.wait(proc)
        results = dict(previous)
        for host, result in results_of(todo, rc, recap, log).items():
            result.update(attempt=number, log=log)
            results[host] = result
        unreachable = [h for h in todo if results[h]["status"] == "unreachable"]
        retrying = bool(unreachable and number < self.attempts)
        self.notifier.notify(EVENT_PLAYBOOK_END, {"hosts": results, "attempt": number, "retrying": retrying})
        if retrying:
            raise HostsUnreachable(results, unreachable)
        final = (CONTEXT.get(self.spec["run_id"]) or {}).get("final")
        if final is not None:
            # Here, in the worker thread, before the thread pool starts another batch:
            # the runner decides at once whether --max-fail-percentage is crossed.
            final(results)
        return {"hosts": results, "rc": rc, "attempt": number, "log": log,
                "seconds": round(time.time() - started, 3)}


class RetryUnreachable(retry.Retry):
    """Retries a batch while some of its hosts are unreachable, up to ``attempts`` runs in all.

    Provides ``{"number": n, "previous": results}`` to its task: the attempt number and
    the per-host results of the earlier attempts (from the failures in the history,
    which TaskFlow persists), so that a retry runs the unreachable hosts only."""

    def __init__(self, name, attempts):
        super().__init__(name=name, provides=name.replace("retry:", "attempt:", 1))
        self.attempts = attempts

    @staticmethod
    def _previous(history):
        previous = {}
        for _result, failures in history:
            for failure in failures.values():
                if failure.check(HostsUnreachable) and failure.exception_args:
                    previous.update(failure.exception_args[0])
        return previous

    @staticmethod
    def _attempts_made(history):
        return sum(1 for _result, failures in history
                   if failures and all(f.check(HostsUnreachable) for f in failures.values()))

    def on_failure(self, history, *args, **kwargs):
        last = history[-1][1] if len(history) else {}
        if last and all(f.check(NotStarted) for f in last.values()):
            return retry.RETRY  # run it when the run is resumed
        retryable = all(f.check(HostsUnreachable) for f in last.values()) if last else False
        if retryable and self._attempts_made(history) < self.attempts:
            return retry.RETRY
        return retry.REVERT

    def execute(self, history, *args, **kwargs):
        return {"number": self._attempts_made(history) + 1, "previous": self._previous(history)}
