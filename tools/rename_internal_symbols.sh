#!/bin/sh
# rename_internal_symbols.sh LIBCSVREG.a [DIR...] - gives every internal global
# symbol that tools/check_symbols.sh lists the library's internal prefix:
# NAME -> csvreg__NAME, as a whole word, in the C/C++ sources and headers
# under DIR (default: src tests fuzz). For the lead to run once after merging;
# afterwards tools/check_symbols.sh passes and CSVREG_CHECK_SYMBOLS can be on.
# Prints the renames it applies.
set -eu
lib=${1:?usage: rename_internal_symbols.sh LIBCSVREG.a [DIR...]}
shift
[ $# -gt 0 ] || set -- src tests fuzz
here=$(dirname "$0")
names=$(sh "$here/check_symbols.sh" "$lib" 2>&1 >/dev/null | sed -n 's/^  //p')
[ -n "$names" ] || { echo "nothing to rename"; exit 0; }
script=""
for n in $names; do
  echo "$n -> csvreg__$n"
  script="$script s/\\b$n\\b/csvreg__$n/g;"
done
pattern=$(echo $names | sed 's/ /|/g')
files=$(find "$@" -type f \( -name '*.c' -o -name '*.cc' -o -name '*.h' \) \
  -exec grep -lwE "$pattern" {} +)
# shellcheck disable=SC2086 # file names from find, no spaces in this tree
sed -i "$script" $files
# Longer names move line breaks: reformat the library files renamed (src/ is
# clang-format clean; some test files are not, and are left for a human).
if command -v clang-format >/dev/null; then
  for f in $files; do
    case $f in src/* | */src/*) clang-format -i "$f" ;; esac
  done
fi
