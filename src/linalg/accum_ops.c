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
 * The checks on names and counts are here; the numbers are the kernel's
 * (kernel_ops.scale, .subtract), so a kernel without a downdate leaves its
 * entry NULL and gets the message below.
 */
#include <math.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

csvreg_status csvreg_accum_scale(csvreg_accum *a, double lambda, csvreg_error *err) {
  if (a && a->released)
    return csvreg__accum_check_live(a, err);
  if (!a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "scale: missing accumulator");
  if (!(lambda > 0 && lambda <= 1))
    return csvreg__err_set(err, CSVREG_E_USAGE, "decay %g: expected 0 < lambda <= 1", lambda);
  if (a->counts.used == 0 || lambda == 1)
    return CSVREG_OK;
  a->ops->scale(a, lambda);
  a->sum_w *= lambda;
  a->sum_log_w += (double)a->counts.used * log(lambda);
  a->weighted = 1;
  return CSVREG_OK;
}

csvreg_status csvreg_accum_subtract(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err) {
  if (src && src->released)
    return csvreg__accum_check_live(src, err);
  if (dst && dst->released)
    return csvreg__accum_check_live(dst, err);
  if (!dst || !src)
    return csvreg__err_set(err, CSVREG_E_USAGE, "subtract: missing accumulator");
  if (!dst->ops->subtract || dst->ops != src->ops)
    return csvreg__err_set(
        err, CSVREG_E_USAGE,
        "subtracting a state needs --solver normal: a QR factor cannot be downdated "
        "stably (removing rows from R needs hyperbolic rotations, which lose "
        "accuracy without bound); refit, or merge the states of the window instead");
  if (dst->p != src->p || dst->nresp != src->nresp || dst->intercept != src->intercept ||
      dst->ninputs != src->ninputs || strcmp(dst->target_name, src->target_name) != 0)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "subtract: the states differ in intercept or columns");
  for (size_t j = 0; j < dst->p; j++)
    if (strcmp(dst->term_names[j], src->term_names[j]) != 0)
      return csvreg__err_set(err, CSVREG_E_USAGE, "subtract: the states differ in columns");
  const csvreg_counts *a = &dst->counts, *b = &src->counts;
  if (b->records > a->records || b->used > a->used || b->zero_weight > a->zero_weight ||
      b->dropped_na > a->dropped_na || b->dropped_bad > a->dropped_bad)
    return csvreg__err_set(err, CSVREG_E_NUMERIC,
                           "subtract: the removed state has more rows than the state it is removed "
                           "from (it was not merged into it)");
  for (size_t k = 0; k < dst->ninputs; k++)
    if (src->na_by_input[k] > dst->na_by_input[k])
      return csvreg__err_set(err, CSVREG_E_NUMERIC,
                             "subtract: the removed state has more missing values");
  csvreg_status st = dst->ops->subtract(dst, src, err);
  if (st)
    return st;
  dst->counts.records -= b->records;
  dst->counts.used -= b->used;
  dst->counts.zero_weight -= b->zero_weight;
  dst->counts.dropped_na -= b->dropped_na;
  dst->counts.dropped_bad -= b->dropped_bad;
  for (size_t k = 0; k < dst->ninputs; k++)
    dst->na_by_input[k] -= src->na_by_input[k];
  return CSVREG_OK;
}
