/*
 * cells.c - a record's cells to doubles by the number parser's short path,
 * four at a time in AVX2 lanes where the CPU has them (numparse_avx2.h), one
 * at a time otherwise (numparse.h). The chunk's row loop calls these through
 * csvreg__cells_for; csvreg_record_parse_cells offers them to the programs that
 * read records themselves. The cells they stop at go to csvreg_parse_double
 * (and the missing-value tokens) in the caller.
 */
#include "cells.h"
#include "internal.h"
#include "numparse.h"
#include "numparse_avx2.h"

/* One cell at a time (a cells_fn). Its own function so that the loop keeps
 * everything in registers. */
static __attribute__((noinline)) size_t parse_plain(const csvreg_field *fields, const size_t *cols,
                                                    size_t k, size_t n, double *vals,
                                                    size_t stride) {
  for (; k < n; k++) {
    const csvreg_field *f = &fields[cols[k]];
    if (!numparse_short(f->ptr, f->len, &vals[k * stride]))
      break;
  }
  return k;
}

#if NUMPARSE_X4
/* Four cells at a time (numparse_avx2.h); `wide`: the record has
 * csvreg__reader_slack. The last group of a record may start below k: its cells
 * under k were parsed already (perhaps by the general path) and count as
 * done, unwritten. Returns at the first cell of a group that needs the
 * general path. */
static inline __attribute__((always_inline, target("avx2"))) size_t
parse_x4(const csvreg_field *fields, const size_t *cols, size_t k, size_t n, double *vals,
         size_t stride, const int wide) {
  if (n < 4)
    return parse_plain(fields, cols, k, n, vals, stride);
  while (k < n) {
    size_t g = k + 4 <= n ? k : n - 4;
    unsigned done = (1u << (k - g)) - 1;
    const char *s[4];
    size_t len[4];
    double out[4];
    for (int i = 0; i < 4; i++) {
      const csvreg_field *f = &fields[cols[g + i]];
      s[i] = f->ptr;
      len[i] = f->len;
    }
    unsigned ok = numparse_short_x4(s, len, out, wide) | done;
    if (ok == 15 && !done) { /* the common case, without a loop */
      double *v = vals + g * stride;
      v[0] = out[0];
      v[stride] = out[1];
      v[2 * stride] = out[2];
      v[3 * stride] = out[3];
      k = g + 4;
      continue;
    }
    unsigned run = ok == 15 ? 4 : (unsigned)__builtin_ctz(~ok);
    for (unsigned i = k - g; i < run; i++)
      vals[(g + i) * stride] = out[i];
    if (run < 4)
      return g + run;
    k = g + 4;
  }
  return n;
}

static __attribute__((noinline, target("avx2"))) size_t parse_plain_x4(const csvreg_field *fields,
                                                                       const size_t *cols, size_t k,
                                                                       size_t n, double *vals,
                                                                       size_t stride) {
  return parse_x4(fields, cols, k, n, vals, stride, 0);
}

static __attribute__((noinline, target("avx2"))) size_t parse_wide_x4(const csvreg_field *fields,
                                                                      const size_t *cols, size_t k,
                                                                      size_t n, double *vals,
                                                                      size_t stride) {
  return parse_x4(fields, cols, k, n, vals, stride, 1);
}
#endif

cells_fn csvreg__cells_for(const csvreg_reader *r) {
#if NUMPARSE_X4
  if (csvreg__reader_avx2(r))
    return csvreg__reader_slack(r) ? parse_wide_x4 : parse_plain_x4;
#endif
  (void)r;
  return parse_plain;
}

size_t csvreg_record_parse_cells(const csvreg_reader *r, const csvreg_record *rec,
                                 const size_t *cols, size_t k, size_t n, double *out,
                                 size_t stride) {
  if (!r || !rec || !cols || !out || k >= n)
    return k;
  return csvreg__cells_for(r)(rec->fields, cols, k, n, out, stride);
}
