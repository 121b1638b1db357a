"""The README's demo: a sample fleet in SQLite, shown through real Ansible runs."""

from __future__ import annotations

import sqlite3


def test_demo_builds_the_fleet_and_runs_a_real_play_even_twice_in_one_directory(run_craton, tmp_path):
    run_craton("demo", "--dir", tmp_path / "demo", timeout=600)
    proc = run_craton("demo", "--dir", tmp_path / "demo", timeout=600)
    out = proc.stdout
    # ansible-inventory --graph shows the tenant, region and nested user groups
    assert "@tenant_acme:" in out and "@region_east:" in out and "@dbservers:" in out
    # craton explain traces a host variable over a group variable
    assert "overrides 8080 from group webservers" in out
    # the play rendered the template stored for the tenant, with region and group values
    assert "Welcome to web03, a web host in us-west" in out
    assert "Welcome to db01, a database host in us-east" in out
    # the SSH key was materialised as a file, not inlined
    assert "db01 connects with key file" in out
    assert "PRIVATE KEY" not in out + proc.stderr
    with sqlite3.connect(tmp_path / "demo" / "fleet.db") as conn:
        assert conn.execute("SELECT count(*) FROM hosts").fetchone() == (6,)
        assert b"PRIVATE KEY" not in conn.execute("SELECT ciphertext FROM secrets").fetchone()[0]
