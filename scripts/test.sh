#!/usr/bin/env bash
# The test suite, from a fresh clone: installs what is needed, checks that
# the sources are formatted (scripts/format.sh --check), builds, runs
# every test (unit, BPF and end-to-end; the last two need root), checks the
# installed SDK with the examples built against it (scripts/test-sdk.sh),
# adds a new plugin folder to the tree (scripts/test-new-plugin.sh), fuzzes
# the option parser for a minute (scripts/fuzz.sh), then builds
# the sanitizer configuration (ASan+UBSan, leak checking on) and runs the
# whole suite again under it (SDK tests included), and ends with a 10-minute
# soak test on the ordinary build. Set
# CI=true to turn every skipped test into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/format.sh --check
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600 -LE 'sdk|soak|load'
# The load tests alone and verbose: they print the rate reached and the
# flow table's figures.
ctest --test-dir build --output-on-failure --timeout 600 -L load -V
scripts/test-sdk.sh
# A plugin from netmon-new-plugin copied into plugins/: built, tested and
# loaded by default with no edit outside its folder.
scripts/test-new-plugin.sh
scripts/fuzz.sh 60

BUILD_DIR=build-asan scripts/build.sh -DNETMON_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" --timeout 600 -LE 'sdk|soak'
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  BUILD_DIR=build-asan scripts/test-sdk.sh

# Last, the 10-minute soak (label soak), on the ordinary build.
ctest --test-dir build --output-on-failure --timeout 1200 -L soak -V
echo "test.sh: all tests passed" >&2
