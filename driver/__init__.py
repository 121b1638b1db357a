# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``craton run`` driver: TaskFlow runs a playbook host by host (or batch by batch).

* :mod:`.run_spec` — what a run is: playbook, inventory, host batches, options (JSON);
* :mod:`.flow` — the TaskFlow flow made from a run spec (also by conductors);
* :mod:`.playbook_task` — the task that runs ``ansible-playbook --limit`` for one batch,
  and the retry controller that retries unreachable hosts;
* :mod:`.state` — TaskFlow's SQLAlchemy persistence (its own Alembic version table);
* :mod:`.processes` — the ``ansible-playbook`` children: started, tracked, stopped;
* :mod:`.reporter` — TaskFlow notifications to the run's Redis stream (events.py schema);
* :mod:`.terminal` — progress bar or plain lines, and the final summary;
* :mod:`.runner` — a run from start (or resume) to exit code.

Nothing here is imported by ``craton`` unless the ``run`` subcommand runs.
"""

from __future__ import annotations
