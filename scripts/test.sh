#!/usr/bin/env bash
# The test suite, from a fresh clone: installs what is needed, checks that
# the sources are formatted (scripts/format.sh --check), builds, runs
# every test (unit, BPF and end-to-end; the last two need root), checks the
# installed SDK with the examples built against it (scripts/test-sdk.sh),
# adds a new plugin folder to the tree (scripts/test-new-plugin.sh), fuzzes
# the option parser for 30 seconds (scripts/fuzz.sh), then a 10-minute
# soak test on the ordinary build while netmon is built with clang++
# (scripts/build-packagers.sh) and in the sanitizer configuration
# (ASan+UBSan, leak checking on), then runs the whole suite again under the
# sanitizers (SDK tests included), then builds the Debian packages as
# packagers build them (scripts/build-deb.sh, with and without the tests),
# and ends by checking the packages and installing them on a clean Debian 12
# (scripts/test-deb.sh). Set CI=true to turn every skipped test into a
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says on stderr when it starts and how long it took.
step_start=$SECONDS
step() {
  echo "test.sh: === $* ===" >&2
  step_start=$SECONDS
}
step_done() {
  echo "test.sh: --- done in $((SECONDS - step_start)) s (total $((SECONDS / 60)) min $((SECONDS % 60)) s)" >&2
}
trap 'echo "test.sh: failed after $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2' ERR

step "dependencies"; scripts/install-deps.sh; step_done
step "formatting"; scripts/format.sh --check; step_done
step "build"; scripts/build.sh; step_done
step "tests (unit, BPF, end-to-end)"
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600 -LE 'sdk|soak|load'
step_done
# The load tests alone and verbose: they print the rate reached and the
# flow table's figures.
step "load tests"; ctest --test-dir build --output-on-failure --timeout 600 -L load -V; step_done
step "installed SDK"; scripts/test-sdk.sh; step_done
# A plugin from netmon-new-plugin copied into plugins/: built, tested and
# loaded by default with no edit outside its folder.
step "new plugin folder"; scripts/test-new-plugin.sh; step_done
step "fuzzing"; scripts/fuzz.sh 30; step_done

# Then the 10-minute soak (label soak), on the ordinary build, and beside it
# the builds that need no test to run: clang++ (scripts/build-packagers.sh
# clang), then the sanitizer configuration (no benchmarks), in the idle
# scheduling class: they take only the CPU time the soak leaves, so they
# cannot delay its intervals (a run with both beside it: worst interval
# 0.7 % off, limit 5 %). The Debian package builds come after the soak, not
# beside it: with their tests and packaging they made an interval of the
# soak late by more than 5 %.
step "soak, and the clang and sanitizer builds beside it"
# shellcheck disable=SC2016
chrt --idle 0 bash -c 'scripts/build-packagers.sh clang &&
  BUILD_DIR=build-asan scripts/build.sh -DNETMON_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DNETMON_BUILD_BENCH=OFF' \
  >build/beside-soak.log 2>&1 &
beside=$!
soak=0
ctest --test-dir build --output-on-failure --timeout 1200 -L soak -V || soak=$?
beside_rc=0
wait "$beside" || beside_rc=$?
tail -n 60 build/beside-soak.log >&2
[ "$soak" -eq 0 ] || { echo "test.sh: the soak test failed" >&2; exit 1; }
[ "$beside_rc" -eq 0 ] || { echo "test.sh: the clang or the sanitizer build failed (build/beside-soak.log)" >&2; exit 1; }
step_done

step "tests under the sanitizers"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" --timeout 600 -LE 'sdk|soak'
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  BUILD_DIR=build-asan scripts/test-sdk.sh
step_done

# The Debian packages as Debian builds them (scripts/build-deb.sh:
# dpkg-buildpackage, Release on dpkg-buildflags' hardening flags, the unit
# tests run; warnings are errors here), then with DEB_BUILD_OPTIONS=nocheck.
step "Debian packages: built, and with nocheck"
NETMON_WERROR=ON scripts/build-deb.sh
NETMON_WERROR=ON DEB_BUILD_OPTIONS=nocheck DEB_OUT=build-deb-nocheck scripts/build-deb.sh
rm -rf build-deb-nocheck
step_done
# The packages checked as Debian checks them and installed on a clean
# Debian 12 (lintian, systemd-analyze, mmdebstrap; scripts/test-deb.sh).
step "Debian packages: lintian, the unit, a clean install"; scripts/test-deb.sh; step_done
echo "test.sh: all tests passed in $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2
