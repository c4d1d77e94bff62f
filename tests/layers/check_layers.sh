#!/usr/bin/env bash
# The layers, as includes may cross them (docs/architecture.md):
#   workflow/           the procedure engine: nothing of services/ or tools/
#   services/storage/   SQL: workflow/ and itself, no other part of services/
#   services/common/    storage/ and itself
#   services/<service>/ common/, storage/ and itself; no other service
#                       (only services/server/, the all-in-one, joins them;
#                       each service's main.cc starts through server/host.h,
#                       which brings AdminService along, not services.h)
#   services/, workflow/ nothing of tools/ or web/
# Prints every include that crosses a boundary; exit 1 if any.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
bad=0
report() { echo "layers: $1: includes $2 ($3)"; bad=1; }
while IFS=: read -r file _ line; do
  inc=$(sed -n 's/^#include "\([^"]*\)".*/\1/p' <<<"$line")
  [ -n "$inc" ] || continue
  case "$file" in
    workflow/*)
      case "$inc" in services/*|tools/*|web/*) report "$file" "$inc" "the engine knows no service" ;; esac ;;
    services/storage/*)
      case "$inc" in services/storage/*) ;; services/*) report "$file" "$inc" "storage is below the services" ;; tools/*) report "$file" "$inc" "no tools in services" ;; esac ;;
    services/common/*)
      case "$inc" in services/common/*|services/storage/*) ;; services/*) report "$file" "$inc" "common is below the services" ;; tools/*) report "$file" "$inc" "no tools in services" ;; esac ;;
    services/server/*) case "$inc" in tools/*) report "$file" "$inc" "no tools in services" ;; esac ;;
    services/*/*)
      own=$(cut -d/ -f2 <<<"$file")
      case "$inc" in
        services/common/*|services/storage/*|"services/$own/"*) ;;
        services/server/host.h) [ "$(basename "$file")" = main.cc ] || report "$file" "$inc" "only a service's main.cc starts through the server" ;;
        services/server/*) report "$file" "$inc" "a split binary hosts its own service (host.h), not every service" ;;
        services/*) report "$file" "$inc" "one service does not include another" ;;
        tools/*) report "$file" "$inc" "no tools in services" ;;
      esac ;;
  esac
done < <(grep -rn '^#include "' workflow services --include='*.h' --include='*.cc')
[ "$bad" = 0 ] && echo "layers: every include stays within its layer"
exit "$bad"
