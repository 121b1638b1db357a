#!/bin/sh
# An executable inventory script (the dynamic inventory protocol: --list, --host HOST).
case "$1" in
--list)
    cat <<'JSON'
{
  "_meta": {"hostvars": {
    "lb1": {"ansible_host": "198.51.100.5", "vip": "198.51.100.100"},
    "lb2": {"ansible_host": "198.51.100.6", "vip": "198.51.100.100", "backup": true},
    "cache-01": {"memory_mb": 4096, "eviction": ["lru", "ttl"], "note": "caf\u00e9 \u2615"}
  }},
  "all": {"vars": {"managed_by": "script", "retry_count": 3}},
  "loadbalancers": {"hosts": ["lb1", "lb2"], "vars": {"haproxy": {"maxconn": 4000}}},
  "caches": {"hosts": ["cache-01"]},
  "edge": {"children": ["loadbalancers", "caches"], "vars": {"is_edge": true, "maxconn": 100}},
  "lone-host-group": {"hosts": ["lb1"]}
}
JSON
    ;;
--host)
    echo '{}'
    ;;
*)
    echo "usage: $0 --list | --host HOST" >&2
    exit 2
    ;;
esac
