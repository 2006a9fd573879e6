#!/bin/bash
# netmon-plugins(7): netmon-plugins.7.md.in with every plugin's and sink's
# README.md in place of @PLUGINS@ and @SINKS@, converted by pandoc.
# Usage: make-plugins-page.sh SOURCE_DIR VERSION OUTPUT [TEMPLATE]
# (TEMPLATE: another page's .md.in, such as netmon-new-plugin.1.md.in,
# converted the same way; it need not hold @PLUGINS@ or @SINKS@.)
# (PANDOC names the program to run, if not pandoc.)
set -euo pipefail
pandoc=${PANDOC:-pandoc}

src=$1 version=$2 output=$3
here=$(dirname "$0")
template=${4:-$here/netmon-plugins.7.md.in}
# The globs' order, alphabetical, is the page's order.
export LC_ALL=C

# ISO date: man(7) readers parse it. SOURCE_DATE_EPOCH, when set, makes the
# page reproducible.
date=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%d)

# Each README one level down, its title a subsection of PLUGINS or SINKS.
# Without "smart", pandoc keeps "--" of options as two hyphens.
readmes() {
  local readme
  for readme in "$src/$1"/*/README.md; do
    "$pandoc" --from=gfm --to=markdown-smart --shift-heading-level-by=1 "$readme"
    echo
  done
}

while IFS= read -r line; do
  case $line in
    @PLUGINS@) readmes plugins ;;
    @SINKS@) readmes sinks ;;
    *)
      line=${line//@VERSION@/$version}
      printf '%s\n' "${line//@DATE@/$date}"
      ;;
  esac
done <"$template" >"$output.md"

# hyphenate=false, adjusting=l: the READMEs are full of long identifiers,
# which hyphenation would split and justification would space out.
"$pandoc" --from=markdown-smart --to=man --standalone --lua-filter="$here/plugins-page.lua" \
  --metadata=hyphenate=false --variable=adjusting=l --output="$output.tmp" "$output.md"
rm "$output.md"
mv "$output.tmp" "$output"
