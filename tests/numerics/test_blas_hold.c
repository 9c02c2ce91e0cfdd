/*
 * test_blas_hold.c - csvreg__blas_hold / csvreg__blas_unhold (blas_gate.c):
 * between them a thread takes OpenBLAS's work buffer once and lends it to
 * each of its calls, where each call would otherwise take it and give it
 * back under OpenBLAS's global mutex. Checked by the count of buffers taken
 * through the --wrap'd allocator (csvreg__blas_taken):
 *   - without a hold, each dgemv of this size takes one (the premise: else
 *     the hold would save nothing);
 *   - with a hold, a run of them takes one, nested holds included, and the
 *     answers are the same bits;
 *   - two threads holding at once each take their own;
 *   - after the hold the buffer is back: a dtpqrt inside a hold and one
 *     outside give the same bits.
 * Only with the static OpenBLAS (CMakeLists.txt registers it then).
 */
#include <cblas.h>
#include <lapacke.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "linalg.h"

/* m + n beyond OpenBLAS's stack buffer (MAX_STACK_ALLOC, 2048 bytes): the
 * interface takes its work buffer (interface/gemv.c). */
enum { M = 600, N = 40, CALLS = 50 };

static void fill(double *a, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    a[i] = (double)(seed >> 11) * 0x1p-53 - 0.5;
  }
}

/* CALLS dgemv's y += A' x, one after the other. */
static void gemv_run(const double *a, const double *x, double *y) {
  for (int c = 0; c < CALLS; c++)
    cblas_dgemv(CblasColMajor, CblasTrans, M, N, 1.0, a, M, x, 1, 0.5, y, 1);
}

static double *A, *X;

static int setup(void **state) {
  (void)state;
  A = malloc(sizeof *A * M * N);
  X = malloc(sizeof *X * M);
  if (!A || !X)
    return -1;
  fill(A, (size_t)M * N, 1);
  fill(X, M, 2);
  csvreg_error err;
  return csvreg__blas_ready(&err) == CSVREG_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(A);
  free(X);
  return 0;
}

static void test_one_buffer_per_hold(void **state) {
  (void)state;
  double plain[N] = {0}, held[N] = {0};
  size_t t0 = csvreg__blas_taken();
  gemv_run(A, X, plain);
  size_t t1 = csvreg__blas_taken();
  assert_int_equal(t1 - t0, CALLS);
  csvreg__blas_hold();
  csvreg__blas_hold(); /* nested: the outer unhold gives it back */
  gemv_run(A, X, held);
  csvreg__blas_unhold();
  gemv_run(A, X, held);
  csvreg__blas_unhold();
  size_t t2 = csvreg__blas_taken();
  assert_int_equal(t2 - t1, 1);
  /* the same calls (held ran them twice: y = 0.5 y + A'x twice more) */
  gemv_run(A, X, plain);
  assert_memory_equal(plain, held, sizeof plain);
  /* back to one take per call */
  gemv_run(A, X, plain);
  assert_int_equal(csvreg__blas_taken() - t2, 2 * CALLS);
  csvreg__blas_unhold(); /* an unhold too many is harmless */
  gemv_run(A, X, plain);
  assert_int_equal(csvreg__blas_taken() - t2, 3 * CALLS);
}

static void *held_thread(void *arg) {
  double *y = arg;
  csvreg__blas_hold();
  gemv_run(A, X, y);
  csvreg__blas_unhold();
  return NULL;
}

static void test_threads_hold_their_own(void **state) {
  (void)state;
  double y[2][N], want[N] = {0};
  memset(y, 0, sizeof y);
  gemv_run(A, X, want);
  size_t t0 = csvreg__blas_taken();
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&th[i], NULL, held_thread, y[i]), 0);
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(csvreg__blas_taken() - t0, 2);
  assert_memory_equal(y[0], want, sizeof want);
  assert_memory_equal(y[1], want, sizeof want);
}

/* dtpqrt of [R; B] (its per-column dgemv/dger and its dtprfb), held or not. */
static void tpqrt(double *r, size_t q, double *b, size_t rows) {
  size_t nb = 8;
  double *t = malloc(sizeof *t * nb * q), *w = malloc(sizeof *w * nb * q);
  assert_non_null(t);
  assert_non_null(w);
  assert_int_equal(LAPACKE_dtpqrt_work(LAPACK_COL_MAJOR, (lapack_int)rows, (lapack_int)q, 0,
                                       (lapack_int)nb, r, (lapack_int)q, b, (lapack_int)rows, t,
                                       (lapack_int)nb, w),
                   0);
  free(t);
  free(w);
}

static void test_tpqrt_same_bits(void **state) {
  (void)state;
  const size_t q = 30, rows = 700;
  double *r[2], *b[2];
  for (int k = 0; k < 2; k++) {
    r[k] = calloc(q * q, sizeof **r);
    b[k] = malloc(sizeof **b * q * rows);
    assert_non_null(r[k]);
    assert_non_null(b[k]);
    fill(b[k], q * rows, 3);
  }
  tpqrt(r[0], q, b[0], rows);
  size_t t0 = csvreg__blas_taken();
  csvreg__blas_hold();
  tpqrt(r[1], q, b[1], rows);
  csvreg__blas_unhold();
  assert_int_equal(csvreg__blas_taken() - t0, 1);
  assert_memory_equal(r[0], r[1], sizeof **r * q * q);
  for (int k = 0; k < 2; k++) {
    free(r[k]);
    free(b[k]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_buffer_per_hold),
      cmocka_unit_test(test_threads_hold_their_own),
      cmocka_unit_test(test_tpqrt_same_bits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
