"""Tenant isolation: a token of tenant A gets 404 for everything of tenant B, on every endpoint.

The test walks the server's own OpenAPI document, so an endpoint added later is
covered (or fails here until it gets a request body in BODIES)."""

from __future__ import annotations

import re
import uuid

import pytest

from api_fixtures import api_server  # noqa: F401  pylint: disable=unused-import

# Valid request bodies, so that a 404 comes from the tenant check and not from validation.
BODIES = {
    ("post", "/v1/regions"): lambda ids: {"tenant_id": ids["tenant_id"], "name": "intruder"},
    ("post", "/v1/hosts"): lambda ids: {"tenant_id": ids["tenant_id"], "name": "intruder"},
    ("post", "/v1/groups"): lambda ids: {"tenant_id": ids["tenant_id"], "name": "intruder"},
    ("put", "/v1/hosts/{host_id}/secrets/{name}"): lambda ids: {"kind": "opaque", "data": "x"},
    ("post", "/v1/groups/{group_id}/vars_references"): lambda ids: {"url": "https://example.invalid/x.yml"},
    ("patch", "/v1/groups/{group_id}/vars_references/{ref_id}"): lambda ids: {"order": 7},
}
VARIABLE_WRITES = re.compile(r"/variables$")
# Endpoints that name no object of another tenant: their answers must just not show tenant B.
LISTS = {"/v1/tenants", "/v1/regions", "/v1/hosts", "/v1/groups"}


def _build(server, token, name):
    s = server.session(token)
    url = server.url
    tenant = s.post(url + "/v1/tenants", json={"name": name}).json()
    tid = tenant["id"]
    region = s.post(url + "/v1/regions", json={"tenant_id": tid, "name": "r", "variables": {"rv": 1}}).json()
    group = s.post(url + "/v1/groups", json={"tenant_id": tid, "name": "g", "variables": {"gv": 1}}).json()
    child = s.post(url + "/v1/groups", json={"tenant_id": tid, "name": "c"}).json()
    s.put(url + "/v1/groups/%d/children/%d" % (group["id"], child["id"]))
    host = s.post(url + "/v1/hosts", json={"tenant_id": tid, "name": "h", "region_id": region["id"],
                                           "groups": [group["id"]], "variables": {"hv": 1}}).json()
    s.put(url + "/v1/hosts/%d/secrets/key" % host["id"], json={"kind": "opaque", "data": "b-secret"})
    ref = s.post(url + "/v1/groups/%d/vars_references" % group["id"], json={"url": "https://example.invalid/b.yml"})
    return {"tenant_id": tid, "region_id": region["id"], "group_id": group["id"], "child_id": child["id"],
            "host_id": host["id"], "ref_id": ref.json()["id"], "name": "key", "tenant_name": name}


@pytest.fixture(scope="module")
def tenants(api_server):  # noqa: F811
    root = api_server.token(None, "admin")
    suffix = uuid.uuid4().hex[:6]
    a = _build(api_server, root, "a%s" % suffix)
    b = _build(api_server, root, "b%s" % suffix)
    token_a = api_server.token(a["tenant_name"], "admin")
    token_b = api_server.token(b["tenant_name"], "admin")
    return a, b, api_server.session(token_a), api_server.session(token_b)


def _operations(session, url):
    document = session.get(url + "/v1/openapi.json").json()
    for path, item in sorted(document["paths"].items()):
        for method in sorted(item):
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path


def _snapshot(session, url, b):
    data = session.get(url + "/v1/inventory", params={"secrets": "true"}).json()
    refs = session.get(url + "/v1/groups/%d/vars_references" % b["group_id"]).json()
    return data, refs


def test_every_endpoint_hides_other_tenants(api_server, tenants):  # noqa: F811
    a, b, as_a, as_b = tenants
    url = api_server.url
    before = _snapshot(as_b, url, b)
    checked = []
    for method, path in _operations(as_a, url):
        if path == "/v1/tenants" and method == "post":
            r = as_a.post(url + path, json={"name": "x%s" % uuid.uuid4().hex[:6]})
            assert r.status_code == 403, (method, path, r.text)  # only global tokens create tenants
            checked.append((method, path))
            continue
        params, body = {}, None
        if path in LISTS:
            params = {"tenant_id": b["tenant_id"]} if path != "/v1/tenants" else {"name": b["tenant_name"]}
        if path == "/v1/inventory":
            params = {"tenant": b["tenant_name"]}
        concrete = path.format(**{k: b[k] for k in re.findall(r"{(\w+)}", path)})
        if (method, path) in BODIES:
            body = BODIES[(method, path)](b)
        elif method in ("put", "patch") and VARIABLE_WRITES.search(path):
            body = {"intruder": 1}
        elif method == "delete" and VARIABLE_WRITES.search(path):
            params = {"key": ["hv", "gv", "rv"]}
        elif method in ("post", "put", "patch") and "{child_id}" not in path and "/hosts/{host_id}" not in path[12:]:
            body = {}
        r = as_a.request(method.upper(), url + concrete, params=params, json=body)
        if path in LISTS and method == "get":
            assert r.status_code == 200, (method, path, r.text)
            assert r.json()["items"] == [], (method, path, r.text)
        else:
            assert r.status_code == 404, (method, concrete, r.status_code, r.text)
            message = r.json()["error"]["message"]
            assert "does not exist" in message, (method, concrete, message)
        assert "b-secret" not in r.text
        checked.append((method, path))
    # Mixed: an object of A with an object of B.
    for method in ("PUT", "DELETE"):
        r = as_a.request(method, url + "/v1/groups/%d/hosts/%d" % (a["group_id"], b["host_id"]))
        assert r.status_code == 404, r.text
        r = as_a.request(method, url + "/v1/groups/%d/children/%d" % (a["group_id"], b["group_id"]))
        assert r.status_code == 404, r.text
    r = as_a.patch(url + "/v1/hosts/%d" % a["host_id"], json={"region_id": b["region_id"]})
    assert r.status_code == 404, r.text
    r = as_a.post(url + "/v1/groups", json={"name": "mix", "hosts": [b["host_id"]]})
    assert r.status_code == 404, r.text
    assert as_a.get(url + "/v1/hosts", params={"name": "mix"}).json()["items"] == []
    # Nothing of B changed, and the walk covered the whole document.
    assert _snapshot(as_b, url, b) == before
    assert len(checked) == len(list(_operations(as_a, url))) >= 40


def test_own_tenant_answers_the_same_requests(api_server, tenants):  # noqa: F811
    """The control: the GET requests above succeed with the token's own objects."""
    a, _b, as_a, _as_b = tenants
    url = api_server.url
    for method, path in _operations(as_a, url):
        if method != "get":
            continue
        concrete = path.format(**{k: a[k] for k in re.findall(r"{(\w+)}", path)})
        params = {"secrets": "false"} if concrete.endswith((".tgz", ".zip")) else None
        r = as_a.get(url + concrete, params=params)
        if concrete.endswith((".tgz", ".zip")):  # A's group has a vars reference that cannot be fetched
            assert r.status_code == 422 and "vars reference" in r.json()["error"]["message"], r.text
        else:
            assert r.status_code == 200, (concrete, r.status_code, r.text)
