"""REST API bad input: the right 4xx in the one error format, a clear message, nothing written."""

from __future__ import annotations

import socket
import uuid

import pytest

from api_fixtures import api_server  # noqa: F401  pylint: disable=unused-import


@pytest.fixture(scope="module")
def editor(api_server):  # noqa: F811
    root = api_server.session(api_server.token(None, "admin"))
    name = "e%s" % uuid.uuid4().hex[:6]
    root.post(api_server.url + "/v1/tenants", json={"name": name})
    s = api_server.session(api_server.token(name, "editor"))
    s.post(api_server.url + "/v1/hosts", json={"name": "keep", "variables": {"a": 1}})
    return s


def _state(s, url):
    data = s.get(url + "/v1/inventory", params={"active_only": "false"}).json()
    return data, s.get(url + "/v1/regions").json(), s.get(url + "/v1/groups").json()


def _error(r, status, *needles):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "title", "message"}
    assert body["error"]["status"] == status
    for needle in needles:
        assert needle in body["error"]["message"], (needle, body)
    return body["error"]["message"]


def test_bad_requests_write_nothing(api_server, editor):  # noqa: F811
    url = api_server.url
    before = _state(editor, url)
    host_id = editor.get(url + "/v1/hosts", params={"name": "keep"}).json()["items"][0]["id"]

    def post(path, **kw):
        return editor.post(url + path, **kw)
    # malformed JSON
    _error(post("/v1/hosts", data='{"name": "x",', headers={"Content-Type": "application/json"}),
           400, "malformed JSON")
    # wrong types, unknown fields, missing fields
    _error(post("/v1/hosts", json={"name": "x", "port": "ssh"}), 422, "port:")
    _error(post("/v1/hosts", json={"name": "x", "colour": "red"}), 422, "colour: Extra inputs are not permitted")
    _error(post("/v1/hosts", json={"ip_address": "10.0.0.9"}), 422, "name: Field required")
    _error(post("/v1/hosts", json=["name"]), 422)
    _error(post("/v1/hosts", json={"name": "x", "port": 70000}), 422, "port:")
    # invalid names and variable keys
    _error(post("/v1/hosts", json={"name": "two words"}), 422, "name:")
    _error(post("/v1/groups", json={"name": ""}), 422, "name:")
    _error(post("/v1/hosts", json={"name": "x", "variables": {"1abc": 1}}), 422, "1abc")
    _error(post("/v1/hosts", json={"name": "x", "variables": {"class": 1}}), 422, "invalid variable name 'class'")
    _error(editor.patch(url + "/v1/hosts/%d/variables" % host_id, json={"bad-key": 1}), 422, "bad-key")
    _error(editor.put(url + "/v1/hosts/%d/secrets/k" % host_id, json={"kind": "ssh_private_key", "data": "nope"}),
           422, "is not a valid ssh_private_key")
    _error(editor.put(url + "/v1/hosts/%d/secrets/k" % host_id, json={"kind": "password", "data": "x"}), 422, "kind")
    # references to things that do not exist
    _error(post("/v1/hosts", json={"name": "x", "region_id": 999999}), 404, "region 999999 does not exist")
    _error(post("/v1/hosts", json={"name": "x", "groups": [999999]}), 404, "group 999999 does not exist")
    _error(post("/v1/groups", json={"name": "x", "children": [999999]}), 404, "group 999999")
    # conflicts
    _error(post("/v1/hosts", json={"name": "keep"}), 409, "already exists")
    # path and query errors
    _error(editor.get(url + "/v1/hosts/abc"), 422, "host_id")
    _error(editor.get(url + "/v1/nowhere"), 404, "no such path")
    _error(editor.put(url + "/v1/hosts"), 405)
    _error(editor.get(url + "/v1/inventory", params={"var": "novalue"}), 422, "not key=value")
    assert _state(editor, url) == before


def test_body_size_limit_is_413(api_server, editor):  # noqa: F811
    url = api_server.url
    before = _state(editor, url)
    huge = {"name": "huge", "variables": {"blob": "x" * (1024 * 1024)}}
    _error(editor.post(url + "/v1/hosts", json=huge), 413, "request body too large", "1048576 bytes")

    def chunks():
        yield b'{"name": "huge", "variables": {"blob": "'
        for _chunk in range(80):
            yield b"y" * 16384
        yield b'"}}'
    r = editor.post(url + "/v1/hosts", data=chunks(), headers={"Content-Type": "application/json"})
    _error(r, 413, "request body too large")
    assert _state(editor, url) == before


def test_server_keeps_answering_after_garbage(api_server, editor):  # noqa: F811
    """A raw, broken HTTP request gets an error, and the server stays up."""
    with socket.create_connection(("127.0.0.1", api_server.port), timeout=5) as sock:
        sock.sendall(b"NONSENSE / HTTP/9.9\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 4")
    assert editor.get(api_server.url + "/v1/tenants").status_code == 200
