/*
 * test_release.c - csvreg_accum_solve_release through the public API only
 * (issue 12 acceptance): the fit it gives equals csvreg_accum_solve's on a
 * copy of the same accumulator, bit for bit; afterwards, whether the solve
 * succeeded or not, every use of the accumulator's numbers (folds, merges on
 * either side, copies, state text, another solve, scoring, decay, subtract)
 * returns CSVREG_E_USAGE and changes nothing, while its counts, its solver and
 * csvreg_accum_free still work (the header's promise). Both solvers, a
 * formula with a factor whose last level first appears mid-stream, chunks of
 * 7 rows so that the level arrives in a later fold.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"

#define NROWS 60

/* y, x and g (levels 1-3, and 4 only from row 40 on). */
static char *make_csv(void) {
  size_t cap = 64 + NROWS * 48, len = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  len += (size_t)snprintf(s + len, cap - len, "y,x,g\n");
  for (int i = 0; i < NROWS; i++) {
    int g = i < 40 ? 1 + i % 3 : 1 + i % 4;
    double x = 0.25 * (i % 11) - 1.0;
    double y = 1.0 + 0.5 * x + 0.3 * g + 0.01 * ((i * 37) % 17);
    len += (size_t)snprintf(s + len, cap - len, "%.4f,%.4f,%d\n", y, x, g);
  }
  return s;
}

typedef struct fixture {
  char *csv;
  csvreg_reader *r;
  csvreg_spec *spec;
} fixture;

static void open_fixture(fixture *f) {
  csvreg_error err;
  f->csv = make_csv();
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  assert_int_equal(csvreg_reader_open_mem(&f->r, f->csv, strlen(f->csv), "mem.csv", &ro, &err),
                   CSVREG_OK);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  assert_int_equal(csvreg_spec_new_formula(&f->spec, csvreg_reader_column_names(f->r),
                                           csvreg_reader_ncolumns(f->r), "y ~ x * factor(g)", &so,
                                           NULL, &err),
                   CSVREG_OK);
}

static void close_fixture(fixture *f) {
  csvreg_spec_free(f->spec);
  csvreg_reader_free(f->r);
  free(f->csv);
}

/* An accumulator of every row, folded 7 rows at a time; *last keeps the
 * last chunk (for a fold after the release). */
static csvreg_accum *fold_all(fixture *f, csvreg_solver solver, csvreg_chunk **last) {
  csvreg_error err;
  csvreg_accum *a = NULL;
  csvreg_chunk *c = NULL;
  assert_int_equal(csvreg_accum_new_for_spec(&a, f->spec, solver, &err), CSVREG_OK);
  assert_int_equal(csvreg_chunk_new(&c, f->spec, 7, &err), CSVREG_OK);
  csvreg_status st;
  do {
    st = csvreg_chunk_fill(c, f->r, &err);
    assert_true(st == CSVREG_OK || st == CSVREG_END);
    assert_int_equal(csvreg_accum_add_chunk(a, c, &err), CSVREG_OK);
  } while (st == CSVREG_OK);
  *last = c;
  return a;
}

static void same_fit(const csvreg_fit *a, const csvreg_fit *b) {
  const csvreg_fit_summary *sa = csvreg_fit_get_summary(a), *sb = csvreg_fit_get_summary(b);
  assert_int_equal(sa->nterms, sb->nterms);
  assert_int_equal(sa->rank, sb->rank);
  assert_int_equal(sa->counts.used, NROWS);
  assert_int_equal(sb->counts.used, NROWS);
  /* the same numbers, not close ones: the same solve on the same array */
  assert_memory_equal(&sa->rss, &sb->rss, sizeof sa->rss);
  assert_memory_equal(&sa->residual_sd, &sb->residual_sd, sizeof sa->residual_sd);
  assert_memory_equal(&sa->r_squared, &sb->r_squared, sizeof sa->r_squared);
  assert_memory_equal(&sa->log_likelihood, &sb->log_likelihood, sizeof sa->log_likelihood);
  for (size_t i = 0; i < sa->nterms; i++) {
    const csvreg_term *ta = csvreg_fit_term(a, i), *tb = csvreg_fit_term(b, i);
    assert_string_equal(ta->name, tb->name);
    assert_int_equal(ta->aliased, tb->aliased);
    assert_memory_equal(&ta->estimate, &tb->estimate, sizeof ta->estimate);
    assert_memory_equal(&ta->std_error, &tb->std_error, sizeof ta->std_error);
    for (size_t j = 0; j < sa->nterms; j++) {
      double u = csvreg_fit_xtx_inv(a, i, j), v = csvreg_fit_xtx_inv(b, i, j);
      assert_memory_equal(&u, &v, sizeof u);
    }
  }
}

/* Every use of a released accumulator's numbers: CSVREG_E_USAGE, the
 * message saying why, and the counts unchanged. `live` is an accumulator of
 * the same spec that still has its numbers; `c` a chunk of rows; `fit` a
 * fit of the same terms. */
static void check_released(csvreg_accum *a, csvreg_accum *live, const csvreg_chunk *c,
                           const csvreg_fit *fit, csvreg_solver solver) {
  csvreg_error err;
  const csvreg_counts before = *csvreg_accum_counts(a);
  const csvreg_counts live_before = *csvreg_accum_counts(live);
#define USAGE(call)                                                                                \
  do {                                                                                             \
    memset(&err, 0, sizeof err);                                                                   \
    assert_int_equal((call), CSVREG_E_USAGE);                                                      \
    assert_non_null(strstr(err.message, "solve_release"));                                         \
  } while (0)
  double x[16] = {1, 2, 3}, y[1] = {1}, w[1] = {1}; /* one row of up to 16 terms */
  USAGE(csvreg_accum_add_rows(a, 1, x, 1, y, w, &err));
  USAGE(csvreg_accum_add_chunk(a, c, &err));
  csvreg_accum *parts[2] = {live, a};
  size_t part[7] = {1, 1, 1, 1, 1, 1, 1};
  USAGE(csvreg_accum_add_chunk_split(parts, 2, c, part, &err));
  USAGE(csvreg_accum_merge(a, live, &err));
  USAGE(csvreg_accum_merge(live, a, &err)); /* a released source, too */
  csvreg_accum *copy = NULL;
  USAGE(csvreg_accum_copy(a, &copy, &err));
  assert_null(copy);
  char *text = NULL;
  USAGE(csvreg_accum_save(a, NULL, &text, &err));
  assert_null(text);
  FILE *fp = tmpfile();
  assert_non_null(fp);
  USAGE(csvreg_accum_write(a, NULL, fp, &err));
  assert_int_equal(ftell(fp), 0); /* nothing written */
  fclose(fp);
  csvreg_fit *again = NULL;
  USAGE(csvreg_accum_solve(a, NULL, &again, &err));
  assert_null(again);
  USAGE(csvreg_accum_solve_release(a, NULL, &again, &err));
  assert_null(again);
  csvreg_score sc;
  USAGE(csvreg_accum_score(a, fit, &sc, &err));
  USAGE(csvreg_accum_scale(a, 0.5, &err));
  if (solver == CSVREG_SOLVER_NORMAL) {
    USAGE(csvreg_accum_subtract(a, live, &err));
    USAGE(csvreg_accum_subtract(live, a, &err));
  }
#undef USAGE
  /* what it keeps */
  assert_memory_equal(csvreg_accum_counts(a), &before, sizeof before);
  assert_memory_equal(csvreg_accum_counts(live), &live_before, sizeof live_before);
  assert_int_equal(csvreg_accum_solver(a), solver);
}

static void test_release(csvreg_solver solver) {
  fixture f;
  open_fixture(&f);
  csvreg_error err;
  csvreg_chunk *c = NULL;
  csvreg_accum *a = fold_all(&f, solver, &c);
  /* R's columns chosen (levels in order, baselines dropped), as a pass does */
  assert_int_equal(csvreg_accum_finish(a, &err), CSVREG_OK);
  csvreg_accum *ref = NULL;
  assert_int_equal(csvreg_accum_copy(a, &ref, &err), CSVREG_OK);
  csvreg_fit *want = NULL, *got = NULL;
  assert_int_equal(csvreg_accum_solve(ref, NULL, &want, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve_release(a, NULL, &got, &err), CSVREG_OK);
  assert_non_null(got);
  /* factor(g)4, first seen at row 40, is a term of both */
  assert_int_equal(csvreg_fit_get_summary(got)->nterms, 8);
  same_fit(got, want);
  /* the solve of ref kept ref's numbers: it is the live side here */
  check_released(a, ref, c, want, solver);
  /* the released fit outlives its accumulator */
  csvreg_accum_free(a);
  same_fit(got, want);
  csvreg_fit_free(got);
  csvreg_fit_free(want);
  csvreg_accum_free(ref);
  csvreg_chunk_free(c);
  close_fixture(&f);
}

/* A solve that fails (no rows: CSVREG_E_NUMERIC) releases all the same. */
static void test_release_failed(csvreg_solver solver) {
  fixture f;
  open_fixture(&f);
  csvreg_error err;
  csvreg_chunk *c = NULL;
  csvreg_accum *full = fold_all(&f, solver, &c);
  csvreg_accum *empty = NULL;
  assert_int_equal(csvreg_accum_new_for_spec(&empty, f.spec, solver, &err), CSVREG_OK);
  csvreg_fit *fit = NULL, *none = NULL;
  assert_int_equal(csvreg_accum_solve(full, NULL, &fit, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve_release(empty, NULL, &none, &err), CSVREG_E_NUMERIC);
  assert_null(none);
  assert_int_equal(csvreg_accum_counts(empty)->used, 0);
  /* an empty accumulator was the identity of a merge; released, it is refused */
  memset(&err, 0, sizeof err);
  assert_int_equal(csvreg_accum_merge(full, empty, &err), CSVREG_E_USAGE);
  assert_int_equal(csvreg_accum_add_chunk(empty, c, &err), CSVREG_E_USAGE);
  assert_int_equal(csvreg_accum_solve(empty, NULL, &none, &err), CSVREG_E_USAGE);
  assert_null(none);
  csvreg_accum_free(empty);
  /* full still solves to the same fit */
  csvreg_fit *again = NULL;
  assert_int_equal(csvreg_accum_solve(full, NULL, &again, &err), CSVREG_OK);
  same_fit(again, fit);
  csvreg_fit_free(again);
  csvreg_fit_free(fit);
  csvreg_accum_free(full);
  csvreg_chunk_free(c);
  close_fixture(&f);
  csvreg_accum_free(NULL); /* a no-op */
}

static void test_qr(void **state) {
  (void)state;
  test_release(CSVREG_SOLVER_QR);
}
static void test_normal(void **state) {
  (void)state;
  test_release(CSVREG_SOLVER_NORMAL);
}
static void test_qr_failed(void **state) {
  (void)state;
  test_release_failed(CSVREG_SOLVER_QR);
}
static void test_normal_failed(void **state) {
  (void)state;
  test_release_failed(CSVREG_SOLVER_NORMAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_qr),
      cmocka_unit_test(test_normal),
      cmocka_unit_test(test_qr_failed),
      cmocka_unit_test(test_normal_failed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
