# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.vars_reference: a URL of a YAML file of group variables.

A reference is identified by its group and URL. ``order`` places it among the
group's references (lower first; later ones override earlier ones, and the
group's own variables override them all); a new reference without ``order``
goes last. ``sha256`` pins the content (``""`` removes the pin). Two
references of a group cannot share an order.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.craton.fleet.plugins.module_utils import fleet
from ansible_collections.craton.fleet.plugins.module_utils.errors import Conflict, CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY
from ansible_collections.craton.fleet.plugins.module_utils.resources import Change, Resource

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import VarsReference

SCHEMES = ("file", "http", "https")
URL_MAX = 2048
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_url(url, label):
    """``url`` if it is a file://, http:// or https:// URL that fits the column."""
    parts = urlsplit(url or "")
    if parts.scheme not in SCHEMES or not (parts.netloc or parts.path) or len(url) > URL_MAX:
        raise CratonError("%s: invalid url %r: use a file:///absolute/path, http:// or https:// URL of at most %d "
                          "characters" % (label, url, URL_MAX))
    if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        raise CratonError("%s: invalid url %r: file URLs are file:///absolute/path" % (label, url))
    return url


def check_sha256(value, label):
    """A sha256 hex digest in lower case, or None for ``""``."""
    if value == "":
        return None
    digest = value.strip().lower()
    if not _SHA256.match(digest):
        raise CratonError("%s: invalid sha256 %r: expected 64 hexadecimal digits" % (label, value))
    return digest


class VarsReferenceResource(Resource):
    """craton.fleet.vars_reference"""

    kind = "vars_reference"

    def plan(self, session):
        params = self.params
        tenant = fleet.get_tenant(session, params["tenant"])
        label = "vars reference %r of group %r of tenant %r" % (params["url"], params["group"], tenant.name)
        check_url(params["url"], label)
        try:
            self.group = fleet.get_group(session, tenant, params["group"])
        except NotFound as e:
            raise NotFound("%s: %s" % (label, e)) from None
        refs = list(session.scalars(sa.select(VarsReference).where(VarsReference.group_id == self.group.id)))
        self.row = row = next((ref for ref in refs if ref.url == params["url"]), None)
        base = {"tenant": tenant.name, "group": self.group.name, "url": params["url"]}
        before = dict(base, sha256=row.sha256, order=row.position) if row is not None else None
        after = None
        if params["state"] == "present":
            after = dict(before) if before else dict(base, sha256=None, order=None)
            if params.get("sha256") is not None:
                after["sha256"] = check_sha256(params["sha256"], label)
            if params.get("order") is not None:
                after["order"] = params["order"]
            elif after["order"] is None:
                after["order"] = max([ref.position for ref in refs] or [-1]) + 1
            taken = next((ref for ref in refs if ref.position == after["order"] and ref is not row), None)
            if taken is not None:
                raise Conflict("%s: order %d is taken by vars reference %r; give another order"
                               % (label, after["order"], taken.url))
        return [Change(label, before, after, identity=("tenant", "group", "url"))]

    def write(self, session, changes):
        after, row = changes[0].after, self.row
        if after is None:
            session.execute(sa.delete(VarsReference).where(VarsReference.id == row.id))
            return
        if row is None:
            row = VarsReference(group_id=self.group.id, url=after["url"])
            session.add(row)
        row.sha256, row.position = after["sha256"], after["order"]
