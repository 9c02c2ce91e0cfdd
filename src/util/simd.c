/*
 * simd.c - which vector code the hot loops may use. The reader's splitter
 * and the chunk's number parser each have an SSE2 version (every x86-64) and
 * an AVX2 one, compiled side by side with target attributes and picked once
 * per reader (cells.c follows the reader's choice); the QR accumulator has
 * an AVX2 + FMA update (csvreg__qr_update_avx2.c) beside LAPACK's dtpqrt, picked per
 * accumulator. CSVREG_SIMD=sse2 in the
 * environment keeps the SSE2 ones and dtpqrt on an AVX2 machine, so that the
 * tests run both.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int csvreg__simd_avx2(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(CSVREG_NO_SIMD)
  const char *env = getenv("CSVREG_SIMD");
  if (env && strcmp(env, "sse2") == 0)
    return 0;
  __builtin_cpu_init();
  /* FMA comes with AVX2 on every such CPU so far; the QR update needs both. */
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}
