/*
 * split.c - sending a chunk's rows to several accumulators (held-out rows,
 * cross-validation folds) by a hash of each row's record number, so that a
 * row's part depends only on the record and the seed: the same on every
 * machine, for every chunk size, and reproducible outside csvreg.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "linalg.h"

/* Steele, Lea and Flood's splitmix64 finaliser: a bijection of 64-bit words
 * whose outputs pass BigCrush for consecutive inputs. */
static uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double csvreg_split_uniform(uint64_t record, uint64_t seed) {
  uint64_t h = splitmix64(splitmix64(seed) ^ record);
  return (double)(h >> 11) * 0x1.0p-53; /* 53 random bits: exact in [0, 1) */
}

csvreg_status csvreg_accum_add_chunk_split(csvreg_accum *const *parts, size_t nparts,
                                           const csvreg_chunk *c, const size_t *part,
                                           csvreg_error *err) {
  if (!parts || nparts == 0 || !c || (!part && csvreg_chunk_rows(c)))
    return csvreg__err_set(err, CSVREG_E_USAGE, "add_chunk_split: missing argument");
  const double *x, *y, *w;
  size_t ldx, n = csvreg_chunk_rows(c);
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  const size_t p = csvreg__accum_nterms(parts[0]);
  for (size_t i = 0; i < n; i++)
    if (part[i] >= nparts)
      return csvreg__err_set(err, CSVREG_E_USAGE, "add_chunk_split: part %zu of %zu", part[i],
                             nparts);
  /* One gather buffer (rows x (p + 2)) reused for every part. */
  double *buf = malloc((n ? n : 1) * (p + 2) * sizeof *buf);
  if (!buf)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg_status st = CSVREG_OK;
  for (size_t k = 0; k < nparts && !st; k++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      m += part[i] == k;
    if (m == 0)
      continue;
    double *bx = buf, *by = buf + m * p, *bw = by + m;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
      if (part[i] != k)
        continue;
      for (size_t j = 0; j < p; j++)
        bx[j * m + o] = x[j * ldx + i];
      by[o] = y[i];
      if (w)
        bw[o] = w[i];
      o++;
    }
    st = csvreg_accum_add_rows(parts[k], m, bx, m, by, w ? bw : NULL, err);
  }
  free(buf);
  if (st)
    return st;
  /* add_rows counted the rows it got as records; the rest of the chunk's
   * records (dropped as missing or bad) and the per-column NA counts go to
   * parts[0], so the parts' counts add up to the chunk's. */
  const csvreg_counts *cc = csvreg_chunk_counts(c);
  csvreg__accum_add_counts(parts[0], cc->records - n, cc->dropped_na, cc->dropped_bad,
                           csvreg_chunk_na_counts(c));
  return CSVREG_OK;
}
