#!/bin/sh
# check_symbols.sh LIBCSVREG.a - lists the library's global symbols that are
# not in its namespace: every function or object an archive defines lands in
# the user's program, so an internal name such as err_set or solve_qr may
# collide with the user's own. Public names start with csvreg_, internal ones
# with csvreg__ (or are static). Exits 1 when it lists any.
#
# Left out: the symbols the sanitizers add for the library's own globals
# (__odr_asan.NAME under -fsanitize=address), and weak symbols (W, V), which
# are the template instantiations of the header-only fast_float and
# Dragonbox, in their C++ namespaces, merged by the linker, and hidden in
# libcsvreg.so. Also __wrap_blas_memory_alloc/_free (src/linalg/blas_gate.c):
# ld's --wrap dictates those names.
set -eu
lib=${1:?usage: check_symbols.sh LIBCSVREG.a}
NM=${NM:-nm}
# T/D/B/R: code, data, bss, read-only data; C/G/S: common and small data.
bad=$("$NM" -g --defined-only "$lib" 2>/dev/null |
  awk 'NF == 3 && $2 ~ /^[TDBRCGS]$/ && $3 !~ /^csvreg_/ && $3 !~ /^__(odr_asan|asan|ubsan|sancov)/ && $3 !~ /^__wrap_blas_memory_(alloc|free)$/ { print $3 }' |
  sort -u)
if [ -n "$bad" ]; then
  echo "check_symbols: global symbols of $lib outside csvreg_ (rename to csvreg__NAME or make static):" >&2
  echo "$bad" | sed 's/^/  /' >&2
  exit 1
fi
echo "check_symbols: every global symbol of $lib starts with csvreg_"
