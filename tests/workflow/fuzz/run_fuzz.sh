#!/usr/bin/env bash
# Builds the workflow-definition fuzzer (libFuzzer + AddressSanitizer, clang)
# in its own build tree and runs it briefly on a copy of the seed corpus.
#
#   tests/workflow/fuzz/run_fuzz.sh [REPO]
#
# REPO defaults to the repository holding this script. Environment:
#   XINFANG_FUZZ_BUILD_DIR  build tree (default REPO/build-fuzz)
#   XINFANG_FUZZ_SECONDS    how long to fuzz (default 20)
#   XINFANG_FUZZ_JOBS       build parallelism (default 1)
# Exit status: 0 when the run finds nothing; non-zero when the build fails or
# the fuzzer finds a crash, leak, timeout or abort (the input is kept under
# BUILD/fuzz-artifacts/).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${1:-$here/../../..}" && pwd)"
build="${XINFANG_FUZZ_BUILD_DIR:-$repo/build-fuzz}"
seconds="${XINFANG_FUZZ_SECONDS:-20}"
jobs="${XINFANG_FUZZ_JOBS:-1}"

for tool in clang-14 clang++-14 cmake; do
  command -v "$tool" >/dev/null || { echo "run_fuzz.sh: $tool not found" >&2; exit 2; }
done

# The whole tree is compiled with coverage instrumentation and ASan
# (-fsanitize=fuzzer-no-link): without it only the entry point would be
# instrumented and libFuzzer would fuzz blind. The target adds the libFuzzer
# main itself (tests/workflow/CMakeLists.txt).
CC=clang-14 CXX=clang++-14 cmake -S "$repo" -B "$build" -DXINFANG_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer" >/dev/null
cmake --build "$build" --target definition_fuzz -j"$jobs"

fuzzer="$(find "$build" -type f -name definition_fuzz -perm -u+x | head -n 1)"
[[ -n "$fuzzer" ]] || { echo "run_fuzz.sh: definition_fuzz was not built" >&2; exit 2; }

# libFuzzer adds new inputs to its first corpus directory: give it a copy so
# the seed corpus in the source tree stays as committed.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/corpus/"* "$work/"
mkdir -p "$build/fuzz-artifacts"

echo "run_fuzz.sh: fuzzing Definition::Parse for ${seconds}s with $fuzzer"
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$build/fuzz-artifacts/" "$work"
