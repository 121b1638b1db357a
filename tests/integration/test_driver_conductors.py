"""Beyond one controller: two TaskFlow conductor processes share a Redis jobboard (on the test Redis).

Two runs are posted as jobs; each conductor runs one job at a time (blocking
conductor), so while one is busy with its first job the other claims the second.
Both runs end SUCCESS in the shared state database, each host ran once, and each
run's Redis stream has the driver's flow events and the playbook's events.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid

from ansible_collections.craton.fleet.driver import conductor as tf_conductor
from ansible_collections.craton.fleet.driver import run_spec
from ansible_collections.craton.fleet.driver.state import open_store

import callback_runs as cr
import driver_helpers as dh


def _start(name, env, state_url, redis_url, namespace):
    proc = subprocess.Popen([sys.executable, "-m", "ansible_collections.craton.fleet.driver.conductor",
                             "--name", name, "--state-url", state_url, "--redis-url", redis_url,
                             "--namespace", namespace], env=env, stdout=subprocess.PIPE,
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
        for proc, _lines in conductors:
            proc.send_signal(signal.SIGTERM)
        for proc, lines in conductors:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            assert "Traceback" not in "".join(lines), "".join(lines)
    assert not os.path.exists(tmp_path / "fleet.runs.db")  # the conductors used the state URL given
