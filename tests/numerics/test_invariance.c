/*
 * test_invariance.c - what must not change the answer: how rows are cut into
 * add_rows calls, how they are sharded and in which order the shards are
 * merged, empty accumulators, zero weights, and where each accumulator's shift
 * lands. Plus the edge cases of solving: exact aliasing, constant columns,
 * n <= p, no rows, and invalid values. Both solvers, through the public API.
 *
 * Tolerances (issue 2): blocks 1e-12 relative, shards 1e-11 relative, on a
 * well-conditioned problem (condition of the scaled design ~ 3), where
 * reassociating the updates moves results by a few hundred ulps at most.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "numtest.h"

#define N 5000
#define NT 4 /* terms besides the intercept */

/* A deterministic problem: x column-major N x NT, y, w. */
typedef struct gen {
  size_t n, nterms;
  double *x, *y, *w;
} gen;

static uint64_t rng_state;

static double uniform(void) {
  /* splitmix64: platform-independent, so every run sees the same data. */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-53;
}

static double noise(void) {
  double s = 0;
  for (int i = 0; i < 12; i++)
    s += uniform();
  return s - 6.0;
}

static void gen_free(gen *g) {
  free(g->x);
  free(g->y);
  free(g->w);
}

/* y = y0 + 2 x1 - 3 x2 + 0.5 x3 + b4 x4 + noise, x4 moved by `offset` for
 * rows at or after `far_from` (to move the shards' shifts apart). */
static void gen_make(gen *g, size_t n, uint64_t seed, double y0, double b4, double offset,
                     size_t far_from) {
  rng_state = seed;
  g->n = n;
  g->nterms = NT;
  g->x = malloc(n * NT * sizeof *g->x);
  g->y = malloc(n * sizeof *g->y);
  g->w = malloc(n * sizeof *g->w);
  assert_true(g->x && g->y && g->w);
  for (size_t i = 0; i < n; i++) {
    double x1 = 10 * uniform(), x2 = 10 * uniform() - 5;
    double x3 = x1 * x2 / 10 + uniform(), x4 = 100 + 20 * uniform();
    if (i >= far_from)
      x4 += offset;
    g->x[0 * n + i] = x1;
    g->x[1 * n + i] = x2;
    g->x[2 * n + i] = x3;
    g->x[3 * n + i] = x4;
    g->y[i] = y0 + 2 * x1 - 3 * x2 + 0.5 * x3 + b4 * x4 + noise();
    g->w[i] = 0.5 + 1.5 * uniform();
  }
}

/* Largest relative difference over coefficients, SEs and RSS (and the other
 * statistics, which follow from these). */
static double fit_diff(const csvreg_fit *a, const csvreg_fit *b) {
  assert_int_equal(csvreg_fit_get_summary(a)->nterms, csvreg_fit_get_summary(b)->nterms);
  assert_int_equal(csvreg_fit_get_summary(a)->rank, csvreg_fit_get_summary(b)->rank);
  assert_int_equal(csvreg_fit_get_summary(a)->counts.used, csvreg_fit_get_summary(b)->counts.used);
  double d = 0;
  for (size_t j = 0; j < csvreg_fit_get_summary(a)->nterms; j++) {
    assert_int_equal(csvreg_fit_term(a, j)->aliased, csvreg_fit_term(b, j)->aliased);
    d = fmax(d, numtest_rel(csvreg_fit_term(a, j)->estimate, csvreg_fit_term(b, j)->estimate));
    d = fmax(d, numtest_rel(csvreg_fit_term(a, j)->std_error, csvreg_fit_term(b, j)->std_error));
  }
  d = fmax(d, numtest_rel(csvreg_fit_get_summary(a)->rss, csvreg_fit_get_summary(b)->rss));
  d = fmax(d, numtest_rel(csvreg_fit_get_summary(a)->tss, csvreg_fit_get_summary(b)->tss));
  d = fmax(d, numtest_rel(csvreg_fit_get_summary(a)->residual_sd,
                          csvreg_fit_get_summary(b)->residual_sd));
  d = fmax(d,
           numtest_rel(csvreg_fit_get_summary(a)->r_squared, csvreg_fit_get_summary(b)->r_squared));
  d = fmax(d, numtest_rel(csvreg_fit_get_summary(a)->log_likelihood,
                          csvreg_fit_get_summary(b)->log_likelihood));
  return d;
}

static const csvreg_solver SOLVERS[] = {CSVREG_SOLVER_QR, CSVREG_SOLVER_NORMAL};

static csvreg_accum *new_accum(csvreg_solver s, size_t nterms, int intercept) {
  csvreg_accum *a = NULL;
  assert_int_equal(csvreg_accum_new(&a, s, nterms, intercept, NULL, NULL, NULL), CSVREG_OK);
  return a;
}

static csvreg_fit *solve(const csvreg_accum *a) {
  csvreg_fit *f = NULL;
  csvreg_error err;
  csvreg_status st = csvreg_accum_solve(a, NULL, &f, &err);
  if (st != CSVREG_OK)
    fail_msg("solve: %s: %s", csvreg_status_str(st), err.message);
  return f;
}

/* ---------------------------------------------------------------- blocks */

static void test_blocks(void **state) {
  (void)state;
  gen g;
  gen_make(&g, N, 1, 1, 0.25, 0, N);
  static const size_t blocks[] = {1, 7, 4096};
  for (int wtd = 0; wtd < 2; wtd++) {
    for (size_t s = 0; s < 2; s++) {
      csvreg_fit *ref = NULL;
      assert_int_equal(
          numtest_fit(SOLVERS[s], g.n, NT, 1, g.x, g.y, wtd ? g.w : NULL, 0, NULL, &ref),
          CSVREG_OK);
      assert_int_equal(csvreg_fit_get_summary(ref)->rank, NT + 1);
      for (size_t b = 0; b < 3; b++) {
        csvreg_fit *f = NULL;
        assert_int_equal(
            numtest_fit(SOLVERS[s], g.n, NT, 1, g.x, g.y, wtd ? g.w : NULL, blocks[b], NULL, &f),
            CSVREG_OK);
        double d = fit_diff(f, ref);
        printf("  blocks %-6s %-10s block %4zu: max rel diff %.2g\n",
               csvreg_solver_name(SOLVERS[s]), wtd ? "weighted" : "unweighted", blocks[b], d);
        if (!(d <= 1e-12))
          fail_msg("block %zu differs by %.3g > 1e-12", blocks[b], d);
        csvreg_fit_free(f);
      }
      csvreg_fit_free(ref);
    }
  }
  gen_free(&g);
}

/* ---------------------------------------------------------------- shards */

typedef enum fold { FOLD_LEFT, FOLD_RIGHT, FOLD_TREE } fold;
static const char *const FOLD_NAMES[] = {"left", "right", "tree"};

/* Builds one accumulator per shard (sizes[k] rows each, in row order), folds
 * them in `how` order, solves. */
static csvreg_fit *sharded(const gen *g, csvreg_solver s, const double *w, const size_t *sizes,
                           size_t k, fold how) {
  csvreg_accum *acc[16] = {0};
  assert_true(k <= 16);
  size_t from = 0;
  for (size_t i = 0; i < k; i++) {
    acc[i] = new_accum(s, g->nterms, 1);
    assert_int_equal(numtest_add(acc[i], from, from + sizes[i], g->nterms, g->x, g->n, g->y, w,
                                 CSVREG_DEFAULT_CHUNK_ROWS),
                     CSVREG_OK);
    from += sizes[i];
  }
  assert_int_equal(from, g->n);
  if (how == FOLD_LEFT) {
    for (size_t i = 1; i < k; i++)
      assert_int_equal(csvreg_accum_merge(acc[0], acc[i], NULL), 0);
  } else if (how == FOLD_RIGHT) {
    for (size_t i = k - 1; i > 0; i--)
      assert_int_equal(csvreg_accum_merge(acc[i - 1], acc[i], NULL), 0);
  } else {
    for (size_t step = 1; step < k; step *= 2)
      for (size_t i = 0; i + step < k; i += 2 * step)
        assert_int_equal(csvreg_accum_merge(acc[i], acc[i + step], NULL), 0);
  }
  csvreg_fit *f = solve(acc[0]);
  for (size_t i = 0; i < k; i++)
    csvreg_accum_free(acc[i]);
  return f;
}

static void test_shards(void **state) {
  (void)state;
  gen g;
  gen_make(&g, N, 2, 1, 0.25, 0, N);
  static const size_t s2[] = {1234, 3766};
  static const size_t s3[] = {0, 4001, 999};
  static const size_t s10[] = {1, 700, 13, 0, 2000, 96, 4, 1111, 75, 1000};
  const size_t *splits[] = {s2, s3, s10};
  const size_t nsplit[] = {2, 3, 10};
  for (int wtd = 0; wtd < 2; wtd++) {
    const double *w = wtd ? g.w : NULL;
    for (size_t s = 0; s < 2; s++) {
      csvreg_fit *ref = NULL;
      assert_int_equal(numtest_fit(SOLVERS[s], g.n, NT, 1, g.x, g.y, w, 0, NULL, &ref), 0);
      for (size_t sp = 0; sp < 3; sp++) {
        for (int how = FOLD_LEFT; how <= FOLD_TREE; how++) {
          csvreg_fit *f = sharded(&g, SOLVERS[s], w, splits[sp], nsplit[sp], (fold)how);
          double d = fit_diff(f, ref);
          printf("  shards %-6s %-10s %2zu shards, %-5s fold: max rel diff %.2g\n",
                 csvreg_solver_name(SOLVERS[s]), wtd ? "weighted" : "unweighted", nsplit[sp],
                 FOLD_NAMES[how], d);
          if (!(d <= 1e-11))
            fail_msg("%zu shards, %s fold: differs by %.3g > 1e-11", nsplit[sp], FOLD_NAMES[how],
                     d);
          assert_int_equal(csvreg_fit_get_summary(f)->counts.used, g.n);
          csvreg_fit_free(f);
        }
      }
      csvreg_fit_free(ref);
    }
  }
  gen_free(&g);
}

/* Shards whose first rows are far apart (x4 ~ 100 in the first, ~1e6 + 100 in
 * the second): their shifts differ by 1e6, and merging must move one state
 * onto the other's shift without losing the fit.
 * Two responses. (a) x4's slope is 1e-6, so y itself is not bimodal: both
 * solvers must agree with one pass to 1e-11. (b) The slope is 0.25, so the
 * target's shifts differ by 2.5e5 too and TSS/RSS ~ 1.6e10. QR reads RSS off
 * its factor and must still agree to 1e-11; the co-moment kernel's RSS =
 * Syy - b'Sxy cancels down from TSS, so one pass and a merge each carry an
 * error of order eps * TSS/RSS (~4e-6) in RSS and the SEs: it is held to
 * 100 eps TSS/RSS there, and its coefficients still to 1e-10. The intercept
 * is 1e5 in (b): with x4 * 0.25 ~ 2.5e5 in half the rows an intercept of 1
 * would be known only to ~1e5 eps relative by any method. */
static void far_shifts(double y0, double b4, const char *label) {
  gen g;
  gen_make(&g, N, 3, y0, b4, 1e6, 2500);
  static const size_t sizes[] = {2500, 2500};
  static const size_t sizes3[] = {2500, 1, 2499};
  for (size_t s = 0; s < 2; s++) {
    csvreg_fit *ref = NULL;
    assert_int_equal(numtest_fit(SOLVERS[s], g.n, NT, 1, g.x, g.y, NULL, 0, NULL, &ref), 0);
    double ratio = csvreg_fit_get_summary(ref)->tss / csvreg_fit_get_summary(ref)->rss;
    int loose = SOLVERS[s] == CSVREG_SOLVER_NORMAL && ratio > 1e4;
    double tol_stat = loose ? 100 * 0x1p-52 * ratio : 1e-11, tol_coef = loose ? 1e-10 : 1e-11;
    for (int how = FOLD_LEFT; how <= FOLD_RIGHT; how++) {
      csvreg_fit *f[2] = {sharded(&g, SOLVERS[s], NULL, sizes, 2, (fold)how),
                          sharded(&g, SOLVERS[s], NULL, sizes3, 3, (fold)how)};
      double dc = 0, ds = 0;
      for (int k = 0; k < 2; k++) {
        ds = fmax(ds, fit_diff(f[k], ref)); /* everything, SEs and RSS included */
        for (size_t j = 0; j < csvreg_fit_get_summary(ref)->nterms; j++)
          dc = fmax(dc, numtest_rel(csvreg_fit_term(f[k], j)->estimate,
                                    csvreg_fit_term(ref, j)->estimate));
      }
      printf("  far shifts %s %-6s %-5s fold: TSS/RSS %.2g, coefficients %.2g, all %.2g "
             "(tolerances %.2g, %.2g)\n",
             label, csvreg_solver_name(SOLVERS[s]), FOLD_NAMES[how], ratio, dc, ds, tol_coef,
             tol_stat);
      if (!(dc <= tol_coef))
        fail_msg("coefficients differ by %.3g > %.3g", dc, tol_coef);
      if (!(ds <= tol_stat))
        fail_msg("SEs/RSS differ by %.3g > %.3g", ds, tol_stat);
      csvreg_fit_free(f[0]);
      csvreg_fit_free(f[1]);
    }
    csvreg_fit_free(ref);
  }
  gen_free(&g);
}

static void test_shards_far_shifts(void **state) {
  (void)state;
  far_shifts(1, 1e-6, "(a)");
  far_shifts(1e5, 0.25, "(b)");
}

/* Merging with an empty accumulator, on either side, changes nothing. */
static void test_merge_empty(void **state) {
  (void)state;
  gen g;
  gen_make(&g, 500, 4, 1, 0.25, 0, 500);
  for (size_t s = 0; s < 2; s++) {
    csvreg_accum *full = new_accum(SOLVERS[s], NT, 1);
    csvreg_accum *e1 = new_accum(SOLVERS[s], NT, 1);
    csvreg_accum *e2 = new_accum(SOLVERS[s], NT, 1);
    assert_int_equal(numtest_add(full, 0, g.n, NT, g.x, g.n, g.y, g.w, 64), CSVREG_OK);
    csvreg_fit *ref = solve(full);
    assert_int_equal(csvreg_accum_merge(full, e1, NULL), CSVREG_OK); /* full + {} */
    csvreg_fit *f1 = solve(full);
    assert_int_equal(csvreg_accum_merge(e2, full, NULL), CSVREG_OK); /* {} + full */
    csvreg_fit *f2 = solve(e2);
    /* An identity is exact, not merely close. */
    double d1 = fit_diff(f1, ref), d2 = fit_diff(f2, ref);
    printf("  merge empty %-6s: full+empty %.2g, empty+full %.2g\n", csvreg_solver_name(SOLVERS[s]),
           d1, d2);
    assert_true(d1 == 0.0);
    assert_true(d2 == 0.0);
    assert_int_equal(csvreg_accum_counts(e2)->used, g.n);
    csvreg_fit_free(ref);
    csvreg_fit_free(f1);
    csvreg_fit_free(f2);
    csvreg_accum_free(full);
    csvreg_accum_free(e1);
    csvreg_accum_free(e2);
  }
  gen_free(&g);
}

static void test_merge_mismatch(void **state) {
  (void)state;
  csvreg_accum *qr = new_accum(CSVREG_SOLVER_QR, 2, 1);
  csvreg_accum *ne = new_accum(CSVREG_SOLVER_NORMAL, 2, 1);
  csvreg_accum *three = new_accum(CSVREG_SOLVER_QR, 3, 1);
  csvreg_accum *noint = new_accum(CSVREG_SOLVER_QR, 2, 0);
  csvreg_error err;
  assert_int_equal(csvreg_accum_merge(qr, ne, &err), CSVREG_E_USAGE);
  assert_int_equal(err.status, CSVREG_E_USAGE);
  assert_true(err.message[0] != '\0');
  assert_int_equal(csvreg_accum_merge(qr, three, NULL), CSVREG_E_USAGE);
  assert_int_equal(csvreg_accum_merge(qr, noint, NULL), CSVREG_E_USAGE);
  csvreg_accum_free(qr);
  csvreg_accum_free(ne);
  csvreg_accum_free(three);
  csvreg_accum_free(noint);
  csvreg_accum_free(NULL);
  csvreg_fit_free(NULL);
}

/* ---------------------------------------------------------------- aliasing */

/* x3 = x1 + x2 exactly (small integers, so the sum is exact in binary64). */
static void test_alias_exact_sum(void **state) {
  (void)state;
  enum { n = 300 };
  double x[4 * n], xr[3 * n], y[n];
  rng_state = 5;
  for (size_t i = 0; i < n; i++) {
    double x1 = floor(20 * uniform()), x2 = floor(50 * uniform()) - 25, x4 = uniform();
    x[i] = xr[i] = x1;
    x[n + i] = xr[n + i] = x2;
    x[2 * n + i] = x1 + x2;
    x[3 * n + i] = xr[2 * n + i] = x4;
    y[i] = 3 + x1 - 2 * x2 + 4 * x4 + noise();
  }
  for (size_t s = 0; s < 2; s++) {
    csvreg_fit *f = NULL, *r = NULL;
    assert_int_equal(numtest_fit(SOLVERS[s], n, 4, 1, x, y, NULL, 0, NULL, &f), CSVREG_OK);
    assert_int_equal(numtest_fit(SOLVERS[s], n, 3, 1, xr, y, NULL, 0, NULL, &r), CSVREG_OK);
    assert_int_equal(csvreg_fit_get_summary(f)->nterms, 5);
    assert_int_equal(csvreg_fit_get_summary(f)->rank, 4);
    assert_int_equal(csvreg_fit_term(f, 3)->aliased, 1);
    assert_true(isnan(csvreg_fit_term(f, 3)->estimate) && isnan(csvreg_fit_term(f, 3)->std_error));
    assert_true(isnan(csvreg_fit_term(f, 3)->p_value));
    assert_true(csvreg_fit_get_summary(f)->df_residual == n - 4);
    double d = 0;
    static const size_t map[] = {0, 1, 2, 4}; /* terms of f kept, in r's order */
    for (size_t j = 0; j < 4; j++) {
      assert_int_equal(csvreg_fit_term(f, map[j])->aliased, 0);
      d = fmax(d,
               numtest_rel(csvreg_fit_term(f, map[j])->estimate, csvreg_fit_term(r, j)->estimate));
      d = fmax(
          d, numtest_rel(csvreg_fit_term(f, map[j])->std_error, csvreg_fit_term(r, j)->std_error));
    }
    d = fmax(d, numtest_rel(csvreg_fit_get_summary(f)->residual_sd,
                            csvreg_fit_get_summary(r)->residual_sd));
    d = fmax(
        d, numtest_rel(csvreg_fit_get_summary(f)->r_squared, csvreg_fit_get_summary(r)->r_squared));
    d = fmax(d, numtest_rel(csvreg_fit_get_summary(f)->f_statistic,
                            csvreg_fit_get_summary(r)->f_statistic));
    printf("  alias x3=x1+x2 %-6s: kept terms vs fit without x3: max rel diff %.2g\n",
           csvreg_solver_name(SOLVERS[s]), d);
    if (!(d <= 1e-10))
      fail_msg("aliased fit differs from the reduced fit by %.3g", d);
    csvreg_fit_free(f);
    csvreg_fit_free(r);
  }
}

/* A constant column is the intercept again: aliased with one, and without an
 * intercept it takes the intercept's place. */
static void test_alias_constant(void **state) {
  (void)state;
  enum { n = 200 };
  double x[3 * n], y[n];
  rng_state = 6;
  for (size_t i = 0; i < n; i++) {
    x[i] = uniform() * 4;
    x[n + i] = 0.1; /* not exact in binary64; shifting makes it exactly 0 */
    x[2 * n + i] = uniform() - 0.5;
    y[i] = 2 + 3 * x[i] - x[2 * n + i] + noise();
  }
  for (size_t s = 0; s < 2; s++) {
    csvreg_fit *f = NULL, *g = NULL;
    assert_int_equal(numtest_fit(SOLVERS[s], n, 3, 1, x, y, NULL, 0, NULL, &f), CSVREG_OK);
    assert_int_equal(csvreg_fit_get_summary(f)->rank, 3);
    assert_int_equal(csvreg_fit_term(f, 0)->aliased, 0);
    assert_int_equal(csvreg_fit_term(f, 1)->aliased, 0);
    assert_int_equal(csvreg_fit_term(f, 2)->aliased, 1);
    assert_int_equal(csvreg_fit_term(f, 3)->aliased, 0);
    assert_true(isnan(csvreg_fit_term(f, 2)->estimate));
    assert_true(isfinite(csvreg_fit_term(f, 3)->estimate) &&
                isfinite(csvreg_fit_term(f, 3)->std_error));
    /* No intercept: the constant column is kept and 0.1 * b equals the intercept. */
    assert_int_equal(numtest_fit(SOLVERS[s], n, 3, 0, x, y, NULL, 0, NULL, &g), CSVREG_OK);
    assert_int_equal(csvreg_fit_get_summary(g)->rank, 3);
    assert_int_equal(csvreg_fit_term(g, 1)->aliased, 0);
    double d = numtest_rel(0.1 * csvreg_fit_term(g, 1)->estimate, csvreg_fit_term(f, 0)->estimate);
    d = fmax(d, numtest_rel(csvreg_fit_term(g, 0)->estimate, csvreg_fit_term(f, 1)->estimate));
    d = fmax(d, numtest_rel(csvreg_fit_term(g, 2)->estimate, csvreg_fit_term(f, 3)->estimate));
    d = fmax(d, numtest_rel(csvreg_fit_get_summary(g)->rss, csvreg_fit_get_summary(f)->rss));
    printf("  constant column %-6s: aliased with intercept; as intercept max rel diff %.2g\n",
           csvreg_solver_name(SOLVERS[s]), d);
    if (!(d <= 1e-10))
      fail_msg("constant column fit differs by %.3g", d);
    csvreg_fit_free(f);
    csvreg_fit_free(g);
  }
}

/* ---------------------------------------------------------------- weights */

/* Rows with weight 0 are counted apart and change nothing, wherever they are
 * (first row included, with outlying values). */
static void test_zero_weights(void **state) {
  (void)state;
  gen g;
  gen_make(&g, 1000, 7, 1, 0.25, 0, 1000);
  enum { extra = 5 };
  size_t n2 = g.n + extra;
  static const size_t at[extra] = {0, 1, 400, 401, 1004}; /* positions in the new order */
  double *x = malloc(n2 * NT * sizeof *x), *y = malloc(n2 * sizeof *y), *w = malloc(n2 * sizeof *w);
  assert_true(x && y && w);
  for (size_t i = 0, src = 0, e = 0; i < n2; i++) {
    int zero = e < extra && at[e] == i;
    for (size_t j = 0; j < NT; j++)
      x[j * n2 + i] = zero ? 50.0 + 7 * j : g.x[j * g.n + src];
    y[i] = zero ? 1e4 : g.y[src];
    w[i] = zero ? 0.0 : g.w[src];
    if (zero)
      e++;
    else
      src++;
  }
  for (size_t s = 0; s < 2; s++) {
    csvreg_fit *ref = NULL, *f = NULL;
    assert_int_equal(numtest_fit(SOLVERS[s], g.n, NT, 1, g.x, g.y, g.w, 0, NULL, &ref), 0);
    assert_int_equal(numtest_fit(SOLVERS[s], n2, NT, 1, x, y, w, 7, NULL, &f), 0);
    assert_int_equal(csvreg_fit_get_summary(f)->counts.zero_weight, extra);
    assert_int_equal(csvreg_fit_get_summary(f)->counts.used, g.n);
    assert_true(csvreg_fit_get_summary(f)->df_residual == csvreg_fit_get_summary(ref)->df_residual);
    double d = fit_diff(f, ref);
    d = fmax(d, numtest_rel(csvreg_fit_get_summary(f)->aic, csvreg_fit_get_summary(ref)->aic));
    d = fmax(d, numtest_rel(csvreg_fit_get_summary(f)->adj_r_squared,
                            csvreg_fit_get_summary(ref)->adj_r_squared));
    printf("  zero weights %-6s: max rel diff %.2g\n", csvreg_solver_name(SOLVERS[s]), d);
    if (!(d <= 1e-12))
      fail_msg("zero-weight rows changed the fit by %.3g", d);
    csvreg_fit_free(ref);
    csvreg_fit_free(f);
  }
  free(x);
  free(y);
  free(w);
  gen_free(&g);
}

/* ---------------------------------------------------------------- edges */

/* n = p: an exact interpolation with no residual df (SEs NaN); n < p: the
 * trailing terms aliased. Neither crashes nor fails. */
static void test_few_rows(void **state) {
  (void)state;
  double x[3 * 4] = {1, 2, 4, 8, /* x1 */ 3, 1, 4, 1, /* x2 */ 0.5, 0.25, 2, 1 /* x3 */};
  double y[4] = {1, 3, 2, 5};
  for (size_t s = 0; s < 2; s++) {
    for (size_t n = 3; n <= 4; n++) {
      double xs[3 * 4];
      for (size_t j = 0; j < 3; j++)
        memcpy(xs + j * n, x + j * 4, n * sizeof *xs);
      csvreg_fit *f = NULL;
      csvreg_status st = numtest_fit(SOLVERS[s], n, 3, 1, xs, y, NULL, 0, NULL, &f);
      printf("  n=%zu p=4 %-6s: %s", n, csvreg_solver_name(SOLVERS[s]), csvreg_status_str(st));
      assert_int_equal(st, CSVREG_OK);
      printf(", rank %zu, df %g, residual SD %g\n", csvreg_fit_get_summary(f)->rank,
             csvreg_fit_get_summary(f)->df_residual, csvreg_fit_get_summary(f)->residual_sd);
      assert_int_equal(csvreg_fit_get_summary(f)->rank, n);
      assert_true(csvreg_fit_get_summary(f)->df_residual == 0);
      assert_true(isnan(csvreg_fit_get_summary(f)->residual_sd));
      for (size_t j = 0; j < 4; j++) {
        assert_true(isnan(csvreg_fit_term(f, j)->std_error));
        assert_true(isnan(csvreg_fit_term(f, j)->p_value));
        if (j < n)
          assert_true(!csvreg_fit_term(f, j)->aliased && isfinite(csvreg_fit_term(f, j)->estimate));
        else
          assert_true(csvreg_fit_term(f, j)->aliased && isnan(csvreg_fit_term(f, j)->estimate));
      }
      csvreg_fit_free(f);
    }
  }
}

static void test_no_rows(void **state) {
  (void)state;
  double x[2] = {1, 2}, y[2] = {3, 4}, w0[2] = {0, 0};
  for (size_t s = 0; s < 2; s++) {
    csvreg_accum *a = new_accum(SOLVERS[s], 1, 1);
    csvreg_fit *f = NULL;
    csvreg_error err;
    assert_int_equal(csvreg_accum_solve(a, NULL, &f, &err), CSVREG_E_NUMERIC);
    assert_null(f);
    assert_true(err.message[0] != '\0');
    /* Rows with weight 0 only: counted, but still nothing to fit. */
    assert_int_equal(csvreg_accum_add_rows(a, 2, x, 2, y, w0, NULL), CSVREG_OK);
    assert_int_equal(csvreg_accum_counts(a)->zero_weight, 2);
    assert_int_equal(csvreg_accum_counts(a)->used, 0);
    assert_int_equal(csvreg_accum_solve(a, NULL, &f, NULL), CSVREG_E_NUMERIC);
    assert_null(f);
    csvreg_accum_free(a);
  }
}

static void test_bad_values(void **state) {
  (void)state;
  for (size_t s = 0; s < 2; s++) {
    csvreg_accum *a = new_accum(SOLVERS[s], 2, 1);
    double x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {1, 2, 3}, w[3] = {1, 1, 1};
    csvreg_error err;
    struct {
      double *where;
      double value;
      const char *what;
    } cases[] = {
        {&w[1], -1.0, "negative weight"},
        {&w[2], NAN, "NaN weight"},
        {&w[0], INFINITY, "Inf weight"},
        {&x[4], NAN, "NaN x"},
        {&x[1], -INFINITY, "-Inf x"},
        {&y[2], INFINITY, "Inf y"},
        {&y[0], NAN, "NaN y"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      double saved = *cases[k].where;
      *cases[k].where = cases[k].value;
      csvreg_error_clear(&err);
      csvreg_status st = csvreg_accum_add_rows(a, 3, x, 3, y, w, &err);
      printf("  %-6s %-15s -> %s: %s\n", csvreg_solver_name(SOLVERS[s]), cases[k].what,
             csvreg_status_str(st), err.message);
      assert_int_equal(st, CSVREG_E_VALUE);
      assert_int_equal(err.status, CSVREG_E_VALUE);
      assert_true(err.message[0] != '\0');
      *cases[k].where = saved;
    }
    csvreg_accum_free(a);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blocks),
      cmocka_unit_test(test_shards),
      cmocka_unit_test(test_shards_far_shifts),
      cmocka_unit_test(test_merge_empty),
      cmocka_unit_test(test_merge_mismatch),
      cmocka_unit_test(test_alias_exact_sum),
      cmocka_unit_test(test_alias_constant),
      cmocka_unit_test(test_zero_weights),
      cmocka_unit_test(test_few_rows),
      cmocka_unit_test(test_no_rows),
      cmocka_unit_test(test_bad_values),
  };
  return cmocka_run_group_tests_name("invariance", tests, NULL, NULL);
}
