#!/usr/bin/env bash
# A throw-away Redis with Sentinel on 127.0.0.1, for tests: one primary, one replica, three sentinels.
#
#   tests/cluster/sentinel.sh start  [BASEDIR]   fresh setup (a stale one in BASEDIR is stopped and wiped first)
#   tests/cluster/sentinel.sh stop   [BASEDIR]   stop every process, remove BASEDIR
#   tests/cluster/sentinel.sh status [BASEDIR]   one line per process; exit 1 unless all five answer
#   tests/cluster/sentinel.sh url    [BASEDIR]   the redis+sentinel:// URL of the setup
#
# BASEDIR defaults to build/sentinel (or $CRATON_SENTINEL_DIR). Ports: $CRATON_SENTINEL_PORT (default
# 16391) is redis-1 (the first primary), +1 redis-2 (its replica), +2..+4 sentinel-1..3. The service is
# "craton" ($CRATON_SENTINEL_SERVICE); quorum 2, down-after-milliseconds 1000, failover-timeout 3000,
# so that a killed primary is replaced within a few seconds. Nothing is kept on disk (no RDB, no AOF).
# Process N's files (config, pid, log) are in BASEDIR/NAME; the ports are recorded in BASEDIR/ports.
# Needs redis-server (Debian: redis-server; sentinels are `redis-server CONF --sentinel`) and redis-cli.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
NAMES=(redis-1 redis-2 sentinel-1 sentinel-2 sentinel-3)

die() { echo "sentinel.sh: $*" >&2; exit 1; }

cmd=${1:-}
[ -n "$cmd" ] || die "usage: sentinel.sh start|stop|status|url [BASEDIR]"
BASE=${2:-${CRATON_SENTINEL_DIR:-$HERE/../../build/sentinel}}

absolute_base() {
    mkdir -p "$BASE"
    BASE="$(cd "$BASE" && pwd)"
}

load_ports() {  # from BASEDIR/ports (a started setup), else from the environment
    PORT=${CRATON_SENTINEL_PORT:-16391}
    SERVICE=${CRATON_SENTINEL_SERVICE:-craton}
    if [ -f "$BASE/ports" ]; then
        # shellcheck disable=SC1091
        . "$BASE/ports"
    fi
    case "$PORT" in ''|*[!0-9]*) die "CRATON_SENTINEL_PORT must be a port number, got '$PORT'" ;; esac
}

port_of() {  # port_of NAME
    local i
    for i in "${!NAMES[@]}"; do
        [ "${NAMES[$i]}" = "$1" ] && { echo $((PORT + i)); return; }
    done
    die "no process named $1"
}

cli() {  # cli NAME ARGS...: one command to process NAME, at most 2 s
    timeout 2 "$REDIS_CLI" -h 127.0.0.1 -p "$(port_of "$1")" "${@:2}" 2>/dev/null
}

answers() { [ "$(cli "$1" PING)" = PONG ]; }

ours() {  # ours PID NAME: PID is a live redis-server whose working directory is NAME's (never someone else's)
    [ -n "$1" ] && [ -d "/proc/$1" ] && [ "$(readlink "/proc/$1/cwd" 2>/dev/null)" = "$BASE/$2" ]
}

url() {
    echo "redis+sentinel://127.0.0.1:$((PORT + 2)),127.0.0.1:$((PORT + 3)),127.0.0.1:$((PORT + 4))/$SERVICE/0"
}

stop() {
    local name pid pids=() tries
    [ -d "$BASE" ] || return 0
    absolute_base
    for name in "${NAMES[@]}"; do
        pid=$(cat "$BASE/$name/pid" 2>/dev/null || true)
        if ours "$pid" "$name"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid:$name")
        fi
    done
    for tries in $(seq 50); do
        local alive=0 entry
        for entry in "${pids[@]}"; do
            ours "${entry%%:*}" "${entry#*:}" && alive=1
        done
        [ $alive = 0 ] && break
        [ "$tries" = 50 ] || sleep 0.1
    done
    for entry in "${pids[@]}"; do
        if ours "${entry%%:*}" "${entry#*:}"; then
            kill -KILL "${entry%%:*}" 2>/dev/null || true
        fi
    done
    rm -rf "$BASE"
}

# The lines every redis-server and sentinel configuration starts with.
process_conf() {
    cat <<EOF
port $(port_of "$1")
bind 127.0.0.1
daemonize yes
pidfile $BASE/$1/pid
logfile $BASE/$1/log
dir $BASE/$1
EOF
}

write_configs() {
    local name primary=$((PORT))
    for name in "${NAMES[@]}"; do
        mkdir -p "$BASE/$name"
    done
    for name in redis-1 redis-2; do
        { process_conf "$name"; cat <<EOF
save ""
appendonly no
repl-diskless-sync yes
repl-diskless-sync-delay 0
EOF
        } > "$BASE/$name/redis.conf"
    done
    echo "replicaof 127.0.0.1 $primary" >> "$BASE/redis-2/redis.conf"
    for name in sentinel-1 sentinel-2 sentinel-3; do
        { process_conf "$name"; cat <<EOF
sentinel monitor $SERVICE 127.0.0.1 $primary 2
sentinel down-after-milliseconds $SERVICE 1000
sentinel failover-timeout $SERVICE 3000
sentinel parallel-syncs $SERVICE 1
EOF
        } > "$BASE/$name/sentinel.conf"
    done
}

wait_until() {  # wait_until SECONDS WHAT COMMAND...
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@"; do
        [ $SECONDS -lt $deadline ] || { status >&2 || true; die "timed out waiting for $what"; }
        sleep 0.1
    done
}

replica_linked() { cli redis-2 INFO replication | tr -d '\r' | grep -q '^master_link_status:up$'; }

sentinel_ready() {  # every sentinel knows the primary, its replica and the two other sentinels
    local name info
    for name in sentinel-1 sentinel-2 sentinel-3; do
        info=$(cli "$name" SENTINEL master "$SERVICE" | tr -d '\r' | paste -sd' ') || return 1
        [[ " $info " == *" num-slaves 1 "* ]] || return 1
        [[ " $info " == *" num-other-sentinels 2 "* ]] || return 1
        [[ " $info " == *" flags master "* ]] || return 1
    done
}

start() {
    local name port
    [ -x "$REDIS_SERVER" ] || die "no redis-server at $REDIS_SERVER (Debian: apt-get install redis-server)"
    [ -x "$REDIS_CLI" ] || die "no redis-cli at $REDIS_CLI (Debian: apt-get install redis-tools)"
    stop
    absolute_base
    unset PORT SERVICE
    load_ports   # this run's ports (the environment), not the stale run's
    for name in "${NAMES[@]}"; do
        port=$(port_of "$name")
        if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
            die "port $port ($name) is in use on 127.0.0.1: set CRATON_SENTINEL_PORT to another base port"
        fi
    done
    printf 'PORT=%s\nSERVICE=%s\n' "$PORT" "$SERVICE" > "$BASE/ports"
    write_configs
    for name in redis-1 redis-2; do
        (cd "$BASE/$name" && "$REDIS_SERVER" "$BASE/$name/redis.conf") >/dev/null \
            || die "redis-server $name did not start (see $BASE/$name/log)"
    done
    for name in redis-1 redis-2; do
        wait_until 20 "$name to answer on port $(port_of "$name")" answers "$name"
    done
    wait_until 20 "redis-2 to replicate redis-1" replica_linked
    for name in sentinel-1 sentinel-2 sentinel-3; do
        (cd "$BASE/$name" && "$REDIS_SERVER" "$BASE/$name/sentinel.conf" --sentinel) >/dev/null \
            || die "sentinel $name did not start (see $BASE/$name/log)"
    done
    wait_until 30 "the sentinels to know the primary, the replica and each other" sentinel_ready
    url > "$BASE/url"
    url
}

status() {
    local name role ok=0 primary
    for name in "${NAMES[@]}"; do
        if answers "$name"; then
            if [[ $name == sentinel-* ]]; then
                primary=$(cli "$name" SENTINEL get-master-addr-by-name "$SERVICE" | paste -sd:)
                echo "$name 127.0.0.1:$(port_of "$name") up, primary $primary"
            else
                role=$(cli "$name" ROLE | head -1)
                echo "$name 127.0.0.1:$(port_of "$name") up, $role"
            fi
        else
            echo "$name 127.0.0.1:$(port_of "$name") down"
            ok=1
        fi
    done
    return $ok
}

load_ports
case "$cmd" in
    start) start ;;
    stop) stop ;;
    status)
        [ -d "$BASE" ] || die "no setup in $BASE (run: sentinel.sh start $BASE)"
        BASE="$(cd "$BASE" && pwd)"
        status ;;
    url) url ;;
    *) die "unknown command '$cmd': use start, stop, status or url" ;;
esac
