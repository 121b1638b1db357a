# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet database connection option, documented once.

``DOCUMENTATION`` is for plugins (inventory, lookups: ``env:`` is read by Ansible's
config manager); ``MODULES`` (``craton.fleet.database.modules``) is for modules,
whose arg spec (``module_utils/fleet_module.py``) reads the same environment
variable through ``env_fallback``.
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Doc fragment: craton.fleet.database"""

    DOCUMENTATION = r"""
options:
  database_url:
    description:
      - SQLAlchemy URL of the fleet database.
      - C(sqlite:////path/to/fleet.db) for a SQLite file, or
        C(mysql+pymysql://user:password@host:3306/database) for MySQL/MariaDB (Galera, Percona XtraDB).
      - For a Galera cluster, list every node, C(mysql+pymysql://user:password@db1:3306,db2:3306,db3:3306/fleet);
        each new connection goes to the first node that answers and is ready (docs/deployment.md).
      - When unset, the SQLite file C($XDG_DATA_HOME/craton/fleet.db) (C(~/.local/share/craton/fleet.db)).
      - The database must be at the schema revision of this collection (C(craton db upgrade)).
      - The password in the URL is never shown in output, logs or errors.
    type: str
    env:
      - name: CRATON_DATABASE_URL
"""

    MODULES = r"""
options:
  database_url:
    description:
      - SQLAlchemy URL of the fleet database.
      - C(sqlite:////path/to/fleet.db) for a SQLite file, or
        C(mysql+pymysql://user:password@host:3306/database) for MySQL/MariaDB (Galera, Percona XtraDB).
      - For a Galera cluster, list every node, C(mysql+pymysql://user:password@db1:3306,db2:3306,db3:3306/fleet);
        each new connection goes to the first node that answers and is ready (docs/deployment.md).
      - If not set, the environment variable E(CRATON_DATABASE_URL) of the controller is used, and when that
        is unset too the SQLite file C($XDG_DATA_HOME/craton/fleet.db) (C(~/.local/share/craton/fleet.db)).
      - The database must be at the schema revision of this collection (C(craton db upgrade)).
      - The password in the URL is masked in the task result, logs and error messages.
    type: str
requirements:
  - sqlalchemy >= 2.0
  - pymysql (for MySQL/MariaDB)
  - cryptography (for secrets)
notes:
  - The modules of this collection run on the Ansible controller, with the controller's Python
    (C(ansible_playbook_python), never interpreter discovery), whatever host the play targets. Their action
    plugins do this for you; C(delegate_to) is not needed, the targeted host is never contacted, and
    C(become) is not applied. The Python packages above are needed on the controller only.
  - A task delegated to a host that uses the C(local) connection runs on the controller the same way. A task
    delegated to another host runs there, with that host's interpreter; the packages above, the database
    and the secret key must then be reachable from that host.
  - Set the database of every craton.fleet module of a play at once with
    C(module_defaults) for the action group C(group/craton.fleet.fleet) (for example O(database_url)).
  - Every task is one database transaction; either all of its changes are written, or none. Deadlocks
    and Galera certification failures are retried inside the task.
"""
