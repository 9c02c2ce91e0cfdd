#!/bin/sh
# install_example.sh BUILD SOURCE WORK LIBDIR CC CMAKE [CFLAGS]
# Installs BUILD into WORK/prefix, checks what was installed, builds
# examples/fit_file.c against it by pkg-config (shared and static) and by
# find_package(csvreg), and checks each one's coefficients on data/longley.csv
# against those of the installed `csvreg fit`.
set -eu
build=$1 src=$2 work=$3 libdir=$4 cc=$5 cmake=$6 cflags=${7:-}

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"

fail() { echo "install_example: $*" >&2; exit 1; }
lib=$prefix/$libdir
for f in bin/csvreg include/csvreg.h share/man/man1/csvreg.1 "$libdir/libcsvreg.a" \
         "$libdir/libcsvreg.so.0.1.0" "$libdir/pkgconfig/csvreg.pc" \
         "$libdir/cmake/csvreg/csvreg-config.cmake" \
         "$libdir/cmake/csvreg/csvreg-config-version.cmake"; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$lib/libcsvreg.so.0")" = libcsvreg.so.0.1.0 ] || fail "libcsvreg.so.0 link"
[ "$(readlink "$lib/libcsvreg.so")" = libcsvreg.so.0 ] || fail "libcsvreg.so link"
soname=$(objdump -p "$lib/libcsvreg.so.0.1.0" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libcsvreg.so.0 ] || fail "SONAME is '$soname', expected libcsvreg.so.0"
# The shared library exports the API and nothing else.
others=$(nm -D --defined-only "$lib/libcsvreg.so.0.1.0" | awk '$2 ~ /^[A-Z]$/ && $3 !~ /^csvreg_/')
[ -z "$others" ] || fail "libcsvreg.so exports more than csvreg_*: $others"

data=$src/data/longley.csv
"$prefix/bin/csvreg" fit -y Employed --format json "$data" >"$work/fit.json"
# --plot's module, when built: installed in LIBDIR/csvreg and found there by
# the installed program (relative to itself), not in the build tree.
if [ -f "$build/csvreg-plot.so" ]; then
  [ -f "$lib/csvreg/csvreg-plot.so" ] || fail "not installed: $libdir/csvreg/csvreg-plot.so"
  "$prefix/bin/csvreg" fit -y Employed "$data" -o "$work/m.json" >/dev/null
  env -u CSVREG_PLOT_MODULE "$prefix/bin/csvreg" eval -m "$work/m.json" "$data" \
    --plot "$work/p.png" >/dev/null || fail "installed eval --plot"
  "$prefix/bin/csvreg" --version | grep -q "^plot: cairo .*(module $prefix/bin/.*/csvreg/csvreg-plot.so)" ||
    fail "installed --version names no module"
  echo "ok: plot module"
fi
check() { # NAME PROGRAM: run PROGRAM on longley and compare with fit.json
  "$2" "$data" Employed >"$work/$1.out" || fail "$1: exit status $?"
  python3 "$src/tests/install/same_coefficients.py" "$work/fit.json" "$work/$1.out" ||
    fail "$1: coefficients differ from csvreg fit"
  echo "ok: $1"
}

export PKG_CONFIG_PATH="$lib/pkgconfig"
# shellcheck disable=SC2086 # cflags and pkg-config's output are word lists
$cc $cflags -o "$work/fit_pc" "$src/examples/fit_file.c" $(pkg-config --cflags --libs csvreg) \
  -Wl,-rpath,"$lib"
objdump -p "$work/fit_pc" | grep -q 'NEEDED *libcsvreg\.so\.0' || fail "fit_pc: not linked to libcsvreg.so.0"
check pkg-config-shared "$work/fit_pc"

# Static: libcsvreg.a by its path, then what csvreg.pc says it needs.
static_libs=$(pkg-config --static --libs csvreg | sed 's/-lcsvreg\b//')
# shellcheck disable=SC2086
$cc $cflags -o "$work/fit_pc_static" "$src/examples/fit_file.c" $(pkg-config --cflags csvreg) \
  "$lib/libcsvreg.a" $static_libs
if objdump -p "$work/fit_pc_static" | grep -q 'NEEDED *libcsvreg'; then
  fail "fit_pc_static: linked to the shared library"
fi
check pkg-config-static "$work/fit_pc_static"

"$cmake" -S "$src/examples" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags" -DCMAKE_BUILD_TYPE=Release \
  >"$work/cmake.log"
"$cmake" --build "$work/cmake-build" >>"$work/cmake.log"
check cmake "$work/cmake-build/fit_file"
