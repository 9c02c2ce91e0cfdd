/*
 * score.c - the squared error of a fit on the rows of another accumulator,
 * from that accumulator alone. The accumulator is a sufficient statistic of
 * its rows for any linear predictor: with A = [1 | X-K | y-K_y] (rows scaled
 * by sqrt(w)) and c = (K_y - b0 - b'K, -b, 1), the residuals are A c, so
 * SSE = |A c|^2 = |R c|^2 with the state's own shift K. The constant entry
 * is the residual of the shift row, which keeps the digits of data with
 * large offsets. This is what makes held-out and cross-validation scores
 * exact in one pass.
 */
#include <math.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

/* The fit's coefficients as c = (c0, -b, 1) on a's shift; aliased terms are 0. */
static void residual_vector(const csvreg_accum *a, const csvreg_fit *fit, double *c) {
  const size_t p = a->p, ic = (size_t)a->intercept;
  double c0 = 0;
  if (ic) {
    c0 = a->shift[p] - (fit->terms[0].aliased ? 0.0 : fit->terms[0].estimate);
    for (size_t j = 0; j < p; j++)
      if (!fit->terms[1 + j].aliased)
        c0 -= fit->terms[1 + j].estimate * a->shift[j];
  }
  c[0] = c0;
  for (size_t j = 0; j < p; j++)
    c[1 + j] = fit->terms[ic + j].aliased ? 0.0 : -fit->terms[ic + j].estimate;
  c[1 + p] = 1.0;
}

csvreg_status csvreg_accum_score(const csvreg_accum *a, const csvreg_fit *fit, csvreg_score *out,
                                 csvreg_error *err) {
  if (!a || !fit || !out)
    return err_set(err, CSVREG_E_USAGE, "score: NULL argument");
  const size_t p = a->p, ic = (size_t)a->intercept, q = a->q, m = a->m;
  if (fit->nterms != p + ic || fit->intercept != a->intercept || !fit->target ||
      strcmp(fit->target, a->target_name) != 0)
    return err_set(err, CSVREG_E_USAGE, "score: the fit and the accumulator have other terms");
  for (size_t j = 0; j < p; j++)
    if (strcmp(fit->terms[ic + j].name, a->term_names[j]) != 0)
      return err_set(err, CSVREG_E_USAGE, "score: term %zu is '%s' in the fit, '%s' here", j + 1,
                     fit->terms[ic + j].name, a->term_names[j]);
  memset(out, 0, sizeof *out);
  out->n = a->counts.used;
  out->sum_w = a->sum_w;
  if (a->counts.used == 0) {
    out->sse = out->mse = out->rmse = out->tss = out->r_squared = NAN;
    return CSVREG_OK;
  }
  double c[CSVREG_MAX_TERMS + 2];
  residual_vector(a, fit, c);
  double sse = 0, tss = NAN;
  if (a->solver == CSVREG_SOLVER_QR) {
    /* Without an intercept the state is R of [X | y]: skip c0. */
    const double *cc = ic ? c : c + 1;
    for (size_t i = 0; i < q; i++) {
      double s = 0;
      for (size_t j = i; j < q; j++)
        s += a->r[j * q + i] * cc[j];
      sse += s * s;
    }
    if (ic) {
      tss = 0;
      for (size_t i = 1; i < q; i++)
        tss += a->r[(q - 1) * q + i] * a->r[(q - 1) * q + i];
    }
  } else {
    /* sum w (c0 + c'z)^2 = W (c0 + c'mean)^2 + c' C c, C the centred
     * co-moments (upper triangle). */
    const double *cr = c + 1;
    double d = c[0];
    for (size_t j = 0; j < m; j++)
      d += cr[j] * a->mean[j];
    double quad = 0;
    for (size_t j = 0; j < m; j++) {
      double s = a->com[j * m + j] * cr[j];
      for (size_t i = 0; i < j; i++)
        s += 2.0 * a->com[j * m + i] * cr[i];
      quad += cr[j] * s;
    }
    sse = a->sum_w * d * d + (quad > 0 ? quad : 0.0);
    tss = a->com[(m - 1) * m + (m - 1)];
  }
  out->sse = sse;
  out->mse = sse / a->sum_w;
  out->rmse = sqrt(out->mse);
  out->tss = tss;
  out->r_squared = isfinite(tss) && tss > 0 ? 1.0 - sse / tss : NAN;
  return CSVREG_OK;
}
