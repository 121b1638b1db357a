"""The shared event schema (module_utils/events.py) and sender, against a real Redis.

What the driver and the progress page rely on beyond one ansible-playbook run:
field encoding, several writers in one run, the bounded buffer.
"""

from __future__ import annotations

import pytest
import redis

from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.event_sender import EventSender
from ansible_collections.craton.fleet.plugins.module_utils.redis_connection import redis_client

import callback_runs as cr


def test_every_field_survives_encoding_in_a_real_stream(redis_url):
    keys = ev.RunKeys(cr.PREFIX, cr.new_run_id())
    sent = ev.make_event(keys.run_id, 7, "host_failed", "callback", "abcd1234", host="web-01", ts=1700000000.125,
                         task="Install", task_id="t-1", action="ansible.builtin.dnf", duration=1.5, rc=2,
                         msg="No package \u00e9", ignored=True, items={"total": 2, "failed": 1, "ok": 1}, no_log=False)
    client = redis.Redis.from_url(redis_url)
    client.xadd(keys.events, dict(zip(*[iter(ev.encode_event(sent))] * 2)))
    [(_stream_id, got)] = ev.read_events(client, keys)
    client.delete(keys.events)
    assert got == sent


def test_the_schema_refuses_what_readers_would_not_know():
    with pytest.raises(CratonError, match="unknown event type 'host_maybe'"):
        ev.make_event("r", 1, "host_maybe", "callback", "w")
    with pytest.raises(CratonError, match="unknown event source 'cron'"):
        ev.make_event("r", 1, "run_start", "cron", "w")
    with pytest.raises(CratonError, match="field 'password' is not part of a host_ok event"):
        ev.make_event("r", 1, "host_ok", "callback", "w", host="h", password="x")
    with pytest.raises(CratonError, match="invalid run id 'a b'"):
        ev.RunKeys("craton", "a b")
    with pytest.raises(CratonError, match="invalid Redis key prefix"):
        ev.RunKeys("cra{ton", "r1")
    keys = ev.RunKeys("craton", "r1")
    assert (keys.summary, keys.hosts, keys.events, keys.index) == (
        "craton:run:{r1}", "craton:run:{r1}:hosts", "craton:run:{r1}:events", "craton:runs")


def test_error_messages_prefer_msg_then_stderr_and_are_cut():
    assert ev.error_message({"msg": "boom", "stderr": "other"}) == "boom"
    assert ev.error_message({"rc": 1, "stderr": "warning: x\nfatal: disk full\n\n", "stdout": "ok"}) == "fatal: disk full"
    assert ev.error_message({"msg": "One or more items failed", "results": [
        {"failed": False}, {"failed": True, "msg": "item two broke"}]}) == "item two broke"
    assert ev.error_message({"msg": "x" * 300}, size=10) == "x" * 9 + "\u2026"
    assert ev.error_message({"changed": False}) is None
    assert ev.summarise_items([{"changed": True}, {"skipped": True}, {"failed": True}, "raw"]) == {
        "total": 4, "changed": 1, "skipped": 1, "failed": 1, "ok": 1}


def make_sender(url, keys, **kwargs):
    return EventSender(lambda: redis_client(url, timeout=1), keys, "driver" if kwargs.pop("driver", False)
                       else "callback", writer_info={"pid": 1}, run_info={"playbook": "p.yml"},
                       interval=0.02, **kwargs)


def test_several_writers_share_one_run_and_its_counters(redis_url):
    """As with craton run: the driver announces every host, each ansible-playbook reports its own."""
    keys = ev.RunKeys(cr.PREFIX, cr.new_run_id())
    client = redis.Redis.from_url(redis_url)
    driver = make_sender(redis_url, keys, driver=True)
    driver.register_hosts(["a", "b", "c"])
    driver.emit("run_start", hosts=3, user="u", controller="c")
    driver.start()
    cr.wait_for(lambda: ev.read_summary(client, keys).get("hosts_pending") == 3, what="the driver's hosts")

    writers = []
    for host, status in (("a", "ok"), ("b", "failed")):
        w = make_sender(redis_url, keys)
        w.register_hosts([host])
        w.emit("host_" + status, host=host, task="t")
        w.set_host(host, {"status": status})
        w.emit("run_end", results={status: 1}, events=2, dropped=0)
        w.start()
        writers.append(w)
    assert all(w.close(10) for w in writers)
    summary = ev.read_summary(client, keys)
    assert summary["state"] == "running" and summary["writers_running"] == 1     # the driver still runs
    assert (summary["hosts_expected"], summary["hosts_pending"], summary["hosts_ok"], summary["hosts_failed"]) == (3, 1, 1, 1)

    driver.emit("flow_state", flow="run", state="SUCCESS")
    driver.set_host("c", {"status": "unreachable"})
    assert driver.close(10)
    summary = ev.read_summary(client, keys)
    assert summary["state"] == "finished" and summary["writers_running"] == 0 and summary["ended_at"]
    assert (summary["hosts_pending"], summary["hosts_unreachable"]) == (0, 1)
    assert summary["events"] == summary["events_sent"] == 2 + 2 + 2
    assert summary["source"] == "driver"                 # the first writer's description wins
    stream = [e for _stream_id, e in ev.read_events(client, keys)]
    assert len(stream) == 6 and len({e["writer"] for e in stream}) == 3
    assert set(ev.read_writers(client, keys)) == {driver.writer} | {w.writer for w in writers}


def test_a_full_buffer_drops_new_events_but_never_run_start_or_run_end():
    keys = ev.RunKeys(cr.PREFIX, cr.new_run_id())
    sender = make_sender("redis://127.0.0.1:%d/0" % cr.closed_port(), keys, buffer_size=3)
    seqs = [sender.emit("run_start", hosts=1)]
    seqs += [sender.emit("task_start", task="t%d" % i) for i in range(5)]
    seqs.append(sender.emit("run_end", events=7, dropped=3))
    assert seqs == list(range(1, 8))                     # dropped events still use their number
    assert (sender.made, sender.dropped, sender.unsent) == (7, 3, 4)
    sender.start()
    assert sender.close(5) is False                      # nothing could be written
    [(level, text)] = sender.take_notices()
    assert level == "warning" and "cannot write events to" in text
