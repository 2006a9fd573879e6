#!/usr/bin/env bash
# The SDK as a third party uses it: installs netmon from build/ to a temporary
# prefix, builds examples/, tests/sdk/, a plugin made by the installed
# netmon-new-plugin --lang c and a sink made by netmon-new-plugin --sink
# against that prefix alone (configured outside the source tree), then runs
# the tests labelled sdk, which drive the
# installed netmon-host with those plugins on veth pairs. Needs root.
# BUILD_DIR picks the build to install (default build/; build-asan/ for the
# sanitizer build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
work=$(mktemp -d /tmp/netmon-sdk.XXXXXX)
trap 'rm -rf "$work"' EXIT
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

cmake --install "$build" --prefix "$work/prefix" >/dev/null
for project in examples tests/sdk; do
  out="$work/build-$(basename "$project")"
  cmake -S "$project" -B "$out" "${generator[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
  cmake --build "$out" >/dev/null
done

# A plugin in C from the installed template, built against the prefix alone.
"$work/prefix/bin/netmon-new-plugin" --lang c cprobe "$work/cprobe"
cmake -S "$work/cprobe" -B "$work/cprobe/build" "${generator[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cprobe/build" >/dev/null
# A sink as netmon-new-plugin --sink makes it, built against the prefix alone.
"$work/prefix/bin/netmon-new-plugin" --sink linesink "$work/linesink" 2>/dev/null
cmake -S "$work/linesink" -B "$work/linesink/build" "${generator[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/linesink/build" >/dev/null

NETMON_SDK_PREFIX="$work/prefix" \
NETMON_SDK_CPROBE="$work/cprobe/build" \
NETMON_SDK_SINK_TEMPLATE="$work/linesink/build/plugins" \
NETMON_SDK_EXAMPLES="$work/build-examples/plugins" \
NETMON_SDK_FIXTURES="$work/build-sdk/plugins" \
NETMON_SDK_WORK="$work" \
  ctest --test-dir "$build" -L sdk --output-on-failure --timeout 900
echo "test-sdk.sh: the installed SDK works" >&2
