"""craton.fleet.redis: what one real ansible-playbook run writes to a real Redis.

One playbook run (module scope) over three local hosts and one unreachable host,
with ok, changed, failed (counted, ignored and no_log), skipped and looping
tasks; the tests below each check one part of what it wrote.
"""

from __future__ import annotations

import pytest

from ansible_collections.craton.fleet.plugins.module_utils import events as ev

import callback_runs as cr

SECRET = "s3cr3t-value-that-must-not-leak"
MESSAGE_SIZE = 64
PLAYBOOK = """
- name: Events of every kind
  hosts: all
  gather_facts: false
  vars:
    db_password: "%(secret)s"
  tasks:
    - name: Ping
      ansible.builtin.ping:

    - name: Change something
      ansible.builtin.command: "true"

    - name: Loop over three items
      ansible.builtin.debug:
        msg: "item {{ item }}"
      loop: [1, 2, 3]

    - name: Use a secret quietly
      ansible.builtin.command: "sh -c 'echo {{ db_password }}; echo {{ db_password }} >&2; exit 3'"
      no_log: true
      ignore_errors: true

    - name: Skip everywhere
      ansible.builtin.debug:
        msg: "never"
      when: false

    - name: Fail on h2 with a long message
      ansible.builtin.fail:
        msg: "h2 broke: {{ 'x' * 200 }}"
      when: inventory_hostname == 'h2'

    - name: Last task
      ansible.builtin.command: "echo done"
      changed_when: false
""" % {"secret": SECRET}


@pytest.fixture(scope="module")
def run(redis_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("callback-events")
    run_id = cr.new_run_id()
    env = cr.ansible_env(tmp, redis_url, run_id, CRATON_REDIS_MESSAGE_SIZE=MESSAGE_SIZE)
    proc = cr.run_playbook(env, cr.write(tmp, "hosts.ini", cr.inventory()), cr.write(tmp, "play.yml", PLAYBOOK))
    data = cr.read_run(redis_url, run_id)
    data.update(proc=proc, run_id=run_id)
    return data


def of_type(run, event_type, host=None):
    return [e for e in run["events"] if e["type"] == event_type and (host is None or e.get("host") == host)]


def test_the_playbook_ran_normally_with_the_callback(run):
    # h2 failed and dead is unreachable: ansible-playbook exits with 4 (unreachable hosts).
    assert run["proc"].returncode == 4, run["proc"].stdout + run["proc"].stderr
    assert cr.callback_warnings(run["proc"]) == []
    assert "Traceback" not in run["proc"].stderr


def test_run_start_has_playbook_host_count_user_and_controller(run):
    first = run["events"][0]
    assert first["type"] == "run_start"
    assert first["playbook"].endswith("play.yml")
    assert first["hosts"] == 4
    assert first["user"] and first["controller"]
    assert first["source"] == "callback" and first["run"] == run["run_id"]


def test_ok_changed_failed_skipped_and_unreachable_events_name_host_and_task(run):
    assert {e["host"] for e in of_type(run, "host_ok") if e["task"] == "Ping"} == {"h1", "h2", "h3"}
    assert {e["host"] for e in of_type(run, "host_changed") if e["task"] == "Change something"} == {"h1", "h2", "h3"}
    assert {e["host"] for e in of_type(run, "host_skipped") if e["task"] == "Skip everywhere"} == {"h1", "h2", "h3"}
    skipped = of_type(run, "host_skipped", "h1")[0]
    assert skipped["msg"] == "Conditional result was False"

    [unreachable] = of_type(run, "host_unreachable")
    assert unreachable["host"] == "dead" and unreachable["task"] == "Ping"
    assert "Failed to connect to the host" in unreachable["msg"]

    [failed] = [e for e in of_type(run, "host_failed") if not e.get("ignored")]
    assert failed["host"] == "h2" and failed["task"] == "Fail on h2 with a long message"
    assert failed["msg"].startswith("h2 broke: xxx")


def test_results_carry_duration_and_return_code(run):
    changed = of_type(run, "host_changed", "h1")[0]
    assert changed["rc"] == 0 and changed["duration"] >= 0 and changed["action"] == "ansible.builtin.command"
    last = [e for e in of_type(run, "host_ok", "h3") if e["task"] == "Last task"][0]
    assert last["rc"] == 0


def test_messages_are_truncated_to_the_configured_size(run):
    [failed] = [e for e in of_type(run, "host_failed") if not e.get("ignored")]
    assert len(failed["msg"]) == MESSAGE_SIZE and failed["msg"].endswith("\u2026")
    assert len(run["hosts"]["h2"]["error"]) == MESSAGE_SIZE


def test_a_loop_is_one_event_per_host_with_an_item_summary(run):
    loop = [e for e in run["events"] if e.get("task") == "Loop over three items" and e["type"] != "task_start"]
    assert sorted(e["host"] for e in loop) == ["h1", "h2", "h3"]
    assert all(e["type"] == "host_ok" and e["items"] == {"total": 3, "ok": 3} for e in loop)


def test_no_log_results_and_variables_never_reach_redis(run):
    quiet = [e for e in run["events"] if e.get("task") == "Use a secret quietly" and e["type"] == "host_failed"]
    assert len(quiet) == 3
    assert all(e["no_log"] is True and e["ignored"] is True and "msg" not in e for e in quiet)
    assert SECRET not in run["text"]
    assert "db_password" not in run["text"]
    # ok/changed events carry no module output at all
    assert all("msg" not in e for e in run["events"] if e["type"] in ("host_ok", "host_changed"))


def test_sequence_numbers_count_up_without_gaps_in_stream_order(run):
    seqs = [e["seq"] for e in run["events"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert run["ids"] == sorted(run["ids"], key=lambda i: tuple(int(p) for p in i.split("-")))
    assert len({e["writer"] for e in run["events"]}) == 1
    order = [e["type"] for e in run["events"]]
    assert order[:3] == ["run_start", "play_start", "task_start"] and order[-1] == "run_end"
    # every result comes after its task's task_start
    started = set()
    for e in run["events"]:
        if e["type"] == "task_start":
            started.add(e["task_id"])
        elif e["type"].startswith("host_"):
            assert e["task_id"] in started


def test_per_host_status_is_the_final_outcome_with_recap_counters(run):
    hosts = run["hosts"]
    assert {h: s["status"] for h, s in hosts.items()} == {
        "h1": "changed", "h2": "failed", "h3": "changed", "dead": "unreachable"}
    assert hosts["h2"]["stats"]["failures"] == 1 and hosts["h2"]["task"] == "Fail on h2 with a long message"
    assert hosts["dead"]["stats"]["unreachable"] == 1 and "error" in hosts["dead"]
    assert "error" not in hosts["h1"]   # the ignored no_log failure does not count


def test_run_summary_knows_expected_hosts_counts_and_every_event(run):
    s = run["summary"]
    assert s["run_id"] == run["run_id"] and s["state"] == "finished" and s["schema"] == ev.SCHEMA_VERSION
    assert s["hosts_expected"] == 4
    assert (s["hosts_changed"], s["hosts_failed"], s["hosts_unreachable"]) == (2, 1, 1)
    assert s["hosts_pending"] == s["hosts_running"] == s["hosts_ok"] == 0
    assert s["events"] == s["events_sent"] == len(run["events"]) and s["events_dropped"] == 0
    assert s["writers_running"] == 0 and s["ended_at"] >= s["started_at"]
    end = run["events"][-1]
    assert end["results"] == {"changed": 2, "failed": 1, "unreachable": 1}
    assert end["events"] == s["events"] and end["dropped"] == 0
    assert end["totals"]["failures"] == 1 and end["totals"]["unreachable"] == 1


def test_the_run_is_in_the_index_of_runs(run, redis_url):
    client = cr.client(redis_url)
    assert client.zscore(ev.index_key(cr.PREFIX), run["run_id"]) == pytest.approx(run["summary"]["started_at"], abs=0.01)
    newest = ev.list_runs(client, cr.PREFIX, limit=5)
    assert newest == sorted(newest, key=lambda r: -r[1])
    ttl = cr.client(redis_url).ttl(run["keys"].events)
    assert 0 < ttl <= ev.DEFAULT_RETENTION_DAYS * 86400


def test_the_stream_is_capped_at_the_configured_length(redis_url, tmp_path):
    run_id = cr.new_run_id()
    env = cr.ansible_env(tmp_path, redis_url, run_id, CRATON_REDIS_STREAM_MAXLEN=5)
    playbook = """
- name: Many events
  hosts: all
  gather_facts: false
  tasks:
    - name: First
      ansible.builtin.debug: {msg: one}
    - name: Second
      ansible.builtin.debug: {msg: two}
"""
    proc = cr.run_playbook(env, cr.write(tmp_path, "hosts.ini", cr.inventory(dead=())),
                           cr.write(tmp_path, "play.yml", playbook))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = cr.read_run(redis_url, run_id)
    total = data["summary"]["events"]
    assert total == 1 + 1 + 2 * (1 + 3) + 1            # run, play, 2 x (task + 3 hosts), end
    assert [e["seq"] for e in data["events"]] == list(range(total - 4, total + 1))   # the newest 5
    assert data["summary"]["events_sent"] == total      # all were sent; the cap trimmed the oldest
    assert len(data["hosts"]) == 3                      # host states are not capped


def test_several_playbooks_in_one_command_are_one_run(redis_url, tmp_path):
    run_id = cr.new_run_id()
    env = cr.ansible_env(tmp_path, redis_url, run_id)
    inv = cr.write(tmp_path, "hosts.ini", cr.inventory(local=("h1", "h2"), dead=()))
    first = cr.write(tmp_path, "first.yml", "- name: First\n  hosts: h1\n  gather_facts: false\n  tasks:\n"
                                            "    - name: Ping\n      ansible.builtin.ping:\n")
    second = cr.write(tmp_path, "second.yml", "- name: Second\n  hosts: all\n  gather_facts: false\n  tasks:\n"
                                              "    - name: Ping\n      ansible.builtin.ping:\n")
    proc = cr.run_playbook(env, inv, first, second)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = cr.read_run(redis_url, run_id)
    types = [e["type"] for e in data["events"]]
    assert types.count("run_start") == 1 and types[-1] == "run_end" and types.count("run_end") == 1
    assert types.index("playbook_end") < types.index("playbook_start")
    assert data["events"][0]["hosts"] == 1            # the first playbook targets h1 only
    s = data["summary"]
    assert s["state"] == "finished" and s["hosts_expected"] == 2 and s["hosts_ok"] == 2
    assert s["events"] == s["events_sent"] == len(data["events"]) and len(data["writers"]) == 2
