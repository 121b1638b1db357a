# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the reachability seen by a run back to the fleet database.

A run ends with an outcome per host (:func:`outcome`); :func:`record` writes
``hosts.last_status``, ``last_error`` and ``last_seen_at`` of all of them in one
transaction with two bulk UPDATE statements, so the inventory plugin's
``reachable`` filter can use them next time.

* ``last_status``: the host's final status in the run: ``ok``, ``changed``,
  ``failed`` or ``unreachable`` (``events.FINAL_STATUSES`` minus ``skipped``).
* ``last_error``: the short error text of the last failed or unreachable result,
  NULL when the host ended ``ok`` or ``changed``.
* ``last_seen_at``: when the host last gave a result other than unreachable
  (naive UTC); left unchanged when the run never reached it.

A host whose results were all skipped is not written (the run learnt nothing
about it). Hosts are matched by name, within ``tenant`` when given; a name found
in several tenants without ``tenant`` is not written and reported as ambiguous,
a name not in the database is reported as unknown.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from ansible_collections.craton.fleet.plugins.module_utils.db import run_in_transaction
from ansible_collections.craton.fleet.plugins.module_utils.events import FINAL_STATUSES
from ansible_collections.craton.fleet.plugins.module_utils.models import HAS_SQLALCHEMY

if HAS_SQLALCHEMY:
    import sqlalchemy as sa
    from ansible_collections.craton.fleet.plugins.module_utils.models import Host, Tenant

# A host whose results were all skipped taught the run nothing about it.
WRITTEN_STATUSES = tuple(s for s in FINAL_STATUSES if s != "skipped")
_CHUNK = 500


def utc_naive(epoch):
    """An epoch timestamp as the naive UTC datetime stored in the database."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)


def outcome(status, error=None, seen_at=None):
    """One host's outcome for :func:`record`, or None when there is nothing to write."""
    if status not in WRITTEN_STATUSES:
        return None
    return {"status": status,
            "error": error if status in ("failed", "unreachable") else None,
            "seen_at": utc_naive(seen_at) if seen_at else None}


def record(engine, outcomes, tenant=None):
    """Write ``{host name: outcome(...)}`` in one transaction.

    Returns ``{"updated": n, "unknown": [names], "ambiguous": [names]}``. Raises
    CratonError when the database cannot be used."""
    outcomes = {name: o for name, o in outcomes.items() if o}

    def work(session):
        ids = defaultdict(list)
        names = sorted(outcomes)
        for start in range(0, len(names), _CHUNK):
            stmt = (sa.select(Host.id, Host.name).join(Tenant, Tenant.id == Host.tenant_id)
                    .where(Host.name.in_(names[start:start + _CHUNK])))
            if tenant:
                stmt = stmt.where(Tenant.name == tenant)
            for host_id, name in session.execute(stmt):
                ids[name].append(host_id)
        seen, unseen, unknown, ambiguous = [], [], [], []
        for name in names:
            found = ids.get(name, [])
            if not found:
                unknown.append(name)
                continue
            if len(found) > 1:
                ambiguous.append(name)
                continue
            o = outcomes[name]
            row = {"id": found[0], "last_status": o["status"], "last_error": o["error"]}
            if o["seen_at"]:
                row["last_seen_at"] = o["seen_at"]
                seen.append(row)
            else:
                unseen.append(row)
        for rows in (seen, unseen):
            if rows:
                session.execute(sa.update(Host), rows)
        return {"updated": len(seen) + len(unseen), "unknown": unknown, "ambiguous": ambiguous}

    if not outcomes:
        return {"updated": 0, "unknown": [], "ambiguous": []}
    return run_in_transaction(engine, work)
