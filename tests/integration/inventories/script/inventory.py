#!/usr/bin/env python3
"""An executable inventory script (the old dynamic inventory protocol)."""
import json
import sys

INVENTORY = {
    "_meta": {"hostvars": {
        "lb1": {"ansible_host": "198.51.100.5", "vip": "198.51.100.100"},
        "lb2": {"ansible_host": "198.51.100.6", "vip": "198.51.100.100", "backup": True},
        "cache-01": {"memory_mb": 4096, "eviction": ["lru", "ttl"]},
    }},
    "all": {"vars": {"managed_by": "script", "retries": 3}},
    "loadbalancers": {"hosts": ["lb1", "lb2"], "vars": {"haproxy": {"maxconn": 4000}}},
    "caches": {"hosts": ["cache-01"]},
    "edge": {"children": ["loadbalancers", "caches"], "vars": {"edge": True, "maxconn": 100}},
    "lone-host-group": {"hosts": ["lb1"]},
}

if len(sys.argv) > 1 and sys.argv[1] == "--list":
    json.dump(INVENTORY, sys.stdout)
elif len(sys.argv) > 2 and sys.argv[1] == "--host":
    json.dump(INVENTORY["_meta"]["hostvars"].get(sys.argv[2], {}), sys.stdout)
else:
    sys.exit("usage: inventory.py --list | --host HOST")
