"""The inventory plugin through the REST API, and the Python client, against a real server.

``ansible-inventory --list`` of the same fleet is identical whether the plugin
reads the database (``database_url``) or the API (``api_url`` + ``api_token``):
variables, trust marks, groups, tenants and regions, vars references, secret files.
"""

from __future__ import annotations

import copy
import os
import tarfile
import uuid

import pytest

from api_fixtures import api_server  # noqa: F401  pylint: disable=unused-import
from inventory_helpers import build, inventory_list, write_config

from ansible_collections.craton.fleet.client import Client, ClientError


def _spec(tenant, ref_url):
    return {tenant: {
        "vars": {"motd": "hello {{ inventory_hostname }}", "ntp": ["a", "b"]},
        "untrusted_vars": {"banner": "{{ lookup('pipe', 'id') }}"},
        "regions": {"eu": {"vars": {"dc": "eu1", "f": 2.0}}, "us": {"vars": {"dc": "us1"}}},
        "groups": {"web": {"vars": {"http_port": 80, "nested": {"a": [1, None, True]}},
                           "references": [(ref_url, None)]},
                   "site": {"vars": {"ansible_group_priority": 3}, "children": ["web"]},
                   "db": {"untrusted_vars": {"x": "{{ 1 + 1 }}"}}},
        "hosts": {
            "web1": {"region": "eu", "groups": ["web"], "vars": {"wave": "canary", "n": 1},
                     "columns": {"ip_address": "10.0.0.1", "port": 2222, "user": "ops"},
                     "secrets": {"token": ("opaque", "s3cr3t")}},
            "web2": {"region": "us", "groups": ["web", "db"], "vars": {"wave": "late"},
                     "untrusted_vars": {"note": "{{ bad }}"}},
            "db1": {"region": "eu", "groups": ["db"], "active": False},
            "lone": {"vars": {"wave": "canary"}},
        }}}


@pytest.fixture(scope="module")
def fleet(api_server, tmp_path_factory):  # noqa: F811
    directory = tmp_path_factory.mktemp("plugin")
    ref = directory / "web.yml"
    ref.write_text("ref_only: from-reference\nhttp_port: 8080\n")
    tenant = "p%s" % uuid.uuid4().hex[:6]
    build(api_server.database_url, _spec(tenant, ref.as_uri()))
    tokens = {role: api_server.token(tenant, role) for role in ("reader", "editor")}
    return {"tenant": tenant, "dir": directory, "tokens": tokens}


def _normalise(listing):
    """Secret file paths differ per run (a private temp directory): keep their file names."""
    listing = copy.deepcopy(listing)
    for hostvars in listing.get("_meta", {}).get("hostvars", {}).values():
        files = hostvars.get("craton_secret_files")
        if files:
            for name, path in files.items():
                path = path["__ansible_unsafe"] if isinstance(path, dict) else path
                files[name] = os.path.basename(path)
    return listing


@pytest.mark.parametrize("filters", [
    {},
    {"regions": ["eu"], "active_only": False},
    {"groups": ["site"], "host_vars": {"wave": ["canary"]}},
    {"hosts": ["web*"], "keyed_groups": [{"key": "wave", "prefix": "wave"}]},
], ids=["all", "region-inactive", "group-var", "pattern-keyed"])
def test_plugin_output_is_identical_through_the_api(api_server, fleet, filters):  # noqa: F811
    env = dict(api_server.env)
    env.pop("CRATON_API_URL", None)
    db_config = write_config(fleet["dir"], "db.craton.yml", database_url=api_server.database_url,
                             tenant=fleet["tenant"], **filters)
    api_config = write_config(fleet["dir"], "api.craton.yml", api_url=api_server.url,
                              api_token=fleet["tokens"]["editor"], tenant=fleet["tenant"], **filters)
    from_db = inventory_list(db_config, env)[0]
    from_api = inventory_list(api_config, env)[0]
    assert from_db["_meta"]["hostvars"], "the fleet is empty"
    assert _normalise(from_api) == _normalise(from_db)
    if not filters:
        web1 = from_api["_meta"]["hostvars"]["web1"]
        assert web1["banner"] == {"__ansible_unsafe": "{{ lookup('pipe', 'id') }}"}  # untrusted stays data
        assert web1["ref_only"] == {"__ansible_unsafe": "from-reference"} and web1["http_port"] == 80
        assert list(web1["craton_secret_files"]) == ["token"]


def test_plugin_through_the_api_env_and_cache(api_server, fleet, tmp_path):  # noqa: F811
    """CRATON_API_URL/CRATON_API_TOKEN; the cache never holds a secret value, and a cached run
    still gets its secret files."""
    env = dict(api_server.env, CRATON_API_URL=api_server.url, CRATON_API_TOKEN=fleet["tokens"]["editor"])
    cache = tmp_path / "cache"
    config = write_config(tmp_path, "env.craton.yml", tenant=fleet["tenant"], cache=True,
                          cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache))
    first = inventory_list(config, env)[0]
    cached_text = "".join(p.read_text() for p in cache.iterdir())
    assert "web1" in cached_text and "s3cr3t" not in cached_text and "czNjcjN0" not in cached_text
    second = inventory_list(config, env)[0]
    assert _normalise(second) == _normalise(first)
    assert list(second["_meta"]["hostvars"]["web1"]["craton_secret_files"]) == ["token"]


def test_plugin_api_errors_are_clear(api_server, fleet, tmp_path):  # noqa: F811
    env = dict(api_server.env)
    config = write_config(tmp_path, "bad.craton.yml", api_url=api_server.url, api_token="craton_wrong")
    proc = inventory_list(config, env, check=False)[1]
    assert "invalid API token" in proc.stderr
    config = write_config(tmp_path, "reader.craton.yml", api_url=api_server.url,
                          api_token=fleet["tokens"]["reader"], tenant=fleet["tenant"])
    proc = inventory_list(config, env, check=False)[1]
    assert "secret values need an editor or admin token" in proc.stderr
    config = write_config(tmp_path, "reader2.craton.yml", api_url=api_server.url, secrets="skip",
                          api_token=fleet["tokens"]["reader"], tenant=fleet["tenant"])
    listing = inventory_list(config, env)[0]
    assert "craton_secret_files" not in listing["_meta"]["hostvars"]["web1"]


def test_client_covers_the_api(api_server, fleet, tmp_path):  # noqa: F811
    client = Client(api_server.url, fleet["tokens"]["editor"])
    tenant = next(client.tenants.list())
    assert tenant["name"] == fleet["tenant"] and client.tenants.get(tenant["id"]) == tenant
    regions = list(client.regions.list(tenant_id=tenant["id"]))
    assert sorted(r["name"] for r in regions) == ["eu", "us"]
    eu = next(r for r in regions if r["name"] == "eu")
    assert client.regions.variables(tenant["id"], eu["id"]).get()["variables"] == {"dc": "eu1", "f": 2.0}
    # list follows the pagination
    names = [h["name"] for h in client.hosts.list(limit=1)]
    assert names == [h["name"] for h in client.hosts.list()] and len(names) == 4
    assert [h["name"] for h in client.hosts.list(region_id=eu["id"], active=True)] == ["web1"]
    # create, update, variables, secrets, delete
    host = client.hosts.create(name="made", region_id=eu["id"], variables={"a": 1})
    assert client.hosts.update(host["id"], port=22)["port"] == 22
    assert client.hosts.update(host["id"], port=None)["port"] is None
    variables = client.hosts.variables(host["id"])
    assert variables.merge({"b": 2})["variables"] == {"a": 1, "b": 2}
    assert variables.replace({"c": 3}) == {"variables": {"c": 3}, "untrusted": ["c"]}
    assert variables.delete("c")["variables"] == {}
    secrets = client.hosts.secrets(host["id"])
    assert "data" not in secrets.put("pw", "opaque", "hunter2")
    assert [s["name"] for s in secrets.list()] == ["pw"]
    group = client.groups.create(name="made_group", hosts=[host["id"]])
    assert client.groups.members(group["id"]).list() == [{"id": host["id"], "name": "made"}]
    child = client.groups.create(name="made_child")
    client.groups.children(group["id"]).add(child["id"])
    with pytest.raises(ClientError) as error:
        client.groups.children(child["id"]).add(group["id"])
    assert error.value.status == 409 and error.value.message == "group cycle refused: made_child -> made_group -> made_child"
    assert client.groups.vars_references(group["id"]).list() == []
    # archives: the API's bytes are the bytes of craton export (bundle.py) for the same filters
    target = client.inventory.download(eu["id"], str(tmp_path / "eu.tgz"), groups=["web"])
    with tarfile.open(target) as archive:
        assert "hosts.yml" in archive.getnames()
    from ansible_collections.craton.fleet.plugins.module_utils import bundle
    import io
    exported = io.BytesIO()
    bundle.export_bundle(api_server.database_url, {"tenant": fleet["tenant"], "regions": ["eu"], "groups": ["web"]},
                         exported, fmt="tgz")
    with open(target, "rb") as f:
        assert f.read() == exported.getvalue()
    zipped = client.inventory.download(eu["id"], str(tmp_path / "eu.zip"), fmt="zip", per_host=True)
    with open(zipped, "rb") as f:
        assert f.read(2) == b"PK"
    client.hosts.delete(host["id"])
    with pytest.raises(ClientError) as error:
        client.hosts.get(host["id"])
    assert error.value.status == 404 and "does not exist" in str(error.value)
    with pytest.raises(ClientError) as error:
        Client("http://127.0.0.1:1", "craton_x").tenants.get(1)
    assert error.value.status is None and "cannot reach" in str(error.value)
    reader = Client(api_server.url, fleet["tokens"]["reader"])
    with pytest.raises(ClientError) as error:
        reader.hosts.create(name="nope")
    assert error.value.status == 403


def test_craton_api_command_uses_the_client(api_server, fleet, tmp_path):  # noqa: F811
    token = fleet["tokens"]["reader"]
    env_args = ("--api-url", api_server.url, "--api-token", token)
    listed = api_server.craton("api", *env_args, "list", "hosts", "--filter", "limit=1").stdout.splitlines()
    import json
    assert sorted(json.loads(line)["name"] for line in listed) == ["db1", "lone", "web1", "web2"]
    region = json.loads(api_server.craton("api", *env_args, "list", "regions", "--filter", "name=eu").stdout)
    out = api_server.craton("api", *env_args, "download", region["id"], "-o", tmp_path / "eu.zip", "--format", "zip",
                            "--no-secrets").stdout
    assert out.startswith("wrote %s" % (tmp_path / "eu.zip"))
    proc = api_server.craton("api", *env_args, "download", region["id"], "-o", tmp_path / "x.tgz", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("craton: error: HTTP 403: secret files need an editor or admin token; "
                                   "ask with secrets=false")
    assert not (tmp_path / "x.tgz").exists()
    proc = api_server.craton("api", "--api-url", api_server.url, "--api-token", "craton_bad", "get", "/v1/hosts",
                             check=False)
    assert proc.stderr.strip().startswith("craton: error: HTTP 401: invalid API token")
