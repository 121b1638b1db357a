# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets as files: how a run gets at a host's secrets without seeing their values.

:func:`write_secret_files` decrypts the secrets loaded by
``inventory_query.load_inventory(..., with_secrets=True)`` into files of mode
0600 inside one private directory (mode 0700) and returns, per host, the
variables that point at them:

* ``craton_secret_files``: {secret name: file path} for every secret of the host;
* ``ansible_ssh_private_key_file``: the file of the host's ``ssh_private_key``
  secret (the one named ``ssh_private_key`` when there are several, else the
  first by name).

Only paths ever become variables; the plaintext exists only in those files.
The caller removes the directory when the run ends.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile

from ansible_collections.craton.fleet.plugins.module_utils import secret_store
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.precedence import SECRET_FILES_VAR, SSH_KEY_VAR

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def private_directory(parent=None):
    """A new directory of mode 0700 (under ``parent`` when given)."""
    if parent:
        try:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        except OSError as e:
            raise CratonError("cannot create the secrets directory %s: %s" % (parent, e.strerror or e)) from None
    try:
        path = tempfile.mkdtemp(prefix="craton-secrets-", dir=parent or None)
    except OSError as e:
        raise CratonError("cannot create a private directory for secrets in %s: %s"
                          % (parent or tempfile.gettempdir(), e.strerror or e)) from None
    os.chmod(path, 0o700)
    return path


def remove_directory(path):
    """Remove a directory made by :func:`private_directory` (ignores a missing one)."""
    shutil.rmtree(path, ignore_errors=True)


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_secret_files(hosts, directory):
    """Write the secrets of ``hosts`` under ``directory``; -> {host name: variables}."""
    result = {}
    for host in hosts:
        secrets = host.get("secrets")
        if not secrets:
            continue
        files, ssh_keys = {}, []
        for secret in secrets:
            what = "secret %r of host %r" % (secret["name"], host["name"])
            if "data_base64" in secret:  # read through the REST API: the server decrypted it
                plaintext = base64.b64decode(secret["data_base64"])
            else:
                plaintext = secret_store.decrypt(secret["ciphertext"].encode("ascii"), what)
            path = os.path.join(directory, "%d-%d-%s" % (host["id"], secret["id"],
                                                         _UNSAFE.sub("_", secret["name"])))
            try:
                _write(path, plaintext)
            except OSError as e:
                raise CratonError("cannot write %s to %s: %s" % (what, directory, e.strerror or e)) from None
            files[secret["name"]] = path
            if secret["kind"] == "ssh_private_key":
                ssh_keys.append(secret["name"])
        variables = {SECRET_FILES_VAR: files}
        if ssh_keys:
            chosen = "ssh_private_key" if "ssh_private_key" in ssh_keys else sorted(ssh_keys)[0]
            variables[SSH_KEY_VAR] = files[chosen]
        result[host["name"]] = variables
    return result


def secret_placeholders(host):
    """The secret variables of a host with placeholders instead of paths (for explain)."""
    secrets = host.get("secrets") or []
    if not secrets:
        return {}
    files = {s["name"]: "<file of secret %s, written at run time>" % s["name"] for s in secrets}
    variables = {SECRET_FILES_VAR: files}
    ssh_keys = [s["name"] for s in secrets if s["kind"] == "ssh_private_key"]
    if ssh_keys:
        chosen = "ssh_private_key" if "ssh_private_key" in ssh_keys else sorted(ssh_keys)[0]
        variables[SSH_KEY_VAR] = files[chosen]
    return variables
