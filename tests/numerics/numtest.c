/*
 * numtest.c - data loading, LRE scoring and fitting helpers of the numerics
 * tests. Parsing here is deliberately independent of the library's reader
 * and number parser (plain fgets + strtod), so a bug there cannot hide a
 * bug in the solvers.
 */
#include "numtest.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *data_path(const char *rel) {
  size_t n = strlen(CSVREG_TEST_DATA_DIR) + strlen(rel) + 2;
  char *p = malloc(n);
  if (p != NULL) snprintf(p, n, "%s/%s", CSVREG_TEST_DATA_DIR, rel);
  return p;
}

static char *dup_range(const char *s, size_t len) {
  char *d = malloc(len + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

/* Splits a header line on commas into t->names. */
static int read_header(char *line, numtest_table *t) {
  size_t cap = 8;
  t->names = malloc(cap * sizeof *t->names);
  if (t->names == NULL) return -1;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *s = line;;) {
    size_t len = strcspn(s, ",");
    if (t->ncols == cap) {
      char **nn = realloc(t->names, 2 * cap * sizeof *nn);
      if (nn == NULL) return -1;
      t->names = nn;
      cap *= 2;
    }
    t->names[t->ncols] = dup_range(s, len);
    if (t->names[t->ncols++] == NULL) return -1;
    if (s[len] != ',') break;
    s += len + 1;
  }
  return 0;
}

int numtest_read_csv(const char *rel, numtest_table *t) {
  memset(t, 0, sizeof *t);
  char *path = data_path(rel);
  FILE *f = path != NULL ? fopen(path, "r") : NULL;
  if (f == NULL) {
    fprintf(stderr, "numtest: cannot open %s\n", path != NULL ? path : rel);
    free(path);
    return -1;
  }
  char line[8192];
  int rc = -1;
  size_t cap = 0;
  double *rows = NULL; /* row-major while reading; transposed at the end */
  if (fgets(line, sizeof line, f) == NULL || read_header(line, t) != 0) goto done;
  while (fgets(line, sizeof line, f) != NULL) {
    if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0') continue;
    if (t->nrows == cap) {
      cap = cap ? 2 * cap : 64;
      double *nr = realloc(rows, cap * t->ncols * sizeof *nr);
      if (nr == NULL) goto done;
      rows = nr;
    }
    char *s = line;
    for (size_t j = 0; j < t->ncols; j++) {
      char *end;
      rows[t->nrows * t->ncols + j] = strtod(s, &end);
      if (end == s || (j + 1 < t->ncols && *end != ',')) {
        fprintf(stderr, "numtest: %s: bad value in row %zu column %zu\n", path, t->nrows + 1,
                j + 1);
        goto done;
      }
      s = end + 1;
    }
    t->nrows++;
  }
  t->data = malloc((t->nrows * t->ncols + 1) * sizeof *t->data);
  if (t->data == NULL) goto done;
  for (size_t i = 0; i < t->nrows; i++)
    for (size_t j = 0; j < t->ncols; j++) t->data[j * t->nrows + i] = rows[i * t->ncols + j];
  rc = 0;
done:
  free(rows);
  free(path);
  fclose(f);
  if (rc != 0) numtest_table_free(t);
  return rc;
}

void numtest_table_free(numtest_table *t) {
  if (t == NULL) return;
  for (size_t j = 0; j < t->ncols && t->names != NULL; j++) free(t->names[j]);
  free(t->names);
  free(t->data);
  memset(t, 0, sizeof *t);
}

const double *numtest_column(const numtest_table *t, const char *name) {
  for (size_t j = 0; j < t->ncols; j++)
    if (strcmp(t->names[j], name) == 0) return t->data + j * t->nrows;
  return NULL;
}

json_t *numtest_load_json(const char *rel) {
  char *path = data_path(rel);
  json_error_t je;
  json_t *j = path != NULL ? json_load_file(path, 0, &je) : NULL;
  if (j == NULL) fprintf(stderr, "numtest: %s: %s\n", path ? path : rel, path ? je.text : "");
  free(path);
  return j;
}

size_t numtest_json_doubles(const json_t *obj, const char *key, double *out, size_t n) {
  const json_t *a = json_object_get(obj, key);
  if (!json_is_array(a)) return 0;
  for (size_t i = 0; i < n && i < json_array_size(a); i++) {
    const json_t *v = json_array_get(a, i);
    out[i] = json_is_number(v) ? json_number_value(v) : NAN;
  }
  return json_array_size(a);
}

double numtest_json_number(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

double numtest_lre(double est, double cert) {
  if (!isfinite(est)) return 0.0;
  if (est == cert) return NUMTEST_LRE_CAP;
  double err = cert == 0.0 ? fabs(est) : fabs(est - cert) / fabs(cert);
  double lre = -log10(err);
  if (lre > NUMTEST_LRE_CAP) return NUMTEST_LRE_CAP;
  return lre < 0.0 ? 0.0 : lre;
}

double numtest_min_lre(const double *est, const double *cert, size_t n) {
  double m = NUMTEST_LRE_CAP;
  for (size_t i = 0; i < n; i++) {
    double l = numtest_lre(est[i], cert[i]);
    if (l < m) m = l;
  }
  return m;
}

double numtest_rel(double a, double b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0.0 : INFINITY;
  if (a == b) return 0.0;
  return fabs(a - b) / fmax(fabs(a), fabs(b));
}

csvreg_status numtest_add(csvreg_accum *a, size_t from, size_t to, size_t nterms, const double *x,
                          size_t ld, const double *y, const double *w, size_t block) {
  if (block == 0) block = to > from ? to - from : 1;
  for (size_t i = from; i < to; i += block) {
    size_t m = to - i < block ? to - i : block;
    /* Copy the block so add_rows sees a tight (ldx = m) matrix as from a chunk. */
    double *xb = malloc((m * nterms + 1) * sizeof *xb);
    if (xb == NULL) return CSVREG_E_NOMEM;
    for (size_t j = 0; j < nterms; j++) memcpy(xb + j * m, x + j * ld + i, m * sizeof *xb);
    csvreg_status st = csvreg_accum_add_rows(a, m, xb, m, y + i, w ? w + i : NULL, NULL);
    free(xb);
    if (st != CSVREG_OK) return st;
  }
  return CSVREG_OK;
}

csvreg_status numtest_fit(csvreg_solver solver, size_t n, size_t nterms, int intercept,
                          const double *x, const double *y, const double *w, size_t block,
                          const csvreg_solve_options *o, csvreg_fit **out) {
  csvreg_accum *a = NULL;
  *out = NULL;
  csvreg_status st = csvreg_accum_new(&a, solver, nterms, intercept, NULL, NULL, NULL);
  if (st != CSVREG_OK) return st;
  st = numtest_add(a, 0, n, nterms, x, n, y, w, block);
  if (st == CSVREG_OK) st = csvreg_accum_solve(a, o, out, NULL);
  csvreg_accum_free(a);
  return st;
}

/* ---- the NIST StRD problems (moved here from test_nist.c) ---- */

void numtest_problem_free(numtest_problem *pr) {
  numtest_table_free(&pr->t);
  json_decref(pr->cert);
  free(pr->x);
}

void numtest_design_load(const char *csv_rel, json_t *desc, numtest_problem *pr) {
  memset(pr, 0, sizeof *pr);
  pr->cert = desc;
  assert_non_null(desc);
  assert_int_equal(numtest_read_csv(csv_rel, &pr->t), 0);
  pr->n = pr->t.nrows;
  pr->intercept = json_is_true(json_object_get(desc, "intercept"));
  pr->y = numtest_column(&pr->t, "y");
  assert_non_null(pr->y);
  const json_t *wn = json_object_get(desc, "weights");
  if (json_is_string(wn)) {
    pr->w = numtest_column(&pr->t, json_string_value(wn));
    assert_non_null(pr->w);
  }
  const json_t *deg = json_object_get(desc, "polynomial_degree");
  const json_t *preds = json_object_get(desc, "predictors");
  if (json_is_integer(deg)) {
    pr->nterms = (size_t)json_integer_value(deg);
    const double *xs = numtest_column(&pr->t, "x");
    assert_non_null(xs);
    pr->x = malloc(pr->n * pr->nterms * sizeof *pr->x);
    assert_non_null(pr->x);
    for (size_t i = 0; i < pr->n; i++) {
      double v = xs[i];
      for (size_t k = 0; k < pr->nterms; k++) {
        pr->x[k * pr->n + i] = v; /* x^(k+1) = ((x*x)*x)...: left to right */
        v *= xs[i];
      }
    }
  } else {
    pr->nterms = json_array_size(preds);
    pr->x = malloc(pr->n * pr->nterms * sizeof *pr->x);
    assert_non_null(pr->x);
    for (size_t k = 0; k < pr->nterms; k++) {
      const double *c = numtest_column(&pr->t, json_string_value(json_array_get(preds, k)));
      assert_non_null(c);
      memcpy(pr->x + k * pr->n, c, pr->n * sizeof *c);
    }
  }
  pr->p = pr->nterms + (pr->intercept ? 1 : 0);
  assert_true(pr->nterms > 0 && pr->p <= NUMTEST_MAX_P);
}

void numtest_problem_load(const char *name, numtest_problem *pr) {
  char rel[128], csv[128];
  snprintf(csv, sizeof csv, "nist/%s.csv", name);
  snprintf(rel, sizeof rel, "nist/%s.certified.json", name);
  numtest_design_load(csv, numtest_load_json(rel), pr);
  assert_int_equal((size_t)numtest_json_number(pr->cert, "n"), pr->n);
  assert_int_equal(numtest_json_doubles(pr->cert, "coefficients", pr->coef, NUMTEST_MAX_P), pr->p);
  assert_int_equal(numtest_json_doubles(pr->cert, "std_errors", pr->se, NUMTEST_MAX_P), pr->p);
  pr->sd = numtest_json_number(pr->cert, "residual_sd");
  pr->r2 = numtest_json_number(pr->cert, "r_squared");
}
