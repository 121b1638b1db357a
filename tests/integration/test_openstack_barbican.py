"""Secrets in a real Barbican (simple crypto plugin, Keystone auth) through castellan.

craton.fleet.secret writes land in Barbican with only a reference in the fleet
database; the inventory plugin's secret files and ``craton export`` bundles read
them back; ``craton secrets migrate`` moves them both ways and loses nothing; a
Barbican that cannot be reached, refused credentials and a deleted Barbican
secret are clear errors that write nothing.
"""

from __future__ import annotations

import json
import os
import tarfile

import pytest

import module_runs as mr
from api_fixtures import free_port
from inventory_helpers import playbook as inventory_playbook, write_config
from openstack_fixtures import barbican, keystone  # noqa: F401  pylint: disable=unused-import

VALUES = {"token": "s3cr3t-token-value", "motd": "hello from barbican"}

PLAY = """
- hosts: far
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.host: {tenant: acme, name: web1}
    - craton.fleet.secret: {tenant: acme, host: web1, name: token, kind: opaque, data: s3cr3t-token-value}
    - craton.fleet.secret: {tenant: acme, host: web1, name: motd, kind: opaque, data: hello from barbican}
"""


@pytest.fixture(scope="module")
def store(barbican, tmp_path_factory):  # noqa: F811
    """A migrated fleet database, and the environment of a run with the Barbican backend."""
    from cryptography.fernet import Fernet
    from ansible_collections.craton.fleet.cli import db as db_cli

    workdir = tmp_path_factory.mktemp("barbican-fleet")
    url = "sqlite:///%s" % (workdir / "fleet.db")
    db_cli.upgrade(url)
    env = mr.ansible_env(workdir, url, CRATON_SECRET_BACKEND="barbican", **barbican.os_env())
    env.pop("CRATON_SECRET_KEY", None)  # Barbican holds the blobs: no Fernet key is needed to write or read them
    return {"url": url, "env": env, "dir": workdir, "key": Fernet.generate_key().decode()}


def _stored(url):
    return dict((name, bytes(blob)) for name, blob in mr.rows(url, "SELECT name, ciphertext FROM secrets"))


def _secret_files(store, tmp_path):
    """The secret files' content as a play through the inventory plugin sees them (they are removed after)."""
    config = write_config(tmp_path, "fleet.craton.yml", database_url=store["url"], tenant="acme")
    play = """
- hosts: web1
  gather_facts: false
  tasks:
    - debug:
        msg: "CRATON_RESULT={{ {'token': lookup('file', craton_secret_files.token),
                                'motd': lookup('file', craton_secret_files.motd)} | to_json }}"
"""
    proc = inventory_playbook(tmp_path, config, play, dict(store["env"], CRATON_DATABASE_URL=store["url"]))
    line = next(line for line in proc.stdout.splitlines() if "CRATON_RESULT=" in line)
    raw = line.split("CRATON_RESULT=", 1)[1].rstrip().rstrip('"')
    return json.loads(json.loads('"%s"' % raw))  # the debug output is a JSON string holding our JSON


def _bundle_secrets(store, run_craton, tmp_path, env):
    target = tmp_path / "acme.tgz"
    run_craton("export", "--database-url", store["url"], "--tenant", "acme", "-o", target, env=env)
    out = {}
    with tarfile.open(target) as tar:
        for member in tar.getmembers():
            if "/.secrets/" in "/" + member.name and member.isfile():
                out[member.name.rsplit("/", 1)[-1]] = tar.extractfile(member).read().decode()
    return out


def test_module_writes_land_in_barbican_and_come_back(store, barbican, run_craton, tmp_path):  # noqa: F811
    mr.playbook(tmp_path, store["url"], PLAY, env=store["env"])
    stored = _stored(store["url"])
    assert sorted(stored) == ["motd", "token"]
    for name, ref in stored.items():
        assert ref.startswith(b"barbican:"), ref
        assert barbican.secret_payload(ref[len(b"barbican:"):].decode()) == VALUES[name].encode()
    assert not any(VALUES["token"].encode() in blob for blob in stored.values())
    # the same write again changes nothing (compared through Barbican)
    again = mr.playbook(tmp_path, store["url"], PLAY, env=store["env"])
    assert mr.recap(again)["changed"] == 0 and _stored(store["url"]) == stored
    assert _secret_files(store, tmp_path) == VALUES
    assert _bundle_secrets(store, run_craton, tmp_path, store["env"]) == VALUES


def test_migrate_both_ways_loses_nothing(store, barbican, run_craton, tmp_path):  # noqa: F811
    if not _stored(store["url"]):
        mr.playbook(tmp_path, store["url"], PLAY, env=store["env"])
    before = _stored(store["url"])
    env = dict(store["env"], CRATON_SECRET_KEY=store["key"])
    out = run_craton("secrets", "migrate", "--to", "database", "--database-url", store["url"], env=env)
    assert "moved 2 secrets to database (0 were there already)" in out.stdout
    in_db = _stored(store["url"])
    assert all(not blob.startswith(b"barbican:") for blob in in_db.values())
    for ref in before.values():  # the Barbican copies are gone once the rows point at the database
        assert barbican.secret_payload(ref[len(b"barbican:"):].decode()) is None
    assert _bundle_secrets(store, run_craton, tmp_path, env) == VALUES

    out = run_craton("secrets", "migrate", "--to", "barbican", "--database-url", store["url"], env=env)
    assert "moved 2 secrets to barbican (0 were there already)" in out.stdout
    back = _stored(store["url"])
    assert all(blob.startswith(b"barbican:") for blob in back.values()) and set(back.values()) != set(before.values())
    without_key = dict(env)
    without_key.pop("CRATON_SECRET_KEY")
    assert _bundle_secrets(store, run_craton, tmp_path, without_key) == VALUES
    again = run_craton("secrets", "migrate", "--to", "barbican", "--database-url", store["url"], env=env)
    assert "moved 0 secrets to barbican (2 were there already)" in again.stdout


def test_api_secrets_go_to_barbican_too(store, barbican, tmp_path):  # noqa: F811
    """craton serve with the Barbican backend: PUT .../secrets/NAME stores in Barbican; the inventory
    with secrets=true reads it back."""
    import base64

    from api_fixtures import ApiServer

    if not _stored(store["url"]):
        mr.playbook(tmp_path, store["url"], PLAY, env=store["env"])
    server = ApiServer(store["url"], store["env"], str(tmp_path)).start()
    try:
        api = server.session(server.token("acme", "editor"))
        host = next(h for h in api.get(server.url + "/v1/hosts").json()["items"] if h["name"] == "web1")
        put = api.put(server.url + "/v1/hosts/%d/secrets/api_key" % host["id"],
                      json={"kind": "opaque", "data": "written-through-the-api"})
        assert put.status_code in (200, 201), put.text
        ref = _stored(store["url"])["api_key"]
        assert ref.startswith(b"barbican:")
        assert barbican.secret_payload(ref[len(b"barbican:"):].decode()) == b"written-through-the-api"
        data = api.get(server.url + "/v1/inventory", params={"secrets": "true"}).json()
        secrets = dict((s["name"], base64.b64decode(s["data_base64"]).decode())
                       for h in data["hosts"] if h["name"] == "web1" for s in h["secrets"])
        assert secrets["api_key"] == "written-through-the-api" and secrets["motd"] == VALUES["motd"]
    finally:
        server.stop()


def test_prune_deletes_only_unused_copies(store, barbican, run_craton, tmp_path):  # noqa: F811
    """Replacing a secret leaves its old Barbican copy; craton secrets prune deletes it and nothing in use."""
    if not _stored(store["url"]):
        mr.playbook(tmp_path, store["url"], PLAY, env=store["env"])
    old = _stored(store["url"])["motd"]
    mr.playbook(tmp_path, store["url"], PLAY.replace("hello from barbican", "a new motd"), env=store["env"])
    in_use = _stored(store["url"])
    assert in_use["motd"] != old and barbican.secret_payload(old[len(b"barbican:"):].decode()) is not None
    kept = run_craton("secrets", "prune", "--database-url", store["url"], env=store["env"])
    assert "deleted 0 unused" in kept.stdout, kept.stdout  # everything is younger than the default hour
    dry = run_craton("secrets", "prune", "--older-than", "0", "--dry-run", "--database-url", store["url"],
                     env=store["env"])
    assert "would delete " in dry.stdout and barbican.secret_payload(old[len(b"barbican:"):].decode()) is not None
    done = run_craton("secrets", "prune", "--older-than", "0", "--database-url", store["url"], env=store["env"])
    assert "deleted " in done.stdout and "deleted 0 " not in done.stdout, done.stdout
    assert barbican.secret_payload(old[len(b"barbican:"):].decode()) is None
    for ref in in_use.values():
        assert barbican.secret_payload(ref[len(b"barbican:"):].decode()) is not None


def test_barbican_failures_are_clear_and_write_nothing(store, barbican, run_craton, tmp_path):  # noqa: F811
    if not _stored(store["url"]):
        mr.playbook(tmp_path, store["url"], PLAY, env=store["env"])
    before = mr.snapshot(store["url"])
    write = PLAY + "    - craton.fleet.secret: {tenant: acme, host: web1, name: fresh, kind: opaque, data: new-value}\n"
    down = "http://127.0.0.1:%d" % free_port()
    cases = [({"CRATON_BARBICAN_URL": down}, "Barbican at %s failed" % down),
             ({"OS_PASSWORD": "wrong"}, "check the Keystone credentials"),
             ({"CRATON_SECRET_BACKEND": "vault"}, "invalid CRATON_SECRET_BACKEND='vault'")]
    for extra, expected in cases:
        proc = mr.playbook(tmp_path, store["url"], write, env=dict(store["env"], **extra), check=False)
        assert proc.returncode != 0 and expected in proc.stdout, (extra, proc.stdout[-3000:])
        assert mr.snapshot(store["url"]) == before, extra

    # a reference whose Barbican secret was deleted behind craton's back
    ref = _stored(store["url"])["token"]
    barbican.delete_secret(ref[len(b"barbican:"):].decode())
    proc = run_craton("export", "--database-url", store["url"], "--tenant", "acme", "-o", tmp_path / "x.tgz",
                      env=store["env"], check=False)
    assert proc.returncode == 1 and "no longer exists" in proc.stderr and "secret 'token' of host 'web1'" in \
        proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not os.path.exists(tmp_path / "x.tgz")
