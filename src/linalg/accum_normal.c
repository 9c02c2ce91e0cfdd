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
 * The state a->k holds the means [m], then C [m x m]; csvreg__kernel_normal at the
 * end lists the operations (accum_impl.h), including the downdate.
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

/* a->k holds the means [m], then the co-moments [m x m]. */
static double *mean_of(const csvreg_accum *a) { return a->k; }
static double *com_of(const csvreg_accum *a) { return a->k + a->m; }

/* Adds the block (mean mb, co-moments cb, weight wb) into the state. */
static void chan_update(csvreg_accum *a, double wa, const double *mb, const double *cb, double wb) {
  const size_t m = a->m;
  double *mean = mean_of(a), *com = com_of(a);
  if (wa == 0) {
    memcpy(mean, mb, m * sizeof *mb);
    memcpy(com, cb, m * m * sizeof *cb);
    return;
  }
  double wt = wa + wb, f = wa * wb / wt;
  for (size_t j = 0; j < m; j++) {
    double dj = mb[j] - mean[j];
    for (size_t i = 0; i <= j; i++) {
      double di = mb[i] - mean[i];
      com[j * m + i] += cb[j * m + i] + di * dj * f;
    }
  }
  for (size_t j = 0; j < m; j++)
    mean[j] += (mb[j] - mean[j]) * (wb / wt);
}

static csvreg_status normal_accumulate(csvreg_accum *a, accum_ws *ws, size_t n, const double *x,
                                       size_t ldx, const double *y, const double *w,
                                       csvreg_error *err) {
  const size_t m = a->m, p = a->p;
  /* Workspace: the centred block (n x m), then its mean and co-moments. */
  csvreg_status st = csvreg__accum_ws_reserve(ws, n * m + m + m * m, err);
  if (st)
    return st;
  double *z = ws->work, *mb = z + n * m, *cb = mb + m;
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

static csvreg_status normal_merge(csvreg_accum *dst, accum_ws *ws, const csvreg_accum *src,
                                  csvreg_error *err) {
  (void)ws;
  const size_t m = dst->m;
  double *mb = malloc(m * sizeof *mb);
  if (!mb)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  /* Means move onto dst's shift; co-moments are shift-invariant. */
  for (size_t j = 0; j < m; j++)
    mb[j] = mean_of(src)[j] + (src->shift[j] - dst->shift[j]);
  chan_update(dst, dst->sum_w, mb, com_of(src), src->sum_w);
  free(mb);
  return CSVREG_OK;
}

static csvreg_status normal_solve(const csvreg_accum *a, double tol, solved *out,
                                  csvreg_error *err) {
  const size_t m = a->m, p = a->p, ic = (size_t)a->intercept, nc = ic + p;
  const double *amean = mean_of(a), *acom = com_of(a);
  csvreg_status st = CSVREG_OK;
  int *aliased = (int *)out->aliased;
  double *A = malloc(m * m * sizeof *A); /* moments, full symmetric */
  double *u = malloc(m * m * sizeof *u); /* incremental Cholesky, for aliasing */
  /* the scaled kept block, factored: in u's array once the aliasing is
   * decided (issue 12, mem12d: one m x m array fewer at the solve) */
  double *s = NULL;
  double *rhs = malloc(m * sizeof *rhs), *d = malloc(m * sizeof *d);
  double *xbar = malloc(m * sizeof *xbar), *w = malloc(m * sizeof *w);
  size_t *kept = malloc(m * sizeof *kept);
  if (!A || !u || !rhs || !d || !xbar || !w || !kept) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t j = 0; j < m; j++)
    for (size_t i = 0; i <= j; i++) {
      double v = acom[j * m + i];
      if (!ic) /* raw moments about 0 (no shift without an intercept) */
        v += a->sum_w * amean[i] * amean[j];
      A[j * m + i] = A[i * m + j] = v;
    }
  /* Aliasing in column order by an incremental Cholesky: dd is the part of
   * column j's moment a_jj not explained by the kept columns (the squared
   * residual norm of regressing j on them), and j is aliased when
   *   dd <= t^2 a_jj    (R's test on norms, as the QR kernel's), or
   *   dd <= (r + 1 + sqrt(n)) eps S^2,   S = sqrt(a_jj) + sum_k |w_k| sqrt(a_kk),
   * w the coefficients of that regression. Forming the moments squares the
   * condition number, so this kernel cannot see ratios below about
   * sqrt(eps): t is at least 1e-7. The second test is the rounding floor:
   * the moments carry errors of order eps sqrt(a_ii a_jj) (sums over n rows
   * and the pairwise merges, growing like sqrt(n)) and the Cholesky adds
   * (r + 1) eps; for an exactly dependent column the computed dd is those
   * errors seen through (-w, 1), i.e. up to that floor times S^2, not
   * a_jj. A column that is the sum of k others (the cells of g:h without
   * main effects sum to the intercept) has S^2 ~ k^2 a_jj: its dd came out
   * at 1.1e-14 a_jj (0.6 eps S^2), above t^2 a_jj, and was fitted with
   * standard errors of 1e6. */
  double t = tol > 1e-7 ? tol : 1e-7;
  double floor_k = sqrt((double)a->counts.used) + 1;
  size_t r = 0;
  for (size_t j = 0; j < p; j++) {
    double ajj = A[j * m + j], dd = ajj;
    if (!isfinite(ajj)) { /* squares of |x| beyond ~1e154: not "aliased" */
      st = csvreg__err_set(
          err, CSVREG_E_NUMERIC,
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
    /* w = L^-T u_j (L the kept columns' factor, rows of u), then S. */
    double sc = ajj > 0 ? sqrt(ajj) : 0;
    memcpy(w, &u[r * m], r * sizeof *w);
    for (size_t kk = r; kk-- > 0;) {
      w[kk] /= u[kk * m + kk];
      for (size_t l = 0; l < kk; l++)
        w[l] -= u[kk * m + l] * w[kk];
      sc += fabs(w[kk]) * sqrt(A[kept[kk] * m + kept[kk]]);
    }
    double rounding = ((double)r + floor_k) * DBL_EPSILON * sc * sc;
    if (!(ajj > 0) || !(dd > t * t * ajj) || !(dd > rounding)) {
      aliased[ic + j] = 1;
      continue;
    }
    aliased[ic + j] = 0;
    u[r * m + r] = sqrt(dd);
    kept[r++] = j;
  }
  s = u; /* u is not read after the loop above */
  u = NULL;
  if (ic)
    aliased[0] = 0;
  out->rank = r + ic;
  if (out->rank == 0) {
    st = csvreg__err_set(err, CSVREG_E_NUMERIC, "every term is aliased: nothing to estimate");
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
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)r, s, (lapack_int)r);
    if (info != 0) {
      st = csvreg__err_set(
          err, CSVREG_E_NUMERIC,
          "the co-moment matrix is not positive definite (column %d); try --solver qr", (int)info);
      goto done;
    }
    double rcond = 0;
    if (LAPACKE_dpocon(LAPACK_COL_MAJOR, 'U', (lapack_int)r, s, (lapack_int)r, anorm, &rcond) ==
        LAPACK_WORK_MEMORY_ERROR) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
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
    double b0 = amean[p] + a->shift[p], v00 = 1.0 / a->sum_w;
    for (size_t jj = 0; jj < r; jj++)
      xbar[jj] = amean[kept[jj]] + a->shift[kept[jj]];
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
      csvreg__digits_estimate(r, rhs, d, out->cond, 1, ic ? &out->coef[0] : NULL, ic ? xbar : NULL);
done:
  free(A);
  free(u);
  free(s);
  free(rhs);
  free(d);
  free(xbar);
  free(w);
  free(kept);
  return st;
}

static size_t normal_state_len(size_t m, size_t q) {
  (void)q;
  return m + m * m;
}

static size_t normal_fields(const csvreg_accum *a, kernel_field *out) {
  out[0] = (kernel_field){"mean", KERNEL_FIELD_VECTOR, a->m, 0};
  out[1] = (kernel_field){"com", KERNEL_FIELD_UPPER, a->m, a->m};
  return 2;
}

/* Every weight times lambda: the co-moments too; the means do not move. */
static void normal_scale(csvreg_accum *a, double lambda) {
  double *com = com_of(a);
  for (size_t i = 0; i < a->m * a->m; i++)
    com[i] *= lambda;
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

/* The inverse of the pairwise update (accum_ops.c has the algebra). */
static csvreg_status normal_subtract(csvreg_accum *dst, const csvreg_accum *src,
                                     csvreg_error *err) {
  const size_t m = dst->m;
  double *mean = NULL, *com = NULL;
  double wa = dst->sum_w - src->sum_w;
  if (src->counts.used > 0 && dst->counts.used > src->counts.used) {
    if (!(wa > 0))
      return csvreg__err_set(err, CSVREG_E_NUMERIC,
                             "subtract: the remaining weight %g is not positive", wa);
    mean = malloc(m * sizeof *mean);
    com = malloc(m * m * sizeof *com);
    if (!mean || !com) {
      free(mean);
      free(com);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    double f = wa * src->sum_w / dst->sum_w;
    double *mb = malloc(m * sizeof *mb);
    if (!mb) {
      free(mean);
      free(com);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < m; j++) { /* src's means on dst's shift */
      mb[j] = mean_of(src)[j] + (src->shift[j] - dst->shift[j]);
      mean[j] = (dst->sum_w * mean_of(dst)[j] - src->sum_w * mb[j]) / wa;
    }
    memset(com, 0, m * m * sizeof *com);
    for (size_t j = 0; j < m; j++)
      for (size_t i = 0; i <= j; i++)
        com[j * m + i] = com_of(dst)[j * m + i] - com_of(src)[j * m + i] -
                         (mb[i] - mean[i]) * (mb[j] - mean[j]) * f;
    free(mb);
    if (!psd(com, m)) {
      free(mean);
      free(com);
      return csvreg__err_set(
          err, CSVREG_E_NUMERIC,
          "subtract: the result is not positive semi-definite: the removed state was "
          "not part of the state it is removed from");
    }
  } else if (src->counts.used > 0 && dst->counts.used == src->counts.used) {
    /* Everything folded is removed: the empty state, if src really is dst
     * (up to the rounding of merging it in another order). */
    int same = fabs(dst->sum_w - src->sum_w) <= 1e-9 * dst->sum_w;
    for (size_t j = 0; same && j < m; j++) {
      double cj = com_of(dst)[j * m + j], sd = sqrt(cj / dst->sum_w);
      double mb = mean_of(src)[j] + (src->shift[j] - dst->shift[j]);
      same = fabs(cj - com_of(src)[j * m + j]) <= 1e-8 * cj &&
             fabs(mb - mean_of(dst)[j]) <= 1e-8 * (sd + fabs(mean_of(dst)[j]));
    }
    if (!same)
      return csvreg__err_set(
          err, CSVREG_E_NUMERIC,
          "subtract: the removed state has as many rows as the state it is removed "
          "from but other data (it was not merged into it)");
    mean = calloc(m, sizeof *mean);
    com = calloc(m * m, sizeof *com);
    if (!mean || !com) {
      free(mean);
      free(com);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    wa = 0;
  }
  if (mean) {
    memcpy(mean_of(dst), mean, m * sizeof *mean);
    memcpy(com_of(dst), com, m * m * sizeof *com);
    dst->sum_w = wa;
    dst->sum_log_w = dst->counts.used == src->counts.used ? 0 : dst->sum_log_w - src->sum_log_w;
    free(mean);
    free(com);
  }
  return CSVREG_OK;
}

/* sum w (c0 + c'z)^2 = W (c0 + c'mean)^2 + c' C c, C the centred
 * co-moments (upper triangle). */
static void normal_resid_ss(const csvreg_accum *a, const double *c, double *sse, double *tss) {
  const size_t m = a->m;
  const double *mean = mean_of(a), *com = com_of(a);
  const double *cr = c + 1;
  double d = c[0];
  for (size_t j = 0; j < m; j++)
    d += cr[j] * mean[j];
  double quad = 0;
  for (size_t j = 0; j < m; j++) {
    double s = com[j * m + j] * cr[j];
    for (size_t i = 0; i < j; i++)
      s += 2.0 * com[j * m + i] * cr[i];
    quad += cr[j] * s;
  }
  *sse = a->sum_w * d * d + (quad > 0 ? quad : 0.0);
  *tss = com[(m - 1) * m + (m - 1)];
}

/* Moments of the shifted design from the means and co-moments:
 * sum w v v' = C + W mean mean' (and W, W mean for the intercept),
 * factored by Cholesky. */
static csvreg_status normal_design_factor(const csvreg_accum *a, const size_t *kept, size_t rank,
                                          double *u, int *info, csvreg_error *err) {
  (void)err;
  const size_t mm = a->m, ic = (size_t)a->intercept;
  const double *mean = mean_of(a), *com = com_of(a);
  for (size_t k = 0; k < rank; k++)
    for (size_t l = 0; l <= k; l++) {
      size_t sk = kept[k], sl = kept[l];
      double v;
      if (ic && sl == 0)
        v = sk == 0 ? a->sum_w : a->sum_w * mean[sk - 1];
      else {
        size_t ck = sk - ic, cl = sl - ic;
        v = com[ck * mm + cl] + a->sum_w * mean[ck] * mean[cl];
      }
      u[k * rank + l] = v;
    }
  *info = (int)LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)rank, u, (lapack_int)rank);
  return CSVREG_OK;
}

/* ---- column operations (accum_columns.c does the frame) ----
 * The state is the means and co-moments of the shifted columns, so each
 * operation is exact index work. A column that was 0 on every folded row
 * gets shift 0 (the frame sets it), hence mean 0 and co-moments 0 with
 * everything: zeros inserted before the responses. Reordering permutes the
 * means and both indices of the co-moments; dropping a term deletes its
 * entry, row and column. Only the upper triangle is written (the lower
 * stays 0, as after folds and loads). */

/* The (symmetric) co-moment of data columns i and j from the upper triangle. */
static double com_at(const csvreg_accum *a, size_t i, size_t j) {
  return i <= j ? com_of(a)[j * a->m + i] : com_of(a)[i * a->m + j];
}

/* out := the state of the columns src[0..m2) of a, in that order. */
static void normal_select(const csvreg_accum *a, const size_t *src, size_t m2, double *out) {
  double *mean = out, *com = out + m2;
  for (size_t j = 0; j < m2; j++) {
    mean[j] = src[j] < a->m ? mean_of(a)[src[j]] : 0.0;
    for (size_t i = 0; i <= j; i++)
      com[j * m2 + i] = src[i] < a->m && src[j] < a->m ? com_at(a, src[i], src[j]) : 0.0;
  }
}

static void normal_add_columns(csvreg_accum *a, size_t k, const double *comb) {
  const size_t m = a->m, p = a->p, m2 = m + k, ic = (size_t)a->intercept;
  double *x = a->k, *mean = x, *com = x + m2;
#define MAP(j) ((j) < p ? (j) : (j) + k)
  /* In place, from the last entry back (co-moments, then means): every
   * entry moves to an index at least its own, so none is overwritten
   * before it is read. */
  for (size_t j = m; j-- > 0;)
    for (size_t i = j + 1; i-- > 0;)
      com[MAP(j) * m2 + MAP(i)] = x[m + j * m + i];
  for (size_t j = m; j-- > 0;)
    mean[MAP(j)] = x[j];
#undef MAP
  for (size_t j = p; j < p + k; j++)
    mean[j] = 0.0;
  /* The rest is 0: the new rows and columns, the lower triangle. */
  for (size_t j = 0; j < m2; j++) {
    double *col = com + j * m2;
    if (j >= p && j < p + k) {
      memset(col, 0, m2 * sizeof *col);
      continue;
    }
    memset(col + j + 1, 0, (m2 - j - 1) * sizeof *col);
    if (j >= p + k)
      memset(col + p, 0, k * sizeof *col);
  }
  if (!comb)
    return;
    /* New column n = sum_j e_j x_j over the old terms (the frame's shift
     * makes the constant part 0): its mean is e'mean, its co-moments with an
     * old column s are sum_j e_j C[j, s], with a new column l e_l' C e_n. */
#define C2(i, j) ((i) <= (j) ? com[(j)*m2 + (i)] : com[(i)*m2 + (j)])
  for (size_t n = 0; n < k; n++) {
    const double *e = comb + n * (ic + p) + ic;
    size_t cn = p + n;
    double mu = 0;
    for (size_t j = 0; j < p; j++)
      mu += e[j] * mean[j];
    mean[cn] = mu;
    for (size_t s2 = 0; s2 < m2; s2++) {
      double v = 0;
      if (s2 < p || s2 >= p + k) {
        for (size_t j = 0; j < p; j++)
          v += e[j] * C2(j, s2);
      } else if (s2 <= cn) { /* each pair of new columns once */
        const double *el = comb + (s2 - p) * (ic + p) + ic;
        for (size_t j = 0; j < p; j++) {
          double cj = 0;
          for (size_t h = 0; h < p; h++)
            cj += C2(j, h) * e[h];
          v += el[j] * cj;
        }
      } else {
        continue;
      }
      if (s2 <= cn)
        com[cn * m2 + s2] = v;
      else
        com[s2 * m2 + cn] = v;
    }
  }
#undef C2
}

static csvreg_status normal_permute(const csvreg_accum *a, const size_t *perm, double *out,
                                    csvreg_error *err) {
  size_t *src = malloc(a->m * sizeof *src);
  if (!src)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < a->m; j++)
    src[j] = j < a->p ? perm[j] : j;
  normal_select(a, src, a->m, out);
  free(src);
  return CSVREG_OK;
}

static csvreg_status normal_drop_column(const csvreg_accum *a, size_t j, double *out,
                                        csvreg_error *err) {
  size_t *src = malloc(a->m * sizeof *src);
  if (!src)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t i = 0; i + 1 < a->m; i++)
    src[i] = i < j ? i : i + 1;
  normal_select(a, src, a->m - 1, out);
  free(src);
  return CSVREG_OK;
}

const kernel_ops csvreg__kernel_normal = {
    .name = "normal",
    .solver = CSVREG_SOLVER_NORMAL,
    .state_len = normal_state_len,
    .fields = normal_fields,
    .accumulate = normal_accumulate,
    .merge = normal_merge,
    .scale = normal_scale,
    .subtract = normal_subtract,
    .add_columns = normal_add_columns,
    .permute = normal_permute,
    .drop_column = normal_drop_column,
    .solve = normal_solve,
    .resid_ss = normal_resid_ss,
    .design_factor = normal_design_factor,
};
