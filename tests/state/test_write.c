/*
 * test_write.c - the streaming writers and the scanning loaders (issue 17
 * item 9): json_write.c must write the bytes json_dumps wrote for the whole
 * tree (reals formatted as jansson formats them, the layouts of state lines
 * and model files), the FILE writers the bytes of the string ones, and
 * state_scan.c must load what jansson loads and refuse what it refuses, with
 * the same messages (text it does not take goes to jansson whole).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "csvreg.h"
#include "json_write.h"
#include "state.h"

static const double xs[10] = {1, 3, 4, 4.5, 7, 2, 0.5, 8, 1e-3, 6};
static const double ys[5] = {1, 2, 3, 4, 5.5};

static csvreg_accum *small(csvreg_solver solver) {
  csvreg_accum *a = NULL;
  csvreg_error err;
  const char *names[2] = {"x", "z"};
  assert_int_equal(csvreg_accum_new(&a, solver, 2, 1, names, "y", &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_add_rows(a, 5, xs, 5, ys, NULL, &err), CSVREG_OK);
  return a;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* csvreg__jreal against jansson's own dump of a real, over random bits. */
static void test_real_format(void **state) {
  (void)state;
  const double fixed[] = {0, -0.0, 1, 100, 1e16, 1e17, 0.1, 1e-5, 5e-324, 1.7976931348623157e308,
                          123456789012345678.0, -2.5e-300, 0.0001};
  for (size_t i = 0; i < 200000 + sizeof fixed / sizeof fixed[0]; i++) {
    double x;
    if (i < sizeof fixed / sizeof fixed[0]) {
      x = fixed[i];
    } else {
      uint64_t b = next();
      memcpy(&x, &b, sizeof x);
      if (!(x == x) || x - x != 0)
        continue;
    }
    json_t *r = json_real(x);
    char *want = json_dumps(r, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    char got[40];
    size_t n = csvreg__jreal(x, got);
    assert_int_equal(n, strlen(want));
    assert_string_equal(got, want);
    free(want);
    json_decref(r);
  }
}

/* The text of a FILE writer. */
static char *via_file(const csvreg_accum *a, const csvreg_model *m) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  csvreg_error err;
  assert_int_equal(a ? csvreg_accum_write(a, "{\"shard\":\"s\"}", f, &err)
                     : csvreg_model_write(m, f, &err),
                   CSVREG_OK);
  fclose(f);
  return buf;
}

/* State lines and model files: the layout of json_dumps, the FILE writers'
 * bytes the string writers', a copy saves the same line. */
static void test_layout(void **state) {
  (void)state;
  for (int s = 0; s < 2; s++) {
    csvreg_accum *a = small(s ? CSVREG_SOLVER_NORMAL : CSVREG_SOLVER_QR), *c = NULL;
    csvreg_error err;
    char *text = NULL, *copy_text = NULL;
    assert_int_equal(csvreg_accum_save(a, "{\"shard\":\"s\"}", &text, &err), CSVREG_OK);
    json_t *o = json_loads(text, 0, NULL);
    assert_non_null(o);
    char *again = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, again);
    char *f = via_file(a, NULL);
    assert_string_equal(f, text);
    assert_int_equal(csvreg_accum_copy(a, &c, &err), CSVREG_OK);
    assert_int_equal(csvreg_accum_save(c, "{\"shard\":\"s\"}", &copy_text, &err), CSVREG_OK);
    assert_string_equal(copy_text, text);

    csvreg_model_options mo;
    csvreg_model_options_init(&mo);
    csvreg_model *m = NULL;
    char *mt = NULL;
    assert_int_equal(csvreg_model_new(&m, a, &mo, &err), CSVREG_OK);
    assert_int_equal(csvreg_model_save(m, &mt, &err), CSVREG_OK);
    json_t *mj = json_loads(mt, 0, NULL);
    assert_non_null(mj);
    char *mt2 = json_dumps(mj, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    assert_int_equal(strlen(mt), strlen(mt2) + 1);
    assert_memory_equal(mt, mt2, strlen(mt2));
    char *mf = via_file(NULL, m);
    assert_string_equal(mf, mt);
    /* loaded (scanned) and saved again: the same text */
    csvreg_model *m2 = NULL;
    char *mt3 = NULL;
    assert_int_equal(csvreg_model_load(&m2, mt, strlen(mt), &err), CSVREG_OK);
    assert_int_equal(csvreg_model_save(m2, &mt3, &err), CSVREG_OK);
    assert_string_equal(mt3, mt);
    free(mt), free(mt2), free(mt3), free(mf);
    json_decref(mj);
    csvreg_model_free(m);
    csvreg_model_free(m2);
    free(text), free(again), free(f), free(copy_text);
    json_decref(o);
    csvreg_accum_free(a);
    csvreg_accum_free(c);
  }
}

/* A state edited in its "r" array, checksum recomputed over the tree (as a
 * forger would): loads or fails with the message of a tree parse. */
static csvreg_status load_edited(void (*edit)(json_t *r), int pretty, char *msg, size_t size) {
  csvreg_accum *a = small(CSVREG_SOLVER_QR), *b = NULL;
  csvreg_error err;
  char *text = NULL, sum[32];
  assert_int_equal(csvreg_accum_save(a, NULL, &text, &err), CSVREG_OK);
  json_t *o = json_loads(text, 0, NULL);
  free(text);
  if (edit)
    edit(json_object_get(o, "r"));
  json_object_del(o, "checksum");
  assert_int_equal(csvreg__state_checksum(o, sum, NULL), CSVREG_OK);
  json_object_set_new(o, "checksum", json_string(sum));
  text = json_dumps(o, pretty ? JSON_INDENT(3) | JSON_SORT_KEYS : JSON_COMPACT | JSON_SORT_KEYS);
  csvreg_error_clear(&err);
  csvreg_status st = csvreg_accum_load(&b, text, strlen(text), NULL, &err);
  snprintf(msg, size, "%s", err.message);
  if (!st) { /* it loads as the original: saved again, the same line */
    char *t2 = NULL, *t3 = NULL;
    assert_int_equal(csvreg_accum_save(a, NULL, &t2, &err), CSVREG_OK);
    assert_int_equal(csvreg_accum_save(b, NULL, &t3, &err), CSVREG_OK);
    if (!edit)
      assert_string_equal(t2, t3);
    free(t2), free(t3);
  }
  free(text);
  json_decref(o);
  csvreg_accum_free(a);
  csvreg_accum_free(b);
  return st;
}

static void number_in_r(json_t *r) { json_array_set_new(r, 1, json_real(1.5)); }
static void escaped_in_r(json_t *r) { json_array_set_new(r, 0, json_string("0x1p+0\n")); }
static void long_in_r(json_t *r) {
  json_array_set_new(r, 0, json_string("0x1.00000000000000000000000000000000000000000p+0"));
}
static void short_r(json_t *r) { json_array_remove(r, 0); }

static void test_scan(void **state) {
  (void)state;
  char msg[512];
  assert_int_equal(load_edited(NULL, 0, msg, sizeof msg), CSVREG_OK);
  assert_int_equal(load_edited(NULL, 1, msg, sizeof msg), CSVREG_OK); /* blanks in arrays */
  void (*bad[])(json_t *) = {number_in_r, escaped_in_r, long_in_r, short_r};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(load_edited(bad[i], i % 2, msg, sizeof msg), CSVREG_E_FORMAT);
    assert_non_null(strstr(msg, "numbers must be hex floats and the matrices of the right size"));
  }
  /* a damaged line: the checksum, as before */
  csvreg_accum *a = small(CSVREG_SOLVER_QR), *b = NULL;
  csvreg_error err;
  char *text = NULL;
  assert_int_equal(csvreg_accum_save(a, NULL, &text, &err), CSVREG_OK);
  char *r = strstr(text, "\"r\":[\"");
  assert_non_null(r);
  r = strstr(r, "0x");
  assert_non_null(r);
  r[2] = r[2] == '1' ? '2' : '1';
  assert_int_equal(csvreg_accum_load(&b, text, strlen(text), NULL, &err), CSVREG_E_FORMAT);
  assert_non_null(strstr(err.message, "state checksum mismatch"));
  /* a duplicate "r": jansson's error on the whole text */
  size_t n = strlen(text);
  char *dup = malloc(n + 16);
  memcpy(dup, text, n - 1);
  strcpy(dup + n - 1, ",\"r\":[]}");
  assert_int_equal(csvreg_accum_load(&b, dup, strlen(dup), NULL, &err), CSVREG_E_FORMAT);
  assert_non_null(strstr(err.message, "duplicate object key"));
  free(dup);
  free(text);
  csvreg_accum_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_format),
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_scan),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
