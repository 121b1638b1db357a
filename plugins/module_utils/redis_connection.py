# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connecting to Redis: ``redis://``, ``rediss://`` (TLS), ``unix://`` and ``redis+sentinel://`` URLs.

``redis_url`` comes from the caller, else ``CRATON_REDIS_URL``, else
``redis://127.0.0.1:6379/0``. Clients made here never retry on their own and
time out after ``timeout`` seconds, so that the caller decides what an outage
costs (the callback: nothing on the playbook's hot path).

A Sentinel URL names the sentinels and the service (docs/sentinel.md)::

    redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/SERVICE[/DB][?sentinel_password=...]

The client made for it asks the sentinels for the service's primary each time it
connects (redis-py's ``Sentinel.master_for``), so that a client that reconnects
after a failover finds the promoted replica. The password (and user) are the
Redis servers'; ``sentinel_password`` (and ``sentinel_username``) the sentinels'
when they require one. A port left out is Sentinel's 26379. ``wait_replicas=N``
makes event writers wait until N replicas have each batch (Redis ``WAIT``; see
:func:`replicas_to_wait_for`).
"""

from __future__ import annotations

import os
import re
import traceback
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

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
SENTINEL_SCHEME = "redis+sentinel"
SCHEMES = ("redis", "rediss", "unix", SENTINEL_SCHEME)
DEFAULT_TIMEOUT = 2.0
DEFAULT_SENTINEL_PORT = 26379
SENTINEL_FORM = "redis+sentinel://[:password@]host:port[,host:port...]/SERVICE[/DB]"
_SENTINEL_QUERY = ("sentinel_password", "sentinel_username", "wait_replicas")
_SERVICE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def resolve_url(url=None):
    """The URL to use: the argument, else $CRATON_REDIS_URL, else the local default."""
    return url or os.environ.get(ENV_URL) or DEFAULT_URL


def safe_redis_url(url):
    """The URL with its passwords masked, fit for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable Redis URL>"
    if parts.query and "password" in parts.query:
        query = [(k, "***" if "password" in k else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        parts = parts._replace(query=urlencode(query, safe="*"))
    userinfo, at_sign, hosts = parts.netloc.rpartition("@")
    if at_sign and ":" in userinfo:
        parts = parts._replace(netloc="%s:***@%s" % (userinfo.split(":", 1)[0], hosts))
    return urlunsplit(parts)


def check_url(url):
    """Return the URL if its scheme is one we support (and a Sentinel URL parses), else raise CratonError."""
    try:
        scheme = urlsplit(url).scheme if isinstance(url, str) else None
    except ValueError:
        scheme = None
    if scheme not in SCHEMES:
        raise CratonError("invalid Redis URL %r: use redis://host:port/db, rediss://host:port/db (TLS), "
                          "unix:///path/to/redis.sock or %s"
                          % (safe_redis_url(url) if isinstance(url, str) else url, SENTINEL_FORM))
    if scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
    return url


def is_sentinel_url(url):
    """True for a ``redis+sentinel://`` URL."""
    return isinstance(url, str) and url.lower().startswith(SENTINEL_SCHEME + "://")


def parse_sentinel_url(url):
    """The parts of a Sentinel URL as a dict: ``sentinels`` [(host, port)], ``service``, ``db``,
    ``username``, ``password``, ``sentinel_username``, ``sentinel_password``. CratonError names
    what is wrong."""
    def bad(what):
        return CratonError("invalid Redis Sentinel URL %s: %s; expected %s" % (safe_redis_url(url), what, SENTINEL_FORM))
    parts = urlsplit(url)
    if parts.fragment:
        raise bad("unexpected #fragment")
    userinfo, at_sign, hostlist = parts.netloc.rpartition("@")
    username = password = None
    if at_sign:
        user, colon, secret = userinfo.partition(":")
        username, password = unquote(user) or None, (unquote(secret) if colon else None)
    sentinels = []
    for item in hostlist.split(","):
        sentinels.append(_host_port(item.strip(), bad))
    path = parts.path.split("/")
    if len(path) < 2 or not path[1]:
        raise bad("no service name (the name the sentinels monitor, e.g. /mymaster)")
    service = unquote(path[1])
    if not _SERVICE.match(service):
        raise bad("service name %r is not 1 to 128 letters, digits, '.', '_' or '-'" % service)
    rest = path[2:]
    if len(rest) > 1 or (rest and rest[0] and not rest[0].isdigit()):
        raise bad("the part after the service name must be a database number, not %r" % "/".join(rest))
    db = int(rest[0]) if rest and rest[0] else 0
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - set(_SENTINEL_QUERY))
    if unknown:
        raise bad("unknown query argument %s (known: %s)" % (", ".join(unknown), ", ".join(_SENTINEL_QUERY)))
    wait = query.get("wait_replicas") or "0"
    if not wait.isdigit() or int(wait) > 100:
        raise bad("wait_replicas must be a number of replicas from 0 to 100, not %r" % wait)
    return {"sentinels": sentinels, "service": service, "db": db, "username": username, "password": password,
            "sentinel_username": query.get("sentinel_username") or None,
            "sentinel_password": query.get("sentinel_password") or None, "wait_replicas": int(wait)}


def _host_port(item, bad):
    if not item:
        raise bad("an empty sentinel address (hosts are host:port separated by commas)")
    if item.startswith("["):
        host, bracket, port = item[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise bad("sentinel address %r is not [ipv6]:port" % item)
        port = port[1:]
    else:
        host, _colon, port = item.partition(":")
    if not host:
        raise bad("sentinel address %r has no host" % item)
    if port == "":
        return host, DEFAULT_SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise bad("sentinel address %r has no valid port" % item)
    return host, int(port)


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
    if scheme == SENTINEL_SCHEME:
        if any((tls_ca_file, tls_cert_file, tls_key_file)):
            raise CratonError("Redis TLS options (CA, certificate, key files) are not supported with Sentinel "
                              "(%s): use a rediss:// URL of the primary, or Sentinel without TLS" % safe_redis_url(url))
        return _sentinel_client(url, kwargs)
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


def _sentinel_client(url, kwargs, asyncio=False):
    """A client of the service's primary, found through the sentinels each time it connects."""
    conf = parse_sentinel_url(url)
    sentinel_kwargs = dict(kwargs, username=conf["sentinel_username"], password=conf["sentinel_password"])
    if asyncio:
        from redis.asyncio.sentinel import Sentinel  # pylint: disable=import-outside-toplevel
    else:
        from redis.sentinel import Sentinel  # pylint: disable=import-outside-toplevel
    sentinel = Sentinel(conf["sentinels"], sentinel_kwargs=sentinel_kwargs, username=conf["username"],
                        password=conf["password"], db=conf["db"], **kwargs)
    client = sentinel.master_for(conf["service"])
    client.craton_wait_replicas = conf["wait_replicas"]
    return client


def replicas_to_wait_for(client):
    """How many replicas a writer waits for after each batch (the URL's ``wait_replicas``, else 0).

    Replication is asynchronous: a primary that dies may take with it writes it
    acknowledged but had not yet copied. With ``wait_replicas=N`` the event sender
    sends ``WAIT N`` after each batch and counts the batch as written only when N
    replicas have it; otherwise the batch is kept and sent again (at least once)."""
    return getattr(client, "craton_wait_replicas", 0)


def async_redis_client(url, timeout, connect_timeout):
    """A redis.asyncio client for the URL (what the progress stream reads with); does not connect."""
    url = check_url(resolve_url(url))
    if is_sentinel_url(url):
        return _sentinel_client(url, {"socket_timeout": timeout, "socket_connect_timeout": connect_timeout},
                                asyncio=True)
    import redis.asyncio  # pylint: disable=import-outside-toplevel,redefined-outer-name
    return redis.asyncio.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=connect_timeout)


def taskflow_jobboard_conf(url):
    """The connection part of a TaskFlow Redis jobboard's conf for the URL (redis://, rediss://,
    unix:// or redis+sentinel://); the caller adds ``board`` and ``namespace``."""
    url = check_url(resolve_url(url))
    parts = urlsplit(url)
    if parts.scheme == SENTINEL_SCHEME:
        conf = parse_sentinel_url(url)
        (host, port), fallbacks = conf["sentinels"][0], conf["sentinels"][1:]
        out = {"host": host, "port": port, "db": conf["db"], "sentinel": conf["service"],
               "sentinel_fallbacks": ["[%s]:%d" % hp if ":" in hp[0] else "%s:%d" % hp for hp in fallbacks]}
        if conf["sentinel_password"] or conf["sentinel_username"]:
            out["sentinel_kwargs"] = {k: v for k, v in (("username", conf["sentinel_username"]),
                                                        ("password", conf["sentinel_password"])) if v}
        for key in ("username", "password"):
            if conf[key]:
                out[key] = conf[key]
        return out
    out = {}
    if parts.scheme == "unix":
        out["unix_socket_path"] = parts.path
        out["db"] = int(dict(parse_qsl(parts.query)).get("db") or 0)
    else:
        out.update(host=parts.hostname or "127.0.0.1", port=parts.port or 6379)
        if parts.scheme == "rediss":
            out["ssl"] = True
        out["db"] = int((parts.path or "/0").strip("/") or 0)
    if parts.password:
        out["password"] = unquote(parts.password)
    if parts.username:
        out["username"] = unquote(parts.username)
    return out
