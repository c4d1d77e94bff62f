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
    xf_pg_start "$dir"
    echo "postgresql://xinfang@127.0.0.1:$port/postgres"
    ;;
  stop) xf_pg_stop "$2" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
