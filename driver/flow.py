# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TaskFlow flow of a run, made from its spec (a TaskFlow flow factory).

An unordered flow of one linear subflow per batch (one host by default); each
subflow is a :class:`~.playbook_task.PlaybookBatch` under its own
:class:`~.playbook_task.RetryUnreachable` controller (``--retries K``: K + 1 attempts).
TaskFlow stores this factory's name and its argument (the spec) with the run, so
``--resume`` and conductors rebuild the same flow (``engines.flow_from_detail``).
"""

from __future__ import annotations

from taskflow.patterns import linear_flow, unordered_flow

from ansible_collections.craton.fleet.driver.playbook_task import PlaybookBatch, RetryUnreachable

FACTORY = "ansible_collections.craton.fleet.driver.flow.make_flow"


def flow_name(run_id):
    return "craton-run:%s" % run_id


def make_flow(spec):
    """The flow of the run described by ``spec`` (see run_spec)."""
    attempts = int(spec.get("retries") or 0) + 1
    flow = unordered_flow.Flow(flow_name(spec["run_id"]))
    for name, hosts in zip(spec["names"], spec["batches"]):
        sub = linear_flow.Flow("batch-flow:" + name, retry=RetryUnreachable("retry:" + name, attempts))
        sub.add(PlaybookBatch(name, hosts, spec, attempts))
        flow.add(sub)
    return flow


def batch_tasks(flow):
    """The PlaybookBatch atoms of a flow built by :func:`make_flow`."""
    out = []
    for sub in flow:
        for atom in sub:
            if isinstance(atom, PlaybookBatch):
                out.append(atom)
    return out
