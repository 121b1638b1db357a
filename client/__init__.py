# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Python client of the craton.fleet REST API (/v1): ``Client(url, token)``.

Independent of the server (only ``requests``)::

    from ansible_collections.craton.fleet.client import Client, ClientError

    client = Client("http://127.0.0.1:8080", token)
    for host in client.hosts.list(region_id=3):      # follows the pagination
        print(host["name"])
    web = client.hosts.create(name="web1", ip_address="10.0.0.1", variables={"wave": 1})
    client.hosts.variables(web["id"]).merge({"motd": "hello"})
    client.inventory.download(region_id=3, path="eu.tgz")
"""

from __future__ import annotations

from ansible_collections.craton.fleet.client.client import Client, ClientError

__all__ = ["Client", "ClientError"]
