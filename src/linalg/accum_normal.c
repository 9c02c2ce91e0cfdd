/*
 * accum_normal.c - the co-moment kernel (--solver normal).
 *
 * The state is the weight W, the weighted means of the shifted columns
 * [X-K | y-K_y] and their centred co-moment matrix C = sum w (v-mean)(v-mean)'.
 * A block is centred on its own mean (two passes over the block, which is in
 * cache), folded with one dsyrk, and combined with the running state by the
 * pairwise update of Chan, Golub and LeVeque:
 *     C = C_a + C_b + d d' W_a W_b / W,   d = mean_b - mean_a.
 * Centring keeps data with large offsets exact, but forming C squares the
 * condition number: polynomials and near-collinear columns lose digits here
 * that the QR kernel keeps. It is the faster kernel for wide data.
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

/* Adds the block (mean mb, co-moments cb, weight wb) into the state. */
static void chan_update(csvreg_accum *a, double wa, const double *mb, const double *cb, double wb) {
  const size_t m = a->m;
  if (wa == 0) {
    memcpy(a->mean, mb, m * sizeof *mb);
    memcpy(a->com, cb, m * m * sizeof *cb);
    return;
  }
  double wt = wa + wb, f = wa * wb / wt;
  for (size_t j = 0; j < m; j++) {
    double dj = mb[j] - a->mean[j];
    for (size_t i = 0; i <= j; i++) {
      double di = mb[i] - a->mean[i];
      a->com[j * m + i] += cb[j * m + i] + di * dj * f;
    }
  }
  for (size_t j = 0; j < m; j++)
    a->mean[j] += (mb[j] - a->mean[j]) * (wb / wt);
}

csvreg_status accum_normal_fold(csvreg_accum *a, size_t n, const double *x, size_t ldx,
                                const double *y, const double *w, csvreg_error *err) {
  const size_t m = a->m, p = a->p;
  /* Workspace: the centred block (n x m), then its mean and co-moments. */
  size_t need = n * m + m + m * m;
  csvreg_status st = accum_reserve(a, (need + a->q - 1) / a->q, err);
  if (st)
    return st;
  double *z = a->work, *mb = z + n * m, *cb = mb + m;
  size_t rows = 0;
  double wb = 0;
  for (size_t i = 0; i < n; i++)
    if (!w || w[i] > 0) {
      rows++;
      wb += w ? w[i] : 1.0;
    }
  if (rows == 0)
    return CSVREG_OK;
  for (size_t j = 0; j < m; j++) {
    const double *src = j < p ? x + j * ldx : y;
    double k = a->shift[j], s = 0;
    double *zj = z + j * rows;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
      if (w && !(w[i] > 0))
        continue;
      zj[o] = src[i] - k;
      s += (w ? w[i] : 1.0) * zj[o];
      o++;
    }
    double mean = s / wb, c = 0;
    /* Second pass: the correction term of the two-pass algorithm removes
     * the rounding error of the first mean. */
    o = 0;
    for (size_t i = 0; i < n; i++) {
      if (w && !(w[i] > 0))
        continue;
      c += (w ? w[i] : 1.0) * (zj[o] - mean);
      o++;
    }
    mean += c / wb;
    mb[j] = mean;
    o = 0;
    for (size_t i = 0; i < n; i++) {
      if (w && !(w[i] > 0))
        continue;
      zj[o] = (zj[o] - mean) * (w ? sqrt(w[i]) : 1.0);
      o++;
    }
  }
  memset(cb, 0, m * m * sizeof *cb);
  cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)m, (int)rows, 1.0, z, (int)rows, 0.0, cb,
              (int)m);
  chan_update(a, a->sum_w, mb, cb, wb);
  return CSVREG_OK;
}

csvreg_status accum_normal_merge(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err) {
  const size_t m = dst->m;
  double *mb = malloc(m * sizeof *mb);
  if (!mb)
    return err_set(err, CSVREG_E_NOMEM, "out of memory");
  /* Means move onto dst's shift; co-moments are shift-invariant. */
  for (size_t j = 0; j < m; j++)
    mb[j] = src->mean[j] + (src->shift[j] - dst->shift[j]);
  chan_update(dst, dst->sum_w, mb, src->com, src->sum_w);
  free(mb);
  return CSVREG_OK;
}

csvreg_status solve_normal(const csvreg_accum *a, double tol, solved *out, csvreg_error *err) {
  const size_t m = a->m, p = a->p, ic = (size_t)a->intercept, nc = ic + p;
  csvreg_status st = CSVREG_OK;
  int *aliased = (int *)out->aliased;
  double *A = malloc(m * m * sizeof *A); /* moments, full symmetric */
  double *u = malloc(m * m * sizeof *u); /* incremental Cholesky, for aliasing */
  double *s = malloc(m * m * sizeof *s); /* scaled kept block, factored */
  double *rhs = malloc(m * sizeof *rhs), *d = malloc(m * sizeof *d);
  double *xbar = malloc(m * sizeof *xbar);
  size_t *kept = malloc(m * sizeof *kept);
  if (!A || !u || !s || !rhs || !d || !xbar || !kept) {
    st = err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t j = 0; j < m; j++)
    for (size_t i = 0; i <= j; i++) {
      double v = a->com[j * m + i];
      if (!ic) /* raw moments about 0 (no shift without an intercept) */
        v += a->sum_w * a->mean[i] * a->mean[j];
      A[j * m + i] = A[i * m + j] = v;
    }
  /* Aliasing in column order by an incremental Cholesky. Forming the
   * moments squares the condition number, so this kernel cannot see ratios
   * below about sqrt(eps): its tolerance is at least 1e-7. */
  double t = tol > 1e-7 ? tol : 1e-7;
  size_t r = 0;
  for (size_t j = 0; j < p; j++) {
    double ajj = A[j * m + j], dd = ajj;
    if (!isfinite(ajj)) { /* squares of |x| beyond ~1e154: not "aliased" */
      st = err_set(err, CSVREG_E_NUMERIC,
                   "the co-moments of '%s' overflow: the values are too large for the normal "
                   "solver; use the qr solver or rescale the data",
                   a->term_names[j]);
      goto done;
    }
    for (size_t kk = 0; kk < r; kk++) {
      double sum = A[j * m + kept[kk]];
      for (size_t l = 0; l < kk; l++)
        sum -= u[kk * m + l] * u[r * m + l];
      u[r * m + kk] = sum / u[kk * m + kk];
      dd -= u[r * m + kk] * u[r * m + kk];
    }
    if (!(ajj > 0) || !(dd > t * t * ajj)) {
      aliased[ic + j] = 1;
      continue;
    }
    aliased[ic + j] = 0;
    u[r * m + r] = sqrt(dd);
    kept[r++] = j;
  }
  if (ic)
    aliased[0] = 0;
  out->rank = r + ic;
  if (out->rank == 0) {
    st = err_set(err, CSVREG_E_NUMERIC, "every term is aliased: nothing to estimate");
    goto done;
  }
  for (size_t i = 0; i < nc * nc; i++)
    out->cov[i] = NAN;
  for (size_t j = 0; j < nc; j++)
    out->coef[j] = NAN;
  double ayy = A[p * m + p], mss = 0;
  out->cond = 1.0;
  if (r > 0) {
    /* Scale to unit diagonal, factor with dpotrf, estimate the condition
     * with dpocon, solve with dpotrs and invert with dpotri. */
    for (size_t kk = 0; kk < r; kk++)
      d[kk] = sqrt(A[kept[kk] * m + kept[kk]]);
    for (size_t jj = 0; jj < r; jj++) {
      for (size_t ii = 0; ii < r; ii++)
        s[jj * r + ii] = A[kept[jj] * m + kept[ii]] / (d[ii] * d[jj]);
      rhs[jj] = A[p * m + kept[jj]] / d[jj];
    }
    double anorm = LAPACKE_dlansy(LAPACK_COL_MAJOR, '1', 'U', (lapack_int)r, s, (lapack_int)r);
    /* s has a unit diagonal, so its norm is at least 1: LAPACKE returns 0
     * when it could not allocate its workspace. */
    if (!(anorm > 0)) {
      st = err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)r, s, (lapack_int)r);
    if (info != 0) {
      st = err_set(err, CSVREG_E_NUMERIC,
                   "the co-moment matrix is not positive definite (column %d); try --solver qr",
                   (int)info);
      goto done;
    }
    double rcond = 0;
    if (LAPACKE_dpocon(LAPACK_COL_MAJOR, 'U', (lapack_int)r, s, (lapack_int)r, anorm, &rcond) ==
        LAPACK_WORK_MEMORY_ERROR) {
      st = err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    /* cond(X) = sqrt(cond(X'X)): report the design's, as the QR kernel does. */
    out->cond = rcond > 0 ? sqrt(1.0 / rcond) : INFINITY;
    /* mss = |U^-T rhs|^2 before solving in place. */
    memcpy(xbar, rhs, r * sizeof *rhs);
    LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'U', 'T', 'N', (lapack_int)r, 1, s, (lapack_int)r, xbar,
                   (lapack_int)r);
    for (size_t kk = 0; kk < r; kk++)
      mss += xbar[kk] * xbar[kk];
    LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)r, 1, s, (lapack_int)r, rhs, (lapack_int)r);
    LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)r, s, (lapack_int)r);
    for (size_t jj = 0; jj < r; jj++) {
      out->coef[ic + kept[jj]] = rhs[jj] / d[jj];
      for (size_t ii = 0; ii < r; ii++) {
        double v = ii <= jj ? s[jj * r + ii] : s[ii * r + jj];
        out->cov[(ic + kept[jj]) * nc + ic + kept[ii]] = v / (d[ii] * d[jj]);
      }
    }
  }
  out->mss = mss;
  /* y'y - explained: cannot resolve residuals below about eps * TSS. */
  out->rss = ayy - mss > 0 ? ayy - mss : 0.0;
  if (ic) {
    /* b0 = ybar - sum b_j xbar_j in original coordinates;
     * Var(b0) = 1/W + xbar' C^-1 xbar, Cov(b0, b) = -C^-1 xbar. */
    double b0 = a->mean[p] + a->shift[p], v00 = 1.0 / a->sum_w;
    for (size_t jj = 0; jj < r; jj++)
      xbar[jj] = a->mean[kept[jj]] + a->shift[kept[jj]];
    for (size_t jj = 0; jj < r; jj++) {
      b0 -= out->coef[1 + kept[jj]] * xbar[jj];
      double c = 0;
      for (size_t ii = 0; ii < r; ii++)
        c += out->cov[(1 + kept[jj]) * nc + 1 + kept[ii]] * xbar[ii];
      out->cov[(1 + kept[jj]) * nc] = out->cov[1 + kept[jj]] = -c;
      v00 += c * xbar[jj];
    }
    out->coef[0] = b0;
    out->cov[0] = v00;
  }
  /* Digits: slopes with their column norms d (centred with an intercept,
   * whose column means are xbar). */
  for (size_t jj = 0; jj < r; jj++)
    rhs[jj] = out->coef[ic + kept[jj]];
  out->digits =
      digits_estimate(r, rhs, d, out->cond, 1, ic ? &out->coef[0] : NULL, ic ? xbar : NULL);
done:
  free(A);
  free(u);
  free(s);
  free(rhs);
  free(d);
  free(xbar);
  free(kept);
  return st;
}
