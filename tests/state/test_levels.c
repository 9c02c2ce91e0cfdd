/*
 * test_levels.c - state lines of a formula with categorical variables
 * (version 2), through the public API: R's columns chosen on a loaded shard
 * state (csvreg_accum_finish) are the bits the pass chooses itself; a
 * state of chosen columns saves and loads to the same text; and states of
 * chosen columns merge only with the same levels, while shards' states
 * (every level's column) merge whatever levels they saw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "csvreg.h"

#define FORMULA "y ~ x * factor(g)"

/* A small file: g takes levels from `levels` in turn. */
static void write_file(const char *path, const char *levels, size_t n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("y,x,g\n", f);
  size_t nl = strlen(levels);
  for (size_t i = 0; i < n; i++) {
    double x = (double)(i % 17) - 8, g = levels[i % nl] - '0';
    fprintf(f, "%.6f,%g,%c\n", 1 + 0.5 * x + g + 0.1 * g * x + 0.01 * (double)(i * 7 % 13), x,
            levels[i % nl]);
  }
  assert_int_equal(fclose(f), 0);
}

/* The state of one pass over `path` as a line (malloc'd); open: a shard's
 * state (every level's column), else R's columns. */
static char *pass_state(const char *path, int open) {
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = path;
  po.open_levels = open;
  csvreg_pass *p = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_pass_open(&p, &po, &err), CSVREG_OK);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  csvreg_spec *spec = NULL;
  assert_int_equal(csvreg_spec_new_formula(&spec, csvreg_pass_column_names(p),
                                           csvreg_pass_ncolumns(p), FORMULA, &so, NULL, &err),
                   CSVREG_OK);
  csvreg_solver solver = CSVREG_SOLVER_QR;
  void *out = NULL;
  assert_int_equal(csvreg_pass_run(p, spec, csvreg_sink_accum(), &solver, &out, &err), CSVREG_OK);
  char *text = NULL;
  assert_int_equal(csvreg_accum_save(out, NULL, &text, &err), CSVREG_OK);
  csvreg_accum_free(out);
  csvreg_spec_free(spec);
  csvreg_pass_free(p);
  return text;
}

static csvreg_accum *load(const char *text) {
  csvreg_accum *a = NULL;
  assert_int_equal(csvreg_accum_load(&a, text, strlen(text), NULL, NULL), CSVREG_OK);
  return a;
}

static char *save(const csvreg_accum *a) {
  char *text = NULL;
  assert_int_equal(csvreg_accum_save(a, NULL, &text, NULL), CSVREG_OK);
  return text;
}

static void test_finish_equals_pass(void **state) {
  (void)state;
  char path[] = "/tmp/test_levels_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  write_file(path, "3121", 200); /* first seen: 3, then 1: baseline 1 */
  char *open = pass_state(path, 1), *chosen = pass_state(path, 0);
  assert_non_null(strstr(open, "\"selected\":false"));
  assert_non_null(strstr(chosen, "\"selected\":true"));
  assert_non_null(strstr(chosen, "\"levels\":[\"1\",\"2\",\"3\"]"));
  assert_non_null(strstr(chosen, "\"version\":3"));
  assert_non_null(strstr(chosen, "\"formula\":{"));
  csvreg_accum *a = load(open);
  assert_int_equal(csvreg_accum_finish(a, NULL), CSVREG_OK);
  char *finished = save(a);
  assert_string_equal(finished, chosen);
  /* finishing again is nothing; a chosen state loads and saves unchanged */
  assert_int_equal(csvreg_accum_finish(a, NULL), CSVREG_OK);
  char *again = save(a);
  assert_string_equal(again, chosen);
  csvreg_accum *b = load(chosen);
  char *back = save(b);
  assert_string_equal(back, chosen);
  csvreg_accum_free(a);
  csvreg_accum_free(b);
  free(open);
  free(chosen);
  free(finished);
  free(again);
  free(back);
  unlink(path);
}

static csvreg_status merge_two(const char *x, const char *y, csvreg_error *err) {
  csvreg_stateset *s = NULL;
  assert_int_equal(csvreg_stateset_new(&s, NULL), CSVREG_OK);
  assert_int_equal(csvreg_stateset_add_text(s, x, strlen(x), "x", 1, NULL), CSVREG_OK);
  assert_int_equal(csvreg_stateset_add_text(s, y, strlen(y), "y", 1, NULL), CSVREG_OK);
  csvreg_accum *acc = NULL;
  csvreg_status st = csvreg_stateset_merge(s, NULL, &acc, NULL, err);
  if (!st)
    st = csvreg_accum_finish(acc, err);
  csvreg_accum_free(acc);
  csvreg_stateset_free(s);
  return st;
}

static void test_chosen_merge(void **state) {
  (void)state;
  char p1[] = "/tmp/test_levels_XXXXXX", p2[] = "/tmp/test_levels_XXXXXX";
  int f1 = mkstemp(p1), f2 = mkstemp(p2);
  assert_true(f1 >= 0 && f2 >= 0);
  close(f1);
  close(f2);
  write_file(p1, "123", 90);
  write_file(p2, "23", 60); /* its own baseline would be 2 */
  char *a1 = pass_state(p1, 0), *a2 = pass_state(p1, 0), *b = pass_state(p2, 0);
  char *o1 = pass_state(p1, 1), *o2 = pass_state(p2, 1);
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(merge_two(a1, a2, &err), CSVREG_OK); /* the same levels */
  assert_int_equal(merge_two(a1, b, &err), CSVREG_E_FORMAT);
  assert_non_null(strstr(err.message, "cannot merge"));
  assert_int_equal(merge_two(o1, o2, &err), CSVREG_OK);       /* shards: any levels */
  assert_int_equal(merge_two(o1, a1, &err), CSVREG_E_FORMAT); /* chosen and not */
  free(a1);
  free(a2);
  free(b);
  free(o1);
  free(o2);
  unlink(p1);
  unlink(p2);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_finish_equals_pass),
                                     cmocka_unit_test(test_chosen_merge)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
