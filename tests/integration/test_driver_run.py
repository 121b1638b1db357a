"""craton run: one real run over local hosts (ok, failed, unreachable with a retry), and what it left.

One run (module scope) with --parallel 2 --retries 1 over four hosts: h1 and h3
succeed, h2 fails, ``dead`` is unreachable on both attempts. The tests below each
check one part: exit code and terminal output, extra vars, the Redis run (driver
and callback events in one run), the persisted TaskFlow state. A second run drives
a batch of two hosts on a pseudo-terminal (progress bar, exit code 0).
"""

from __future__ import annotations

import os
import pty
import subprocess

import pytest

from ansible_collections.craton.fleet.server import progress_snapshot

import callback_runs as cr
import driver_helpers as dh


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, redis_url):
    tmp = tmp_path_factory.mktemp("driver-run")
    url = dh.make_fleet(tmp, {"h1": dh.local_host(), "h2": dh.local_host(fail_me=True),
                              "h3": dh.local_host(), "dead": dh.dead_host()})
    return {"tmp": tmp, "url": url, "playbook": dh.write_playbook(tmp), "env": dh.env(tmp, redis_url)}


@pytest.fixture(scope="module")
def run(fleet, redis_url):
    run_id = cr.new_run_id()
    markers = fleet["tmp"] / "markers"
    markers.mkdir()
    proc = dh.craton(fleet["env"], "--database-url", fleet["url"], "run", fleet["playbook"], "--tenant", "acme",
                     "--parallel", 2, "--retries", 1, "-e", "marker_dir=%s" % markers, "-e", "greeting=hello",
                     "--run-id", run_id)
    data = dh.read_run(redis_url, run_id)
    data.update(proc=proc, run_id=run_id, markers=markers, state_db=str(fleet["tmp"] / "fleet.runs.db"))
    return data


def driver_events(run, event_type=None, task=None):
    return [e for e in run["events"] if e["source"] == "driver" and (event_type is None or e["type"] == event_type)
            and (task is None or e.get("task") == task)]


def test_exit_code_and_plain_lines_name_each_result(run):
    proc = run["proc"]
    assert proc.returncode == 3, proc.stdout + proc.stderr  # some hosts failed or were unreachable
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert "failed      h2: h2 broke on purpose" in lines
    assert any(ln.startswith("changed     h1") for ln in lines) and any(ln.startswith("changed     h3") for ln in lines)
    assert any(ln.startswith("retrying  dead: unreachable on attempt 1 of 2") for ln in lines), proc.stdout
    assert any(ln.startswith("unreachable dead: ") for ln in lines)
    assert "\r" not in proc.stdout  # no progress bar when stdout is not a terminal


def test_summary_lists_failed_and_unreachable_hosts_with_their_last_error(run):
    out = run["proc"].stdout
    summary = out[out.index("run %s: 4 hosts" % run["run_id"]):]
    assert "2 changed, 1 failed, 1 unreachable" in summary.splitlines()[0]
    assert "failed hosts:\n  h2: h2 broke on purpose\n    log: " in summary
    unreachable = summary[summary.index("unreachable hosts:"):].splitlines()
    assert unreachable[1].startswith("  dead: ") and ("ssh" in unreachable[1].lower() or "connect" in unreachable[1])
    assert unreachable[2].strip().endswith("host_dead.2.log")  # the log of the last attempt
    assert os.path.isfile(unreachable[2].split("log: ", 1)[1])


def test_every_host_ran_once_with_the_extra_vars_and_the_unreachable_one_never(run):
    assert dh.markers(run["markers"], "started") == {"h1": 1, "h2": 1, "h3": 1}
    assert dh.markers(run["markers"], "done") == {"h1": 1, "h3": 1}
    assert all(line.split()[1] == "hello" for line in (run["markers"] / "done").read_text().splitlines())


def test_redis_run_accounts_for_every_host_and_writer(run):
    summary = run["summary"]
    assert summary["state"] == "finished" and summary["writers_running"] == 0
    assert summary["hosts_expected"] == 4
    assert (summary["hosts_changed"], summary["hosts_failed"], summary["hosts_unreachable"]) == (2, 1, 1)
    assert summary["hosts_pending"] == summary["hosts_running"] == 0
    assert summary["events"] == summary["events_sent"] + summary["events_dropped"] == len(run["events"])
    writers = run["writers"]
    sources = sorted(w["source"] for w in writers.values())
    # the driver, and one ansible-playbook per host attempt: h1, h2, h3, dead twice
    assert sources == ["callback"] * 5 + ["driver"]
    assert not any(w["running"] for w in writers.values())
    assert run["hosts"]["dead"]["status"] == "unreachable" and run["hosts"]["h2"]["error"] == "h2 broke on purpose"


def test_driver_events_follow_the_flow_and_each_task(run):
    first = driver_events(run)[0]
    assert first["type"] == "run_start" and first["hosts"] == 4 and first["playbook"].endswith("play.yml")
    flows = [e["state"] for e in driver_events(run, "flow_state")]
    assert flows == ["RUNNING", "SUCCESS"]
    assert all(e["flow"] == "craton-run:%s" % run["run_id"] for e in driver_events(run, "flow_state"))
    h1 = [(e["state"], e["attempt"]) for e in driver_events(run, "task_state", "host:h1")]
    assert h1 == [("PENDING", 1), ("RUNNING", 1), ("SUCCESS", 1)]
    assert driver_events(run, "task_state", "host:h1")[0]["msg"].startswith("queued")
    assert driver_events(run, "task_state", "host:h1")[1]["msg"].startswith("started ansible-playbook (pid ")
    dead = driver_events(run, "task_state", "host:dead")
    states = [e["state"] for e in dead]
    assert states[:2] == ["PENDING", "RUNNING"] and "FAILURE" in states and "RETRYING" in states
    assert [e["attempt"] for e in dead if e["state"] == "RUNNING"] == [1, 2]
    assert all(e["host"] == "dead" for e in dead)
    end = driver_events(run)[-1]
    assert end["type"] == "run_end" and end["results"] == {"changed": 2, "failed": 1, "unreachable": 1}
    # recap totals of each host's final attempt
    assert end["totals"]["failures"] == 1 and end["totals"]["unreachable"] == 1
    # the playbooks' own events are in the same run
    assert {e["host"] for e in run["events"] if e["type"] == "host_changed"} == {"h1", "h2", "h3"}


def test_a_task_is_running_only_while_its_playbook_runs(run):
    # TaskFlow hands every ready task to its pool at once: those wait as PENDING (queued); a task
    # is RUNNING from its ansible-playbook's start to its end, so never more than --parallel 2 at once
    latest, most = {}, 0
    for event in driver_events(run, "task_state"):
        if event["state"] == "RUNNING":
            assert event["msg"].startswith("started ansible-playbook (pid "), event
            assert latest.get(event["task"]) == "PENDING", event  # queued before it runs
        latest[event["task"]] = event["state"]
        most = max(most, list(latest.values()).count("RUNNING"))
    assert most in (1, 2)
    assert set(latest) == {"host:h1", "host:h2", "host:h3", "host:dead"}


def test_a_failed_or_unreachable_host_is_a_failed_task_in_redis_and_on_the_page(run):
    final = {e["task"]: e for e in driver_events(run, "task_state")}
    assert {t: e["state"] for t, e in final.items()} == {
        "host:h1": "SUCCESS", "host:h3": "SUCCESS", "host:h2": "FAILURE", "host:dead": "FAILURE"}
    assert final["host:h2"]["msg"] == "failed: h2 broke on purpose"
    assert final["host:dead"]["msg"].startswith("unreachable: ") and final["host:dead"]["attempt"] == 2
    # what the progress page shows: the latest task state per host and per task
    page = progress_snapshot.driver_state(run["writers"], run["events"])
    assert {h: e["state"] for h, e in page["tasks"].items()} == {
        "h1": "SUCCESS", "h3": "SUCCESS", "h2": "FAILURE", "dead": "FAILURE"}
    assert sorted(e["state"] for e in page["by_task"].values()) == ["FAILURE", "FAILURE", "SUCCESS", "SUCCESS"]


def test_state_is_persisted_next_to_the_sqlite_fleet(run):
    assert dh.flow_states(run["state_db"]) == ["SUCCESS"]
    rows = {name: (state, results) for name, state, results in dh.state_rows(run["state_db"])}
    assert {n for n in rows if n.startswith("host:")} == {"host:h1", "host:h2", "host:h3", "host:dead"}
    state, results = rows["host:dead"]
    assert state == "SUCCESS" and results["attempt"] == 2 and results["hosts"]["dead"]["status"] == "unreachable"
    h2 = rows["host:h2"][1]["hosts"]["h2"]
    assert (h2["status"], h2["error"]) == ("failed", "h2 broke on purpose")
    assert len(rows["retry:host:dead"][1]) == 2  # the retry controller's history: two attempts


def test_a_batch_on_a_terminal_shows_a_progress_bar_and_exits_0(fleet, redis_url):
    run_id = cr.new_run_id()
    markers = fleet["tmp"] / "markers-batch"
    markers.mkdir()
    master, slave = pty.openpty()
    proc = subprocess.Popen(dh.craton_argv("--database-url", fleet["url"], "run", fleet["playbook"], "--tenant", "acme",
                                           "--host", "h1", "--host", "h3", "--batch-size", 2,
                                           "-e", "marker_dir=%s" % markers, "--run-id", run_id),
                            env=fleet["env"], stdout=slave, stderr=subprocess.PIPE, text=False)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    code = proc.wait(timeout=300)
    os.close(master)
    text = out.decode("utf-8", "replace")
    assert code == 0, text + proc.stderr.read().decode()
    assert "\r\x1b[K[" in text and "2/2 hosts  ok 2  failed 0  unreachable 0" in text
    assert "2 changed" in text and "failed hosts" not in text
    assert dh.markers(markers, "done") == {"h1": 1, "h3": 1}
    data = dh.read_run(redis_url, run_id)
    assert [w["source"] for w in data["writers"].values()].count("callback") == 1  # one ansible-playbook for both
    assert {e["task"] for e in data["events"] if e["type"] == "task_state"} == {"batch:1"}
    assert data["summary"]["hosts_expected"] == 2 and data["summary"]["hosts_changed"] == 2
