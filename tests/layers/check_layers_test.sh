#!/usr/bin/env bash
# The layer check itself: quiet on a tree that keeps its layers, and on a
# tree with crossing includes it names each one and fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/workflow "$tmp"/services/{storage,common,intake,query,server}
echo '#include "workflow/engine.h"' >"$tmp/workflow/ok.h"
echo '#include "services/storage/db.h"' >"$tmp/services/common/ok.cc"
echo '#include "services/common/core.h"' >"$tmp/services/query/ok.cc"
echo '#include "services/server/host.h"' >"$tmp/services/query/main.cc"
bash "$here/check_layers.sh" "$tmp" >/dev/null || { echo "a clean tree was refused"; exit 1; }
echo '#include "services/common/core.h"' >"$tmp/workflow/bad.h"
echo '#include "services/intake/intake_service.h"' >"$tmp/services/query/bad.cc"
echo '#include "services/common/core.h"' >"$tmp/services/storage/bad.cc"
echo '#include "services/server/host.h"' >"$tmp/services/query/not_main.cc"
echo '#include "services/server/services.h"' >"$tmp/services/intake/main.cc"
if out=$(bash "$here/check_layers.sh" "$tmp"); then echo "crossing includes passed"; exit 1; fi
for f in workflow/bad.h services/query/bad.cc services/storage/bad.cc services/query/not_main.cc \
         services/intake/main.cc; do
  grep -q "layers: $f:" <<<"$out" || { echo "not reported: $f"; echo "$out"; exit 1; }
done
[ "$(grep -c '^layers: .*: includes' <<<"$out")" = 5 ] || { echo "unexpected reports:"; echo "$out"; exit 1; }
echo "layer check: clean tree passes, 5 crossings reported"
