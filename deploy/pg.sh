#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests that are run without deploy/test.sh:
#   deploy/pg.sh start DIR   -> prints the admin URL of a new cluster in DIR
#   deploy/pg.sh stop DIR    -> stops it (the caller removes DIR)
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
case "${1:-}" in
  start)
    dir=$2
    port=$(xf_free_port $((54000 + RANDOM % 1000)))
    xf_pg_init "$dir" "$port"
    # Two clusters starting at once (tests run in parallel, each with its
    # own) may both find the same port free: the loser takes another.
    for attempt in 1 2 3 4 5; do
      xf_pg_start "$dir" 2>/dev/null && break
      if [ "$attempt" = 5 ]; then tail -20 "$dir/server.log" >&2; exit 1; fi
      port=$(xf_free_port $((54000 + RANDOM % 1000)))
      echo "port = $port" >>"$dir/data/postgresql.conf"
    done
    echo "postgresql://xinfang@127.0.0.1:$port/postgres"
    ;;
  stop) xf_pg_stop "$2" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
