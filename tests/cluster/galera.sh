#!/usr/bin/env bash
# A throw-away three-node MariaDB Galera cluster on 127.0.0.1, for tests and benchmarks.
#
#   tests/cluster/galera.sh start   [BASEDIR]   fresh cluster (a stale one is stopped and wiped first)
#   tests/cluster/galera.sh stop    [BASEDIR]   stop every node, remove BASEDIR
#   tests/cluster/galera.sh status  [BASEDIR]   one line per node; exit 1 unless all three are synced
#   tests/cluster/galera.sh kill N  [BASEDIR]   kill -9 node N (1..3), as a crash would
#   tests/cluster/galera.sh restart N [BASEDIR] start node N again; it rejoins (IST) and waits for Synced
#   tests/cluster/galera.sh urls    [BASEDIR]   the three single-node SQLAlchemy URLs, one a line
#
# BASEDIR defaults to build/galera (or $CRATON_GALERA_DIR). Node N has its data in
# BASEDIR/nodeN, SQL on 127.0.0.1:331N, group communication on 457N, IST on 458N and
# rsync SST on 459N. root has an empty password over TCP; database `test` exists.
# Needs /usr/sbin/mariadbd, /usr/lib/galera/libgalera_smm.so (Debian: mariadb-server,
# galera-4) and rsync. As root the servers run as user mysql (BASEDIR must be reachable by it);
# otherwise as the calling user.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
GALERA_LIB=${GALERA_LIB:-/usr/lib/galera/libgalera_smm.so}
NODES=(1 2 3)

die() { echo "galera.sh: $*" >&2; exit 1; }

cmd=${1:-}
[ -n "$cmd" ] || die "usage: galera.sh start|stop|status|urls [BASEDIR] | kill|restart N [BASEDIR]"
shift
node_arg=
if [ "$cmd" = kill ] || [ "$cmd" = restart ]; then
    node_arg=${1:-}
    case "$node_arg" in 1|2|3) ;; *) die "$cmd needs a node number 1, 2 or 3, got '${node_arg}'" ;; esac
    shift
fi
BASE=${1:-${CRATON_GALERA_DIR:-$HERE/../../build/galera}}
mkdir -p "$BASE"
BASE="$(cd "$BASE" && pwd)"

sql_port() { echo $((3310 + $1)); }
dir_of() { echo "$BASE/node$1"; }
sock_of() { echo "$(dir_of "$1")/mysqld.sock"; }
pid_of() {  # the server's pid file, else the pid launch() recorded (a joiner writes its own late)
    cat "$(dir_of "$1")/mysqld.pid" 2>/dev/null || cat "$(dir_of "$1")/launch.pid" 2>/dev/null || true
}

client() {  # client N SQL...: run SQL on node N over its socket, tab-separated, no headers
    local n=$1; shift
    mariadb --no-defaults -S "$(sock_of "$n")" -u root -N -B --connect-timeout=2 -e "$*" 2>/dev/null
}

wsrep_var() {  # wsrep_var N NAME
    client "$1" "SHOW STATUS LIKE '$2'" | cut -f2
}

check_binaries() {
    [ -x "$MARIADBD" ] || die "no MariaDB server at $MARIADBD (Debian: apt-get install mariadb-server)"
    [ -r "$GALERA_LIB" ] || die "no Galera library at $GALERA_LIB (Debian: apt-get install galera-4)"
    command -v mariadb-install-db >/dev/null || die "mariadb-install-db is not on PATH (Debian: mariadb-server)"
    command -v mariadb >/dev/null || die "the mariadb client is not on PATH (Debian: mariadb-client)"
    command -v rsync >/dev/null || die "rsync is not on PATH (Galera's rsync SST needs it; Debian: rsync)"
}

run_user() {
    # As root the servers run as `mysql`: rsync's SST daemon started by root would switch to
    # `nobody` and could not write the joiner's data directory.
    if [ "$(id -u)" = 0 ] && id mysql >/dev/null 2>&1; then echo mysql; else id -un; fi
}

write_config() {  # write_config N
    local n=$1 d
    d=$(dir_of "$n")
    mkdir -p "$d/data" "$d/tmp"
    [ "$(run_user)" = "$(id -un)" ] || chown -R "$(run_user)" "$d"
    cat > "$d/my.cnf" <<EOF
[mysqld]
user=$(run_user)
datadir=$d/data
tmpdir=$d/tmp
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
port=$(sql_port "$n")
bind-address=127.0.0.1
skip-name-resolve
skip-log-bin
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
max_connections=300
# Galera needs these three:
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
# A test cluster: small and fast, not durable on power loss (Galera's other nodes are the durability).
innodb_buffer_pool_size=128M
innodb_log_file_size=64M
innodb_flush_log_at_trx_commit=0
performance_schema=OFF
wsrep_on=ON
wsrep_provider=$GALERA_LIB
wsrep_cluster_name=craton_test_cluster
wsrep_cluster_address=gcomm://127.0.0.1:4571,127.0.0.1:4572,127.0.0.1:4573
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:$((4570 + n))
wsrep_node_incoming_address=127.0.0.1:$(sql_port "$n")
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$((4570 + n));ist.recv_addr=127.0.0.1:$((4580 + n));gcache.size=128M;gcache.recover=yes;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$((4590 + n))
wsrep_slave_threads=2
# Reads wait until this node has applied every write the cluster committed before them
# (read-your-writes across nodes).
wsrep_sync_wait=1
EOF
}

node_running() {  # the pid of node N's server when it runs
    local pid
    pid=$(pid_of "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop_node() {  # stop_node N SIGNAL: signal the server and wait until it is gone
    local n=$1 sig=$2 pid i
    pid=$(node_running "$n") || true
    # A server started by an earlier run whose pid file is gone: find it by its config file.
    if [ -z "$pid" ]; then
        pid=$(pgrep -f -- "--defaults-file=$(dir_of "$n")/my.cnf" | head -1 || true)
    fi
    if [ -n "$pid" ]; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for i in $(seq 300); do
            kill -0 "$pid" 2>/dev/null || break
            [ "$i" = 200 ] && kill -9 "$pid" 2>/dev/null
            sleep 0.1
        done
    fi
    rm -f "$(dir_of "$n")/mysqld.sock" "$(dir_of "$n")/mysqld.sock.lock" "$(dir_of "$n")/mysqld.pid" "$(dir_of "$n")/launch.pid"
}

launch() {  # launch N [EXTRA ARGS]: start node N's server in the background
    local n=$1; shift
    local d
    d=$(dir_of "$n")
    setsid "$MARIADBD" --defaults-file="$d/my.cnf" "$@" </dev/null >>"$d/console.log" 2>&1 &
    echo $! > "$d/launch.pid"
}

wait_synced() {  # wait_synced N SECONDS: until node N is Synced (wsrep_local_state 4) and ready
    local n=$1 limit=$2 i
    for i in $(seq $((limit * 5))); do
        if [ "$(wsrep_var "$n" wsrep_local_state)" = 4 ] && [ "$(wsrep_var "$n" wsrep_ready)" = ON ]; then
            return 0
        fi
        if [ -z "$(node_running "$n")" ] && [ "$i" -gt 25 ]; then
            break
        fi
        sleep 0.2
    done
    echo "galera.sh: node $n did not become Synced; last lines of $(dir_of "$n")/error.log:" >&2
    tail -n 20 "$(dir_of "$n")/error.log" >&2 || true
    return 1
}

recovered_position() {  # the uuid:seqno node N's InnoDB committed last (after a crash)
    local n=$1 d log
    d=$(dir_of "$n")
    log="$d/recover.log"
    rm -f "$log"
    "$MARIADBD" --defaults-file="$d/my.cnf" --wsrep-recover --log-error="$log" >/dev/null 2>&1 || true
    sed -n 's/.*WSREP: Recovered position: *\([^ ]*\).*/\1/p' "$log" | tail -1
}

do_stop() {
    local n
    for n in "${NODES[@]}"; do stop_node "$n" TERM; done
    rm -rf "$BASE"
}

do_start() {
    check_binaries
    local n
    # Whatever an earlier run left: stop it and start from empty directories.
    for n in "${NODES[@]}"; do stop_node "$n" KILL; rm -rf "$(dir_of "$n")"; done
    local port
    for port in 3311 3312 3313 4571 4572 4573; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "127.0.0.1:$port is in use (a cluster started in another BASEDIR? galera.sh stop THAT_DIR)"
        fi
    done
    if [ "$(run_user)" != "$(id -un)" ]; then
        chmod 755 "$BASE"
        runuser -u "$(run_user)" -- test -x "$BASE/." \
            || die "user $(run_user) cannot reach $BASE (a parent directory is not searchable): use a BASEDIR under /tmp"
    fi
    for n in "${NODES[@]}"; do write_config "$n"; done
    mariadb-install-db --defaults-file="$(dir_of 1)/my.cnf" --auth-root-authentication-method=normal \
        --skip-test-db >"$(dir_of 1)/install.log" 2>&1 \
        || { tail -n 20 "$(dir_of 1)/install.log" >&2; die "mariadb-install-db failed for node 1"; }
    launch 1 --wsrep-new-cluster
    wait_synced 1 30 || die "node 1 did not bootstrap the cluster"
    client 1 "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
              GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
              CREATE DATABASE IF NOT EXISTS test CHARACTER SET utf8mb4;" \
        || die "cannot create root@127.0.0.1 and database test on node 1"
    # Nodes 2 and 3 start from a copy of node 1's stopped data directory: the same
    # cluster state (grastate.dat), so they join without a state transfer (an rsync SST
    # takes ~8 s per node here). After a crash a node catches up by IST (restart).
    stop_node 1 TERM
    for n in 2 3; do
        rm -rf "$(dir_of "$n")/data"
        cp -a "$(dir_of 1)/data" "$(dir_of "$n")/data"
        rm -f "$(dir_of "$n")/data/galera.cache" "$(dir_of "$n")/data/gvwstate.dat"
    done
    launch 1 --wsrep-new-cluster
    wait_synced 1 30 || die "node 1 did not bootstrap the cluster again"
    launch 2
    launch 3
    for n in 2 3; do
        wait_synced "$n" 60 || die "node $n did not join the cluster"
    done
    [ "$(wsrep_var 1 wsrep_cluster_size)" = 3 ] || die "cluster size is $(wsrep_var 1 wsrep_cluster_size), expected 3"
    do_urls
}

do_status() {
    local n ok=0 state size
    for n in "${NODES[@]}"; do
        if [ -z "$(node_running "$n")" ]; then
            echo "node$n 127.0.0.1:$(sql_port "$n") down"
            ok=1
            continue
        fi
        state=$(wsrep_var "$n" wsrep_local_state_comment || true)
        size=$(wsrep_var "$n" wsrep_cluster_size || true)
        echo "node$n 127.0.0.1:$(sql_port "$n") ${state:-unknown} cluster_size=${size:-?}"
        [ "$state" = Synced ] && [ "$size" = 3 ] || ok=1
    done
    return $ok
}

do_kill() {
    local n=$1
    [ -n "$(node_running "$n")" ] || die "node $n is not running"
    kill -9 "$(pid_of "$n")"
    # The server is gone; its pid and socket files stay, as after a real crash.
    for _ in $(seq 50); do
        [ -z "$(node_running "$n")" ] && return 0
        sleep 0.1
    done
    die "node $n is still running after kill -9"
}

do_restart() {
    local n=$1 position
    check_binaries
    [ -z "$(node_running "$n")" ] || die "node $n is running; kill it first"
    rm -f "$(sock_of "$n")" "$(sock_of "$n").lock" "$(dir_of "$n")/mysqld.pid" "$(dir_of "$n")/launch.pid"
    # As mysqld_safe does: recover the last committed position so the node asks for IST.
    position=$(recovered_position "$n")
    if [ -n "$position" ]; then
        launch "$n" --wsrep-start-position="$position"
    else
        launch "$n"
    fi
    wait_synced "$n" 60 || die "node $n did not rejoin the cluster"
    echo "node$n rejoined at ${position:-an unknown position}"
}

do_urls() {
    local n
    for n in "${NODES[@]}"; do echo "mysql+pymysql://root@127.0.0.1:$(sql_port "$n")/test"; done
}

case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    kill) do_kill "$node_arg" ;;
    restart) do_restart "$node_arg" ;;
    urls) do_urls ;;
    *) die "unknown command '$cmd': use start, stop, status, urls, kill N or restart N" ;;
esac
