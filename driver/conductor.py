# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs across several controllers: a TaskFlow jobboard in Redis and conductors.

A run's flow (the same flow ``craton run`` makes, from the same spec) is posted as a
*job* on a Redis jobboard; conductor processes on any number of controllers claim
jobs one at a time and run their flows with a parallel engine, persisting to the
shared run state database. Claims expire unless renewed (:mod:`.claims`): a
conductor that dies (even ``kill -9``) loses its claim within ``--claim-ttl`` seconds
and another one resumes the job from the persisted state (finished hosts are not run
again). See docs/driver.md.

    python -m ansible_collections.craton.fleet.driver.conductor --name ctl-1 \\
        --state-url mysql+pymysql://... --redis-url redis://... [--parallel N] [--claim-ttl S]

Conductors take ``CRATON_DATABASE_URL``, ``CRATON_REDIS_URL`` and ``CRATON_REDIS_PREFIX``
from their environment for the playbooks they start; the playbook and inventory paths
of a run must exist on every controller. Each job's flow and task states go to the
run's Redis stream (source ``driver``) as with ``craton run``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys

from ansible_collections.craton.fleet.driver import flow as run_flow
from ansible_collections.craton.fleet.driver import processes
from ansible_collections.craton.fleet.driver.claims import ExpiringClaims
from ansible_collections.craton.fleet.driver.reporter import Reporter, Tally, close_stale_writers
from ansible_collections.craton.fleet.driver.state import open_store
from ansible_collections.craton.fleet.driver.terminal import Terminal
from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.event_sender import EventSender
from ansible_collections.craton.fleet.plugins.module_utils.redis_connection import (
    redis_client, resolve_url, taskflow_jobboard_conf)

DEFAULT_NAMESPACE = "craton-jobs"
DEFAULT_CLAIM_TTL = 30.0


def jobboard(redis_url, store, name="craton-runs", namespace=DEFAULT_NAMESPACE):
    """A connected TaskFlow Redis jobboard on ``redis_url`` (redis://, rediss://, unix:// or redis+sentinel://)."""
    from taskflow.jobs import backends as jobboards  # pylint: disable=import-outside-toplevel
    conf = dict(taskflow_jobboard_conf(redis_url), board="redis", namespace=namespace)
    board = jobboards.fetch(name, conf, persistence=store.backend)
    board.connect()
    return board


def create_run(store, spec, flow=None):
    """The logbook and flow detail of a new run (``craton run`` makes them so too)."""
    from taskflow.engines import helpers  # pylint: disable=import-outside-toplevel
    from taskflow.utils import persistence_utils  # pylint: disable=import-outside-toplevel
    flow = flow or run_flow.make_flow(spec)
    book = store.new_book(spec["run_id"], {"playbook": spec["playbook"], "hosts": len(spec["hosts"])})
    detail = persistence_utils.create_flow_detail(flow, book=book, backend=store.backend)
    helpers.save_factory_details(detail, run_flow.FACTORY, [], {"spec": spec}, backend=store.backend)
    return book, detail


def post_run(board, store, spec):
    """Persist a new run and post it as a job; returns the job."""
    book, detail = create_run(store, spec)
    return board.post(run_flow.flow_name(spec["run_id"]), book=book, details={"flow_uuid": detail.uuid})


class _RunEvents:
    """The driver's events of one job's engine, as a context manager (a conductor listener)."""

    def __init__(self, engine, flow, spec, connect):
        self.spec = spec
        self.flow = flow
        keys = ev.RunKeys(os.environ.get("CRATON_REDIS_PREFIX") or ev.DEFAULT_PREFIX, spec["run_id"])
        self.sender = EventSender(connect=connect, keys=keys, source="driver",
                                  writer_info={"pid": os.getpid(), "controller": socket.gethostname(),
                                               "playbook": spec["playbook"], "conductor": True},
                                  run_info={"playbook": spec["playbook"], "controller": socket.gethostname()})
        self.tally = Tally(spec["hosts"])
        # pylint: disable-next=consider-using-with
        self.reporter = Reporter(self.sender, spec, self.tally, Terminal(self.tally, open(os.devnull, "w"), tty=False))
        self.engine = engine

    def __enter__(self):
        self.reporter.attach(self.engine, run_flow.batch_tasks(self.flow))
        self.sender.start()
        self.sender.emit("run_start", playbook=self.spec["playbook"], hosts=len(self.spec["hosts"]),
                         controller=socket.gethostname())
        self.sender.register_hosts(self.spec["hosts"])
        return self

    def __exit__(self, *exc):
        self.reporter.detach(self.engine)
        counts = {k: v for k, v in self.tally.counts().items() if v}
        self.sender.emit("run_end", results=counts, totals=self.tally.totals(), events=self.sender.made + 1,
                         dropped=self.sender.dropped)
        self.sender.close(10.0)
        return False


def _interrupted_children(detail):
    """Pids of the ansible-playbook children that tasks left RUNNING on this controller had."""
    pids = []
    for atom in detail:
        if atom.state == "RUNNING":
            progress = ((atom.meta or {}).get("progress_details") or {}).get("details") or {}
            if progress.get("pid") and progress.get("controller") == socket.gethostname():
                pids.append(int(progress["pid"]))
    return pids


def make_conductor(name, board, store, parallel, connect, claim_ttl=DEFAULT_CLAIM_TTL, log=None):
    """A blocking conductor (one job at a time) whose engines report to the runs' Redis streams.

    Its claims expire after ``claim_ttl`` seconds unless renewed (:class:`.claims.ExpiringClaims`);
    a job whose claim this conductor lost is suspended. ``log(event, job)`` is told of lost claims
    and of interrupted jobs taken over."""
    from taskflow import engines as tf_engines  # pylint: disable=import-outside-toplevel
    from taskflow.conductors.backends import impl_blocking  # pylint: disable=import-outside-toplevel
    log = log or (lambda event, job: None)
    engines, flows = {}, {}

    def lost(job):
        log("claim_lost", job)
        engine = engines.get(job.uuid)
        if engine is not None:
            engine.suspend()

    claims = ExpiringClaims(board, connect(), claim_ttl, on_lost=lost)

    class Conductor(impl_blocking.BlockingConductor):
        """BlockingConductor + expiring claims + the driver's Redis events for each job."""

        def _engine_from_job(self, job):
            # The flow is kept: the reporter listens to its tasks' progress (a playbook started).
            detail = self._flow_detail_from_job(job)
            flow = tf_engines.flow_from_detail(detail)
            flows[job.uuid] = flow
            return tf_engines.load(flow, flow_detail=detail, engine=self._engine, backend=self._persistence,
                                   **self._engine_options)

        def _listeners_from_job(self, job, engine):
            listeners = super()._listeners_from_job(job, engine)
            engines[job.uuid] = engine
            with contextlib.closing(store.connection()) as conn:
                detail = conn.get_flow_details(job.details["flow_uuid"], lazy=False)
            spec = ((detail.meta or {}).get("factory") or {}).get("kwargs", {}).get("spec")
            if spec:
                leftovers = _interrupted_children(detail)
                if detail.state == "RUNNING" or leftovers:
                    # An interrupted job (its conductor died): its playbooks on this controller
                    # are stopped before their hosts run again, its dead writers closed.
                    log("resuming", job)
                    processes.stop_leftovers(leftovers, spec["run_id"])
                    keys = ev.RunKeys(os.environ.get("CRATON_REDIS_PREFIX") or ev.DEFAULT_PREFIX, spec["run_id"])
                    with contextlib.suppress(Exception):
                        close_stale_writers(connect(), keys)
                listeners.append(_RunEvents(engine, flows[job.uuid], spec, connect))
            return listeners

        def _on_job_done(self, job, fut):
            try:
                super()._on_job_done(job, fut)
            finally:
                engines.pop(job.uuid, None)
                flows.pop(job.uuid, None)

    return Conductor(name, claims, persistence=store.backend, engine="parallel",
                     engine_options={"executor": "threaded", "max_workers": parallel})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ansible_collections.craton.fleet.driver.conductor",
                                     description="A TaskFlow conductor for craton runs posted on a Redis jobboard.")
    parser.add_argument("--name", default="%s-%d" % (socket.gethostname(), os.getpid()))
    parser.add_argument("--state-url", required=True, help="the shared run state database")
    parser.add_argument("--redis-url", help="Redis of the jobboard and the events (default $CRATON_REDIS_URL)")
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="jobboard key namespace")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--claim-ttl", type=float, default=DEFAULT_CLAIM_TTL, metavar="SECONDS",
                        help="a claim lapses this long after its conductor died (default %(default)s)")
    args = parser.parse_args(argv)
    if args.claim_ttl <= 0 or args.parallel < 1:
        parser.error("--claim-ttl must be positive and --parallel at least 1")
    url = resolve_url(args.redis_url)
    try:
        store = open_store(args.state_url, None)
        board = jobboard(url, store, namespace=args.namespace)
    except CratonError as e:
        sys.stderr.write("craton conductor: %s\n" % e)
        return 1

    def log(event, job):
        sys.stdout.write("%s %s %s\n" % (args.name, event, getattr(job, "name", "")))
        sys.stdout.flush()
    conductor = make_conductor(args.name, board, store, args.parallel, lambda: redis_client(url),
                               claim_ttl=args.claim_ttl, log=log)
    for event in ("job_consumed", "job_abandoned", "running_start"):
        conductor.notifier.register(event, lambda event, details: log(event, details.get("job")))
    signal.signal(signal.SIGTERM, lambda *_: conductor.stop())
    sys.stdout.write("%s ready\n" % args.name)
    sys.stdout.flush()
    with contextlib.closing(board):
        conductor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
