/*
 * test_levels.c - design columns changed on a live state (accum_columns.c),
 * for every kernel of the table that has them: a categorical column whose
 * levels first appear mid-stream (at chunk boundaries, inside chunks, on the
 * last rows), one dummy column per level added when the level is first
 * seen, and at the end R's baseline dropped and R's order chosen, against
 * one fit of the final design from the first row:
 *   - coefficients, standard errors and RSS equal to 1e-11 relative against
 *     the one pass folded in the same blocks, with and without an
 *     intercept, with and without weights (zeros included), with a large
 *     offset (1e6) on a column and the response (the shift); chunks of 1,
 *     7, 500, 1337 and all rows; columns added before any fold. Against the
 *     one pass in blocks of 4096 also 1e-11 for qr; the normal kernel's own
 *     dependence on the block size (Chan's update row by row, ~1e-11 here
 *     with no column operation at all) gets 3e-11;
 *   - 8 shards that saw different level subsets, merged aligned by name in
 *     several orders (forward, backward, shuffled, as a tree, with an empty
 *     state) = one pass (1e-11);
 *   - save / load after adding columns: the text round-trips bit for bit
 *     and folding on from the loaded state gives the same bits;
 *   - an update that brings a level sorting before the saved baseline (the
 *     baseline's column comes back by add_combination) = one pass;
 *   - a term whose past values are a combination of others = one pass;
 *   - y ~ g from a state with no terms, and back to no terms;
 *   - levels first seen after 10^6 rows (1.1e6 rows, blocks of 4096) = one
 *     pass (1e-11);
 *   - 150 levels (wider than the AVX2 update) first seen through 20000 rows,
 *     one add_columns per level = one pass (1e-11);
 *   - the operations' own contract: exactness of add_columns (no
 *     arithmetic; dropping a never-seen column gives the old bits back),
 *     identity permutations change nothing, a permutation and its inverse
 *     give back the state (1e-13), bad arguments are CSVREG_E_USAGE /
 *     CSVREG_E_LIMIT and leave the state unchanged.
 * The measured worst relative differences are printed.
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

#include "csvreg.h"
#include "linalg.h"

#define N 12000
#define NL 6 /* levels a..f */
#define TOL 1e-11

static double X1[N], X2[N], Y[N], W[N];
static int G[N]; /* level of each row, 0..NL-1 ("a".."f") */
static double worst_stream, worst_merge;
static double z_const; /* the constant of the term "z" (test_combination) */

/* Each level occurs only inside its window of rows and is forced on the
 * window's first row: c from row 0; a at 2000 (a chunk boundary of 500),
 * e at 2337 (inside every chunk size but 1), e gone after 5200, b only in
 * 6001..7400, d from 9000 (a boundary), f only on the last 10 rows. */
static const size_t win_from[NL] = {2000, 6001, 0, 9000, 2337, N - 10};
static const size_t win_to[NL] = {N, 7400, N, N, 5200, N};
static const double effect[NL] = {0.0, 1.5, -0.75, 0.3, 2.25, -1.1};

static uint64_t rng_state;
static double uniform(void) { /* splitmix64, in [0, 1) */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* x1 carries `off`, and so does y (half of it): the shift keeps the digits. */
static void make_data(double off) {
  rng_state = 7;
  for (size_t i = 0; i < N; i++) {
    int forced = -1, active[NL], na = 0;
    for (int l = 0; l < NL; l++) {
      if (i == win_from[l])
        forced = l;
      if (i >= win_from[l] && i < win_to[l])
        active[na++] = l;
    }
    int g = forced >= 0 ? forced : active[(int)(uniform() * na)];
    G[i] = g;
    X1[i] = off + 10 * uniform();
    X2[i] = uniform() - 0.5;
    Y[i] = off / 2 + 3.0 + 2.0 * (X1[i] - off) - X2[i] + effect[g] + 0.5 * (uniform() - 0.5);
    static const double ws[] = {1.0, 0.5, 2.0, 0.0, 1.5};
    W[i] = ws[i % 5];
  }
}

static const char *level_name(int l) {
  static const char *names[NL] = {"ga", "gb", "gc", "gd", "ge", "gf"};
  return names[l];
}

/* The final terms, R's order: x1, x2, then the levels in byte order, the
 * baseline "a" dropped with an intercept (treatment contrasts), all of
 * them without (R codes the first factor fully then). */
static size_t final_names(int intercept, const char **out) {
  size_t n = 0;
  out[n++] = "x1";
  out[n++] = "x2";
  for (int l = intercept ? 1 : 0; l < NL; l++)
    out[n++] = level_name(l);
  return n;
}

static double rel(double a, double b) {
  if (isnan(a) && isnan(b))
    return 0;
  double d = fabs(a - b), s = fmax(fabs(a), fabs(b));
  return s > 0 ? d / s : d;
}

/* Rows [from, to) of the design whose terms are a's term names (x1, x2 or
 * a level's dummy), folded in blocks of `block` (0: one). */
static void fold(csvreg_accum *a, size_t from, size_t to, size_t block, int weighted) {
  size_t p = csvreg__accum_nterms(a);
  if (block == 0)
    block = to - from ? to - from : 1;
  size_t cells = block * p;
  double *x = malloc((cells ? cells : 1) * sizeof *x);
  assert_non_null(x);
  for (size_t i0 = from; i0 < to; i0 += block) {
    size_t nb = to - i0 < block ? to - i0 : block;
    for (size_t j = 0; j < p; j++) {
      const char *nm = csvreg__accum_term_name(a, j);
      for (size_t i = 0; i < nb; i++) {
        size_t r = i0 + i;
        double v;
        if (strcmp(nm, "x1") == 0)
          v = X1[r];
        else if (strcmp(nm, "x2") == 0)
          v = X2[r];
        else if (strcmp(nm, "z") == 0) /* a combination, then its own values */
          v = z_const + 2.0 * X2[r] - (G[r] == 2) + (r >= N / 3 ? 0.25 * sin((double)r) : 0.0);
        else
          v = strcmp(nm, level_name(G[r])) == 0 ? 1.0 : 0.0;
        x[j * nb + i] = v;
      }
    }
    assert_int_equal(csvreg_accum_add_rows(a, nb, x, nb, Y + i0, weighted ? W + i0 : NULL, NULL),
                     CSVREG_OK);
  }
  free(x);
}

static csvreg_accum *new_accum(csvreg_solver s, int intercept, size_t p, const char **names) {
  csvreg_accum *a = NULL;
  assert_int_equal(csvreg_accum_new(&a, s, p, intercept, names, "y", NULL), CSVREG_OK);
  return a;
}

/* Streams rows [from, to) into a state of terms x1, x2 in chunks of
 * `chunk`: before a chunk is folded, the levels it holds that the state has
 * no column for yet get one (in order of first appearance), as a design
 * stage reading chunk by chunk would do. */
static void stream(csvreg_accum *a, size_t from, size_t to, size_t chunk, int weighted) {
  for (size_t i0 = from; i0 < to; i0 += chunk) {
    size_t nb = to - i0 < chunk ? to - i0 : chunk;
    for (size_t i = i0; i < i0 + nb; i++) {
      const char *nm = level_name(G[i]);
      if (csvreg__accum_term_index(a, nm) == (size_t)-1)
        assert_int_equal(csvreg__accum_add_columns(a, 1, &nm, NULL), CSVREG_OK);
    }
    fold(a, i0, i0 + nb, 0, weighted);
  }
}

typedef struct result {
  size_t q, rank;
  int aliased[NL + 3];
  double coef[NL + 3], se[NL + 3], rss;
} result;

static void solve(const csvreg_accum *a, result *r) {
  size_t q = csvreg__accum_nterms(a) + (size_t)csvreg__accum_intercept(a);
  double cov[(NL + 4) * (NL + 4)]; /* the kernel solves in (nc + 1)^2 */
  solved sv = {.q = q, .aliased = r->aliased, .coef = r->coef, .cov = cov};
  csvreg_error err;
  csvreg_status st = csvreg__accum_solve_kernel(a, 1e-10, &sv, &err);
  if (st)
    fail_msg("solve: %s", err.message);
  r->q = q;
  r->rank = sv.rank;
  r->rss = sv.rss;
  double n = (double)csvreg_accum_counts(a)->used, s2 = sv.rss / (n - (double)sv.rank);
  for (size_t j = 0; j < q; j++)
    r->se[j] = sqrt(cov[j * q + j] * s2);
}

/* Worst relative difference of coefficients, SEs and RSS. */
static double compare(const result *a, const result *b) {
  assert_int_equal(a->q, b->q);
  assert_int_equal(a->rank, b->rank);
  double w = rel(a->rss, b->rss);
  for (size_t j = 0; j < a->q; j++) {
    assert_int_equal(a->aliased[j], b->aliased[j]);
    w = fmax(w, fmax(rel(a->coef[j], b->coef[j]), rel(a->se[j], b->se[j])));
  }
  return w;
}

/* The single pass: every final column from the first row, folded in blocks
 * of `block` rows. */
static void reference(csvreg_solver s, int intercept, int weighted, size_t block, result *r) {
  const char *names[NL + 2];
  size_t p = final_names(intercept, names);
  csvreg_accum *a = new_accum(s, intercept, p, names);
  fold(a, 0, N, block, weighted);
  solve(a, r);
  csvreg_accum_free(a);
}

static void check_names(const csvreg_accum *a, int intercept) {
  const char *names[NL + 2];
  size_t p = final_names(intercept, names);
  assert_int_equal(csvreg__accum_nterms(a), p);
  for (size_t j = 0; j < p; j++)
    assert_string_equal(csvreg__accum_term_name(a, j), names[j]);
}

static void finish(csvreg_accum *a, int intercept) {
  const char *names[NL + 2];
  size_t p = final_names(intercept, names);
  csvreg_error err;
  if (csvreg__accum_select(a, names, p, &err))
    fail_msg("select: %s", err.message);
  check_names(a, intercept);
}

static const char *const base_names[] = {"x1", "x2"};

static void test_stream(void **state) {
  (void)state;
  static const size_t chunks[] = {1, 7, 500, 1337, N};
  static const double offs[] = {0.0, 1e6};
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    for (int ic = 1; ic >= 0; ic--)
      for (int wt = 0; wt <= 1; wt++)
        for (size_t o = 0; o < 2; o++) {
          /* Without an intercept there is no shift: an offset is a
           * different (ill-conditioned) problem, not this test's. */
          if (!ic && offs[o] != 0)
            continue;
          make_data(offs[o]);
          result ref, got;
          reference(info.solver, ic, wt, 4096, &ref);
          /* Against the one pass folded in the same blocks, the column
           * operations alone: 1e-11. Against the one pass in blocks of
           * 4096, the normal kernel adds its own dependence on the block
           * size (Chan's update row by row: ~1e-11 on this design, the same
           * without any column operation), hence 3e-11 there. */
          double worst = 0, worst_any = 0;
          for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
            result same;
            reference(info.solver, ic, wt, chunks[c], &same);
            csvreg_accum *a = new_accum(info.solver, ic, 2, (const char **)base_names);
            stream(a, 0, N, chunks[c], wt);
            finish(a, ic);
            solve(a, &got);
            double d = compare(&same, &got), d1 = compare(&ref, &got);
            worst = fmax(worst, d);
            worst_any = fmax(worst_any, d1);
            if (d > TOL || d1 > (info.solver == CSVREG_SOLVER_QR ? TOL : 3 * TOL))
              fail_msg("%s ic=%d w=%d off=%g chunk=%zu: %.3g (same blocks), %.3g (one pass)",
                       info.name, ic, wt, offs[o], chunks[c], d, d1);
            csvreg_accum_free(a);
          }
          /* Every level's column before the first fold (zero folds), in
           * an order that is not the final one, then dropped/reordered
           * one call at a time (drop + permute instead of select). */
          {
            csvreg_accum *a = new_accum(info.solver, ic, 2, (const char **)base_names);
            const char *lv[NL] = {"gf", "gc", "ga", "ge", "gd", "gb"};
            assert_int_equal(csvreg__accum_add_columns(a, 3, lv, NULL), CSVREG_OK);
            assert_int_equal(csvreg__accum_add_columns(a, 3, lv + 3, NULL), CSVREG_OK);
            fold(a, 0, N, 333, wt);
            if (ic)
              assert_int_equal(
                  csvreg__accum_drop_column(a, csvreg__accum_term_index(a, "ga"), NULL), CSVREG_OK);
            const char *names[NL + 2];
            size_t p = final_names(ic, names), perm[NL + 2];
            for (size_t j = 0; j < p; j++)
              perm[j] = csvreg__accum_term_index(a, names[j]);
            assert_int_equal(csvreg__accum_permute(a, perm, NULL), CSVREG_OK);
            check_names(a, ic);
            solve(a, &got);
            result same;
            reference(info.solver, ic, wt, 333, &same);
            double d = compare(&same, &got), d1 = compare(&ref, &got);
            worst = fmax(worst, d);
            worst_any = fmax(worst_any, d1);
            if (d > TOL || d1 > (info.solver == CSVREG_SOLVER_QR ? TOL : 3 * TOL))
              fail_msg("%s ic=%d w=%d off=%g zero folds: %.3g, %.3g", info.name, ic, wt, offs[o], d,
                       d1);
            csvreg_accum_free(a);
          }
          print_message("%-6s intercept=%d weights=%d offset=%-5g streamed vs one pass: "
                        "%.2e same blocks, %.2e blocks of 4096\n",
                        info.name, ic, wt, offs[o], worst, worst_any);
          worst_stream = fmax(worst_stream, worst);
        }
  }
}

/* Merges shards[order[0..n)] into a fresh empty state with merge_aligned. */
static csvreg_accum *merge_in_order(csvreg_accum **shards, const size_t *order, size_t n,
                                    csvreg_solver s, int ic) {
  csvreg_accum *m = new_accum(s, ic, 2, (const char **)base_names);
  for (size_t i = 0; i < n; i++) {
    csvreg_error err;
    if (csvreg__accum_merge_aligned(m, shards[order[i]], NULL, &err))
      fail_msg("merge: %s", err.message);
  }
  return m;
}

static void test_merge_shards(void **state) {
  (void)state;
  enum { NS = 8 };
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    for (int ic = 1; ic >= 0; ic--)
      for (int wt = 0; wt <= 1; wt++) {
        double off = ic ? 1e6 : 0;
        make_data(off);
        result ref, got;
        reference(info.solver, ic, wt, 4096, &ref);
        /* Contiguous shards of N/8 rows: {c}, {c,a,e}, ..., {c,a,b}, {c,a},
         * {c,a,d}, {c,a,d,f}: each saw a different subset, in its own order. */
        csvreg_accum *sh[NS + 1];
        for (size_t s = 0; s < NS; s++) {
          sh[s] = new_accum(info.solver, ic, 2, (const char **)base_names);
          stream(sh[s], s * (N / NS), (s + 1) * (N / NS), 97 + 31 * s, wt);
        }
        /* ... and one that saw no rows at all. */
        sh[NS] = new_accum(info.solver, ic, 2, (const char **)base_names);
        static const size_t orders[][NS + 1] = {
            {0, 1, 2, 3, 4, 5, 6, 7, 8},
            {8, 7, 6, 5, 4, 3, 2, 1, 0},
            {5, 2, 7, 8, 0, 3, 6, 1, 4},
            {7, 0, 6, 1, 5, 2, 4, 3, 8},
        };
        double worst = 0;
        for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
          csvreg_accum *m = merge_in_order(sh, orders[o], NS + 1, info.solver, ic);
          finish(m, ic);
          assert_int_equal(csvreg_accum_counts(m)->records, N);
          solve(m, &got);
          double d = compare(&ref, &got);
          worst = fmax(worst, d);
          if (d > TOL)
            fail_msg("%s ic=%d w=%d order %zu: %.3g", info.name, ic, wt, o, d);
          csvreg_accum_free(m);
        }
        /* As a tree: pairs, then pairs of pairs, on copies (merge_aligned
         * into a non-empty state whose terms differ on both sides). */
        {
          csvreg_accum *t[NS];
          for (size_t s = 0; s < NS; s++)
            assert_int_equal(csvreg__accum_clone(&t[s], sh[s], NULL), CSVREG_OK);
          for (size_t step = 1; step < NS; step *= 2)
            for (size_t s = 0; s + step < NS; s += 2 * step)
              assert_int_equal(csvreg__accum_merge_aligned(t[s], t[s + step], NULL, NULL),
                               CSVREG_OK);
          /* The empty state on both sides. */
          assert_int_equal(csvreg__accum_merge_aligned(t[0], sh[NS], NULL, NULL), CSVREG_OK);
          finish(t[0], ic);
          solve(t[0], &got);
          double d = compare(&ref, &got);
          worst = fmax(worst, d);
          if (d > TOL)
            fail_msg("%s ic=%d w=%d tree: %.3g", info.name, ic, wt, d);
          for (size_t s = 0; s < NS; s++)
            csvreg_accum_free(t[s]);
        }
        print_message("%-6s intercept=%d weights=%d offset=%-5g 8 shards merged vs one pass: "
                      "%.2e\n",
                      info.name, ic, wt, off, worst);
        worst_merge = fmax(worst_merge, worst);
        for (size_t s = 0; s <= NS; s++)
          csvreg_accum_free(sh[s]);
      }
  }
}

static void test_save_load(void **state) {
  (void)state;
  make_data(1e6);
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    csvreg_accum *a = new_accum(info.solver, 1, 2, (const char **)base_names);
    stream(a, 0, N / 2, 500, 1);
    assert_true(csvreg__accum_nterms(a) > 2);
    char *text = NULL, *text2 = NULL;
    assert_int_equal(csvreg_accum_save(a, NULL, &text, NULL), CSVREG_OK);
    csvreg_accum *b = NULL;
    assert_int_equal(csvreg_accum_load(&b, text, strlen(text), NULL, NULL), CSVREG_OK);
    assert_int_equal(csvreg__accum_nterms(b), csvreg__accum_nterms(a));
    for (size_t j = 0; j < csvreg__accum_nterms(a); j++)
      assert_string_equal(csvreg__accum_term_name(a, j), csvreg__accum_term_name(b, j));
    assert_int_equal(csvreg_accum_save(b, NULL, &text2, NULL), CSVREG_OK);
    assert_string_equal(text, text2);
    /* Folding on (with more new levels) from either: the same bits. */
    stream(a, N / 2, N, 500, 1);
    stream(b, N / 2, N, 500, 1);
    assert_int_equal(csvreg__accum_kernel_len(a), csvreg__accum_kernel_len(b));
    assert_memory_equal(csvreg__accum_kernel_numbers(a), csvreg__accum_kernel_numbers(b),
                        csvreg__accum_kernel_len(a) * sizeof(double));
    finish(a, 1);
    finish(b, 1);
    free(text);
    free(text2);
    text = text2 = NULL;
    /* And after the final select. */
    assert_int_equal(csvreg_accum_save(a, NULL, &text, NULL), CSVREG_OK);
    csvreg_accum *c = NULL;
    assert_int_equal(csvreg_accum_load(&c, text, strlen(text), NULL, NULL), CSVREG_OK);
    assert_int_equal(csvreg_accum_save(c, NULL, &text2, NULL), CSVREG_OK);
    assert_string_equal(text, text2);
    result ra, rc;
    solve(a, &ra);
    solve(c, &rc);
    assert_true(compare(&ra, &rc) == 0);
    free(text);
    free(text2);
    csvreg_accum_free(a);
    csvreg_accum_free(b);
    csvreg_accum_free(c);
  }
}

/* Rows of level `l` moved after all others (stable): a second part of the
 * data that brings a level the first part never saw. Returns the rows
 * before them. */
static size_t move_level_last(int l) {
  static double x1[N], x2[N], y[N], w[N];
  static int g[N];
  size_t o = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < N; i++)
      if ((G[i] == l) == pass) {
        x1[o] = X1[i], x2[o] = X2[i], y[o] = Y[i], w[o] = W[i], g[o] = G[i];
        o++;
      }
  size_t n1 = 0;
  while (n1 < N && g[n1] != l)
    n1++;
  memcpy(X1, x1, sizeof X1);
  memcpy(X2, x2, sizeof X2);
  memcpy(Y, y, sizeof Y);
  memcpy(W, w, sizeof W);
  memcpy(G, g, sizeof G);
  return n1;
}

/* An update that brings a level sorting before the baseline: the saved
 * state has R's terms of the first part (baseline "b" dropped); "a" arrives,
 * so "b" must come back as a column (over the past rows its dummy is
 * 1 - the other dummies: add_combination) and "a" becomes the baseline. */
static void test_update_new_baseline(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    for (int wt = 0; wt <= 1; wt++) {
      make_data(1e6);
      size_t n1 = move_level_last(0);
      result ref, got;
      reference(info.solver, 1, wt, 4096, &ref);
      csvreg_accum *a = new_accum(info.solver, 1, 2, (const char **)base_names);
      stream(a, 0, n1, 500, wt);
      const char *first[] = {"x1", "x2", "gc", "gd", "ge", "gf"};
      assert_int_equal(csvreg__accum_select(a, first, 6, NULL), CSVREG_OK);
      char *text = NULL;
      assert_int_equal(csvreg_accum_save(a, NULL, &text, NULL), CSVREG_OK);
      csvreg_accum *b = NULL;
      assert_int_equal(csvreg_accum_load(&b, text, strlen(text), NULL, NULL), CSVREG_OK);
      free(text);
      /* Without an intercept a constant part is refused. */
      const double c[] = {1, 0, 0, -1, -1, -1, -1};
      csvreg_accum *ni = new_accum(info.solver, 0, 2, (const char **)base_names);
      assert_int_equal(csvreg__accum_add_combination(ni, "z", c, NULL), CSVREG_E_USAGE);
      csvreg_accum_free(ni);
      csvreg_error err;
      if (csvreg__accum_add_combination(b, "gb", c, &err))
        fail_msg("add_combination: %s", err.message);
      stream(b, n1, N, 500, wt); /* adds "ga" */
      finish(b, 1);
      solve(b, &got);
      double d = compare(&ref, &got);
      print_message("%-6s weights=%d update bringing a new baseline vs one pass: %.2e\n", info.name,
                    wt, d);
      worst_stream = fmax(worst_stream, d);
      if (d > (info.solver == CSVREG_SOLVER_QR ? TOL : 3 * TOL))
        fail_msg("%s w=%d: %.3g", info.name, wt, d);
      csvreg_accum_free(a);
      csvreg_accum_free(b);
    }
  }
}

/* A term whose past values are a general combination (constant, a number,
 * a level) and later values of its own, next to a column with an offset of
 * 1e6. (The combination's terms are small here: a combination of columns
 * with large offsets is as exact as the data, whose own rounding, eps times
 * the offset, is then no smaller than the combination's.) */
static void test_combination(void **state) {
  (void)state;
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    for (int ic = 1; ic >= 0; ic--) {
      make_data(ic ? 1e6 : 0);
      z_const = ic ? 0.5 : 0.0; /* no constant part without an intercept */
      const char *names[] = {"x1", "x2", "gc", "z"};
      csvreg_accum *r = new_accum(info.solver, ic, 4, names);
      fold(r, 0, N, 4096, 1);
      result ref, got;
      solve(r, &ref);
      csvreg_accum *a = new_accum(info.solver, ic, 3, names);
      fold(a, 0, N / 3, 1000, 1);
      const double c[] = {ic ? 0.5 : 0.0, 0.0, 2.0, -1.0};
      assert_int_equal(csvreg__accum_add_combination(a, "z", c, NULL), CSVREG_OK);
      fold(a, N / 3, N, 1000, 1);
      solve(a, &got);
      double d = compare(&ref, &got);
      print_message("%-6s intercept=%d combination then own values vs one pass: %.2e\n", info.name,
                    ic, d);
      assert_true(d <= (info.solver == CSVREG_SOLVER_QR ? TOL : 3 * TOL));
      csvreg_accum_free(r);
      csvreg_accum_free(a);
    }
  }
}

/* Many levels (150: wider than the AVX2 update's 32 columns, so folds go
 * through dtpqrt), first seen all through the data (level g may occur from
 * row 120 g on) in an order unrelated to their names, one add_columns per
 * new level, weights, an offset of 1e6; R's order and baseline at the end. */
#define N2 20000
#define NL2 150
static int G2[N2];
static double X1B[N2], YB[N2], WB[N2];

static void fold2(csvreg_accum *a, size_t from, size_t to, size_t block) {
  size_t p = csvreg__accum_nterms(a);
  double *x = malloc(block * p * sizeof *x);
  int *lev = malloc(p * sizeof *lev); /* level of each term, -1: x1 */
  assert_true(x && lev);
  for (size_t j = 0; j < p; j++)
    lev[j] = csvreg__accum_term_name(a, j)[0] == 'L' ? atoi(csvreg__accum_term_name(a, j) + 1) : -1;
  for (size_t i0 = from; i0 < to; i0 += block) {
    size_t nb = to - i0 < block ? to - i0 : block;
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < nb; i++)
        x[j * nb + i] = lev[j] < 0 ? X1B[i0 + i] : (G2[i0 + i] == lev[j] ? 1.0 : 0.0);
    assert_int_equal(csvreg_accum_add_rows(a, nb, x, nb, YB + i0, WB + i0, NULL), CSVREG_OK);
  }
  free(x);
  free(lev);
}

static void test_many_levels(void **state) {
  (void)state;
  rng_state = 99;
  for (size_t i = 0; i < N2; i++) {
    int avail = (int)(i / 120) + 1 < NL2 ? (int)(i / 120) + 1 : NL2;
    int g = i % 120 == 0 && i / 120 < NL2 ? (int)(i / 120) : (int)(uniform() * avail);
    G2[i] = (g * 37) % NL2; /* the name's number */
    X1B[i] = 1e6 + uniform();
    YB[i] = 3.0 + 2.0 * (X1B[i] - 1e6) + 0.01 * G2[i] + 0.3 * (uniform() - 0.5);
    WB[i] = 0.5 + (double)(i % 3);
  }
  static char names[NL2 + 1][8];
  const char *final[NL2];
  final[0] = "x1";
  for (int l = 1; l < NL2; l++) { /* L000 is the baseline */
    snprintf(names[l], sizeof names[l], "L%03d", l);
    final[l] = names[l];
  }
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    csvreg_accum *r = new_accum(info.solver, 1, NL2, final);
    fold2(r, 0, N2, 500);
    csvreg_accum *a = new_accum(info.solver, 1, 1, final);
    char nm[8];
    for (size_t i0 = 0; i0 < N2; i0 += 500) {
      for (size_t i = i0; i < i0 + 500; i++) {
        snprintf(nm, sizeof nm, "L%03d", G2[i]);
        const char *np = nm;
        if (csvreg__accum_term_index(a, nm) == (size_t)-1)
          assert_int_equal(csvreg__accum_add_columns(a, 1, &np, NULL), CSVREG_OK);
      }
      fold2(a, i0, i0 + 500, 500);
    }
    assert_int_equal(csvreg__accum_nterms(a), NL2 + 1);
    assert_int_equal(csvreg__accum_select(a, final, NL2, NULL), CSVREG_OK);
    size_t q = NL2 + 1;
    double *cov = malloc((q + 1) * (q + 1) * sizeof *cov), /* the kernel solves in (q + 1)^2 */
           *cov2 = malloc((q + 1) * (q + 1) * sizeof *cov2);
    double *coef = malloc(q * sizeof *coef), *coef2 = malloc(q * sizeof *coef2);
    int *al = malloc(q * sizeof *al), *al2 = malloc(q * sizeof *al2);
    assert_true(cov && cov2 && coef && coef2 && al && al2);
    solved s1 = {.q = q, .aliased = al, .coef = coef, .cov = cov};
    solved s2 = {.q = q, .aliased = al2, .coef = coef2, .cov = cov2};
    assert_int_equal(csvreg__accum_solve_kernel(a, 1e-10, &s1, NULL), CSVREG_OK);
    assert_int_equal(csvreg__accum_solve_kernel(r, 1e-10, &s2, NULL), CSVREG_OK);
    assert_int_equal(s1.rank, q);
    assert_int_equal(s2.rank, q);
    double d = rel(s1.rss, s2.rss);
    for (size_t j = 0; j < q; j++)
      d = fmax(d, fmax(rel(coef[j], coef2[j]), rel(cov[j * q + j], cov2[j * q + j])));
    print_message("%-6s %d levels first seen through %d rows vs one pass: %.2e\n", info.name, NL2,
                  N2, d);
    worst_stream = fmax(worst_stream, d);
    assert_true(d <= TOL);
    free(cov);
    free(cov2);
    free(coef);
    free(coef2);
    free(al);
    free(al2);
    csvreg_accum_free(a);
    csvreg_accum_free(r);
  }
}

/* y ~ g from a state with no terms at all (intercept only): every term is
 * added mid-stream. */
static void test_from_no_terms(void **state) {
  (void)state;
  make_data(1e6);
  const char *final[] = {"gb", "gc", "gd", "ge", "gf"};
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    csvreg_accum *r = new_accum(info.solver, 1, 5, final);
    fold(r, 0, N, 250, 1);
    csvreg_accum *a = NULL;
    assert_int_equal(csvreg_accum_new(&a, info.solver, 0, 1, NULL, "y", NULL), CSVREG_OK);
    stream(a, 0, N, 250, 1);
    assert_int_equal(csvreg__accum_select(a, final, 5, NULL), CSVREG_OK);
    result ra, rr;
    solve(a, &ra);
    solve(r, &rr);
    double d = compare(&rr, &ra);
    print_message("%-6s y ~ g from an intercept-only state vs one pass: %.2e\n", info.name, d);
    assert_true(d <= TOL);
    /* Every term dropped again: the intercept-only model, as fitted. */
    assert_int_equal(csvreg__accum_select(a, NULL, 0, NULL), CSVREG_OK);
    assert_int_equal(csvreg__accum_nterms(a), 0);
    csvreg_accum *b = NULL;
    assert_int_equal(csvreg_accum_new(&b, info.solver, 0, 1, NULL, "y", NULL), CSVREG_OK);
    fold(b, 0, N, 250, 1);
    solve(a, &ra);
    solve(b, &rr);
    d = compare(&rr, &ra);
    print_message("%-6s every term dropped vs the intercept-only fit: %.2e\n", info.name, d);
    assert_true(d <= TOL);
    csvreg_accum_free(a);
    csvreg_accum_free(b);
    csvreg_accum_free(r);
  }
}

/* The case: levels first seen after 10^6 rows (one inside a block
 * of 4096, one on a block boundary), rows made on the fly from their index
 * (a hash), an offset of 1e6 on x1, weights. */
#define NBIG 1100000
#define BLK 4096

static double hash01(uint64_t i, uint64_t salt) {
  uint64_t z = i * 0x9e3779b97f4a7c15ULL + salt;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* Level of row i: "c" throughout, "a" from row 1000017, "b" from 1048576. */
static int big_level(size_t i) {
  if (i == 1000017)
    return 0;
  if (i == 1048576)
    return 1;
  int avail = i > 1048576 ? 3 : (i > 1000017 ? 2 : 1);
  static const int order[] = {2, 0, 1};
  return order[(int)(hash01(i, 3) * avail)];
}

static void fold_big(csvreg_accum *a, size_t from, size_t to, double *x, double *y, double *w) {
  size_t p = csvreg__accum_nterms(a), nb = to - from;
  for (size_t i = 0; i < nb; i++) {
    size_t r = from + i;
    int g = big_level(r);
    double x1 = 1e6 + hash01(r, 1);
    y[i] = 3.0 + 2.0 * (x1 - 1e6) + effect[g] + 0.5 * (hash01(r, 2) - 0.5);
    w[i] = 0.5 + (double)(r % 3);
    for (size_t j = 0; j < p; j++) {
      const char *nm = csvreg__accum_term_name(a, j);
      x[j * nb + i] = strcmp(nm, "x1") == 0 ? x1 : (strcmp(nm, level_name(g)) == 0 ? 1.0 : 0.0);
    }
  }
  assert_int_equal(csvreg_accum_add_rows(a, nb, x, nb, y, w, NULL), CSVREG_OK);
}

static void test_after_a_million_rows(void **state) {
  (void)state;
  double *x = malloc(4 * BLK * sizeof *x), *y = malloc(BLK * sizeof *y);
  double *w = malloc(BLK * sizeof *w);
  assert_true(x && y && w);
  const char *final[] = {"x1", "gb", "gc"};
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    csvreg_accum *r = new_accum(info.solver, 1, 3, final);
    csvreg_accum *a = new_accum(info.solver, 1, 1, final);
    for (size_t i0 = 0; i0 < NBIG; i0 += BLK) {
      size_t i1 = NBIG - i0 < BLK ? NBIG : i0 + BLK;
      for (size_t i = i0; i < i1; i++) {
        const char *nm = level_name(big_level(i));
        if (csvreg__accum_term_index(a, nm) == (size_t)-1) {
          assert_true(i >= 1000000 || i == 0); /* "gc" on the first row */
          assert_int_equal(csvreg__accum_add_columns(a, 1, &nm, NULL), CSVREG_OK);
        }
      }
      fold_big(a, i0, i1, x, y, w);
      fold_big(r, i0, i1, x, y, w);
    }
    assert_int_equal(csvreg__accum_select(a, final, 3, NULL), CSVREG_OK);
    result ra, rr;
    solve(a, &ra);
    solve(r, &rr);
    double d = compare(&rr, &ra);
    print_message("%-6s levels first seen after 10^6 rows (%d rows) vs one pass: %.2e\n", info.name,
                  NBIG, d);
    worst_stream = fmax(worst_stream, d);
    assert_true(d <= TOL);
    csvreg_accum_free(a);
    csvreg_accum_free(r);
  }
  free(x);
  free(y);
  free(w);
}

/* The operations' contract on a small state. */
static void test_contract(void **state) {
  (void)state;
  make_data(1e6);
  accum_kernel_info info;
  for (size_t k = 0; csvreg__accum_kernel_at(k, &info) == 0; k++) {
    if (!info.can_add_columns)
      continue;
    csvreg_accum *a = new_accum(info.solver, 1, 2, (const char **)base_names);
    stream(a, 0, 3000, 250, 1);
    csvreg_accum *b = NULL;
    assert_int_equal(csvreg__accum_clone(&b, a, NULL), CSVREG_OK);
    size_t len = csvreg__accum_kernel_len(a), p = csvreg__accum_nterms(a);
    /* Errors leave the state as it was. */
    csvreg_error err;
    const char *dup[] = {"new1", "x2"};
    assert_int_equal(csvreg__accum_add_columns(a, 2, dup, &err), CSVREG_E_USAGE);
    const char *twice[] = {"new1", "new1"};
    assert_int_equal(csvreg__accum_add_columns(a, 2, twice, &err), CSVREG_E_USAGE);
    assert_int_equal(csvreg__accum_add_columns(a, CSVREG_MAX_TERMS, NULL, &err), CSVREG_E_LIMIT);
    size_t bad[16] = {0, 0, 1, 2, 3};
    assert_int_equal(csvreg__accum_permute(a, bad, &err), CSVREG_E_USAGE);
    assert_int_equal(csvreg__accum_drop_column(a, p, &err), CSVREG_E_USAGE);
    const char *nosuch[] = {"x1", "zz"};
    assert_int_equal(csvreg__accum_select(a, nosuch, 2, &err), CSVREG_E_USAGE);
    assert_int_equal(csvreg__accum_nterms(a), p);
    assert_memory_equal(csvreg__accum_kernel_numbers(a), csvreg__accum_kernel_numbers(b), len * sizeof(double));
    /* An identity permutation and a select of every term in place: bits. */
    size_t id[16];
    const char *all[16];
    for (size_t j = 0; j < p; j++) {
      id[j] = j;
      all[j] = csvreg__accum_term_name(a, j);
    }
    assert_int_equal(csvreg__accum_permute(a, id, NULL), CSVREG_OK);
    assert_int_equal(csvreg__accum_select(a, all, p, NULL), CSVREG_OK);
    assert_memory_equal(csvreg__accum_kernel_numbers(a), csvreg__accum_kernel_numbers(b), len * sizeof(double));
    /* add_columns is exact: the old numbers are still there, the new
     * column's entries are 0, the shift of the new column is 0. */
    const char *nm = "gnew";
    assert_int_equal(csvreg__accum_add_columns(a, 1, &nm, NULL), CSVREG_OK);
    assert_int_equal(csvreg__accum_nterms(a), p + 1);
    assert_string_equal(csvreg__accum_term_name(a, p), "gnew");
    assert_true(csvreg__accum_shift(a)[p] == 0);
    assert_true(csvreg__accum_shift(a)[p + 1] == csvreg__accum_shift(b)[p]);
    result r1, r2;
    solve(a, &r1);
    solve(b, &r2);
    assert_int_equal(r1.aliased[1 + p], 1); /* never seen: aliased, NaN */
    assert_true(isnan(r1.coef[1 + p]));
    assert_true(r1.rss == r2.rss);
    for (size_t j = 0; j <= p; j++)
      if (r1.coef[j] != r2.coef[j] && !(isnan(r1.coef[j]) && isnan(r2.coef[j])))
        fail_msg("%s coef %zu: %.17g %.17g", info.name, j, r1.coef[j], r2.coef[j]);
    /* Dropping it again gives the old state back exactly (a zero column). */
    assert_int_equal(csvreg__accum_drop_column(a, p, NULL), CSVREG_OK);
    assert_memory_equal(csvreg__accum_kernel_numbers(a), csvreg__accum_kernel_numbers(b), len * sizeof(double));
    /* A permutation, then its inverse: the state back to rounding. */
    size_t perm[16], inv[16];
    for (size_t j = 0; j < p; j++)
      perm[j] = (j * 3 + 1) % p == j ? (j + 1) % p : (j * 3 + 1) % p;
    for (size_t j = 0; j < p; j++)
      id[j] = 0;
    int okperm = 1;
    for (size_t j = 0; j < p; j++)
      okperm &= id[perm[j]]++ == 0;
    if (!okperm) /* p is such that the map is not one to one: a rotation */
      for (size_t j = 0; j < p; j++)
        perm[j] = (j + 1) % p;
    for (size_t j = 0; j < p; j++)
      inv[perm[j]] = j;
    assert_int_equal(csvreg__accum_permute(a, perm, NULL), CSVREG_OK);
    assert_string_equal(csvreg__accum_term_name(a, 0), csvreg__accum_term_name(b, perm[0]));
    assert_int_equal(csvreg__accum_permute(a, inv, NULL), CSVREG_OK);
    solve(a, &r1);
    double d = compare(&r1, &r2);
    print_message("%-6s permutation and its inverse: %.2e\n", info.name, d);
    assert_true(d <= 1e-13);
    /* Without an intercept the last term cannot go. */
    csvreg_accum *c = new_accum(info.solver, 0, 1, (const char **)base_names);
    assert_int_equal(csvreg__accum_drop_column(c, 0, &err), CSVREG_E_USAGE);
    /* Merging states of different solvers or intercepts is refused. */
    assert_int_equal(csvreg__accum_merge_aligned(a, c, NULL, &err), CSVREG_E_USAGE);
    csvreg_accum_free(a);
    csvreg_accum_free(b);
    csvreg_accum_free(c);
  }
}

static int report(void **state) {
  (void)state;
  printf("worst relative difference: streamed %.2e, merged %.2e (bound %.0e)\n", worst_stream,
         worst_merge, TOL);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contract),
      cmocka_unit_test(test_stream),
      cmocka_unit_test(test_merge_shards),
      cmocka_unit_test(test_save_load),
      cmocka_unit_test(test_update_new_baseline),
      cmocka_unit_test(test_combination),
      cmocka_unit_test(test_many_levels),
      cmocka_unit_test(test_from_no_terms),
      cmocka_unit_test(test_after_a_million_rows),
  };
  return cmocka_run_group_tests(tests, NULL, report);
}
