/*
 * test_model.c - kept models and one-pass scoring through the public API:
 * a model file round-trips bit-identically, a loaded model predicts the same
 * bits, the exact held-out score equals the residuals summed directly, the
 * split sends each record to the same part for any chunk size, and the
 * evaluator does not depend on how rows are cut into calls.
 */
#define _POSIX_C_SOURCE 200809L /* fileno */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"

#define N 500
#define P 3

/* A deterministic design far from zero (shift matters) with noise. */
static void make_data(double *x, double *y, double *w) {
  uint64_t s = 12345;
  for (size_t i = 0; i < N; i++) {
    double e = 0;
    for (size_t j = 0; j < P; j++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      x[j * N + i] = 1e6 + (double)(s >> 11) * 0x1.0p-53 * 10.0 * (double)(j + 1);
    }
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    e = (double)(s >> 11) * 0x1.0p-53 - 0.5;
    y[i] = 3 + 2 * (x[i] - 1e6) - 0.5 * (x[N + i] - 1e6) + 0.25 * (x[2 * N + i] - 1e6) + e;
    w[i] = 0.5 + (double)(i % 7);
  }
}

static csvreg_accum *fitted(csvreg_solver solver, const double *x, const double *y, const double *w,
                            size_t from, size_t to) {
  csvreg_accum *a = NULL;
  const char *names[P] = {"a", "b", "c"};
  assert_int_equal(csvreg_accum_new(&a, solver, P, 1, names, "y", NULL), CSVREG_OK);
  for (size_t i = from; i < to; i++) {
    double row[P];
    for (size_t j = 0; j < P; j++)
      row[j] = x[j * N + i];
    assert_int_equal(csvreg_accum_add_rows(a, 1, row, 1, &y[i], w ? &w[i] : NULL, NULL), CSVREG_OK);
  }
  return a;
}

static void roundtrip(csvreg_solver solver, int weighted) {
  static double x[P * N], y[N], w[N];
  make_data(x, y, w);
  csvreg_accum *a = fitted(solver, x, y, weighted ? w : NULL, 0, N);
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  mo.na = "NA,-999";
  mo.delimiter = ';';
  csvreg_model *m = NULL, *m2 = NULL;
  char *t1 = NULL, *t2 = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_model_new(&m, a, &mo, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_save(m, &t1, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_load(&m2, t1, strlen(t1), &err), CSVREG_OK);
  assert_int_equal(csvreg_model_save(m2, &t2, &err), CSVREG_OK);
  assert_string_equal(t1, t2); /* the file is a fixed point */
  assert_string_equal(csvreg_model_get_options(m2)->na, "NA,-999");
  assert_int_equal(csvreg_model_get_options(m2)->delimiter, ';');
  assert_string_equal(csvreg_model_feature(m2, 2), "c");
  /* The same bits: coefficients, residual sd, predictions and intervals. */
  const csvreg_fit *f1 = csvreg_model_fit(m), *f2 = csvreg_model_fit(m2);
  csvreg_fit *direct = NULL;
  assert_int_equal(csvreg_accum_solve(a, NULL, &direct, &err), CSVREG_OK);
  for (size_t j = 0; j < csvreg_fit_get_summary(f1)->nterms; j++) {
    assert_memory_equal(&csvreg_fit_term(f1, j)->estimate, &csvreg_fit_term(f2, j)->estimate,
                        sizeof(double));
    assert_memory_equal(&csvreg_fit_term(f1, j)->estimate, &csvreg_fit_term(direct, j)->estimate,
                        sizeof(double));
  }
  assert_memory_equal(&csvreg_fit_get_summary(f1)->residual_sd,
                      &csvreg_fit_get_summary(f2)->residual_sd, sizeof(double));
  static double p1[N], p2[N], l1[N], l2[N], u1[N], u2[N];
  assert_int_equal(
      csvreg_model_predict(m, N, x, N, CSVREG_INTERVAL_PREDICTION, 0.95, p1, l1, u1, &err),
      CSVREG_OK);
  assert_int_equal(
      csvreg_model_predict(m2, N, x, N, CSVREG_INTERVAL_PREDICTION, 0.95, p2, l2, u2, &err),
      CSVREG_OK);
  assert_memory_equal(p1, p2, sizeof p1);
  assert_memory_equal(l1, l2, sizeof l1);
  assert_memory_equal(u1, u2, sizeof u1);
  for (size_t i = 0; i < N; i++)
    assert_true(l1[i] < p1[i] && p1[i] < u1[i]);
  /* An edited byte anywhere in the numbers is caught. */
  char *edit = strstr(t1, "0x1.");
  assert_non_null(edit);
  edit[4] = edit[4] == '0' ? '1' : '0';
  csvreg_model *bad = NULL;
  assert_int_equal(csvreg_model_load(&bad, t1, strlen(t1), &err), CSVREG_E_FORMAT);
  assert_null(bad);
  assert_non_null(strstr(err.message, "checksum"));
  csvreg_fit_free(direct);
  free(t1);
  free(t2);
  csvreg_model_free(m);
  csvreg_model_free(m2);
  csvreg_accum_free(a);
}

static void test_roundtrip_qr(void **state) {
  (void)state;
  roundtrip(CSVREG_SOLVER_QR, 0);
  roundtrip(CSVREG_SOLVER_QR, 1);
}

static void test_roundtrip_normal(void **state) {
  (void)state;
  roundtrip(CSVREG_SOLVER_NORMAL, 0);
  roundtrip(CSVREG_SOLVER_NORMAL, 1);
}

/* The exact score of a part equals summing the residuals row by row. */
static void score_case(csvreg_solver solver, int weighted) {
  static double x[P * N], y[N], w[N];
  make_data(x, y, w);
  csvreg_accum *train = fitted(solver, x, y, weighted ? w : NULL, 0, 350);
  csvreg_accum *held = fitted(solver, x, y, weighted ? w : NULL, 350, N);
  csvreg_fit *fit = NULL;
  assert_int_equal(csvreg_accum_solve(train, NULL, &fit, NULL), CSVREG_OK);
  /* The unscaled covariance is symmetric and gives the standard errors. */
  const csvreg_fit_summary *fs = csvreg_fit_get_summary(fit);
  for (size_t i = 0; i < fs->nterms; i++) {
    double se = fs->residual_sd * sqrt(csvreg_fit_xtx_inv(fit, i, i));
    assert_true(fabs(se - csvreg_fit_term(fit, i)->std_error) <= 1e-12 * se);
    for (size_t j = 0; j < i; j++)
      assert_true(csvreg_fit_xtx_inv(fit, i, j) == csvreg_fit_xtx_inv(fit, j, i));
  }
  assert_true(isnan(csvreg_fit_xtx_inv(fit, fs->nterms, 0)));
  assert_null(csvreg_fit_term(fit, fs->nterms));
  csvreg_score sc;
  assert_int_equal(csvreg_accum_score(held, fit, &sc, NULL), CSVREG_OK);
  double sse = 0, sw = 0, swy = 0;
  for (size_t i = 350; i < N; i++) {
    double wi = weighted ? w[i] : 1.0, r = y[i] - csvreg_fit_term(fit, 0)->estimate;
    for (size_t j = 0; j < P; j++)
      r -= csvreg_fit_term(fit, 1 + j)->estimate * x[j * N + i];
    sse += wi * r * r;
    sw += wi;
    swy += wi * y[i];
  }
  double tss = 0;
  for (size_t i = 350; i < N; i++)
    tss += (weighted ? w[i] : 1.0) * (y[i] - swy / sw) * (y[i] - swy / sw);
  assert_int_equal(sc.n, N - 350);
  assert_true(fabs(sc.sum_w - sw) <= 1e-12 * sw);
  assert_true(fabs(sc.sse - sse) <= 1e-9 * sse);
  assert_true(fabs(sc.tss - tss) <= 1e-9 * tss);
  assert_true(fabs(sc.r_squared - (1 - sse / tss)) <= 1e-9);
  csvreg_fit_free(fit);
  csvreg_accum_free(train);
  csvreg_accum_free(held);
}

static void test_score(void **state) {
  (void)state;
  score_case(CSVREG_SOLVER_QR, 0);
  score_case(CSVREG_SOLVER_QR, 1);
  score_case(CSVREG_SOLVER_NORMAL, 0);
  score_case(CSVREG_SOLVER_NORMAL, 1);
}

/* Parts do not depend on the chunk size and their counts add up. */
static void test_split_chunks(void **state) {
  (void)state;
  size_t sizes[3] = {1, 7, 0};
  csvreg_counts first[3];
  for (int t = 0; t < 3; t++) {
    csvreg_reader_options ro;
    csvreg_reader_options_init(&ro);
    csvreg_spec_options so;
    csvreg_spec_options_init(&so);
    so.target = "y";
    so.features = "x1,x2,x3";
    csvreg_reader *r = NULL;
    csvreg_spec *s = NULL;
    csvreg_chunk *c = NULL;
    csvreg_accum *parts[3] = {NULL, NULL, NULL};
    assert_int_equal(csvreg_reader_open(&r, "model_gen.csv", &ro, NULL), CSVREG_OK);
    assert_int_equal(
        csvreg_spec_new(&s, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), &so, NULL),
        CSVREG_OK);
    assert_int_equal(csvreg_chunk_new(&c, s, sizes[t], NULL), CSVREG_OK);
    for (int k = 0; k < 3; k++)
      assert_int_equal(csvreg_accum_new_for_spec(&parts[k], s, CSVREG_SOLVER_QR, NULL), CSVREG_OK);
    csvreg_status st;
    size_t part[4096];
    do {
      st = csvreg_chunk_fill(c, r, NULL);
      assert_false(csvreg_is_error(st));
      const uint64_t *rec = csvreg_chunk_record_numbers(c);
      for (size_t i = 0; i < csvreg_chunk_rows(c); i++) {
        double u = csvreg_split_uniform(rec[i], 99);
        assert_true(u >= 0 && u < 1);
        part[i] = (size_t)(u * 3);
      }
      assert_int_equal(csvreg_accum_add_chunk_split(parts, 3, c, part, NULL), CSVREG_OK);
    } while (st != CSVREG_END);
    uint64_t records = 0, used = 0;
    for (int k = 0; k < 3; k++) {
      records += csvreg_accum_counts(parts[k])->records;
      used += csvreg_accum_counts(parts[k])->used;
    }
    assert_int_equal(records, 240);
    assert_int_equal(used + csvreg_accum_counts(parts[0])->dropped_na, 240);
    first[t] = *csvreg_accum_counts(parts[1]);
    assert_int_equal(first[t].used, first[0].used);
    for (int k = 0; k < 3; k++)
      csvreg_accum_free(parts[k]);
    csvreg_chunk_free(c);
    csvreg_spec_free(s);
    csvreg_reader_free(r);
  }
}

/* The evaluator gives the same metrics however rows are cut into calls. */
static void test_evaluator_pieces(void **state) {
  (void)state;
  static double x[P * N], y[N], w[N], yhat[N];
  make_data(x, y, w);
  for (size_t i = 0; i < N; i++)
    yhat[i] = y[i] + sin((double)i) + (i % 50 == 0 ? -y[i] : 0);
  y[3] = 0;
  csvreg_evaluator *a = NULL, *b = NULL;
  assert_int_equal(csvreg_evaluator_new(&a, NULL), CSVREG_OK);
  assert_int_equal(csvreg_evaluator_new(&b, NULL), CSVREG_OK);
  assert_int_equal(csvreg_evaluator_add(a, N, y, yhat, w, NULL), CSVREG_OK);
  for (size_t i = 0; i < N; i += 7)
    assert_int_equal(csvreg_evaluator_add(b, N - i < 7 ? N - i : 7, y + i, yhat + i, w + i, NULL),
                     CSVREG_OK);
  csvreg_metrics ma, mb;
  csvreg_evaluator_result(a, &ma);
  csvreg_evaluator_result(b, &mb);
  assert_int_equal(ma.n, N);
  assert_int_equal(ma.n_zero_y, 1);
  double va[] = {
      ma.mse, ma.mae, ma.mape, ma.max_error, ma.mean_error, ma.r_squared, ma.explained_variance};
  double vb[] = {
      mb.mse, mb.mae, mb.mape, mb.max_error, mb.mean_error, mb.r_squared, mb.explained_variance};
  for (size_t k = 0; k < sizeof va / sizeof va[0]; k++)
    assert_true(fabs(va[k] - vb[k]) <= 1e-13 * fabs(va[k]));
  double neg = -1;
  assert_int_equal(csvreg_evaluator_add(a, 1, y, yhat, &neg, NULL), CSVREG_E_VALUE);
  csvreg_evaluator_free(a);
  csvreg_evaluator_free(b);
  csvreg_evaluator_free(NULL);
  csvreg_model_free(NULL);
}

/* csvreg_model_new_from_fit (issue 12: fit -o without a copy of the state
 * or a second solve): the file is csvreg_model_new's byte for byte, with
 * the state given or with a released finished copy beside it, its
 * predictions are the same bits, and its intervals are refused, as the
 * header says. A fit of other terms is refused and the arguments freed
 * (ASan: no leak). */
static void from_fit(csvreg_solver solver, int weighted) {
  static double x[P * N], y[N], w[N];
  make_data(x, y, w);
  csvreg_accum *a = fitted(solver, x, y, weighted ? w : NULL, 0, N), *b = NULL, *c = NULL;
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  mo.na = "NA";
  csvreg_model *m = NULL, *m2 = NULL, *m3 = NULL;
  char *t1 = NULL, *t2 = NULL, *t3 = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_model_new(&m, a, &mo, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_save(m, &t1, &err), CSVREG_OK);
  /* the state itself, solved without release */
  csvreg_fit *f = NULL;
  assert_int_equal(csvreg_accum_copy(a, &b, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve(b, &mo.solve, &f, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_new_from_fit(&m2, b, NULL, f, &mo, &err), CSVREG_OK);
  assert_ptr_equal(csvreg_model_fit(m2), f);
  assert_ptr_equal(csvreg_model_state(m2), b);
  assert_int_equal(csvreg_model_save(m2, &t2, &err), CSVREG_OK);
  assert_string_equal(t1, t2);
  /* the state beside a finished copy that gave the fit its numbers */
  assert_int_equal(csvreg_accum_copy(a, &b, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_copy(a, &c, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve_release(c, &mo.solve, &f, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_new_from_fit(&m3, b, c, f, &mo, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_save(m3, &t3, &err), CSVREG_OK);
  assert_string_equal(t1, t3);
  static double p1[N], p2[N], l[N], u[N];
  assert_int_equal(csvreg_model_predict(m, N, x, N, CSVREG_INTERVAL_NONE, 0.95, p1, NULL, NULL, &err),
                   CSVREG_OK);
  assert_int_equal(
      csvreg_model_predict(m2, N, x, N, CSVREG_INTERVAL_NONE, 0.95, p2, NULL, NULL, &err), CSVREG_OK);
  assert_memory_equal(p1, p2, sizeof p1);
  assert_int_equal(
      csvreg_model_predict(m2, N, x, N, CSVREG_INTERVAL_CONFIDENCE, 0.95, p2, l, u, &err),
      CSVREG_E_USAGE);
  assert_non_null(strstr(err.message, "load the saved model"));
  /* a fit of other terms: refused, everything given freed */
  const char *names[2] = {"a", "b"};
  csvreg_accum *other = NULL;
  assert_int_equal(csvreg_accum_new(&other, solver, 2, 1, names, "y", NULL), CSVREG_OK);
  for (size_t i = 0; i < 10; i++) {
    double row[2] = {x[i], x[N + i]};
    assert_int_equal(csvreg_accum_add_rows(other, 1, row, 1, &y[i], NULL, NULL), CSVREG_OK);
  }
  assert_int_equal(csvreg_accum_solve(other, NULL, &f, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_copy(a, &b, &err), CSVREG_OK);
  csvreg_model *bad = NULL;
  assert_int_equal(csvreg_model_new_from_fit(&bad, b, NULL, f, &mo, &err), CSVREG_E_USAGE);
  assert_null(bad);
  /* a released state cannot be the state saved */
  assert_int_equal(csvreg_accum_copy(a, &c, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve_release(c, &mo.solve, &f, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_new_from_fit(&bad, c, NULL, f, &mo, &err), CSVREG_E_USAGE);
  assert_null(bad);
  csvreg_accum_free(other);
  free(t1);
  free(t2);
  free(t3);
  csvreg_model_free(m);
  csvreg_model_free(m2);
  csvreg_model_free(m3);
  csvreg_accum_free(a);
}

static void test_from_fit(void **state) {
  (void)state;
  from_fit(CSVREG_SOLVER_QR, 0);
  from_fit(CSVREG_SOLVER_QR, 1);
  from_fit(CSVREG_SOLVER_NORMAL, 1);
}

/* csvreg_accum_solve_release: the fit equals csvreg_accum_solve's bits, and
 * the accumulator keeps its names and counts but no numbers: every use of
 * them (rows, merges, copies, state files, another solve, a model) is
 * CSVREG_E_USAGE, in either direction of a merge. */
static void released(csvreg_solver solver) {
  static double x[P * N], y[N], w[N];
  make_data(x, y, w);
  csvreg_accum *a = fitted(solver, x, y, w, 0, N), *r = NULL, *c = NULL;
  csvreg_error err;
  csvreg_fit *f1 = NULL, *f2 = NULL, *f3 = NULL;
  assert_int_equal(csvreg_accum_copy(a, &r, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve(a, NULL, &f1, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve_release(r, NULL, &f2, &err), CSVREG_OK);
  for (size_t j = 0; j < csvreg_fit_get_summary(f1)->nterms; j++) {
    assert_memory_equal(&csvreg_fit_term(f1, j)->estimate, &csvreg_fit_term(f2, j)->estimate,
                        sizeof(double));
    assert_memory_equal(&csvreg_fit_term(f1, j)->std_error, &csvreg_fit_term(f2, j)->std_error,
                        sizeof(double));
  }
  assert_int_equal(csvreg_accum_counts(r)->used, N);
  assert_int_equal(csvreg_accum_solve(r, NULL, &f3, &err), CSVREG_E_USAGE);
  assert_null(f3);
  assert_non_null(strstr(err.message, "solve_release"));
  assert_int_equal(csvreg_accum_solve_release(r, NULL, &f3, &err), CSVREG_E_USAGE);
  double row[P] = {x[0], x[N], x[2 * N]};
  assert_int_equal(csvreg_accum_add_rows(r, 1, row, 1, &y[0], NULL, &err), CSVREG_E_USAGE);
  assert_int_equal(csvreg_accum_merge(a, r, &err), CSVREG_E_USAGE);
  assert_int_equal(csvreg_accum_merge(r, a, &err), CSVREG_E_USAGE);
  assert_int_equal(csvreg_accum_copy(r, &c, &err), CSVREG_E_USAGE);
  assert_null(c);
  assert_int_equal(csvreg_accum_scale(r, 0.5, &err), CSVREG_E_USAGE);
  char *line = NULL;
  assert_int_equal(csvreg_accum_save(r, NULL, &line, &err), CSVREG_E_USAGE);
  assert_null(line);
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  csvreg_model *m = NULL;
  assert_int_equal(csvreg_model_new(&m, r, &mo, &err), CSVREG_E_USAGE);
  assert_null(m);
  csvreg_fit_free(f1);
  csvreg_fit_free(f2);
  csvreg_accum_free(r);
  csvreg_accum_free(a);
}

static void test_released(void **state) {
  (void)state;
  released(CSVREG_SOLVER_QR);
  released(CSVREG_SOLVER_NORMAL);
}

/* ---- csvreg_model_take_state (fit --update of a formula model) ---- */

/* y ~ x + factor(g) on rows with three levels (g4 only from row 40) and x
 * far from zero; `from`..`to` of 60 rows. */
static char *take_csv(size_t from, size_t to) {
  char *t = malloc(64 * 80);
  assert_non_null(t);
  size_t len = (size_t)sprintf(t, "y,x,g\n");
  for (size_t i = from; i < to; i++) {
    const char *g = i >= 40 && i % 3 == 0 ? "g4" : i % 2 ? "g1" : "g2";
    double x = 1000.0 + (double)((i * 37) % 23) * 0.25;
    double y = 2.0 + 0.5 * x + (g[1] - '0') * 1.25 + (double)((i * 53) % 17) * 0.01;
    len += (size_t)sprintf(t + len, "%.17g,%.17g,%s\n", y, x, g);
  }
  return t;
}

static csvreg_reader *take_reader(const char *csv) {
  csvreg_reader *r = NULL;
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  assert_int_equal(csvreg_reader_open_mem(&r, csv, strlen(csv), "mem", &ro, NULL), CSVREG_OK);
  return r;
}

static csvreg_spec *take_spec(const char *csv) {
  csvreg_reader *r = take_reader(csv);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  csvreg_spec *s = NULL;
  assert_int_equal(csvreg_spec_new_formula(&s, csvreg_reader_column_names(r),
                                           csvreg_reader_ncolumns(r), "y ~ x + factor(g)", &so,
                                           NULL, NULL),
                   CSVREG_OK);
  csvreg_reader_free(r);
  return s;
}

/* Every row of csv folded into a (chunks of 7 rows). */
static void take_fold(csvreg_accum *a, const csvreg_spec *s, const char *csv) {
  csvreg_reader *r = take_reader(csv);
  csvreg_chunk *c = NULL;
  assert_int_equal(csvreg_chunk_new(&c, s, 7, NULL), CSVREG_OK);
  csvreg_status st;
  do {
    st = csvreg_chunk_fill(c, r, NULL);
    assert_true(st == CSVREG_OK || st == CSVREG_END);
    assert_int_equal(csvreg_accum_add_chunk(a, c, NULL), CSVREG_OK);
  } while (st == CSVREG_OK);
  csvreg_chunk_free(c);
  csvreg_reader_free(r);
}

/* The model's predictions of csv's rows (its spec bound to csv's header). */
static size_t take_predict(const csvreg_model *m, const char *csv, double *yhat, double *lo,
                           double *hi, csvreg_status *ivst) {
  csvreg_reader *r = take_reader(csv);
  csvreg_spec *s = NULL;
  assert_int_equal(csvreg_model_spec_new(&s, m, csvreg_reader_column_names(r),
                                         csvreg_reader_ncolumns(r), 0, NULL),
                   CSVREG_OK);
  csvreg_chunk *c = NULL;
  assert_int_equal(csvreg_chunk_new(&c, s, 0, NULL), CSVREG_OK);
  assert_int_equal(csvreg_chunk_fill(c, r, NULL), CSVREG_END);
  const double *x, *y, *w;
  size_t ld, n = csvreg_chunk_rows(c);
  csvreg_chunk_design(c, &x, &ld, &y, &w);
  assert_int_equal(
      csvreg_model_predict(m, n, x, ld, CSVREG_INTERVAL_NONE, 0.95, yhat, NULL, NULL, NULL),
      CSVREG_OK);
  *ivst =
      csvreg_model_predict(m, n, x, ld, CSVREG_INTERVAL_CONFIDENCE, 0.95, yhat + n, lo, hi, NULL);
  csvreg_chunk_free(c);
  csvreg_spec_free(s);
  csvreg_reader_free(r);
  return n;
}

static char *state_line(const csvreg_accum *a) {
  char *line = NULL;
  assert_int_equal(csvreg_accum_save(a, NULL, &line, NULL), CSVREG_OK);
  return line;
}

/* The documented contract of csvreg_model_take_state: it hands over the
 * model's pre-select state itself (the pointer csvreg_model_state gave,
 * its bits unchanged, every level's column kept) for the caller to free;
 * the model no longer has it (a second take is CSVREG_E_USAGE and
 * csvreg_model_state no longer returns it), still binds and predicts the
 * same bits, and refuses saving and intervals with CSVREG_E_USAGE. The
 * state taken goes on as --update uses it: merged with new rows bringing a
 * new level and finished, it equals a refit on all rows. A model that
 * keeps no such state and NULL arguments are CSVREG_E_USAGE, leaving *out
 * NULL and the model as it was. Run under ASan: nothing leaks, nothing is
 * freed twice. */
/* The formula model of csv's rows (spec s): its state in *a, its file's
 * text in *text. */
static csvreg_model *take_model(const csvreg_spec *s, const char *csv, csvreg_accum **a,
                                char **text) {
  csvreg_error err;
  assert_int_equal(csvreg_accum_new_for_spec(a, s, CSVREG_SOLVER_QR, &err), CSVREG_OK);
  take_fold(*a, s, csv);
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  mo.spec = s;
  csvreg_model *m = NULL;
  assert_int_equal(csvreg_model_new(&m, *a, &mo, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_save(m, text, &err), CSVREG_OK);
  return m;
}

static void take_state_case(int loaded) {
  char *old = take_csv(0, 40), *all = take_csv(0, 60), *rest = take_csv(40, 60);
  csvreg_spec *s = take_spec(old);
  csvreg_accum *a = NULL;
  csvreg_error err;
  char *text = NULL;
  csvreg_model *m = take_model(s, old, &a, &text);
  if (loaded) { /* the same through a model file (fit --update's path) */
    csvreg_model_free(m);
    m = NULL;
    assert_int_equal(csvreg_model_load(&m, text, strlen(text), &err), CSVREG_OK);
  }
  assert_int_equal(csvreg_model_nfactors(m), 1);
  /* before: predictions with intervals, the state's line */
  static double p0[128], l0[64], u0[64], p1[128], l1[64], u1[64];
  csvreg_status iv;
  size_t n = take_predict(m, all, p0, l0, u0, &iv);
  assert_int_equal(iv, CSVREG_OK);
  const csvreg_accum *kept = csvreg_model_state(m);
  assert_ptr_not_equal(kept, csvreg_model_accum(m)); /* pre-select: a column per level */
  char *before = state_line(kept);
  uint64_t used = csvreg_accum_counts(kept)->used;
  assert_int_equal(used, 40);

  csvreg_accum *taken = NULL;
  assert_int_equal(csvreg_model_take_state(m, &taken, &err), CSVREG_OK);
  assert_ptr_equal(taken, kept);
  char *after = state_line(taken);
  assert_string_equal(before, after);
  /* the model gave it up */
  csvreg_accum *again = (csvreg_accum *)&err; /* any non-NULL: must come back NULL */
  assert_int_equal(csvreg_model_take_state(m, &again, &err), CSVREG_E_USAGE);
  assert_null(again);
  assert_non_null(strstr(err.message, "keeps no state"));
  assert_ptr_not_equal(csvreg_model_state(m), taken);
  /* and still binds and predicts the same bits; no intervals, no saving */
  assert_int_equal(take_predict(m, all, p1, l1, u1, &iv), n);
  assert_int_equal(iv, CSVREG_E_USAGE);
  assert_memory_equal(p0, p1, n * sizeof *p0);
  char *t2 = (char *)&err;
  assert_int_equal(csvreg_model_save(m, &t2, &err), CSVREG_E_USAGE);
  assert_int_equal(csvreg_model_nfactors(m), 1);
  assert_string_equal(csvreg_model_formula(m), "y ~ x + factor(g)");
  assert_non_null(csvreg_model_fit(m));

  /* the taken state outlives the model: --update folds new rows (a new
   * level, g4) into it, and the finished merge is the refit on all rows */
  csvreg_model_free(m);
  csvreg_accum *more = NULL, *one = NULL;
  assert_int_equal(csvreg_accum_new_for_spec(&more, s, CSVREG_SOLVER_QR, &err), CSVREG_OK);
  take_fold(more, s, rest);
  assert_int_equal(csvreg_accum_merge(taken, more, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_finish(taken, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_new_for_spec(&one, s, CSVREG_SOLVER_QR, &err), CSVREG_OK);
  take_fold(one, s, all);
  assert_int_equal(csvreg_accum_finish(one, &err), CSVREG_OK);
  csvreg_fit *f1 = NULL, *f2 = NULL;
  assert_int_equal(csvreg_accum_solve(taken, NULL, &f1, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_solve(one, NULL, &f2, &err), CSVREG_OK);
  const csvreg_fit_summary *s1 = csvreg_fit_get_summary(f1), *s2 = csvreg_fit_get_summary(f2);
  assert_int_equal(s1->nterms, 4); /* (Intercept), x, factor(g)g2, factor(g)g4 */
  assert_int_equal(s1->nterms, s2->nterms);
  for (size_t j = 0; j < s1->nterms; j++) {
    const csvreg_term *t1 = csvreg_fit_term(f1, j), *t2b = csvreg_fit_term(f2, j);
    assert_string_equal(t1->name, t2b->name);
    assert_true(fabs(t1->estimate - t2b->estimate) <= 1e-11 * fabs(t2b->estimate));
    assert_true(fabs(t1->std_error - t2b->std_error) <= 1e-9 * t2b->std_error);
  }
  assert_string_equal(csvreg_fit_term(f1, 3)->name, "factor(g)g4");
  csvreg_fit_free(f1);
  csvreg_fit_free(f2);
  csvreg_accum_free(taken); /* the caller's now */
  csvreg_accum_free(more);
  csvreg_accum_free(one);
  free(before);
  free(after);
  free(text);
  csvreg_accum_free(a);
  csvreg_spec_free(s);
  free(old);
  free(all);
  free(rest);
}

static void test_take_state(void **state) {
  (void)state;
  take_state_case(0);
  take_state_case(1);
  /* NULL arguments */
  csvreg_error err;
  csvreg_accum *out = (csvreg_accum *)&err;
  assert_int_equal(csvreg_model_take_state(NULL, &out, &err), CSVREG_E_USAGE);
  assert_null(out);
  assert_non_null(strstr(err.message, "NULL argument"));
  /* a model that keeps no state of every level's column (plain terms):
   * refused, and the model is as it was */
  static double x[P * N], y[N], w[N];
  make_data(x, y, w);
  csvreg_accum *a = fitted(CSVREG_SOLVER_QR, x, y, NULL, 0, N);
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  csvreg_model *m = NULL;
  assert_int_equal(csvreg_model_new(&m, a, &mo, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_take_state(m, NULL, &err), CSVREG_E_USAGE);
  char *t1 = NULL, *t2 = NULL;
  assert_int_equal(csvreg_model_save(m, &t1, &err), CSVREG_OK);
  out = (csvreg_accum *)&err;
  assert_int_equal(csvreg_model_take_state(m, &out, &err), CSVREG_E_USAGE);
  assert_null(out);
  assert_non_null(strstr(err.message, "keeps no state of every level's column"));
  assert_int_equal(csvreg_model_take_state(m, &out, NULL), CSVREG_E_USAGE); /* err optional */
  assert_ptr_equal(csvreg_model_state(m), csvreg_model_accum(m));
  assert_int_equal(csvreg_model_save(m, &t2, &err), CSVREG_OK);
  assert_string_equal(t1, t2);
  static double p[N], l[N], u[N];
  assert_int_equal(
      csvreg_model_predict(m, N, x, N, CSVREG_INTERVAL_CONFIDENCE, 0.95, p, l, u, &err), CSVREG_OK);
  free(t1);
  free(t2);
  csvreg_model_free(m);
  csvreg_accum_free(a);
}

/* ---- csvreg_model_read_fd_with(CSVREG_MODEL_READ_PREDICT) (mem12e) ---- */

/* The model text through a descriptor, read with `flags`. */
static csvreg_model *read_text(const char *text, unsigned flags) {
  FILE *fp = tmpfile();
  assert_non_null(fp);
  assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
  assert_int_equal(fflush(fp), 0);
  rewind(fp);
  csvreg_model *m = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_model_read_fd_with(&m, fileno(fp), flags, &err), CSVREG_OK);
  fclose(fp);
  return m;
}

/* A model read for predictions only has the fit and point predictions of
 * the whole model, bit for bit (its state finished in place, its solve in
 * the state's array), keeps no pre-select state, and refuses what needs
 * the state's numbers or the design factor (intervals, saving, a second
 * solve, take_state) with CSVREG_E_USAGE. A formula model with a factor
 * (pre-select state) and a model of plain columns. */
static void read_predict_case(const char *text, const char *csv, int formula) {
  csvreg_model *full = read_text(text, 0), *pm = read_text(text, CSVREG_MODEL_READ_PREDICT);
  const csvreg_fit_summary *s0 = csvreg_fit_get_summary(csvreg_model_fit(full)),
                           *s1 = csvreg_fit_get_summary(csvreg_model_fit(pm));
  assert_int_equal(s0->nterms, s1->nterms);
  assert_memory_equal(&s0->residual_sd, &s1->residual_sd, sizeof s0->residual_sd);
  for (size_t j = 0; j < s0->nterms; j++) {
    const csvreg_term *t0 = csvreg_fit_term(csvreg_model_fit(full), j),
                      *t1 = csvreg_fit_term(csvreg_model_fit(pm), j);
    assert_string_equal(t0->name, t1->name);
    assert_memory_equal(&t0->estimate, &t1->estimate, sizeof t0->estimate);
    assert_memory_equal(&t0->std_error, &t1->std_error, sizeof t0->std_error);
  }
  if (csv) {
    static double p0[128], l0[64], u0[64], p1[128], l1[64], u1[64];
    csvreg_status iv;
    size_t n = take_predict(full, csv, p0, l0, u0, &iv);
    assert_int_equal(iv, CSVREG_OK);
    assert_int_equal(take_predict(pm, csv, p1, l1, u1, &iv), n);
    assert_int_equal(iv, CSVREG_E_USAGE);
    assert_memory_equal(p0, p1, n * sizeof *p0);
  }
  csvreg_error err;
  double z[3] = {0, 0, 0};
  assert_int_equal(csvreg_model_predict(pm, 0, NULL, 1, CSVREG_INTERVAL_PREDICTION, 0.95, z, z + 1,
                                        z + 2, &err),
                   CSVREG_E_USAGE);
  assert_non_null(strstr(err.message, "no design factor"));
  assert_int_equal(
      csvreg_model_influence(pm, 0, NULL, 1, z, NULL, z, NULL, z + 1, NULL, NULL, &err),
      CSVREG_E_USAGE);
  assert_non_null(strstr(err.message, "no design factor"));
  assert_ptr_equal(csvreg_model_state(pm), csvreg_model_accum(pm)); /* no pre-select state */
  if (formula)
    assert_ptr_not_equal(csvreg_model_state(full), csvreg_model_accum(full));
  char *t = NULL;
  assert_int_equal(csvreg_model_save(pm, &t, &err), CSVREG_E_USAGE);
  assert_null(t);
  csvreg_fit *f = NULL;
  assert_int_equal(csvreg_model_solve(pm, NULL, &f, &err), CSVREG_E_USAGE);
  csvreg_accum *out = NULL;
  assert_int_equal(csvreg_model_take_state(pm, &out, &err), CSVREG_E_USAGE);
  assert_null(out);
  csvreg_model_free(pm);
  csvreg_model_free(full);
}

static void test_read_predict(void **state) {
  (void)state;
  char *old = take_csv(0, 40), *all = take_csv(0, 60);
  csvreg_spec *s = take_spec(old);
  csvreg_accum *a = NULL;
  csvreg_error err;
  char *text = NULL;
  csvreg_model_free(take_model(s, old, &a, &text));
  csvreg_model_options mo;
  csvreg_model *m = NULL;
  read_predict_case(text, old, 1);
  /* read for --update: the same file saved again, the same state taken
   * (its bits), the same point predictions; no intervals */
  csvreg_model *full = read_text(text, 0), *um = read_text(text, CSVREG_MODEL_READ_UPDATE);
  char *t0 = NULL, *t1 = NULL;
  assert_int_equal(csvreg_model_save(full, &t0, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_save(um, &t1, &err), CSVREG_OK);
  assert_string_equal(t0, t1);
  static double q0[128], ql[64], qu[64], q1[128];
  csvreg_status iv;
  size_t n = take_predict(full, all, q0, ql, qu, &iv);
  assert_int_equal(take_predict(um, all, q1, ql, qu, &iv), n);
  assert_int_equal(iv, CSVREG_E_USAGE);
  assert_memory_equal(q0, q1, n * sizeof *q0);
  csvreg_accum *s0 = NULL, *s1 = NULL;
  assert_int_equal(csvreg_model_take_state(full, &s0, &err), CSVREG_OK);
  assert_int_equal(csvreg_model_take_state(um, &s1, &err), CSVREG_OK);
  char *l0 = state_line(s0), *l1 = state_line(s1);
  assert_string_equal(l0, l1);
  free(l0);
  free(l1);
  free(t0);
  free(t1);
  csvreg_accum_free(s0);
  csvreg_accum_free(s1);
  csvreg_model_free(full);
  csvreg_model_free(um);
  free(text);
  csvreg_accum_free(a);
  csvreg_spec_free(s);
  free(old);
  free(all);
  /* plain columns, both solvers */
  static double x[P * N], y[N], w[N];
  make_data(x, y, w);
  for (int k = 0; k < 2; k++) {
    csvreg_accum *b = fitted(k ? CSVREG_SOLVER_NORMAL : CSVREG_SOLVER_QR, x, y, NULL, 0, N);
    csvreg_model_options_init(&mo);
    assert_int_equal(csvreg_model_new(&m, b, &mo, &err), CSVREG_OK);
    assert_int_equal(csvreg_model_save(m, &text, &err), CSVREG_OK);
    csvreg_model_free(m);
    read_predict_case(text, NULL, 0);
    free(text);
    csvreg_accum_free(b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_qr),
      cmocka_unit_test(test_roundtrip_normal),
      cmocka_unit_test(test_score),
      cmocka_unit_test(test_split_chunks),
      cmocka_unit_test(test_evaluator_pieces),
      cmocka_unit_test(test_from_fit),
      cmocka_unit_test(test_released),
      cmocka_unit_test(test_take_state),
      cmocka_unit_test(test_read_predict),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
