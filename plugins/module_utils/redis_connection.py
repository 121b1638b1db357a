# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connecting to Redis: ``redis://``, ``rediss://`` (TLS) and ``unix://`` URLs.

``redis_url`` comes from the caller, else ``CRATON_REDIS_URL``, else
``redis://127.0.0.1:6379/0``. Clients made here never retry on their own and
time out after ``timeout`` seconds, so that the caller decides what an outage
costs (the callback: nothing on the playbook's hot path).
"""

from __future__ import annotations

import os
import traceback
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    HAS_REDIS = True
    REDIS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the callers
    HAS_REDIS = False
    REDIS_IMPORT_ERROR = traceback.format_exc()

ENV_URL = "CRATON_REDIS_URL"
DEFAULT_URL = "redis://127.0.0.1:6379/0"
SCHEMES = ("redis", "rediss", "unix")
DEFAULT_TIMEOUT = 2.0


def resolve_url(url=None):
    """The URL to use: the argument, else $CRATON_REDIS_URL, else the local default."""
    return url or os.environ.get(ENV_URL) or DEFAULT_URL


def safe_redis_url(url):
    """The URL with its password masked, fit for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable Redis URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc="%s:***@%s" % (user, netloc)))


def check_url(url):
    """Return the URL if its scheme is one we support, else raise CratonError."""
    scheme = urlsplit(url).scheme if isinstance(url, str) else None
    if scheme not in SCHEMES:
        raise CratonError("invalid Redis URL %r: use redis://host:port/db, rediss://host:port/db (TLS) "
                          "or unix:///path/to/redis.sock" % (safe_redis_url(url) if isinstance(url, str) else url,))
    return url


def redis_client(url=None, timeout=DEFAULT_TIMEOUT, tls_ca_file=None, tls_cert_file=None,
                 tls_key_file=None, tls_verify=True):
    """A redis.Redis for the URL. Does not connect; raises CratonError for bad settings."""
    if not HAS_REDIS:
        raise CratonError("the Python library redis is not installed (pip install redis): %s"
                          % REDIS_IMPORT_ERROR.strip().splitlines()[-1])
    url = check_url(resolve_url(url))
    scheme = urlsplit(url).scheme
    kwargs = {"socket_timeout": timeout, "retry": Retry(NoBackoff(), 0), "health_check_interval": 0}
    if scheme != "unix":
        kwargs["socket_connect_timeout"] = timeout
    tls = {"ssl_ca_certs": tls_ca_file, "ssl_certfile": tls_cert_file, "ssl_keyfile": tls_key_file}
    if scheme == "rediss":
        kwargs.update({k: v for k, v in tls.items() if v})
        if not tls_verify:
            kwargs.update(ssl_cert_reqs="none", ssl_check_hostname=False)
    elif any(tls.values()):
        raise CratonError("Redis TLS options (CA, certificate, key files) need a rediss:// URL, not %s"
                          % safe_redis_url(url))
    for path in (p for p in tls.values() if p):
        if not os.path.isfile(path):
            raise CratonError("Redis TLS file %s does not exist" % path)
    try:
        return redis.Redis.from_url(url, **kwargs)
    except (ValueError, TypeError) as e:
        raise CratonError("invalid Redis URL %s: %s" % (safe_redis_url(url), e)) from None
