"""Secrets as files: 0600 files in a private 0700 directory for the run, the ssh key as
ansible_ssh_private_key_file, never a secret value in ansible-inventory output, the cache or a log."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from inventory_helpers import build, inventory_list, playbook, write_config


def _ssh_key():
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())


def _pem_key():
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture
def secrets_db(fleet_url, secret_key):
    keys = {"ssh": _ssh_key(), "pem": _pem_key(), "blob": b"hunter2-opaque-token-0123456789"}
    build(fleet_url, {"acme": {
        "vars": {"ansible_python_interpreter": sys.executable, "ansible_connection": "local"},
        "hosts": {
            "h1": {"secrets": {"deploy": ("ssh_private_key", keys["ssh"]), "tls": ("pem", keys["pem"]),
                               "token": ("opaque", keys["blob"])}},
            "h2": {},
        },
    }})
    return fleet_url, keys


def _fragments(keys):
    """Recognisable pieces of every secret value, raw and base64."""
    out = []
    for value in keys.values():
        body = b"".join(line for line in value.splitlines() if not line.startswith(b"-----"))
        out += [body[:24].decode(), base64.b64encode(value)[:24].decode()]
        if not value.startswith(b"-----"):
            out.append(value.decode())
    return out


def _assert_no_secret(text, keys, where):
    for fragment in _fragments(keys):
        assert fragment not in text, "a secret value appears in %s" % where


def test_secrets_become_private_files_for_the_run(secrets_db, tmp_path, craton_env):
    url, keys = secrets_db
    env = dict(craton_env, CRATON_SECRET_KEY=os.environ["CRATON_SECRET_KEY"])
    config = write_config(tmp_path, database_url=url, tenant="acme")
    proc = playbook(tmp_path, config, """
- hosts: h1
  gather_facts: false
  tasks:
    - ansible.builtin.stat:
        path: "{{ item }}"
        checksum_algorithm: sha256
      loop: "{{ craton_secret_files.values() | list + [ansible_ssh_private_key_file | dirname] }}"
      register: st
    - ansible.builtin.debug:
        msg: "RESULT {{ {'files': craton_secret_files, 'key': ansible_ssh_private_key_file,
              'stats': st.results | map(attribute='stat') | list} | to_json }}"
""", env)
    line = next(line for line in proc.stdout.splitlines() if '"msg": "RESULT ' in line)
    result = json.loads(json.loads("{%s}" % line.strip().rstrip(","))["msg"].split(" ", 1)[1])
    files = result["files"]
    assert sorted(files) == ["deploy", "tls", "token"]
    assert result["key"] == files["deploy"]
    stats = {s["path"]: s for s in result["stats"]}
    directory = os.path.dirname(files["deploy"])
    assert stats[directory]["isdir"] and stats[directory]["mode"] == "0700"
    assert stats[directory]["pw_name"] == stats[files["deploy"]]["pw_name"]
    for name, path in files.items():
        assert os.path.dirname(path) == directory
        assert stats[path]["mode"] == "0600"
    assert stats[files["deploy"]]["checksum"] == hashlib.sha256(keys["ssh"]).hexdigest()
    assert stats[files["token"]]["checksum"] == hashlib.sha256(keys["blob"]).hexdigest()
    assert not os.path.exists(directory), "the secrets directory outlives the run"
    _assert_no_secret(proc.stdout + proc.stderr, keys, "the play output")


def test_no_secret_value_in_listing_cache_or_log(secrets_db, tmp_path, craton_env):
    url, keys = secrets_db
    log = tmp_path / "ansible.log"
    cache = tmp_path / "cache"
    env = dict(craton_env, CRATON_SECRET_KEY=os.environ["CRATON_SECRET_KEY"], ANSIBLE_LOG_PATH=str(log))
    config = write_config(tmp_path, database_url=url, tenant="acme", cache=True,
                          cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache))
    listing, proc = inventory_list(config, env)
    hostvars = listing["_meta"]["hostvars"]["h1"]
    assert set(hostvars["craton_secret_files"]) == {"deploy", "tls", "token"}
    assert hostvars["ansible_ssh_private_key_file"].endswith("-deploy")
    assert "craton_secret_files" not in listing["_meta"]["hostvars"]["h2"]
    verbose = inventory_list(config, env)[1]  # from the cache this time
    from inventory_helpers import run
    very_verbose = run("ansible-inventory", "-i", config, "--list", "-vvvv", env=env)
    _assert_no_secret(proc.stdout + proc.stderr + verbose.stdout + very_verbose.stdout + very_verbose.stderr,
                      keys, "ansible-inventory output")
    cached = "".join(p.read_text() for p in cache.iterdir())
    assert "h1" in cached
    _assert_no_secret(cached, keys, "the inventory cache")
    _assert_no_secret(log.read_text(), keys, "the Ansible log")
    # each run writes its own files; they are gone when it ends
    assert not os.path.exists(os.path.dirname(hostvars["ansible_ssh_private_key_file"]))


def test_secrets_skip_reads_no_secret_and_needs_no_key(secrets_db, tmp_path, craton_env):
    url, _keys = secrets_db
    env = {k: v for k, v in craton_env.items() if not k.startswith("CRATON_SECRET_KEY")}
    config = write_config(tmp_path, database_url=url, tenant="acme", secrets="skip")
    listing = inventory_list(config, env)[0]
    assert "craton_secret_files" not in listing["_meta"]["hostvars"]["h1"]


def test_a_missing_secret_key_is_a_clear_error(secrets_db, tmp_path, craton_env):
    url, _keys = secrets_db
    env = {k: v for k, v in craton_env.items() if not k.startswith("CRATON_SECRET_KEY")}
    env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "1"
    config = write_config(tmp_path, database_url=url, tenant="acme")
    proc = inventory_list(config, env, check=False)[1]
    assert proc.returncode != 0
    assert "no secret key: set CRATON_SECRET_KEY" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr
