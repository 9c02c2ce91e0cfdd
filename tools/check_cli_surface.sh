#!/bin/sh
# check_cli_surface.sh SRC [LINK_LIBRARIES] [INCLUDE_DIRECTORIES] - the
# program uses the library only through include/csvreg.h: no file of
# SRC/cli includes jansson, a BLAS or LAPACK header or a private header of the
# library (a header under SRC/<stage>/), or names OpenBLAS; and, when CMake
# passes the program target's properties (comma-separated), it links only
# csvreg_lib and Threads::Threads (and libdl, which loads --plot's module) and has no
# private include directory.
# Lists every offender; exits 1 when there is one.
set -eu
src=${1:?usage: check_cli_surface.sh SRC [LINK_LIBRARIES] [INCLUDE_DIRECTORIES]}
links=${2:-}
incs=${3:-}
bad=0
say() { echo "check_cli_surface: $*" >&2; bad=1; }

# Headers of the library's stages, by file name.
private=$(find "$src" -path "$src/cli" -prune -o -name '*.h' -print | sed 's|.*/||' | sort -u)
# show PATTERN FILE LABEL: prints FILE's lines matching PATTERN; 1 when any.
show() {
  if grep -nE "$1" "$2" >/dev/null; then
    grep -nE "$1" "$2" | sed "s|^|  $2:$3|" >&2
    return 0
  fi
  return 1
}
for f in "$src"/cli/*.c "$src"/cli/*.h; do
  show '#[[:space:]]*include[[:space:]]*<(jansson|cblas|lapacke|lapack|f77blas|openblas[^>]*)\.h>' \
    "$f" " " && bad=1
  show '\b(openblas_[a-z_]+|cblas_[a-z0-9_]+|LAPACKE_[a-z0-9_]+)[[:space:]]*\(' \
    "$f" " " && bad=1
  for h in $private; do
    show "#[[:space:]]*include[[:space:]]*[\"<]([^\">]*/)?$h[\">]" "$f" " private header: " && bad=1
  done
done
[ "$bad" = 0 ] || echo "check_cli_surface: src/cli reaches past include/csvreg.h (lines above)" >&2

old_ifs=$IFS
IFS=','
for l in $links; do
  case $l in
  csvreg_lib | Threads::Threads | "") ;;
  dl) ;; # dlopen of the plot module (src/cli/plot_module.c), on a libc without it
  *) say "the program links $l (only csvreg_lib and Threads::Threads)" ;;
  esac
done
for d in $incs; do
  case $d in
  "$src"/?*) [ "$d" = "$src/cli" ] || say "the program has the private include directory $d" ;;
  esac
done
IFS=$old_ifs

[ "$bad" = 0 ] || exit 1
echo "check_cli_surface: the program uses only include/csvreg.h"
