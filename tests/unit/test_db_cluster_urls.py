"""database_url with several hosts (a Galera cluster): parsing, masking, bad input."""

from __future__ import annotations

import pytest

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

CLUSTER = "mysql+pymysql://fleet:s3cret@db1:3306,db2,[::1]:3307/fleet?charset=utf8mb4"


def test_a_host_list_parses_to_the_first_host_and_the_list():
    parsed = db.parse_url(CLUSTER)
    assert (parsed.host, parsed.port, parsed.database) == ("db1", 3306, "fleet")
    assert db.cluster_hosts(parsed) == [("db1", 3306), ("db2", None), ("::1", 3307)]
    assert db.cluster_hosts(db.parse_url("mysql+pymysql://fleet@db1/fleet")) is None


def test_parsing_twice_gives_the_same_url():
    parsed = db.parse_url(CLUSTER)
    again = db.parse_url(parsed.render_as_string(hide_password=False))
    assert again == parsed


def test_safe_url_masks_the_password_and_shows_every_host():
    expected = "mysql+pymysql://fleet:***@db1:3306,db2,[::1]:3307/fleet?charset=utf8mb4"
    assert db.safe_url(CLUSTER) == expected
    assert db.safe_url(db.parse_url(CLUSTER)) == expected
    assert "s3cret" not in db.safe_url(db.parse_url(CLUSTER).render_as_string(hide_password=False))


@pytest.mark.parametrize("url, message", [
    ("mysql+pymysql://u:pw@db1:99999,db2/fleet", "'db1:99999' in the list of hosts is not host or host:port"),
    ("mysql+pymysql://u:pw@db1:x,db2/fleet", "'db1:x' in the list of hosts is not host or host:port"),
    ("mysql+pymysql://u:pw@db1,,db2/fleet", "'' in the list of hosts is not host or host:port"),
    ("postgresql://u:pw@db1,db2/fleet", "several hosts in a database URL are for MySQL/MariaDB clusters"),
])
def test_a_bad_host_list_is_one_line_naming_it_without_the_password(url, message):
    with pytest.raises(CratonError) as raised:
        db.parse_url(url)
    assert message in str(raised.value)
    assert "pw" not in str(raised.value) and "\n" not in str(raised.value)


def test_sqlite_paths_with_commas_are_not_host_lists():
    assert db.parse_url("sqlite:////tmp/a,b/fleet.db").database == "/tmp/a,b/fleet.db"


def test_backoff_is_bounded_and_jittered():
    waits = [db.backoff(attempt) for attempt in range(1, 8) for _draw in range(50)]
    assert max(waits) <= 3.0
    assert len(set(round(w, 6) for w in waits[:50])) > 1
