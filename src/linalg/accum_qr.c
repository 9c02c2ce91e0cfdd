/*
 * accum_qr.c - the default kernel: the normal equations in square-root form.
 *
 * The state is the upper-triangular R of the weighted, shifted design
 * A = [sqrt(w) | sqrt(w)(X-K) | sqrt(w)(y-K_y)], so R'R = A'A without ever
 * forming A'A (which squares the condition number). Each block of rows is
 * folded by one Householder QR of [R; B] with LAPACK's dtpqrt (l = 0: B is
 * a full rectangle), or, up to 32 columns on a CPU with AVX2 and FMA, with
 * the same reflectors by csvreg__qr_update_avx2.c (dtpqrt's level-2 calls are
 * mostly overhead at that width; bench/README.md has the figures). Two
 * states merge with dtpqrt and l = q (B is triangular). The last diagonal
 * entry of R is the residual norm, so even a near-perfect fit keeps its
 * digits. R is the kernel's whole state (a->k, q x q); the entries of
 * csvreg__kernel_qr at the end are its operations (accum_impl.h); it has no
 * downdate (subtract), see accum_ops.c.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"
#include "qr_update.h"

/* Block size of dtpqrt's compact WY representation. */
static size_t qr_nb(size_t q) { return q < 32 ? q : 32; }

static csvreg_status tpqrt(csvreg_accum *a, accum_ws *ws, size_t rows, size_t l, double *b,
                           csvreg_error *err) {
  size_t q = a->q, nb = qr_nb(q);
  csvreg_status st = csvreg__accum_ws_reserve_tau(ws, 2 * nb * q, err);
  if (st)
    return st;
  csvreg__blas_hold(); /* one buffer for its per-column calls */
  lapack_int info = LAPACKE_dtpqrt_work(
      LAPACK_COL_MAJOR, (lapack_int)rows, (lapack_int)q, (lapack_int)l, (lapack_int)nb, a->k,
      (lapack_int)q, b, (lapack_int)rows, ws->tau, (lapack_int)nb, ws->tau + nb * q);
  csvreg__blas_unhold();
  if (info != 0)
    return csvreg__err_set(err, CSVREG_E_INTERNAL, "dtpqrt failed (info %d)", (int)info);
  return CSVREG_OK;
}

static csvreg_status qr_accumulate(csvreg_accum *a, accum_ws *ws, size_t n, const double *x,
                                   size_t ldx, const double *y, const double *w,
                                   csvreg_error *err) {
  csvreg_status st = csvreg__accum_ws_reserve(ws, n * a->q, err);
  if (st)
    return st;
  const size_t p = a->p, ic = (size_t)a->intercept;
  double *b = ws->work;
  size_t rows = n;
#if QR_UPDATE_AVX2
  if (!w && ws->qr_avx2) {
    /* The copy checks the kernel's range on the way. */
    if (csvreg__qr_load_avx2(b, n, (int)ic, x, ldx, p, a->shift, y) &&
        csvreg__qr_update_avx2(a->k, a->q, b, n, 1) == 0)
      return CSVREG_OK;
    return tpqrt(a, ws, n, 0, b, err);
  }
#endif
  if (!w) {
    /* Column by column: contiguous reads and writes. */
    if (ic)
      for (size_t i = 0; i < n; i++)
        b[i] = 1.0;
    for (size_t j = 0; j < p; j++) {
      const double *xj = x + j * ldx, k = a->shift[j];
      double *bj = b + (ic + j) * rows;
      for (size_t i = 0; i < n; i++)
        bj[i] = xj[i] - k;
    }
    double *by = b + (ic + p) * rows, ky = a->shift[p];
    for (size_t i = 0; i < n; i++)
      by[i] = y[i] - ky;
  } else {
    /* Rows of weight 0 are left out; the others are scaled by sqrt(w). */
    rows = 0;
    for (size_t i = 0; i < n; i++)
      rows += w[i] > 0;
    if (rows == 0)
      return CSVREG_OK;
    for (size_t col = 0; col < a->q; col++) {
      double *bc = b + col * rows;
      size_t o = 0;
      for (size_t i = 0; i < n; i++) {
        if (!(w[i] > 0))
          continue;
        double v;
        if (ic && col == 0)
          v = 1.0;
        else if (col - ic < p)
          v = x[(col - ic) * ldx + i] - a->shift[col - ic];
        else
          v = y[i] - a->shift[p];
        bc[o++] = sqrt(w[i]) * v;
      }
    }
  }
#if QR_UPDATE_AVX2
  if (ws->qr_avx2 && csvreg__qr_update_avx2(a->k, a->q, b, rows, 0) == 0)
    return CSVREG_OK;
#endif
  return tpqrt(a, ws, rows, 0, b, err);
}

/* ---- raw rows (head12: the level head of accum_head.c) ----
 * Rows that are not data rows but rows of the shifted, weighted design
 * [sqrt(w) | sqrt(w)(X-K) | sqrt(w)(y-K_y)] already (a head's residual
 * rows, its pseudo-rows [d_j e_j | E_j] when it is flushed): b is rows x q,
 * column-major, overwritten. The same update as a data block's. */
csvreg_status csvreg__qr_fold_rows(csvreg_accum *a, accum_ws *ws, size_t rows, double *b,
                                   csvreg_error *err) {
  if (rows == 0)
    return CSVREG_OK;
#if QR_UPDATE_AVX2
  if (ws->qr_avx2 && csvreg__qr_update_avx2(a->k, a->q, b, rows, 0) == 0)
    return CSVREG_OK;
#endif
  return tpqrt(a, ws, rows, 0, b, err);
}

static csvreg_status qr_merge(csvreg_accum *dst, accum_ws *ws, const csvreg_accum *src,
                              csvreg_error *err) {
  const size_t q = dst->q;
  csvreg_status st = csvreg__accum_ws_reserve(ws, q * q, err);
  if (st)
    return st;
  double *b = ws->work;
  memcpy(b, src->k, q * q * sizeof *b);
  if (dst->intercept) {
    /* Move src onto dst's shift: column j of src's data gains
     * (K_src,j - K_dst,j) times the intercept column, and in R that
     * touches only row 0, whose intercept entry is R[0,0]. */
    for (size_t j = 0; j < dst->m; j++)
      b[(1 + j) * q] += (src->shift[j] - dst->shift[j]) * b[0];
  }
  return tpqrt(dst, ws, q, q, b, err);
}

/* Removes the column at position k of the upper-triangular columns col[0..
 * ncols) (col[i] points at position i's q entries) and re-triangularises
 * the Hessenberg rest by Givens rotations of rows c, c+1 (c = k.., up to
 * the second-to-last column left), zeroing entry (c+1, c). The rotations are the ones
 * a sweep over all later columns per rotation would apply, in the same order
 * on every column, so the numbers are the same bits; they are applied a
 * column at a time (each column's rows k.. are contiguous) and a rotation
 * that is the identity (entry (c+1, c) already 0: past the rows a short
 * file filled, almost every one) is skipped without touching the later
 * columns. Moving a pointer instead of the columns makes a removal cost
 * O(ncols) plus its rotations: 4095 aliased columns of 4096 moved 4095
 * times (ncols x q doubles each, 0.5 TB of memmove) before. `rot` holds
 * ncols (cs, sn, c) triples of scratch. */
static size_t drop_and_retriangularise(double **col, size_t ncols, size_t k, double *rot) {
  memmove(col + k, col + k + 1, (ncols - k - 1) * sizeof *col);
  ncols--;
  size_t nrot = 0; /* the non-identity rotations so far, in order of c */
  for (size_t c = k; c < ncols; c++) {
    double *x = col[c];
    for (size_t t = 0; t < nrot; t++) {
      const double *g = rot + 3 * t;
      size_t rc = (size_t)g[2];
      double u = x[rc], v = x[rc + 1];
      x[rc] = g[0] * u + g[1] * v;
      x[rc + 1] = -g[1] * u + g[0] * v;
    }
    if (c + 1 >= ncols)
      break;
    double f = x[c], g = x[c + 1];
    if (g == 0)
      continue;
    double h = hypot(f, g), cs = f / h, sn = g / h;
    x[c] = cs * f + sn * g;
    x[c + 1] = -sn * f + cs * g;
    rot[3 * nrot] = cs;
    rot[3 * nrot + 1] = sn;
    rot[3 * nrot + 2] = (double)c;
    nrot++;
  }
  return ncols;
}

/* The solve on rw, the q x q R that it overwrites (a copy, or the state's
 * own array when a fit takes it: csvreg_accum_solve_release), leaving the
 * fit's unscaled covariance (nc x nc, leading dimension nc) in rw's front.
 * Memory (issue 12): besides rw only O(q) vectors. The condition estimate's
 * scaled triangle is formed in rw's own trailing block, R's block kept
 * meanwhile transposed in the strictly lower part one row down (rank <= q - 1
 * rows, so it fits) and put back after; R^-1 R^-T is formed in rw's front
 * (leading dimension rank, R compacted to it first) and spread in place to
 * the slots of the kept coefficients. The arithmetic and its order are those
 * of the solve that had rw, the scaled copy, rinv and cov apart (dtrcon reads
 * the same numbers at another leading dimension). */
static csvreg_status qr_solve_in(const csvreg_accum *a, double *rw, double tol, solved *out,
                                 csvreg_error *err) {
  const size_t q = a->q, nc = q - 1, ic = (size_t)a->intercept;
  csvreg_status st = CSVREG_OK;
  double *vec = malloc(10 * q * sizeof *vec);
  size_t *orig = malloc(q * sizeof *orig);
  double **col = malloc(q * sizeof *col);
  int *aliased = (int *)out->aliased;
  double *cov = rw;
  if (!vec || !orig || !col) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  /* norm, z, v (the intercept's c), vt (R^-T c), cross (its covariances),
   * cn and xb (digits): q each; rot: 3q. */
  double *norm = vec, *z = vec + q, *v = vec + 2 * q, *vt = vec + 3 * q, *cross = vec + 4 * q,
         *cn = vec + 5 * q, *xb = vec + 6 * q, *rot = vec + 7 * q;
  /* dnrm2 scales as it sums: squaring entries near 1e300 (or 1e-300) would
   * overflow (underflow) and wrongly report a column as aliased. */
  for (size_t j = 0; j < q; j++) {
    norm[j] = cblas_dnrm2((int)(j + 1), rw + j * q, 1);
    orig[j] = j;
    col[j] = rw + j * q;
  }
  /* Aliasing as R's lm decides it, in column order: a column whose part
   * orthogonal to the kept columns before it is below tol times its norm
   * is dropped, and R is re-triangularised without it. */
  size_t ncols = q, k = 0;
  for (size_t j = 0; j < nc; j++) {
    double d = fabs(col[k][k]);
    if (norm[j] > 0 && d >= tol * norm[j]) {
      aliased[j] = 0;
      k++;
      continue;
    }
    aliased[j] = 1;
    memmove(orig + k, orig + k + 1, (ncols - k - 1) * sizeof *orig);
    ncols = drop_and_retriangularise(col, ncols, k, rot);
  }
  /* The kept columns back into place, in order: position i's column came
   * from a slot at or after i, so no column is overwritten before it is
   * moved. */
  for (size_t i = 0; i < ncols; i++)
    if (col[i] != rw + i * q)
      memcpy(rw + i * q, col[i], q * sizeof *rw);
  const size_t rank = k, ycol = ncols - 1;
  out->rank = rank;
  if (rank == 0) {
    st = csvreg__err_set(err, CSVREG_E_NUMERIC, "every term is aliased: nothing to estimate");
    goto done;
  }
  /* Residual and explained sums of squares straight from the y column. */
  double rss = 0, mss = 0;
  for (size_t i = rank; i < q; i++)
    rss += rw[ycol * q + i] * rw[ycol * q + i];
  for (size_t i = ic; i < rank; i++)
    mss += rw[ycol * q + i] * rw[ycol * q + i];
  out->rss = rss;
  out->mss = mss;

  /* Coefficients in shifted coordinates: R b = z. */
  memcpy(z, rw + ycol * q, rank * sizeof *z);
  lapack_int info = LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'U', 'N', 'N', (lapack_int)rank, 1, rw,
                                   (lapack_int)q, z, (lapack_int)rank);
  if (info != 0) {
    st = csvreg__err_set(err, CSVREG_E_NUMERIC, "the triangular factor is singular (column %d)",
                         (int)info);
    goto done;
  }
  /* Back to the original coordinates. Only the intercept moves:
   * b0 = b0' + K_y - sum_j K_j b_j, i.e. b0 = c'b' + K_y with
   * c = (1, -K_kept). Its variance c' R^-1 R^-T c = |R^-T c|^2 is a sum of
   * squares, computed without cancellation. */
  for (size_t j = 0; j < nc; j++)
    out->coef[j] = NAN;
  for (size_t kk = 0; kk < rank; kk++)
    out->coef[orig[kk]] = z[kk];
  double v00 = NAN;
  if (ic) {
    double b0 = z[0] + a->shift[a->p];
    v[0] = 1.0;
    for (size_t kk = 1; kk < rank; kk++) {
      double kj = a->shift[orig[kk] - 1];
      b0 -= kj * z[kk];
      v[kk] = -kj;
    }
    out->coef[0] = b0;
    memcpy(vt, v, rank * sizeof *vt);
    info = LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'U', 'T', 'N', (lapack_int)rank, 1, rw, (lapack_int)q,
                          vt, (lapack_int)rank);
    double s = 0;
    for (size_t kk = 0; kk < rank; kk++)
      s += vt[kk] * vt[kk];
    v00 = info == 0 ? s : NAN;
  }
  /* Digits: slopes with their (centred) column norms; with an intercept
   * the column means are K + R[0,j] / R[0,0]. */
  size_t s0 = ic, ns = rank - ic;
  for (size_t j = 0; j < ns; j++) {
    double s = 0;
    for (size_t i = s0; i <= s0 + j; i++)
      s += rw[(s0 + j) * q + i] * rw[(s0 + j) * q + i];
    cn[j] = sqrt(s);
    if (ic)
      xb[j] = a->shift[orig[s0 + j] - 1] + rw[(s0 + j) * q] / rw[0];
  }

  /* Condition number of the kept columns scaled to unit norm, centred when
   * there is an intercept (the trailing block of R is the R of the centred
   * design), as a 1-norm estimate from dtrcon, on the block scaled in
   * place: R's block is kept transposed below the diagonal, one row down
   * (entry (i, j), i <= j, at row j + 1 of column i: rows up to rank <= q - 1,
   * strictly below R), and put back after. */
  out->cond = 1.0;
  if (ns > 0) {
    for (size_t j = s0; j < rank; j++)
      for (size_t i = s0; i <= j; i++)
        rw[i * q + j + 1] = rw[j * q + i];
    for (size_t j = 0; j < ns; j++) {
      double *cj = rw + (s0 + j) * q + s0, s = 0;
      for (size_t i = 0; i <= j; i++)
        s += cj[i] * cj[i];
      s = sqrt(s);
      for (size_t i = 0; i <= j; i++)
        cj[i] = s > 0 ? cj[i] / s : 0.0;
    }
    double rcond = 0;
    info = LAPACKE_dtrcon(LAPACK_COL_MAJOR, '1', 'U', 'N', (lapack_int)ns, rw + s0 * q + s0,
                          (lapack_int)q, &rcond);
    for (size_t j = s0; j < rank; j++)
      for (size_t i = s0; i <= j; i++)
        rw[j * q + i] = rw[i * q + j + 1];
    if (info == LAPACK_WORK_MEMORY_ERROR) { /* dtrcon's workspace, not the data */
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    out->cond = info == 0 && rcond > 0 ? 1.0 / rcond : INFINITY;
  }
  out->digits = csvreg__digits_estimate(ns, z + s0, cn, out->cond, 0, ic ? &out->coef[0] : NULL,
                                        ic ? xb : NULL);

  /* Unscaled covariance in shifted coordinates: R^-1 R^-T, in rw's front
   * at leading dimension rank. R is compacted to it first, front to back
   * (each entry moves to an index at or before its own, after every entry
   * before it has been read), its lower triangle 0. */
  double *rinv = rw;
  for (size_t j = 0; j < rank; j++)
    for (size_t i = 0; i < rank; i++)
      rinv[j * rank + i] = i <= j ? rw[j * q + i] : 0.0;
  /* in column panels (tri_panels.c: OpenBLAS's own versions touch about
   * 1.8 MB more of its work buffer at 1009 columns) */
  info = csvreg__trtri_upper(rank, rinv, rank);
  if (info == 0)
    info = csvreg__lauum_upper(rank, rinv, rank);
  if (info != 0) {
    st = csvreg__err_set(err, CSVREG_E_NUMERIC, "cannot invert the triangular factor (info %d)",
                         (int)info);
    goto done;
  }
  for (size_t j = 0; j < rank; j++) /* symmetrise the upper triangle */
    for (size_t i = j + 1; i < rank; i++)
      rinv[j * rank + i] = rinv[i * rank + j];
  /* Cov(b0, b_t) = sum_s c_s Cov'(s, t). */
  for (size_t ll = 1; ic && ll < rank; ll++) {
    double s = 0;
    for (size_t kk = 0; kk < rank; kk++)
      s += v[kk] * rinv[ll * rank + kk];
    cross[ll] = s;
  }
  /* Entry (kk, ll) to the slots (orig[kk], orig[ll]), last first: every
   * target is at or after its source (orig[i] >= i, nc >= rank), so no
   * source is overwritten before it is read. Then the aliased slots. */
  for (size_t ll = rank; ll-- > 0;)
    for (size_t kk = rank; kk-- > 0;)
      cov[orig[ll] * nc + orig[kk]] = rinv[ll * rank + kk];
  if (rank < nc)
    for (size_t j = 0; j < nc; j++)
      for (size_t i = 0; i < nc; i++)
        if (aliased[i] || aliased[j])
          cov[j * nc + i] = NAN;
  if (ic) {
    for (size_t ll = 1; ll < rank; ll++)
      cov[orig[ll] * nc] = cov[orig[ll]] = cross[ll];
    cov[0] = v00;
  }
done:
  free(vec);
  free(orig);
  free(col);
  return st;
}

/* out->cov has room for q x q doubles (csvreg_accum_solve makes it so): R
 * is copied there and solved in place, the state left as it is; or it is
 * the state's own array (csvreg_accum_solve_release), which the solve then
 * overwrites. */
static csvreg_status qr_solve(const csvreg_accum *a, double tol, solved *out, csvreg_error *err) {
  if (out->cov != a->k)
    memcpy(out->cov, a->k, a->q * a->q * sizeof *out->cov);
  return qr_solve_in(a, out->cov, tol, out, err);
}

static size_t qr_state_len(size_t m, size_t q) {
  (void)m;
  return q * q;
}

static size_t qr_fields(const csvreg_accum *a, kernel_field *out) {
  out[0] = (kernel_field){"r", KERNEL_FIELD_UPPER, a->q, 0};
  return 1;
}

/* Every weight times lambda: every row of A times sqrt(lambda), so R too. */
static void qr_scale(csvreg_accum *a, double lambda) {
  double s = sqrt(lambda);
  for (size_t i = 0; i < a->q * a->q; i++)
    a->k[i] *= s;
}

/* |A c|^2 = |R c|^2; the explained part of y's row of R gives the TSS. */
static void qr_resid_ss(const csvreg_accum *a, const double *c, double *sse_out, double *tss_out) {
  const size_t q = a->q, ic = (size_t)a->intercept;
  const double *r = a->k;
  /* Without an intercept the state is R of [X | y]: skip c0. */
  const double *cc = ic ? c : c + 1;
  double sse = 0, tss = NAN;
  for (size_t i = 0; i < q; i++) {
    double s = 0;
    for (size_t j = i; j < q; j++)
      s += r[j * q + i] * cc[j];
    sse += s * s;
  }
  if (ic) {
    tss = 0;
    for (size_t i = 1; i < q; i++)
      tss += r[(q - 1) * q + i] * r[(q - 1) * q + i];
  }
  *sse_out = sse;
  *tss_out = tss;
}

/* The kept columns of R (slot j is column j), re-triangularised. */
static csvreg_status qr_design_factor(const csvreg_accum *a, const size_t *kept, size_t rank,
                                      double *u, int *info_out, csvreg_error *err) {
  const size_t q = a->q;
  double *tau = malloc(rank * sizeof *tau);
  double *b = malloc(q * rank * sizeof *b);
  if (!b || !tau) {
    free(tau);
    free(b);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  for (size_t k = 0; k < rank; k++)
    memcpy(b + k * q, a->k + kept[k] * q, q * sizeof *b);
  lapack_int info =
      LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)q, (lapack_int)rank, b, (lapack_int)q, tau);
  free(tau);
  for (size_t k = 0; info == 0 && k < rank; k++)
    for (size_t i = 0; i <= k; i++)
      u[k * rank + i] = b[k * q + i];
  free(b);
  if (info == LAPACK_WORK_MEMORY_ERROR) /* dgeqrf's workspace, not a singular factor */
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  *info_out = (int)info;
  return CSVREG_OK;
}

/* ---- column operations (accum_columns.c does the frame) ----
 *
 * Adding columns. Let A = [1 | X | Y] (Y: the responses) = Q R with
 *     R = [R11  R1y]     R11: t x t, t = intercept + p (the design),
 *         [ 0   Ryy]     Ryy: the responses' residual block (rho for y).
 * Inserting k columns that are 0 on every folded row before the responses,
 * A' = [1 | X | 0 | Y], gives A' = Q [R11 0 R1y; 0 0 Ryy]: the zero columns
 * cost nothing, but the residual rows of Y now sit in rows t.., under the
 * new columns' diagonal, so that matrix is not the triangular factor of the
 * wider state (rho would be in row t, column t + k). The fix-up is a row
 * permutation, which is orthogonal: move Y's rows down by k and leave k zero
 * rows for the new columns,
 *     R' = [R11  0  R1y]
 *          [ 0   0   0 ]   k zero rows: the new columns' diagonal is 0
 *          [ 0   0  Ryy],
 * upper triangular with R''R' = A''A' exactly: no arithmetic at all, and
 * rho stays the last diagonal entry (the RSS the solve reads). Later folds
 * fill the new columns: a reflector on [0; b] is dlarfg with alpha = 0, as
 * for any column whose first rows were 0 (dtpqrt and csvreg__qr_update_avx2 alike).
 * In index terms rows and columns both map i -> i (i < t), i + k (i >= t).
 * A column whose past values are a combination of the design's columns
 * (a dropped baseline brought back) is the same with R11 e in place of 0. */
static void qr_add_columns(csvreg_accum *a, size_t k, const double *comb) {
  const size_t q = a->q, t = (size_t)a->intercept + a->p, q2 = q + k;
  double *r = a->k;
  /* In place, from the last entry back: every entry moves to an index at
   * least its own, so none is overwritten before it is read. */
  for (size_t c = q; c-- > 0;) {
    size_t c2 = c < t ? c : c + k;
    for (size_t i = c + 1; i-- > 0;)
      r[c2 * q2 + (i < t ? i : i + k)] = r[c * q + i];
  }
  /* The rest is 0: the new columns, the new rows, the lower triangle. */
  for (size_t c2 = 0; c2 < q2; c2++) {
    double *col = r + c2 * q2;
    if (c2 >= t && c2 < t + k) {
      memset(col, 0, q2 * sizeof *col);
      continue;
    }
    memset(col + c2 + 1, 0, (q2 - c2 - 1) * sizeof *col);
    if (c2 >= t + k)
      memset(col + t, 0, k * sizeof *col);
  }
  /* A column that was A e on the folded rows (e over the t design columns)
   * is Q (R e): its part of R is R11 e in rows 0..t-1 and nothing below,
   * so its diagonal is 0 as for a zero column (it is aliased until rows
   * that are not that combination arrive). */
  for (size_t n = 0; comb && n < k; n++) {
    const double *e = comb + n * t;
    double *col = r + (t + n) * q2;
    for (size_t i = 0; i < t; i++) {
      double sum = 0;
      for (size_t j = i; j < t; j++)
        sum += r[j * q2 + i] * e[j];
      col[i] = sum;
    }
  }
}

/* Reordering the terms is R P for a column permutation P that moves only
 * term columns, and (R P)'(R P) = P'A'A P is the state of the reordered
 * design. R P is no longer triangular from the first moved column f on;
 * columns before f are untouched and have zeros in rows f.., so only the
 * trailing block (rows and columns f..q-1, responses included: they get the
 * same Q) is refactored, by Householder QR (dgeqrf), and the leading rows
 * and columns stay bit for bit. The diagonal may change sign: nothing reads
 * R's signs (the solve takes |R_jj|, squares and triangular solves; folds
 * and merges take any R). */
static csvreg_status qr_permute(const csvreg_accum *a, const size_t *perm, double *out,
                                csvreg_error *err) {
  const size_t q = a->q, ic = (size_t)a->intercept, p = a->p;
  size_t f = q;
  for (size_t c = 0; c < q; c++) {
    size_t from = c >= ic && c < ic + p ? ic + perm[c - ic] : c;
    if (from != c && f == q)
      f = c;
    memcpy(out + c * q, a->k + from * q, q * sizeof *out);
  }
  if (f == q)
    return CSVREG_OK;
  const size_t nb = q - f;
  double *tau = malloc(nb * sizeof *tau);
  if (!tau)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  double *blk = out + f * q + f;
  lapack_int info =
      LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)nb, (lapack_int)nb, blk, (lapack_int)q, tau);
  free(tau);
  if (info == LAPACK_WORK_MEMORY_ERROR) /* dgeqrf's workspace, not the data */
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  if (info != 0)
    return csvreg__err_set(err, CSVREG_E_INTERNAL,
                           "reordering the triangular factor: dgeqrf failed (info %d)", (int)info);
  /* dgeqrf leaves its reflectors below the diagonal. */
  for (size_t c = 0; c < nb; c++)
    for (size_t i = c + 1; i < nb; i++)
      blk[c * q + i] = 0.0;
  return CSVREG_OK;
}

/* As the solve's rotations (drop_and_retriangularise), with LAPACK dlartg's conventions: the new diagonal keeps
 * the sign of the old one, and a zero diagonal makes the rotation a swap of
 * the two rows (cs 0, sn 1), which moves numbers without rounding them. So
 * removing a column that is 0 on every folded row (added, never seen) gives
 * back the state before it was added, bit for bit. */
static void rotate_rows(double *r, size_t ld, size_t c, size_t ncols) {
  double f = r[c * ld + c], g = r[c * ld + c + 1];
  if (g == 0)
    return;
  double cs = 0, sn = 1;
  if (f != 0) {
    double h = copysign(hypot(f, g), f);
    cs = f / h;
    sn = g / h;
  }
  for (size_t j = c; j < ncols; j++) {
    double u = r[j * ld + c], v = r[j * ld + c + 1];
    r[j * ld + c] = f != 0 ? cs * u + sn * v : v;
    r[j * ld + c + 1] = f != 0 ? -sn * u + cs * v : -u;
  }
}

/* Removing term column c: R without it is upper Hessenberg from column c
 * on (R'R without row and column c is exactly the state of the smaller
 * design; a term's shift only ever touched its own column). Givens
 * rotations of rows c, c+1, ... restore the triangle, the response columns
 * included, after which the last row is 0 and is dropped. For the last term
 * this is one rotation of the response rows: [e; rho] -> [+-hypot(e, rho); 0],
 * the dropped column's share of y joining the residual. */
static csvreg_status qr_drop_column(const csvreg_accum *a, size_t j, double *out,
                                    csvreg_error *err) {
  const size_t q = a->q, c = (size_t)a->intercept + j, nc = q - 1;
  double *h = malloc(q * nc * sizeof *h);
  if (!h)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  memcpy(h, a->k, c * q * sizeof *h);
  memcpy(h + c * q, a->k + (c + 1) * q, (nc - c) * q * sizeof *h);
  for (size_t cc = c; cc < nc; cc++)
    rotate_rows(h, q, cc, nc);
  for (size_t cc = 0; cc < nc; cc++)
    for (size_t i = 0; i <= cc; i++)
      out[cc * nc + i] = h[cc * q + i];
  free(h);
  return CSVREG_OK;
}

/* permute, then drop_column of the trailing terms, in place (issue 12: a
 * 1000-level factor's state is q^2 doubles, and the copy, the permuted
 * array and each drop's two arrays made the end of a pass hold four of
 * them). The arithmetic is that of qr_permute and qr_drop_column, in the
 * same order, on the same columns: only where the numbers live changes.
 * The columns are permuted by walking the permutation's cycles with one
 * column of scratch; the trailing block is refactored by dgeqrf with its
 * workspace taken first; a dropped term's column is closed up (the later
 * columns move left, the leading dimension stays q) and the rotations of
 * rotate_rows run as there; at the end the kept q2 x q2 triangle is
 * compacted to leading dimension q2 (every column moves to an address at
 * or before its own, front to back) and the array shrunk. */
static csvreg_status qr_select(csvreg_accum *a, const size_t *perm, size_t keep,
                               csvreg_error *err) {
  const size_t q = a->q, ic = (size_t)a->intercept, p = a->p;
  double *r = a->k;
  size_t f = q;
  for (size_t c = ic; c < ic + p && f == q; c++)
    if (perm[c - ic] != c - ic)
      f = c;
  const size_t nb = f < q ? q - f : 0;
  double *tmp = malloc(q * sizeof *tmp);
  double *tau = malloc((nb ? nb : 1) * sizeof *tau);
  unsigned char *done = calloc(p ? p : 1, 1);
  double *work = NULL;
  lapack_int lwork = 0;
  csvreg_status st = !tmp || !tau || !done ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory")
                                           : CSVREG_OK;
  if (!st && nb) {
    double wq = 0;
    lapack_int info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)nb, (lapack_int)nb, NULL,
                                          (lapack_int)q, NULL, &wq, -1);
    lwork = info == 0 && wq >= 1 ? (lapack_int)wq : (lapack_int)nb;
    if (!(work = malloc((size_t)lwork * sizeof *work)))
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  if (st)
    goto done;
  /* New term column j is old perm[j]: follow each cycle from its start,
   * the start's column held in tmp until the cycle closes. */
  for (size_t j = 0; j < p; j++) {
    if (done[j] || perm[j] == j)
      continue;
    memcpy(tmp, r + (ic + j) * q, q * sizeof *tmp);
    size_t d = j;
    while (perm[d] != j) {
      memcpy(r + (ic + d) * q, r + (ic + perm[d]) * q, q * sizeof *r);
      done[d] = 1;
      d = perm[d];
    }
    memcpy(r + (ic + d) * q, tmp, q * sizeof *r);
    done[d] = 1;
  }
  if (nb) {
    double *blk = r + f * q + f;
    lapack_int info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)nb, (lapack_int)nb, blk,
                                          (lapack_int)q, tau, work, lwork);
    if (info != 0) { /* arguments only: the workspace was given */
      st = csvreg__err_set(err, CSVREG_E_INTERNAL,
                           "reordering the triangular factor: dgeqrf failed (info %d)", (int)info);
      goto done;
    }
    for (size_t c = 0; c < nb; c++)
      for (size_t i = c + 1; i < nb; i++)
        blk[c * q + i] = 0.0;
  }
  /* The trailing terms dropped, last first: qr_drop_column of term c - ic
   * in a state of qc columns. */
  size_t qc = q;
  for (size_t t = p; t > keep; t--) {
    const size_t c = ic + t - 1, nc = qc - 1;
    memmove(r + c * q, r + (c + 1) * q, (nc - c) * q * sizeof *r);
    for (size_t cc = c; cc < nc; cc++)
      rotate_rows(r, q, cc, nc);
    qc = nc;
  }
  /* Leading dimension q -> qc, the upper triangle only (below it: zeros,
   * as the copies of qr_drop_column and the zeroed new arrays had). */
  if (qc < q) {
    for (size_t c = 0; c < qc; c++) {
      memmove(r + c * qc, r + c * q, (c + 1) * sizeof *r);
      memset(r + c * qc + c + 1, 0, (qc - c - 1) * sizeof *r);
    }
    double *shrunk = realloc(r, qc * qc * sizeof *r);
    if (shrunk)
      a->k = shrunk;
  }
done:
  free(tmp);
  free(tau);
  free(done);
  free(work);
  return st;
}

const kernel_ops csvreg__kernel_qr = {
    .name = "qr",
    .solver = CSVREG_SOLVER_QR,
    .state_len = qr_state_len,
    .fields = qr_fields,
    .accumulate = qr_accumulate,
    .merge = qr_merge,
    .scale = qr_scale,
    /* A QR factor cannot be downdated stably (hyperbolic rotations lose
     * accuracy without bound). */
    .subtract = NULL,
    .add_columns = qr_add_columns,
    .permute = qr_permute,
    .drop_column = qr_drop_column,
    .select = qr_select,
    .solve = qr_solve,
    .resid_ss = qr_resid_ss,
    .design_factor = qr_design_factor,
};
