# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets at rest: validation, encryption and decryption of secret blobs.

Blobs are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``)
before they reach the database. The key is, in order:

1. ``CRATON_SECRET_KEY``: a Fernet key (32 url-safe base64-encoded bytes);
2. the file named by ``CRATON_SECRET_KEY_FILE``;
3. the file ``$XDG_CONFIG_HOME/craton/secret.key`` (``~/.config/craton/secret.key``).

``craton key generate`` writes a new key file (mode 0600). A missing key, a
malformed key or a key that does not decrypt a stored secret is a CratonError
that says which.

With ``CRATON_SECRET_BACKEND=barbican`` new blobs go to OpenStack Barbican
instead (barbican_store.py) and the database keeps a ``barbican:<uuid>``
reference; :func:`decrypt` reads either kind. ``craton secrets migrate`` moves
stored secrets between the two.
"""

from __future__ import annotations

import os
import traceback

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

try:
    from cryptography.fernet import Fernet, InvalidToken
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by require_cryptography
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

ENV_KEY = "CRATON_SECRET_KEY"
ENV_KEY_FILE = "CRATON_SECRET_KEY_FILE"
ENV_BACKEND = "CRATON_SECRET_BACKEND"
BACKENDS = ("database", "barbican")


def default_key_file():
    """Where the key file is looked for when CRATON_SECRET_KEY_FILE is unset."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config_home, "craton", "secret.key")


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise CratonError("craton.fleet secrets need the Python package cryptography: %s"
                          % CRYPTOGRAPHY_IMPORT_ERROR)


def load_key():
    """The Fernet instance for the configured key, or a CratonError naming the problem."""
    _require_cryptography()
    key = os.environ.get(ENV_KEY)
    source = "$" + ENV_KEY
    if not key:
        path = os.environ.get(ENV_KEY_FILE) or default_key_file()
        source = "key file %s" % path
        try:
            with open(path, "rb") as f:
                key = f.read().strip()
        except FileNotFoundError:
            raise CratonError(
                "no secret key: set %s, or point %s at a key file, or create %s with "
                "`craton key generate`" % (ENV_KEY, ENV_KEY_FILE, path)) from None
        except OSError as e:
            raise CratonError("cannot read the secret key from %s: %s" % (source, e)) from None
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise CratonError("the secret key in %s is not a valid key (32 url-safe base64-encoded "
                          "bytes, as written by `craton key generate`)" % source) from None


def generate_key_file(path=None):
    """Write a new key to ``path`` (default: the default key file), mode 0600.

    Refuses to overwrite an existing file: that would orphan every stored secret."""
    _require_cryptography()
    path = path or os.environ.get(ENV_KEY_FILE) or default_key_file()
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CratonError("key file %s already exists; a new key would make the stored secrets "
                          "unreadable" % path) from None
    with os.fdopen(fd, "wb") as f:
        f.write(Fernet.generate_key() + b"\n")
    return path


def backend():
    """The secrets backend for new blobs: ``database`` (default) or ``barbican`` ($CRATON_SECRET_BACKEND)."""
    name = os.environ.get(ENV_BACKEND) or "database"
    if name not in BACKENDS:
        raise CratonError("invalid %s=%r: use %s" % (ENV_BACKEND, name, " or ".join(BACKENDS)))
    return name


def encrypt(plaintext, to=None):
    """What to store for a secret (str or bytes): a Fernet token of the configured key, or,
    with the barbican backend (``to`` or :func:`backend`), a reference to the blob in Barbican."""
    if isinstance(plaintext, str):
        plaintext = plaintext.encode("utf-8")
    if (to or backend()) == "barbican":
        from ansible_collections.craton.fleet.plugins.module_utils import barbican_store
        return barbican_store.store(plaintext, name="craton.fleet")
    return load_key().encrypt(plaintext)


def decrypt(ciphertext, what="secret"):
    """The plaintext of a stored secret (from Barbican for a reference, whatever the backend
    setting), or say that the key does not fit."""
    from ansible_collections.craton.fleet.plugins.module_utils import barbican_store
    if barbican_store.is_reference(ciphertext):
        return barbican_store.fetch(ciphertext, what)
    try:
        return load_key().decrypt(ciphertext)
    except InvalidToken:
        raise CratonError("cannot decrypt %s: the configured secret key is not the one it was "
                          "stored with (check %s / the key file)" % (what, ENV_KEY)) from None


def validate(kind, data, what="secret"):
    """Refuse a secret whose content does not parse as its kind; return it as bytes."""
    _require_cryptography()
    blob = data.encode("utf-8") if isinstance(data, str) else data
    if not isinstance(blob, bytes) or not blob:
        raise CratonError("%s is empty" % what)
    try:
        if kind == "pem":
            if b"-----BEGIN " not in blob:
                raise ValueError("no PEM header")
            _load_any_pem(blob)
        elif kind == "ssh_private_key":
            try:
                serialization.load_ssh_private_key(blob, password=None)
            except ValueError:
                serialization.load_pem_private_key(blob, password=None)
        elif kind == "certificate":
            x509.load_pem_x509_certificates(blob)
    except (ValueError, TypeError) as e:
        raise CratonError("%s is not a valid %s: %s" % (what, kind, str(e).splitlines()[0] if str(e) else e)) from None
    return blob


def _load_any_pem(blob):
    loaders = (
        lambda b: serialization.load_pem_private_key(b, password=None),
        serialization.load_pem_public_key,
        x509.load_pem_x509_certificates,
        x509.load_pem_x509_csr,
    )
    for loader in loaders:
        try:
            loader(blob)
            return
        except (ValueError, TypeError):
            continue
    raise ValueError("PEM data does not parse as a key, certificate or CSR")
