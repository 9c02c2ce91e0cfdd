/*
 * test_qr_update.c - the AVX2 + FMA QR update (src/csvreg__qr_update_avx2.c) against
 * LAPACK's dtpqrt on the same [R; B].
 *
 * Two backward-stable Householder QRs with the same sign convention give the
 * same R up to rounding: on well-conditioned blocks every entry must agree
 * with dtpqrt's to 1e-13 of its column's norm, and R'R must equal the exact
 * [R; B]'[R; B] (summed in long double) to 1e-14 of the column norms. Shapes
 * cover every vector tail (rows 1..9), every column-group tail (q 1..13) and
 * the limit (q 32; 33 declines). Blocks with fewer rows than columns, from
 * an empty R, leave columns of pure rounding noise (~1e-162) whose squares
 * underflow: they take the kernel's dnrm2 path (67 times in this test when
 * instrumented). Special blocks: zero columns (H = I), a duplicated column
 * (cancellation to noise), and values out of the kernel's range, which it
 * must decline without touching R or B.
 * The statistical comparison on hard problems is bench/accuracy.py.
 */
#include <lapacke.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "qr_update.h"

#if QR_UPDATE_AVX2

static uint64_t rng = 0x9e3779b97f4a7c15u;

static double uniform(void) { /* xorshift64*, in (-1, 1) */
  rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
  return (double)((rng * 2685821657736338717u) >> 11) * 0x1p-52 - 1.0;
}

/* dtpqrt's R of [r; b] (l = 0), in place. */
static void lapack_update(double *r, size_t q, double *b, size_t rows) {
  size_t nb = q < 32 ? q : 32;
  double *t = malloc(nb * q * sizeof *t), *work = malloc(nb * q * sizeof *work);
  assert_non_null(t);
  assert_non_null(work);
  lapack_int info =
      LAPACKE_dtpqrt_work(LAPACK_COL_MAJOR, (lapack_int)rows, (lapack_int)q, 0, (lapack_int)nb, r,
                          (lapack_int)q, b, (lapack_int)rows, t, (lapack_int)nb, work);
  assert_int_equal(info, 0);
  free(t);
  free(work);
}

/* Column norms of [r; b]. */
static void col_norms(const double *r, size_t q, const double *b, size_t rows, double *norm) {
  for (size_t j = 0; j < q; j++) {
    long double s = 0;
    for (size_t i = 0; i <= j; i++)
      s += (long double)r[j * q + i] * r[j * q + i];
    for (size_t i = 0; i < rows; i++)
      s += (long double)b[j * rows + i] * b[j * rows + i];
    norm[j] = sqrtl(s);
  }
}

/* R'R = A'A for A = [r0; b0]: each entry of the kernel's R'R against the
 * exact sum, to 1e-14 of the column norms (Householder QR is backward
 * stable whatever the rank). */
static void check_gram(const double *r0, size_t q, const double *b0, size_t rows, const double *r1,
                       const double *norm) {
  for (size_t j = 0; j < q; j++)
    for (size_t i = 0; i <= j; i++) {
      long double got = 0, want = 0;
      for (size_t k = 0; k <= i; k++)
        got += (long double)r1[i * q + k] * r1[j * q + k];
      for (size_t k = 0; k <= i; k++)
        want += (long double)r0[i * q + k] * r0[j * q + k];
      for (size_t k = 0; k < rows; k++)
        want += (long double)b0[i * rows + k] * b0[j * rows + k];
      double d = (double)fabsl(got - want);
      if (!(d <= 1e-14 * norm[i] * norm[j]))
        fail_msg("q %zu rows %zu: (R'R)[%zu][%zu] off by %.3g (norms %.3g, %.3g)", q, rows, i, j, d,
                 norm[i], norm[j]);
    }
}

/* Folds b0 into r0 with the kernel and with dtpqrt; R'R is checked, and the
 * kernel's R against dtpqrt's entry by entry, to tol of the column norm, in
 * columns < ncmp (a rank-deficient block makes later columns depend on which
 * direction rounding noise takes). */
static void check_block_cols(const double *r0, size_t q, const double *b0, size_t rows, double tol,
                             size_t ncmp) {
  double *r1 = malloc(q * q * sizeof *r1), *r2 = malloc(q * q * sizeof *r2);
  double *b1 = malloc(q * rows * sizeof *b1), *b2 = malloc(q * rows * sizeof *b2);
  double *norm = malloc(q * sizeof *norm);
  assert_true(r1 && r2 && b1 && b2 && norm);
  memcpy(r1, r0, q * q * sizeof *r1);
  memcpy(r2, r0, q * q * sizeof *r2);
  memcpy(b1, b0, q * rows * sizeof *b1);
  memcpy(b2, b0, q * rows * sizeof *b2);
  col_norms(r0, q, b0, rows, norm);
  assert_int_equal(csvreg__qr_update_avx2(r1, q, b1, rows, 0), 0);
  lapack_update(r2, q, b2, rows);
  for (size_t j = 0; j < ncmp; j++)
    for (size_t i = 0; i <= j; i++) {
      double d = fabs(r1[j * q + i] - r2[j * q + i]);
      if (!(d <= tol * norm[j]))
        fail_msg("q %zu rows %zu: R[%zu][%zu] = %.17g, dtpqrt %.17g (column norm %.3g)", q, rows, i,
                 j, r1[j * q + i], r2[j * q + i], norm[j]);
    }
  check_gram(r0, q, b0, rows, r1, norm);
  free(r1);
  free(r2);
  free(b1);
  free(b2);
  free(norm);
}

static void check_block(const double *r0, size_t q, const double *b0, size_t rows, double tol) {
  check_block_cols(r0, q, b0, rows, tol, q);
}

/* A random upper-triangular R (the R of a random block) and a random block
 * whose columns have scales 10^-3..10^3. */
static void random_problem(double *r, size_t q, double *b, size_t rows) {
  memset(r, 0, q * q * sizeof *r);
  size_t n0 = q + 3;
  double *a = malloc(n0 * q * sizeof *a);
  assert_non_null(a);
  for (size_t t = 0; t < n0 * q; t++)
    a[t] = uniform();
  lapack_update(r, q, a, n0);
  free(a);
  for (size_t j = 0; j < q; j++) {
    double s = pow(10.0, 3.0 * uniform());
    for (size_t i = 0; i < rows; i++)
      b[j * rows + i] = s * uniform();
  }
}

static void test_against_dtpqrt(void **state) {
  (void)state;
  static const size_t qs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 32};
  static const size_t rowss[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 31, 64, 255, 512, 1024};
  for (size_t a = 0; a < sizeof qs / sizeof *qs; a++)
    for (size_t c = 0; c < sizeof rowss / sizeof *rowss; c++)
      for (int rep = 0; rep < 3; rep++) {
        size_t q = qs[a], rows = rowss[c];
        double *r = malloc(q * q * sizeof *r), *b = malloc(q * rows * sizeof *b);
        assert_true(r && b);
        random_problem(r, q, b, rows);
        if (rep == 2) /* from an empty state, as the first block of a fit */
          memset(r, 0, q * q * sizeof *r);
        check_block(r, q, b, rows, 1e-13);
        free(r);
        free(b);
      }
}

/* Zero columns: the reflector is the identity (dlarfg's tau = 0). */
static void test_zero_columns(void **state) {
  (void)state;
  const size_t q = 6, rows = 37;
  double r[36], b[6 * 37];
  random_problem(r, q, b, rows);
  for (size_t i = 0; i < rows; i++)
    b[2 * rows + i] = b[5 * rows + i] = 0;
  for (size_t i = 0; i < q; i++)
    r[2 * q + i] = 0; /* column 2 all zero, in R too */
  check_block(r, q, b, rows, 1e-13);
  memset(r, 0, sizeof r);
  memset(b, 0, sizeof b);
  check_block(r, q, b, rows, 0);
}

/* A column equal to another, near the bottom of the kernel's range: after
 * the first is eliminated the second is rounding noise. Its diagonal entry
 * must be negligible against the column, as dtpqrt's is; the columns before
 * it agree with dtpqrt's, and R'R = A'A. */
static void test_duplicate_columns(void **state) {
  (void)state;
  const size_t q = 5, rows = 200;
  double r[25], b[5 * 200], r1[25], b1[5 * 200];
  memset(r, 0, sizeof r);
  for (size_t i = 0; i < rows; i++) {
    b[i] = 1.0;
    b[rows + i] = 1e-120 * (1.5 + 0.5 * uniform()) * (i % 2 ? 1 : -1); /* >= 2^-400 */
    b[2 * rows + i] = b[rows + i];                                     /* duplicate */
    b[3 * rows + i] = 1e100 * uniform();
    b[4 * rows + i] = uniform();
  }
  check_block_cols(r, q, b, rows, 1e-13, 2);
  memcpy(r1, r, sizeof r);
  memcpy(b1, b, sizeof b);
  assert_int_equal(csvreg__qr_update_avx2(r1, q, b1, rows, 0), 0);
  double colnorm = fabs(r1[2 * q + 1]);
  if (!(fabs(r1[2 * q + 2]) <= 1e-14 * colnorm))
    fail_msg("R[2][2] = %.3g for a duplicated column of norm %.3g", r1[2 * q + 2], colnorm);
}

/* Out of range (or not finite): declined, nothing changed. */
static void test_declines(void **state) {
  (void)state;
  static const double bad[] = {0x1p401, -0x1p401, 0x1p-401, -0x1p-1074, INFINITY, NAN};
  const size_t q = 4, rows = 13;
  double r[16], b[4 * 13], r0[16], b0[4 * 13];
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
    for (size_t at = 0; at < q * rows; at += 7) {
      random_problem(r, q, b, rows);
      b[at] = bad[k];
      memcpy(r0, r, sizeof r);
      memcpy(b0, b, sizeof b);
      assert_int_equal(csvreg__qr_update_avx2(r, q, b, rows, 0), 1);
      assert_memory_equal(r, r0, sizeof r);
      assert_memory_equal(b, b0, sizeof b);
    }
  random_problem(r, q, b, rows);
  r[3 * q + 1] = 0x1p401; /* in R */
  memcpy(r0, r, sizeof r);
  assert_int_equal(csvreg__qr_update_avx2(r, q, b, rows, 0), 1);
  assert_memory_equal(r, r0, sizeof r);
  /* Too many columns for the kernel. */
  const size_t wq = QR_UPDATE_MAXQ + 1;
  double *wr = calloc(wq * wq, sizeof *wr), *wb = calloc(wq * rows, sizeof *wb);
  assert_true(wr && wb);
  assert_int_equal(csvreg__qr_update_avx2(wr, wq, wb, rows, 0), 1);
  free(wr);
  free(wb);
}

/* csvreg__qr_load_avx2 builds [1 | X - K | y - K_y] exactly as the scalar copy in
 * accum_qr_fold, and says whether every entry is in the kernel's range (an
 * entry planted out of range may round into it, or to 0, after the shift),
 * as csvreg__qr_update_avx2's own check of the loaded block does. */
static void test_load(void **state) {
  (void)state;
  static const double bad[] = {0, 0x1p401, 0x1p-401, INFINITY, NAN, -0x1p-1074};
  const size_t p = 5, ldx = 40;
  double x[5 * 40], y[40], shift[6], b[7 * 40], r[49];
  for (size_t rows = 0; rows <= 37; rows++)
    for (int intercept = 0; intercept < 2; intercept++)
      for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        for (size_t t = 0; t < p * ldx; t++)
          x[t] = 1e3 * uniform();
        for (size_t i = 0; i < ldx; i++)
          y[i] = uniform();
        for (size_t j = 0; j <= p; j++)
          shift[j] = uniform();
        if (bad[k] != 0 && rows) /* one entry of B out of range */
          x[(k % p) * ldx + rows - 1] = bad[k] + shift[k % p];
        const size_t q = (size_t)intercept + p + 1;
        int ok = csvreg__qr_load_avx2(b, rows, intercept, x, ldx, p, shift, y);
        for (size_t i = 0; i < rows; i++) {
          if (intercept)
            assert_true(b[i] == 1.0);
          for (size_t j = 0; j < p; j++) {
            double want = x[j * ldx + i] - shift[j], got = b[((size_t)intercept + j) * rows + i];
            assert_memory_equal(&got, &want, sizeof got);
          }
          double want = y[i] - shift[p], got = b[(q - 1) * rows + i];
          assert_memory_equal(&got, &want, sizeof got);
        }
        int want_ok = 1;
        for (size_t t = 0; t < q * rows; t++) {
          double v = fabs(b[t]);
          want_ok &= v <= 0x1p400 && !(v > 0 && v < 0x1p-400);
        }
        assert_int_equal(ok, want_ok);
        if (bad[k] == INFINITY && rows)
          assert_int_equal(ok, 0); /* the planted value did land in B */
        memset(r, 0, sizeof r);
        assert_int_equal(csvreg__qr_update_avx2(r, q, b, rows, 0) == 0, ok);
      }
}

int main(void) {
  if (!csvreg__simd_avx2()) {
    printf("qr_update: no AVX2 + FMA here (or CSVREG_SIMD=sse2): the kernel never runs\n");
    return 77; /* ctest: skipped */
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_against_dtpqrt),
      cmocka_unit_test(test_zero_columns),
      cmocka_unit_test(test_duplicate_columns),
      cmocka_unit_test(test_declines),
      cmocka_unit_test(test_load),
  };
  return cmocka_run_group_tests_name("qr_update", tests, NULL, NULL);
}

#else
int main(void) {
  printf("qr_update: built without the AVX2 kernel\n");
  return 77; /* ctest: skipped */
}
#endif
