/*
 * accum.c - the accumulator's lifecycle: new / add rows / add chunk / merge /
 * free, the row counts, the shift and the input checks. The numerical work
 * is in accum_qr.c and accum_normal.c behind the same two calls (fold,
 * merge), so either kernel serves every caller: streams, threads, shards.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"
#include "qr_update.h"
#include "spec.h"

const char *csvreg_solver_name(csvreg_solver s) {
  return s == CSVREG_SOLVER_NORMAL ? "normal" : "qr";
}

csvreg_status csvreg_solver_parse(const char *name, csvreg_solver *out) {
  if (name && strcmp(name, "qr") == 0)
    *out = CSVREG_SOLVER_QR;
  else if (name && strcmp(name, "normal") == 0)
    *out = CSVREG_SOLVER_NORMAL;
  else
    return CSVREG_E_USAGE;
  return CSVREG_OK;
}

void csvreg_accum_free(csvreg_accum *a) {
  if (!a)
    return;
  if (a->term_names)
    for (size_t j = 0; j < a->p; j++)
      free(a->term_names[j]);
  if (a->input_names)
    for (size_t k = 0; k < a->ninputs; k++)
      free(a->input_names[k]);
  free(a->term_names);
  free(a->input_names);
  free(a->target_name);
  free(a->na_by_input);
  free(a->shift);
  free(a->r);
  free(a->mean);
  free(a->com);
  free(a->work);
  free(a->tau);
  free(a);
}

static csvreg_status accum_alloc(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                                 int intercept, size_t ninputs, csvreg_error *err) {
  *out = NULL;
  if (solver != CSVREG_SOLVER_QR && solver != CSVREG_SOLVER_NORMAL)
    return err_set(err, CSVREG_E_USAGE, "unknown solver %d", (int)solver);
  if (nterms > CSVREG_MAX_TERMS)
    return err_set(err, CSVREG_E_LIMIT, "%zu terms: at most %d are supported", nterms,
                   CSVREG_MAX_TERMS);
  if (nterms == 0 && !intercept)
    return err_set(err, CSVREG_E_USAGE, "a model with no terms and no intercept");
  csvreg_accum *a = calloc(1, sizeof *a);
  if (!a)
    return err_set(err, CSVREG_E_NOMEM, "out of memory");
  a->solver = solver;
  a->p = nterms;
  a->intercept = intercept ? 1 : 0;
  a->m = nterms + 1;
  a->q = a->m + (size_t)a->intercept;
  a->ninputs = ninputs;
  a->term_names = calloc(nterms ? nterms : 1, sizeof *a->term_names);
  a->input_names = calloc(ninputs ? ninputs : 1, sizeof *a->input_names);
  a->na_by_input = calloc(ninputs ? ninputs : 1, sizeof *a->na_by_input);
  a->shift = calloc(a->m, sizeof *a->shift);
  if (solver == CSVREG_SOLVER_QR) {
    a->r = calloc(a->q * a->q, sizeof *a->r);
    a->qr_avx2 = QR_UPDATE_AVX2 && simd_avx2();
  } else {
    a->mean = calloc(a->m, sizeof *a->mean);
    a->com = calloc(a->m * a->m, sizeof *a->com);
  }
  if (!a->term_names || !a->input_names || !a->na_by_input || !a->shift ||
      (solver == CSVREG_SOLVER_QR ? !a->r : (!a->mean || !a->com))) {
    csvreg_accum_free(a);
    return err_set(err, CSVREG_E_NOMEM, "out of memory for %zu terms", nterms);
  }
  *out = a;
  return CSVREG_OK;
}

csvreg_status csvreg_accum_new(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                               int intercept, const char *const *term_names,
                               const char *target_name, csvreg_error *err) {
  csvreg_accum *a;
  csvreg_status st = accum_alloc(&a, solver, nterms, intercept, 0, err);
  if (st)
    return st;
  for (size_t j = 0; j < nterms; j++) {
    char buf[32];
    snprintf(buf, sizeof buf, "x%zu", j + 1);
    if (!(a->term_names[j] = xstrdup(term_names && term_names[j] ? term_names[j] : buf))) {
      csvreg_accum_free(a);
      return err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
  }
  if (!(a->target_name = xstrdup(target_name ? target_name : "y"))) {
    csvreg_accum_free(a);
    return err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  *out = a;
  return CSVREG_OK;
}

csvreg_status csvreg_accum_new_for_spec(csvreg_accum **out, const csvreg_spec *s,
                                        csvreg_solver solver, csvreg_error *err) {
  csvreg_accum *a;
  csvreg_status st = accum_alloc(&a, solver, s->nterms, s->intercept, s->ninputs, err);
  if (st)
    return st;
  int ok = (a->target_name = xstrdup(csvreg_spec_target_name(s))) != NULL;
  for (size_t j = 0; ok && j < s->nterms; j++)
    ok = (a->term_names[j] = xstrdup(csvreg_spec_term_name(s, j))) != NULL;
  for (size_t k = 0; ok && k < s->ninputs; k++)
    ok = (a->input_names[k] = xstrdup(s->input_names[k])) != NULL;
  if (!ok) {
    csvreg_accum_free(a);
    return err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  *out = a;
  return CSVREG_OK;
}

csvreg_status accum_reserve(csvreg_accum *a, size_t rows, csvreg_error *err) {
  if (rows <= a->work_rows)
    return CSVREG_OK;
  double *w = realloc(a->work, rows * a->q * sizeof *w);
  if (!w)
    return err_set(err, CSVREG_E_NOMEM, "out of memory for a block of %zu rows", rows);
  a->work = w;
  a->work_rows = rows;
  return CSVREG_OK;
}

/* Rows are folded in blocks of at most this many: the workspace stays
 * bounded whatever a caller passes to add_rows. */
#define FOLD_BLOCK 4096

/* Sets the shift from the first row with a positive weight, then folds. */
static csvreg_status fold(csvreg_accum *a, size_t n, const double *x, size_t ldx, const double *y,
                          const double *w, csvreg_error *err) {
  uint64_t used = 0, zero = 0;
  if (w)
    a->weighted = 1;
  double slw = 0;
  size_t first = n;
  for (size_t i = 0; i < n; i++) {
    double wi = w ? w[i] : 1.0;
    if (wi > 0) {
      if (first == n)
        first = i;
      used++;
      if (w)
        slw += log(wi);
    } else {
      zero++;
    }
  }
  if (!a->shifted && first < n) {
    if (a->intercept) {
      for (size_t j = 0; j < a->p; j++)
        a->shift[j] = x[j * ldx + first];
      a->shift[a->p] = y[first];
    }
    a->shifted = 1;
  }
  for (size_t i0 = 0; i0 < n && used; i0 += FOLD_BLOCK) {
    size_t nb = n - i0 < FOLD_BLOCK ? n - i0 : FOLD_BLOCK;
    csvreg_status st = a->solver == CSVREG_SOLVER_QR
                           ? accum_qr_fold(a, nb, x + i0, ldx, y + i0, w ? w + i0 : NULL, err)
                           : accum_normal_fold(a, nb, x + i0, ldx, y + i0, w ? w + i0 : NULL, err);
    if (st)
      return st;
    /* The normal kernel reads sum_w as the weight already folded. */
    double bw = 0;
    for (size_t i = 0; i < nb; i++)
      bw += w ? (w[i0 + i] > 0 ? w[i0 + i] : 0) : 1.0;
    a->sum_w += bw;
  }
  a->sum_log_w += slw;
  a->counts.used += used;
  a->counts.zero_weight += zero;
  return CSVREG_OK;
}

csvreg_status csvreg_accum_add_rows(csvreg_accum *a, size_t n, const double *x, size_t ldx,
                                    const double *y, const double *w, csvreg_error *err) {
  if (!a || (n && ((a->p && !x) || !y)) || (a->p && ldx < n))
    return err_set(err, CSVREG_E_USAGE, "add_rows: missing data or leading dimension < rows");
  /* Check everything before folding anything, so a rejected block leaves
   * the state as it was. */
  for (size_t i = 0; i < n; i++) {
    if (w && !(w[i] >= 0 && isfinite(w[i])))
      return err_set(err, CSVREG_E_VALUE, "row %zu: weight %g is not a finite number >= 0", i + 1,
                     w[i]);
    if (!isfinite(y[i]))
      return err_set(err, CSVREG_E_VALUE, "row %zu: target %g is not finite", i + 1, y[i]);
    for (size_t j = 0; j < a->p; j++)
      if (!isfinite(x[j * ldx + i]))
        return err_set(err, CSVREG_E_VALUE, "row %zu: term %zu is %g, not finite", i + 1, j + 1,
                       x[j * ldx + i]);
  }
  csvreg_status st = fold(a, n, x, ldx, y, w, err);
  if (st == CSVREG_OK)
    a->counts.records += n;
  return st;
}

csvreg_status csvreg_accum_add_chunk(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  const csvreg_counts *cc = csvreg_chunk_counts(c);
  /* The chunk's values came through the number parser, which admits only
   * finite numbers, and its weights were checked to be >= 0. */
  csvreg_status st = fold(a, csvreg_chunk_rows(c), x, ldx, y, w, err);
  if (st)
    return st;
  a->counts.records += cc->records;
  a->counts.dropped_na += cc->dropped_na;
  a->counts.dropped_bad += cc->dropped_bad;
  const uint64_t *na = csvreg_chunk_na_counts(c);
  for (size_t k = 0; k < a->ninputs; k++)
    a->na_by_input[k] += na[k];
  return CSVREG_OK;
}

static int same_names(char *const *a, char *const *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(a[i], b[i]) != 0)
      return 0;
  return 1;
}

csvreg_status csvreg_accum_merge(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err) {
  if (!dst || !src)
    return err_set(err, CSVREG_E_USAGE, "merge: missing accumulator");
  if (dst->solver != src->solver || dst->p != src->p || dst->intercept != src->intercept ||
      dst->ninputs != src->ninputs || strcmp(dst->target_name, src->target_name) != 0 ||
      !same_names(dst->term_names, src->term_names, dst->p) ||
      !same_names(dst->input_names, src->input_names, dst->ninputs))
    return err_set(err, CSVREG_E_USAGE,
                   "merge: the accumulators differ in solver, intercept or columns");
  if (src->counts.used > 0) {
    if (dst->counts.used == 0) {
      /* An empty destination takes the source's shift and factor as they are. */
      memcpy(dst->shift, src->shift, dst->m * sizeof *dst->shift);
      dst->shifted = src->shifted;
      if (dst->solver == CSVREG_SOLVER_QR) {
        memcpy(dst->r, src->r, dst->q * dst->q * sizeof *dst->r);
      } else {
        memcpy(dst->mean, src->mean, dst->m * sizeof *dst->mean);
        memcpy(dst->com, src->com, dst->m * dst->m * sizeof *dst->com);
      }
    } else {
      csvreg_status st = dst->solver == CSVREG_SOLVER_QR ? accum_qr_merge(dst, src, err)
                                                         : accum_normal_merge(dst, src, err);
      if (st)
        return st;
    }
    dst->sum_w += src->sum_w;
    dst->weighted |= src->weighted;
    dst->sum_log_w += src->sum_log_w;
  }
  dst->counts.records += src->counts.records;
  dst->counts.used += src->counts.used;
  dst->counts.zero_weight += src->counts.zero_weight;
  dst->counts.dropped_na += src->counts.dropped_na;
  dst->counts.dropped_bad += src->counts.dropped_bad;
  for (size_t k = 0; k < dst->ninputs; k++)
    dst->na_by_input[k] += src->na_by_input[k];
  return CSVREG_OK;
}

const csvreg_counts *csvreg_accum_counts(const csvreg_accum *a) { return &a->counts; }
csvreg_solver csvreg_accum_solver(const csvreg_accum *a) { return a->solver; }
