"""Galera: a node killed -9 during a `craton run` whose fleet and run state are on the cluster.

Six local hosts, three at a time, each taking a second; the fleet database and
the run state (TaskFlow's tables, in the fleet database by default on MySQL) are
reached through the multi-host URL, so through node 1. Once two hosts have
started, node 1 is killed. The run completes through the surviving nodes and
every host ran exactly once; node 1 then rejoins.
"""

from __future__ import annotations

import subprocess
import time

import callback_runs as cr
import driver_helpers as dh
import inventory_helpers as ih
from galera_fixtures import galera, galera_db  # noqa: F401  pylint: disable=unused-import

HOSTS = ["r%02d" % i for i in range(6)]


def test_run_completes_when_a_node_dies_and_every_host_runs_once(galera, galera_db, tmp_path, redis_url):
    ih.build(galera_db.url, {"acme": {"hosts": {name: dh.local_host(pause_for=1) for name in HOSTS}}})
    markers = tmp_path / "markers"
    markers.mkdir()
    run_id = cr.new_run_id()
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        dh.craton_argv("--database-url", galera_db.url, "run", dh.write_playbook(tmp_path), "--tenant", "acme",
                       "--parallel", 3, "-e", "marker_dir=%s" % markers, "--run-id", run_id),
        env=dh.env(tmp_path, redis_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while sum(dh.markers(markers, "started").values()) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "no host started"
            time.sleep(0.1)
        assert proc.poll() is None, "the run ended before node 1 could be killed"
        galera.kill(1)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
        assert dh.markers(markers, "started") == {name: 1 for name in HOSTS}
        assert dh.markers(markers, "done") == {name: 1 for name in HOSTS}
        summary = dh.read_run(redis_url, run_id)["summary"]
        assert summary["state"] == "finished"
        counts = summary["hosts_expected"], summary["hosts_changed"], summary["hosts_failed"]
        assert counts == (len(HOSTS), len(HOSTS), 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if "down" in galera.status():
            galera.restart(1)
    assert "node1 127.0.0.1:3311 Synced cluster_size=3" in galera.status()
