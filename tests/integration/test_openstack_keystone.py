"""craton serve --keystone-url against a real Keystone: project isolation, roles, expiry, revocation.

One Keystone (session fixture) and one ``craton serve`` validating tokens with a
service user that has Keystone's ``service`` role. Two tenants are bound to two
Keystone projects through their trusted variable ``keystone_project_id``.
"""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
import time

import pytest
import requests

from api_fixtures import ApiServer
from openstack_fixtures import TOKEN_SECONDS, keystone, keystone_api as cloud  # noqa: F401  pylint: disable=unused-import


def _host_names(session, server):
    response = session.get(server.url + "/v1/hosts")
    assert response.status_code == 200, response.text
    return sorted(h["name"] for h in response.json()["items"])


def test_project_token_reads_only_its_tenant(cloud):
    reader = cloud.api(cloud.token("reader", "a"))
    assert _host_names(reader, cloud.server) == ["a-host0", "a-host1"]
    tenants = reader.get(cloud.server.url + "/v1/tenants").json()["items"]
    assert [t["name"] for t in tenants] == [cloud.fleet["a"]["name"]]
    other = reader.get(cloud.server.url + "/v1/tenants/%d" % cloud.fleet["b"]["id"])
    assert other.status_code == 404
    admin_b = cloud.api(cloud.token("admin_b", "b"))
    assert _host_names(admin_b, cloud.server) == ["b-host0", "b-host1"]
    # Authorization: Bearer works for Keystone tokens too
    bearer = cloud.server.session(cloud.token("reader", "a"))
    assert _host_names(bearer, cloud.server) == ["a-host0", "a-host1"]


def test_roles_are_enforced_on_writes(cloud):
    url = cloud.server.url + "/v1/hosts"
    reader = cloud.api(cloud.token("reader", "a"))
    refused = reader.post(url, json={"tenant_id": cloud.fleet["a"]["id"], "name": "by-reader"})
    assert refused.status_code == 403, refused.text
    assert "editor" in refused.json()["error"]["message"]
    member = cloud.api(cloud.token("member", "a"))
    created = member.post(url, json={"tenant_id": cloud.fleet["a"]["id"], "name": "by-member"})
    assert created.status_code == 201, created.text
    # member -> editor: admin-only writes (a tenant variable is trusted only from an admin) stay closed
    tenant_vars = cloud.server.url + "/v1/tenants/%d" % cloud.fleet["a"]["id"]
    assert member.patch(tenant_vars, json={"description": "x"}).status_code == 403
    admin_b = cloud.api(cloud.token("admin_b", "b"))
    assert admin_b.patch(cloud.server.url + "/v1/tenants/%d" % cloud.fleet["b"]["id"],
                         json={"description": "set by a Keystone admin"}).status_code == 200
    # a project admin is admin of its own tenant only
    into_a = admin_b.post(url, json={"tenant_id": cloud.fleet["a"]["id"], "name": "intruder"})
    assert into_a.status_code in (403, 404), into_a.text
    assert "intruder" not in _host_names(cloud.server.session(cloud.root), cloud.server)


def test_unmapped_project_role_and_scope_are_refused(cloud):
    orphan = cloud.api(cloud.token("orphan", "none")).get(cloud.server.url + "/v1/hosts")
    assert orphan.status_code == 403
    message = orphan.json()["error"]["message"]
    assert "none-%s" % cloud.suffix in message and "keystone_project_id" in message
    other = cloud.api(cloud.token("other", "a")).get(cloud.server.url + "/v1/hosts")
    assert other.status_code == 403
    assert "observer" in other.json()["error"]["message"]
    for bad in ("not-a-token", "gAAAAA" + "x" * 150):
        response = cloud.api(bad).get(cloud.server.url + "/v1/hosts")
        assert response.status_code == 401, response.text
    # craton's own tokens keep working next to Keystone
    assert "a-host0" in _host_names(cloud.server.session(cloud.root), cloud.server)


def test_revoked_token_gets_401(cloud):
    token = cloud.token("member", "a")
    session = cloud.api(token)
    assert session.get(cloud.server.url + "/v1/hosts").status_code == 200
    cloud.keystone.revoke(token)
    response = session.get(cloud.server.url + "/v1/hosts")
    assert response.status_code == 401, response.text


def test_expired_token_gets_401_even_with_a_long_cache(cloud, keystone, tmp_path):  # noqa: F811
    """A second server caches for an hour: the cache still ends at the token's expiry."""
    server = ApiServer(cloud.server.database_url, cloud.server.env, str(tmp_path))
    server.start("--keystone-url", keystone.url, "--keystone-username", "craton-%s" % cloud.suffix,
                 "--keystone-project", "service-%s" % cloud.suffix, "--keystone-cache-seconds", "3600")
    try:
        token = cloud.token("reader", "a")
        issued = time.monotonic()
        session = server.session(token)
        assert session.get(server.url + "/v1/hosts").status_code == 200
        revoked = cloud.token("reader", "a")
        assert server.session(revoked).get(server.url + "/v1/hosts").status_code == 200
        cloud.keystone.revoke(revoked)
        # documented: within the cache time a revoked token still works on this server
        assert server.session(revoked).get(server.url + "/v1/hosts").status_code == 200
        time.sleep(max(0.0, issued + TOKEN_SECONDS + 1 - time.monotonic()))
        response = session.get(server.url + "/v1/hosts")
        assert response.status_code == 401, response.text
        assert requests.get(keystone.url + "/auth/tokens", headers={
            "X-Auth-Token": keystone.admin.get_token(), "X-Subject-Token": token}).status_code == 404
    finally:
        server.stop()


def test_keystone_misconfiguration_is_one_line_and_exit_1(cloud, keystone, run_craton):  # noqa: F811
    from api_fixtures import free_port
    base = ["serve", "--database-url", cloud.server.database_url, "--port", "0"]
    down = "http://127.0.0.1:%d/v3" % free_port()
    cases = [
        (["--keystone-url", down], "cannot reach Keystone at %s" % down),
        (["--keystone-url", keystone.url, "--keystone-username", "craton-%s" % cloud.suffix,
          "--keystone-password", "wrong", "--keystone-project", "service-%s" % cloud.suffix],
         "refused craton's service credentials"),
        (["--keystone-url", keystone.url.replace("/v3", "/nothing")], "answers HTTP 404"),
        (["--keystone-url", keystone.url, "--keystone-username", "x"], "credentials are incomplete"),
        (["--keystone-url", "keystone:5000"], "invalid --keystone-url"),
    ]
    for extra, expected in cases:
        proc = run_craton(*base, *extra, check=False, env=dict(cloud.server.env, CRATON_KEYSTONE_PASSWORD=""))
        assert proc.returncode == 1, (extra, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("craton: error: ") and expected in proc.stderr, (extra, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


class _Forward(socketserver.BaseRequestHandler):
    """One TCP connection to 127.0.0.1:server.target_port, bytes copied both ways."""

    def handle(self):
        upstream = socket.create_connection(("127.0.0.1", self.server.target_port))

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for sock in (src, dst):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
        other.start()
        pump(self.request, upstream)
        other.join(5)
        upstream.close()


def test_keystone_going_away_is_503_naming_keystone(cloud, keystone, tmp_path):  # noqa: F811
    """craton serve reaches Keystone through a TCP relay; the relay stops: 503 naming Keystone, not 401.
    (Keystone's wsgiref server speaks HTTP/1.0: every call is a new connection, none survives the relay.)"""
    relay = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Forward)
    relay.daemon_threads = True
    relay.target_port = keystone.port
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    relayed = "http://127.0.0.1:%d/v3" % relay.server_address[1]
    server = ApiServer(cloud.server.database_url, cloud.server.env, str(tmp_path))
    try:
        server.start("--keystone-url", relayed, "--keystone-username", "craton-%s" % cloud.suffix,
                     "--keystone-project", "service-%s" % cloud.suffix, "--keystone-cache-seconds", "0")
        token = cloud.token("reader", "a")
        assert server.session(token).get(server.url + "/v1/hosts").status_code == 200
        relay.shutdown()
        relay.server_close()
        response = server.session(token).get(server.url + "/v1/hosts")
        assert response.status_code == 503, response.text
        assert "cannot reach Keystone at %s" % relayed in response.json()["error"]["message"]
    finally:
        server.stop()
        relay.server_close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
