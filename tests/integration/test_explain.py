"""craton explain HOST: effective variables with their origin, what they override, and clear errors."""

from __future__ import annotations

import json

import pytest

from inventory_helpers import build


@pytest.fixture
def explain_db(fleet_url, secret_key):
    build(fleet_url, {
        "acme": {
            "vars": {"role": "generic"},
            "groups": {"web": {"vars": {"role": "web"}}},
            "hosts": {
                "web01": {"groups": ["web"], "columns": {"ip_address": "10.0.0.1", "port": 22},
                          "vars": {"ansible_host": "stale.example"},
                          "untrusted_vars": {"note": "{{ lookup('pipe', 'id') }}"},
                          "secrets": {"deploy": ("opaque", b"s3cret-value-xyz")}},
                "shared": {},
            },
        },
        "globex": {"hosts": {"shared": {}}},
    })
    return fleet_url


def test_explain_text_shows_values_origins_and_overrides(explain_db, run_craton):
    url = explain_db
    out = run_craton("--database-url", url, "explain", "web01").stdout
    assert "host web01 (tenant acme, region none; groups: web)" in out
    assert 'ansible_host = "10.0.0.1"' in " ".join(out.split())
    assert 'overrides "stale.example" from host variable' in out
    assert "<- host column ip_address" in out
    assert 'role' in out and 'overrides "generic" from tenant acme (group tenant_acme)' in out
    assert "(untrusted: never rendered as a template)" in out


def test_explain_json_and_secrets_are_placeholders(explain_db, run_craton, craton_env):
    url = explain_db
    env = {k: v for k, v in craton_env.items() if not k.startswith("CRATON_SECRET_KEY")}
    proc = run_craton("--database-url", url, "explain", "web01", "--json", env=env)  # no key needed
    data = json.loads(proc.stdout)
    assert data["host"] == "web01" and data["tenant"] == "acme" and data["groups"] == ["web"]
    files = data["variables"]["craton_secret_files"]
    assert files["value"] == {"deploy": "<file of secret deploy, written at run time>"}
    assert "s3cret-value-xyz" not in proc.stdout + proc.stderr
    assert data["variables"]["note"]["trusted"] is False
    assert data["variables"]["ansible_port"] == {"value": 22, "origin": "host column port", "trusted": False,
                                                 "overrides": []}


def test_explain_errors(explain_db, run_craton):
    url = explain_db
    proc = run_craton("--database-url", url, "explain", "nohost", check=False)
    assert proc.returncode == 1 and proc.stderr.strip() == "craton: error: host 'nohost' does not exist"
    proc = run_craton("--database-url", url, "explain", "shared", check=False)
    assert proc.returncode == 1
    assert "host 'shared' exists in tenants 'acme', 'globex': choose one with --tenant" in proc.stderr
    assert json.loads(run_craton("--database-url", url, "explain", "shared", "--tenant", "globex",
                                 "--json").stdout)["tenant"] == "globex"
    proc = run_craton("--database-url", url, "explain", "web01", "--tenant", "nobody", check=False)
    assert proc.returncode == 1 and "tenant 'nobody'" in proc.stderr and "Traceback" not in proc.stderr


def test_explain_shows_an_unfetchable_reference_as_a_warning(fleet_url, run_craton, tmp_path):
    build(fleet_url, {"acme": {"groups": {"g": {"vars": {"a": 1},
                                                "references": [("file://%s" % (tmp_path / "gone.yml"), None)]}},
                               "hosts": {"h": {"groups": ["g"]}}}})
    proc = run_craton("--database-url", fleet_url, "explain", "h")
    assert "craton: warning: vars reference file://%s of group 'g': cannot read" % (tmp_path / "gone.yml") in proc.stderr
    assert "a = 1" in " ".join(proc.stdout.split())
