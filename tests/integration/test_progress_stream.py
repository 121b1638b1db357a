"""The progress page's JSON and SSE endpoints over real HTTP: a real ``craton serve``, a real Redis.

Runs are written the way the callback writes them (events.build_batch + write_batch);
the browser test (test_progress_browser.py) drives real ansible-playbook runs.
"""

from __future__ import annotations

import threading
import uuid

import pytest
import redis

from inventory_helpers import build
from progress_helpers import ProgressServer, RunWriter, SSEReader

HOSTS = ["web1", "web2", "db1", "lone"]


@pytest.fixture(scope="module")
def server(redis_url, tmp_path_factory):
    directory = tmp_path_factory.mktemp("progress-api")
    url = "sqlite:///%s" % (directory / "fleet.db")
    srv = ProgressServer(directory, redis_url, url)
    build(url, {"acme": {"regions": {"east": {}, "west": {}},
                         "groups": {"app": {"children": ["web"]}, "web": {}, "db": {}},
                         "hosts": {"web1": {"region": "east", "groups": ["web"]},
                                   "web2": {"region": "west", "groups": ["web"]},
                                   "db1": {"region": "east", "groups": ["db"]}}}})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def rclient(redis_url):
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    yield client
    client.close()


def new_run(rclient, **kwargs):
    run = RunWriter(rclient, "t-%s" % uuid.uuid4().hex[:12], HOSTS, **kwargs)
    run.start()
    return run


def collect(reader, stop):
    """Messages until ``stop(messages)`` is true or the stream ends."""
    out = []
    for message in reader.messages():
        out.append(message)
        if stop(out):
            break
    return out


def event_ids(messages):
    return [e["id"] for kind, _i, data in messages if kind == "batch" for e in data["events"]]


def test_message_ids_are_stream_ids_and_a_reconnect_resumes_without_gap_or_duplicate(server, rclient):
    run = new_run(rclient)
    run.results("one", {"web1": "host_ok", "web2": "host_changed", "db1": "host_failed", "lone": "host_unreachable"})
    reader = SSEReader(server, run.keys.run_id)
    first = collect(reader, lambda m: event_ids(m) and event_ids(m)[-1] == run.stream_ids()[-1])
    reader.close()
    # The SSE id of a batch is the stream id of its last event; every event carries its own.
    for kind, sse_id, data in first:
        assert kind == "batch"
        assert sse_id == data["last"] == data["events"][-1]["id"]
        assert data["first"] == data["events"][0]["id"]
    assert event_ids(first) == run.stream_ids()
    batch = first[-1][2]
    assert batch["hosts"]["db1"]["status"] == "failed" and batch["hosts"]["db1"]["msg"] == "db1 broke at one"
    assert batch["summary"]["hosts_failed"] == 1 and batch["summary"]["hosts_unreachable"] == 1
    last_seen = first[-1][1]

    # Disconnected: the run goes on; the reconnect (Last-Event-ID) gets exactly what was missed.
    run.results("two", {"web1": "host_changed", "web2": "host_ok"})
    missed = run.stream_ids(after=last_seen)
    reader = SSEReader(server, run.keys.run_id, last_event_id=last_seen)
    got = []

    def write_live():
        run.results("three", {"web1": "host_ok", "web2": "host_ok"})

    # Catch-up from Redis, then live events through the hub while connected.
    live = None
    for kind, sse_id, data in reader.messages():
        assert kind == "batch"
        got.extend(e["id"] for e in data["events"])
        if live is None and got[-1] == missed[-1]:
            live = threading.Thread(target=write_live)
            live.start()
        if live is not None and got[-1] == run.stream_ids()[-1] and not live.is_alive():
            break
    reader.close()
    live.join()
    assert got == run.stream_ids(after=last_seen)
    assert len(got) == len(set(got))
    assert got[:len(missed)] == missed

    # Last-Event-ID wins over ?after= (a reconnecting EventSource keeps its first URL).
    reader = SSEReader(server, run.keys.run_id, last_event_id=missed[-1], after=last_seen)
    again = collect(reader, lambda m: event_ids(m) and event_ids(m)[-1] == run.stream_ids()[-1])
    reader.close()
    assert event_ids(again) == run.stream_ids(after=missed[-1])


def test_finished_run_is_served_from_state_and_the_stream_ends(server, rclient):
    run = new_run(rclient)
    run.results("one", {"web1": "host_changed", "web2": "host_ok", "db1": "host_failed", "lone": "host_ok"})
    run.finish()
    ids = run.stream_ids()

    snap = server.json("/progress/api/runs/%s" % run.keys.run_id)
    assert snap["summary"]["state"] == "finished"
    assert snap["last_id"] == ids[-1]
    assert {h: s["status"] for h, s in snap["hosts"].items()} == {
        "web1": "changed", "web2": "changed", "db1": "failed", "lone": "changed"}
    assert snap["counts"]["done"] == snap["counts"]["expected"] == 4
    # Regions and groups from the fleet database (groups include their ancestors).
    assert snap["membership"]["regions"] == {"east": ["db1", "web1"], "west": ["web2"], "(not in fleet)": ["lone"]}
    assert snap["membership"]["groups"] == {"app": ["web1", "web2"], "web": ["web1", "web2"], "db": ["db1"]}
    assert snap["aggregates"]["regions"]["east"]["failed"] == 1
    assert snap["aggregates"]["regions"]["east"]["expected"] == 2
    assert snap["aggregates"]["groups"]["app"]["changed"] == 2

    # Connected at the end: nothing to stream; an ``end`` message and the server closes.
    reader = SSEReader(server, run.keys.run_id, after=ids[-1])
    messages = list(reader.messages())
    reader.close()
    assert [m[0] for m in messages] == ["end"]
    # From an earlier id: the rest, then end.
    reader = SSEReader(server, run.keys.run_id, last_event_id=ids[2])
    messages = list(reader.messages())
    reader.close()
    assert messages[-1][0] == "end"
    assert event_ids(messages) == ids[3:]

    listing = server.json("/progress/api/runs")["runs"]
    mine = [r for r in listing if r["run_id"] == run.keys.run_id]
    assert mine and mine[0]["state"] == "finished" and mine[0]["hosts_failed"] == 1


def test_live_run_ends_with_an_end_message_when_it_finishes(server, rclient):
    run = new_run(rclient)
    reader = SSEReader(server, run.keys.run_id)
    kinds = []
    for kind, _i, data in reader.messages():
        kinds.append(kind)
        if kind == "batch" and data["events"][-1]["type"] == "play_start":
            threading.Thread(target=lambda: (run.results("one", {h: "host_ok" for h in HOSTS}), run.finish())).start()
    reader.close()
    assert kinds[-1] == "end"


def test_trimmed_stream_gives_a_reset_with_the_snapshot(server, rclient):
    run = new_run(rclient, maxlen=5)
    before = run.stream_ids()[0]
    for task in ("a", "b", "c"):
        run.results(task, {h: "host_ok" for h in HOSTS})
    assert run.stream_ids()[0] != before  # the first events were trimmed away
    reader = SSEReader(server, run.keys.run_id, last_event_id=before)
    kind, sse_id, data = next(reader.messages())
    reader.close()
    assert kind == "reset"
    assert sse_id == data["last_id"] == run.stream_ids()[-1]
    assert set(data["hosts"]) == set(HOSTS)


def test_auth_and_bad_input(server, rclient):
    run = new_run(rclient)
    path = "/progress/api/runs/%s" % run.keys.run_id
    status, _h, body = server.get(path, token=False)
    assert status == 401 and b"missing API token" in body
    assert server.get(path, token="craton_nope")[0] == 401
    tenant_token = server.create_token("--tenant", "acme")
    status, _h, body = server.get(path, token=tenant_token)
    assert status == 403 and b"not tenant-scoped" in body
    status, _h, body = server.get(path + "/events", headers={"Last-Event-ID": "yesterday"})
    assert status == 400 and b"invalid stream position" in body
    assert server.get("/progress/api/runs/t-unknown-run")[0] == 404
    assert server.get("/progress/api/runs/t-unknown-run/events")[0] == 404
    assert server.get("/progress/api/runs/bad%20id")[0] == 400

    # A browser: ?token= once, then the cookie (EventSource cannot send headers).
    status, headers, _b = server.get("/progress/runs/%s?token=%s" % (run.keys.run_id, server.token), token=False)
    assert status == 303 and headers["location"] == "/progress/runs/%s" % run.keys.run_id
    cookie = headers["set-cookie"].split(";")[0]
    assert "HttpOnly" in headers["set-cookie"] and "SameSite=strict" in headers["set-cookie"]
    status, _h, body = server.get("/progress/runs/%s" % run.keys.run_id, token=False, headers={"Cookie": cookie})
    assert status == 200 and b"/progress/static/run.js" in body
    status, _h, _b = server.get(path, token=False, headers={"Cookie": cookie})
    assert status == 200
    status, _h, body = server.get("/progress/runs/%s" % run.keys.run_id, token=False)
    assert status == 401 and b"?token=" in body
    status, headers, body = server.get("/progress/?token=craton_nope", token=False)
    assert status == 401 and b"invalid API token" in body and "set-cookie" not in headers
    status, _h, body = server.get("/progress/static/run.js", token=False)
    assert status == 200 and b"EventSource" in body


def test_a_playbook_ending_in_a_shared_run_sends_only_the_hosts_it_changed(server, rclient):
    # craton run: one ansible-playbook (writer) per host, each with its start and end events;
    # the live stream must not resend every host's state for each of them.
    run = new_run(rclient)
    run.results("one", {h: "host_ok" for h in HOSTS})
    reader = SSEReader(server, run.keys.run_id, after=run.stream_ids()[-1])
    child = RunWriter(rclient, run.keys.run_id, ["web1"])
    ended = None
    # Each write waits for the server's answer to the one before, so every batch is one read.
    for kind, _i, data in reader.messages(comments=True):
        if kind == "comment":
            if data == "live":  # caught up (nothing to catch up): the rest comes live
                child.start()
            continue
        assert kind == "batch"
        types = [e["type"] for e in data["events"]]
        if "play_start" in types:
            child.results("two", {"web1": "host_ok"})
        if "host_ok" in types:
            child.finish()
        if "run_end" in types:
            ended = data
            break
    reader.close()
    assert set(ended["hosts"]) == {"web1"}
    assert ended["hosts"]["web1"]["status"] == "changed"
    assert ended["summary"]["hosts_changed"] == 1 and ended["summary"]["state"] == "running"
