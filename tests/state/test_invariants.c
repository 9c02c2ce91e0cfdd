/*
 * test_invariants.c - forged states and models (issue 17): a file whose
 * checksum was recomputed after an edit must still be refused when it holds
 * what csvreg could never have written (more rows used than read, a term
 * that is no input, a negative co-moment diagonal, a quote as delimiter),
 * and merging may never wrap a 64-bit count. Each forgery edits the JSON of
 * a real state or model and recomputes the checksum as the writer does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "csvreg.h"
#include "state.h"

static const double xs[5] = {1, 3, 4, 4.5, 7};
static const double ys[5] = {1, 2, 3, 4, 5.5};

static csvreg_accum *small(csvreg_solver solver) {
  csvreg_accum *a = NULL;
  csvreg_error err;
  const char *names[1] = {"x"};
  assert_int_equal(csvreg_accum_new(&a, solver, 1, 1, names, "y", &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_add_rows(a, 5, xs, 5, ys, NULL, &err), CSVREG_OK);
  return a;
}

/* The text of `o` with its checksum recomputed; malloc'd. */
static char *resign(json_t *o, int pretty) {
  char sum[32];
  json_object_del(o, "checksum");
  assert_int_equal(csvreg__state_checksum(o, sum, NULL), CSVREG_OK);
  json_object_set_new(o, "checksum", json_string(sum));
  char *t = json_dumps(o, pretty ? JSON_INDENT(2) | JSON_SORT_KEYS : JSON_COMPACT | JSON_SORT_KEYS);
  assert_non_null(t);
  return t;
}

typedef void (*edit_fn)(json_t *o);

/* Loads a state of `solver` edited by `edit`; returns the status, the
 * message in msg. */
static csvreg_status load_forged(csvreg_solver solver, edit_fn edit, char *msg, size_t size) {
  csvreg_accum *a = small(solver), *b = NULL;
  char *text = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_accum_save(a, NULL, &text, &err), CSVREG_OK);
  json_t *o = json_loads(text, 0, NULL);
  assert_non_null(o);
  free(text);
  /* Input columns, as a fit of a spec has them (csvreg_accum_new has none). */
  json_object_set_new(o, "inputs", json_pack("[s, s]", "x", "y"));
  json_object_set_new(o, "na_by_input", json_pack("[i, i]", 0, 0));
  edit(o);
  text = resign(o, 0);
  json_decref(o);
  csvreg_error_clear(&err);
  csvreg_status st = csvreg_accum_load(&b, text, strlen(text), NULL, &err);
  snprintf(msg, size, "%s", err.message);
  free(text);
  csvreg_accum_free(a);
  csvreg_accum_free(b);
  return st;
}

static void set_count(json_t *o, const char *key, json_int_t v) {
  json_object_set_new(json_object_get(o, "counts"), key, json_integer(v));
}
static void used_over(json_t *o) { set_count(o, "used", 6); }
static void sum_over(json_t *o) { set_count(o, "dropped_na", 1); }
static void na_over(json_t *o) {
  json_array_set_new(json_object_get(o, "na_by_input"), 0, json_integer(6));
}
static void term_target(json_t *o) {
  json_array_set_new(json_object_get(o, "terms"), 0, json_string("y"));
}
static void term_other(json_t *o) {
  json_array_set_new(json_object_get(o, "terms"), 0, json_string("w"));
}
static void term_expr(json_t *o) { /* log(x) over the input x: a formula's term */
  json_array_set_new(json_object_get(o, "terms"), 0, json_string("log(x)"));
}
static void term_poly(json_t *o) {
  json_array_set_new(json_object_get(o, "terms"), 0, json_string("poly(x, 2, raw = TRUE)1"));
}
static void term_expr_other(json_t *o) {
  json_array_set_new(json_object_get(o, "terms"), 0, json_string("log(w)"));
}
static void com_negative(json_t *o) {
  json_array_set_new(json_object_get(o, "com"), 0, json_string("-0x1.0000000000000p+0"));
}
static void max_records(json_t *o) { set_count(o, "records", INT64_MAX); }
static void nothing(json_t *o) { (void)o; }

static void expect_refused(csvreg_solver solver, edit_fn edit, const char *part) {
  char msg[512];
  assert_int_equal(load_forged(solver, edit, msg, sizeof msg), CSVREG_E_FORMAT);
  if (!strstr(msg, part))
    fail_msg("message \"%s\" lacks \"%s\"", msg, part);
}

static void test_counts(void **state) {
  (void)state;
  expect_refused(CSVREG_SOLVER_QR, used_over, "\"counts.used\" (6) is more than");
  expect_refused(CSVREG_SOLVER_QR, sum_over, "add up to more than \"counts.records\" (5)");
  expect_refused(CSVREG_SOLVER_NORMAL, na_over, "\"na_by_input\" of 'x' (6)");
}

static void test_names(void **state) {
  (void)state;
  char msg[512];
  expect_refused(CSVREG_SOLVER_QR, term_target, "\"terms\" holds the target 'y'");
  expect_refused(CSVREG_SOLVER_QR, term_other, "the term 'w' is neither in \"inputs\"");
  expect_refused(CSVREG_SOLVER_QR, term_expr_other, "the term 'log(w)' is neither");
  /* A version 1 formula's terms are expressions of the inputs: kept. */
  assert_int_equal(load_forged(CSVREG_SOLVER_QR, term_expr, msg, sizeof msg), CSVREG_OK);
  assert_int_equal(load_forged(CSVREG_SOLVER_QR, term_poly, msg, sizeof msg), CSVREG_OK);
  assert_int_equal(load_forged(CSVREG_SOLVER_QR, nothing, msg, sizeof msg), CSVREG_OK);
}

static void test_numbers(void **state) {
  (void)state;
  expect_refused(CSVREG_SOLVER_NORMAL, com_negative, "\"com\" has the negative diagonal entry -1");
}

/* Two and three states of 2^63 - 1 records: exit 3's status, never a
 * wrapped count; the refused merge leaves the destination as it was. */
static void test_overflow(void **state) {
  (void)state;
  csvreg_accum *a = small(CSVREG_SOLVER_QR), *b = NULL, *c = NULL;
  char *text = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_accum_save(a, NULL, &text, &err), CSVREG_OK);
  json_t *o = json_loads(text, 0, NULL);
  free(text);
  max_records(o);
  text = resign(o, 0);
  json_decref(o);
  assert_int_equal(csvreg_accum_load(&b, text, strlen(text), NULL, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_load(&c, text, strlen(text), NULL, &err), CSVREG_OK);
  free(text);
  assert_int_equal(csvreg_accum_merge(b, c, &err), CSVREG_E_LIMIT);
  assert_non_null(strstr(err.message, "counter overflow"));
  assert_true(csvreg_accum_counts(b)->records == (uint64_t)INT64_MAX);
  assert_true(csvreg_accum_counts(b)->used == 5);
  csvreg_accum_free(a);
  csvreg_accum_free(b);
  csvreg_accum_free(c);
}

/* A model whose reader delimiter is a quote: the model is bad (format),
 * not the CSV it would be used on. */
static void test_model_delimiter(void **state) {
  (void)state;
  csvreg_accum *a = small(CSVREG_SOLVER_QR);
  csvreg_model *m = NULL;
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  csvreg_error err;
  assert_int_equal(csvreg_model_new(&m, a, &mo, &err), CSVREG_OK);
  char *text = NULL;
  assert_int_equal(csvreg_model_save(m, &text, &err), CSVREG_OK);
  csvreg_model_free(m);
  m = NULL;
  json_t *o = json_loads(text, 0, NULL);
  free(text);
  assert_non_null(o);
  json_t *rd = json_object_get(o, "reader");
  if (!rd)
    rd = json_object_get(o, "options");
  const char *bad[] = {"\"", "\n", "\r"};
  for (size_t i = 0; i < 3; i++) {
    json_object_set_new(rd, "delimiter", json_string(bad[i]));
    text = resign(o, 1);
    csvreg_error_clear(&err);
    assert_int_equal(csvreg_model_load(&m, text, strlen(text), &err), CSVREG_E_FORMAT);
    assert_non_null(strstr(err.message, "the delimiter cannot be"));
    free(text);
  }
  json_object_set_new(rd, "delimiter", json_string(";"));
  text = resign(o, 1);
  assert_int_equal(csvreg_model_load(&m, text, strlen(text), &err), CSVREG_OK);
  free(text);
  json_decref(o);
  csvreg_model_free(m);
  csvreg_accum_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counts),          cmocka_unit_test(test_names),
      cmocka_unit_test(test_numbers),         cmocka_unit_test(test_overflow),
      cmocka_unit_test(test_model_delimiter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
