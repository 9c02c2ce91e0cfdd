#!/bin/sh
# plot_module.sh CSVREG DATA_DIR - --plot's cairo lives in the module
# csvreg-plot.so (src/cli/plot_module.c): the program does not link cairo
# (readelf NEEDED), the module does; --plot finds the module beside the
# program; a missing module or one without the entry point is a usage error
# (exit 2) said before any data are read, and CSVREG_PLOT_MODULE overrides
# where it is looked for; --version names the module without loading it.
set -u
csvreg=$1
data=$2
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
module=$(cd "$(dirname "$csvreg")" && pwd -P)/csvreg-plot.so
[ -f "$module" ] || { echo "FAIL: no $module beside the program"; exit 1; }
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
if needed "$csvreg" | grep -E 'cairo|fontconfig|freetype|pixman|png'; then
  echo "FAIL: the program links the libraries above"; fail=1
fi
needed "$module" | grep -q '^libcairo\.so' || { echo "FAIL: the module does not link cairo"; fail=1; }
# The module exports its entry point and nothing else of its own.
exports=$(nm -D --defined-only "$module" | awk '$2 ~ /^[TDBR]$/ { print $3 }')
[ "$exports" = csvreg_plot_draw_v1 ] || { echo "FAIL: the module exports: $exports"; fail=1; }
"$csvreg" --version | grep -qx "plot: cairo [0-9.]* (module $module)" ||
  { "$csvreg" --version; echo "FAIL: --version does not name the module"; fail=1; }

"$csvreg" fit -y Employed "$data/longley.csv" -o "$tmp/m.json" >/dev/null || exit 1
"$csvreg" eval -m "$tmp/m.json" "$data/longley.csv" --plot "$tmp/a.svg" >/dev/null ||
  { echo "FAIL: eval --plot with the module beside the program"; fail=1; }
grep -q '<svg' "$tmp/a.svg" || { echo "FAIL: no SVG written"; fail=1; }
CSVREG_PLOT_MODULE=$module "$csvreg" eval -m "$tmp/m.json" "$data/longley.csv" \
  --plot "$tmp/b.svg" >/dev/null && cmp -s "$tmp/a.svg" "$tmp/b.svg" ||
  { echo "FAIL: CSVREG_PLOT_MODULE naming the module"; fail=1; }

# expect WHAT STDERR-TEXT CMD...: exit 2, the text on stderr, no file
expect() {
  what=$1 text=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 2 ] && grep -qF -- "$text" "$tmp/err" && [ ! -e "$tmp/c.svg" ] ||
    { cat "$tmp/err"; echo "FAIL: $what: exit $rc"; fail=1; }
}
# the input does not exist: the module is checked first, before the data
for cmd in "eval -m $tmp/m.json" "fit -y Employed"; do
  expect "missing module ($cmd)" \
    "csvreg: --plot: the plot module is not installed (no $tmp/none.so)" \
    env CSVREG_PLOT_MODULE="$tmp/none.so" "$csvreg" $cmd "$tmp/no_such.csv" --plot "$tmp/c.svg"
done
printf 'int not_a_plot_module;\n' >"$tmp/other.c"
if cc -shared -fPIC -o "$tmp/other.so" "$tmp/other.c" 2>/dev/null; then
  expect "another module" "is not this csvreg's plot module (no csvreg_plot_draw_v1)" \
    env CSVREG_PLOT_MODULE="$tmp/other.so" "$csvreg" eval -m "$tmp/m.json" \
    "$tmp/no_such.csv" --plot "$tmp/c.svg"
fi
printf 'not an ELF file\n' >"$tmp/broken.so"
expect "a module that does not load" "--plot: cannot load the plot module (is cairo installed?)" \
  env CSVREG_PLOT_MODULE="$tmp/broken.so" "$csvreg" eval -m "$tmp/m.json" \
  "$tmp/no_such.csv" --plot "$tmp/c.svg"
CSVREG_PLOT_MODULE=$tmp/none.so "$csvreg" --version | grep -qx "plot: none (no plot module $tmp/none.so)" ||
  { echo "FAIL: --version without the module"; fail=1; }
# commands without --plot do not look for it
CSVREG_PLOT_MODULE=$tmp/none.so "$csvreg" eval -m "$tmp/m.json" "$data/longley.csv" >/dev/null ||
  { echo "FAIL: eval without --plot needs the module"; fail=1; }
exit $fail
