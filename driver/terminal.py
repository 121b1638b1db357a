# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``craton run`` shows: a progress bar on a terminal, plain lines otherwise, a summary.

On a TTY, one line redrawn at most ten times a second::

    [##########..........]  12/24 hosts  ok 10  failed 1  unreachable 1  running 4

Otherwise one line per host result (``ok       web1``, ``failed   web2: msg``) and
per retry, fit for logs and CI. Both end with the summary: counts, then every
failed and unreachable host with its last error and its log file.
"""

from __future__ import annotations

import sys
import threading
import time

WIDTH = 24


class Terminal:
    """Progress output on ``stream`` (stdout); a bar when it is a TTY."""

    def __init__(self, tally, stream=None, tty=None):
        self.tally = tally
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.lock = threading.Lock()
        self.running = set()
        self.last = 0.0
        self.bar_shown = False

    def _write_line(self, text):
        with self.lock:
            if self.bar_shown:
                self.stream.write("\r\033[K")
                self.bar_shown = False
            self.stream.write(text + "\n")
            self.stream.flush()

    def _bar(self, force=False):
        if not self.tty:
            return
        now = time.monotonic()
        with self.lock:
            if not force and now - self.last < 0.1:
                return
            self.last = now
            counts = self.tally.counts()
            total = max(self.tally.total, 1)
            done = self.tally.done
            filled = WIDTH * done // total
            line = "[%s%s] %*d/%d hosts  ok %d  failed %d  unreachable %d  running %d" % (
                "#" * filled, "." * (WIDTH - filled), len(str(total)), done, self.tally.total,
                counts["ok"] + counts["changed"] + counts["skipped"], counts["failed"], counts["unreachable"],
                len(self.running))
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
            self.bar_shown = True

    # --- events from the reporter -------------------------------------------------------

    def message(self, text):
        self._write_line(text)
        self._bar(force=True)

    def flow_state(self, state):
        """Flow states go to Redis; the terminal says what they mean in the summary."""

    def started(self, name):
        with self.lock:
            self.running.add(name)
        self._bar()

    def host_done(self, host, result):
        with self.lock:
            self.running.discard(result.get("task"))
        if not self.tty:
            status = result["status"]
            error = result.get("error")
            self._write_line("%-11s %s%s" % (status, host, ": " + error if error else ""))
        else:
            self._bar(force=result["status"] in ("failed", "unreachable"))

    def task_finished(self, name):
        with self.lock:
            self.running.discard(name)
        self._bar()

    def retrying(self, name, hosts, attempt, attempts):
        with self.lock:
            self.running.discard(name)
        self.message("retrying  %s: unreachable on attempt %d of %d" % (", ".join(hosts) or name, attempt, attempts))

    def driver_error(self, name, text):
        self.message("error     %s: %s" % (name, text))

    def close(self):
        """Leave the final state of the bar on its own line."""
        if not self.tty:
            return
        self._bar(force=True)
        with self.lock:
            if self.bar_shown:
                self.stream.write("\n")
                self.stream.flush()
                self.bar_shown = False


def summary_lines(run_id, tally, outcome, elapsed, work_dir):
    """The final summary."""
    counts = tally.counts()
    lines = []
    parts = ["%d %s" % (counts[k], k) for k in ("ok", "changed", "skipped", "failed", "unreachable") if counts[k]]
    not_run = tally.total - tally.done
    if not_run:
        parts.append("%d not run" % not_run)
    plural = "" if tally.total == 1 else "s"
    done = ", ".join(parts) or "nothing done"
    lines.append("run %s: %d host%s in %.1f s: %s" % (run_id, tally.total, plural, elapsed, done))
    failed = tally.failed_hosts()
    for status in ("failed", "unreachable"):
        names = sorted(h for h, r in failed.items() if r["status"] == status)
        if names:
            lines.append("%s hosts:" % status)
            for host in names:
                result = failed[host]
                lines.append("  %s: %s" % (host, result.get("error") or "(no message)"))
                if result.get("log"):
                    lines.append("    log: %s" % result["log"])
    if outcome:
        lines.append(outcome)
    lines.append("logs: %s" % work_dir)
    return lines
