/*
 * build_info.c - what this build of the library is made of and which of its
 * code paths this machine takes, for `csvreg --version` and bug reports: a
 * number that differs between two machines is explained first by these lines
 * (the BLAS and its kernel, the SIMD path of the record scanner and number
 * parser, the decompressors compiled in, the build type).
 */
#define _GNU_SOURCE /* dladdr */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>
#ifdef CSVREG_HAVE_ISAL
#include <isa-l.h>
#endif
#ifdef CSVREG_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef CSVREG_HAVE_LZMA
#include <lzma.h>
#endif
#ifdef CSVREG_HAVE_BZIP2
#include <bzlib.h>
#endif

#include "internal.h"

#ifndef CSVREG_BUILD_TYPE
#define CSVREG_BUILD_TYPE "unknown"
#endif

/* Exported by OpenBLAS (the only BLAS the build accepts, see CMakeLists.txt);
 * declared here as status.c does, since Debian's cblas.h may be netlib's. */
char *openblas_get_config(void);

/* cairo draws the plots when the program links it; a weak reference does not
 * pull it in, so the library reports it exactly when it is there. */
#if defined(__GNUC__) && defined(__ELF__)
extern const char *cairo_version_string(void) __attribute__((weak));
#include <dlfcn.h>
#endif

typedef struct out_buf {
  char *buf;
  size_t size, len; /* len counts what would have been written, as snprintf */
} out_buf;

static void put(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_buf *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *at = o->len < o->size ? o->buf + o->len : NULL;
  int n = vsnprintf(at, at ? o->size - o->len : 0, fmt, ap);
  va_end(ap);
  if (n > 0)
    o->len += (size_t)n;
}

/* The file OpenBLAS was loaded from, or "static" when it is linked into the
 * same object as the library (the program's default, CSVREG_STATIC_BLAS). */
static void blas_where(out_buf *o) {
#if defined(__GNUC__) && defined(__ELF__)
  /* ISO C has no cast from a function to void *; POSIX's dladdr needs one. */
  union {
    char *(*fn)(void);
    void *p;
  } blas_fn = {openblas_get_config};
  union {
    size_t (*fn)(char *, size_t);
    void *p;
  } self_fn = {csvreg_build_info};
  Dl_info blas, self;
  if (dladdr(blas_fn.p, &blas) && dladdr(self_fn.p, &self)) {
    if (blas.dli_fbase == self.dli_fbase)
      put(o, " (linked in statically)");
    else if (blas.dli_fname)
      put(o, " (%s)", blas.dli_fname);
  }
#else
  (void)o;
#endif
}

static const char *simd_path(void) {
#if defined(__GNUC__) && defined(__x86_64__) && defined(__SSE2__) && !defined(CSVREG_NO_SIMD)
  return csvreg__simd_avx2() ? "AVX2" : "SSE2";
#else
  return "scalar";
#endif
}

size_t csvreg_build_info(char *buf, size_t size) {
  out_buf o = {buf, buf ? size : 0, 0};
  if (o.size)
    buf[0] = '\0';
  put(&o, "build: %s", CSVREG_BUILD_TYPE);
#ifdef __VERSION__
#if defined(__clang__)
  put(&o, ", clang %s", __clang_version__);
#elif defined(__GNUC__)
  put(&o, ", GCC %s", __VERSION__);
#endif
#endif
#ifdef CSVREG_BUILD_LTO
  put(&o, ", LTO");
#endif
#ifdef CSVREG_BUILD_SANITIZE
  put(&o, ", AddressSanitizer + UBSan");
#endif
  put(&o, "\n");

  const char *cfg = openblas_get_config();
  put(&o, "blas: %s", cfg && cfg[0] ? cfg : "OpenBLAS");
  blas_where(&o);
  put(&o, "\n");

  put(&o, "simd: %s (record scanner and number parser; CSVREG_SIMD=sse2 selects SSE2)\n",
      simd_path());

#ifdef CSVREG_HAVE_ISAL
  put(&o, "decompress: gzip (ISA-L %d.%d.%d)", ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION,
      ISAL_PATCH_VERSION);
#else
  put(&o, "decompress: gzip (zlib %s)", zlibVersion());
#endif
#ifdef CSVREG_HAVE_ZSTD
  put(&o, ", zstd %s", ZSTD_versionString());
#endif
#ifdef CSVREG_HAVE_LZMA
  put(&o, ", xz (liblzma %s)", lzma_version_string());
#endif
#ifdef CSVREG_HAVE_BZIP2
  {
    /* "1.0.8, 13-Jul-2019": the version is the part before the comma. */
    const char *v = BZ2_bzlibVersion();
    put(&o, ", bzip2 %.*s", (int)strcspn(v, ","), v);
  }
#endif
  put(&o, "\n");

#if defined(__GNUC__) && defined(__ELF__)
  /* A program that draws through a loaded module (csvreg's does) says so
   * itself: the line is here only when cairo is linked. */
  if (cairo_version_string)
    put(&o, "plot: cairo %s\n", cairo_version_string());
#endif
  return o.len;
}
