#!/usr/bin/env bash
# doc-test.sh GUIDE PREFIX WORK: runs the command blocks of a guide
# (docs/WRITING_PLUGINS.md) as a reader would, against netmon installed in
# PREFIX, in the scratch directory WORK.
#
# Every ```sh block of the guide must be preceded by a marker line:
#   <!-- doc-test: run -->          run it (blocks run in order, in one shell:
#                                   a `cd` in one holds for the next)
#   <!-- doc-test: skip REASON -->  not run, for the reason given
# A block without a marker fails the test, so none escapes unnoticed.
#
# The reader's world is made up around the blocks: `/usr/local` (where the
# guide says netmon is installed) is PREFIX, PREFIX/bin comes first on PATH,
# pkg-config looks in PREFIX, `sudo` is the root shell itself, and the blocks
# run in a network namespace of their own in which `eth0` is one end of a
# veth pair, so a command that monitors eth0 touches nothing of the machine's.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: doc-test.sh GUIDE PREFIX WORK" >&2; exit 2; }
guide=$1 prefix=$2 work=$3
[ -f "$guide" ] || { echo "doc-test: no guide at $guide" >&2; exit 2; }

script="$work/doc-test-blocks.sh"
awk -v prefix="$prefix" -v guide="$guide" '
  function fail(msg) { printf "doc-test: %s:%d: %s\n", guide, NR, msg > "/dev/stderr"; bad = 1 }
  /^<!-- doc-test: run -->$/ { mode = "run"; next }
  /^<!-- doc-test: skip .+ -->$/ { mode = "skip"; next }
  /^```sh$/ {
    if (mode == "") fail("a sh block with no <!-- doc-test: run --> or <!-- doc-test: skip REASON --> before it")
    inblock = 1; blocks++; if (mode == "run") { runs++; printf "echo \"doc-test: block %d (line %d)\" >&2\n", blocks, NR }
    next
  }
  /^```/ && inblock { inblock = 0; mode = ""; next }
  inblock && mode == "run" { gsub("/usr/local", prefix); print; next }
  { if (!inblock && $0 !~ /^[[:space:]]*$/) mode = "" }
  END {
    if (bad) exit 1
    if (runs == 0) { print "doc-test: no block to run" > "/dev/stderr"; exit 1 }
    printf "doc-test: %d blocks, %d run\n", blocks, runs > "/dev/stderr"
  }' "$guide" > "$script.body"

# The packages the guide tells a reader to install are ones netmon's own
# set-up installs (scripts/install-deps.sh), so the list cannot go stale
# unnoticed; the block itself is not run, as it would change the machine.
deps="$(dirname "$0")/install-deps.sh"
listed=$(awk '/^```sh$/{b=1;next} /^```/{b=0} b' "$guide" | sed -n '/apt-get install/,/[^\\]$/p' |
  sed 's/#.*//; s/\\$//' | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vxE 'sudo|apt-get|install' || true)
for pkg in $listed; do
  grep -qE "(^|[[:space:]])$pkg([[:space:]]|$)" "$deps" ||
    { echo "doc-test: $guide asks for package $pkg, which scripts/install-deps.sh does not install" >&2; exit 1; }
done
[ -n "$listed" ] && echo "doc-test: the guide's packages are all in scripts/install-deps.sh:" $listed >&2

ns="nmdoc$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link add eth0 type veth peer name eth0peer
ip -n "$ns" link set lo up
ip -n "$ns" link set eth0 up
ip -n "$ns" link set eth0peer up

{
  echo 'set -euo pipefail'
  echo 'sudo() { "$@"; }'
  echo "export PATH=\"$prefix/bin:\$PATH\""
  echo "export PKG_CONFIG_PATH=\"$prefix/lib/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}\""
  echo "cd \"$work\""
  cat "$script.body"
} > "$script"
ip netns exec "$ns" bash "$script"
echo "doc-test: every block of $guide ran" >&2
