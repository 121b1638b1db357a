# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ``craton run`` from its options (or ``--resume``) to its exit code.

Everything that can be wrong with the input is checked before anything is
recorded: the playbook (exists, ``ansible-playbook --syntax-check``), Redis
(``PING``), the fleet database and the filters (at least one host), the run state
database, the run id (new, or known for ``--resume``). Only then are the run's
logbook (TaskFlow) and its first events (Redis) written.
"""

from __future__ import annotations

import concurrent.futures
import getpass
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

from ansible_collections.craton.fleet.driver import processes, run_spec
from ansible_collections.craton.fleet.driver.reporter import Reporter, Tally, close_stale_writers
from ansible_collections.craton.fleet.driver.state import open_store, resolve_state_url
from ansible_collections.craton.fleet.driver.terminal import Terminal, summary_lines
from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.event_sender import EventSender
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import load_inventory
from ansible_collections.craton.fleet.plugins.module_utils.redis_connection import (
    redis_client, resolve_url, safe_redis_url)

EXIT_OK = 0
EXIT_USER_ERROR = 1          # bad input, or Redis / a database unreachable at the start (craton: error: ...)
EXIT_USAGE = 2               # argparse: unknown option, bad number
EXIT_HOSTS_FAILED = 3        # the run finished; some hosts failed or were unreachable
EXIT_MAX_FAIL = 4            # --max-fail-percentage crossed: the run stopped (resumable)
EXIT_DRIVER_ERROR = 5        # the driver itself failed (e.g. ansible-playbook could not be started); resumable
EXIT_INTERRUPTED = 130       # Ctrl-C: stopped (resumable)


def _user():
    try:
        return getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        return str(os.getuid())


# --- checks before anything is written ---------------------------------------------------

def check_numbers(options):
    if options.parallel is not None and options.parallel < 1:
        raise CratonError("--parallel must be at least 1, not %d" % options.parallel)
    if options.retries is not None and options.retries < 0:
        raise CratonError("--retries must be 0 or more, not %d" % options.retries)
    pct = options.max_fail_percentage
    if pct is not None and not 0 <= pct <= 100:
        raise CratonError("--max-fail-percentage must be between 0 and 100, not %s" % pct)


class SyntaxCheck:
    """``ansible-playbook --syntax-check`` of the playbook, started at once and waited for
    later (it runs while Redis, the databases and the hosts are checked)."""

    def __init__(self, path, extra_vars):
        from ansible_collections.craton.fleet.driver.playbook_task import ansible_playbook  # pylint: disable=import-outside-toplevel
        if not os.path.isfile(path):
            raise CratonError("playbook %s does not exist" % path)
        self.path = os.path.abspath(path)
        argv = [ansible_playbook(), "--syntax-check", self.path, "-i", "localhost,"]
        for extra in extra_vars or ():
            argv += ["-e", extra]
        check_env = dict(os.environ)
        check_env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
        try:
            # pylint: disable-next=consider-using-with
            self.proc = subprocess.Popen(argv, env=check_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         stdin=subprocess.DEVNULL, text=True)
        except OSError as e:
            raise CratonError("cannot run ansible-playbook: %s" % e) from None

    def cancel(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()

    def result(self):
        """The absolute path of the playbook, or CratonError saying why it does not parse."""
        try:
            stdout, stderr = self.proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            self.cancel()
            raise CratonError("ansible-playbook --syntax-check %s did not finish in 300 s" % self.path) from None
        return check_syntax_result(self.path, self.proc.returncode, stdout, stderr)


def check_syntax_result(path, returncode, stdout, stderr):
    """``path`` when the syntax check passed, else CratonError with its error line."""
    if returncode != 0:
        text = (stderr.strip() or stdout.strip() or "exit code %d" % returncode)
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("[WARNING]")]
        error = next((ln for ln in lines if "ERROR" in ln), lines[0] if lines else text)
        error = error.replace("[ERROR]: ", "").replace("ERROR! ", "")
        raise CratonError("playbook %s does not parse: %s" % (path, error))
    return path


def connect_redis(url):
    """A Redis client that answered PING; CratonError naming the URL otherwise."""
    env = os.environ
    tls = {"tls_ca_file": env.get("CRATON_REDIS_TLS_CA_FILE"), "tls_cert_file": env.get("CRATON_REDIS_TLS_CERT_FILE"),
           "tls_key_file": env.get("CRATON_REDIS_TLS_KEY_FILE"),
           "tls_verify": env.get("CRATON_REDIS_TLS_VERIFY", "true").lower() not in ("0", "false", "no", "off")}
    timeout = float(env.get("CRATON_REDIS_TIMEOUT") or 2.0)
    url = resolve_url(url)
    client = redis_client(url, timeout=timeout, **tls)
    try:
        client.ping()
    except Exception as e:  # pylint: disable=broad-except
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CratonError("cannot reach Redis at %s: %s" % (safe_redis_url(url), reason)) from None
    return url, client, (lambda: redis_client(url, timeout=timeout, **tls))


def select_hosts(options):
    """(inventory part of the spec, host names, fleet database URL) for the options."""
    if options.inventory:
        if options.filters:
            raise CratonError("give either -i INVENTORY or filter options (%s), not both"
                              % ", ".join(sorted(options.filters)))
        path = os.path.abspath(options.inventory)
        filters, file_url, strict = run_spec.read_inventory_file(path)
        fleet_url = file_url or options.database_url
        inventory = {"path": path}
    else:
        filters = run_spec.filters_from_options(**options.filters)
        fleet_url, strict = options.database_url, True
        inventory = {"config": dict({"plugin": run_spec.PLUGIN}, **filters)}
    with db.transaction(fleet_url) as session:
        data = load_inventory(session, filters, strict=strict, with_secrets=False)
    hosts = [h["name"] for h in data["hosts"]]
    if not hosts:
        shown = ", ".join("%s=%s" % (k, v) for k, v in sorted(filters.items())) or "none"
        raise CratonError("the inventory filters select no hosts (filters: %s)%s"
                          % (shown, "; " + "; ".join(data["warnings"]) if data.get("warnings") else ""))
    return inventory, hosts, fleet_url


# --- running -------------------------------------------------------------------------------

class Run:  # pylint: disable=too-many-instance-attributes
    """One invocation of the driver on a new or resumed run."""

    def __init__(self, options):
        self.options = options
        self.stream = sys.stdout
        self.suspended_for_max_fail = False
        self.engine = None
        self.stop = threading.Event()
        self.failed = set()
        self.failed_lock = threading.Lock()

    def child_env(self, redis_url, fleet_url):
        env = {"CRATON_REDIS_URL": redis_url, "ANSIBLE_RETRY_FILES_ENABLED": "False"}
        prefix = os.environ.get("CRATON_REDIS_PREFIX")
        if prefix:
            env["CRATON_REDIS_PREFIX"] = prefix
        if fleet_url:
            env["CRATON_DATABASE_URL"] = db.resolve_url(fleet_url)
        return env

    def prepare_new(self):
        o = self.options
        check_numbers(o)
        run_id = ev.check_run_id(o.run_id) if o.run_id else ev.new_run_id()
        prefix = ev.check_prefix(os.environ.get("CRATON_REDIS_PREFIX") or ev.DEFAULT_PREFIX)
        keys = ev.RunKeys(prefix, run_id)
        syntax = SyntaxCheck(o.playbook, o.extra_vars)
        try:
            redis_url, client, connect = connect_redis(o.redis_url)
            if client.exists(keys.summary):
                raise CratonError("run id %r already exists in Redis at %s: choose another --run-id, or "
                                  "--resume it" % (run_id, safe_redis_url(redis_url)))
            inventory, hosts, fleet_url = select_hosts(o)
        except BaseException:
            syntax.cancel()
            raise
        playbook = syntax.result()
        store = open_store(o.state_url, fleet_url)
        if store.find_book(run_id) is not None:
            raise CratonError("run id %r already exists in the run state database %s: use --resume %s"
                              % (run_id, store.safe, run_id))
        spec = run_spec.make_spec(run_id, playbook, inventory, hosts, batch_size=o.batch_size or 1,
                                  retries=o.retries or 0, extra_vars=o.extra_vars or (),
                                  max_fail_percentage=o.max_fail_percentage, parallel=o.parallel or 1)
        return spec, keys, client, connect, redis_url, fleet_url, store

    def prepare_resume(self):
        o = self.options
        check_numbers(o)
        run_id = ev.check_run_id(o.resume)
        if o.inventory or o.filters or o.playbook or o.run_id:
            raise CratonError("--resume takes no playbook, inventory, filters or --run-id: the run has them")
        prefix = ev.check_prefix(os.environ.get("CRATON_REDIS_PREFIX") or ev.DEFAULT_PREFIX)
        keys = ev.RunKeys(prefix, run_id)
        redis_url, client, connect = connect_redis(o.redis_url)
        fleet_url = o.database_url
        try:
            store = open_store(o.state_url, fleet_url, create=False)
        except NotFound:
            raise NotFound("unknown run id %r: no run state database at %s"
                           % (run_id, db.safe_url(resolve_state_url(o.state_url, fleet_url)))) from None
        book, detail = store.load_run(run_id)
        spec = detail.meta["factory"]["kwargs"]["spec"]
        if not os.path.isfile(spec["playbook"]):
            raise CratonError("playbook %s of run %s does not exist any more" % (spec["playbook"], run_id))
        if spec["inventory"].get("path") and not os.path.isfile(spec["inventory"]["path"]):
            raise CratonError("inventory %s of run %s does not exist any more" % (spec["inventory"]["path"], run_id))
        if o.parallel:
            spec["parallel"] = o.parallel
        if o.max_fail_percentage is not None:
            spec["max_fail_percentage"] = o.max_fail_percentage
        db.connect(fleet_url)  # the children's inventory needs it: fail now rather than per host
        return spec, keys, client, connect, redis_url, fleet_url, store, book, detail

    def execute(self):
        from taskflow import engines  # pylint: disable=import-outside-toplevel
        from ansible_collections.craton.fleet.driver import flow as run_flow  # pylint: disable=import-outside-toplevel
        from ansible_collections.craton.fleet.driver import playbook_task  # pylint: disable=import-outside-toplevel
        from ansible_collections.craton.fleet.driver.conductor import create_run  # pylint: disable=import-outside-toplevel

        o = self.options
        resume = bool(o.resume)
        if resume:
            spec, keys, client, connect, redis_url, fleet_url, store, book, detail = self.prepare_resume()
        else:
            spec, keys, client, connect, redis_url, fleet_url, store = self.prepare_new()
            book = detail = None
        run_id = spec["run_id"]
        playbook_task.CONTEXT[run_id] = {"env": self.child_env(redis_url, fleet_url), "stop": self.stop,
                                         "final": lambda results: self.final_results(spec, results)}
        work_dir = run_spec.workspace(spec)["work_dir"]

        if resume:
            leftovers = []
            for atom in detail:
                if atom.state == "RUNNING":
                    progress = (atom.meta or {}).get("progress_details") or {}
                    pid = (progress.get("details") or {}).get("pid")
                    if pid and (progress.get("details") or {}).get("controller") == socket.gethostname():
                        leftovers.append(int(pid))
            stopped = processes.stop_leftovers(leftovers, run_id)
            if stopped:
                self.stream.write("stopped %d ansible-playbook process(es) left by the interrupted driver\n"
                                  % len(stopped))
            close_stale_writers(client, keys)

        tally = Tally(spec["hosts"])
        terminal = Terminal(tally, self.stream)
        sender = EventSender(connect=connect, keys=keys, source="driver",
                             writer_info={"pid": os.getpid(), "controller": socket.gethostname(),
                                          "playbook": spec["playbook"], "resumed": resume or None},
                             run_info={"playbook": spec["playbook"], "user": _user(),
                                       "controller": socket.gethostname()},
                             describe="Redis at %s" % safe_redis_url(redis_url))
        reporter = Reporter(sender, spec, tally, terminal)
        flow = run_flow.make_flow(spec)
        # Our own thread pool: TaskFlow does not shut down an executor it was given, so the end
        # of the run does not wait for idle pool threads.
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=spec["parallel"], thread_name_prefix="craton-run")
        options = {"engine": "parallel", "executor": pool}
        if resume:
            engine = engines.load(flow, flow_detail=detail, book=book, backend=store.backend, **options)
        else:
            # engines.load_from_factory, with the flow kept here to attach to its tasks' notifiers.
            book, detail = create_run(store, spec, flow)
            engine = engines.load(flow, flow_detail=detail, book=book, backend=store.backend, **options)
        self.engine = engine
        reporter.attach(engine, run_flow.batch_tasks(flow))
        sender.start()
        sender.emit("run_start", playbook=spec["playbook"], hosts=len(spec["hosts"]), user=_user(),
                    controller=socket.gethostname())
        sender.register_hosts(spec["hosts"])
        if resume:
            for atom in detail:
                if atom.state == "SUCCESS" and atom.name in reporter.hosts_of and isinstance(atom.results, dict):
                    reporter.task_done(atom.name, atom.results, replay=True)
                    self.failed.update(h for h, r in (atom.results.get("hosts") or {}).items()
                                       if r["status"] in ("failed", "unreachable"))
            terminal.message("resuming run %s: %d of %d hosts already done" % (run_id, tally.done, tally.total))
        else:
            terminal.message("run %s: %s on %d hosts (%d task%s, %d at a time)%s" % (
                run_id, os.path.basename(spec["playbook"]), len(spec["hosts"]), len(spec["batches"]),
                "" if len(spec["batches"]) == 1 else "s", spec["parallel"],
                ", retries %d" % spec["retries"] if spec["retries"] else ""))
        started = time.monotonic()
        error = self._run_engine(engine, sender, terminal, run_id)
        pool.shutdown(wait=False)
        elapsed = time.monotonic() - started
        terminal.close()
        state = str(engine.storage.get_flow_state())
        counts = tally.counts()
        if error is not None:
            code, outcome = EXIT_DRIVER_ERROR, "the driver failed: %s (resume with: craton run --resume %s)" % (
                error, run_id)
        elif self.suspended_for_max_fail:
            code, outcome = EXIT_MAX_FAIL, ("stopped: more than %s%% of the hosts failed (--max-fail-percentage); "
                                            "%d hosts not run (resume with: craton run --resume %s)"
                                            % (spec["max_fail_percentage"], tally.total - tally.done, run_id))
        elif counts["failed"] or counts["unreachable"]:
            code, outcome = EXIT_HOSTS_FAILED, None
        elif tally.done < tally.total:
            code, outcome = EXIT_DRIVER_ERROR, "flow ended in state %s with hosts not run" % state
        else:
            code, outcome = EXIT_OK, None
        sender.emit("run_end", results={k: v for k, v in counts.items() if v}, totals=tally.totals(),
                    events=sender.made + 1, dropped=sender.dropped)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sender.update_writer(ended_at=round(time.time(), 3), exit_code=code,
                             driver_cpu=round(usage.ru_utime + usage.ru_stime, 3))
        written = sender.close(10.0)
        self._notices(sender)
        if not written:
            sys.stderr.write("craton: warning: not every event of the driver reached Redis (%d dropped, %d unsent)\n"
                             % (sender.dropped, sender.unsent))
        for line in summary_lines(run_id, tally, outcome, elapsed, work_dir):
            self.stream.write(line + "\n")
        self.stream.flush()
        store.close()
        return code

    def final_results(self, spec, results):
        """Called by each batch with its final host results: stops the run once more than
        ``--max-fail-percentage`` of all hosts failed or were unreachable."""
        pct = spec.get("max_fail_percentage")
        with self.failed_lock:
            self.failed.update(h for h, r in results.items() if r["status"] in ("failed", "unreachable"))
            crossed = pct is not None and len(self.failed) * 100.0 / max(len(spec["hosts"]), 1) > pct
            if not crossed or self.suspended_for_max_fail:
                return
            self.suspended_for_max_fail = True
        self.stop.set()  # batches queued in the engine's thread pool end without starting
        if self.engine is not None:
            self.engine.suspend()

    def _notices(self, sender):
        for level, text in sender.take_notices():
            if level == "warning":
                sys.stderr.write("craton: warning: %s\n" % text)

    def _run_engine(self, engine, sender, terminal, run_id):
        """Run the engine in a thread; Ctrl-C stops the children and exits (the run stays resumable)."""
        outcome = {}

        def target():
            try:
                engine.run()
            except Exception as e:  # pylint: disable=broad-except
                outcome["error"] = "%s: %s" % (type(e).__name__, e)

        def interrupted(signum, _frame):
            # Before anything else: a playbook that ends because of this signal is not a host result.
            processes.STOPPING.set()
            raise KeyboardInterrupt(signum)

        previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
        thread = threading.Thread(target=target, name="craton-run-engine", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.05)
                self._notices(sender)
        except KeyboardInterrupt:
            terminal.close()
            sys.stderr.write("craton: interrupted; stopping ansible-playbook processes "
                             "(resume with: craton run --resume %s)\n" % run_id)
            processes.stop_all()
            sender.emit("flow_state", flow="craton-run:%s" % run_id, state="SUSPENDED",
                        msg="interrupted by the user; resume with craton run --resume %s" % run_id)
            sender.close(3.0)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)  # pylint: disable=protected-access
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        return outcome.get("error")


def run(options):
    """Run (or resume) and return the exit code."""
    return Run(options).execute()
