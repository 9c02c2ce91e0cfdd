/*
 * status.c - status codes, the error record and its one-line rendering.
 * Every module reports through csvreg__err_set/csvreg__err_at so messages look alike.
 * Also the library's one BLAS thread policy (below), which must live in an
 * object that every program using the library links.
 */
#define _GNU_SOURCE /* dladdr, setenv */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *csvreg_version(void) { return CSVREG_VERSION; }

/* Exported by OpenBLAS; declared here because the cblas.h that Debian's
 * alternatives select may be netlib's, which lacks it. */
void openblas_set_num_threads(int n);

/* One OpenBLAS thread unless OPENBLAS_NUM_THREADS is set (csvreg.h says why).
 * OpenBLAS reads the variable and starts its pool in its own constructor, and
 * spare threads, once started, spin even after openblas_set_num_threads(1)
 * (measured on 2M x 10 rows: 0.57 s wall, 0.69 s CPU against 0.47 s and
 * 0.45 s when they never start). So:
 *   - OpenBLAS linked into the same object as this code (the program with the
 *     static libopenblas.a): constructors with a priority run before
 *     OpenBLAS's, which has none, so setting the variable here is in time and
 *     no spare thread is ever created;
 *   - OpenBLAS a shared library of its own (libcsvreg.so, or a user's program
 *     with libopenblas.so): the loader ran its constructor first, as it does
 *     for every library an object needs, so the pool exists and can only be
 *     shrunk.
 * dladdr tells the two apart. Constructors run only for linked objects; this
 * one's object is linked wherever the library is used, as every module
 * reports through csvreg__err_set. */
#if defined(__GNUC__) && defined(__ELF__)
#include <dlfcn.h>

__attribute__((constructor(101))) static void blas_one_thread(void) {
  if (getenv("OPENBLAS_NUM_THREADS"))
    return;
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  /* ISO C has no cast from a function to void *; POSIX's dladdr needs one. */
  union {
    void (*fn)(int);
    void *p;
  } blas_fn = {openblas_set_num_threads};
  union {
    int (*fn)(csvreg_status);
    void *p;
  } self_fn = {csvreg_is_error};
  Dl_info blas, self;
  if (dladdr(blas_fn.p, &blas) && dladdr(self_fn.p, &self) && blas.dli_fbase != self.dli_fbase)
    openblas_set_num_threads(1);
}
#endif

int csvreg_is_error(csvreg_status s) { return s != CSVREG_OK && s != CSVREG_END; }

const char *csvreg_status_str(csvreg_status s) {
  switch (s) {
  case CSVREG_OK: return "success";
  case CSVREG_END: return "end of input";
  case CSVREG_E_USAGE: return "invalid argument";
  case CSVREG_E_NOMEM: return "out of memory";
  case CSVREG_E_IO: return "input/output error";
  case CSVREG_E_CSV: return "malformed CSV";
  case CSVREG_E_COLUMN: return "bad column";
  case CSVREG_E_VALUE: return "bad value";
  case CSVREG_E_NUMERIC: return "numerical failure";
  case CSVREG_E_LIMIT: return "limit exceeded";
  case CSVREG_E_FORMAT: return "bad file format";
  case CSVREG_E_INTERNAL: return "internal error";
  }
  return "unknown status";
}

void csvreg_error_clear(csvreg_error *e) {
  if (e)
    memset(e, 0, sizeof *e);
}

csvreg_status csvreg__err_set(csvreg_error *err, csvreg_status st, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->status = st;
  }
  return st;
}

void csvreg__err_at(csvreg_error *err, const char *source, uint64_t line, uint64_t record,
                    size_t column, const char *column_name) {
  if (!err)
    return;
  if (source)
    snprintf(err->source, sizeof err->source, "%s", source);
  err->line = line;
  err->record = record;
  err->column = column;
  if (column_name)
    snprintf(err->column_name, sizeof err->column_name, "%s", column_name);
  else
    err->column_name[0] = '\0';
}

void csvreg__err_quote(char *dst, size_t size, const char *s, size_t len, size_t max) {
  size_t o = 0;
  if (size == 0)
    return;
  for (size_t i = 0; i < len && i < max; i++) {
    unsigned char ch = (unsigned char)s[i];
    char tmp[8];
    int k;
    if (ch == '"' || ch == '\\')
      k = snprintf(tmp, sizeof tmp, "\\%c", ch);
    else if (ch < 0x20 || ch == 0x7f)
      k = snprintf(tmp, sizeof tmp, "\\x%02x", ch);
    else {
      tmp[0] = (char)ch;
      k = 1;
    }
    if (o + (size_t)k + 4 >= size)
      break;
    memcpy(dst + o, tmp, (size_t)k);
    o += (size_t)k;
  }
  if (len > max && o + 4 < size) {
    memcpy(dst + o, "...", 3);
    o += 3;
  }
  dst[o] = '\0';
}

size_t csvreg_error_format(const csvreg_error *e, char *buf, size_t size) {
  char where[512] = "";
  size_t w = 0;
  if (e->source[0])
    w += (size_t)snprintf(where + w, sizeof where - w, "%s:", e->source);
  if (e->line && w < sizeof where)
    w += (size_t)snprintf(where + w, sizeof where - w, "%llu:", (unsigned long long)e->line);
  if (e->column && w < sizeof where) {
    if (e->column_name[0])
      w += (size_t)snprintf(where + w, sizeof where - w, " column %zu (%s):", e->column,
                            e->column_name);
    else
      w += (size_t)snprintf(where + w, sizeof where - w, " column %zu:", e->column);
  }
  int n = snprintf(buf, size, "%s%s%s", where, w ? " " : "", e->message);
  return n < 0 ? 0 : (size_t)n;
}

char *csvreg__xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}
