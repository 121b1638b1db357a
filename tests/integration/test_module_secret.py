"""craton.fleet.secret through real playbooks: validated, encrypted at rest, idempotent, masked in diffs and
never returned; check mode, rename, absent, bad input; on SQLite and MariaDB."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

import module_runs as mr
from ansible_collections.craton.fleet.plugins.module_utils import secret_store

PLAY = r"""
- hosts: far
  gather_facts: false
  vars:
    key1: "{{ lookup('ansible.builtin.file', 'key1') }}"
    key2: "{{ lookup('ansible.builtin.file', 'key2') }}"
  tasks:
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.host: {tenant: acme, name: db01}
    - name: store
      craton.fleet.secret: {tenant: acme, host: db01, name: deploy_key, kind: ssh_private_key, data: "{{ key1 }}"}
      diff: true
      register: created
    - name: the same again
      craton.fleet.secret: {tenant: acme, host: db01, name: deploy_key, kind: ssh_private_key, data: "{{ key1 }}"}
      register: again
    - name: check mode - a new value
      craton.fleet.secret: {tenant: acme, host: db01, name: deploy_key, kind: ssh_private_key, data: "{{ key2 }}"}
      check_mode: true
      diff: true
      register: checked
    - name: a new value
      craton.fleet.secret: {tenant: acme, host: db01, name: deploy_key, kind: pem, data: "{{ key2 }}"}
      diff: true
      register: updated
    - name: rename
      craton.fleet.secret: {tenant: acme, host: db01, name: deploy_key, new_name: ssh_key, kind: pem, data: "{{ key2 }}"}
      register: renamed
    - name: rename again
      craton.fleet.secret: {tenant: acme, host: db01, name: deploy_key, new_name: ssh_key, kind: pem, data: "{{ key2 }}"}
      register: renamed_again
    - name: a blob to remove
      craton.fleet.secret: {tenant: acme, host: db01, name: token, kind: opaque, data: s3cr3t-token-value}
    - name: remove
      craton.fleet.secret: {tenant: acme, host: db01, name: token, state: absent}
      register: removed
    - name: remove again
      craton.fleet.secret: {tenant: acme, host: db01, name: token, state: absent}
      register: removed_again
    - name: malformed PEM
      craton.fleet.secret: {tenant: acme, host: db01, name: broken, kind: pem, data: "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"}
      register: e_pem
      ignore_errors: true
    - name: not an SSH key
      craton.fleet.secret: {tenant: acme, host: db01, name: broken, kind: ssh_private_key, data: hello}
      register: e_ssh
      ignore_errors: true
    - name: unknown host
      craton.fleet.secret: {tenant: acme, host: ghost, name: k, kind: opaque, data: opaque-value-1}
      register: e_host
      ignore_errors: true
    - name: data missing
      craton.fleet.secret: {tenant: acme, host: db01, name: k, kind: opaque}
      register: e_data
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - created is changed
          - "created.secret == {'tenant': 'acme', 'host': 'db01', 'name': 'deploy_key', 'kind': 'ssh_private_key'}"
          - "created.diff.after.data == '******** (new value)'"
          - again is not changed
          - checked is changed
          - "checked.diff.before == {'tenant': 'acme', 'host': 'db01', 'name': 'deploy_key', 'data': '********'}"
          - "checked.diff.after == {'tenant': 'acme', 'host': 'db01', 'name': 'deploy_key', 'data': '******** (new value)'}"
          - updated is changed and updated.secret.kind == 'pem'
          - "updated.diff.after.kind == 'pem'"
          - renamed is changed and renamed.secret.name == 'ssh_key'
          - renamed_again is not changed
          - removed is changed and removed.secret == {}
          - removed_again is not changed
          - e_pem is failed and e_pem.msg is search("secret 'broken' of host 'db01' is not a valid pem")
          - e_ssh is failed and e_ssh.msg is search("secret 'broken' of host 'db01' is not a valid ssh_private_key")
          - e_host is failed and e_host.msg is search("host 'ghost' does not exist")
          - e_data is failed and e_data.msg is search('state is present but all of the following are missing. data')
"""


def private_key():
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()


def pkcs8_key():
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def test_secret_lifecycle_never_shows_the_value(fleet_url, tmp_path, secret_key):
    key1, key2 = private_key(), pkcs8_key()
    (tmp_path / "key1").write_text(key1)
    (tmp_path / "key2").write_text(key2)
    proc = mr.playbook(tmp_path, fleet_url, PLAY, "-vvv", "--diff")
    output = proc.stdout + proc.stderr
    for line in key1.strip().splitlines()[1:-1] + key2.strip().splitlines()[1:-1] + ["s3cr3t-token-value"]:
        assert line not in output, "secret material in the output"
    stored = mr.rows(fleet_url, "SELECT name, kind, ciphertext FROM secrets")
    assert [row[:2] for row in stored] == [("ssh_key", "pem")]
    ciphertext = bytes(stored[0][2])
    assert key2.strip().encode() not in ciphertext
    assert secret_store.decrypt(ciphertext) == key2.strip().encode()  # lookup('file') strips the newline


def test_secret_without_key_fails_naming_it(fleet_url, tmp_path, monkeypatch):
    monkeypatch.delenv("CRATON_SECRET_KEY", raising=False)
    play = r"""
- hosts: far
  gather_facts: false
  tasks:
    - craton.fleet.tenant: {name: acme}
    - craton.fleet.host: {tenant: acme, name: db01}
    - craton.fleet.secret: {tenant: acme, host: db01, name: t, kind: opaque, data: opaque-value-2}
      register: e_key
      ignore_errors: true
    - ansible.builtin.assert:
        that: [e_key is failed, "e_key.msg is search('no secret key. set CRATON_SECRET_KEY')"]
"""
    mr.playbook(tmp_path, fleet_url, play)
    assert mr.rows(fleet_url, "SELECT COUNT(*) FROM secrets") == [(0,)]
