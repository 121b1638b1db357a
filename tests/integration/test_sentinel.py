"""Redis behind Sentinel: the callback, ``craton run`` and ``craton serve`` on a redis+sentinel:// URL.

A real primary, replica and three sentinels (tests/cluster/sentinel.sh, through
sentinel_fixtures.py). The fault test kills the primary with SIGKILL in the middle
of an ansible-playbook run; Sentinel promotes the replica; the callback, which only
knows the sentinels' addresses, finds the new primary through them; and the run
summary accounts for every event as docs/events.md says: written, or dropped while
the buffer was full.
"""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.event_sender import EventSender
from ansible_collections.craton.fleet.plugins.module_utils.redis_connection import (
    check_url, redis_client, safe_redis_url)

import callback_runs as cr
import driver_helpers as dh
from progress_helpers import ProgressServer, RunWriter, SSEReader
from sentinel_fixtures import SERVICE, sentinel_cluster  # noqa: F401  pylint: disable=unused-import

FAILOVER_PLAYBOOK = """
- name: The Redis primary dies mid-run
  hosts: all
  gather_facts: false
  tasks:
    - name: Before the failure
      ansible.builtin.ping:
    - name: Wait for the test to kill the primary
      ansible.builtin.wait_for:
        path: "%(sync)s/killed"
        timeout: 120
    - name: While there is no primary
      ansible.builtin.ping:
    - name: While there is no primary, a loop
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: [1, 2, 3]
    - name: Tell the test that the events of the outage are made
      ansible.builtin.file:
        path: "%(sync)s/made"
        state: touch
        mode: "0644"
      run_once: true
      changed_when: false
    - name: Wait for the failover
      ansible.builtin.wait_for:
        path: "%(sync)s/failed-over"
        timeout: 120
    - name: After the failover
      ansible.builtin.ping:
"""
# Events numbered by the callback (seq) of FAILOVER_PLAYBOOK on three hosts:
MADE_BEFORE_KILL = 7        # run_start, play_start, task_start + 3 host_ok (Before), task_start (Wait)
MADE_IN_OUTAGE = 12         # 3 host_ok (Wait), 4 (While...), 4 (the loop), task_start (Tell): before "made" exists
MADE_AFTER = 10             # host_ok (Tell), task_start + 3 host_ok (Wait), task_start + 3 host_ok (After), run_end


def read_run(url, run_id):
    """Summary, hosts and events of a run, read through Sentinel."""
    keys = ev.RunKeys(cr.PREFIX, run_id)
    client = redis_client(url, timeout=5)
    try:
        return {"summary": ev.read_summary(client, keys), "hosts": ev.read_hosts(client, keys),
                "events": [event for _id, event in ev.read_events(client, keys)]}
    finally:
        client.close()


def sentinels_set(cluster, option, value):
    for name in ("sentinel-1", "sentinel-2", "sentinel-3"):
        assert cluster.client(name).execute_command("SENTINEL", "SET", SERVICE, option, str(value))


def test_primary_killed_mid_run_sentinel_fails_over_and_every_event_is_accounted_for(
        sentinel_cluster, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    """Buffer of 5: the events of the outage overflow it; exactly the newest are dropped and counted."""
    cluster = sentinel_cluster
    buffer_size = 5
    sync = tmp_path / "sync"
    sync.mkdir()
    run_id = cr.new_run_id()
    env = cr.ansible_env(tmp_path, cluster.url, run_id, CRATON_REDIS_BUFFER_SIZE=buffer_size,
                         CRATON_REDIS_FLUSH_TIMEOUT=60)
    inv = cr.write(tmp_path, "hosts.ini", cr.inventory(dead=()))
    play = cr.write(tmp_path, "play.yml", FAILOVER_PLAYBOOK % {"sync": sync})
    proc = subprocess.Popen(cr.playbook_command(inv, play), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def quiet():
            # The playbook waits; the primary has all it made and the replica has all of that.
            s = read_run(cluster.url, run_id)["summary"]
            return s.get("events") == MADE_BEFORE_KILL == s["events_sent"] and cluster.replicated()
        cr.wait_for(quiet, what="the events before the failure, on the primary and its replica")
        assert cluster.primary() == "redis-1"
        # Sentinel waits (down-after-milliseconds raised) until the playbook has made the events
        # of the outage, so that they are certainly made while there is no primary.
        sentinels_set(cluster, "down-after-milliseconds", 600000)
        cluster.kill("redis-1")
        (sync / "killed").touch()
        cr.wait_for((sync / "made").exists, what="the events of the outage")
        sentinels_set(cluster, "down-after-milliseconds", 1000)
        cr.wait_for(lambda: cluster.promoted("redis-2"),
                    what="Sentinel to promote redis-2\n" + cluster.log())
        (sync / "failed-over").touch()
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out + err
    assert set(cr.recap(out)) == {"h1", "h2", "h3"}
    assert all("failed=0" in line and "unreachable=0" in line for line in cr.recap(out).values())
    [warning] = cr.callback_warnings(text=out + err)
    assert "cannot write events to Redis at %s" % cluster.url in warning
    assert "Traceback" not in out + err

    run = read_run(cluster.url, run_id)      # from redis-2, the only Redis left
    s = run["summary"]
    assert s["state"] == "finished" and s["writers_running"] == 0
    made = s["events"]
    assert made == MADE_BEFORE_KILL + MADE_IN_OUTAGE + MADE_AFTER
    assert run["events"][-1]["type"] == "run_end" and run["events"][-1]["events"] == made
    seqs = {e["seq"] for e in run["events"]}
    dropped = s["events_dropped"]
    assert s["events_sent"] + dropped == made
    # Written before the kill (replicated), buffered in the outage, then after the failover;
    # while the buffer was full the newest events were dropped: one run of seq numbers.
    first_dropped = MADE_BEFORE_KILL + buffer_size + 1
    assert seqs == set(range(1, made + 1)) - set(range(first_dropped, first_dropped + dropped))
    assert dropped >= MADE_IN_OUTAGE - buffer_size
    assert {h: state["status"] for h, state in run["hosts"].items()} == {"h1": "ok", "h2": "ok", "h3": "ok"}
    assert s["hosts_ok"] == s["hosts_expected"] == 3


STREAM_PLAYBOOK = """
- name: Events flow while the primary dies
  hosts: all
  gather_facts: false
  tasks:
%(steps)s
    - name: Wait for the failover
      ansible.builtin.wait_for:
        path: "%(sync)s/failed-over"
        timeout: 120
    - name: After the failover
      ansible.builtin.ping:
"""
STEPS = 60


def test_primary_killed_while_events_flow_with_wait_replicas_loses_nothing(
        sentinel_cluster, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    """No pause before the kill: batches are in flight. With wait_replicas=1 a batch counts as
    written only once the replica has it, so the promoted replica has every event."""
    cluster = sentinel_cluster
    url = cluster.url + "?wait_replicas=1"
    sync = tmp_path / "sync"
    sync.mkdir()
    run_id = cr.new_run_id()
    steps = "\n".join("    - name: Step %d\n      ansible.builtin.debug:\n        msg: step %d" % (i, i)
                      for i in range(STEPS))
    env = cr.ansible_env(tmp_path, url, run_id, CRATON_REDIS_FLUSH_TIMEOUT=60)
    inv = cr.write(tmp_path, "hosts.ini", cr.inventory(dead=()))
    play = cr.write(tmp_path, "play.yml", STREAM_PLAYBOOK % {"sync": sync, "steps": steps})
    proc = subprocess.Popen(cr.playbook_command(inv, play), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # Kill once a tenth of the steps are written, while the playbook goes on making events.
        cr.wait_for(lambda: (read_run(cluster.url, run_id)["summary"].get("events_sent") or 0) >= 2 + 4 * STEPS // 10,
                    what="the first steps' events")
        cluster.kill("redis-1")
        cr.wait_for(lambda: cluster.promoted("redis-2"),
                    what="Sentinel to promote redis-2\n" + cluster.log())
        (sync / "failed-over").touch()
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out + err
    [warning] = cr.callback_warnings(text=out + err)
    assert "cannot write events to Redis at %s" % safe_redis_url(url) in warning

    run = read_run(cluster.url, run_id)
    s = run["summary"]
    made = 2 + 4 * STEPS + 4 + 4 + 1          # run/play start, the steps, Wait, After, run_end
    assert s["state"] == "finished" and s["events"] == made
    assert s["events_sent"] == made and s["events_dropped"] == 0
    assert {e["seq"] for e in run["events"]} == set(range(1, made + 1))       # at least once: maybe twice
    assert {h: state["status"] for h, state in run["hosts"].items()} == {"h1": "ok", "h2": "ok", "h3": "ok"}


def test_wait_replicas_keeps_a_batch_no_replica_acknowledged(sentinel_cluster):  # noqa: F811  pylint: disable=redefined-outer-name
    cluster = sentinel_cluster
    keys = ev.RunKeys(cr.PREFIX, cr.new_run_id())
    url = cluster.url + "?wait_replicas=1"
    sender = EventSender(lambda: redis_client(url, timeout=1), keys, "callback", interval=0.05)
    sender.emit("run_start", hosts=1, user="u", controller="c")
    sender.start()
    cr.wait_for(lambda: sender.sent == 1, what="the first batch")
    cluster.kill("redis-2")
    sender.emit("task_start", task="t", task_id="t1")
    assert not sender.close(5)
    assert sender.sent == 1 and sender.unsent == 1
    notices = sender.take_notices()
    assert len(notices) == 1 and notices[0][0] == "warning"
    assert "0 of 1 replicas acknowledged the batch" in notices[0][1]
    # The primary has the batch (WAIT does not undo it); the sender will send it again (at least once).
    assert [e["type"] for _i, e in ev.read_events(cluster.client("redis-1"), keys)] == ["run_start", "task_start"]


def test_craton_run_and_the_progress_page_through_sentinel(sentinel_cluster, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    cluster = sentinel_cluster
    # craton run: the driver's and the playbooks' events go through Sentinel.
    fleet_url = dh.make_fleet(tmp_path, {"h1": dh.local_host()})
    markers = tmp_path / "markers"
    markers.mkdir()
    run_id = cr.new_run_id()
    proc = dh.craton(dh.env(tmp_path, cluster.url), "--database-url", fleet_url, "run", dh.write_playbook(tmp_path),
                     "--tenant", "acme", "-e", "marker_dir=%s" % markers, "--run-id", run_id)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = read_run(cluster.url, run_id)
    assert run["summary"]["state"] == "finished" and run["summary"]["hosts_changed"] == 1
    assert run["summary"]["events"] == run["summary"]["events_sent"] > 0
    assert {e["source"] for e in run["events"]} == {"driver", "callback"}

    # craton serve: the snapshot (blocking client) and the event stream (asyncio client).
    server = ProgressServer(tmp_path / "serve", cluster.url, fleet_url).start()
    try:
        snapshot = server.json("/progress/api/runs/%s" % run_id)
        assert snapshot["summary"]["hosts_changed"] == 1
        assert {h["name"] if isinstance(h, dict) else h for h in snapshot["hosts"]} == {"h1"}
        assert run_id in [r["run_id"] for r in server.json("/progress/api/runs")["runs"]]
        writer = RunWriter(redis_client(cluster.url, timeout=5), cr.new_run_id(), ["web1"])
        writer.start()
        reader = SSEReader(server, writer.keys.run_id)
        try:
            kind, _sse_id, data = next(reader.messages())
        finally:
            reader.close()
        assert kind == "batch" and [e["type"] for e in data["events"]] == ["run_start", "play_start"]

        # The primary dies: once Sentinel has promoted the replica, the server reads from it.
        cr.wait_for(cluster.replicated, what="the replica to have the runs")
        cluster.kill("redis-1")
        cr.wait_for(lambda: cluster.promoted("redis-2"), what="Sentinel to promote redis-2")
        path = "/progress/api/runs/%s" % run_id
        cr.wait_for(lambda: server.get(path)[0] == 200, what="the snapshot from redis-2")
        assert server.json(path)["summary"] == snapshot["summary"]
    finally:
        server.stop()


@pytest.mark.parametrize("url, says", [
    ("redis+sentinel://127.0.0.1:26379", "no service name"),
    ("redis+sentinel://127.0.0.1:26379/", "no service name"),
    ("redis+sentinel://127.0.0.1:99999/craton", "sentinel address '127.0.0.1:99999' has no valid port"),
    ("redis+sentinel://a:1,,b:2/craton", "an empty sentinel address"),
    ("redis+sentinel://a:1/craton/x", "must be a database number, not 'x'"),
    ("redis+sentinel://a:1/craton?tls=1", "unknown query argument tls"),
    ("redis+sentinel://a:1/bad name", "service name 'bad name'"),
    ("redis+sentinel://a:1/craton?wait_replicas=all", "wait_replicas must be a number of replicas"),
])
def test_a_bad_sentinel_url_is_one_clear_error(url, says):
    with pytest.raises(CratonError) as info:
        check_url(url)
    assert says in str(info.value) and "expected redis+sentinel://" in str(info.value)
    assert "\n" not in str(info.value)


def test_sentinel_url_passwords_are_masked_and_tls_options_refused():
    url = "redis+sentinel://:s3cret@127.0.0.1:26379,127.0.0.1:26380/craton/1?sentinel_password=other"
    assert safe_redis_url(url) == ("redis+sentinel://:***@127.0.0.1:26379,127.0.0.1:26380/craton/1"
                                   "?sentinel_password=***")
    with pytest.raises(CratonError, match="not supported with Sentinel"):
        redis_client(url, tls_ca_file="/etc/ssl/certs/ca-certificates.crt")


def test_callback_and_craton_run_refuse_a_bad_sentinel_url_in_one_line(tmp_path):
    url = "redis+sentinel://:s3cret@127.0.0.1:26379/"
    inv = cr.write(tmp_path, "hosts.ini", cr.inventory(local=("h1",), dead=()))
    play = cr.write(tmp_path, "play.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    proc = cr.run_playbook(cr.ansible_env(tmp_path, url, cr.new_run_id()), inv, play)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [warning] = cr.callback_warnings(proc)
    assert "disabled: invalid Redis Sentinel URL redis+sentinel://:***@127.0.0.1:26379/: no service name" in warning
    assert "s3cret" not in proc.stdout + proc.stderr

    fleet_url = dh.make_fleet(tmp_path, {"h1": dh.local_host()})
    run = dh.craton(dh.env(tmp_path, url), "--database-url", fleet_url, "run", play, "--tenant", "acme")
    assert run.returncode != 0
    assert "invalid Redis Sentinel URL" in run.stderr and "no service name" in run.stderr
    assert "Traceback" not in run.stderr and "s3cret" not in run.stdout + run.stderr


def test_the_conductors_jobboard_on_the_sentinel_url_survives_a_failover(sentinel_cluster, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    """driver/conductor.py's jobboard() (conf from taskflow_jobboard_conf): TaskFlow's own Sentinel client."""
    from ansible_collections.craton.fleet.driver import conductor  # pylint: disable=import-outside-toplevel
    from ansible_collections.craton.fleet.driver.state import open_store  # pylint: disable=import-outside-toplevel
    cluster = sentinel_cluster
    store = open_store("sqlite:///%s" % (tmp_path / "runs.db"), None)
    board = conductor.jobboard(cluster.url, store, namespace="craton-test-jobs")
    try:
        job = board.post("probe", details={"n": 1})
        assert [j.uuid for j in board.iterjobs(ensure_fresh=True)] == [job.uuid]
        assert cluster.client("redis-1").exists(board.listings_key)   # written to the primary
        cr.wait_for(cluster.replicated, what="the replica to have the job")
        cluster.kill("redis-1")
        cr.wait_for(lambda: cluster.promoted("redis-2"), what="Sentinel to promote redis-2")
        # The board's client (redis-py's default retries) reconnects through the sentinels.
        assert [j.uuid for j in board.iterjobs(ensure_fresh=True)] == [job.uuid]
        assert cluster.client("redis-2").exists(board.listings_key)
    finally:
        board.close()
        store.close()
