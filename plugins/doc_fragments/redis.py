# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Redis connection options, documented once (``module_utils/redis_connection.py``)."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Doc fragment: craton.fleet.redis"""

    DOCUMENTATION = r"""
options:
  redis_url:
    description:
      - URL of the Redis server.
      - V(redis://[[user]:password@]host:port/db) for TCP, V(rediss://...) for TLS (see O(tls_ca_file),
        O(tls_cert_file), O(tls_key_file), O(tls_verify)), V(unix:///path/to/redis.sock?db=0) for a Unix socket.
      - V(redis+sentinel://[[user]:password@]host:port[,host:port...]/SERVICE[/DB]) for Redis behind Sentinel
        (C(docs/sentinel.md) in the collection). The hosts are the sentinels (port 26379 when left out), SERVICE
        the name they monitor; the primary is asked of the sentinels at every (re)connection, so that a
        failover costs an outage of a few seconds (events are buffered as for any outage). The password is
        the Redis servers'; query arguments V(sentinel_password) and V(sentinel_username) are the sentinels'.
        V(wait_replicas=N) counts a batch of events as written only once N replicas have it (Redis C(WAIT)), so
        that a primary that dies cannot take events counted as sent with it. No TLS with Sentinel.
      - Query arguments understood by redis-py (for example V(?db=2)) are passed on.
      - The password in the URL is never shown in output or warnings.
    type: str
    default: redis://127.0.0.1:6379/0
    env:
      - name: CRATON_REDIS_URL
    ini:
      - section: callback_craton_redis
        key: redis_url
  tls_ca_file:
    description: CA certificates (PEM file) that the Redis server's certificate must chain to (V(rediss://) only).
    type: path
    env:
      - name: CRATON_REDIS_TLS_CA_FILE
    ini:
      - section: callback_craton_redis
        key: tls_ca_file
  tls_cert_file:
    description: Client certificate (PEM file) for Redis servers that require one (V(rediss://) only).
    type: path
    env:
      - name: CRATON_REDIS_TLS_CERT_FILE
    ini:
      - section: callback_craton_redis
        key: tls_cert_file
  tls_key_file:
    description: Private key (PEM file) of O(tls_cert_file) (V(rediss://) only).
    type: path
    env:
      - name: CRATON_REDIS_TLS_KEY_FILE
    ini:
      - section: callback_craton_redis
        key: tls_key_file
  tls_verify:
    description:
      - Verify the Redis server's certificate and host name (V(rediss://) only).
      - Turn off only for a test server with a self-signed certificate.
    type: bool
    default: true
    env:
      - name: CRATON_REDIS_TLS_VERIFY
    ini:
      - section: callback_craton_redis
        key: tls_verify
  timeout:
    description:
      - Seconds to wait for Redis to accept a connection or answer a command, after which Redis is
        considered down for now.
    type: float
    default: 2.0
    env:
      - name: CRATON_REDIS_TIMEOUT
    ini:
      - section: callback_craton_redis
        key: timeout
requirements:
  - redis (the Python library, redis-py) >= 5.0
"""
