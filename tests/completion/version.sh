#!/bin/sh
# version.sh CSVREG - `csvreg --version`: the version alone on the first line
# (for scripts), then the build, the BLAS, the SIMD path this machine takes
# (and CSVREG_SIMD=sse2 changes it), the decompressors and cairo.
set -u
csvreg=$1
fail=0
out=$("$csvreg" --version) || { echo "FAIL: --version exited $?"; exit 1; }
printf '%s\n' "$out"
check() { # PATTERN: some line of the output matches
  printf '%s\n' "$out" | grep -qE -- "$1" || { echo "FAIL: no line matches /$1/"; fail=1; }
}
[ "$(printf '%s\n' "$out" | head -n 1)" = "csvreg $("$csvreg" --version | sed -n '1s/^csvreg //p')" ] || fail=1
printf '%s\n' "$out" | head -n 1 | grep -qE '^csvreg [0-9]+\.[0-9]+\.[0-9]+$' ||
  { echo "FAIL: first line is not 'csvreg X.Y.Z'"; fail=1; }
check '^build: (Release|Debug|RelWithDebInfo|MinSizeRel|none)'
check '^blas: OpenBLAS [0-9]'
check '^simd: (AVX2|SSE2|scalar) '
check '^decompress: gzip \((ISA-L|zlib) [0-9]'
check '^plot: '
# The SIMD line tells the path the scanner takes here: AVX2 exactly when the
# CPU has AVX2 and FMA (src/util/simd.c), SSE2 when asked.
if [ "$(uname -m)" = x86_64 ]; then
  want=SSE2
  if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then want=AVX2; fi
  check "^simd: $want "
  CSVREG_SIMD=sse2 "$csvreg" --version | grep -q '^simd: SSE2 ' ||
    { echo "FAIL: CSVREG_SIMD=sse2 does not show SSE2"; fail=1; }
fi
# Each format the library reads is named: a file of each kind this build
# reads decompresses (tests/compress), so compare the line with what works.
for f in zstd:zst xz:xz bzip2:bz2; do
  tool=${f%%:*} ext=${f#*:}
  command -v "$tool" >/dev/null || continue
  tmp=$(mktemp) || exit 1
  printf 'y,x\n1,2\n2,3\n4,4\n' | "$tool" -c >"$tmp.$ext"
  if "$csvreg" fit -y y "$tmp.$ext" >/dev/null 2>&1; then
    check "^decompress: .*\\b$tool\\b"
  elif printf '%s\n' "$out" | grep -q "^decompress: .*\\b$tool\\b"; then
    echo "FAIL: --version names $tool but a .$ext file does not read"
    fail=1
  fi
  rm -f "$tmp" "$tmp.$ext"
done
exit $fail
