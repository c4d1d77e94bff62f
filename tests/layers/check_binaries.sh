#!/usr/bin/env bash
# The split binaries, as they are linked: xinfang-<service> holds its own
# service and AdminService (every process hosts it), no symbol of another
# service's namespace. Prints each binary that does; exit 1 if any.
set -euo pipefail
dir=${1:?usage: check_binaries.sh DIR (where the xinfang-* binaries are)}
services="intake casework query supervision admin"
bad=0
for svc in $services; do
  syms=$(nm -C "$dir/xinfang-$svc")
  for other in $services; do
    case "$other" in "$svc"|admin) continue ;; esac
    n=$(grep -c "xinfang::$other::" <<<"$syms" || true)
    [ "$n" = 0 ] || { echo "layers: xinfang-$svc: $n symbols of xinfang::$other"; bad=1; }
  done
done
[ "$bad" = 0 ] && echo "layers: each split binary holds its own service and AdminService, no other"
exit "$bad"
