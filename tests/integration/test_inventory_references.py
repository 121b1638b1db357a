"""Group variables from vars references: file:// and a real HTTP server on 127.0.0.1, merged
under the group's own variables in position order; failures name the group and the URL."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from inventory_helpers import build, inventory_list, plain, write_config


class _Server:
    """A real HTTP server on a loopback port serving a dict of path -> bytes, counting requests."""

    def __init__(self):
        self.files = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-yaml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], path)


@pytest.fixture
def http_server():
    server = _Server()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def test_references_merge_in_order_under_the_groups_own_variables(fleet_url, tmp_path, craton_env, http_server):
    first = tmp_path / "first.yml"
    first.write_bytes(b"a: from-first\nb: from-first\nc: from-first\nlisted: [1, 2]\n")
    second = b"b: from-second\nc: from-second\nd: {nested: true}\n"
    http_server.files["/vars/second.yml"] = second
    build(fleet_url, {"acme": {
        "vars": {"a": "tenant", "e": "tenant"},
        "groups": {"web": {"vars": {"c": "own"}, "references": [
            ("file://%s" % first, _sha(first.read_bytes())),
            (http_server.url("/vars/second.yml"), None)]}},
        "hosts": {"h": {"groups": ["web"]}},
    }})
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    hostvars = plain(listing["_meta"]["hostvars"]["h"])  # reference values are untrusted by default
    assert (hostvars["a"], hostvars["b"], hostvars["c"], hostvars["e"]) == (
        "from-first", "from-second", "own", "tenant")
    assert hostvars["listed"] == [1, 2]
    assert hostvars["d"] == {"nested": True}


def test_each_url_is_fetched_once_per_run(fleet_url, tmp_path, craton_env, http_server):
    http_server.files["/common.yml"] = b"common: 1\n"
    url = http_server.url("/common.yml")
    build(fleet_url, {"acme": {
        "groups": {g: {"references": [(url, None)]} for g in ("g1", "g2", "g3")},
        "hosts": {"h": {"groups": ["g1", "g2", "g3"]}},
    }})
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    assert listing["_meta"]["hostvars"]["h"]["common"] == 1
    assert http_server.requests == ["/common.yml"]


@pytest.mark.parametrize("case", ["missing-file", "http-404", "bad-yaml", "not-a-mapping", "sha-mismatch",
                                  "bad-scheme", "connection-refused", "bad-variable-name"])
def test_a_bad_reference_is_an_error_naming_group_and_url(fleet_url, tmp_path, craton_env, http_server, case):
    good = tmp_path / "good.yml"
    good.write_bytes(b"x: 1\n")
    http_server.files["/bad.yml"] = b"a: [unclosed\n"
    http_server.files["/list.yml"] = b"- 1\n- 2\n"
    http_server.files["/badname.yml"] = b"not-valid: 1\n"
    url, sha, expected = {
        "missing-file": ("file://%s" % (tmp_path / "nope.yml"), None, "cannot read"),
        "http-404": (http_server.url("/absent.yml"), None, "HTTP 404"),
        "bad-yaml": (http_server.url("/bad.yml"), None, "invalid YAML"),
        "not-a-mapping": (http_server.url("/list.yml"), None, "expected a YAML mapping"),
        "sha-mismatch": ("file://%s" % good, "0" * 64, "sha256 mismatch"),
        "bad-scheme": ("ftp://example.com/x.yml", None, "unsupported URL scheme 'ftp'"),
        "connection-refused": ("http://127.0.0.1:9/x.yml", None, "cannot fetch"),
        "bad-variable-name": (http_server.url("/badname.yml"), None, "invalid variable name 'not-valid'"),
    }[case]
    build(fleet_url, {"acme": {
        "groups": {"web-tier": {"vars": {"own": 1}, "references": [(url, sha)]}},
        "hosts": {"h": {"groups": ["web-tier"]}},
    }})
    env = dict(craton_env, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme")
    proc = inventory_list(config, env, check=False)[1]
    assert proc.returncode != 0
    stderr = " ".join(proc.stderr.split())
    assert "vars reference %s of group 'web-tier'" % url in stderr
    assert expected in stderr
    assert "Traceback" not in proc.stderr

    # With vars_references_on_error: warn, the reference is skipped with a warning.
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme", vars_references_on_error="warn")
    listing, proc = inventory_list(config, env)
    stderr = " ".join(proc.stderr.split())
    assert "vars reference %s of group 'web-tier'" % url in stderr and "skipped" in stderr
    assert listing["_meta"]["hostvars"]["h"]["own"] == 1
    assert "x" not in listing["_meta"]["hostvars"]["h"]


def test_reference_values_are_untrusted_unless_the_option_says_so(fleet_url, tmp_path, craton_env):
    ref = tmp_path / "tpl.yml"
    ref.write_text("tpl: \"{{ 1 + 1 }}\"\n")
    build(fleet_url, {"acme": {"groups": {"g": {"references": [("file://%s" % ref, None)]}},
                               "hosts": {"h": {"groups": ["g"]}}}})
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme")
    listing = inventory_list(config, craton_env)[0]
    assert listing["_meta"]["hostvars"]["h"]["tpl"] == {"__ansible_unsafe": "{{ 1 + 1 }}"}
    config = write_config(tmp_path, database_url=fleet_url, tenant="acme", vars_references_trusted=True)
    listing = inventory_list(config, craton_env)[0]
    assert listing["_meta"]["hostvars"]["h"]["tpl"] == "{{ 1 + 1 }}"
