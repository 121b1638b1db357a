"""The Python client and the inventory plugin with Keystone credentials, against a real Keystone.

Password, application credential and ``clouds.yaml`` (``OS_CLOUD``) sessions of
keystoneauth1; the API is ``craton serve --keystone-url`` (openstack_fixtures).
"""

from __future__ import annotations

import pytest
import yaml

from api_fixtures import free_port
from inventory_helpers import inventory_list, write_config
from openstack_fixtures import keystone, keystone_api  # noqa: F401  pylint: disable=unused-import

from ansible_collections.craton.fleet.client import ClientError
from ansible_collections.craton.fleet.client.keystone_session import keystone_client


def _names(client):
    return sorted(h["name"] for h in client.hosts.list())


def _password(api, user, project):
    return {"auth_url": api.keystone.url, "username": "%s-%s" % (user, api.suffix), "password": api.password,
            "project_name": "%s-%s" % (project, api.suffix)}


@pytest.fixture(scope="module")
def clouds_yaml(keystone_api, tmp_path_factory):  # noqa: F811
    """A clouds.yaml with a password cloud (member of project a) and an application credential cloud."""
    api = keystone_api
    cred_id, cred_secret = api.keystone.application_credential(
        api.ids["u_member"], "member-%s" % api.suffix, api.password, "a-%s" % api.suffix, "craton-test")
    path = tmp_path_factory.mktemp("openstack") / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": {
        "member-a": {"auth": dict(_password(api, "member", "a"), user_domain_name="Default",
                                  project_domain_name="Default"), "region_name": "RegionOne"},
        "appcred-a": {"auth_type": "v3applicationcredential",
                      "auth": {"auth_url": api.keystone.url, "application_credential_id": cred_id,
                               "application_credential_secret": cred_secret}},
    }}))
    return {"path": str(path), "id": cred_id, "secret": cred_secret}


def test_client_with_password_application_credential_and_clouds_yaml(keystone_api, clouds_yaml, monkeypatch):  # noqa: F811
    api = keystone_api
    member = keystone_client(api.server.url, **_password(api, "member", "a"))
    assert _names(member) == ["a-host0", "a-host1"]
    created = member.hosts.create(tenant_id=api.fleet["a"]["id"], name="via-client")
    assert created["name"] == "via-client"
    reader = keystone_client(api.server.url, **_password(api, "reader", "a"))
    with pytest.raises(ClientError) as refused:
        reader.hosts.create(tenant_id=api.fleet["a"]["id"], name="by-reader-client")
    assert refused.value.status == 403
    b_admin = keystone_client(api.server.url, **_password(api, "admin_b", "b"))
    assert _names(b_admin) == ["b-host0", "b-host1"]

    appcred = keystone_client(api.server.url, auth_url=api.keystone.url, application_credential_id=clouds_yaml["id"],
                              application_credential_secret=clouds_yaml["secret"])
    assert "via-client" in _names(appcred) and "b-host0" not in _names(appcred)

    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", clouds_yaml["path"])
    for cloud in ("member-a", "appcred-a"):
        monkeypatch.setenv("OS_CLOUD", cloud)
        names = _names(keystone_client(api.server.url))
        assert "via-client" in names and "b-host0" not in names, cloud


def test_client_keystone_errors_are_clear(keystone_api, clouds_yaml, monkeypatch):  # noqa: F811
    api = keystone_api
    wrong = _password(api, "member", "a")
    wrong["password"] = "wrong"
    with pytest.raises(ClientError, match="Keystone at .* refused user member-.* of project a-.*: check the "
                                          "credentials"):
        list(keystone_client(api.server.url, **wrong).hosts.list())
    down = "http://127.0.0.1:%d/v3" % free_port()
    with pytest.raises(ClientError, match="cannot reach Keystone at %s" % down):
        unreachable = _password(api, "member", "a")
        unreachable["auth_url"] = down
        list(keystone_client(api.server.url, **unreachable).hosts.list())
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", clouds_yaml["path"])
    with pytest.raises(ClientError, match="cloud 'nowhere' is not in any clouds.yaml"):
        keystone_client(api.server.url, cloud="nowhere")
    for var in ("OS_CLOUD", "OS_AUTH_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ClientError, match="no Keystone credentials"):
        keystone_client(api.server.url)
    with pytest.raises(ClientError, match="lack password"):
        keystone_client(api.server.url, auth_url=api.keystone.url, username="x", project_name="y")


def test_inventory_plugin_with_keystone(keystone_api, clouds_yaml, tmp_path):  # noqa: F811
    """api_url + keystone_auth, and api_url + OS_CLOUD: the project's tenant only; wrong credentials: clear error."""
    api = keystone_api
    env = dict(api.server.env)
    for var in ("CRATON_API_TOKEN", "OS_CLOUD", "OS_AUTH_URL"):
        env.pop(var, None)
    config = write_config(tmp_path, "ks.craton.yml", api_url=api.server.url,
                          keystone_auth=_password(api, "member", "a"))
    listing = inventory_list(config, env)[0]
    hosts = set(listing["_meta"]["hostvars"])
    assert {"a-host0", "a-host1"} <= hosts and not any(h.startswith("b-") for h in hosts)

    config = write_config(tmp_path, "cloud.craton.yml", api_url=api.server.url)
    cloud_env = dict(env, OS_CLOUD="appcred-a", OS_CLIENT_CONFIG_FILE=clouds_yaml["path"])
    assert set(inventory_list(config, cloud_env)[0]["_meta"]["hostvars"]) == hosts

    config = write_config(tmp_path, "bad.craton.yml", api_url=api.server.url,
                          keystone_auth={**_password(api, "member", "a"), "password": "wrong"})
    proc = inventory_list(config, env, check=False)[1]
    assert proc.stdout.count("a-host0") == 0 and "refused user member-" in proc.stderr, proc.stderr
