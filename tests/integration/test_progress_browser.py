"""The progress page in a real browser (Debian's chromium through playwright) following a real run.

A fleet of 8 hosts in two regions (SQLite), read by the craton.fleet.inventory
plugin; ansible-playbook with the craton.fleet.redis callback; a real
``craton serve``. Two hosts fail, one is unreachable (SSH to a closed port).
The playbook waits at two gates (files the test creates), so the test sees the
run half way, drops the page's EventSource while the run moves on, restarts
the server while the run finishes, and checks the page after each step and at
the end. Screenshots go to tests/output/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import redis

import callback_runs as cr
from inventory_helpers import build, write_config
from progress_helpers import ProgressServer

from ansible_collections.craton.fleet.plugins.module_utils import events as ev

OUTPUT = os.path.join(cr.ROOT, "tests", "output")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
GOOD = ["e1", "e2", "e3", "w1", "w2"]
BAD = ["bad1", "bad2"]
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: step one
      ansible.builtin.command: "true"
    - name: break
      ansible.builtin.fail:
        msg: "{{ inventory_hostname }} is broken"
      when: inventory_hostname is match('bad')
    - name: gate one
      ansible.builtin.wait_for: {path: "%(gate1)s", timeout: 120, sleep: 1}
    - name: after one
      ansible.builtin.command: "true"
    - name: gate two
      ansible.builtin.wait_for: {path: "%(gate2)s", timeout: 120, sleep: 1}
    - name: last step
      ansible.builtin.command: "true"
"""


def fleet_spec():
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    dead = {"ansible_connection": "ssh", "ansible_port": cr.closed_port(),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o ConnectTimeout=5"}
    hosts = {name: {"region": "east" if name.startswith("e") else "west", "vars": local,
                    "groups": ["web"] if name in ("e1", "e2", "w1") else ["db"]} for name in GOOD}
    hosts["bad1"] = {"region": "east", "vars": local, "groups": ["flaky"]}
    hosts["bad2"] = {"region": "west", "vars": local, "groups": ["flaky"]}
    hosts["dead"] = {"region": "west", "vars": dead, "columns": {"ip_address": "127.0.0.1"}, "groups": ["db"]}
    return {"acme": {"regions": {"east": {}, "west": {}},
                     "groups": {"app": {"children": ["web", "db"]}, "web": {}, "db": {}, "flaky": {}},
                     "hosts": hosts}}


def wait_until(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s" % what)


def test_page_follows_a_real_run_live_through_reconnects_to_the_end(chromium_path, redis_url, tmp_path):
    from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel

    os.makedirs(OUTPUT, exist_ok=True)
    url = "sqlite:///%s" % (tmp_path / "fleet.db")
    server = ProgressServer(tmp_path / "server", redis_url, url)
    build(url, fleet_spec())
    server.start()
    config = write_config(tmp_path, database_url=url)
    gate1, gate2 = tmp_path / "gate1", tmp_path / "gate2"
    playbook = cr.write(tmp_path, "site.yml", PLAYBOOK % {"gate1": gate1, "gate2": gate2})
    run_id = cr.new_run_id()
    env = cr.ansible_env(tmp_path, redis_url, run_id, ANSIBLE_FORKS="10", CRATON_DATABASE_URL=url)
    proc = subprocess.Popen(cr.playbook_command(config, playbook), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    keys = ev.RunKeys(cr.PREFIX, run_id)
    errors = []
    try:
        wait_until("the run in Redis", lambda: ev.read_summary(client, keys))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                check_page(page, server, SimpleNamespace(id=run_id, proc=proc, client=client, keys=keys,
                                                         gates=(gate1, gate2)))
            except Exception:
                # Keep what helps to understand a failure: the page as it was, the server's log.
                page.screenshot(path=os.path.join(OUTPUT, "progress_run_failure.png"), full_page=True)
                print("craton serve log:\n%s" % server.log())
                raise
            browser.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.stop()
        client.close()
    assert not errors, errors


def check_page(page, server, run):
    """The steps of the test on the open page (see the module docstring)."""
    from playwright.sync_api import expect  # pylint: disable=import-outside-toplevel

    run_id, proc, client, keys = run.id, run.proc, run.client, run.keys
    gate1, gate2 = run.gates
    page.goto("%s/progress/runs/%s?token=%s" % (server.url, run_id, server.token))
    assert page.url.endswith("/progress/runs/%s" % run_id)  # the token went into a cookie

    def count(name):
        return page.locator("#count-" + name)

    def row(host):
        return page.locator('.host-row[data-host="%s"]' % host)

    # 1. Half way (every good host waits at gate one): live counts and host states.
    expect(count("running")).to_have_text("5", timeout=60000)
    expect(count("failed")).to_have_text("2")
    expect(count("unreachable")).to_have_text("1")
    expect(count("done")).to_have_text("3")
    expect(count("expected")).to_have_text("8")
    expect(page.locator("#state")).to_have_text("running")
    expect(page.locator("#connection")).to_have_text("live")
    expect(row("bad1")).to_have_attribute("data-status", "failed")
    expect(row("bad1").locator(".msg")).to_have_text("bad1 is broken")
    expect(row("dead")).to_have_attribute("data-status", "unreachable")
    expect(row("dead").locator(".msg")).to_contain_text("Connection refused")
    expect(row("e1")).to_have_attribute("data-status", "running")
    # Regions and groups from the fleet database.
    expect(page.locator('#agg-regions tr[data-name="east"] td').nth(1)).to_have_text("1/4")
    expect(page.locator('#agg-regions tr[data-name="west"] td').nth(1)).to_have_text("2/4")
    expect(page.locator('#agg-groups tr[data-name="flaky"] td').nth(1)).to_have_text("2/2")
    expect(page.locator('#agg-groups tr[data-name="app"] td').nth(1)).to_have_text("1/6")
    # Filters and search.
    page.click('#filters button[data-filter="failed"]')
    expect(page.locator(".host-row")).to_have_count(2)
    assert sorted(page.locator(".host-row").evaluate_all("rs => rs.map(r => r.dataset.host)")) == BAD
    page.click('#filters button[data-filter="running"]')
    expect(page.locator(".host-row")).to_have_count(5)
    page.click('#filters button[data-filter="all"]')
    page.fill("#search", "dead")
    expect(page.locator(".host-row")).to_have_count(1)
    page.fill("#search", "")
    expect(page.locator(".host-row")).to_have_count(8)
    page.screenshot(path=os.path.join(OUTPUT, "progress_run_live.png"), full_page=True)

    # 2. The page's stream is dropped; the run passes gate one meanwhile; a reconnect
    #    from the last id catches up.
    page.evaluate("cratonProgress.eventSource.close()")
    gate1.write_text("go")
    wait_until("the good hosts past gate one", lambda: all(
        s.get("task") == "after one" for h, s in ev.read_hosts(client, keys).items() if h in GOOD))
    page.wait_for_timeout(300)
    expect(row("e1").locator(".task")).not_to_have_text("after one")  # really disconnected
    page.evaluate("cratonProgress.connect()")
    for host in GOOD:
        expect(row(host).locator(".task")).to_have_text("after one", timeout=20000)
    expect(page.locator("#connection")).to_have_text("live")

    # 3. The server goes away while the run finishes; the browser's own reconnect
    #    (Last-Event-ID) brings the rest when it is back.
    server.stop()
    gate2.write_text("go")
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 4, out  # unreachable hosts (and failed ones)
    wait_until("the run finished in Redis", lambda: ev.read_summary(client, keys).get("state") == "finished")
    server.start()
    expect(page.locator("#state")).to_have_text("finished", timeout=30000)
    expect(page.locator("#connection")).to_have_text("finished", timeout=30000)

    # 4. The end: the page agrees with Redis and with Ansible's recap.
    summary = ev.read_summary(client, keys)
    hosts = ev.read_hosts(client, keys)
    recap = cr.recap(out)
    assert sorted(recap) == sorted(GOOD + BAD + ["dead"])
    for status in ("ok", "changed", "failed", "unreachable", "skipped", "running", "pending"):
        expect(count(status)).to_have_text(str(summary["hosts_" + status]))
    expect(count("done")).to_have_text("8")
    assert summary["hosts_failed"] == 2 and summary["hosts_unreachable"] == 1
    for host, state in hosts.items():
        expect(row(host)).to_have_attribute("data-status", state["status"])
    for host in GOOD:
        assert "changed=3" in recap[host] and hosts[host]["status"] == "changed"
        expect(row(host).locator(".task")).to_have_text("last step")
    expect(page.locator("#final")).to_contain_text("5 changed, 2 failed, 1 unreachable")
    expect(page.locator('#agg-regions tr[data-name="east"] td').nth(1)).to_have_text("4/4")
    # Every event after the page's snapshot arrived exactly once, across both reconnects.
    state = page.evaluate("({events: cratonProgress.state.events, duplicates: cratonProgress.state.duplicates,"
                          " from: cratonProgress.state.snapshotId, last: cratonProgress.state.lastId,"
                          " connects: cratonProgress.state.connects})")
    missed = ev.read_events(client, keys, after=state["from"])
    assert state["duplicates"] == 0
    assert state["events"] == len(missed)
    assert state["last"] == missed[-1][0]
    assert state["connects"] >= 3
    page.screenshot(path=os.path.join(OUTPUT, "progress_run.png"), full_page=True)

    # 5. The runs list (the cookie is sent there too).
    page.goto("%s/progress/" % server.url)
    listed = page.locator('#runs-body tr[data-run="%s"]' % run_id)
    expect(listed).to_have_attribute("data-state", "finished")
    expect(listed).to_contain_text("site.yml")
    expect(listed.locator("td.num")).to_have_text(["0", "5", "2", "1"])
