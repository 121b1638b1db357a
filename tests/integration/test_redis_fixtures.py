"""The Redis the tests get is a real server (streams, hashes), embedded when none is configured."""

from __future__ import annotations

import redis


def test_redis_url_is_a_real_server_with_streams(redis_url):
    client = redis.Redis.from_url(redis_url)
    assert client.info("server")["redis_version"]
    key = "craton:test:fixture-stream"
    client.delete(key)
    first = client.xadd(key, {"type": "probe"}, maxlen=2, approximate=False)
    for number in range(3):
        client.xadd(key, {"type": "probe", "number": number}, maxlen=2, approximate=False)
    assert client.xlen(key) == 2 and client.xrange(key, min=first, max=first) == []
    client.delete(key)


def test_a_test_can_kill_and_restart_its_own_redis(redis_server):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=1)
    assert client.ping()
    redis_server.stop()
    try:
        client.ping()
        raise AssertionError("redis answered after it was killed")
    except redis.ConnectionError:
        pass
    redis_server.start()
    assert redis.Redis.from_url(redis_server.url).ping()
