/*
 * predict.c - predictions from a model, and their confidence and prediction
 * intervals as R's predict.lm(interval=) computes them.
 *
 * The variance of a fitted value at row x is sigma^2 x'(X'WX)^-1 x. Forming
 * (X'WX)^-1 in the original coordinates and multiplying out loses digits
 * when the data sit far from zero, so the model keeps the triangular factor
 * U of the *shifted* design (U'U = A'A, A = [1 | X-K] over the kept terms)
 * and computes |U^-T (1, x-K)|^2 with one triangular solve per block of rows.
 *
 * A model saved from a --vcov fit keeps its robust covariance V (issue 13,
 * model_vcov.c): the variance of a fitted value is then x'Vx in the original
 * coordinates (as R computes it from sandwich's V; V has no factor to shift),
 * and a new observation's sigma^2 / w is added for a prediction interval, as
 * statsmodels' get_prediction does under a robust cov_type; the quantile is
 * t on the residual degrees of freedom, as lmtest::coefci's intervals.
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <Rmath.h>

#include "fit_impl.h"
#include "internal.h"
#include "linalg.h"
#include "model_impl.h"

csvreg_status csvreg__model_prepare_factor(csvreg_model *m, csvreg_error *err) {
  const csvreg_fit *f = m->fit;
  const size_t nc = f->s.nterms;
  size_t rank = 0;
  m->kept = malloc((nc ? nc : 1) * sizeof *m->kept);
  if (!m->kept)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < nc; j++)
    if (!f->terms[j].aliased)
      m->kept[rank++] = j;
  m->rank = rank;
  if (!(m->u = calloc(rank * rank, sizeof *m->u)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  /* The kernel's numbers give the factor (qr: R's kept columns; normal: the
   * moments, by Cholesky). */
  int info;
  csvreg_status st = csvreg__accum_design_factor(m->accum, m->kept, rank, m->u, &info, err);
  if (st)
    return st;
  if (info != 0) {
    /* Predictions still work; intervals will say why they cannot. */
    free(m->u);
    m->u = NULL;
  }
  return st;
}

/* A model of csvreg_model_new_from_fit has no design factor. */
static csvreg_status for_saving(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_USAGE,
                         "a model made from a fit for saving (csvreg_model_new_from_fit) has no "
                         "design factor: load the saved model for intervals and leverages");
}

/* A model read with CSVREG_MODEL_READ_PREDICT or _UPDATE has no design
 * factor. */
static csvreg_status no_factor(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_USAGE,
                         "a model read for predictions only or for --update "
                         "(CSVREG_MODEL_READ_PREDICT, _UPDATE) has no design factor: read it "
                         "without those flags for intervals and leverages");
}

/* Rows per triangular solve: the workspace stays small for any n. */
#define PREDICT_BLOCK 1024

/* V (rank x nb): rows i0 .. i0 + nb of x, shifted, over the kept terms,
 * one per column, as the stored factor's columns. */
static void shifted_rows(const csvreg_model *m, const double *x, size_t ldx, size_t i0, size_t nb,
                         double *v) {
  const csvreg_accum *a = m->accum;
  const size_t rank = m->rank, ic = (size_t)csvreg__accum_intercept(a);
  for (size_t k = 0; k < rank; k++) {
    size_t slot = m->kept[k];
    if (ic && slot == 0) {
      for (size_t i = 0; i < nb; i++)
        v[i * rank + k] = 1.0;
    } else {
      size_t j = slot - ic;
      const double *xj = x + j * ldx + i0;
      double kj = csvreg__accum_shift(a)[j];
      for (size_t i = 0; i < nb; i++)
        v[i * rank + k] = xj[i] - kj;
    }
  }
}

static csvreg_status predict_rows(const csvreg_model *m, size_t n, const double *x, size_t ldx,
                                  const double *pw, csvreg_interval iv, double level, double *yhat,
                                  double *lower, double *upper, csvreg_error *err);

csvreg_status csvreg_model_predict(const csvreg_model *m, size_t n, const double *x, size_t ldx,
                                   csvreg_interval iv, double level, double *yhat, double *lower,
                                   double *upper, csvreg_error *err) {
  return predict_rows(m, n, x, ldx, NULL, iv, level, yhat, lower, upper, err);
}

csvreg_status csvreg_model_predict_weighted(const csvreg_model *m, size_t n, const double *x,
                                            size_t ldx, const double *w, csvreg_interval iv,
                                            double level, double *yhat, double *lower,
                                            double *upper, csvreg_error *err) {
  return predict_rows(m, n, x, ldx, w, iv, level, yhat, lower, upper, err);
}

/* The intervals of a model with a robust covariance V (q x q, NaN where
 * aliased): x'Vx over the kept slots, x = (1, row) with an intercept. */
static void robust_intervals(const csvreg_model *m, size_t n, const double *x, size_t ldx,
                             const double *pw, csvreg_interval iv, double level, const double *yhat,
                             double *lower, double *upper) {
  const csvreg_fit *f = m->fit;
  const size_t q = f->s.nterms, ic = (size_t)csvreg__accum_intercept(m->accum);
  const double s2 = f->s.residual_sd * f->s.residual_sd;
  const double tq = qt((1.0 - level) / 2.0, f->s.df_residual, 1, 0);
  for (size_t i = 0; i < n; i++) {
    double var = 0;
    for (size_t a = 0; a < q; a++) {
      if (f->terms[a].aliased)
        continue;
      double xa = ic && a == 0 ? 1.0 : x[(a - ic) * ldx + i], row = 0;
      for (size_t b = 0; b < q; b++)
        if (!f->terms[b].aliased)
          row += m->rcov[b * q + a] * (ic && b == 0 ? 1.0 : x[(b - ic) * ldx + i]);
      var += xa * row;
    }
    if (iv == CSVREG_INTERVAL_PREDICTION)
      var += pw ? s2 / pw[i] : s2;
    double hw = tq * sqrt(var > 0 ? var : 0); /* V is semi-definite: no -0 roundoff */
    lower[i] = yhat[i] + hw;
    upper[i] = yhat[i] - hw;
  }
}

/* pw: the new rows' weights for a prediction interval (NULL: 1), as
 * predict.lm(weights=): the new observation's variance is sigma^2 / w. */
static csvreg_status predict_rows(const csvreg_model *m, size_t n, const double *x, size_t ldx,
                                  const double *pw, csvreg_interval iv, double level, double *yhat,
                                  double *lower, double *upper, csvreg_error *err) {
  if (!m || !yhat || (n && csvreg__accum_nterms(m->accum) && !x) ||
      (csvreg__accum_nterms(m->accum) && n && ldx < n))
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "predict: missing data or leading dimension < rows");
  const csvreg_fit *f = m->fit;
  const csvreg_accum *a = m->accum;
  const size_t p = csvreg__accum_nterms(a), ic = (size_t)csvreg__accum_intercept(a);
  if (iv != CSVREG_INTERVAL_NONE) {
    if (!lower || !upper)
      return csvreg__err_set(err, CSVREG_E_USAGE, "predict: an interval needs lower and upper");
    if (!(level > 0 && level < 1))
      return csvreg__err_set(err, CSVREG_E_USAGE, "confidence level %g is not in (0, 1)", level);
    if (!(f->s.df_residual > 0) || !isfinite(f->s.residual_sd))
      return csvreg__err_set(err, CSVREG_E_NUMERIC,
                             "the model has no residual degrees of freedom: no intervals");
    if (m->for_saving)
      return for_saving(err);
    if (m->no_factor)
      return no_factor(err);
    if (!m->u)
      return csvreg__err_set(
          err, CSVREG_E_NUMERIC,
          "the model's design factor is singular: no intervals (try --solver qr)");
  }
  /* As predict.lm: X %*% beta with the aliased coefficients left out. */
  double b0 = ic && !f->terms[0].aliased ? f->terms[0].estimate : 0.0;
  for (size_t i = 0; i < n; i++)
    yhat[i] = b0;
  for (size_t j = 0; j < p; j++) {
    if (f->terms[ic + j].aliased)
      continue;
    double bj = f->terms[ic + j].estimate;
    const double *xj = x + j * ldx;
    for (size_t i = 0; i < n; i++)
      yhat[i] += bj * xj[i];
  }
  if (iv == CSVREG_INTERVAL_NONE || n == 0)
    return CSVREG_OK;
  if (m->rcov) {
    robust_intervals(m, n, x, ldx, pw, iv, level, yhat, lower, upper);
    return CSVREG_OK;
  }
  const size_t rank = m->rank;
  double *v = malloc(rank * (n < PREDICT_BLOCK ? n : PREDICT_BLOCK) * sizeof *v);
  if (!v)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  double s2 = f->s.residual_sd * f->s.residual_sd;
  double tq = qt((1.0 - level) / 2.0, f->s.df_residual, 1, 0); /* negative, as R's tfrac */
  for (size_t i0 = 0; i0 < n; i0 += PREDICT_BLOCK) {
    size_t nb = n - i0 < PREDICT_BLOCK ? n - i0 : PREDICT_BLOCK;
    shifted_rows(m, x, ldx, i0, nb, v);
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, (int)rank, (int)nb,
                1.0, m->u, (int)rank, v, (int)rank);
    for (size_t i = 0; i < nb; i++) {
      double ip = 0;
      for (size_t k = 0; k < rank; k++)
        ip += v[i * rank + k] * v[i * rank + k];
      ip *= s2;
      double pv = pw ? s2 / pw[i0 + i] : s2;
      double hw = tq * sqrt(iv == CSVREG_INTERVAL_PREDICTION ? ip + pv : ip);
      lower[i0 + i] = yhat[i0 + i] + hw;
      upper[i0 + i] = yhat[i0 + i] - hw;
    }
  }
  free(v);
  return CSVREG_OK;
}

/* The training fit's influence measures at rows of it, as R's lm.influence
 * (hatvalues), rstandard and cooks.distance: the leverage is
 * w x'(X'WX)^-1 x from the stored factor (the quantity under the interval's
 * se.fit), the residuals are weighted by sqrt(w) for the other two, and
 * sigma and the rank are the fit's. A leverage above 1 - 10 eps is 1, as R
 * rounds it; what is infinite there is NaN, as R has it. */
csvreg_status csvreg_model_influence(const csvreg_model *m, size_t n, const double *x, size_t ldx,
                                     const double *y, const double *w, const double *yhat,
                                     double *resid, double *hat, double *rstd, double *cooks,
                                     csvreg_error *err) {
  if (!m || !y || !yhat || (n && csvreg__accum_nterms(m->accum) && !x) ||
      (csvreg__accum_nterms(m->accum) && n && ldx < n))
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "influence: missing data or leading dimension < rows");
  const int need_h = hat || rstd || cooks;
  if (need_h && m->for_saving)
    return for_saving(err);
  if (need_h && m->no_factor)
    return no_factor(err);
  if (need_h && !m->u)
    return csvreg__err_set(err, CSVREG_E_NUMERIC,
                           "the model's design factor is singular: no leverages (try --solver qr)");
  const csvreg_fit *f = m->fit;
  const size_t rank = m->rank;
  const double sd = f->s.df_residual > 0 ? f->s.residual_sd : NAN;
  double *v = NULL;
  if (need_h && n && rank &&
      !(v = malloc(rank * (n < PREDICT_BLOCK ? n : PREDICT_BLOCK) * sizeof *v)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t i0 = 0; i0 < n; i0 += PREDICT_BLOCK) {
    size_t nb = n - i0 < PREDICT_BLOCK ? n - i0 : PREDICT_BLOCK;
    if (need_h && rank) {
      shifted_rows(m, x, ldx, i0, nb, v);
      cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, (int)rank,
                  (int)nb, 1.0, m->u, (int)rank, v, (int)rank);
    }
    for (size_t i = 0; i < nb; i++) {
      const size_t r = i0 + i;
      const double e = y[r] - yhat[r], wi = w ? w[r] : 1.0;
      if (resid)
        resid[r] = e;
      if (!need_h)
        continue;
      double q = 0;
      for (size_t k = 0; k < rank; k++)
        q += v[i * rank + k] * v[i * rank + k];
      double h = wi * q;
      if (h > 1 - 10 * DBL_EPSILON)
        h = 1;
      if (hat)
        hat[r] = h;
      /* R leaves zero-weight rows out of both */
      const double we = wi > 0 ? sqrt(wi) * e : NAN;
      if (rstd) {
        double t = we / (sd * sqrt(1 - h));
        rstd[r] = isinf(t) ? NAN : t;
      }
      if (cooks) {
        double t = we / (sd * (1 - h));
        t = t * t * h / (double)rank;
        cooks[r] = isinf(t) ? NAN : t;
      }
    }
  }
  free(v);
  return CSVREG_OK;
}
