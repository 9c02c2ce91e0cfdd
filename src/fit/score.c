/*
 * score.c - the squared error of a fit on the rows of another accumulator,
 * from that accumulator alone. The accumulator is a sufficient statistic of
 * its rows for any linear predictor: with A = [1 | X-K | y-K_y] (rows scaled
 * by sqrt(w)) and c = (K_y - b0 - b'K, -b, 1), the residuals are A c, so
 * SSE = |A c|^2 = |R c|^2 with the state's own shift K. The constant entry
 * is the residual of the shift row, which keeps the digits of data with
 * large offsets. This is what makes held-out and cross-validation scores
 * exact in one pass. Each kernel evaluates |A c|^2 from its own numbers
 * (kernel_ops.resid_ss: |R c|^2, or W (c0 + c'mean)^2 + c'Cc).
 */
#include <math.h>
#include <string.h>

#include "fit_impl.h"
#include "internal.h"
#include "linalg.h"

/* The fit's coefficients as c = (c0, -b, 1) on a's shift; aliased terms are 0. */
static void residual_vector(const csvreg_accum *a, const csvreg_fit *fit, double *c) {
  const size_t p = csvreg__accum_nterms(a), ic = (size_t)csvreg__accum_intercept(a);
  const double *shift = csvreg__accum_shift(a);
  double c0 = 0;
  if (ic) {
    c0 = shift[p] - (fit->terms[0].aliased ? 0.0 : fit->terms[0].estimate);
    for (size_t j = 0; j < p; j++)
      if (!fit->terms[1 + j].aliased)
        c0 -= fit->terms[1 + j].estimate * shift[j];
  }
  c[0] = c0;
  for (size_t j = 0; j < p; j++)
    c[1 + j] = fit->terms[ic + j].aliased ? 0.0 : -fit->terms[ic + j].estimate;
  c[1 + p] = 1.0;
}

csvreg_status csvreg_accum_score(const csvreg_accum *a, const csvreg_fit *fit, csvreg_score *out,
                                 csvreg_error *err) {
  if (!a || !fit || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "score: NULL argument");
  /* a released accumulator has no numbers to score with (it read NULL) */
  csvreg_status live = csvreg__accum_check_live(a, err);
  if (live)
    return live;
  const size_t p = csvreg__accum_nterms(a), ic = (size_t)csvreg__accum_intercept(a);
  if (fit->s.nterms != p + ic || fit->s.intercept != csvreg__accum_intercept(a) || !fit->target ||
      strcmp(fit->target, csvreg__accum_target_name(a)) != 0)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "score: the fit and the accumulator have other terms");
  for (size_t j = 0; j < p; j++)
    if (strcmp(fit->terms[ic + j].name, csvreg__accum_term_name(a, j)) != 0)
      return csvreg__err_set(err, CSVREG_E_USAGE, "score: term %zu is '%s' in the fit, '%s' here",
                             j + 1, fit->terms[ic + j].name, csvreg__accum_term_name(a, j));
  accum_totals tot;
  csvreg__accum_totals_get(a, &tot);
  memset(out, 0, sizeof *out);
  out->n = tot.counts.used;
  out->sum_w = tot.sum_w;
  if (tot.counts.used == 0) {
    out->sse = out->mse = out->rmse = out->tss = out->r_squared = NAN;
    return CSVREG_OK;
  }
  double c[CSVREG_MAX_TERMS + 2];
  residual_vector(a, fit, c);
  double sse, tss;
  csvreg__accum_resid_ss(a, c, &sse, &tss);
  out->sse = sse;
  out->mse = sse / tot.sum_w;
  out->rmse = sqrt(out->mse);
  out->tss = tss;
  out->r_squared = isfinite(tss) && tss > 0 ? 1.0 - sse / tss : NAN;
  return CSVREG_OK;
}

void csvreg_scores_mean(const csvreg_score *scores, size_t n, csvreg_score *mean) {
  double s[3] = {0, 0, 0};
  size_t c[3] = {0, 0, 0};
  memset(mean, 0, sizeof *mean);
  for (size_t f = 0; f < n; f++) {
    const csvreg_score *sc = &scores[f];
    double x[3] = {sc->mse, sc->rmse, sc->r_squared};
    for (int i = 0; i < 3; i++)
      if (isfinite(x[i]))
        s[i] += x[i], c[i]++;
    mean->n += sc->n;
    mean->sum_w += sc->sum_w;
  }
  mean->mse = c[0] ? s[0] / (double)c[0] : NAN;
  mean->rmse = c[1] ? s[1] / (double)c[1] : NAN;
  mean->r_squared = c[2] ? s[2] / (double)c[2] : NAN;
  mean->sse = mean->tss = NAN;
}
