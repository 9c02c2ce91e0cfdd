#!/bin/sh
# deb.sh BUILD_DIR SOURCE_DIR WORK_DIR - `cpack -G DEB` on the build: the
# package declares its dependencies (dpkg-shlibdeps), they are satisfied on
# this Debian system (dpkg-query; dpkg --dry-run -i as root), and the
# program unpacked from it (dpkg -x into WORK_DIR) runs the README example
# with the same output as the built program. Removes WORK_DIR when done.
set -u
build=$1
src=$2
work=$3
fail=0
for t in cpack dpkg dpkg-deb dpkg-shlibdeps; do
  command -v "$t" >/dev/null || { echo "FAIL: $t not found (dpkg-dev, cmake)"; exit 1; }
done
rm -rf "$work"
mkdir -p "$work" || exit 1
trap 'rm -rf "$work"' EXIT

cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; echo "FAIL: cpack -G DEB"; exit 1; }
set -- "$work"/pkg/*.deb
[ $# -eq 1 ] && [ -f "$1" ] || { cat "$work/cpack.log"; echo "FAIL: expected one .deb, got: $*"; exit 1; }
deb=$1
echo "package: $(basename "$deb")"

# Its control data: name, architecture and the libraries' packages.
info=$(dpkg-deb -I "$deb") || { echo "FAIL: dpkg-deb -I"; exit 1; }
printf '%s\n' "$info" | grep -E '^ (Package|Version|Architecture|Depends):'
depends=$(dpkg-deb -f "$deb" Depends)
for p in Package Version Architecture Maintainer Description; do
  [ -n "$(dpkg-deb -f "$deb" "$p")" ] || { echo "FAIL: no $p field"; fail=1; }
done
# The program links libcsv, jansson, gfortran (static OpenBLAS) and libc at
# least; libcsvreg.so adds OpenBLAS and LAPACKE.
# The plot module (csvreg-plot.so) brings cairo's package.
for lib in libc6 libcsv3 libjansson4 libopenblas0 liblapacke libcairo2; do
  printf '%s\n' "$depends" | grep -q "\\b$lib\\b" || { echo "FAIL: Depends lacks $lib: $depends"; fail=1; }
done

# Installable here with what it declares: each dependency is a Debian
# package installed on this system in a version it accepts; as root, dpkg
# itself checks the same (--dry-run: nothing is installed).
printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//' >"$work/deps"
while read -r name op ver; do
  [ -n "$name" ] || continue
  have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null)
  if [ -z "$have" ]; then
    echo "FAIL: dependency $name is not an installed package"
    echo 1 >"$work/depfail"
  elif [ -n "$op" ]; then
    op=${op#(} ver=${ver%)}
    dpkg --compare-versions "$have" "$op" "$ver" ||
      { echo "FAIL: $name $have does not satisfy $op $ver"; echo 1 >"$work/depfail"; }
  fi
done <"$work/deps"
[ -f "$work/depfail" ] && fail=1
if [ "$(id -u)" -eq 0 ] && ! dpkg --dry-run -i "$deb" >"$work/dry.log" 2>&1; then
  cat "$work/dry.log"
  echo "FAIL: dpkg --dry-run -i refuses the package"
  fail=1
fi

# The files `cmake --install` puts in place, under /usr.
dpkg -x "$deb" "$work/root" || { echo "FAIL: dpkg -x"; exit 1; }
for f in usr/bin/csvreg usr/include/csvreg.h usr/share/man/man1/csvreg.1 \
  usr/share/bash-completion/completions/csvreg usr/share/zsh/vendor-completions/_csvreg; do
  [ -e "$work/root/$f" ] || { echo "FAIL: the package lacks /$f"; fail=1; }
done
ls "$work"/root/usr/lib/csvreg/csvreg-plot.so >/dev/null 2>&1 ||
  { echo "FAIL: the package lacks /usr/lib/csvreg/csvreg-plot.so"; fail=1; }
ls "$work"/root/usr/lib*/libcsvreg.so.0 "$work"/root/usr/lib/*/libcsvreg.so.0 2>/dev/null | grep -q . ||
  { echo "FAIL: the package lacks libcsvreg.so.0"; fail=1; }

# The README example, run from the unpacked package.
cd "$src" || exit 1
"$work/root/usr/bin/csvreg" fit -y Employed data/longley.csv >"$work/pkg.out" 2>&1 ||
  { cat "$work/pkg.out"; echo "FAIL: the packaged csvreg fit exited $?"; fail=1; }
"$build/csvreg" fit -y Employed data/longley.csv >"$work/build.out" 2>&1
cmp -s "$work/pkg.out" "$work/build.out" ||
  { diff "$work/build.out" "$work/pkg.out"; echo "FAIL: the packaged program answers differently"; fail=1; }
grep -q "Employed" "$work/pkg.out" || { echo "FAIL: no report"; fail=1; }
# --plot from the package: the program finds its module in /usr/lib/csvreg
# (relative to itself) and draws the build's picture byte for byte.
"$build/csvreg" fit -y Employed data/longley.csv -o "$work/m.json" >/dev/null 2>&1
env -u CSVREG_PLOT_MODULE "$work/root/usr/bin/csvreg" eval -m "$work/m.json" data/longley.csv \
  --plot "$work/pkg.svg" >/dev/null 2>"$work/plot.err" ||
  { cat "$work/plot.err"; echo "FAIL: the packaged eval --plot"; fail=1; }
"$build/csvreg" eval -m "$work/m.json" data/longley.csv --plot "$work/build.svg" >/dev/null 2>&1
cmp -s "$work/pkg.svg" "$work/build.svg" || { echo "FAIL: the packaged plot differs"; fail=1; }
"$work/root/usr/bin/csvreg" --version | grep -q "^plot: cairo .*(module $work/root/usr/bin/../lib/csvreg/csvreg-plot.so)" ||
  { "$work/root/usr/bin/csvreg" --version; echo "FAIL: the packaged --version names no module"; fail=1; }
# The completion script in the package is the program's own.
"$work/root/usr/bin/csvreg" completion bash | cmp -s - "$work/root/usr/share/bash-completion/completions/csvreg" ||
  { echo "FAIL: the packaged bash completion differs from 'csvreg completion bash'"; fail=1; }
exit $fail
