"""`craton import` with bad input: one clear line on stderr, exit 1, no traceback, and the
database exactly as it was (the real `craton` command, on SQLite and MariaDB)."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from import_helpers import dump, source_path

VAULTED = """\
all:
  hosts:
    h1:
      db_password: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          65626165313864346534373538393366393838616663633936303834613366353166333838306661
          3664393537653664623833383937373830376165616236640a303437393031633764343865616138
          32343364666464373864623866376334396366653534383832643163356337663230373639343737
          6639373266636365370a316366383066373162323632623566663135636664616230306466666262
          6662
"""

BAD_SOURCES = {
    "unparsable INI": ("bad.ini", "[web\nweb1\n", "cannot parse inventory source {path}: ini plugin: "),
    "unparsable YAML": ("bad.yml", "all:\n  hosts: [a\n", "cannot parse inventory source {path}: "
                        "auto plugin: YAML parsing failed: While parsing a flow sequence did not find "
                        "expected ',' or ']'. (line 3)"),
    "INI with an undefined child group": ("children.ini", "[p:children]\nmissing\n",
                                          "Section [p:children] includes undefined group 'missing'"),
    "invalid variable name in a host": ("badvar.ini", "h1 class=x\n",
                                        "host 'h1' in the import source: invalid variable name 'class'"),
    "invalid variable name in a group": ("badgvar.yml", "all:\n  children:\n    g:\n      vars:\n"
                                         "        my-var: 1\n      hosts:\n        h1:\n",
                                         "group 'g' in the import source: invalid variable name 'my-var'"),
    "invalid variable name in all": ("badall.ini", "h1\n[all:vars]\nglobal=1\n",
                                     "group 'all' in the import source: invalid variable name 'global'"),
    "invalid host name": ("badhost.yml", "all:\n  hosts:\n    'bad host':\n",
                          "invalid host name 'bad host'"),
    "vault-encrypted value": ("vault.yml", VAULTED, "variable 'db_password' of host 'h1' is vault-encrypted"),
    "value JSON cannot hold": ("nan.yml", "all:\n  vars:\n    x: .nan\n  hosts:\n    h1:\n",
                               "variable 'x' of group 'all' is nan, which JSON cannot store"),
}


def assert_user_error(proc, message):
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("craton: error: "), proc.stderr
    assert message in lines[0], lines[0]


@pytest.fixture
def seeded(fleet_url, run_craton):
    """A database that already holds an imported tenant (so "nothing written" means something)."""
    run_craton("import", source_path("yaml_types/inventory.yml"), "--tenant", "t", "--database-url", fleet_url)
    return fleet_url


@pytest.mark.parametrize("case", BAD_SOURCES)
def test_bad_sources_are_one_clear_error_and_write_nothing(case, seeded, run_craton, tmp_path):
    name, text, message = BAD_SOURCES[case]
    path = tmp_path / name
    path.write_text(text)
    before = dump(seeded)
    proc = run_craton("import", path, "--tenant", "t", "--database-url", seeded, check=False)
    assert_user_error(proc, message.format(path=path))
    assert dump(seeded) == before


def test_a_failed_import_into_a_new_tenant_creates_no_tenant(seeded, run_craton, tmp_path):
    path = tmp_path / "badvar.ini"
    path.write_text("h1 ok=1\n[g]\nh1\n[g:vars]\nnot-ok=2\n")
    before = dump(seeded)
    proc = run_craton("import", path, "--tenant", "new-tenant", "--region", "new-region",
                      "--database-url", seeded, check=False)
    assert_user_error(proc, "group 'g' in the import source: invalid variable name 'not-ok'")
    assert dump(seeded) == before


def test_one_bad_file_in_a_directory_fails_the_import(seeded, run_craton, tmp_path):
    """Ansible only warns and goes on with the other files; an import must not."""
    directory = tmp_path / "inv"
    shutil.copytree(source_path("mixed_dir"), directory)
    (directory / "30-broken.yml").write_text("all:\n  hosts: [oops\n")
    before = dump(seeded)
    proc = run_craton("import", directory, "--tenant", "t", "--database-url", seeded, check=False)
    assert_user_error(proc, "cannot parse inventory source %s" % (directory / "30-broken.yml"))
    assert dump(seeded) == before


def test_missing_and_unreadable_sources(seeded, run_craton, tmp_path):
    before = dump(seeded)
    proc = run_craton("import", tmp_path / "nope.ini", "--tenant", "t", "--database-url", seeded, check=False)
    assert_user_error(proc, "import source %s does not exist" % (tmp_path / "nope.ini"))
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    proc = run_craton("import", empty, "--tenant", "t", "--database-url", seeded, check=False)
    assert_user_error(proc, "cannot parse inventory source %s: no inventory plugin accepts it" % empty)
    assert dump(seeded) == before


def test_a_failing_inventory_script_is_an_error(seeded, run_craton, tmp_path):
    script = tmp_path / "inv.py"
    script.write_text("#!/bin/sh\necho 'cannot reach the CMDB' >&2\nexit 3\n")
    script.chmod(0o755)
    before = dump(seeded)
    proc = run_craton("import", script, "--tenant", "t", "--database-url", seeded, check=False)
    assert_user_error(proc, "cannot parse inventory source %s: script plugin: Inventory script returned non-zero "
                            "exit code 3. Standard error from inventory script: cannot reach the CMDB" % script)
    assert "ini plugin" not in proc.stderr
    assert dump(seeded) == before


@pytest.mark.parametrize("args,message", [
    (["--tenant", "t", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: --tenant"),
    (["--tenant"], "argument --tenant: expected one argument"),
])
def test_usage_errors_exit_2_without_traceback(args, message, fleet_url, run_craton):
    proc = run_craton("import", source_path("ini_nested"), *args, "--database-url", fleet_url, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(message)


@pytest.mark.parametrize("name,message", [
    ("", "invalid tenant name ''"),
    ("two words", "invalid tenant name 'two words'"),
])
def test_bad_tenant_names(name, message, seeded, run_craton):
    before = dump(seeded)
    proc = run_craton("import", source_path("ini_nested"), "--tenant", name, "--database-url", seeded, check=False)
    assert_user_error(proc, message)
    assert dump(seeded) == before


def test_a_database_without_the_schema_says_to_upgrade(db_url, run_craton):
    proc = run_craton("import", source_path("ini_nested"), "--tenant", "t", "--database-url", db_url, check=False)
    assert_user_error(proc, "run `craton db upgrade`")


def test_an_unreachable_database_is_one_line(run_craton):
    proc = run_craton("import", source_path("ini_nested"), "--tenant", "t",
                      "--database-url", "mysql+pymysql://root@127.0.0.1:1/x", check=False)
    assert_user_error(proc, "cannot use database mysql+pymysql://root@127.0.0.1:1/x")


def test_a_group_child_of_ungrouped_is_refused(seeded, run_craton, tmp_path):
    path = tmp_path / "u.yml"
    path.write_text(textwrap.dedent("""\
        all:
          children:
            ungrouped:
              children:
                odd:
                  hosts:
                    h1:
        """))
    before = dump(seeded)
    proc = run_craton("import", path, "--tenant", "t", "--database-url", seeded, check=False)
    assert_user_error(proc, "group 'odd' is a child of Ansible's implicit group 'ungrouped'")
    assert dump(seeded) == before
