/*
 * test_kernels.c - the kernel contract (src/linalg/accum_impl.h), checked for
 * every kernel of the table against a dense reference, so a new kernel gets
 * the same test by being added to the table:
 *   - quadratic forms c'A'Ac of the shifted, weighted data [1 | X-K | y-K_y]
 *     (csvreg__accum_resid_ss) equal the dense sums (long double) to 1e-12 of
 *     sum w (|c0| + |c|'|v|)^2 (the residuals cancel most of each term), and
 *     the coefficients equal a dense weighted QR (LAPACK dgels) to 1e-9;
 *   - rows folded in blocks of 1, 7, 512 and in one block agree (1e-12 for the
 *     quadratic forms, 1e-11 for the fit: the intercept is extrapolated 1000
 *     from the data, b0 = ybar - b'xbar cancels 2000 to 1);
 *   - merging three parts, in either association, equals one pass (1e-11);
 *   - scale(lambda) equals folding the weights times lambda (1e-11);
 *   - subtract, where the kernel has it, undoes a merge (1e-8: the downdate
 *     cancels digits); elsewhere it is CSVREG_E_USAGE and leaves dst as it was;
 *   - save / load / save is bit-exact (numbers, shift, totals, text, fit);
 *   - a workspace shared by accumulators of two shapes gives bit-identical
 *     numbers to each accumulator's own; reset then refold equals fresh;
 *   - adding columns to a live state is CSVREG_E_USAGE in a kernel without
 *     it (both kernels have it now: test_levels.c tests it).
 * The data are well conditioned with an intercept (scaled, centred condition
 * ~ 1), with an offset of 1000 on one column and weights 0, 0.5, 1 and 2.
 * Fits also get ten times the error the kernel estimates itself (same_fit),
 * which matters for the normal kernel without an intercept.
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

#include "csvreg.h"
#include "linalg.h"

#define N 1000
#define P 3

static double X[P * N], Y[N], W[N];

static uint64_t rng_state;

static double uniform(void) { /* splitmix64, in [0, 1) */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static void make_data(void) {
  rng_state = 42;
  for (size_t i = 0; i < N; i++) {
    double x1 = 1000.0 + uniform(), x2 = uniform(), x3 = uniform() - 0.5;
    X[i] = x1;
    X[N + i] = x2;
    X[2 * N + i] = x3;
    Y[i] = 1.0 + 2.0 * x1 - x2 + 0.5 * x3 + 0.1 * (uniform() - 0.5);
    static const double ws[] = {1.0, 0.5, 2.0, 0.0, 1.0};
    W[i] = ws[i % 5];
  }
}

static double rel(double a, double b) {
  double d = fabs(a - b), s = fmax(fabs(a), fabs(b));
  return s > 0 ? d / s : d;
}

static csvreg_accum *fresh(csvreg_solver s, int intercept) {
  csvreg_accum *a = NULL;
  assert_int_equal(csvreg_accum_new(&a, s, P, intercept, NULL, NULL, NULL), CSVREG_OK);
  return a;
}

/* Rows [from, to) with weights times `scale`, in blocks of `block` (0: one). */
static void feed(csvreg_accum *a, size_t from, size_t to, size_t block, double scale) {
  static double ws[N];
  for (size_t i = from; i < to; i++)
    ws[i] = W[i] * scale;
  if (block == 0)
    block = to - from;
  for (size_t i = from; i < to; i += block) {
    size_t nb = to - i < block ? to - i : block;
    assert_int_equal(csvreg_accum_add_rows(a, nb, X + i, N, Y + i, ws + i, NULL), CSVREG_OK);
  }
}

/* A few fixed vectors c (length 1 + m) for quadratic forms. */
#define NC 4
static void cvec(size_t k, int intercept, double *c) {
  static const double base[NC][1 + P + 1] = {{0.3, -2.0, 1.0, -0.5, 1.0},
                                             {1.0, 0.0, 0.0, 0.0, 0.0},
                                             {0.0, 1.0, 0.0, 0.0, 0.0},
                                             {-0.7, 0.25, -3.0, 2.0, 0.5}};
  memcpy(c, base[k], sizeof base[k]);
  if (!intercept)
    c[0] = 0; /* without an intercept a state knows no constant column */
}

/* sum w (c0 + c'v)^2 over the rows of `a`'s data, v shifted by a's shift;
 * with `mag`, sum w (|c0| + |c|'|v|)^2 instead: the size the rounding of the
 * form is relative to (the residuals cancel most of the terms here). */
static double dense_quad(const csvreg_accum *a, const double *c, double scale, int mag) {
  const double *k = csvreg__accum_shift(a);
  long double s = 0;
  for (size_t i = 0; i < N; i++) {
    if (!(W[i] > 0))
      continue;
    long double r = mag ? fabsl(c[0]) : c[0];
    for (size_t j = 0; j <= P; j++) {
      long double v = (long double)(j < P ? X[j * N + i] : Y[i]) - k[j];
      r += mag ? fabsl(c[1 + j] * v) : c[1 + j] * v;
    }
    s += (long double)W[i] * scale * r * r;
  }
  return (double)s;
}

/* Coefficients of the weighted fit by a dense QR of sqrt(w) [1 | X], sqrt(w) y. */
static void dense_coef(int intercept, double *coef) {
  const size_t nc = (size_t)intercept + P;
  double *a = malloc(N * nc * sizeof *a), *b = malloc(N * sizeof *b);
  assert_non_null(a);
  assert_non_null(b);
  for (size_t i = 0; i < N; i++) {
    double s = sqrt(W[i]);
    if (intercept)
      a[i] = s;
    for (size_t j = 0; j < P; j++)
      a[(intercept + j) * N + i] = s * X[j * N + i];
    b[i] = s * Y[i];
  }
  assert_int_equal(LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', N, (lapack_int)nc, 1, a, N, b, N), 0);
  memcpy(coef, b, nc * sizeof *coef);
  free(a);
  free(b);
}

static csvreg_fit *solve(const csvreg_accum *a) {
  csvreg_fit *f = NULL;
  assert_int_equal(csvreg_accum_solve(a, NULL, &f, NULL), CSVREG_OK);
  return f;
}

/* Estimates and standard errors of two fits agree to `tol`, plus ten times
 * the error the kernels themselves estimate (fit->digits, a first-order
 * estimate): the normal kernel squares the condition number, which on the
 * design without an intercept (x1 ~ 1000) costs it digits a fixed bound
 * would have to ignore. */
static void same_fit(const csvreg_fit *f, const csvreg_fit *g, double tol, const char *what) {
  assert_int_equal(csvreg_fit_get_summary(f)->nterms, csvreg_fit_get_summary(g)->nterms);
  tol +=
      10.0 * pow(10.0, -fmin(csvreg_fit_get_summary(f)->digits, csvreg_fit_get_summary(g)->digits));
  /* The normal kernel's RSS is y'y minus the explained part: it resolves
   * residuals to about eps * TSS only, and the standard errors scale with it. */
  double tol_se =
      tol + 10.0 * 0x1p-52 * csvreg_fit_get_summary(f)->tss / csvreg_fit_get_summary(f)->rss;
  for (size_t j = 0; j < csvreg_fit_get_summary(f)->nterms; j++) {
    double e = rel(csvreg_fit_term(f, j)->estimate, csvreg_fit_term(g, j)->estimate);
    double s = rel(csvreg_fit_term(f, j)->std_error, csvreg_fit_term(g, j)->std_error);
    if (!(e <= tol && s <= tol_se))
      fail_msg("%s: term %zu estimate rel %.3g (tol %.3g), se rel %.3g (tol %.3g)", what, j, e, tol,
               s, tol_se);
  }
}

/* Quadratic forms of two accumulators (on their own shifts) agree to `tol`. */
static void same_quads(const csvreg_accum *a, const csvreg_accum *b, int intercept, double tol,
                       const char *what) {
  for (size_t k = 0; k < NC; k++) {
    double c[1 + P + 1], sa, sb, ta, tb;
    cvec(k, intercept, c);
    /* Move c0 onto each state's own shift: the same residual function. */
    csvreg__accum_resid_ss(a, c, &sa, &ta);
    double cb[1 + P + 1];
    memcpy(cb, c, sizeof c);
    for (size_t j = 0; j < P + 1; j++)
      cb[0] += c[1 + j] * (csvreg__accum_shift(b)[j] - csvreg__accum_shift(a)[j]);
    csvreg__accum_resid_ss(b, cb, &sb, &tb);
    double mag = dense_quad(a, c, 1.0, 1), d = mag > 0 ? fabs(sa - sb) / mag : fabs(sa - sb);
    if (!(d <= tol))
      fail_msg("%s: quadratic form %zu differs by %.3g of its size > %.3g", what, k, d, tol);
  }
}

static int nkernels(void) {
  accum_kernel_info info;
  int n = 0;
  while (csvreg__accum_kernel_at((size_t)n, &info) == 0)
    n++;
  return n;
}

static void test_table(void **state) {
  (void)state;
  accum_kernel_info info;
  assert_true(nkernels() >= 2);
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++) {
    /* The table and the solver names agree both ways. */
    csvreg_solver s;
    assert_int_equal(csvreg_solver_parse(info.name, &s), CSVREG_OK);
    assert_int_equal(s, info.solver);
    assert_string_equal(csvreg_solver_name(info.solver), info.name);
    csvreg_accum *a = fresh(info.solver, 1);
    assert_int_equal(csvreg_accum_solver(a), info.solver);
    assert_int_equal(csvreg__accum_nresp(a), 1);
    assert_int_equal(csvreg__accum_ncols(a), P + 1);
    csvreg_accum_free(a);
  }
  assert_int_equal(csvreg__accum_kernel_at((size_t)nkernels(), &info), -1);
}

static void test_dense_and_blocks(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++)
    for (int ic = 1; ic >= 0; ic--) {
      csvreg_accum *one = fresh(info.solver, ic);
      feed(one, 0, N, 0, 1.0);
      for (size_t k = 0; k < NC; k++) {
        double c[1 + P + 1], sse, tss;
        cvec(k, ic, c);
        csvreg__accum_resid_ss(one, c, &sse, &tss);
        double mag = dense_quad(one, c, 1.0, 1), diff = fabs(sse - dense_quad(one, c, 1.0, 0));
        double d = mag > 0 ? diff / mag : diff;
        if (!(d <= 1e-12))
          fail_msg("%s ic=%d: quadratic form %zu differs by %.3g of its size", info.name, ic, k, d);
      }
      csvreg_fit *f = solve(one);
      double coef[1 + P];
      dense_coef(ic, coef);
      for (size_t j = 0; j < csvreg_fit_get_summary(f)->nterms; j++)
        if (!(rel(csvreg_fit_term(f, j)->estimate, coef[j]) <= 1e-9))
          fail_msg("%s ic=%d: coefficient %zu rel %.3g vs dense QR", info.name, ic, j,
                   rel(csvreg_fit_term(f, j)->estimate, coef[j]));
      static const size_t blocks[] = {1, 7, 512};
      for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        csvreg_accum *a = fresh(info.solver, ic);
        feed(a, 0, N, blocks[b], 1.0);
        csvreg_fit *g = solve(a);
        same_fit(f, g, 1e-11, info.name);
        same_quads(one, a, ic, 1e-12, info.name);
        csvreg_fit_free(g);
        csvreg_accum_free(a);
      }
      csvreg_fit_free(f);
      csvreg_accum_free(one);
    }
}

static void test_merge(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++)
    for (int ic = 1; ic >= 0; ic--) {
      csvreg_accum *one = fresh(info.solver, ic), *p[3], *q[3], *empty = fresh(info.solver, ic);
      feed(one, 0, N, 0, 1.0);
      static const size_t cut[] = {0, 300, 301, N};
      for (size_t k = 0; k < 3; k++) {
        p[k] = fresh(info.solver, ic);
        q[k] = fresh(info.solver, ic);
        feed(p[k], cut[k], cut[k + 1], 0, 1.0);
        feed(q[k], cut[k], cut[k + 1], 0, 1.0);
      }
      /* (p0 + p1) + p2 and q0 + (q1 + q2), with empty states on both sides. */
      assert_int_equal(csvreg_accum_merge(p[0], empty, NULL), CSVREG_OK);
      assert_int_equal(csvreg_accum_merge(p[0], p[1], NULL), CSVREG_OK);
      assert_int_equal(csvreg_accum_merge(p[0], p[2], NULL), CSVREG_OK);
      assert_int_equal(csvreg_accum_merge(q[1], q[2], NULL), CSVREG_OK);
      assert_int_equal(csvreg_accum_merge(empty, q[0], NULL), CSVREG_OK);
      assert_int_equal(csvreg_accum_merge(empty, q[1], NULL), CSVREG_OK);
      assert_int_equal(csvreg_accum_counts(p[0])->used, csvreg_accum_counts(one)->used);
      assert_int_equal(csvreg_accum_counts(empty)->records, N);
      csvreg_fit *f = solve(one), *g = solve(p[0]), *h = solve(empty);
      same_fit(f, g, 1e-11, info.name);
      same_fit(f, h, 1e-11, info.name);
      same_quads(one, p[0], ic, 1e-11, info.name);
      same_quads(one, empty, ic, 1e-11, info.name);
      csvreg_fit_free(f);
      csvreg_fit_free(g);
      csvreg_fit_free(h);
      for (size_t k = 0; k < 3; k++) {
        csvreg_accum_free(p[k]);
        csvreg_accum_free(q[k]);
      }
      csvreg_accum_free(empty);
      csvreg_accum_free(one);
    }
}

static void test_scale(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++) {
    csvreg_accum *a = fresh(info.solver, 1), *b = fresh(info.solver, 1);
    feed(a, 0, N, 0, 1.0);
    assert_int_equal(csvreg_accum_scale(a, 0.25, NULL), CSVREG_OK);
    feed(b, 0, N, 0, 0.25);
    csvreg_fit *f = solve(a), *g = solve(b);
    same_fit(f, g, 1e-11, info.name);
    same_quads(a, b, 1, 1e-11, info.name);
    assert_true(rel(csvreg_fit_get_summary(f)->log_likelihood,
                    csvreg_fit_get_summary(g)->log_likelihood) <= 1e-11);
    csvreg_fit_free(f);
    csvreg_fit_free(g);
    csvreg_accum_free(a);
    csvreg_accum_free(b);
  }
}

static void test_subtract(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++) {
    csvreg_accum *all = fresh(info.solver, 1), *a = fresh(info.solver, 1),
                 *b = fresh(info.solver, 1);
    feed(all, 0, 600, 0, 1.0);
    feed(a, 0, 600, 0, 1.0);
    feed(b, 600, N, 0, 1.0);
    assert_int_equal(csvreg_accum_merge(all, b, NULL), CSVREG_OK);
    char *before = NULL, *after = NULL;
    assert_int_equal(csvreg_accum_save(all, NULL, &before, NULL), CSVREG_OK);
    csvreg_error err;
    csvreg_status st = csvreg_accum_subtract(all, b, &err);
    if (info.can_subtract) {
      assert_int_equal(st, CSVREG_OK);
      assert_int_equal(csvreg_accum_counts(all)->records, 600);
      csvreg_fit *f = solve(a), *g = solve(all);
      same_fit(f, g, 1e-8, info.name);
      csvreg_fit_free(f);
      csvreg_fit_free(g);
      /* A state that was never merged in is refused. */
      csvreg_accum *alien = fresh(info.solver, 1);
      feed(alien, 0, 50, 0, 1000.0);
      assert_int_not_equal(csvreg_accum_subtract(b, alien, NULL), CSVREG_OK);
      csvreg_accum_free(alien);
    } else {
      assert_int_equal(st, CSVREG_E_USAGE);
      assert_non_null(strstr(err.message, "cannot be downdated"));
      assert_int_equal(csvreg_accum_save(all, NULL, &after, NULL), CSVREG_OK);
      assert_string_equal(before, after);
    }
    free(before);
    free(after);
    csvreg_accum_free(all);
    csvreg_accum_free(a);
    csvreg_accum_free(b);
  }
}

static void test_save_load(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++)
    for (int ic = 1; ic >= 0; ic--) {
      csvreg_accum *a = fresh(info.solver, ic), *b = NULL;
      feed(a, 0, N, 7, 1.0);
      char *text = NULL, *again = NULL;
      assert_int_equal(csvreg_accum_save(a, NULL, &text, NULL), CSVREG_OK);
      assert_int_equal(csvreg_accum_load(&b, text, strlen(text), NULL, NULL), CSVREG_OK);
      assert_int_equal(csvreg__accum_kernel_len(a), csvreg__accum_kernel_len(b));
      assert_memory_equal(csvreg__accum_kernel_numbers(a), csvreg__accum_kernel_numbers(b),
                          csvreg__accum_kernel_len(a) * sizeof(double));
      assert_memory_equal(csvreg__accum_shift(a), csvreg__accum_shift(b), csvreg__accum_ncols(a) * sizeof(double));
      accum_totals ta, tb;
      csvreg__accum_totals_get(a, &ta);
      csvreg__accum_totals_get(b, &tb);
      assert_memory_equal(&ta.counts, &tb.counts, sizeof ta.counts);
      assert_true(ta.sum_w == tb.sum_w && ta.sum_log_w == tb.sum_log_w);
      assert_true(ta.weighted == tb.weighted && ta.shifted == tb.shifted);
      assert_int_equal(csvreg_accum_save(b, NULL, &again, NULL), CSVREG_OK);
      assert_string_equal(text, again);
      csvreg_fit *f = solve(a), *g = solve(b);
      for (size_t j = 0; j < csvreg_fit_get_summary(f)->nterms; j++) {
        assert_memory_equal(&csvreg_fit_term(f, j)->estimate, &csvreg_fit_term(g, j)->estimate,
                            sizeof(double));
        assert_memory_equal(&csvreg_fit_term(f, j)->std_error, &csvreg_fit_term(g, j)->std_error,
                            sizeof(double));
      }
      /* The loaded state keeps folding as the original does. */
      feed(a, 0, 10, 0, 1.0);
      feed(b, 0, 10, 0, 1.0);
      assert_memory_equal(csvreg__accum_kernel_numbers(a), csvreg__accum_kernel_numbers(b),
                          csvreg__accum_kernel_len(a) * sizeof(double));
      csvreg_fit_free(f);
      csvreg_fit_free(g);
      free(text);
      free(again);
      csvreg_accum_free(a);
      csvreg_accum_free(b);
    }
}

static void test_workspace_and_reset(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++) {
    /* Two shapes (3 and 1 terms) share one workspace, block by block. */
    csvreg_accum *own3 = fresh(info.solver, 1), *sh3 = fresh(info.solver, 1);
    csvreg_accum *own1 = NULL, *sh1 = NULL;
    assert_int_equal(csvreg_accum_new(&own1, info.solver, 1, 1, NULL, NULL, NULL), CSVREG_OK);
    assert_int_equal(csvreg_accum_new(&sh1, info.solver, 1, 1, NULL, NULL, NULL), CSVREG_OK);
    accum_ws *ws = csvreg__accum_ws_new();
    assert_non_null(ws);
    for (size_t i0 = 0; i0 < N; i0 += 97) {
      size_t nb = N - i0 < 97 ? N - i0 : 97;
      assert_int_equal(csvreg__accum_fold(sh3, ws, nb, X + i0, N, Y + i0, W + i0, NULL), CSVREG_OK);
      assert_int_equal(csvreg__accum_fold(sh1, ws, nb, X + N + i0, N, Y + i0, NULL, NULL), CSVREG_OK);
      assert_int_equal(csvreg__accum_fold(own3, NULL, nb, X + i0, N, Y + i0, W + i0, NULL), CSVREG_OK);
      assert_int_equal(csvreg__accum_fold(own1, NULL, nb, X + N + i0, N, Y + i0, NULL, NULL), CSVREG_OK);
    }
    assert_memory_equal(csvreg__accum_kernel_numbers(own3), csvreg__accum_kernel_numbers(sh3),
                        csvreg__accum_kernel_len(own3) * sizeof(double));
    assert_memory_equal(csvreg__accum_kernel_numbers(own1), csvreg__accum_kernel_numbers(sh1),
                        csvreg__accum_kernel_len(own1) * sizeof(double));
    /* A merge with the shared workspace equals one with dst's own. */
    csvreg_accum *m1 = fresh(info.solver, 1), *m2 = fresh(info.solver, 1);
    csvreg_accum *src = fresh(info.solver, 1);
    feed(m1, 0, 500, 0, 1.0);
    feed(m2, 0, 500, 0, 1.0);
    feed(src, 500, N, 0, 1.0);
    assert_int_equal(csvreg__accum_merge_ws(m1, src, ws, NULL), CSVREG_OK);
    assert_int_equal(csvreg_accum_merge(m2, src, NULL), CSVREG_OK);
    assert_memory_equal(csvreg__accum_kernel_numbers(m1), csvreg__accum_kernel_numbers(m2),
                        csvreg__accum_kernel_len(m1) * sizeof(double));
    csvreg_accum_free(m1);
    csvreg_accum_free(m2);
    csvreg_accum_free(src);
    /* Reset, then the same rows: the fresh state, bit for bit. */
    csvreg_accum *fresh3 = fresh(info.solver, 1);
    feed(fresh3, 0, N, 0, 1.0);
    csvreg__accum_reset(sh3);
    assert_int_equal(csvreg_accum_counts(sh3)->records, 0);
    feed(sh3, 0, N, 0, 1.0);
    assert_memory_equal(csvreg__accum_kernel_numbers(fresh3), csvreg__accum_kernel_numbers(sh3),
                        csvreg__accum_kernel_len(sh3) * sizeof(double));
    assert_memory_equal(csvreg__accum_shift(fresh3), csvreg__accum_shift(sh3), csvreg__accum_ncols(sh3) * sizeof(double));
    csvreg__accum_ws_free(ws);
    csvreg__accum_ws_free(NULL);
    csvreg_accum_free(own3);
    csvreg_accum_free(sh3);
    csvreg_accum_free(own1);
    csvreg_accum_free(sh1);
    csvreg_accum_free(fresh3);
  }
}

static void test_add_columns(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t i = 0; csvreg__accum_kernel_at(i, &info) == 0; i++) {
    csvreg_accum *a = fresh(info.solver, 1);
    feed(a, 0, 10, 0, 1.0);
    csvreg_error err;
    csvreg_status st = csvreg__accum_add_columns(a, 1, NULL, &err);
    if (!info.can_add_columns) {
      assert_int_equal(st, CSVREG_E_USAGE);
      assert_non_null(strstr(err.message, info.name));
    }
    csvreg_accum_free(a);
  }
}

int main(void) {
  make_data();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_dense_and_blocks),
      cmocka_unit_test(test_merge),
      cmocka_unit_test(test_scale),
      cmocka_unit_test(test_subtract),
      cmocka_unit_test(test_save_load),
      cmocka_unit_test(test_workspace_and_reset),
      cmocka_unit_test(test_add_columns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
