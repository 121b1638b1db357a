# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ansible-playbook`` children of the driver: started, tracked, stopped.

* Each child is started through ``setpriv --pdeathsig SIGTERM`` when util-linux'
  ``setpriv`` is installed: if the driver dies (even ``kill -9``), the kernel sends
  the child SIGTERM, and ansible-playbook passes it on to its workers. A playbook
  whose driver died does not go on changing hosts that the resumed run will run again.
* The driver records each child's pid in TaskFlow's progress details of the task
  (persisted with the run). On ``--resume``, children of interrupted tasks that are
  still alive (no ``setpriv``, or another signal) are found by pid, checked to be an
  ``ansible-playbook`` of this run (``/proc/PID/environ`` has its ``CRATON_RUN_ID``)
  and stopped before their hosts run again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

_LIVE = {}
_LOCK = threading.Lock()
# Set when the driver stops its children (Ctrl-C): a stopped child's exit is not a host result.
STOPPING = threading.Event()


def _pdeathsig_prefix():
    path = shutil.which("setpriv")
    return [path, "--pdeathsig", "TERM", "--"] if path else []


PDEATHSIG = _pdeathsig_prefix()


def start(argv, env, log_path, cwd=None):
    """Start ``argv`` with stdout and stderr to ``log_path``; returns the Popen."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(PDEATHSIG + list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    with _LOCK:
        _LIVE[proc.pid] = proc
    return proc


def wait(proc):
    """Wait for a child started by :func:`start`; returns its exit code."""
    try:
        code = proc.wait()
    finally:
        with _LOCK:
            _LIVE.pop(proc.pid, None)
    if STOPPING.is_set():
        threading.Event().wait()  # the driver is exiting: never report this attempt
    return code


def stop_all(grace=5.0):
    """SIGTERM every live child (ansible-playbook stops its workers), SIGKILL after ``grace`` seconds."""
    STOPPING.set()
    with _LOCK:
        procs = list(_LIVE.values())
    for proc in procs:
        _signal(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            _signal(proc.pid, signal.SIGKILL)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def belongs_to_run(pid, run_id):
    """True when ``pid`` is alive and is a child process of the run ``run_id`` (Linux /proc)."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read().split(b"\0")
    except (OSError, ValueError):
        return False
    return ("CRATON_RUN_ID=%s" % run_id).encode() in environ


def is_alive(pid):
    """True when a process ``pid`` exists (and is not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def stop_leftovers(pids, run_id, grace=10.0):
    """Stop the processes ``pids`` that still run for ``run_id``; returns the pids stopped."""
    found = [pid for pid in pids if pid and belongs_to_run(pid, run_id)]
    for pid in found:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in found:
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if is_alive(pid):
            _signal(pid, signal.SIGKILL)
    return found
