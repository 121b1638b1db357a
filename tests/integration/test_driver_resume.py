"""craton run --resume: a driver killed with kill -9 mid-run, and a run stopped by --max-fail-percentage.

Every host takes three seconds (``pause_for``), so that a host that has written its
``started`` marker cannot finish during the instant between seeing it and the kill.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest

import callback_runs as cr
import driver_helpers as dh


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, redis_url):
    tmp = tmp_path_factory.mktemp("driver-resume")
    hosts = {"h%d" % i: dh.local_host(pause_for=3) for i in range(1, 7)}
    hosts.update({"f%d" % i: dh.local_host(fail_me=True) for i in range(1, 5)})
    url = dh.make_fleet(tmp, hosts)
    return {"tmp": tmp, "url": url, "playbook": dh.write_playbook(tmp), "env": dh.env(tmp, redis_url),
            "state_db": str(tmp / "fleet.runs.db")}


def _result_hosts(lines):
    return [ln.split()[1] for ln in lines if ln.split() and ln.split()[0] in ("ok", "changed", "failed", "unreachable")]


def test_a_killed_driver_resumes_without_running_finished_hosts_again(fleet, redis_url):
    run_id = cr.new_run_id()
    markers = fleet["tmp"] / "markers-kill"
    markers.mkdir()
    args = ["--database-url", fleet["url"], "run", fleet["playbook"], "--host", "h*", "--parallel", 2,
            "-e", "marker_dir=%s" % markers, "--run-id", run_id]
    proc = subprocess.Popen(dh.craton_argv(*args), env=fleet["env"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = _result_hosts(list(lines))
        started = dh.markers(markers, "started")
        if len(done) >= 2 and set(started) - set(done):
            break  # two hosts recorded, another one in its playbook
        assert proc.poll() is None, "the run ended before it could be killed:\n" + "\n".join(lines)
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    reader.join(10)
    lines = [ln.rstrip("\n") for ln in lines]
    done_before = set(_result_hosts(lines))
    interrupted = set(dh.markers(markers, "started")) - done_before
    assert len(done_before) >= 2 and interrupted
    time.sleep(5)  # long enough for an orphaned playbook to finish its host, if it were still running
    assert set(dh.markers(markers, "done")) == done_before  # the interrupted playbooks died with the driver
    assert dh.flow_states(fleet["state_db"])[-1] == "RUNNING"

    resumed = dh.craton(fleet["env"], "--database-url", fleet["url"], "run", "--resume", run_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming run %s: %d of 6 hosts already done" % (run_id, len(done_before)) in resumed.stdout
    assert set(_result_hosts(resumed.stdout.splitlines())) == {"h%d" % i for i in range(1, 7)} - done_before

    started, finished = dh.markers(markers, "started"), dh.markers(markers, "done")
    assert finished == {"h%d" % i: 1 for i in range(1, 7)}  # every host finished exactly once
    assert all(started[h] == 1 for h in done_before)  # finished hosts were not run again
    assert all(started[h] == 2 for h in interrupted)  # interrupted ones were
    assert "6 changed" in resumed.stdout.splitlines()[-2]

    run = dh.read_run(redis_url, run_id)
    summary = run["summary"]
    assert summary["state"] == "finished" and summary["writers_running"] == 0
    assert summary["hosts_expected"] == 6 and summary["hosts_changed"] == 6
    assert summary["hosts_pending"] == summary["hosts_running"] == 0
    assert summary["events"] == summary["events_sent"] + summary["events_dropped"]
    drivers = [w for w in run["writers"].values() if w["source"] == "driver"]
    assert len(drivers) == 2 and sorted(bool(w.get("interrupted")) for w in drivers) == [False, True]
    killed_playbooks = [w for w in run["writers"].values() if w["source"] == "callback" and w.get("interrupted")]
    # the playbooks killed with the driver (--parallel 2) that had reached Redis are closed as interrupted
    # (one killed before its first batch of events never appears as a writer)
    assert len(killed_playbooks) <= 2
    assert not any(w["running"] for w in run["writers"].values())
    assert [e["state"] for e in run["events"] if e["type"] == "flow_state"][-1] == "SUCCESS"
    assert dh.flow_states(fleet["state_db"])[-1] == "SUCCESS"


def test_max_fail_percentage_stops_the_run_and_resume_finishes_it(fleet, redis_url):
    run_id = cr.new_run_id()
    markers = fleet["tmp"] / "markers-maxfail"
    markers.mkdir()
    proc = dh.craton(fleet["env"], "--database-url", fleet["url"], "run", fleet["playbook"], "--host", "f*",
                     "--max-fail-percentage", 30, "-e", "marker_dir=%s" % markers, "--run-id", run_id)
    # 1 of 4 failed is 25 %: go on; 2 of 4 is 50 % > 30 %: no further host starts
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert sum(dh.markers(markers, "started").values()) == 2
    assert "stopped: more than 30.0% of the hosts failed (--max-fail-percentage); 2 hosts not run" in proc.stdout
    assert "2 failed, 2 not run" in proc.stdout
    assert dh.flow_states(fleet["state_db"])[-1] == "SUSPENDED"
    summary = dh.read_run(redis_url, run_id)["summary"]
    assert (summary["hosts_failed"], summary["hosts_pending"], summary["state"]) == (2, 2, "finished")

    resumed = dh.craton(fleet["env"], "--database-url", fleet["url"], "run", "--resume", run_id,
                        "--max-fail-percentage", 100)
    assert resumed.returncode == 3, resumed.stdout + resumed.stderr
    assert dh.markers(markers, "started") == {"f1": 1, "f2": 1, "f3": 1, "f4": 1}
    assert "4 failed" in resumed.stdout
    summary = dh.read_run(redis_url, run_id)["summary"]
    assert (summary["hosts_failed"], summary["hosts_pending"], summary["writers_running"]) == (4, 0, 0)
