"""Galera: a multi-host database_url connects to the first node that answers, and says which failed."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from galera_fixtures import galera  # noqa: F401  pylint: disable=unused-import


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.usefixtures("galera")
def test_a_host_that_refuses_is_skipped():
    dead = closed_port()
    url = "mysql+pymysql://root@127.0.0.1:%d,127.0.0.1:3312,127.0.0.1:3313/test" % dead
    engine = db.engine_for(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT @@port")).scalar() == 3312
    finally:
        engine.dispose()


@pytest.mark.usefixtures("galera")
def test_no_host_answering_is_one_error_naming_each_host():
    ports = closed_port(), closed_port()
    url = "mysql+pymysql://root:pw@127.0.0.1:%d,127.0.0.1:%d/test" % ports
    with pytest.raises(CratonError) as raised:
        db.connect(url)
    message = str(raised.value)
    assert "no host of the cluster accepted the connection" in message
    assert all("127.0.0.1:%d" % port in message for port in ports)
    assert "pw" not in message.replace("password", "") and "\n" not in message
