/*
 * numtest.h - helpers shared by the numerics tests: reading the data sets
 * (CSV of plain numbers, JSON of reference values), scoring accuracy as LRE,
 * and fitting a design matrix built in C through the public accumulator API.
 */
#ifndef CSVREG_NUMTEST_H
#define CSVREG_NUMTEST_H

#include <jansson.h>
#include <stddef.h>

#include "csvreg.h"

#ifndef CSVREG_TEST_DATA_DIR
#error "CSVREG_TEST_DATA_DIR must name tests/data (set by tests/numerics/CMakeLists.txt)"
#endif

/* Digits kept when no error is measurable, as NIST prints 15 digits. */
#define NUMTEST_LRE_CAP 15.0

/* A CSV of numbers with a header: columns column-major, nrows x ncols. */
typedef struct numtest_table {
  size_t nrows, ncols;
  char **names;
  double *data;
} numtest_table;

/* Reads CSVREG_TEST_DATA_DIR/rel. Values are parsed with strtod in the C
 * locale (the tests never call setlocale), so they are the correctly rounded
 * doubles the references were computed from. Returns 0 on success. */
int numtest_read_csv(const char *rel, numtest_table *t);
void numtest_table_free(numtest_table *t);

/* The column named `name`, or NULL. */
const double *numtest_column(const numtest_table *t, const char *name);

/* Loads CSVREG_TEST_DATA_DIR/rel as JSON; NULL on failure (message on stderr). */
json_t *numtest_load_json(const char *rel);

/* Reads the array `key` of `obj` into out[0..n-1]; JSON null becomes NaN.
 * Returns the array length, or 0 when `key` is not an array. */
size_t numtest_json_doubles(const json_t *obj, const char *key, double *out, size_t n);

/* Number `key` of `obj` (integer or real); NaN when absent or null. */
double numtest_json_number(const json_t *obj, const char *key);

/* LRE = -log10(|est - cert| / |cert|), the absolute error when cert == 0,
 * clamped to [0, NUMTEST_LRE_CAP]; 0 when est is not finite. */
double numtest_lre(double est, double cert);

/* Minimum LRE over n pairs. */
double numtest_min_lre(const double *est, const double *cert, size_t n);

/* |a - b| / max(|a|, |b|), 0 when both are 0; +Inf when exactly one is NaN,
 * 0 when both are NaN. */
double numtest_rel(double a, double b);

/* Fits n rows of the column-major design x (n x nterms, ld n), target y and
 * weights w (NULL: unweighted) with a fresh accumulator, feeding add_rows in
 * blocks of `block` rows (0: all at once). `o` may be NULL. */
csvreg_status numtest_fit(csvreg_solver solver, size_t n, size_t nterms, int intercept,
                          const double *x, const double *y, const double *w, size_t block,
                          const csvreg_solve_options *o, csvreg_fit **out);

/* Feeds rows [from, to) of (x, y, w), with x column-major with leading
 * dimension ld, into `a` in blocks of `block` rows (0: one call). */
csvreg_status numtest_add(csvreg_accum *a, size_t from, size_t to, size_t nterms, const double *x,
                          size_t ld, const double *y, const double *w, size_t block);

/* ---- the NIST StRD problems (tests/data/nist) ---- */

#define NUMTEST_MAX_P 12

/* Polynomial sets get the powers x, x^2, ..., x^d as design columns, each
 * computed in binary64 by multiplying left to right. */
/* A NIST problem: design, target and certified values (a reference set of
 * tests/data/reference: the same, its values read from `cert` by the test). */
typedef struct numtest_problem {
  numtest_table t;
  json_t *cert; /* the description and reference values */
  size_t n, nterms, p;
  int intercept;
  double *x;
  const double *y, *w; /* w NULL: unweighted */
  double coef[NUMTEST_MAX_P], se[NUMTEST_MAX_P], sd, r2;
} numtest_problem;

/* Loads NIST set `name` (cmocka asserts on failure), its certified values
 * too; free with numtest_problem_free. */
void numtest_problem_load(const char *name, numtest_problem *pr);

/* The data of a set: CSVREG_TEST_DATA_DIR/csv_rel and its description
 * `desc` (taken over as pr->cert): "intercept", the target "y", "weights"
 * (a column name, optional) and either "predictors" (column names) or
 * "polynomial_degree" (the powers of "x", as above). The certified values
 * are left to the caller. */
void numtest_design_load(const char *csv_rel, json_t *desc, numtest_problem *pr);
void numtest_problem_free(numtest_problem *pr);

#endif
