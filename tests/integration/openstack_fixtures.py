"""Fixtures of the OpenStack suite: a real Keystone on 127.0.0.1 (SQLite, fernet tokens).

Keystone runs from its own virtual environment, made by ``tests/openstack/setup.sh``
(build/openstack-venv, or $CRATON_OPENSTACK_VENV). Without it the suite is skipped
and reported as "SKIPPED OpenStack suite: ..." at the end of the run.

``keystone`` (session-scoped): ``keystone-manage db_sync``, ``fernet_setup``,
``credential_setup`` and ``bootstrap`` in a temporary directory, then the
``keystone.wsgi.api`` application on a free port (tests/openstack/wsgi_server.py).
Tokens live :data:`TOKEN_SECONDS` seconds so that a test can hold an expired one.
Users, projects and role assignments are made through Keystone's own REST API
with a keystoneauth1 admin session (the same library craton uses).

Import the fixtures in a test module with::

    from openstack_fixtures import keystone  # noqa: F401  pylint: disable=unused-import
"""

from __future__ import annotations

import os
import subprocess
import time

import uuid

import pytest
import requests

from api_fixtures import ApiServer, free_port

from suites import mark_run, skip_suite

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.environ.get("CRATON_OPENSTACK_VENV") or os.path.join(ROOT, "build", "openstack-venv")
SUITE = "OpenStack"
ADMIN_PASSWORD = "keystone-admin-pw"
# Keystone's token lifetime in the tests: short, so that an expired token is a short wait away.
TOKEN_SECONDS = 20

KEYSTONE_CONF = """\
[DEFAULT]
log_file = {dir}/keystone.log
[database]
connection = sqlite:///{dir}/keystone.db
[fernet_tokens]
key_repository = {dir}/fernet-keys
[credential]
key_repository = {dir}/credential-keys
[token]
provider = fernet
expiration = {expiration}
[identity]
password_hash_rounds = 4
"""


class Keystone:
    """A running Keystone and an admin session on it."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/v3" % self.port
        self.conf = os.path.join(self.dir, "keystone.conf")
        self.proc = None
        self.env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=self.conf, PYTHONWARNINGS="ignore")
        self.admin = None
        self._roles = {}

    def manage(self, *args):
        proc = subprocess.run([os.path.join(VENV, "bin", "keystone-manage"), "--config-file", self.conf, *args],
                              capture_output=True, text=True, env=self.env, timeout=300, check=False)
        if proc.returncode:
            raise AssertionError("keystone-manage %s failed:\n%s\n%s" % (" ".join(args), proc.stdout, proc.stderr))

    def start(self):
        with open(self.conf, "w") as f:
            f.write(KEYSTONE_CONF.format(dir=self.dir, expiration=TOKEN_SECONDS))
        self.manage("db_sync")
        self.manage("fernet_setup", "--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid()))
        self.manage("credential_setup", "--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid()))
        self.manage("bootstrap", "--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-region-id", "RegionOne",
                    "--bootstrap-public-url", self.url, "--bootstrap-internal-url", self.url,
                    "--bootstrap-admin-url", self.url)
        self.log = os.path.join(self.dir, "server.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [os.path.join(VENV, "bin", "python"), os.path.join(ROOT, "tests", "openstack", "wsgi_server.py"),
                 str(self.port), "keystone.wsgi.api:application"], stdout=log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("Keystone exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                if requests.get(self.url, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("Keystone did not answer within 60 s:\n%s" % self.read_log())
            time.sleep(0.2)
        self.admin = self.session("admin", ADMIN_PASSWORD, "admin")
        return self

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # --- keystoneauth1 ----------------------------------------------------------------------

    def session(self, username, password, project):
        """A keystoneauth1 Session of ``username`` scoped to ``project``."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3
        return session.Session(auth=v3.Password(auth_url=self.url, username=username, password=password,
                                                project_name=project, user_domain_id="default",
                                                project_domain_id="default"))

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        response = self.admin.request(self.url + path, method, json=body, raise_exc=False)
        assert response.status_code in expect, "%s %s: %s %s" % (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def role(self, name):
        """The id of role ``name`` (created when missing)."""
        if name not in self._roles:
            found = self.call("GET", "/roles?name=%s" % name)["roles"]
            self._roles[name] = found[0]["id"] if found else self.call("POST", "/roles", {"role": {"name": name}})[
                "role"]["id"]
        return self._roles[name]

    def project(self, name):
        """Create project ``name``; its id."""
        return self.call("POST", "/projects", {"project": {"name": name, "domain_id": "default"}})["project"]["id"]

    def user(self, name, password, project_id, *roles):
        """Create user ``name`` with ``roles`` on ``project_id``; its id."""
        user_id = self.call("POST", "/users", {"user": {"name": name, "password": password,
                                                        "domain_id": "default"}})["user"]["id"]
        for role in roles:
            self.call("PUT", "/projects/%s/users/%s/roles/%s" % (project_id, user_id, self.role(role)))
        return user_id

    def token(self, username, password, project):
        """A fresh project-scoped token of ``username``."""
        return self.session(username, password, project).get_token()

    def revoke(self, token):
        """Revoke ``token`` (DELETE /v3/auth/tokens)."""
        response = self.admin.request(self.url + "/auth/tokens", "DELETE", headers={"X-Subject-Token": token},
                                      raise_exc=False)
        assert response.status_code == 204, response.text

    def application_credential(self, user_id, username, password, project, name):
        """(id, secret) of a new application credential of ``username`` on ``project``."""
        response = self.session(username, password, project).request(
            self.url + "/users/%s/application_credentials" % user_id, "POST",
            json={"application_credential": {"name": name}}, raise_exc=False)
        assert response.status_code == 201, response.text
        cred = response.json()["application_credential"]
        return cred["id"], cred["secret"]


@pytest.fixture(scope="session")
def keystone(tmp_path_factory):
    """A real Keystone on 127.0.0.1 (skips the suite when tests/openstack/setup.sh has not run)."""
    if not os.path.exists(os.path.join(VENV, "bin", "keystone-manage")):
        skip_suite(SUITE, "Keystone is not installed: run tests/openstack/setup.sh (about a minute; makes %s)" % VENV)
    try:
        import keystoneauth1  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        skip_suite(SUITE, "the Python package keystoneauth1 is not installed in the test environment")
    mark_run(SUITE)
    server = Keystone(tmp_path_factory.mktemp("keystone")).start()
    try:
        yield server
    finally:
        server.stop()


PASSWORD = "pw-%s" % uuid.uuid4().hex[:8]
SERVICE_PASSWORD = "service-pw"


def _serve_env(workdir):
    from cryptography.fernet import Fernet
    env = dict(os.environ)
    env.pop("CRATON_DATABASE_URL", None)
    env.update({"CRATON_SECRET_KEY": Fernet.generate_key().decode(), "XDG_DATA_HOME": str(workdir / "xdg-data"),
                "XDG_CONFIG_HOME": str(workdir / "xdg-config"), "PYTHONDONTWRITEBYTECODE": "1",
                "CRATON_KEYSTONE_PASSWORD": SERVICE_PASSWORD})
    return env


@pytest.fixture(scope="module")
def keystone_api(keystone, tmp_path_factory):  # noqa: F811
    """Keystone projects p_a, p_b, p_none; users per role; craton tenants a, b bound to p_a, p_b; the server."""
    from ansible_collections.craton.fleet.cli import db as db_cli
    from ansible_collections.craton.fleet.plugins.module_utils import db
    from ansible_collections.craton.fleet.plugins.module_utils import fleet as craton_fleet

    workdir = tmp_path_factory.mktemp("keystone-api")
    url = "sqlite:///%s" % (workdir / "fleet.db")
    db_cli.upgrade(url)
    suffix = uuid.uuid4().hex[:6]
    ids = {}
    for name in ("a", "b", "none", "service"):
        ids["p_" + name] = keystone.project("%s-%s" % (name, suffix))
    users = {"reader": ("p_a", "reader"), "member": ("p_a", "member"), "admin_b": ("p_b", "admin"),
             "other": ("p_a", "observer"), "orphan": ("p_none", "member")}
    for user, (project, role) in users.items():
        ids["u_" + user] = keystone.user("%s-%s" % (user, suffix), PASSWORD, ids[project], role)
    keystone.user("craton-%s" % suffix, SERVICE_PASSWORD, ids["p_service"], "service")

    server = ApiServer(url, _serve_env(workdir), str(workdir))
    root = server.token(None, "admin")
    fleet = {}
    with db.transaction(url) as session:
        for name in ("a", "b"):
            tenant = craton_fleet.create_tenant(session, "%s%s" % (name, suffix))
            craton_fleet.set_variables(session, "tenant", tenant.id, {"keystone_project_id": ids["p_" + name]})
            for i in range(2):
                craton_fleet.create_host(session, tenant, "%s-host%d" % (name, i))
            fleet[name] = {"id": tenant.id, "name": tenant.name}
    server.start("--keystone-url", keystone.url, "--keystone-username", "craton-%s" % suffix,
                 "--keystone-project", "service-%s" % suffix, "--keystone-cache-seconds", "0")

    class Cloud:
        pass

    c = Cloud()
    c.keystone, c.server, c.ids, c.fleet, c.suffix, c.root = keystone, server, ids, fleet, suffix, root
    c.token = lambda user, project: keystone.token("%s-%s" % (user, suffix), PASSWORD, "%s-%s" % (project, suffix))
    c.password = PASSWORD
    c.api = lambda token: server.session(token, header="x-auth-token")
    try:
        yield c
    finally:
        server.stop()


BARBICAN_CONF = """\
[DEFAULT]
host_href = {url}
db_auto_create = True
log_file = {dir}/barbican.log
[database]
connection = sqlite:///{dir}/barbican.db
[secretstore]
enabled_secretstore_plugins = store_crypto
[crypto]
enabled_crypto_plugins = simple_crypto
[simple_crypto_plugin]
kek = {kek}
[keystone_authtoken]
www_authenticate_uri = {keystone}
auth_url = {keystone}
auth_type = password
username = {user}
password = {password}
project_name = {project}
user_domain_id = default
project_domain_id = default
"""


class Barbican:
    """A running Barbican (simple crypto plugin, SQLite, Keystone auth), registered in Keystone's catalog,
    and a project with a user that may keep secrets there."""

    def __init__(self, keystone, workdir):
        self.keystone = keystone
        self.dir = str(workdir)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self):
        import base64
        import shutil
        suffix = uuid.uuid4().hex[:6]
        ks = self.keystone
        service_project = ks.project("barbican-service-%s" % suffix)
        ks.user("barbican-%s" % suffix, "barbican-pw", service_project, "service")
        service = ks.call("POST", "/services", {"service": {"type": "key-manager", "name": "barbican"}})["service"]
        ks.call("POST", "/endpoints", {"endpoint": {"service_id": service["id"], "interface": "public",
                                                    "url": self.url, "region_id": "RegionOne"}})
        self.project = "craton-secrets-%s" % suffix
        self.project_id = ks.project(self.project)
        self.username, self.password = "craton-store-%s" % suffix, "store-pw"
        ks.user(self.username, self.password, self.project_id, "member")
        home = os.path.join(self.dir, "home")
        os.makedirs(os.path.join(home, ".barbican"))
        with open(os.path.join(home, ".barbican", "barbican.conf"), "w") as f:
            f.write(BARBICAN_CONF.format(url=self.url, dir=self.dir, keystone=ks.url, user="barbican-%s" % suffix,
                                         password="barbican-pw", project="barbican-service-%s" % suffix,
                                         kek=base64.b64encode(os.urandom(32)).decode()))
        paste = os.path.join(self.dir, "barbican-api-paste.ini")
        shutil.copy(os.path.join(VENV, "etc", "barbican", "barbican-api-paste.ini"), paste)
        self.log = os.path.join(self.dir, "server.log")
        env = dict(os.environ, HOME=home, PYTHONWARNINGS="ignore")  # oslo.config finds ~/.barbican/barbican.conf
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [os.path.join(VENV, "bin", "python"), os.path.join(ROOT, "tests", "openstack", "wsgi_server.py"),
                 str(self.port), "paste:" + paste], stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("Barbican exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                if requests.get(self.url + "/", timeout=2).status_code in (200, 300):
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("Barbican did not answer within 90 s:\n%s" % self.read_log())
            time.sleep(0.2)
        return self

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def os_env(self):
        """The OS_* variables of the secret store's user (an openrc file's content)."""
        return {"OS_AUTH_URL": self.keystone.url, "OS_USERNAME": self.username, "OS_PASSWORD": self.password,
                "OS_PROJECT_NAME": self.project, "OS_USER_DOMAIN_NAME": "Default",
                "OS_PROJECT_DOMAIN_NAME": "Default"}

    def secret_payload(self, secret_uuid):
        """The payload of a Barbican secret read over Barbican's REST API, or None when it does not exist."""
        session = self.keystone.session(self.username, self.password, self.project)
        response = session.get(self.url + "/v1/secrets/%s/payload" % secret_uuid,
                               headers={"Accept": "application/octet-stream"}, raise_exc=False)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.content

    def delete_secret(self, secret_uuid):
        session = self.keystone.session(self.username, self.password, self.project)
        assert session.delete(self.url + "/v1/secrets/%s" % secret_uuid, raise_exc=False).status_code == 204


@pytest.fixture(scope="session")
def barbican(keystone, tmp_path_factory):  # noqa: F811 - the keystone fixture of this module
    """A real Barbican on 127.0.0.1 (skips the suite without castellan in the test environment)."""
    try:
        import castellan  # noqa: F401  pylint: disable=unused-import
        import barbicanclient  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        skip_suite(SUITE, "castellan and python-barbicanclient are not installed in the test environment "
                   "(tests/openstack/setup.sh installs them)")
    if not os.path.exists(os.path.join(VENV, "etc", "barbican", "barbican-api-paste.ini")):
        skip_suite(SUITE, "Barbican is not installed in %s: run tests/openstack/setup.sh" % VENV)
    server = Barbican(keystone, tmp_path_factory.mktemp("barbican")).start()
    try:
        yield server
    finally:
        server.stop()
