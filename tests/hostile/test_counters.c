/*
 * test_counters.c - row counts past 2^31 and 2^32 without reading billions of
 * rows: an accumulator of a few rows is merged with copies of itself (each
 * merge doubles every count), which is what `merge` does with shard states.
 * The counts must stay exact 64-bit integers, survive the state file, and the
 * fit of k identical copies of the data must have the data's coefficients
 * with df = n - p (the fit must not use a 32-bit n anywhere).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"

#define N 5

static const double xs[N] = {1, 3, 4, 4.5, 7};
static const double ys[N] = {1, 2, 3, 4, 5};
static const double ws[N] = {1, 2, 0, 0.5, 1};

static csvreg_accum *small(csvreg_solver solver, int weighted) {
  csvreg_accum *a = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_accum_new(&a, solver, 1, 1, NULL, NULL, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_add_rows(a, N, xs, N, ys, weighted ? ws : NULL, &err), CSVREG_OK);
  return a;
}

/* A deep copy through the state file: the path merged shards take. */
static csvreg_accum *copy(const csvreg_accum *a) {
  char *text = NULL;
  csvreg_accum *b = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_accum_save(a, NULL, &text, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_load(&b, text, strlen(text), NULL, &err), CSVREG_OK);
  free(text);
  return b;
}

static void doubling(csvreg_solver solver, int weighted) {
  csvreg_error err;
  csvreg_accum *a = small(solver, weighted);
  csvreg_fit *f1 = NULL;
  assert_int_equal(csvreg_accum_solve(a, NULL, &f1, &err), CSVREG_OK);
  const uint64_t used1 = weighted ? N - 1 : N, zero1 = weighted ? 1 : 0;
  /* 2^33 copies: 5 * 2^33 = 42,949,672,960 records, past 2^31 and 2^32. */
  const int k = 33;
  for (int i = 0; i < k; i++) {
    csvreg_accum *b = copy(a);
    assert_int_equal(csvreg_accum_merge(a, b, &err), CSVREG_OK);
    csvreg_accum_free(b);
  }
  const csvreg_counts *c = csvreg_accum_counts(a);
  assert_true(c->records == (uint64_t)N << k);
  assert_true(c->used == used1 << k);
  assert_true(c->zero_weight == zero1 << k);
  assert_true(c->records > UINT32_MAX);

  /* The counts survive a state file exactly. */
  csvreg_accum *b = copy(a);
  assert_true(csvreg_accum_counts(b)->records == (uint64_t)N << k);
  assert_true(csvreg_accum_counts(b)->used == used1 << k);
  csvreg_accum_free(b);

  csvreg_fit *f = NULL;
  assert_int_equal(csvreg_accum_solve(a, NULL, &f, &err), CSVREG_OK);
  assert_true(csvreg_fit_get_summary(f)->counts.used == used1 << k);
  /* df = n - 2, exact in a double (n < 2^53). */
  assert_true(csvreg_fit_get_summary(f)->df_residual == (double)(used1 << k) - 2.0);
  for (size_t j = 0; j < 2; j++)
    assert_true(fabs(csvreg_fit_term(f, j)->estimate - csvreg_fit_term(f1, j)->estimate) <=
                1e-9 * fabs(csvreg_fit_term(f1, j)->estimate));
  /* k doublings scale the RSS and X'WX alike, so SE_1 / SE_k is
   * sqrt((n_k - 2) / (n_1 - 2)): finite, not 0, not NaN. */
  double ratio = csvreg_fit_term(f1, 1)->std_error / csvreg_fit_term(f, 1)->std_error;
  double want = sqrt(((double)(used1 << k) - 2.0) / ((double)used1 - 2.0));
  assert_true(isfinite(ratio) && ratio > 0);
  assert_true(fabs(ratio - want) <= 1e-6 * want);
  csvreg_fit_free(f);
  csvreg_fit_free(f1);
  csvreg_accum_free(a);
}

static void qr_counts(void **s) {
  (void)s;
  doubling(CSVREG_SOLVER_QR, 0);
}
static void qr_weighted_counts(void **s) {
  (void)s;
  doubling(CSVREG_SOLVER_QR, 1);
}
static void normal_counts(void **s) {
  (void)s;
  doubling(CSVREG_SOLVER_NORMAL, 0);
}
static void normal_weighted_counts(void **s) {
  (void)s;
  doubling(CSVREG_SOLVER_NORMAL, 1);
}

/* The counter type itself: 64-bit, and a state with counts near 2^62 loads. */
static void counter_width(void **s) {
  (void)s;
  csvreg_counts c;
  assert_true(sizeof c.records * 8 >= 64);
  assert_true(sizeof c.used * 8 >= 64);
  csvreg_error err;
  csvreg_accum *a = small(CSVREG_SOLVER_QR, 0);
  for (int i = 0; i < 60; i++) {
    csvreg_accum *b = copy(a);
    assert_int_equal(csvreg_accum_merge(a, b, &err), CSVREG_OK);
    csvreg_accum_free(b);
  }
  assert_true(csvreg_accum_counts(a)->records == (uint64_t)N << 60);
  csvreg_accum_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(qr_counts),     cmocka_unit_test(qr_weighted_counts),
      cmocka_unit_test(normal_counts), cmocka_unit_test(normal_weighted_counts),
      cmocka_unit_test(counter_width),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
