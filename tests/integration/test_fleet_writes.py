"""Writes to the fleet: clear errors for bad input, and a failed change writes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db, fleet, secret_store
from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, CratonError, SchemaOutdated
from ansible_collections.craton.fleet.plugins.module_utils.models import Group, Host, HostVariable, Secret, Tenant

SSH_KEY = None


def ssh_key():
    """A real OpenSSH private key, made once."""
    global SSH_KEY  # pylint: disable=global-statement
    if SSH_KEY is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        SSH_KEY = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()
    return SSH_KEY


def count(url, model):
    with db.transaction(url) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def build(session):
    tenant = fleet.create_tenant(session, "acme")
    region = fleet.create_region(session, tenant, "east")
    host = fleet.create_host(session, tenant, "web01", region=region, ip_address="10.0.0.1", port=22)
    fleet.set_variables(session, "host", host.id, {"motd": "hi", "ntp": ["a", "b"], "limits": {"n": 1}})
    return tenant, region, host


def test_fleet_objects_and_json_variables_round_trip(fleet_url):
    db.run_in_transaction(db.connect(fleet_url), build)
    with db.transaction(fleet_url) as session:
        tenant = fleet.get_tenant(session, "acme")
        host = fleet.get_host(session, tenant, "web01")
        assert (host.ip_address, host.port, host.active) == ("10.0.0.1", 22, True)
        assert fleet.get_variables(session, "host", host.id) == {"motd": "hi", "ntp": ["a", "b"], "limits": {"n": 1}}


def test_duplicate_names_are_refused_and_nothing_is_written(fleet_url):
    db.run_in_transaction(db.connect(fleet_url), build)

    def again(session):
        fleet.create_tenant(session, "other")      # would be written...
        fleet.create_tenant(session, "acme")       # ...but this fails

    with pytest.raises(Conflict, match="tenant 'acme' already exists"):
        db.run_in_transaction(db.connect(fleet_url), again)
    assert count(fleet_url, Tenant) == 1

    def dup_host(session):
        fleet.create_host(session, fleet.get_tenant(session, "acme"), "web01")

    with pytest.raises(Conflict, match="host 'web01' already exists"):
        db.run_in_transaction(db.connect(fleet_url), dup_host)


def test_same_names_in_different_tenants_are_fine(fleet_url):
    def two(session):
        for name in ("a", "b"):
            tenant = fleet.create_tenant(session, name)
            fleet.create_region(session, tenant, "east")
            fleet.create_group(session, tenant, "web")
            fleet.create_host(session, tenant, "web01")
    db.run_in_transaction(db.connect(fleet_url), two)
    assert count(fleet_url, Host) == 2


def test_group_cycle_is_refused_naming_the_cycle_and_nothing_is_written(fleet_url):
    def dag(session):
        tenant = fleet.create_tenant(session, "acme")
        a, b, c = (fleet.create_group(session, tenant, n) for n in "abc")
        fleet.add_child(session, a, b)
        fleet.add_child(session, b, c)
    db.run_in_transaction(db.connect(fleet_url), dag)

    def cycle(session):
        tenant = fleet.get_tenant(session, "acme")
        fleet.create_group(session, tenant, "d")
        fleet.add_child(session, fleet.get_group(session, tenant, "c"), fleet.get_group(session, tenant, "a"))

    with pytest.raises(Conflict, match=r"group cycle refused: c -> a -> b -> c"):
        db.run_in_transaction(db.connect(fleet_url), cycle)
    assert count(fleet_url, Group) == 3

    def self_loop(session):
        tenant = fleet.get_tenant(session, "acme")
        fleet.add_child(session, fleet.get_group(session, tenant, "a"), fleet.get_group(session, tenant, "a"))

    with pytest.raises(Conflict, match=r"group cycle refused: a -> a"):
        db.run_in_transaction(db.connect(fleet_url), self_loop)


def test_invalid_variable_name_is_refused_and_nothing_is_written(fleet_url):
    db.run_in_transaction(db.connect(fleet_url), build)

    def bad(session):
        host = fleet.get_host(session, fleet.get_tenant(session, "acme"), "web01")
        fleet.set_variables(session, "host", host.id, {"good": 1, "bad-name": 2})

    with pytest.raises(CratonError, match="invalid variable name 'bad-name'"):
        db.run_in_transaction(db.connect(fleet_url), bad)
    assert count(fleet_url, HostVariable) == 3


def test_variables_merge_replace_and_absent(fleet_url):
    db.run_in_transaction(db.connect(fleet_url), build)

    def change(session):
        host = fleet.get_host(session, fleet.get_tenant(session, "acme"), "web01")
        before, after = fleet.set_variables(session, "host", host.id, {"motd": "bye"}, absent=["ntp"])
        assert before["motd"] == "hi" and after == {"motd": "bye", "limits": {"n": 1}}
        _before, after = fleet.set_variables(session, "host", host.id, {"x": None}, mode="replace")
        assert after == {"x": None}
    db.run_in_transaction(db.connect(fleet_url), change)
    assert count(fleet_url, HostVariable) == 1


def test_invalid_port_is_refused(fleet_url):
    def bad(session):
        fleet.create_host(session, fleet.create_tenant(session, "acme"), "web01", port=70000)
    with pytest.raises(CratonError, match="invalid port 70000 for host 'web01'"):
        db.run_in_transaction(db.connect(fleet_url), bad)
    assert count(fleet_url, Tenant) == 0


def test_secrets_are_encrypted_at_rest_and_read_back(fleet_url, secret_key):
    def put(session):
        _tenant, _region, host = build(session)
        assert fleet.put_secret(session, host, "deploy", "ssh_private_key", ssh_key())
        assert not fleet.put_secret(session, host, "deploy", "ssh_private_key", ssh_key())  # unchanged
    db.run_in_transaction(db.connect(fleet_url), put)
    with db.transaction(fleet_url) as session:
        raw = session.scalar(sa.select(Secret.ciphertext))
        assert ssh_key().encode() not in raw and b"OPENSSH" not in raw
        host = fleet.get_host(session, fleet.get_tenant(session, "acme"), "web01")
        assert fleet.read_secret(session, host, "deploy").decode() == ssh_key()
    if fleet_url.startswith("sqlite:///"):
        with open(fleet_url[len("sqlite:///"):], "rb") as f:
            assert b"OPENSSH PRIVATE KEY" not in f.read()


def test_secret_without_a_key_is_a_clear_error_and_writes_nothing(fleet_url, monkeypatch, tmp_path):
    monkeypatch.delenv("CRATON_SECRET_KEY", raising=False)
    monkeypatch.setenv("CRATON_SECRET_KEY_FILE", str(tmp_path / "missing.key"))

    def put(session):
        _tenant, _region, host = build(session)
        fleet.put_secret(session, host, "deploy", "ssh_private_key", ssh_key())

    with pytest.raises(CratonError, match="no secret key: set CRATON_SECRET_KEY"):
        db.run_in_transaction(db.connect(fleet_url), put)
    assert count(fleet_url, Host) == 0


def test_secret_with_the_wrong_key_cannot_be_read(fleet_url, monkeypatch):
    from cryptography.fernet import Fernet
    monkeypatch.setenv("CRATON_SECRET_KEY", Fernet.generate_key().decode())

    def put(session):
        _tenant, _region, host = build(session)
        fleet.put_secret(session, host, "token", "opaque", "s3cr3t")
    db.run_in_transaction(db.connect(fleet_url), put)
    monkeypatch.setenv("CRATON_SECRET_KEY", Fernet.generate_key().decode())
    with db.transaction(fleet_url) as session:
        host = fleet.get_host(session, fleet.get_tenant(session, "acme"), "web01")
        with pytest.raises(CratonError, match="cannot decrypt secret 'token' of host 'web01'"):
            fleet.read_secret(session, host, "token")
    monkeypatch.setenv("CRATON_SECRET_KEY", "not-a-fernet-key")
    with pytest.raises(CratonError, match=r"the secret key in \$CRATON_SECRET_KEY is not a valid key"):
        secret_store.encrypt("y")


@pytest.mark.parametrize("kind,data", [
    ("pem", "not a pem"),
    ("pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    ("ssh_private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n-----END OPENSSH PRIVATE KEY-----\n"),
    ("certificate", "hello"),
])
def test_malformed_secret_is_refused_and_nothing_is_written(fleet_url, secret_key, kind, data):
    def put(session):
        _tenant, _region, host = build(session)
        fleet.put_secret(session, host, "blob", kind, data)
    with pytest.raises(CratonError, match="secret 'blob' of host 'web01' is not a valid %s" % kind):
        db.run_in_transaction(db.connect(fleet_url), put)
    assert count(fleet_url, Secret) == 0 and count(fleet_url, Host) == 0


def test_unmigrated_database_says_to_run_craton_db_upgrade(db_url):
    with pytest.raises(SchemaOutdated, match=r"has no craton schema.*run `craton db upgrade`"):
        db.connect(db_url)


def test_older_schema_revision_says_to_run_craton_db_upgrade(fleet_url):
    with db.engine_for(fleet_url).begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(SchemaOutdated, match=r"is at schema revision 0000.*run `craton db upgrade`"):
        db.connect(fleet_url)


def test_names_and_keys_that_differ_only_in_case_are_distinct(fleet_url):
    """As in Ansible (and SQLite): on MariaDB too, thanks to the binary collation (migration 0003)."""
    def work(session):
        tenant = fleet.create_tenant(session, "acme")
        fleet.create_tenant(session, "ACME")
        upper = fleet.create_host(session, tenant, "Web1")
        lower = fleet.create_host(session, tenant, "web1")
        fleet.create_group(session, tenant, "Web")
        fleet.create_group(session, tenant, "web")
        fleet.set_variables(session, "host", upper.id, {"Foo": 1, "foo": 2})
        return upper.id, lower.id

    upper_id, lower_id = db.run_in_transaction(db.connect(fleet_url), work)
    with db.transaction(fleet_url) as session:
        assert fleet.get_host(session, fleet.get_tenant(session, "acme"), "Web1").id == upper_id
        assert fleet.get_host(session, fleet.get_tenant(session, "acme"), "web1").id == lower_id
        assert fleet.get_variables(session, "host", upper_id) == {"Foo": 1, "foo": 2}
    assert count(fleet_url, Tenant) == 2 and count(fleet_url, Group) == 2
    with pytest.raises(Conflict):
        db.run_in_transaction(db.connect(fleet_url), lambda s: fleet.create_host(
            s, fleet.get_tenant(s, "acme"), "Web1"))
