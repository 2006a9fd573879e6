#!/bin/bash
# netmon-host(8) from the program's --help and --version and the sections of
# netmon-host.h2m, by help2man.
# Usage: make-host-page.sh NETMON_HOST INCLUDE VERSION OUTPUT
# (HELP2MAN names the program to run, if not help2man.)
set -euo pipefail

host=$1 include=$2 version=$3 output=$4

# help2man dates the page "Month Year", which mandoc cannot parse (its lint
# warns); man(7) readers take ISO dates. SOURCE_DATE_EPOCH, when set, makes
# the page reproducible.
date=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%d)

# --no-info: there is no Texinfo manual to point at. help2man discards
# stderr, where netmon-host's logs would go; the help is on stdout.
"${HELP2MAN:-help2man}" --no-info --section=8 --manual="netmon manual" \
  --source="netmon $version" --include="$include" "$host" >"$output.tmp"
# The .TH line's second quoted field is the date.
sed -i -e '/^\.TH /s/"[^"]*"/"'"$date"'"/2' "$output.tmp"
grep -q "^\.TH .*\"$date\"" "$output.tmp" || {
  echo "make-host-page.sh: no date set on help2man's .TH line" >&2
  exit 1
}
mv "$output.tmp" "$output"
