"""Inventory bundles (craton export, module_utils/bundle.py): extracted, a bundle is an inventory
directory that real ansible-inventory / ansible-playbook runs read exactly as the plugin's
inventory; per-host bundles; byte-identical archives; secrets only as 0600 files; bad input."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import subprocess
import sys

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.craton.fleet.cli import db as db_cli
from ansible_collections.craton.fleet.plugins.module_utils import bundle
from bundle_helpers import extract, members, secret_names, tree, without_secret_paths
from inventory_helpers import build, inventory_list, playbook, write_config

PY = sys.executable
SSH_KEY = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
TOKEN = b"hunter2-opaque-token-0123456789"
SECRETS = {"web01": {"deploy": SSH_KEY, "api:token": TOKEN}, "007": {"token": b"bond"}}
REFERENCE = "owner_ref: from-ref\nref_template: \"{{ 6 * 7 }}\"\ntier: ref-tier\n"
# Values that a YAML writer can get wrong.
TRICKY = {
    "whole_float": 2.0, "exp_float": 1e100, "small_exp": -1.5e-10, "big": 2 ** 53 + 1, "null": None,
    "numeric_string": "5", "float_string": "1e+100", "bool_word": "yes", "date_like": "2024-01-01",
    "empty": "", "unicode": "café ✓ 😀", "breaks": "a\u2028b\x85c\x7fd\ttab\nnewline", "colon": "a: b",
    "hash": "# not a comment", "tag_like": "!unsafe x", "json_like": '{"__ansible_unsafe": "x"}',
    "quoted": 'say "hi" \\ bye', "nested": {"a": {"b": [None, {"c": 1.0}, "x: y"]}, "": "empty key"},
    "long_key": {"k" * 1100: 1},
}

FLEET = {
    "acme": {
        "vars": {"ansible_python_interpreter": PY, "ansible_connection": "local", "owner": "acme", "ntp": "pool"},
        "untrusted_vars": {"tenant_note": "{{ 6 * 7 }}"},
        "regions": {"eu-west": {"vars": {"dc": "dublin", "ntp": "eu"}}, "us": {"vars": {"dc": "virginia"}}},
        "groups": {
            "app": {"vars": {"tier": "app", "http_port": 80}, "children": ["web", "db"]},
            "web": {"vars": {"http_port": 8080, "ansible_group_priority": 5}, "children": ["web-canary"]},
            "web-canary": {"vars": {"canary": True}, "untrusted_vars": {"note": {"a": ["{{ x }}", 1]}}},
            "db": {"vars": {"engine": "mariadb"}},
            "low": {"vars": {"ntp": "low-priority", "ansible_group_priority": -5}},
            "empty": {"vars": {"unused": 1}},
            "bare": {},
        },
        "hosts": {
            "web01": {"region": "eu-west", "groups": ["web", "low"],
                      "vars": {"wave": "early", "motd": "hello {{ inventory_hostname }}", **TRICKY},
                      "untrusted_vars": {"user_note": "{{ lookup('env', 'HOME') }}"},
                      "columns": {"ip_address": "10.0.0.1", "port": 2222, "user": "{{ not_rendered }}"},
                      "secrets": {"deploy": ("ssh_private_key", SSH_KEY), "api:token": ("opaque", TOKEN)}},
            "web02": {"region": "eu-west", "groups": ["web-canary", "db"], "vars": {"wave": "canary"},
                      # untrusted strings that YAML's !unsafe cannot carry: this file is written as JSON
                      "untrusted_vars": {"port_text": "8080", "blank": "", "flag": "true"}},
            "web03": {"region": "us", "groups": ["web"], "vars": {"wave": "late"}},
            "old01": {"region": "us", "groups": ["web"], "vars": {"wave": "early"}, "active": False},
            "007": {"groups": ["db"], "vars": {"wave": "early"}, "secrets": {"token": ("opaque", b"bond")}},
            "lonely": {},
        },
    },
    "globex": {"vars": {"owner": "globex"}, "regions": {"mars": {}}, "hosts": {"gx01": {"region": "mars"}}},
}


@pytest.fixture
def bundle_fleet(fleet_url, secret_key, tmp_path):
    reference = tmp_path / "reference.yml"
    reference.write_text(REFERENCE)
    spec = copy.deepcopy(FLEET)
    spec["acme"]["groups"]["app"]["references"] = [("file://%s" % reference, None)]
    build(fleet_url, spec)
    return fleet_url


def export(run_craton, url, tmp_path, *args, fmt="tgz", name=None):
    """``craton export`` to a file; -> the archive's bytes."""
    path = tmp_path / (name or "bundle.%s" % fmt)
    run_craton("--database-url", url, "export", "--format", fmt, "-o", path, *args)
    return path.read_bytes()


def plugin_listing(tmp_path, env, url, **options):
    config = write_config(tmp_path, database_url=url, **options)
    return inventory_list(config, env)[0]


def bundle_listing(directory, env):
    return inventory_list(directory, env)[0]


def _all_bytes_except_secrets(files):
    return b"".join(content for path, (_mode, content) in files.items()
                    if content is not None and "/.secrets/" not in "/" + path)


@pytest.mark.parametrize("args, options", [
    (["--tenant", "acme"], {"tenant": "acme"}),
    (["--group", "app", "--host", "web*", "--host", "0?7", "--host-var", "wave=early", "--host-var", "wave=late",
      "--all"],
     {"groups": ["app"], "hosts": ["web*", "0?7"], "host_vars": {"wave": ["early", "late"]}, "active_only": False}),
], ids=["tenant", "filters"])
def test_extracted_bundle_lists_like_the_plugin(bundle_fleet, tmp_path, craton_env, run_craton, args, options):
    archive = export(run_craton, bundle_fleet, tmp_path, *args)
    directory = extract(archive, str(tmp_path / "inv"), "tgz")
    expected = plugin_listing(tmp_path, craton_env, bundle_fleet, **options)
    got = bundle_listing(directory, craton_env)
    assert without_secret_paths(got) == without_secret_paths(expected)
    hosts = sorted(expected["_meta"]["hostvars"])
    assert hosts == (["007", "lonely", "web01", "web02", "web03"] if "tenant" in options
                     else ["007", "web01", "web03"])
    web01 = got["_meta"]["hostvars"]["web01"]
    # precedence reproduced: priority -5 puts 'low' under the region; web (child, priority 5) over app
    assert (web01["ntp"], web01["http_port"], web01["tier"], web01["owner_ref"]) == ("eu", 8080, "app", {"__ansible_unsafe": "from-ref"})
    assert "ansible_group_priority" not in web01
    # untrusted values stay untrusted, trusted templates stay templates (checked in a play below)
    assert web01["user_note"] == {"__ansible_unsafe": "{{ lookup('env', 'HOME') }}"}
    assert web01["ansible_user"] == {"__ansible_unsafe": "{{ not_rendered }}"}
    assert web01["ref_template"] == {"__ansible_unsafe": "{{ 6 * 7 }}"}
    assert web01["motd"] == "hello {{ inventory_hostname }}"
    assert {k: web01[k] for k in TRICKY} == TRICKY
    if "web02" in got["_meta"]["hostvars"]:
        web02 = got["_meta"]["hostvars"]["web02"]
        assert [web02[k] for k in ("port_text", "blank", "flag")] == [
            {"__ansible_unsafe": "8080"}, {"__ansible_unsafe": ""}, {"__ansible_unsafe": "true"}]
        assert tree(directory)["host_vars/web02.yml"][1].startswith(b"{")
    # the one normalised difference, asserted on its own: secrets are files in the bundle
    files = tree(directory)
    for host, secrets in SECRETS.items():
        if host not in got["_meta"]["hostvars"]:
            continue
        hostvars = got["_meta"]["hostvars"][host]
        assert secret_names(hostvars) == secret_names(expected["_meta"]["hostvars"][host])
        for name, value in secrets.items():
            template = hostvars["craton_secret_files"][name]
            assert template.startswith("{{ inventory_dir }}/.secrets/"), template
            relative = template[len("{{ inventory_dir }}/"):]
            assert files[relative] == (0o600, value)
            assert files[os.path.dirname(relative)][0] == 0o700
    assert files[".secrets"] == (0o700, None)
    assert web01["ansible_ssh_private_key_file"] == web01["craton_secret_files"]["deploy"]
    everything = _all_bytes_except_secrets(files)
    for value in (SSH_KEY.splitlines()[1], TOKEN, b"bond"):
        assert value not in everything, "a secret value is inline in the bundle"


def test_zip_and_tgz_hold_the_same_inventory(bundle_fleet, tmp_path, run_craton):
    tgz = extract(export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme"), str(tmp_path / "t"), "tgz")
    zipped = extract(export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme", fmt="zip"),
                     str(tmp_path / "z"), "zip")
    files = tree(tgz)
    assert files == tree(zipped)
    assert sorted(p for p in files if "/" not in p) == [".secrets", "group_vars", "host_vars", "hosts.yml"]
    assert {p: m for p, (m, c) in files.items() if c is None} == {
        ".secrets": 0o700, ".secrets/web01": 0o700, ".secrets/007": 0o700, "group_vars": 0o755, "host_vars": 0o755}
    assert all(mode == 0o644 for path, (mode, content) in files.items()
               if content is not None and not path.startswith(".secrets/"))
    # a user group without variables has no file; one that only sets its priority has it in hosts.yml
    assert "group_vars/bare.yml" not in files and "group_vars/low.yml" in files
    hosts = yaml.safe_load(files["hosts.yml"][1])
    assert hosts["low"] == {"vars": {"ansible_group_priority": -5}, "hosts": {"web01": None}}
    assert hosts["tenant_acme"]["vars"] == {"ansible_group_priority": -2}
    assert hosts["region_us"] == {"vars": {"ansible_group_priority": -1}, "hosts": {"web03": None}}
    assert hosts["app"] == {"children": {"web": None, "db": None}}
    assert "ansible_group_priority" not in files["group_vars/web.yml"][1].decode()


def test_per_host_bundles_hold_one_inventory_per_host(bundle_fleet, tmp_path, craton_env, run_craton):
    archive = export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme", "--per-host")
    root = extract(archive, str(tmp_path / "per"), "tgz")
    assert sorted(os.listdir(root)) == ["007", "lonely", "web01", "web02", "web03"]
    expected = plugin_listing(tmp_path, craton_env, bundle_fleet, tenant="acme")
    # web01: the same effective variables and groups as through the plugin, and nothing else
    got = bundle_listing(os.path.join(root, "web01"), craton_env)
    assert list(got["_meta"]["hostvars"]) == ["web01"]
    assert without_secret_paths(got)["_meta"]["hostvars"]["web01"] == \
        without_secret_paths(expected)["_meta"]["hostvars"]["web01"]
    assert sorted(got["all"]["children"]) == ["app", "low", "region_eu_west", "tenant_acme", "ungrouped"]
    assert got["app"]["children"] == ["web"] and got["web"]["hosts"] == ["web01"]
    files = tree(os.path.join(root, "web01"))
    assert sorted(p for p in files if p.startswith("group_vars/")) == [
        "group_vars/app.yml", "group_vars/low.yml", "group_vars/region_eu_west.yml", "group_vars/tenant_acme.yml",
        "group_vars/web.yml"]
    assert files[".secrets/web01/deploy"] == (0o600, SSH_KEY)
    # the others: only their own groups, variables and secrets
    web02 = tree(os.path.join(root, "web02"))
    assert sorted(p for p in web02 if p.startswith("group_vars/")) == [
        "group_vars/app.yml", "group_vars/db.yml", "group_vars/region_eu_west.yml", "group_vars/tenant_acme.yml",
        "group_vars/web-canary.yml", "group_vars/web.yml"]
    assert not any(p.startswith(".secrets") for p in web02)
    assert [p for p in web02 if p.startswith("host_vars/")] == ["host_vars/web02.yml"]
    lonely = tree(os.path.join(root, "lonely"))
    assert sorted(lonely) == ["group_vars", "group_vars/tenant_acme.yml", "hosts.yml"]
    assert yaml.safe_load(lonely["hosts.yml"][1]) == {
        "tenant_acme": {"vars": {"ansible_group_priority": -2}, "hosts": {"lonely": None}}}
    assert tree(os.path.join(root, "007"))[".secrets/007/token"] == (0o600, b"bond")
    # each directory's group files are the same bytes as in the aggregate bundle
    aggregate = tree(extract(export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme"),
                             str(tmp_path / "agg"), "tgz"))
    for path, entry in files.items():
        if path.startswith(("group_vars/", "host_vars/", ".secrets/")):
            assert aggregate[path] == entry, path


def _check_normalised(archive, fmt):
    listed = members(archive, fmt)
    names = [m[0] for m in listed]
    assert names == sorted(names, key=lambda n: n.split("/")), "entries are not sorted"
    if fmt == "tgz":
        assert {(m[2], m[3]) for m in listed} == {(0, (0, 0, "root", "root"))}
        assert archive[3] & 0x08 == 0, "file name in the gzip header"
        assert archive[4:8] == b"\0\0\0\0", "gzip header mtime is not 0"
    else:
        assert {(m[2], m[3]) for m in listed} == {((1980, 1, 1, 0, 0, 0), 3)}
    assert {m[1] & 0o777 for m in listed} == {0o755, 0o644, 0o600, 0o700}


def test_archives_are_byte_identical_and_normalised(bundle_fleet, tmp_path, craton_env, run_craton):
    # craton export twice, to a file
    first = export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme", name="a")
    second = export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme", name="b")
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    _check_normalised(first, "tgz")
    # zip to a file and through a pipe (not seekable): the same bytes
    zipped = export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme", fmt="zip", name="c")
    piped = subprocess.run([PY, "-m", "ansible_collections.craton.fleet.cli", "--database-url", bundle_fleet,
                            "export", "--tenant", "acme", "--format", "zip", "-o", "-"],
                           capture_output=True, check=True, env=craton_env)
    assert piped.stdout == zipped
    _check_normalised(zipped, "zip")
    # the writer in-process (as the REST API calls it), per host too: same bytes each time
    for fmt, per_host in (("tgz", False), ("zip", False), ("tgz", True), ("zip", True)):
        made = []
        for _attempt in range(2):
            out = io.BytesIO()
            bundle.export_bundle(bundle_fleet, {"tenant": "acme"}, out, fmt=fmt, per_host=per_host)
            made.append(out.getvalue())
        assert made[0] == made[1], (fmt, per_host)
        if not per_host:
            assert made[0] == (first if fmt == "tgz" else zipped), "craton export and the writer differ"
        _check_normalised(made[0], fmt)


def test_a_play_over_an_extracted_bundle(bundle_fleet, tmp_path, craton_env, run_craton):
    directory = extract(export(run_craton, bundle_fleet, tmp_path, "--tenant", "acme", "--host", "web01"),
                        str(tmp_path / "somewhere" / "else"), "tgz")
    proc = playbook(tmp_path, directory, """
- hosts: web01
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "RESULT {{ {'key': lookup('file', ansible_ssh_private_key_file) ~ '\\n',
              'token': lookup('file', craton_secret_files['api:token']),
              'key_path': ansible_ssh_private_key_file, 'motd': motd, 'tenant_note': tenant_note,
              'user_note': user_note, 'user': ansible_user, 'ref': ref_template} | to_json }}"
""", craton_env)
    line = next(line for line in proc.stdout.splitlines() if '"msg": "RESULT ' in line)
    result = json.loads(json.loads("{%s}" % line.strip().rstrip(","))["msg"].split(" ", 1)[1])
    assert result["key"].encode() == SSH_KEY and result["token"].encode() == TOKEN
    assert result["key_path"] == os.path.join(directory, ".secrets", "web01", "deploy")
    assert result["motd"] == "hello web01"  # trusted: renders, as through the plugin
    # untrusted: never rendered
    assert (result["tenant_note"], result["user_note"], result["user"], result["ref"]) == (
        "{{ 6 * 7 }}", "{{ lookup('env', 'HOME') }}", "{{ not_rendered }}", "{{ 6 * 7 }}")


def _check_bad(run_craton, url, out, args, message, env):
    if "-o" not in args:
        args = args + ["-o", str(out / "bundle.tgz")]
    proc = run_craton("--database-url", url, "export", *args, check=False, env=env)
    assert proc.returncode in (1, 2)  # 2: argparse usage errors
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    if proc.returncode == 1:
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("craton: error: ")
    assert os.listdir(out) == [], "something was written"


@pytest.mark.parametrize("args, message", [
    (["--tenant", "nope"], "tenant 'nope' named in the inventory filter does not exist"),
    (["--tenant", "acme", "--region", "atlantis"], "region 'atlantis' in tenant 'acme' named in the inventory filter"),
    (["--tenant", "acme", "--group", "nogroup"], "group 'nogroup' in tenant 'acme' named in the inventory filter"),
    (["--tenant", "acme", "--host", "nothing*"], "no host matches the filters"),
    (["--tenant", "acme", "--key-missing"], "no secret key: set CRATON_SECRET_KEY"),
])
def test_bad_filters_are_one_line_and_write_nothing(bundle_fleet, tmp_path, craton_env, run_craton, args, message):
    out = tmp_path / "out"
    out.mkdir()
    env = dict(craton_env)
    if "--key-missing" in args:
        args = [a for a in args if a != "--key-missing"]
        env = {k: v for k, v in env.items() if not k.startswith("CRATON_SECRET_KEY")}
    _check_bad(run_craton, bundle_fleet, out, args, message, env)


@pytest.mark.parametrize("args, message", [
    (["--host-var", "wave"], "--host-var expects KEY=VALUE, not 'wave'"),
    (["--host-var", "1wave=x"], "invalid --host-var name '1wave'"),
    (["-o", "/nonexistent/dir/out.tgz"], "cannot write /nonexistent/dir/out.tgz: No such file"),
    (["-o", "."], "cannot write .: it is a directory"),
    (["--format", "rar"], "invalid choice: 'rar'"),
])
def test_bad_arguments_are_one_line_and_write_nothing(tmp_path, craton_env, run_craton, args, message):
    url = "sqlite:///%s" % (tmp_path / "fleet.db")
    db_cli.upgrade(url)
    build(url, {"acme": {"hosts": {"h": {"vars": {"wave": "early"}}}}})
    out = tmp_path / "out"
    out.mkdir()
    _check_bad(run_craton, url, out, args, message, craton_env)


def test_a_host_name_a_static_inventory_cannot_hold_is_refused(fleet_url, tmp_path, run_craton):
    build(fleet_url, {"acme": {"hosts": {"db:5432": {}, "ok": {}}}})
    proc = run_craton("--database-url", fleet_url, "export", "--tenant", "acme", "-o", tmp_path / "x.tgz",
                      check=False)
    assert proc.returncode == 1
    assert "host 'db:5432' cannot be written to an inventory bundle" in proc.stderr
    assert not (tmp_path / "x.tgz").exists()
    run_craton("--database-url", fleet_url, "export", "--tenant", "acme", "--host", "ok", "-o", tmp_path / "x.tgz")


def test_a_vars_reference_that_cannot_be_read_is_an_error(fleet_url, tmp_path, run_craton):
    missing = tmp_path / "missing.yml"
    build(fleet_url, {"acme": {"groups": {"g": {"references": [("file://%s" % missing, None)]}},
                               "hosts": {"h": {"groups": ["g"]}}}})
    proc = run_craton("--database-url", fleet_url, "export", "--tenant", "acme", "-o", tmp_path / "x.tgz",
                      check=False)
    assert proc.returncode == 1
    assert "vars reference file://%s of group 'g': cannot read" % missing in proc.stderr
    assert not (tmp_path / "x.tgz").exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".x.tgz")]
