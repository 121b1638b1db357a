"""Beyond one controller: two TaskFlow conductor processes share a Redis jobboard (on the test Redis).

* Two runs are posted as jobs; each conductor runs one job at a time (blocking
  conductor), so while one is busy with its first job the other claims the second.
  Both runs end SUCCESS in the shared state database, each host ran once, and each
  run's Redis stream has the driver's flow events and the playbook's events.
* Failover: the conductor running a job is killed with ``kill -9`` mid-job; its claim
  lapses (``--claim-ttl``) and the other conductor finishes the run from the persisted
  state: hosts that had finished are not run again, the interrupted one is.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

from ansible_collections.craton.fleet.driver import conductor as tf_conductor
from ansible_collections.craton.fleet.driver import run_spec
from ansible_collections.craton.fleet.driver.state import open_store

import callback_runs as cr
import driver_helpers as dh


def _start(name, env, state_url, redis_url, namespace, *extra):
    proc = subprocess.Popen([sys.executable, "-m", "ansible_collections.craton.fleet.driver.conductor",
                             "--name", name, "--state-url", state_url, "--redis-url", redis_url,
                             "--namespace", namespace, *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    return proc, lines


def test_two_conductors_share_the_runs_posted_on_a_redis_jobboard(tmp_path, redis_url):
    fleet_url = dh.make_fleet(tmp_path, {"c1": dh.local_host(pause_for=3), "c2": dh.local_host(pause_for=3)})
    playbook = dh.write_playbook(tmp_path)
    (tmp_path / "markers").mkdir()
    state_url = "sqlite:///%s" % (tmp_path / "runs.db")
    namespace = "craton-test-jobs-%s" % uuid.uuid4().hex[:8]
    env = dict(dh.env(tmp_path, redis_url), CRATON_DATABASE_URL=fleet_url)
    conductors = [_start("ctl-%d" % i, env, state_url, redis_url, namespace) for i in (1, 2)]
    try:
        cr.wait_for(lambda: all(any("ready" in ln for ln in lines) for _p, lines in conductors), 60, "conductors")
        store = open_store(state_url, None)
        board = tf_conductor.jobboard(redis_url, store, namespace=namespace)
        run_ids = [cr.new_run_id(), cr.new_run_id()]
        for run_id, host in zip(run_ids, ("c1", "c2")):
            spec = run_spec.make_spec(run_id, playbook, {"config": {"plugin": run_spec.PLUGIN, "tenant": "acme"}},
                                      [host], extra_vars=["marker_dir=%s" % (tmp_path / "markers")])
            tf_conductor.post_run(board, store, spec)

        def consumed():
            return [ln for _p, lines in conductors for ln in list(lines) if "job_consumed" in ln]
        cr.wait_for(lambda: len(consumed()) == 2, 180, "both jobs consumed")
        # one job each: the busy conductor does not claim a second one
        assert sorted(ln.split()[0] for ln in consumed()) == ["ctl-1", "ctl-2"], consumed()
        assert board.job_count == 0
        board.close()
        for run_id in run_ids:
            book, detail = store.load_run(run_id)
            assert detail.state == "SUCCESS"
            run = dh.read_run(redis_url, run_id)
            assert [e["state"] for e in run["events"] if e["type"] == "flow_state"] == ["RUNNING", "SUCCESS"]
            assert run["summary"]["hosts_changed"] == 1 and run["summary"]["writers_running"] == 0
            assert {w["source"] for w in run["writers"].values()} == {"driver", "callback"}
        assert dh.markers(tmp_path / "markers", "done") == {"c1": 1, "c2": 1}
        store.close()
    finally:
        _stop(conductors)
    assert not os.path.exists(tmp_path / "fleet.runs.db")  # the conductors used the state URL given


def _stop(conductors):
    """SIGTERM every conductor still running, wait for each (kill after 20 s); none printed a traceback."""
    for proc, _lines in conductors:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc, lines in conductors:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        assert "Traceback" not in "".join(lines), "".join(lines)


def _atom_states(state_db):
    return {name: state for name, state, _results in dh.state_rows(state_db) if name.startswith("host:")}


def _started_atoms(state_db):
    """Tasks persisted RUNNING whose ansible-playbook had started (a pid in their progress details)."""
    with sqlite3.connect(state_db) as conn:
        rows = conn.execute("SELECT name, state, meta FROM atomdetails").fetchall()
    return {name for name, state, meta in rows
            if state == "RUNNING" and ((json.loads(meta or "{}").get("progress_details") or {}).get("details") or {})
            .get("pid")}


def test_a_killed_conductors_job_is_finished_by_the_other_one(tmp_path, redis_url):
    hosts = ["k1", "k2", "k3"]
    # two seconds per host: a host seen started and not done is in its sleep when the kill lands
    fleet_url = dh.make_fleet(tmp_path, {h: dh.local_host(pause_for=2) for h in hosts})
    playbook = dh.write_playbook(tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    state_db = tmp_path / "runs.db"
    state_url = "sqlite:///%s" % state_db
    namespace = "craton-test-jobs-%s" % uuid.uuid4().hex[:8]
    env = dict(dh.env(tmp_path, redis_url), CRATON_DATABASE_URL=fleet_url)
    conductors = {name: _start(name, env, state_url, redis_url, namespace, "--claim-ttl", "3")
                  for name in ("ctl-1", "ctl-2")}
    try:
        cr.wait_for(lambda: all(any("ready" in ln for ln in lines) for _p, lines in conductors.values()), 60,
                    "conductors")
        store = open_store(state_url, None)
        board = tf_conductor.jobboard(redis_url, store, namespace=namespace)
        run_id = cr.new_run_id()
        spec = run_spec.make_spec(run_id, playbook, {"config": {"plugin": run_spec.PLUGIN, "tenant": "acme"}},
                                  hosts, extra_vars=["marker_dir=%s" % markers])
        tf_conductor.post_run(board, store, spec)

        def runner():
            return [name for name, (_p, lines) in conductors.items() if any("running_start" in ln for ln in lines)]
        cr.wait_for(runner, 60, "a conductor running the job")
        victim = runner()[0]
        survivor = ({"ctl-1", "ctl-2"} - {victim}).pop()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done, started = dh.markers(markers, "done"), dh.markers(markers, "started")
            if done and set(started) - set(done):
                break  # a host finished, the next one is in its playbook (--parallel 1)
            assert conductors[victim][0].poll() is None
            time.sleep(0.05)
        conductors[victim][0].send_signal(signal.SIGKILL)
        conductors[victim][0].wait(30)
        atoms = _atom_states(state_db)
        done_before = {h for h in hosts if atoms.get("host:" + h) == "SUCCESS"}
        interrupted = set(dh.markers(markers, "started")) - done_before
        # TaskFlow persists every task handed to the engine's pool as RUNNING: the one whose
        # playbook had started is the one with a child pid in its progress details
        assert done_before == set(dh.markers(markers, "done")) and len(interrupted) == 1, atoms
        assert _started_atoms(state_db) == {"host:" + h for h in interrupted}

        survivor_lines = conductors[survivor][1]
        cr.wait_for(lambda: any("job_consumed" in ln for ln in survivor_lines), 120, "the survivor finishing the job")
        assert any("resuming" in ln for ln in survivor_lines), survivor_lines
        assert board.job_count == 0
        board.close()
        book, detail = store.load_run(run_id)
        assert detail.state == "SUCCESS" and book is not None
        store.close()
    finally:
        _stop(conductors.values())

    # every host done exactly once; finished hosts were not started again, the interrupted one was
    assert dh.markers(markers, "done") == dict.fromkeys(hosts, 1)
    started = dh.markers(markers, "started")
    assert {h: started[h] for h in hosts} == {h: 2 if h in interrupted else 1 for h in hosts}

    run = dh.read_run(redis_url, run_id)
    summary = run["summary"]
    assert summary["hosts_changed"] == 3 and summary["hosts_pending"] == summary["hosts_running"] == 0
    assert summary["state"] == "finished" and summary["writers_running"] == 0
    drivers = [w for w in run["writers"].values() if w["source"] == "driver"]
    assert sorted(bool(w.get("interrupted")) for w in drivers) == [False, True]
    assert [e["state"] for e in run["events"] if e["type"] == "flow_state"][-1] == "SUCCESS"
