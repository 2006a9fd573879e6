#!/usr/bin/env bash
# Builds the option-parser fuzz target with clang (libFuzzer, ASan, UBSan) and
# runs it for a bounded time: scripts/fuzz.sh [SECONDS, default 60].
# Fails on any finding (crash, leak, undefined behaviour, uncaught exception).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
CC=clang CXX=clang++ cmake -S fuzz -B build-fuzz "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz >/dev/null || { cmake --build build-fuzz; exit 1; }  # the errors, if any
work=$(mktemp -d /tmp/netmon-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp fuzz/corpus/* "$work/"
# The whole log when there is a finding (its stack trace), else the summary.
if ! build-fuzz/fuzz_options -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work" >"$work.log" 2>&1; then
  cat "$work.log"
  rm -f "$work.log"
  echo "fuzz.sh: the fuzzer found a problem (above)" >&2
  exit 1
fi
tail -n 12 "$work.log"
rm -f "$work.log"
echo "fuzz.sh: no finding in $seconds s" >&2
