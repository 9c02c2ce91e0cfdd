/*
 * accum.c - the accumulator's lifecycle: new / add rows / merge / reset /
 * free, the row counts, the shift and the input checks, and the accessors the
 * later stages use (linalg.h). The numerical work is behind the kernel table
 * (kernel.c, accum_qr.c, accum_normal.c): every call here dispatches through
 * a->ops, so either kernel serves every caller: streams, threads, shards.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

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
  free(a->k);
  csvreg__accum_ws_free(a->ws);
  csvreg__accum_levels_free(a);
  csvreg__accum_head_drop(a);
  free(a);
}

static csvreg_status accum_alloc(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                                 int intercept, size_t ninputs, int open, csvreg_error *err) {
  *out = NULL;
  const kernel_ops *ops = csvreg__kernel_for(solver);
  if (!ops)
    return csvreg__err_set(err, CSVREG_E_USAGE, "unknown solver %d", (int)solver);
  if (nterms > CSVREG_MAX_TERMS)
    return csvreg__err_set(err, CSVREG_E_LIMIT, "%zu terms: at most %d are supported", nterms,
                           CSVREG_MAX_TERMS);
  if (nterms == 0 && !intercept && !open)
    return csvreg__err_set(err, CSVREG_E_USAGE, "a model with no terms and no intercept");
  csvreg_accum *a = calloc(1, sizeof *a);
  if (!a)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  a->ops = ops;
  a->p = nterms;
  a->intercept = intercept ? 1 : 0;
  a->nresp = 1;
  a->m = nterms + a->nresp;
  a->q = a->m + (size_t)a->intercept;
  a->ninputs = ninputs;
  a->term_names = calloc(nterms ? nterms : 1, sizeof *a->term_names);
  a->input_names = calloc(ninputs ? ninputs : 1, sizeof *a->input_names);
  a->na_by_input = calloc(ninputs ? ninputs : 1, sizeof *a->na_by_input);
  a->shift = calloc(a->m, sizeof *a->shift);
  a->k = calloc(ops->state_len(a->m, a->q), sizeof *a->k);
  if (!a->term_names || !a->input_names || !a->na_by_input || !a->shift || !a->k) {
    csvreg_accum_free(a);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for %zu terms", nterms);
  }
  *out = a;
  return CSVREG_OK;
}

static csvreg_status new_named(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                               int intercept, const char *const *term_names,
                               const char *target_name, size_t ninputs,
                               const char *const *input_names, int open, csvreg_error *err) {
  csvreg_accum *a;
  csvreg_status st = csvreg__blas_ready(err);
  if (st)
    return st;
  st = accum_alloc(&a, solver, nterms, intercept, input_names ? ninputs : 0, open, err);
  if (st)
    return st;
  int ok = (a->target_name = csvreg__xstrdup(target_name ? target_name : "y")) != NULL;
  for (size_t j = 0; ok && j < nterms; j++) {
    char buf[32];
    snprintf(buf, sizeof buf, "x%zu", j + 1);
    ok = (a->term_names[j] = csvreg__xstrdup(term_names && term_names[j] ? term_names[j] : buf)) !=
         NULL;
  }
  for (size_t k = 0; ok && k < a->ninputs; k++)
    ok = (a->input_names[k] = csvreg__xstrdup(input_names[k])) != NULL;
  if (!ok) {
    csvreg_accum_free(a);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  *out = a;
  return CSVREG_OK;
}

csvreg_status csvreg__accum_new_named(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                                      int intercept, const char *const *term_names,
                                      const char *target_name, size_t ninputs,
                                      const char *const *input_names, csvreg_error *err) {
  return new_named(out, solver, nterms, intercept, term_names, target_name, ninputs, input_names, 0,
                   err);
}

csvreg_status csvreg__accum_new_open(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                                     int intercept, const char *const *term_names,
                                     const char *target_name, size_t ninputs,
                                     const char *const *input_names, csvreg_error *err) {
  return new_named(out, solver, nterms, intercept, term_names, target_name, ninputs, input_names, 1,
                   err);
}

csvreg_status csvreg_accum_new(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                               int intercept, const char *const *term_names,
                               const char *target_name, csvreg_error *err) {
  return csvreg__accum_new_named(out, solver, nterms, intercept, term_names, target_name, 0, NULL,
                                 err);
}

void csvreg__accum_reset(csvreg_accum *a) {
  if (a->k) /* NULL once released: nothing to zero */
    memset(a->k, 0, a->ops->state_len(a->m, a->q) * sizeof *a->k);
  memset(a->shift, 0, a->m * sizeof *a->shift);
  memset(a->na_by_input, 0, (a->ninputs ? a->ninputs : 1) * sizeof *a->na_by_input);
  memset(&a->counts, 0, sizeof a->counts);
  a->sum_w = a->sum_log_w = 0;
  a->shifted = a->weighted = 0;
  csvreg__accum_head_reset(a);
}

/* Rows are folded in blocks of at most this many: the workspace stays
 * bounded whatever a caller passes to add_rows. */
#define FOLD_BLOCK 4096

static accum_ws *own_ws(csvreg_accum *a, csvreg_error *err) {
  if (!a->ws && !(a->ws = csvreg__accum_ws_new()))
    csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return a->ws;
}

/* Sets the shift from the first row with a positive weight, then folds. */
csvreg_status csvreg__accum_fold(csvreg_accum *a, accum_ws *ws, size_t n, const double *x,
                                 size_t ldx, const double *y, const double *w, csvreg_error *err) {
  if (a && a->released)
    return csvreg__accum_check_live(a, err);
  uint64_t used = 0, zero = 0;
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
  /* A state that never folds a row never gets a workspace. */
  if (used && !ws && !(ws = own_ws(a, err)))
    return CSVREG_E_NOMEM;
  if (w)
    a->weighted = 1;
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
    csvreg_status st = a->ops->accumulate(a, ws, nb, x + i0, ldx, y + i0, w ? w + i0 : NULL, err);
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
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "add_rows: missing data or leading dimension < rows");
  /* Check everything before folding anything, so a rejected block leaves
   * the state as it was. */
  for (size_t i = 0; i < n; i++) {
    if (w && !(w[i] >= 0 && isfinite(w[i])))
      return csvreg__err_set(err, CSVREG_E_VALUE, "row %zu: weight %g is not a finite number >= 0",
                             i + 1, w[i]);
    if (!isfinite(y[i]))
      return csvreg__err_set(err, CSVREG_E_VALUE, "row %zu: target %g is not finite", i + 1, y[i]);
    for (size_t j = 0; j < a->p; j++)
      if (!isfinite(x[j * ldx + i]))
        return csvreg__err_set(err, CSVREG_E_VALUE, "row %zu: term %zu is %g, not finite", i + 1,
                               j + 1, x[j * ldx + i]);
  }
  csvreg_status st = csvreg__accum_fold(a, NULL, n, x, ldx, y, w, err);
  if (st == CSVREG_OK)
    a->counts.records += n;
  return st;
}

void csvreg__accum_add_counts(csvreg_accum *a, uint64_t records, uint64_t dropped_na,
                              uint64_t dropped_bad, const uint64_t *na) {
  a->counts.records += records;
  a->counts.dropped_na += dropped_na;
  a->counts.dropped_bad += dropped_bad;
  for (size_t k = 0; na && k < a->ninputs; k++)
    a->na_by_input[k] += na[k];
}

static int same_names(char *const *a, char *const *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(a[i], b[i]) != 0)
      return 0;
  return 1;
}

/* Merged counts must stay below 2^63: a state file writes them as JSON's
 * signed 64-bit integers, and a count that wrapped would be a silently
 * wrong n (issue 17). Checked before anything changes, so a refused merge
 * leaves dst as it was. */
csvreg_status csvreg__accum_counts_check(const csvreg_accum *dst, const csvreg_accum *src,
                                         csvreg_error *err) {
  const csvreg_counts *a = &dst->counts, *b = &src->counts;
  const uint64_t av[5] = {a->records, a->used, a->zero_weight, a->dropped_na, a->dropped_bad};
  const uint64_t bv[5] = {b->records, b->used, b->zero_weight, b->dropped_na, b->dropped_bad};
  static const char *const what[5] = {"records", "used rows", "zero-weight rows",
                                      "rows dropped for NA", "rows dropped as bad"};
  for (size_t i = 0; i < 5; i++) {
    uint64_t sum;
    if (__builtin_add_overflow(av[i], bv[i], &sum) || sum > (uint64_t)INT64_MAX)
      return csvreg__err_set(err, CSVREG_E_LIMIT,
                             "counter overflow: the merged states would hold more than 2^63 - 1 "
                             "%s (%llu + %llu)",
                             what[i], (unsigned long long)av[i], (unsigned long long)bv[i]);
  }
  for (size_t k = 0; k < dst->ninputs && k < src->ninputs; k++) {
    uint64_t sum;
    if (__builtin_add_overflow(dst->na_by_input[k], src->na_by_input[k], &sum) ||
        sum > (uint64_t)INT64_MAX)
      return csvreg__err_set(err, CSVREG_E_LIMIT,
                             "counter overflow: the merged states would hold more than 2^63 - 1 "
                             "missing values of one input");
  }
  return CSVREG_OK;
}

csvreg_status csvreg__accum_merge_ws(csvreg_accum *dst, const csvreg_accum *src, accum_ws *ws,
                                     csvreg_error *err) {
  csvreg_status live = csvreg__accum_check_live(dst, err);
  if (!live)
    live = csvreg__accum_check_live(src, err);
  if (live)
    return live;
  if (!dst || !src)
    return csvreg__err_set(err, CSVREG_E_USAGE, "merge: missing accumulator");
  /* A level head (accum_head.c) joins the dense state first. src is
   * const to its callers: flushing changes how it holds its rows, not
   * which state it is. */
  csvreg_status hst = csvreg__accum_head_flush(dst, err);
  if (!hst)
    hst = csvreg__accum_head_flush((csvreg_accum *)src, err);
  if (hst)
    return hst;
  if (dst->ops != src->ops || dst->p != src->p || dst->nresp != src->nresp ||
      dst->intercept != src->intercept || dst->ninputs != src->ninputs ||
      strcmp(dst->target_name, src->target_name) != 0 ||
      !same_names(dst->term_names, src->term_names, dst->p) ||
      !same_names(dst->input_names, src->input_names, dst->ninputs))
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "merge: the accumulators differ in solver, intercept or columns");
  csvreg_status cst = csvreg__accum_counts_check(dst, src, err);
  if (cst)
    return cst;
  if (src->counts.used > 0) {
    if (dst->counts.used == 0) {
      /* An empty destination takes the source's shift and numbers as they are. */
      memcpy(dst->shift, src->shift, dst->m * sizeof *dst->shift);
      dst->shifted = src->shifted;
      memcpy(dst->k, src->k, dst->ops->state_len(dst->m, dst->q) * sizeof *dst->k);
    } else {
      if (!ws && !(ws = own_ws(dst, err)))
        return CSVREG_E_NOMEM;
      csvreg_status st = dst->ops->merge(dst, ws, src, err);
      if (st)
        return st;
    }
    dst->sum_w += src->sum_w;
    dst->weighted |= src->weighted;
    dst->sum_log_w += src->sum_log_w;
  }
  dst->counts.used += src->counts.used;
  dst->counts.zero_weight += src->counts.zero_weight;
  csvreg__accum_add_counts(dst, src->counts.records, src->counts.dropped_na,
                           src->counts.dropped_bad, src->na_by_input);
  return CSVREG_OK;
}

csvreg_status csvreg_accum_merge(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err) {
  /* Pre-select states (a column per level seen) align by name, a level one
   * side never saw being a column of zeros on its rows: exact, as threads
   * merge (sink.c). */
  accum_frame fr;
  if (dst && src && csvreg__accum_levels_nvars(src) && csvreg__accum_frame_get(dst, &fr) &&
      !fr.selected) {
    csvreg_status st = csvreg__accum_merge_aligned(dst, src, NULL, err);
    return st ? st : csvreg__accum_levels_union(dst, src, err);
  }
  return csvreg__accum_merge_ws(dst, src, NULL, err);
}

csvreg_status csvreg__accum_solve_kernel(const csvreg_accum *a, double tol, solved *out,
                                         csvreg_error *err) {
  csvreg_status st = csvreg__accum_check_live(a, err);
  return st ? st : a->ops->solve(a, tol, out, err);
}

double *csvreg__accum_release_numbers(csvreg_accum *a) {
  double *k = a->k;
  a->k = NULL;
  a->released = 1;
  return k;
}

csvreg_status csvreg__accum_check_live(const csvreg_accum *a, csvreg_error *err) {
  if (a && a->released)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "the accumulator's numbers were given to a fit (solve_release)");
  return CSVREG_OK;
}

void csvreg__accum_resid_ss(const csvreg_accum *a, const double *c, double *sse, double *tss) {
  a->ops->resid_ss(a, c, sse, tss);
}

csvreg_status csvreg__accum_design_factor(const csvreg_accum *a, const size_t *kept, size_t rank,
                                          double *u, int *info, csvreg_error *err) {
  if (a->released)
    return csvreg__accum_check_live(a, err);
  return a->ops->design_factor(a, kept, rank, u, info, err);
}

size_t csvreg__accum_kernel_fields(const csvreg_accum *a, kernel_field out[KERNEL_MAX_FIELDS]) {
  return a->ops->fields(a, out);
}

const double *csvreg__accum_kernel_numbers(const csvreg_accum *a) { return a->k; }
size_t csvreg__accum_kernel_len(const csvreg_accum *a) { return a->ops->state_len(a->m, a->q); }

void csvreg__accum_restore(csvreg_accum *a, const accum_totals *t, const uint64_t *na,
                           const double *shift, const double *numbers) {
  a->counts = t->counts;
  a->weighted = t->weighted;
  a->shifted = t->shifted;
  a->sum_w = t->sum_w;
  a->sum_log_w = t->sum_log_w;
  memcpy(a->na_by_input, na, a->ninputs * sizeof *na);
  memcpy(a->shift, shift, a->m * sizeof *shift);
  if (numbers != a->k) /* the state reader writes into a->k itself */
    memcpy(a->k, numbers, csvreg__accum_kernel_len(a) * sizeof *a->k);
  /* The kernels read the full square of a triangle: only its upper part
   * is in a file. */
  kernel_field f[KERNEL_MAX_FIELDS];
  size_t nf = a->ops->fields(a, f);
  for (size_t i = 0; i < nf; i++)
    if (f[i].kind == KERNEL_FIELD_UPPER)
      for (size_t c = 0; c < f[i].n; c++)
        for (size_t r = c + 1; r < f[i].n; r++)
          a->k[f[i].offset + c * f[i].n + r] = 0.0;
}

void csvreg__accum_totals_get(const csvreg_accum *a, accum_totals *t) {
  t->counts = a->counts;
  t->weighted = a->weighted;
  t->shifted = a->shifted;
  t->sum_w = a->sum_w;
  t->sum_log_w = a->sum_log_w;
}

const csvreg_counts *csvreg_accum_counts(const csvreg_accum *a) { return &a->counts; }
csvreg_solver csvreg_accum_solver(const csvreg_accum *a) { return a->ops->solver; }
size_t csvreg__accum_nterms(const csvreg_accum *a) { return a->p; }
int csvreg__accum_intercept(const csvreg_accum *a) { return a->intercept; }
size_t csvreg__accum_ncols(const csvreg_accum *a) { return a->m; }
size_t csvreg__accum_nresp(const csvreg_accum *a) { return a->nresp; }
const char *csvreg__accum_solver_name(const csvreg_accum *a) { return a->ops->name; }
const char *csvreg__accum_term_name(const csvreg_accum *a, size_t j) { return a->term_names[j]; }
const char *csvreg__accum_target_name(const csvreg_accum *a) { return a->target_name; }
size_t csvreg__accum_ninputs(const csvreg_accum *a) { return a->ninputs; }
const char *csvreg__accum_input_name(const csvreg_accum *a, size_t k) { return a->input_names[k]; }
const uint64_t *csvreg__accum_na_by_input(const csvreg_accum *a) { return a->na_by_input; }
const double *csvreg__accum_shift(const csvreg_accum *a) { return a->shift; }
