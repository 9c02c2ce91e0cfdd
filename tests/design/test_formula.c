/*
 * test_formula.c - the formula module without R: syntax errors and the byte
 * offset each one points at, the caret text, R's number deparse, term
 * expansion details that need no data (`.`, weights, limits), design columns
 * as levels arrive, and the expression evaluator's R arithmetic.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "expr.h"
#include "formula.h"

static csvreg__formula *parse_ok(const char *text) {
  csvreg__formula *f = NULL;
  csvreg_error err;
  size_t where = 0;
  csvreg_status st = csvreg__formula_parse(&f, text, &where, &err);
  if (st != CSVREG_OK)
    fail_msg("%s: %s (at %zu)", text, err.message, where);
  assert_int_equal(where, CSVREG__NO_OFFSET);
  return f;
}

static csvreg__formula *expand_ok(const char *text, const char *const *names, size_t n,
                                  const char *const *excl, size_t nexcl) {
  csvreg__formula *f = parse_ok(text);
  csvreg_error err;
  size_t where;
  if (csvreg__formula_expand(f, names, n, excl, nexcl, &where, &err) != CSVREG_OK)
    fail_msg("%s: %s", text, err.message);
  return f;
}

/* All term labels joined by " | ". */
static void labels(const csvreg__formula *f, char *buf, size_t size) {
  buf[0] = '\0';
  for (size_t k = 0; k < f->nterms; k++) {
    if (k)
      strncat(buf, " | ", size - strlen(buf) - 1);
    strncat(buf, f->terms[k].label, size - strlen(buf) - 1);
  }
}

static const struct {
  const char *text;
  size_t where;
  const char *message; /* a part of the message */
} bad[] = {
    {"", 0, "empty formula"},
    {"   ", 0, "empty formula"},
    {"y + a", 0, "no '~'"},
    {"y ~ (a + b", 4, "unbalanced '('"},
    {"y ~ a + b)", 9, "unbalanced ')'"},
    {"y ~ log(a", 7, "unbalanced '('"},
    {"y ~ log(a b)", 10, "expected ',' or ')'"},
    {"y ~ lg(a)", 4, "unknown function 'lg'"},
    {"y ~ I(sin(a))", 6, "unknown function 'sin'"},
    {"y ~ poly(a, 2)", 4, "orthogonal poly()"},
    {"y ~ poly(a, 2, raw = FALSE)", 4, "orthogonal poly()"},
    {"y ~ poly(a, 2, raw = yes)", 21, "raw must be TRUE or FALSE"},
    {"y ~ poly(a, 0, raw = TRUE)", 12, "degree of poly()"},
    {"y ~ poly(a, 2, TRUE)", 15, "poly() takes one column"},
    {"y ~ relevel(g)", 4, "relevel() needs the baseline"},
    {"y ~ relevel(g, ref = b)", 21, "ref must be a level in quotes"},
    {"y ~ relevel(g, ref = 2)", 21, "ref must be a level in quotes"},
    {"y ~ relevel(g, ref = \"b)", 21, "unterminated string"},
    {"y ~ relevel(log(g), \"b\")", 12, "relevel() takes a column name"},
    {"y ~ factor(a + b)", 11, "factor() takes a column name"},
    {"y ~ factor(a, levels = 2)", 4, "factor() takes one column"},
    {"y ~ a +", 7, "unexpected end"},
    {"y ~ a ^ b", 8, "power of terms"},
    {"y ~ (a + b)^1.5", 12, "power of terms"},
    {"y ~ a + 2", 8, "must be 0 or 1"},
    {"y ~ I(a:b)", 7, "':' (interaction)"},
    {"y ~ I(factor(a))", 6, "factor() cannot stand inside"},
    {"y ~ `a", 4, "unterminated backquoted name"},
    {"y ~ ``", 4, "empty backquoted name"},
    {"y ~ a ~ b", 6, "'~' may appear only once"},
    {"y ~ a $ b", 6, "unexpected '$'"},
    {"y ~ a %o% b", 6, "operator '%o%' is not supported"},
    {"y ~ 2x", 5, "unexpected symbol"},
    {"y ~ 1e", 5, "malformed number"},
    {"y ~ a + \"b\"", 8, "unexpected string"},
    {"y ~ if", 4, "'if' is not supported"},
    {"factor(y) ~ a", 0, "cannot stand inside"},
    {"y ~ log(a, b, c)", 4, "log() takes one or two"},
    {"y ~ sqrt(x = a, 2)", 4, "sqrt() takes one argument"},
    {"y ~ I(a, )", 9, "empty argument"},
    {"y ~ I(.)", 6, "'.' cannot stand"},
    {"y ~ a\x01", 5, "control character"},
};

static void test_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    csvreg__formula *f = (csvreg__formula *)1;
    csvreg_error err;
    size_t where = 12345;
    csvreg_status st = csvreg__formula_parse(&f, bad[i].text, &where, &err);
    if (st != CSVREG_E_USAGE || f != NULL || where != bad[i].where ||
        !strstr(err.message, bad[i].message))
      fail_msg("'%s': status %d, at %zu (want %zu), message '%s' (want '%s')", bad[i].text, (int)st,
               where, bad[i].where, err.message, bad[i].message);
    assert_int_equal(err.status, CSVREG_E_USAGE);
    assert_non_null(strstr(err.message, "formula: "));
  }
}

static void test_caret(void **state) {
  (void)state;
  char buf[128];
  size_t n = csvreg__formula_caret("y ~ lg(a)", 4, 2, buf, sizeof buf);
  assert_string_equal(buf, "  y ~ lg(a)\n      ^");
  assert_int_equal(n, strlen(buf));
  /* UTF-8: the caret counts characters; tabs show as spaces */
  csvreg__formula_caret("\xc3\xa9 ~\tb", 5, 0, buf, sizeof buf);
  assert_string_equal(buf, "\xc3\xa9 ~ b\n    ^");
  /* truncation reports the full length, as snprintf */
  n = csvreg__formula_caret("y ~ lg(a)", 4, 0, buf, 5);
  assert_string_equal(buf, "y ~ ");
  assert_int_equal(n, strlen("y ~ lg(a)\n    ^"));
  /* past the end: under the end */
  csvreg__formula_caret("y ~", 3, 0, buf, sizeof buf);
  assert_string_equal(buf, "y ~\n   ^");
}

static void test_numbers(void **state) {
  (void)state;
  static const struct {
    double v;
    const char *s;
  } t[] = {{2, "2"},
           {0.5, "0.5"},
           {1e5, "1e+05"},
           {1e-4, "1e-04"},
           {123456, "123456"},
           {0.1 + 0.2, "0.3"},
           {1.0 / 3, "0.333333333333333"},
           {1e15, "1e+15"},
           {1234567.5, "1234567.5"},
           {1e-300, "1e-300"},
           {2.5e-7, "2.5e-07"},
           {100, "100"},
           {1e100, "1e+100"},
           {3.14159, "3.14159"},
           {10000, "10000"},
           {0, "0"}};
  char buf[48];
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    csvreg__formula_num(t[i].v, buf, sizeof buf);
    assert_string_equal(buf, t[i].s);
  }
}

static void test_deparse(void **state) {
  (void)state;
  static const char *const names[] = {"y", "a", "sale price", "if"};
  csvreg__formula *f =
      expand_ok("log( y )~a** 2+I(a *2/ `sale price`)+`a`:`sale price` + relevel(a,'x') + "
                "poly(a,degree=2L,raw=T)+.",
                names, 4, NULL, 0);
  char buf[512];
  labels(f, buf, sizeof buf);
  assert_string_equal(buf, "a | I(a * 2/`sale price`) | relevel(a, \"x\") | "
                           "poly(a, degree = 2, raw = T) | `sale price` | `if` | a:`sale price`");
  assert_string_equal(f->vars[0].name, "log(y)");
  assert_int_equal(f->has_response, 1);
  /* inputs in order of appearance; y only through the response */
  assert_int_equal(f->ninputs, 4);
  assert_string_equal(f->inputs[0], "y");
  assert_string_equal(f->inputs[1], "a");
  assert_string_equal(f->inputs[2], "sale price");
  assert_string_equal(f->inputs[3], "if");
  assert_int_equal(f->input_offset[0], 5);
  assert_int_equal(f->input_offset[3], CSVREG__NO_OFFSET);
  csvreg__formula_free(f);
}

static void test_dot(void **state) {
  (void)state;
  static const char *const names[] = {"y", "a", "w", "b"};
  static const char *const excl[] = {"w"};
  char buf[256];
  csvreg__formula *f = expand_ok("log(y) ~ .", names, 4, excl, 1);
  labels(f, buf, sizeof buf);
  assert_string_equal(buf, "a | b"); /* not y (the response reads it), not w */
  csvreg__formula_free(f);
  f = expand_ok("y ~ . - b + I(b^2)", names, 4, NULL, 0);
  labels(f, buf, sizeof buf);
  assert_string_equal(buf, "a | w | I(b^2)");
  csvreg__formula_free(f);
  /* `.` without the header's names */
  f = parse_ok("y ~ a + .");
  csvreg_error err;
  size_t where;
  assert_int_equal(csvreg__formula_expand(f, NULL, 0, NULL, 0, &where, &err), CSVREG_E_USAGE);
  assert_int_equal(where, 8);
  csvreg__formula_free(f);
  /* duplicated names cannot be told apart */
  static const char *const dup[] = {"y", "a", "a"};
  f = parse_ok("y ~ .");
  assert_int_equal(csvreg__formula_expand(f, dup, 3, NULL, 0, &where, &err), CSVREG_E_COLUMN);
  csvreg__formula_free(f);
}

static void test_limits(void **state) {
  (void)state;
  /* 2^20 interactions: refused, not computed */
  char text[512] = "y ~ (";
  for (int i = 0; i < 20; i++) {
    char v[8];
    snprintf(v, sizeof v, "%sx%d", i ? "+" : "", i);
    strcat(text, v);
  }
  strcat(text, ")^20");
  csvreg__formula *f = parse_ok(text);
  csvreg_error err;
  size_t where;
  assert_int_equal(csvreg__formula_expand(f, NULL, 0, NULL, 0, &where, &err), CSVREG_E_LIMIT);
  csvreg__formula_free(f);
  /* nesting */
  char deep[1024];
  size_t n = 0;
  n += (size_t)snprintf(deep, sizeof deep, "y ~ ");
  for (int i = 0; i < 300; i++)
    deep[n++] = '(';
  deep[n++] = 'a';
  for (int i = 0; i < 300; i++)
    deep[n++] = ')';
  deep[n] = '\0';
  assert_int_equal(csvreg__formula_parse(&f, deep, &where, &err), CSVREG_E_USAGE);
  assert_non_null(strstr(err.message, "nested too deeply"));
  /* (a + b)^1000000 stops once the terms stop changing */
  f = expand_ok("y ~ (a + b)^1000000", NULL, 0, NULL, 0);
  assert_int_equal(f->nterms, 3);
  csvreg__formula_free(f);
  csvreg__formula_free(NULL);
  csvreg__dcols_free(NULL);
  csvreg__expr_free(NULL);
}

/* Levels arriving mid-stream only add columns; coding stays put. */
static void test_columns_grow(void **state) {
  (void)state;
  static const char *const names[] = {"y", "x", "g"};
  csvreg__formula *f = expand_ok("y ~ x*g - 1", names, 3, NULL, 0);
  /* vars: y, x, g */
  int cat[3] = {0, 0, 1};
  const char *lv[] = {"a", "b", "c"};
  const char *const *levels[3] = {NULL, NULL, lv};
  size_t nlev[3] = {0, 0, 1};
  csvreg__dcols *d = NULL;
  csvreg_error err;
  assert_int_equal(csvreg__formula_columns(f, cat, nlev, levels, &d, &err), CSVREG_OK);
  /* no intercept: g (first factor of the first term with one) by indicators;
   * x:g by contrasts since x is in the model */
  assert_int_equal(d->intercept, 0);
  assert_int_equal(d->ncols, 2);
  assert_string_equal(d->cols[0].name, "x");
  assert_string_equal(d->cols[1].name, "ga");
  csvreg__dcols_free(d);
  nlev[2] = 3;
  assert_int_equal(csvreg__formula_columns(f, cat, nlev, levels, &d, &err), CSVREG_OK);
  assert_int_equal(d->ncols, 6);
  const char *want[] = {"x", "ga", "gb", "gc", "x:gb", "x:gc"};
  for (size_t j = 0; j < 6; j++)
    assert_string_equal(d->cols[j].name, want[j]);
  assert_int_equal(d->cols[4].nfac, 2);
  assert_int_equal(d->cols[4].fac[0].var, 1);
  assert_int_equal(d->cols[4].fac[1].var, 2);
  assert_int_equal(d->cols[4].fac[1].index, 1);
  assert_int_equal(d->cols[4].term, 2);
  csvreg__dcols_free(d);
  csvreg__formula_free(f);
}

static void test_expr(void **state) {
  (void)state;
  /* R_pow's special cases */
  assert_true(csvreg__r_pow(1, NAN) == 1);
  assert_true(csvreg__r_pow(NAN, 0) == 1);
  assert_true(csvreg__r_pow(0, -1) == INFINITY);
  assert_true(csvreg__r_pow(-INFINITY, 3) == -INFINITY);
  assert_true(csvreg__r_pow(-INFINITY, 2) == INFINITY);
  assert_true(csvreg__r_pow(0.5, INFINITY) == 0);
  assert_true(isnan(csvreg__r_pow(-8, 1.0 / 3)));
  double x = 1.1;
  assert_true(csvreg__r_pow(x, 2) == x * x);
  assert_true(csvreg__r_pow(x, 3) == pow(x, 3));
  /* a program: log(a) - sqrt(b) / 2, evaluated over 3 rows */
  static const char *const names[] = {"y", "a", "b"};
  csvreg__formula *f = expand_ok("y ~ I(log(a) - sqrt(b)/2)", names, 3, NULL, 0);
  const csvreg__expr *e = f->vars[1].expr;
  assert_non_null(e);
  /* columns y | a | b, leading dimension 4; input k is column k (map NULL) */
  double vals[3 * 4] = {0, 0, 0, 0, 1, 2, 0, 0, -1, 9, 16, 0};
  double out[3], scratch[16];
  assert_true(csvreg__expr_scratch(e, 3) <= 16);
  csvreg__expr_eval(e, 3, vals, 4, NULL, out, scratch);
  assert_true(isnan(out[0]));
  assert_true(out[1] == log(2.0) - sqrt(9.0) / 2);
  assert_true(out[2] == -INFINITY);
  unsigned char flags[3] = {0};
  assert_int_equal(csvreg__expr_flag_bad(out, 3, flags), 2);
  assert_int_equal(flags[0], 1);
  assert_int_equal(flags[1], 0);
  assert_int_equal(flags[2], 1);
  csvreg__formula_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errors),       cmocka_unit_test(test_caret),
      cmocka_unit_test(test_numbers),      cmocka_unit_test(test_deparse),
      cmocka_unit_test(test_dot),          cmocka_unit_test(test_limits),
      cmocka_unit_test(test_columns_grow), cmocka_unit_test(test_expr),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
