/*
 * accum_ops.c - operations for scheduled refits on a whole state:
 * exponential forgetting (scale) and rolling windows (subtract).
 *
 * Scaling every weight by lambda scales the square-root factor by
 * sqrt(lambda) and the co-moments by lambda; the means and the shift do not
 * move. Subtracting inverts the pairwise (Chan) update of accum_normal.c:
 *     W_a = W - W_b,   mean_a = (W mean - W_b mean_b) / W_a,
 *     C_a = C - C_b - d d' W_a W_b / W,   d = mean_b - mean_a,
 * which cancels digits when the removed rows dominate, so the result is
 * checked to stay positive semi-definite. There is no stable QR analogue
 * (hyperbolic downdates of R lose accuracy without bound), hence normal only.
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

csvreg_status csvreg_accum_scale(csvreg_accum *a, double lambda, csvreg_error *err) {
  if (!a)
    return err_set(err, CSVREG_E_USAGE, "scale: missing accumulator");
  if (!(lambda > 0 && lambda <= 1))
    return err_set(err, CSVREG_E_USAGE, "decay %g: expected 0 < lambda <= 1", lambda);
  if (a->counts.used == 0 || lambda == 1)
    return CSVREG_OK;
  if (a->solver == CSVREG_SOLVER_QR) {
    double s = sqrt(lambda);
    for (size_t i = 0; i < a->q * a->q; i++)
      a->r[i] *= s;
  } else {
    for (size_t i = 0; i < a->m * a->m; i++)
      a->com[i] *= lambda;
  }
  a->sum_w *= lambda;
  a->sum_log_w += (double)a->counts.used * log(lambda);
  a->weighted = 1;
  return CSVREG_OK;
}

/* Positive semi-definiteness of the co-moments, up to rounding: the matrix
 * scaled to a unit diagonal (a correlation matrix, eigenvalues in [0, m])
 * plus a small ridge must have a Cholesky factor. A state that was not part
 * of dst leaves an eigenvalue of order -1 and fails; an exactly collinear
 * design (eigenvalue 0 up to rounding) passes. */
static int psd(const double *com, size_t m) {
  double *s = malloc(m * m * sizeof *s), *d = malloc(m * sizeof *d);
  int ok = s && d;
  for (size_t j = 0; ok && j < m; j++) {
    double v = com[j * m + j];
    if (v < 0)
      ok = 0;
    d[j] = v > 0 ? 1 / sqrt(v) : 0;
  }
  for (size_t j = 0; ok && j < m; j++)
    for (size_t i = 0; i <= j; i++)
      s[j * m + i] = com[j * m + i] * d[i] * d[j] + (i == j ? 1e-8 + (d[j] == 0) : 0);
  if (ok)
    ok = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)m, s, (lapack_int)m) == 0;
  free(s);
  free(d);
  return ok;
}

csvreg_status csvreg_accum_subtract(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err) {
  if (!dst || !src)
    return err_set(err, CSVREG_E_USAGE, "subtract: missing accumulator");
  if (dst->solver != CSVREG_SOLVER_NORMAL || src->solver != CSVREG_SOLVER_NORMAL)
    return err_set(err, CSVREG_E_USAGE,
                   "subtracting a state needs --solver normal: a QR factor cannot be downdated "
                   "stably (removing rows from R needs hyperbolic rotations, which lose "
                   "accuracy without bound); refit, or merge the states of the window instead");
  if (dst->p != src->p || dst->intercept != src->intercept || dst->ninputs != src->ninputs ||
      strcmp(dst->target_name, src->target_name) != 0)
    return err_set(err, CSVREG_E_USAGE, "subtract: the states differ in intercept or columns");
  for (size_t j = 0; j < dst->p; j++)
    if (strcmp(dst->term_names[j], src->term_names[j]) != 0)
      return err_set(err, CSVREG_E_USAGE, "subtract: the states differ in columns");
  const csvreg_counts *a = &dst->counts, *b = &src->counts;
  if (b->records > a->records || b->used > a->used || b->zero_weight > a->zero_weight ||
      b->dropped_na > a->dropped_na || b->dropped_bad > a->dropped_bad)
    return err_set(err, CSVREG_E_NUMERIC,
                   "subtract: the removed state has more rows than the state it is removed "
                   "from (it was not merged into it)");
  for (size_t k = 0; k < dst->ninputs; k++)
    if (src->na_by_input[k] > dst->na_by_input[k])
      return err_set(err, CSVREG_E_NUMERIC, "subtract: the removed state has more missing values");
  const size_t m = dst->m;
  double *mean = NULL, *com = NULL;
  double wa = dst->sum_w - src->sum_w;
  if (src->counts.used > 0 && dst->counts.used > src->counts.used) {
    if (!(wa > 0))
      return err_set(err, CSVREG_E_NUMERIC, "subtract: the remaining weight %g is not positive",
                     wa);
    mean = malloc(m * sizeof *mean);
    com = malloc(m * m * sizeof *com);
    if (!mean || !com) {
      free(mean);
      free(com);
      return err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    double f = wa * src->sum_w / dst->sum_w;
    double *mb = malloc(m * sizeof *mb);
    if (!mb) {
      free(mean);
      free(com);
      return err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < m; j++) { /* src's means on dst's shift */
      mb[j] = src->mean[j] + (src->shift[j] - dst->shift[j]);
      mean[j] = (dst->sum_w * dst->mean[j] - src->sum_w * mb[j]) / wa;
    }
    memset(com, 0, m * m * sizeof *com);
    for (size_t j = 0; j < m; j++)
      for (size_t i = 0; i <= j; i++)
        com[j * m + i] =
            dst->com[j * m + i] - src->com[j * m + i] - (mb[i] - mean[i]) * (mb[j] - mean[j]) * f;
    free(mb);
    if (!psd(com, m)) {
      free(mean);
      free(com);
      return err_set(err, CSVREG_E_NUMERIC,
                     "subtract: the result is not positive semi-definite: the removed state was "
                     "not part of the state it is removed from");
    }
  } else if (src->counts.used > 0 && dst->counts.used == src->counts.used) {
    /* Everything folded is removed: the empty state, if src really is dst
     * (up to the rounding of merging it in another order). */
    int same = fabs(dst->sum_w - src->sum_w) <= 1e-9 * dst->sum_w;
    for (size_t j = 0; same && j < m; j++) {
      double cj = dst->com[j * m + j], sd = sqrt(cj / dst->sum_w);
      double mb = src->mean[j] + (src->shift[j] - dst->shift[j]);
      same = fabs(cj - src->com[j * m + j]) <= 1e-8 * cj &&
             fabs(mb - dst->mean[j]) <= 1e-8 * (sd + fabs(dst->mean[j]));
    }
    if (!same)
      return err_set(err, CSVREG_E_NUMERIC,
                     "subtract: the removed state has as many rows as the state it is removed "
                     "from but other data (it was not merged into it)");
    mean = calloc(m, sizeof *mean);
    com = calloc(m * m, sizeof *com);
    if (!mean || !com) {
      free(mean);
      free(com);
      return err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    wa = 0;
  }
  if (mean) {
    memcpy(dst->mean, mean, m * sizeof *mean);
    memcpy(dst->com, com, m * m * sizeof *com);
    dst->sum_w = wa;
    dst->sum_log_w = dst->counts.used == src->counts.used ? 0 : dst->sum_log_w - src->sum_log_w;
    free(mean);
    free(com);
  }
  dst->counts.records -= b->records;
  dst->counts.used -= b->used;
  dst->counts.zero_weight -= b->zero_weight;
  dst->counts.dropped_na -= b->dropped_na;
  dst->counts.dropped_bad -= b->dropped_bad;
  for (size_t k = 0; k < dst->ninputs; k++)
    dst->na_by_input[k] -= src->na_by_input[k];
  return CSVREG_OK;
}
