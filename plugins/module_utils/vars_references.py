# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group variables from references: YAML files behind file://, http:// and https:// URLs.

A group's ``vars_references`` are fetched (HTTP with ``requests`` and a timeout;
``file://`` read from disk), checked against their pinned sha256 when there is
one, parsed as YAML (a mapping of variable names to values) and merged under
the group's own variables in position order (see ``precedence``). Each URL is
fetched once per :class:`ReferenceFetcher` (one per run). A failure is a
CratonError naming the group and the URL; with ``on_error="warn"`` the reference
is skipped and the message becomes a warning instead.
"""

from __future__ import annotations

import hashlib
import os
import traceback
from urllib.parse import unquote, urlsplit

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.names import check_var_name

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False


def _requests():
    """The requests module, imported on first use (most inventories fetch nothing over HTTP)."""
    try:
        import requests  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise _ReferenceError("the Python package requests is needed to fetch http(s) references: %s"
                              % traceback.format_exc().strip().splitlines()[-1]) from None
    return requests


DEFAULT_TIMEOUT = 10.0
MAX_BYTES = 16 * 1024 * 1024
ON_ERROR = ("error", "warn")


class _ReferenceError(Exception):
    pass


class ReferenceFetcher:
    """Fetches and parses reference URLs, each at most once."""

    def __init__(self, timeout=DEFAULT_TIMEOUT):
        self.timeout = timeout
        self._raw = {}
        self._http = None

    def fetch(self, url):
        """The bytes behind ``url`` (cached); raises _ReferenceError."""
        if url not in self._raw:
            try:
                self._raw[url] = self._fetch(url)
            except _ReferenceError as e:
                self._raw[url] = e
        found = self._raw[url]
        if isinstance(found, _ReferenceError):
            raise found
        return found

    def _fetch(self, url):
        parts = urlsplit(url)
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise _ReferenceError("file URLs must be file:///absolute/path")
            path = unquote(parts.path)
            try:
                with open(path, "rb") as f:
                    data = f.read(MAX_BYTES + 1)
            except OSError as e:
                raise _ReferenceError("cannot read %s: %s" % (path, e.strerror or e)) from None
        elif parts.scheme in ("http", "https"):
            data = self._get(url)
        else:
            raise _ReferenceError("unsupported URL scheme %r: use file://, http:// or https://"
                                  % (parts.scheme or ""))
        if len(data) > MAX_BYTES:
            raise _ReferenceError("larger than %d bytes" % MAX_BYTES)
        return data

    def _get(self, url):
        requests = _requests()
        if self._http is None:
            self._http = requests.Session()
            self._http.headers["User-Agent"] = "craton.fleet"
        try:
            response = self._http.get(url, timeout=self.timeout, stream=True)
            try:
                if response.status_code != 200:
                    raise _ReferenceError("HTTP %d %s" % (response.status_code, response.reason or ""))
                data = response.raw.read(MAX_BYTES + 1, decode_content=True)
            finally:
                response.close()
        except requests.Timeout:
            raise _ReferenceError("timed out after %gs" % self.timeout) from None
        except requests.RequestException as e:
            raise _ReferenceError("cannot fetch: %s" % _short(e)) from None
        return data

    def load(self, url, sha256=None):
        """The variables in the YAML file at ``url``; raises _ReferenceError."""
        data = self.fetch(url)
        if sha256:
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha256.lower():
                raise _ReferenceError("sha256 mismatch: expected %s, got %s" % (sha256.lower(), digest))
        if not HAS_YAML:
            raise _ReferenceError("the Python package PyYAML is needed to parse references")
        try:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            variables = yaml.load(data, Loader=loader)  # nosec: a safe loader
        except yaml.YAMLError as e:
            raise _ReferenceError("invalid YAML: %s" % _short(e)) from None
        if variables is None:
            return {}
        if not isinstance(variables, dict):
            raise _ReferenceError("expected a YAML mapping of variable names to values, got a %s"
                                  % type(variables).__name__)
        for key in variables:
            try:
                check_var_name(key)
            except CratonError as e:
                raise _ReferenceError(str(e)) from None
        return variables


def _short(error):
    text = " ".join(str(error).split())
    return text[:300] if text else type(error).__name__


def resolve_references(inventory, fetcher=None, on_error="error", trusted=False):
    """Fetch every group's references; store them as ``resolved_references``.

    Each resolved reference is {"url", "position", "vars", "trusted"}. Returns
    the list of warnings (only with ``on_error="warn"``)."""
    if on_error not in ON_ERROR:
        raise CratonError("invalid vars_references_on_error %r: use error or warn" % (on_error,))
    fetcher = fetcher or ReferenceFetcher()
    warnings = []
    for group in inventory["groups"]:
        resolved = []
        for ref in group.get("references", ()):
            try:
                variables = fetcher.load(ref["url"], ref.get("sha256"))
            except _ReferenceError as e:
                message = "vars reference %s of group %r: %s" % (_display_url(ref["url"]), group["name"], e)
                if on_error == "error":
                    raise CratonError(message) from None
                warnings.append(message + "; skipped")
                continue
            resolved.append({"url": ref["url"], "position": ref["position"], "vars": variables,
                             "trusted": bool(trusted)})
        group["resolved_references"] = resolved
    return warnings


def _display_url(url):
    """The URL without a password, fit for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = "%s:***@%s" % (parts.username or "", parts.hostname or "")
        if parts.port:
            netloc += ":%d" % parts.port
        return parts._replace(netloc=netloc).geturl()
    return url


def file_url(path):
    """The file:// URL of a local path."""
    return "file://" + os.path.abspath(path)
