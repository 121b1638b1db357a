"""craton.fleet.redis never changes a playbook's outcome: Redis down, killed, silent; no library; bad settings."""

from __future__ import annotations

import socket
import subprocess

import pytest

import callback_runs as cr

PLAYBOOK = """
- name: A small run
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
    - name: Fail on h2
      ansible.builtin.fail:
        msg: broken
      when: inventory_hostname == 'h2'
"""

OUTAGE_PLAYBOOK = """
- name: Redis goes away and comes back
  hosts: all
  gather_facts: false
  tasks:
    - name: Before the outage
      ansible.builtin.ping:
    - name: Wait for the test to kill Redis
      ansible.builtin.wait_for:
        path: "%(sync)s/killed"
        timeout: 120
    - name: During the outage
      ansible.builtin.ping:
    - name: During the outage, a loop
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: [1, 2, 3]
    - name: Tell the test that the outage events are made
      ansible.builtin.file:
        path: "%(sync)s/made"
        state: touch
        mode: "0644"
      run_once: true
      changed_when: false
    - name: Wait for the test to restart Redis
      ansible.builtin.wait_for:
        path: "%(sync)s/restarted"
        timeout: 120
    - name: After the outage
      ansible.builtin.ping:
"""


def run_both(tmp_path, inventory_text, playbook_text, **callback_env):
    """The same playbook without and with the callback: (baseline, with_callback)."""
    inv = cr.write(tmp_path, "hosts.ini", inventory_text)
    play = cr.write(tmp_path, "play.yml", playbook_text)
    baseline = cr.run_playbook(cr.ansible_env(tmp_path / "a", callback=False), inv, play)
    with_cb = cr.run_playbook(cr.ansible_env(tmp_path / "b", **callback_env), inv, play)
    return baseline, with_cb


def assert_same_outcome(baseline, with_cb):
    assert with_cb.returncode == baseline.returncode
    assert cr.recap(with_cb.stdout) == cr.recap(baseline.stdout) != {}
    assert "Traceback" not in with_cb.stdout + with_cb.stderr


def test_redis_not_running_at_start_leaves_results_and_exit_code_unchanged_with_one_warning(tmp_path):
    baseline, with_cb = run_both(tmp_path, cr.inventory(), PLAYBOOK,
                                 redis_url="redis://127.0.0.1:%d/0" % cr.closed_port())
    assert baseline.returncode == 4   # a failed and an unreachable host
    assert_same_outcome(baseline, with_cb)
    [warning] = cr.callback_warnings(with_cb)
    assert "cannot write events to Redis at redis://127.0.0.1:" in warning
    assert "The playbook is not affected" in warning


def test_a_redis_that_does_not_answer_costs_one_warning_and_no_hang(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)   # connections complete in the kernel, nothing ever answers
    try:
        url = "redis://127.0.0.1:%d/0" % silent.getsockname()[1]
        inv = cr.write(tmp_path, "hosts.ini", cr.inventory(dead=()))
        env = cr.ansible_env(tmp_path, url, cr.new_run_id(), CRATON_REDIS_TIMEOUT=0.5)
        proc = cr.run_playbook(env, inv, cr.write(tmp_path, "play.yml", PLAYBOOK), timeout=120)
    finally:
        silent.close()
    assert proc.returncode == 2, proc.stdout + proc.stderr        # h2 failed, as without the callback
    assert cr.recap(proc.stdout)["h2"].startswith("ok=1 changed=0 unreachable=0 failed=1")
    [warning] = cr.callback_warnings(proc)
    assert "Timeout" in warning or "timed out" in warning


@pytest.mark.parametrize("buffer_size", [10000, 3], ids=["buffered", "overflowing"])
def test_redis_killed_mid_run_and_restarted(redis_server, tmp_path, buffer_size):
    """The playbook is unaffected; buffered events arrive after the restart; the summary accounts for all."""
    sync = tmp_path / "sync"
    sync.mkdir()
    run_id = cr.new_run_id()
    env = cr.ansible_env(tmp_path, redis_server.url, run_id, CRATON_REDIS_BUFFER_SIZE=buffer_size)
    inv = cr.write(tmp_path, "hosts.ini", cr.inventory(dead=()))
    play = cr.write(tmp_path, "play.yml", OUTAGE_PLAYBOOK % {"sync": sync})
    proc = subprocess.Popen(cr.playbook_command(inv, play), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        made_before = 2 + (1 + 3) + 1       # run and play start, Before (start, 3 hosts), start of Wait

        def quiet():
            # The playbook waits; the sender has written (or dropped) all it made.
            data = cr.read_run(redis_server.url, run_id)
            s = data["summary"]
            done = s.get("events") == made_before == s["events_sent"] + s["events_dropped"]
            return data if done else None
        before = cr.wait_for(quiet, what="the events before the outage")
        redis_server.stop()
        (sync / "killed").touch()
        cr.wait_for((sync / "made").exists, what="the events during the outage")
        redis_server.start()
        (sync / "restarted").touch()
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert all(line.startswith("ok=") and "failed=0" in line and "unreachable=0" in line
               for line in cr.recap(out).values())
    [warning] = cr.callback_warnings(text=out + err)
    assert "cannot write events to Redis" in warning

    after = cr.read_run(redis_server.url, run_id)
    s = after["summary"]
    assert s["state"] == "finished" and s["writers_running"] == 0
    # every event made is accounted for: written (before the kill, or after the restart) or dropped
    assert s["events"] == s["events_sent"] + s["events_dropped"]
    assert after["events"][-1]["type"] == "run_end" and after["events"][-1]["events"] == s["events"]
    seen = {e["seq"] for e in before["events"]} | {e["seq"] for e in after["events"]}
    assert len(seen) + s["events_dropped"] == s["events"]
    seqs = [e["seq"] for e in after["events"]]
    assert seqs == sorted(set(seqs))
    if buffer_size == 3:
        assert s["events_dropped"] > 0
        outage_events = [e for e in after["events"] if e["seq"] < min(seqs) + 3]
        assert len(outage_events) == 3        # the oldest 3 made during the outage were kept
    else:
        assert s["events_dropped"] == 0
        assert seen == set(range(1, s["events"] + 1))
        assert [e for e in after["events"] if e.get("task") == "During the outage, a loop"]
    # host states were written again after the restart, and are final
    assert {h: st["status"] for h, st in after["hosts"].items()} == {"h1": "ok", "h2": "ok", "h3": "ok"}
    assert (s["hosts_expected"], s["hosts_ok"]) == (3, 3)


def test_a_missing_redis_library_disables_the_callback_with_one_warning(tmp_path):
    shim = tmp_path / "no-redis"
    (shim / "redis").mkdir(parents=True)
    (shim / "redis" / "__init__.py").write_text("raise ImportError('No module named redis (test shim)')\n")
    env = cr.ansible_env(tmp_path, "redis://127.0.0.1:%d/0" % cr.closed_port(), cr.new_run_id(),
                         PYTHONPATH=str(shim))
    proc = cr.run_playbook(env, cr.write(tmp_path, "hosts.ini", cr.inventory(dead=())),
                           cr.write(tmp_path, "play.yml", PLAYBOOK))
    assert proc.returncode == 2
    [warning] = cr.callback_warnings(proc)
    assert "disabled, the Python library redis is not installed" in warning


@pytest.mark.parametrize("setting, value, message", [
    ("CRATON_REDIS_URL", "http://127.0.0.1:6379", "invalid Redis URL"),
    ("CRATON_RUN_ID", "not a run id", "invalid run id 'not a run id'"),
    ("CRATON_REDIS_TLS_CA_FILE", "/nonexistent/ca.pem", "need a rediss:// URL"),
])
def test_bad_settings_disable_the_callback_with_one_clear_warning(tmp_path, setting, value, message):
    env = cr.ansible_env(tmp_path, "redis://127.0.0.1:%d/0" % cr.closed_port(), cr.new_run_id(),
                         **{setting: value})
    proc = cr.run_playbook(env, cr.write(tmp_path, "hosts.ini", cr.inventory(local=("h1",), dead=())),
                           cr.write(tmp_path, "play.yml", PLAYBOOK))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [warning] = cr.callback_warnings(proc)
    assert warning.startswith("craton.fleet.redis: disabled: ") and message in warning
    assert "Traceback" not in proc.stderr
