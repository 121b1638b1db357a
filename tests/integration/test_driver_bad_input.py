"""craton run: bad input is one clear line, exit code 1, and nothing recorded (no run state, no Redis run)."""

from __future__ import annotations

import os

import pytest

import callback_runs as cr
import driver_helpers as dh


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, redis_url):
    tmp = tmp_path_factory.mktemp("driver-bad-input")
    url = dh.make_fleet(tmp, {"h1": dh.local_host(), "h2": dh.local_host()})
    (tmp / "broken.yml").write_text("- hosts: all\n  tasks:\n    - debug: {msg: [unclosed\n")
    (tmp / "bad-module.yml").write_text("- hosts: all\n  tasks:\n    - no.such.module_anywhere: {}\n")
    (tmp / "other.craton.yml").write_text("plugin: some.other.plugin\n")
    (tmp / "empty").mkdir()
    return {"tmp": tmp, "url": url, "playbook": dh.write_playbook(tmp), "env": dh.env(tmp, redis_url)}


def assert_nothing_recorded(fleet, redis_url, run_id):
    assert not os.path.exists(fleet["tmp"] / "fleet.runs.db")
    client = cr.client(redis_url)
    assert client.keys("*%s*" % run_id) == []
    assert client.zscore("%s:runs" % dh.PREFIX, run_id) is None


def assert_one_line(proc, message):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("craton: error: "), proc.stderr
    assert message in lines[0], lines[0]


CASES = {
    "missing playbook": (["run", "{tmp}/nope.yml", "--tenant", "acme"], "playbook {tmp}/nope.yml does not exist"),
    "unparsable playbook": (["run", "{tmp}/broken.yml", "--tenant", "acme"],
                            "playbook {tmp}/broken.yml does not parse: "),
    "unknown module": (["run", "{tmp}/bad-module.yml", "--tenant", "acme"],
                       "playbook {tmp}/bad-module.yml does not parse: "),
    "no host matches": (["run", "{playbook}", "--tenant", "acme", "--host", "web*"],
                        "the inventory filters select no hosts (filters: active_only=True, hosts=['web*'], "
                        "tenant=acme)"),
    "unknown tenant": (["run", "{playbook}", "--tenant", "nosuch"], "tenant 'nosuch' named in the inventory filter"),
    "unknown resume id": (["run", "--resume", "{run_id}"], "unknown run id '{run_id}'"),
    "redis unreachable": (["run", "{playbook}", "--tenant", "acme", "--redis-url", "redis://127.0.0.1:{port}/0"],
                          "cannot reach Redis at redis://127.0.0.1:{port}/0"),
    "fleet database unreachable": (["--database-url", "mysql+pymysql://root:hunter2@127.0.0.1:{port}/x", "run",
                                    "{playbook}", "--tenant", "acme"],
                                   "cannot use database mysql+pymysql://root:***@127.0.0.1:{port}/x"),
    "fleet database without schema": (["--database-url", "sqlite:///{tmp}/empty/fleet.db", "run", "{playbook}"],
                                      "has no craton schema"),
    "state database unreachable": (["run", "{playbook}", "--tenant", "acme", "--state-url",
                                    "mysql+pymysql://root@127.0.0.1:{port}/x"],
                                   "cannot use the run state database mysql+pymysql://root@127.0.0.1:{port}/x"),
    "inventory and filters": (["run", "{playbook}", "-i", "{tmp}/other.craton.yml", "--tenant", "acme"],
                              "give either -i INVENTORY or filter options (tenant), not both"),
    "not a craton inventory": (["run", "{playbook}", "-i", "{tmp}/other.craton.yml"],
                               "is not a craton.fleet inventory: it needs 'plugin: craton.fleet.inventory'"),
    "bad retries": (["run", "{playbook}", "--retries", "-1"], "--retries must be 0 or more"),
    "bad run id": (["run", "{playbook}", "--run-id", "no spaces"], "invalid run id 'no spaces'"),
    "no playbook": (["run", "--tenant", "acme"], "craton run needs a PLAYBOOK"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_records_nothing(fleet, redis_url, case):
    args, message = CASES[case]
    run_id = cr.new_run_id()
    values = {"tmp": fleet["tmp"], "playbook": fleet["playbook"], "run_id": run_id, "port": cr.closed_port()}
    argv = [a.format(**values) for a in args]
    if not any(a.startswith("--database-url") for a in argv):
        argv = ["--database-url", fleet["url"]] + argv
    if "--resume" not in argv and "--run-id" not in argv:
        argv += ["--run-id", run_id]
    proc = dh.craton(fleet["env"], *argv)
    assert_one_line(proc, message.format(**values))
    assert "hunter2" not in proc.stderr
    assert_nothing_recorded(fleet, redis_url, run_id)


def test_a_run_id_that_exists_is_refused_and_left_alone(fleet, redis_url):
    run_id = cr.new_run_id()
    client = cr.client(redis_url)
    key = "%s:run:{%s}" % (dh.PREFIX, run_id)
    client.hset(key, "state", "finished")
    proc = dh.craton(fleet["env"], "--database-url", fleet["url"], "run", fleet["playbook"], "--run-id", run_id)
    assert_one_line(proc, "run id %r already exists in Redis" % run_id)
    assert client.hgetall(key) == {b"state": b"finished"}
    assert not os.path.exists(fleet["tmp"] / "fleet.runs.db")
