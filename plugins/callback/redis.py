# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.redis: reachability, failures and progress of a run into Redis."""

from __future__ import annotations

DOCUMENTATION = r"""
name: redis
type: notification
short_description: Sends reachability, failures and progress of every run to Redis
version_added: 0.1.0
description:
  - Sends the events of an C(ansible-playbook) run to Redis as it goes, in the craton.fleet event schema
    shared with C(craton run) and the progress page (C(docs/events.md) in the collection); per run a stream
    of events, a hash of per-host status, a run summary that knows the expected host count, and an index of
    runs.
  - B(Events.) C(run_start) (playbook, host count, user, controller), C(play_start), C(task_start), one per
    host and task of C(host_ok), C(host_changed), C(host_failed), C(host_unreachable) or C(host_skipped)
    (task name, duration, return code, a short message for failures, a summary of loop items instead of one
    event per item), and C(run_end) with the final counts. Every event carries the run id, a sequence number,
    a timestamp, its source (V(callback)) and the host. The stream keeps the newest O(stream_maxlen) events.
  - B(Nothing private leaves.) Events never carry variables, module arguments or module output. Only failed
    and unreachable results carry a message, their error (C(msg), else the last line of C(stderr)), and
    skipped results their skip reason, truncated to O(message_size) characters; a C(no_log) result carries
    none, only C(no_log=true). Secrets are never read.
  - B(Never slows or breaks the playbook.) Hooks only append to memory; a background thread writes to Redis
    in pipelined batches. At the end of the run the callback waits at most O(flush_timeout) seconds for the
    rest. If Redis is down at the start or goes away, the callback shows one warning per outage and the
    playbook's results and exit code are unchanged. While Redis is down, up to O(buffer_size) events wait in
    memory and are sent when it answers again; the newer events beyond that are dropped and counted in
    C(events_dropped) of the run summary (host states and the run summary are never dropped; their latest
    values are written when Redis answers). A Redis that does not answer costs the end of the run at most
    the O(timeout) of the attempt under way; once an attempt has timed out, it is not waited for again.
  - B(Reachability.) With O(database_url), each host's C(last_status), C(last_error) and C(last_seen_at) are
    written to the fleet database at the end of the run, in one transaction, so that the
    C(craton.fleet.inventory) option C(reachable) can filter on them next time. C(last_status) is the host's
    final status (V(ok), V(changed), V(failed) or V(unreachable)); C(last_error) the error text of a failed or
    unreachable host; C(last_seen_at) (UTC) the time of its last result that was not unreachable, unchanged
    when the run never reached it. Hosts whose results were all skipped are not written.
  - If the Python library redis is missing, the callback disables itself with one warning.
author:
  - craton.fleet contributors (@craton-fleet)
requirements:
  - redis (the Python library, redis-py) >= 5.0
  - sqlalchemy >= 2.0 and pymysql, for O(database_url)
extends_documentation_fragment:
  - craton.fleet.redis
options:
  key_prefix:
    description: Prefix of every Redis key written (see C(docs/events.md)).
    type: str
    default: craton
    env:
      - name: CRATON_REDIS_PREFIX
    ini:
      - section: callback_craton_redis
        key: key_prefix
  stream_maxlen:
    description:
      - Most events kept in a run's stream; older ones are trimmed as new ones arrive (exact, C(XADD MAXLEN)).
      - The per-host status hash and the run summary are not capped.
    type: int
    default: 100000
    env:
      - name: CRATON_REDIS_STREAM_MAXLEN
    ini:
      - section: callback_craton_redis
        key: stream_maxlen
  run_id:
    description:
      - Id of the run the events belong to. Several C(ansible-playbook) invocations given the same run id
        report into one run (C(craton run) sets it for every host it drives).
      - When unset, a new id is made from the start time and a random suffix, e.g. V(20250101T120000Z-3fa9c1),
        and shown at verbosity 1 (C(-v)).
      - 1 to 128 letters, digits, C(.), C(_), C(:) or C(-).
    type: str
    env:
      - name: CRATON_RUN_ID
    ini:
      - section: callback_craton_redis
        key: run_id
  buffer_size:
    description:
      - Most events kept in memory while Redis is slow or down. Events made while the buffer is full are
        dropped and counted in the run summary (C(events_dropped)); C(run_start) and C(run_end) never are.
    type: int
    default: 10000
    env:
      - name: CRATON_REDIS_BUFFER_SIZE
    ini:
      - section: callback_craton_redis
        key: buffer_size
  flush_timeout:
    description: Most seconds the end of the run waits for buffered events to be written to Redis.
    type: float
    default: 10.0
    env:
      - name: CRATON_REDIS_FLUSH_TIMEOUT
    ini:
      - section: callback_craton_redis
        key: flush_timeout
  message_size:
    description: Most characters of the message of a failed, unreachable or skipped result; longer ones are cut.
    type: int
    default: 256
    env:
      - name: CRATON_REDIS_MESSAGE_SIZE
    ini:
      - section: callback_craton_redis
        key: message_size
  retention_days:
    description:
      - Days a run's keys are kept in Redis after its last event (they expire then, and the run leaves the
        index of runs). V(0) keeps them until deleted.
    type: int
    default: 7
    env:
      - name: CRATON_REDIS_RETENTION_DAYS
    ini:
      - section: callback_craton_redis
        key: retention_days
  database_url:
    description:
      - SQLAlchemy URL of the fleet database that reachability is written back to at the end of the run
        (C(sqlite:////path/fleet.db), C(mysql+pymysql://user:password@host/db)). Unset, nothing is written.
      - Deliberately not read from E(CRATON_DATABASE_URL), so that enabling the callback never writes to a
        fleet database unasked. To write back to the inventory's database, set
        E(CRATON_CALLBACK_DATABASE_URL) to the same URL.
      - The database must be at the schema revision of this collection (C(craton db upgrade)).
      - A failed write-back is one warning; it does not change the playbook's results.
    type: str
    env:
      - name: CRATON_CALLBACK_DATABASE_URL
    ini:
      - section: callback_craton_redis
        key: database_url
  tenant:
    description:
      - Tenant of the hosts written back with O(database_url). Hosts are matched by name; without a tenant,
        a name found in several tenants is not written (and named in a warning).
    type: str
    env:
      - name: CRATON_CALLBACK_TENANT
    ini:
      - section: callback_craton_redis
        key: tenant
notes:
  - Enable it with C(callbacks_enabled = craton.fleet.redis) in the C([defaults]) section of C(ansible.cfg), or
    E(ANSIBLE_CALLBACKS_ENABLED=craton.fleet.redis).
  - Events are delivered at least once; after a lost reply a batch is sent again, so a reader may see an
    event twice (same C(writer), same C(seq)).
  - C(ok) does not prove that a host was contacted (C(debug) runs on the controller); C(last_seen_at) is only
    as good as the tasks of the playbook. C(craton.fleet.reachability) pings every host.
seealso:
  - name: The craton.fleet event schema
    description: Keys, event fields, host states and the run summary, in C(docs/events.md) of the collection.
    link: https://github.com/craton-fleet/craton.fleet/blob/main/docs/events.md
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = craton.fleet.redis
#
# [callback_craton_redis]
# redis_url = rediss://:secret@redis.example.com:6380/0
# tls_ca_file = /etc/ssl/certs/redis-ca.pem
# database_url = mysql+pymysql://craton:secret@db.example.com/craton
#
# The same with environment variables, for one run:
#   ANSIBLE_CALLBACKS_ENABLED=craton.fleet.redis \
#   CRATON_REDIS_URL=redis://127.0.0.1:6379/0 \
#   CRATON_CALLBACK_DATABASE_URL=sqlite:////var/lib/craton/fleet.db \
#   CRATON_RUN_ID=nightly-2025-01-01 \
#   ansible-playbook -i craton.yml craton.fleet.reachability
#
# Reading a run:
#   redis-cli HGETALL 'craton:run:{nightly-2025-01-01}'
#   redis-cli XRANGE 'craton:run:{nightly-2025-01-01}:events' - + COUNT 10
"""

import atexit
import functools
import getpass
import os
import re
import socket
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.craton.fleet.plugins.module_utils import events
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.event_sender import EventSender
from ansible_collections.craton.fleet.plugins.module_utils.redis_connection import (
    HAS_REDIS, check_url, redis_client, safe_redis_url)


NAME = "craton.fleet.redis"
_DATABASE_URL = re.compile(r"^(sqlite|mysql|mariadb)(\+\w+)?://")


def _guarded(method):
    """Run a hook; an unexpected error disables the callback with one warning, never the playbook."""
    @functools.wraps(method)
    def hook(self, *args, **kwargs):
        if self.disabled:
            return None
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        except Exception as e:  # pylint: disable=broad-except
            self.disabled = True
            if self._sender is not None:
                self._sender.begin_close()
            self._display.warning("%s: disabled after an internal error in %s: %s: %s"
                                  % (NAME, method.__name__, type(e).__name__, e))
            return None
        finally:
            self._hooks_time += time.perf_counter() - started
    return hook


def _database():
    """module_utils.db, imported only when reachability is written back (SQLAlchemy is a heavy import
    that would otherwise make every fork of the playbook's workers slower)."""
    from ansible_collections.craton.fleet.plugins.module_utils import db  # pylint: disable=import-outside-toplevel
    db.require_sqlalchemy()
    return db


def _masked(url):
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _user():
    try:
        return getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        return str(os.getuid())


def _is_template(pattern):
    items = pattern if isinstance(pattern, (list, tuple)) else [pattern]
    return any("{{" in str(p) or "{%" in str(p) for p in items)


class CallbackModule(CallbackBase):
    """Sends the events of a run to Redis through a background sender."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = NAME
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._sender = None
        self._settings = None
        self._playbooks = 0
        self._play_name = None
        self._starts = {}
        self._tasks = {}
        self._states = {}
        self._seen = {}
        self._errors = {}
        self._warned_outage = False
        self._atexit = False
        # Seconds spent in the hooks, on ansible's main thread (perf_counter: time.thread_time
        # is a slow system call on some virtual machines).
        self._hooks_time = 0.0
        if not HAS_REDIS:
            self.disabled = True
            self._display.warning("%s: disabled, the Python library redis is not installed (pip install redis)" % NAME)

    # --- configuration ------------------------------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        if self.disabled:
            return
        try:
            self._settings = self._read_settings()
        except CratonError as e:
            self.disabled = True
            self._display.warning("%s: disabled: %s" % (NAME, e))

    def _read_settings(self):
        opt = self.get_option
        url = check_url(opt("redis_url"))
        run_id = opt("run_id") or events.new_run_id()
        keys = events.RunKeys(opt("key_prefix"), run_id)
        numbers = {"stream_maxlen": 1, "buffer_size": 1, "message_size": 16, "retention_days": 0}
        for name, low in numbers.items():
            if opt(name) is None or opt(name) < low:
                raise CratonError("option %s must be at least %d, not %r" % (name, low, opt(name)))
        for name in ("flush_timeout", "timeout"):
            if opt(name) is None or opt(name) <= 0:
                raise CratonError("option %s must be a positive number of seconds, not %r" % (name, opt(name)))
        tls = {"tls_ca_file": opt("tls_ca_file"), "tls_cert_file": opt("tls_cert_file"),
               "tls_key_file": opt("tls_key_file"), "tls_verify": opt("tls_verify")}
        redis_client(url, timeout=opt("timeout"), **tls)  # validates the settings, does not connect
        database_url = opt("database_url")
        if database_url and not _DATABASE_URL.match(database_url):
            # Checked in full (and SQLAlchemy imported) only when written back, at the end.
            raise CratonError("invalid database_url %r: expected e.g. sqlite:////path/fleet.db or "
                              "mysql+pymysql://user:password@host/database" % _masked(database_url))
        return {"url": url, "keys": keys, "tls": tls, "timeout": opt("timeout"),
                "maxlen": opt("stream_maxlen"), "buffer_size": opt("buffer_size"),
                "flush_timeout": opt("flush_timeout"), "message_size": opt("message_size"),
                "retention_days": opt("retention_days"), "database_url": database_url,
                "tenant": opt("tenant")}

    # --- the sender -----------------------------------------------------------------------

    def _open(self, playbook):
        s = self._settings
        url, tls, timeout = s["url"], s["tls"], s["timeout"]
        controller = socket.gethostname()
        self._sender = EventSender(
            connect=lambda: redis_client(url, timeout=timeout, **tls), keys=s["keys"], source="callback",
            writer_info={"pid": os.getpid(), "controller": controller, "playbook": playbook},
            run_info={"playbook": playbook, "user": _user(), "controller": controller},
            maxlen=s["maxlen"], buffer_size=s["buffer_size"], retention_days=s["retention_days"],
            describe="Redis at %s" % safe_redis_url(url))
        self._sender.start()
        if not self._atexit:
            atexit.register(self._at_exit)
            self._atexit = True
        if self._playbooks == 0:
            self._display.v("%s: run id %s" % (NAME, s["keys"].run_id))

    def _notices(self, sender=None):
        for level, text in (sender or self._sender).take_notices():
            if level == "warning":
                if not self._warned_outage:
                    self._display.warning("%s: %s" % (NAME, text))
                self._warned_outage = True
            else:
                self._warned_outage = False
                self._display.v("%s: %s" % (NAME, text))

    def _close(self, ended, wait_from):
        """Wait for the sender (at most flush_timeout since ``wait_from``); warn at most once."""
        sender, self._sender = self._sender, None
        sender.update_writer(ended_at=round(ended, 3), hooks_seconds=round(self._hooks_time, 4))
        left = max(self._settings["flush_timeout"] - (time.monotonic() - wait_from), 0.05)
        written = sender.wait(left)
        self._notices(sender)
        if not written:
            text = ("%d events were not written to %s (%d dropped while it was down, %d still in memory)"
                    % (sender.unsent + sender.dropped, sender.describe, sender.dropped, sender.unsent))
            if self._warned_outage:
                self._display.v("%s: %s" % (NAME, text))
            else:
                self._display.warning("%s: %s" % (NAME, text))
        elif sender.dropped:
            self._display.v("%s: %d events were dropped while Redis was down (counted in the run summary)"
                            % (NAME, sender.dropped))

    def _at_exit(self):
        # The playbook ended without its stats (interrupted, or an error between plays).
        sender = self._sender
        if sender is None:
            return
        try:
            sender.emit("run_end", results=self._result_counts(), events=sender.made + 1, dropped=sender.dropped)
            sender.update_writer(ended_at=round(time.time(), 3), interrupted=True)
            sender.close(min(self._settings["flush_timeout"], 2.0))
        except Exception:  # pylint: disable=broad-except
            pass

    # --- playbook, play and task hooks ------------------------------------------------------

    @_guarded
    def v2_playbook_on_start(self, playbook):
        path = getattr(playbook, "_file_name", None)
        path = os.path.abspath(path) if path else None
        hosts = self._playbook_hosts(playbook)
        self._open(path)
        if self._playbooks == 0:
            self._sender.emit("run_start", playbook=path, hosts=len(hosts), user=_user(),
                              controller=socket.gethostname())
        else:
            self._sender.emit("playbook_start", playbook=path, hosts=len(hosts))
        self._playbooks += 1
        self._sender.register_hosts(hosts)

    @staticmethod
    def _playbook_hosts(playbook):
        """Names of the hosts the playbook's plays target (within --limit); templated patterns wait for their play."""
        names = {}
        for play in playbook.get_plays():
            pattern = play.hosts
            if not pattern or _is_template(pattern):
                continue
            try:
                inventory = play.get_variable_manager()._inventory  # pylint: disable=protected-access
                for host in inventory.get_hosts(pattern):
                    names[host.name] = None
            except Exception:  # pylint: disable=broad-except
                continue
        return list(names)

    @_guarded
    def v2_playbook_on_play_start(self, play):
        if self._sender is None:
            return
        inventory = play.get_variable_manager()._inventory  # pylint: disable=protected-access
        hosts = [h.name for h in inventory.get_hosts(play.hosts, ignore_restrictions=True)]
        self._play_name = play.get_name()
        self._sender.emit("play_start", play=self._play_name, play_id=play._uuid,  # pylint: disable=protected-access
                          hosts=len(hosts))
        self._sender.register_hosts(hosts)
        self._notices()

    @_guarded
    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task, False)

    @_guarded
    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, True)

    def _task_start(self, task, handler):
        if self._sender is None:
            return
        task_id, (name, action, _no_log, _loops) = self._task_info(task)
        self._sender.emit("task_start", task=name, task_id=task_id, action=action, play=self._play_name,
                          handler=handler or None)
        if self._sender.has_notices:
            self._notices()

    @_guarded
    def v2_runner_on_start(self, host, task):
        self._starts[(host.name, task._uuid)] = time.monotonic()  # pylint: disable=protected-access

    # --- per-host results -----------------------------------------------------------------

    @_guarded
    def v2_runner_on_ok(self, result):
        self._host_result(result, "host_changed" if result.is_changed() else "host_ok")

    @_guarded
    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host_result(result, "host_failed", ignored=bool(ignore_errors))

    @_guarded
    def v2_runner_on_skipped(self, result):
        self._host_result(result, "host_skipped")

    @_guarded
    def v2_runner_on_unreachable(self, result):
        ignored = bool(result.task_fields.get("ignore_unreachable"))
        self._host_result(result, "host_unreachable", ignored=ignored)

    def _task_info(self, task):
        """(name, action, no_log, loops) of a task, read once: attributes of Task are not cheap."""
        task_id = task._uuid  # pylint: disable=protected-access
        info = self._tasks.get(task_id)
        if info is None:
            loops = getattr(task, "loop", None) is not None or bool(getattr(task, "loop_with", None))
            info = self._tasks[task_id] = (task.get_name(), task.action, task.no_log is True, loops)
        return task_id, info

    def _host_result(self, result, event_type, ignored=False):
        sender = self._sender
        if sender is None:
            return
        host = result.host.name
        task_id, (task_name, action, task_no_log, loops) = self._task_info(result.task)
        data = getattr(result, "_return_data", None)
        if not isinstance(data, dict):
            data = result.result
        started = self._starts.pop((host, task_id), None)
        fields = {"task": result.task_fields.get("name") or task_name, "task_id": task_id, "action": action}
        if started is not None and event_type != "host_skipped":
            fields["duration"] = round(time.monotonic() - started, 3)
        no_log = task_no_log or bool(data.get("censored")) or bool(data.get("_ansible_no_log"))
        rc = data.get("rc")
        if type(rc) is int and event_type in ("host_ok", "host_changed", "host_failed"):  # pylint: disable=unidiomatic-typecheck
            fields["rc"] = rc
        if loops and event_type != "host_unreachable" and isinstance(data.get("results"), list):
            fields["items"] = events.summarise_items(data["results"])
        msg = None
        failure = event_type in ("host_failed", "host_unreachable")
        if failure:
            if no_log:
                fields["no_log"] = True
            else:
                msg = events.error_message(data, self._settings["message_size"])
            fields["msg"] = msg
            fields["ignored"] = ignored or None
        elif event_type == "host_skipped" and not no_log:
            msg = events.truncate(data.get("skip_reason"), self._settings["message_size"])
            fields["msg"] = msg
        now = time.time()
        seq = sender.emit(event_type, host=host, ts=now, **fields)

        if event_type not in ("host_unreachable", "host_skipped"):
            self._seen[host] = now
        if failure and not ignored:
            status = "failed" if event_type == "host_failed" else "unreachable"
            self._errors[host] = msg or ("(hidden by no_log)" if no_log else None)
        else:
            status = "running"
        state = {"status": status, "task": fields["task"], "event": event_type, "ts": round(now, 3), "seq": seq}
        if msg:
            state["msg"] = msg
        if self._errors.get(host):
            state["error"] = self._errors[host]
        self._states[host] = state
        sender.set_host(host, state)
        if sender.has_notices:
            self._notices()

    # --- the end ------------------------------------------------------------------------

    def _result_counts(self):
        counts = {}
        for state in self._states.values():
            counts[state["status"]] = counts.get(state["status"], 0) + 1
        return counts

    def _is_last_playbook(self, stats):
        """ansible-playbook sends stats after each playbook and stops after one with failures."""
        playbooks = (context.CLIARGS or {}).get("args") or ()
        if self._playbooks >= len(playbooks):
            return True
        return any(stats.failures.get(h) or stats.dark.get(h) for h in stats.processed)

    @_guarded
    def v2_playbook_on_stats(self, stats):
        if self._sender is None:
            return
        ended = time.time()
        totals = dict.fromkeys(events.RECAP_KEYS, 0)
        outcomes = {}
        for host in sorted(stats.processed):
            recap = stats.summarize(host)
            for key in events.RECAP_KEYS:
                totals[key] += recap.get(key, 0)
            status = events.final_status(recap)
            state = dict(self._states.get(host) or {"status": "pending"}, stats=recap)
            if status:
                state["status"] = status
                if status not in ("failed", "unreachable"):
                    state.pop("error", None)
            self._states[host] = state
            self._sender.set_host(host, state)
            if self._settings["database_url"] and status:
                outcomes[host] = (status, state.get("error"), self._seen.get(host))
        last = self._is_last_playbook(stats)
        if last:
            self._sender.emit("run_end", ts=ended, results=self._result_counts(), totals=totals,
                              events=self._sender.made + 1, dropped=self._sender.dropped)
        else:
            self._sender.emit("playbook_end", ts=ended, playbook=self._sender.writer_state.get("playbook"),
                              results=self._result_counts(), totals=totals)
        # Redis and the database are written at the same time: the sender's
        # thread flushes while this thread writes reachability back.
        wait_from = time.monotonic()
        self._sender.begin_close()
        if outcomes:
            self._write_back(outcomes)
        self._close(ended, wait_from)

    def _write_back(self, outcomes):
        url = self._settings["database_url"]
        try:
            craton_db = _database()
            from ansible_collections.craton.fleet.plugins.module_utils import reachability  # pylint: disable=import-outside-toplevel
            engine = craton_db.connect(url)
            done = reachability.record(engine, {h: reachability.outcome(*o) for h, o in outcomes.items()},
                                       tenant=self._settings["tenant"])
        except CratonError as e:
            self._display.warning("%s: reachability not written to the fleet database: %s" % (NAME, e))
            return
        except Exception as e:  # pylint: disable=broad-except
            self._display.warning("%s: reachability not written to the fleet database: %s: %s"
                                  % (NAME, type(e).__name__, e))
            return
        if done["ambiguous"]:
            self._display.warning("%s: reachability not written for hosts found in several tenants: %s "
                                  "(set the callback option tenant)" % (NAME, ", ".join(done["ambiguous"][:20])))
        self._display.v("%s: reachability of %d hosts written to %s%s"
                        % (NAME, done["updated"], craton_db.safe_url(url),
                           "; not in the database: %s" % ", ".join(done["unknown"][:20]) if done["unknown"] else ""))
