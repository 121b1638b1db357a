"""REST API over real HTTP: CRUD of every collection, tokens, trust of written values."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from api_fixtures import api_server  # noqa: F401  pylint: disable=unused-import


@pytest.fixture(scope="module")
def world(api_server):  # noqa: F811
    """A tenant made through the API by a global admin, and tokens of each role."""
    root = api_server.session(api_server.token(None, "admin"))
    name = "t%s" % uuid.uuid4().hex[:6]
    tenant = root.post(api_server.url + "/v1/tenants", json={"name": name}).json()
    tokens = {role: api_server.token(name, role) for role in ("reader", "editor", "admin")}
    return {"server": api_server, "url": api_server.url, "tenant": tenant, "root": root,
            "s": {role: api_server.session(tok) for role, tok in tokens.items()}, "tokens": tokens}


def test_both_token_headers_work_and_bad_tokens_are_401(world):
    server, url = world["server"], world["url"]
    token = world["tokens"]["reader"]
    for header in ("bearer", "x-auth"):
        r = server.session(token, header).get(url + "/v1/tenants")
        assert r.status_code == 200
        assert [t["name"] for t in r.json()["items"]] == [world["tenant"]["name"]]
    r = requests.get(url + "/v1/tenants")
    assert r.status_code == 401 and "missing API token" in r.json()["error"]["message"]
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = server.session("craton_not-a-real-token").get(url + "/v1/tenants")
    assert r.status_code == 401 and "invalid API token" in r.json()["error"]["message"]
    # revoked: 401 at once
    doomed = server.token(world["tenant"]["name"], "reader", "doomed")
    assert server.session(doomed).get(url + "/v1/tenants").status_code == 200
    listed = server.craton("token", "list").stdout
    token_id = next(line.split()[0] for line in listed.splitlines() if "doomed" in line)
    assert "revoked API token %s" % token_id in server.craton("token", "revoke", token_id).stdout
    deadline = time.monotonic() + 10  # valid tokens are cached for --token-cache-seconds (1 s here)
    while server.session(doomed).get(url + "/v1/tenants").status_code != 401:
        assert time.monotonic() < deadline, "a revoked token still works"
        time.sleep(0.2)
    assert "revoked" in server.craton("token", "list").stdout


def test_tokens_are_stored_hashed_only(world):
    import hashlib
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils import db
    token = world["tokens"]["editor"]
    with db.engine_for(world["server"].database_url).connect() as conn:
        stored = [r[0] for r in conn.execute(sa.text("SELECT token_sha256 FROM api_tokens"))]
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored and not any(token[7:20] in s for s in stored)


def test_roles_reader_cannot_write_editor_cannot_admin(world):
    url, s, tid = world["url"], world["s"], world["tenant"]["id"]
    r = s["reader"].post(url + "/v1/hosts", json={"name": "nope"})
    assert r.status_code == 403 and "needs the editor role" in r.json()["error"]["message"]
    r = s["editor"].patch(url + "/v1/tenants/%d" % tid, json={"description": "x"})
    assert r.status_code == 403
    r = s["admin"].post(url + "/v1/tenants", json={"name": "other%s" % uuid.uuid4().hex[:4]})
    assert r.status_code == 403 and "global admin" in r.json()["error"]["message"]
    assert s["reader"].get(url + "/v1/hosts?name=nope").json()["items"] == []


def test_tenant_region_host_group_crud(world):
    url, ed, tid = world["url"], world["s"]["editor"], world["tenant"]["id"]
    admin = world["s"]["admin"]
    r = admin.patch(url + "/v1/tenants/%d" % tid, json={"description": "the tenant"})
    assert r.status_code == 200 and r.json()["description"] == "the tenant"

    region = ed.post(url + "/v1/regions", json={"name": "eu-west", "variables": {"dc": "eu1"}}).json()
    assert region["tenant_id"] == tid
    assert [x["id"] for x in ed.get(url + "/v1/regions/%d" % tid).json()["items"]] == [region["id"]]
    assert ed.get(url + "/v1/regions/%d/%d" % (tid, region["id"])).json()["name"] == "eu-west"
    r = ed.patch(url + "/v1/regions/%d/%d" % (tid, region["id"]), json={"name": "eu-w"})
    assert r.json()["name"] == "eu-w"

    web = ed.post(url + "/v1/groups", json={"name": "web", "variables": {"http_port": 80}}).json()
    site = ed.post(url + "/v1/groups", json={"name": "site", "children": [web["id"]]}).json()
    host = ed.post(url + "/v1/hosts", json={"name": "web1", "region_id": region["id"], "ip_address": "10.0.0.1",
                                            "port": 22, "groups": [web["id"]], "variables": {"a": 1}}).json()
    assert (host["ip_address"], host["port"], host["region_id"], host["active"]) == ("10.0.0.1", 22, region["id"], True)
    assert ed.get(url + "/v1/groups/%d/children" % site["id"]).json() == [{"id": web["id"], "name": "web"}]
    assert ed.get(url + "/v1/groups/%d/hosts" % web["id"]).json() == [{"id": host["id"], "name": "web1"}]

    # PATCH: given fields change, null clears, others stay
    r = ed.patch(url + "/v1/hosts/%d" % host["id"], json={"port": 2222, "ip_address": None, "region_id": None})
    got = r.json()
    assert (got["port"], got["ip_address"], got["region_id"], got["name"]) == (2222, None, None, "web1")
    r = ed.patch(url + "/v1/hosts/%d" % host["id"], json={"name": "web01", "active": False})
    assert (r.json()["name"], r.json()["active"]) == ("web01", False)
    assert [h["name"] for h in ed.get(url + "/v1/hosts", params={"active": "false"}).json()["items"]] == ["web01"]
    assert ed.get(url + "/v1/hosts", params={"group_id": web["id"]}).json()["items"][0]["id"] == host["id"]

    # children and members: add, cycle refused (409, naming it), remove
    r = ed.put(url + "/v1/groups/%d/children/%d" % (web["id"], site["id"]))
    assert r.status_code == 409 and r.json()["error"]["message"] == "group cycle refused: web -> site -> web"
    assert ed.delete(url + "/v1/groups/%d/children/%d" % (site["id"], web["id"])).status_code == 204
    assert ed.get(url + "/v1/groups/%d/children" % site["id"]).json() == []
    assert ed.put(url + "/v1/groups/%d/hosts/%d" % (site["id"], host["id"])).status_code == 204
    assert ed.delete(url + "/v1/groups/%d/hosts/%d" % (web["id"], host["id"])).status_code == 204
    assert ed.get(url + "/v1/groups/%d/hosts" % web["id"]).json() == []
    assert ed.get(url + "/v1/groups/%d/hosts" % site["id"]).json() == [{"id": host["id"], "name": "web01"}]

    # duplicates are 409
    r = ed.post(url + "/v1/hosts", json={"name": "web01"})
    assert r.status_code == 409 and "already exists" in r.json()["error"]["message"]
    r = ed.post(url + "/v1/groups", json={"name": "web"})
    assert r.status_code == 409

    # delete
    for path in ("/v1/hosts/%d" % host["id"], "/v1/groups/%d" % site["id"], "/v1/groups/%d" % web["id"],
                 "/v1/regions/%d/%d" % (tid, region["id"])):
        assert ed.delete(url + path).status_code == 204, path
        r = ed.get(url + path)
        assert r.status_code == 404 and "does not exist" in r.json()["error"]["message"]


def test_variables_put_patch_delete_and_trust(world):
    url, ed, admin, tid = world["url"], world["s"]["editor"], world["s"]["admin"], world["tenant"]["id"]
    host = ed.post(url + "/v1/hosts", json={"name": "vars1"}).json()
    group = ed.post(url + "/v1/groups", json={"name": "vgroup"}).json()
    region = ed.post(url + "/v1/regions", json={"name": "vregion"}).json()
    for path in ("/v1/hosts/%d/variables" % host["id"], "/v1/groups/%d/variables" % group["id"],
                 "/v1/regions/%d/%d/variables" % (tid, region["id"]), "/v1/tenants/%d/variables" % tid):
        r = admin.put(url + path, json={"motd": "hi {{ inventory_hostname }}", "n": 1, "f": 2.0})
        assert r.json() == {"variables": {"f": 2.0, "motd": "hi {{ inventory_hostname }}", "n": 1},
                            "untrusted": []}, path
        # an editor's values are stored untrusted; an admin's trusted
        r = ed.patch(url + path, json={"cmd": "{{ lookup('pipe', 'id') }}", "n": 2})
        assert r.json()["variables"] == {"cmd": "{{ lookup('pipe', 'id') }}", "f": 2.0,
                                         "motd": "hi {{ inventory_hostname }}", "n": 2}, path
        assert r.json()["untrusted"] == ["cmd", "n"], path
        r = ed.delete(url + path, params={"key": ["cmd", "f"]})
        assert r.json() == {"variables": {"motd": "hi {{ inventory_hostname }}", "n": 2}, "untrusted": ["n"]}, path
        r = ed.put(url + path, json={"only": [1, {"x": None}]})
        assert r.json() == {"variables": {"only": [1, {"x": None}]}, "untrusted": ["only"]}, path
        assert ed.get(url + path).json() == r.json()
    # the inventory data carries the provenance
    data = ed.get(url + "/v1/inventory", params={"host": "vars1"}).json()
    assert data["hosts"][0]["vars"] == {"only": [1, {"x": None}]}
    assert data["hosts"][0]["untrusted"] == ["only"]


def test_secrets_are_write_only(world):
    url, ed, rd = world["url"], world["s"]["editor"], world["s"]["reader"]
    host = ed.post(url + "/v1/hosts", json={"name": "sec1"}).json()
    base = url + "/v1/hosts/%d/secrets" % host["id"]
    r = ed.put(base + "/api_token", json={"kind": "opaque", "data": "s3cr3t-value"})
    assert r.status_code == 200 and "s3cr3t" not in r.text
    assert set(r.json()) == {"host_id", "name", "kind", "created_at", "updated_at"}
    r = ed.put(base + "/bad", json={"kind": "pem", "data": "not a pem"})
    assert r.status_code == 422 and "is not a valid pem" in r.json()["error"]["message"]
    for response in (rd.get(base), rd.get(base + "/api_token"), ed.get(url + "/v1/inventory")):
        assert response.status_code == 200 and "s3cr3t" not in response.text
    assert [s["name"] for s in rd.get(base).json()] == ["api_token"]
    # the secret value only through the inventory data, to editors and admins
    r = rd.get(url + "/v1/inventory", params={"secrets": "true"})
    assert r.status_code == 403
    data = ed.get(url + "/v1/inventory", params={"secrets": "true", "host": "sec1"}).json()
    import base64
    secrets = data["hosts"][0]["secrets"]
    assert [(s["name"], base64.b64decode(s["data_base64"])) for s in secrets] == [("api_token", b"s3cr3t-value")]
    assert "ciphertext" not in secrets[0]
    assert ed.delete(base + "/api_token").status_code == 204
    assert ed.get(base + "/api_token").status_code == 404


def test_vars_references_need_admin(world, tmp_path):
    url, ed, admin = world["url"], world["s"]["editor"], world["s"]["admin"]
    group = ed.post(url + "/v1/groups", json={"name": "refs"}).json()
    base = url + "/v1/groups/%d/vars_references" % group["id"]
    ref_file = tmp_path / "vars.yml"
    ref_file.write_text("ntp: pool.example\n")
    assert ed.post(base, json={"url": ref_file.as_uri()}).status_code == 403
    ref = admin.post(base, json={"url": ref_file.as_uri()}).json()
    assert (ref["url"], ref["order"], ref["sha256"]) == (ref_file.as_uri(), 0, None)
    r = admin.post(base, json={"url": "ftp://x/y"})
    assert r.status_code == 422 and "invalid url" in r.json()["error"]["message"]
    second = admin.post(base, json={"url": "https://example.invalid/v.yml", "order": 5}).json()
    r = admin.patch(base + "/%d" % second["id"], json={"order": 0})
    assert r.status_code == 409 and "order 0 is taken" in r.json()["error"]["message"]
    r = admin.patch(base + "/%d" % ref["id"], json={"sha256": "A" * 64})
    assert r.json()["sha256"] == "a" * 64
    assert [x["id"] for x in ed.get(base).json()] == [ref["id"], second["id"]]
    assert admin.delete(base + "/%d" % second["id"]).status_code == 204
    assert [x["id"] for x in ed.get(base).json()] == [ref["id"]]


def test_pagination_follows_next_links(world):
    url, ed = world["url"], world["s"]["editor"]
    names = ["page%02d" % i for i in range(7)]
    for name in names:
        assert ed.post(url + "/v1/hosts", json={"name": name, "variables": {"paged": True}}).status_code == 201
    seen, link, pages = [], url + "/v1/hosts?limit=3", 0
    while link:
        body = ed.get(link).json()
        assert len(body["items"]) <= 3
        seen.extend(h["name"] for h in body["items"])
        link, pages = body["next"], pages + 1
    assert [n for n in seen if n.startswith("page")] == names
    ids = [h["id"] for h in ed.get(url + "/v1/hosts?limit=1000").json()["items"]]
    assert ids == sorted(ids) and pages == -(-len(ids) // 3)
    first = ed.get(url + "/v1/hosts", params={"limit": 2}).json()
    assert "marker=%d" % first["items"][-1]["id"] in first["next"] and "limit=2" in first["next"]
    for bad in ({"limit": 0}, {"limit": 1001}, {"marker": -1}, {"limit": "x"}):
        r = ed.get(url + "/v1/hosts", params=bad)
        assert r.status_code == 422 and r.json()["error"]["message"].startswith("query.%s: " % next(iter(bad))), bad
