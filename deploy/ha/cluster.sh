#!/usr/bin/env bash
# A PostgreSQL 15 pair managed by Patroni, with etcd as its consensus store,
# all on loopback in one directory: a primary and a synchronous standby.
# For tests and for trying the failover by hand; the configuration is
# deploy/ha/patroni.yml.in (docs/high-availability.md).
#
#   cluster.sh start DIR        etcd + node1 + node2 on free ports; waits for a
#                               primary and a synchronous standby, creates the
#                               database "xinfang"; prints the multi-host URL.
#                               DIR/cluster.env holds the ports and the URLs.
#   cluster.sh stop DIR         stops both nodes and etcd
#   cluster.sh primary DIR      prints the name of the node that is primary now
#   cluster.sh wait-primary DIR [SECONDS]   waits for a primary (default 60 s)
#   cluster.sh wait-sync DIR [SECONDS]      waits for a synchronous standby
#   cluster.sh kill NODE DIR    kill -9 of the node's Patroni and postmaster:
#                               the machine is lost
#   cluster.sh start-node NODE DIR  starts a node again (it rejoins as a standby)
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
HA_DIR=$(cd "$(dirname "$0")" && pwd)

die() { echo "cluster.sh: $*" >&2; exit 1; }

# ha_port VAR: sets VAR to a free port above the last one handed out.
HA_NEXT_PORT=$((42000 + RANDOM % 8000))
ha_port() {
  local p
  p=$(xf_free_port "$HA_NEXT_PORT")
  HA_NEXT_PORT=$((p + 1))
  printf -v "$1" '%s' "$p"
}

# Runs a command as the PostgreSQL user in the background (exec, so $! is its pid).
ha_spawn() {
  local log=$1; shift
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$DIR" "$@" >>"$log" 2>&1 &
  else
    "$@" >>"$log" 2>&1 &
  fi
  echo $!
}

# rest NODE PATH: the HTTP status of Patroni's REST API on that node (000: down).
rest() {
  local port_var="REST_PORT_${1#node}"
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:${!port_var}$2" || true
}

primary() {
  local n
  for n in node1 node2; do
    [ "$(rest "$n" /primary)" = 200 ] && { echo "$n"; return 0; }
  done
  return 1
}

# wait_for WHAT SECONDS: polls every 0.2 s.
wait_for() {
  local what=$1 secs=$2 i n
  for ((i = 0; i < secs * 5; i++)); do
    case $what in
      primary) primary >/dev/null && return 0 ;;
      sync) for n in node1 node2; do [ "$(rest "$n" /sync)" = 200 ] && return 0; done ;;
    esac
    sleep 0.2
  done
  return 1
}

start_node() {
  local n=$1 i=${1#node}
  local pg_var="PG_PORT_$i" rest_var="REST_PORT_$i"
  mkdir -p "$DIR/$n"
  sed -e "s|@NAME@|$n|g" -e "s|@REST_PORT@|${!rest_var}|g" -e "s|@PG_PORT@|${!pg_var}|g" \
      -e "s|@ETCD_HOSTS@|127.0.0.1:$ETCD_PORT|g" -e "s|@DATA_DIR@|$DIR/$n/data|g" \
      -e "s|@DIR@|$DIR/$n|g" "$HA_DIR/patroni.yml.in" >"$DIR/$n/patroni.yml"
  [ "$(id -u)" = 0 ] && chown -R postgres "$DIR/$n"
  chmod 700 "$DIR/$n"
  ha_spawn "$DIR/$n/patroni.log" patroni "$DIR/$n/patroni.yml" >"$DIR/$n/patroni.pid"
}

stop_pid() {  # SIGTERM, then waits up to 30 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd=${1:-}
case $cmd in
  start)
    DIR=$2
    [ -e "$DIR/cluster.env" ] && die "$DIR already holds a cluster"
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    for v in ETCD_PORT ETCD_PEER_PORT PG_PORT_1 PG_PORT_2 REST_PORT_1 REST_PORT_2; do ha_port "$v"; done
    URL="postgresql://xinfang@127.0.0.1:$PG_PORT_1,127.0.0.1:$PG_PORT_2/xinfang?target_session_attrs=read-write"
    cat >"$DIR/cluster.env" <<ENV
ETCD_PORT=$ETCD_PORT
PG_PORT_1=$PG_PORT_1
PG_PORT_2=$PG_PORT_2
REST_PORT_1=$REST_PORT_1
REST_PORT_2=$REST_PORT_2
HA_URL='$URL'
ENV
    mkdir -p "$DIR/etcd"
    etcd --name xf --data-dir "$DIR/etcd/data" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "xf=http://127.0.0.1:$ETCD_PEER_PORT" >"$DIR/etcd/etcd.log" 2>&1 &
    echo $! >"$DIR/etcd/etcd.pid"
    # Both at once: one wins the race to bootstrap, the other copies it.
    start_node node1
    start_node node2
    wait_for primary 120 || { tail -20 "$DIR"/node*/patroni.log >&2; die "no primary"; }
    wait_for sync 120 || { tail -20 "$DIR"/node*/patroni.log >&2; die "no synchronous standby"; }
    psql "postgresql://xinfang@127.0.0.1:$PG_PORT_1,127.0.0.1:$PG_PORT_2/postgres?target_session_attrs=read-write" \
      -qc "CREATE DATABASE xinfang" >/dev/null
    echo "$URL"
    ;;
  stop)
    DIR=$2
    [ -f "$DIR/cluster.env" ] || exit 0
    . "$DIR/cluster.env"
    for n in node2 node1; do
      [ -f "$DIR/$n/patroni.pid" ] && stop_pid "$(cat "$DIR/$n/patroni.pid")"
      # A postmaster left behind by a killed Patroni.
      if [ -f "$DIR/$n/data/postmaster.pid" ]; then
        pid=$(head -1 "$DIR/$n/data/postmaster.pid")
        kill -0 "$pid" 2>/dev/null && stop_pid "$pid"
      fi
    done
    [ -f "$DIR/etcd/etcd.pid" ] && stop_pid "$(cat "$DIR/etcd/etcd.pid")"
    ;;
  primary)
    DIR=$2; . "$DIR/cluster.env"
    primary || die "no primary now"
    ;;
  wait-primary|wait-sync)
    DIR=$2; . "$DIR/cluster.env"
    wait_for "${cmd#wait-}" "${3:-60}" || die "no ${cmd#wait-} within ${3:-60} s"
    ;;
  kill)
    n=$2 DIR=$3; . "$DIR/cluster.env"
    kill -KILL "$(cat "$DIR/$n/patroni.pid")" 2>/dev/null || true
    kill -KILL "$(head -1 "$DIR/$n/data/postmaster.pid")" 2>/dev/null || true
    ;;
  start-node)
    n=$2 DIR=$3; . "$DIR/cluster.env"
    start_node "$n"
    ;;
  *) echo "usage: $0 start|stop|primary|wait-primary|wait-sync DIR | kill|start-node NODE DIR" >&2; exit 2 ;;
esac
