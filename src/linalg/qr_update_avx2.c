/*
 * csvreg__qr_update_avx2.c - the QR update of accum_qr.c, R := qr([R; B]), for narrow
 * designs on AVX2 + FMA machines: what LAPACK's dtpqrt2 does (l = 0), with
 * dlarfg's reflectors (same sign, same beta and tau), in one sweep over the
 * later columns of B a reflector.
 *
 * Why: with a dozen columns dtpqrt2's level-2 calls (dnrm2, dscal, dgemv and
 * dger for each column, four sweeps over the block) are dominated by their
 * own overheads, and the fold was ~30% of a fit. Here the sweep that applies
 * reflector j to columns j+1.. also forms what reflector j+1 needs: the sum
 * of squares of the new column j+1 and its dot products with the columns
 * after it. Reflector j+1 is then known before its column is read again.
 *
 * Rounding differs from dtpqrt's only in order: v = x / (alpha - beta) is
 * not stored (the caller discards B), so the kernel uses scal * (x . b) and
 * (tau w scal) * x where dtpqrt2 uses v . b and (tau w) * v; the dot products
 * run in four FMA lanes (OpenBLAS's dgemv kernels differ by core type in the
 * same way), and the sum of squares is compensated (about twice the working
 * precision, where OpenBLAS's x86 dnrm2 sums in the x87's extended
 * precision). bench/accuracy.py measures the outcome against exact answers
 * next to LAPACK on several OpenBLAS core types.
 *
 * Range: no scaling in the sums of squares, so the kernel declines (returns
 * 1, having changed nothing) unless every entry of B is 0 or in
 * [2^-400, 2^400] and every entry of R is at most 2^400. A reflection keeps
 * each column's norm, so nothing grows past that; a column that cancels
 * below 2^-450 (aliased to the last digit) gets its norm from dnrm2, as
 * dlarfg would.
 */
#include <math.h>
#include <stddef.h>

#include "qr_update.h"

#if QR_UPDATE_AVX2
#include <cblas.h>
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/* Lanes of v outside the kernel's range: not (|v| <= 2^400), which catches
 * NaN too, or 0 < |v| < 2^-400. */
static inline AVX2 __m256d out_of_range(__m256d v) {
  const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffff));
  v = _mm256_and_pd(v, absmask);
  return _mm256_or_pd(_mm256_cmp_pd(v, _mm256_set1_pd(0x1p400), _CMP_NLE_UQ),
                      _mm256_and_pd(_mm256_cmp_pd(v, _mm256_set1_pd(0x1p-400), _CMP_LT_OQ),
                                    _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_GT_OQ)));
}

static int scalar_out_of_range(double v) {
  v = fabs(v);
  return !(v <= 0x1p400) || (v > 0 && v < 0x1p-400);
}

/* 1 when every |b| is 0 or in [2^-400, 2^400]. */
static AVX2 int b_in_range(const double *b, size_t nb) {
  size_t n4 = nb & ~(size_t)3;
  __m256d bad = _mm256_setzero_pd();
  for (size_t t = 0; t < n4; t += 4)
    bad = _mm256_or_pd(bad, out_of_range(_mm256_loadu_pd(b + t)));
  int any = _mm256_movemask_pd(bad);
  for (size_t t = n4; t < nb; t++)
    any |= scalar_out_of_range(b[t]);
  return !any;
}

/* dst[0..n) = src[i] - k; 1 when every result is in b_in_range's range. */
static AVX2 int shifted_copy(double *dst, const double *src, size_t n, double k) {
  const __m256d kv = _mm256_set1_pd(k);
  size_t n4 = n & ~(size_t)3;
  __m256d bad = _mm256_setzero_pd();
  for (size_t i = 0; i < n4; i += 4) {
    __m256d v = _mm256_sub_pd(_mm256_loadu_pd(src + i), kv);
    _mm256_storeu_pd(dst + i, v);
    bad = _mm256_or_pd(bad, out_of_range(v));
  }
  int any = _mm256_movemask_pd(bad);
  for (size_t i = n4; i < n; i++) {
    dst[i] = src[i] - k;
    any |= scalar_out_of_range(dst[i]);
  }
  return !any;
}

AVX2 int csvreg__qr_load_avx2(double *b, size_t rows, int intercept, const double *x, size_t ldx,
                              size_t p, const double *shift, const double *y) {
  size_t ic = intercept != 0;
  int ok = 1;
  if (ic)
    for (size_t i = 0; i < rows; i++)
      b[i] = 1.0;
  for (size_t j = 0; j < p; j++)
    ok &= shifted_copy(b + (ic + j) * rows, x + j * ldx, rows, shift[j]);
  ok &= shifted_copy(b + (ic + p) * rows, y, rows, shift[p]);
  return ok;
}

static AVX2 double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* A compensated sum of squares: each square's rounding error (exact by FMA)
 * and each addition's (TwoSum: no order is known) go to a second sum. */
typedef struct sumsq {
  __m256d s, e;
} sumsq;

static inline AVX2 void sumsq_add(sumsq *a, __m256d u) {
  __m256d p = _mm256_mul_pd(u, u);
  __m256d pe = _mm256_fmsub_pd(u, u, p);
  __m256d t = _mm256_add_pd(a->s, p);
  __m256d bv = _mm256_sub_pd(t, a->s);
  __m256d ae = _mm256_add_pd(_mm256_sub_pd(a->s, _mm256_sub_pd(t, bv)), _mm256_sub_pd(p, bv));
  a->s = t;
  a->e = _mm256_add_pd(a->e, _mm256_add_pd(ae, pe));
}

/* The lanes and the tail x[0..n) summed the same compensated way. */
static AVX2 double sumsq_end(const sumsq *a, const double *x, size_t n) {
  double lanes[4], errs[4], sum = 0, err = 0;
  _mm256_storeu_pd(lanes, a->s);
  _mm256_storeu_pd(errs, a->e);
  for (int k = 0; k < 4; k++) {
    double t = sum + lanes[k], bv = t - sum;
    err += (sum - (t - bv)) + (lanes[k] - bv) + errs[k];
    sum = t;
  }
  for (size_t i = 0; i < n; i++) {
    double p = x[i] * x[i], pe = fma(x[i], x[i], -p);
    double t = sum + p, bv = t - sum;
    err += (sum - (t - bv)) + (p - bv) + pe;
    sum = t;
  }
  return sum + err;
}

/* The statistics of the first column: *s2 = |x|^2, d[k] = x . b[k * ld ..]
 * for k < nk. */
static AVX2 void first_stats(const double *x, const double *b, size_t ld, size_t n, size_t nk,
                             double *s2, double *d) {
  size_t n4 = n & ~(size_t)3;
  sumsq ss = {_mm256_setzero_pd(), _mm256_setzero_pd()};
  for (size_t i = 0; i < n4; i += 4)
    sumsq_add(&ss, _mm256_loadu_pd(x + i));
  *s2 = sumsq_end(&ss, x + n4, n - n4);
  for (size_t k = 0; k < nk; k++) {
    const double *bk = b + k * ld;
    __m256d a = _mm256_setzero_pd();
    for (size_t i = 0; i < n4; i += 4)
      a = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(bk + i), a);
    double s = hsum(a);
    for (size_t i = n4; i < n; i++)
      s = fma(x[i], bk[i], s);
    d[k] = s;
  }
}

/* Column u := u - g0 x, and *s2 = |u|^2 of the result. */
static AVX2 void update_head(const double *x, double *u, size_t n, double g0, double *s2) {
  size_t n4 = n & ~(size_t)3;
  const __m256d gv = _mm256_set1_pd(g0);
  sumsq ss = {_mm256_setzero_pd(), _mm256_setzero_pd()};
  for (size_t i = 0; i < n4; i += 4) {
    __m256d uv = _mm256_fnmadd_pd(gv, _mm256_loadu_pd(x + i), _mm256_loadu_pd(u + i));
    _mm256_storeu_pd(u + i, uv);
    sumsq_add(&ss, uv);
  }
  for (size_t i = n4; i < n; i++)
    u[i] = fma(-g0, x[i], u[i]);
  *s2 = sumsq_end(&ss, u + n4, n - n4);
}

/* For the W (1..4) columns b[k * ld ..]: b_k := b_k - g[k] x, then
 * d[k] = u . b_k with the new values. W is a constant at each call, so the
 * loops over k unroll and the accumulators stay in registers. */
static inline AVX2 __attribute__((always_inline)) void update_group(const int W, const double *x,
                                                                    const double *u, double *b,
                                                                    size_t ld, size_t n,
                                                                    const double *g, double *d) {
  size_t n4 = n & ~(size_t)3;
  __m256d gv[4], acc[4];
  for (int k = 0; k < W; k++) {
    gv[k] = _mm256_set1_pd(g[k]);
    acc[k] = _mm256_setzero_pd();
  }
  for (size_t i = 0; i < n4; i += 4) {
    __m256d xv = _mm256_loadu_pd(x + i), uv = _mm256_loadu_pd(u + i);
    for (int k = 0; k < W; k++) {
      double *bk = b + (size_t)k * ld + i;
      __m256d bv = _mm256_fnmadd_pd(gv[k], xv, _mm256_loadu_pd(bk));
      _mm256_storeu_pd(bk, bv);
      acc[k] = _mm256_fmadd_pd(uv, bv, acc[k]);
    }
  }
  for (int k = 0; k < W; k++) {
    double *bk = b + (size_t)k * ld, s = hsum(acc[k]);
    for (size_t i = n4; i < n; i++) {
      bk[i] = fma(-g[k], x[i], bk[i]);
      s = fma(u[i], bk[i], s);
    }
    d[k] = s;
  }
}

static AVX2 void update_group4(const double *x, const double *u, double *b, size_t ld, size_t n,
                               const double *g, double *d) {
  update_group(4, x, u, b, ld, n, g, d);
}

static AVX2 void update_group1(const double *x, const double *u, double *b, size_t ld, size_t n,
                               const double *g, double *d) {
  update_group(1, x, u, b, ld, n, g, d);
}

AVX2 int csvreg__qr_update_avx2(double *r, size_t q, double *b, size_t rows, int b_checked) {
  if (q > QR_UPDATE_MAXQ || (!b_checked && !b_in_range(b, q * rows)))
    return 1;
  for (size_t t = 0; t < q * q; t++)
    if (!(fabs(r[t]) <= 0x1p400))
      return 1;
  /* s2 and d[] describe column j of B as it is when reflector j is formed:
   * its sum of squares and its dot products with columns j+1.. */
  double s2, d[QR_UPDATE_MAXQ], g[QR_UPDATE_MAXQ];
  first_stats(b, b + rows, rows, rows, q - 1, &s2, d);
  for (size_t j = 0; j < q; j++) {
    double *x = b + j * rows, alpha = r[j * q + j], xnorm;
    if (s2 >= 0x1p-900)
      xnorm = sqrt(s2);
    else /* zero, or cancelled so far that squares may underflow: dnrm2 scales */
      xnorm = cblas_dnrm2((int)rows, x, 1);
    /* dlarfg: beta = -sign(alpha) |(alpha, x)|, tau = (beta - alpha) / beta,
     * v = x / (alpha - beta) with v0 = 1; x == 0 gives H = I (tau 0). As
     * dtpqrt2: w_k = R[j][k] + v . B[:, k]; R[j][k] -= tau w_k;
     * B[:, k] -= tau w_k v. */
    double tau = 0, scal = 0;
    if (xnorm != 0) {
      double beta = s2 >= 0x1p-900 ? -copysign(sqrt(alpha * alpha + s2), alpha)
                                   : -copysign(hypot(alpha, xnorm), alpha);
      tau = (beta - alpha) / beta;
      scal = 1.0 / (alpha - beta);
      r[j * q + j] = beta;
    }
    size_t nk = q - 1 - j;
    if (nk == 0)
      break;
    for (size_t k = 0; k < nk; k++) {
      double *rjk = &r[(j + 1 + k) * q + j];
      double wk = *rjk + scal * d[k];
      *rjk -= tau * wk;
      g[k] = tau * wk * scal;
    }
    /* One sweep: apply reflector j to columns j+1.., and collect the new
     * column j+1's sum of squares and dot products for reflector j+1. */
    double *u = x + rows;
    update_head(x, u, rows, g[0], &s2);
    size_t k = 1;
    for (; k + 4 <= nk; k += 4)
      update_group4(x, u, u + k * rows, rows, rows, g + k, d + k - 1);
    for (; k < nk; k++)
      update_group1(x, u, u + k * rows, rows, rows, g + k, d + k - 1);
  }
  return 0;
}
#endif
