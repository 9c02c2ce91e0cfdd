/*
 * split.c - sending a chunk's rows to several accumulators (held-out rows,
 * cross-validation folds) by a hash of each row's record number, so that a
 * row's part depends only on the record and the seed: the same on every
 * machine, for every chunk size, and reproducible outside csvreg. With
 * categorical terms every part takes all of the chunk's levels and design
 * columns (csvreg__accum_chunk_join), whichever part its rows go to, so the
 * parts keep one level list and, once finished, the same columns.
 */
#include <stdlib.h>
#include <string.h>

#include "accum_spec.h"
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
  const int factors = csvreg__chunk_spec(c)->nfactors > 0;
  const size_t nc = factors ? csvreg__chunk_ncolumns(c) : csvreg__accum_nterms(parts[0]);
  for (size_t i = 0; i < n; i++)
    if (part[i] >= nparts)
      return csvreg__err_set(err, CSVREG_E_USAGE, "add_chunk_split: part %zu of %zu", part[i],
                             nparts);
  csvreg_status st = CSVREG_OK;
  size_t *at = malloc((nc ? nc : 1) * sizeof *at);
  if (!at)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < nc; j++)
    at[j] = j;
  /* every part takes the chunk's levels and columns first: the widest
   * part sizes the gather buffer */
  size_t p = nc;
  for (size_t k = 0; factors && k < nparts && !st; k++) {
    int identity;
    if ((st = csvreg__accum_chunk_join(parts[k], c, at, &identity, err)))
      break;
    if (csvreg__accum_nterms(parts[k]) > p)
      p = csvreg__accum_nterms(parts[k]);
  }
  /* One gather buffer (rows x (p + 2)) reused for every part. */
  double *buf = st ? NULL : malloc((n ? n : 1) * (p + 2) * sizeof *buf);
  if (!st && !buf)
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t k = 0; k < nparts && !st; k++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      m += part[i] == k;
    if (m == 0)
      continue;
    int identity = 1;
    if (factors && (st = csvreg__accum_chunk_join(parts[k], c, at, &identity, err)))
      break; /* a no-op now: it gives this part's column of each chunk column */
    const size_t pk = factors ? csvreg__accum_nterms(parts[k]) : nc;
    double *bx = buf, *by = buf + m * pk, *bw = by + m;
    if (pk > nc || !identity)
      memset(bx, 0, m * pk * sizeof *bx);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
      if (part[i] != k)
        continue;
      for (size_t j = 0; j < nc; j++)
        bx[at[j] * m + o] = x[j * ldx + i];
      by[o] = y[i];
      if (w)
        bw[o] = w[i];
      o++;
    }
    st = csvreg_accum_add_rows(parts[k], m, bx, m, by, w ? bw : NULL, err);
  }
  free(buf);
  free(at);
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
