# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command and measure its wall time, CPU time and peak RSS.

Peak RSS is taken by GNU time (``/usr/bin/time``), which forks the command from
its own tiny process. Reaping the command directly from this Python process
with ``wait4`` would be wrong: Linux carries the parent's RSS at fork into the
child's ``ru_maxrss`` across ``exec``, so every figure would be at least the
size of the benchmark process. Without GNU time, a minimal Python launcher does
the same job (its own ~10 MiB then sets the lower bound, and the report says so).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else shutil.which("time")
# Fallback launcher: spawn, reap with wait4, write "max_rss_kib user sys" to a file, pass the exit code on.
_LAUNCHER = (
    "import os,sys\n"
    "pid=os.posix_spawn(sys.argv[2],sys.argv[2:],os.environ)\n"
    "_,st,ru=os.wait4(pid,0)\n"
    "open(sys.argv[1],'w').write('%d %f %f'%(ru.ru_maxrss,ru.ru_utime,ru.ru_stime))\n"
    "sys.exit(os.waitstatus_to_exitcode(st) & 255)\n")


def method():
    """How peak RSS is measured, for the report."""
    if GNU_TIME:
        return "peak RSS by GNU time (%s)" % GNU_TIME
    return "peak RSS by a Python launcher (includes its own ~10 MiB): install GNU time for exact figures"


@dataclasses.dataclass
class Measurement:
    """One timed run."""

    label: str
    argv: list
    seconds: float
    max_rss_mib: float
    cpu_seconds: float
    returncode: int
    stdout_path: str
    stderr_path: str
    timed_out: bool = False

    @property
    def ok(self):
        return self.returncode == 0 and not self.timed_out

    def stderr_tail(self, lines=15):
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def _wrapped(argv, usage_path):
    if GNU_TIME:
        return [GNU_TIME, "-f", "%M %U %S", "-o", usage_path, "--"] + list(argv)
    return [sys.executable, "-S", "-c", _LAUNCHER, usage_path] + list(argv)


def _read_usage(path):
    try:
        with open(path, encoding="utf-8") as f:
            fields = f.read().split()
        rss_kib, user, system = int(fields[-3]), float(fields[-2]), float(fields[-1])
        return rss_kib / 1024.0, user + system
    except (OSError, ValueError, IndexError):
        return float("nan"), float("nan")


def run_measured(label, argv, env, cwd, stdout_path, timeout=None):
    """Run ``argv`` (an absolute executable path first) with stdout to
    ``stdout_path`` (stderr beside it); it is killed with its process group
    after ``timeout`` seconds."""
    stderr_path = stdout_path + ".stderr"
    usage_path = stdout_path + ".rusage"
    timed_out = threading.Event()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(_wrapped(argv, usage_path), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)

        def kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            returncode = proc.wait()
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - start
    rss, cpu = _read_usage(usage_path)
    return Measurement(label=label, argv=list(argv), seconds=seconds, max_rss_mib=rss, cpu_seconds=cpu,
                       returncode=returncode, stdout_path=stdout_path, stderr_path=stderr_path,
                       timed_out=timed_out.is_set())
