"""The craton command: user errors are one clear line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import pytest


def assert_user_error(proc, message):
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("craton: error: "), proc.stderr
    assert message in lines[0]


@pytest.mark.parametrize("url,message", [
    ("not a url", "invalid database URL 'not a url'"),
    ("postgresql://u@localhost/x", "unsupported database 'postgresql'"),
    ("mysql+pymysql://root:hunter2@127.0.0.1:1/x", "cannot use database mysql+pymysql://root:***@127.0.0.1:1/x"),
])
def test_bad_database_urls_get_one_clear_line(run_craton, url, message):
    proc = run_craton("db", "current", "--database-url", url, check=False)
    assert_user_error(proc, message)
    assert "hunter2" not in proc.stderr


def test_unreachable_database_on_upgrade_names_the_database(run_craton):
    proc = run_craton("db", "upgrade", "--database-url", "mysql+pymysql://root@127.0.0.1:1/x", check=False)
    assert_user_error(proc, "cannot use database mysql+pymysql://root@127.0.0.1:1/x")


def test_unknown_revision_is_a_clear_error(run_craton, db_url):
    proc = run_craton("db", "upgrade", "nosuchrev", "--database-url", db_url, check=False)
    assert_user_error(proc, "upgrade failed: Can't locate revision identified by 'nosuchrev'")


def test_debug_shows_the_traceback(run_craton):
    proc = run_craton("--debug", "db", "current", "--database-url", "not a url", check=False)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


@pytest.mark.parametrize("args", [[], ["db"], ["key"], ["db", "upgrade"], ["db", "downgrade"], ["key", "generate"]])
def test_help_everywhere(run_craton, args):
    proc = run_craton(*args, "--help")
    assert proc.stdout.startswith("usage: craton")


def test_usage_errors_exit_2_without_traceback(run_craton):
    proc = run_craton("db", "frobnicate", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "invalid choice" in proc.stderr


def test_key_generate_writes_a_private_key_file_once(run_craton, tmp_path):
    path = tmp_path / "k" / "secret.key"
    run_craton("key", "generate", "--file", path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_bytes().strip()) == 44
    assert_user_error(run_craton("key", "generate", "--file", path, check=False), "already exists")
