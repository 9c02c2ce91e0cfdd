/*
 * test_rows.c - the one row path of predict and eval, through the public
 * API: a model's spec binds to a new header by name in any order (and says
 * which column is missing or ambiguous), a version-1 model file loads and
 * saves as version 2 with the same predictions, and the chunk's predict mode
 * keeps every record in order with its status and its re-quoted text, while
 * the eval mode leaves out rows of weight 0.
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
#include <jansson.h>

#include "csvreg.h"
#include "state.h" /* csvreg__state_checksum, to edit a model file consistently */

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = malloc(1 << 20);
  assert_non_null(buf);
  *len = fread(buf, 1, 1 << 20, f);
  fclose(f);
  return buf;
}

static csvreg_model *load(const char *path) {
  size_t len;
  char *text = slurp(path, &len);
  csvreg_model *m = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_model_load(&m, text, len, &err), CSVREG_OK);
  free(text);
  return m;
}

static csvreg_reader *open_mem(const char *csv) {
  csvreg_reader *r = NULL;
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  assert_int_equal(csvreg_reader_open_mem(&r, csv, strlen(csv), "mem", &ro, NULL), CSVREG_OK);
  return r;
}

static csvreg_status bind(const csvreg_model *m, const char *csv, unsigned flags, csvreg_spec **s,
                          csvreg_error *err) {
  csvreg_reader *r = open_mem(csv);
  csvreg_status st = csvreg_model_spec_new(s, m, csvreg_reader_column_names(r),
                                           csvreg_reader_ncolumns(r), flags, err);
  csvreg_reader_free(r);
  return st;
}

/* model_small.json: y ~ x1 + x2. */
static void test_bind_by_name(void **state) {
  (void)state;
  csvreg_model *m = load("model_small.json");
  csvreg_spec *s = NULL;
  csvreg_error err;
  /* Any order, other columns ignored; without the target: terms' inputs only. */
  assert_int_equal(bind(m, "z,x2,y,x1\n", 0, &s, &err), CSVREG_OK);
  assert_int_equal(csvreg_spec_nterms(s), 2);
  assert_int_equal(csvreg_spec_ninputs(s), 2);
  assert_null(csvreg_spec_target_name(s));
  assert_string_equal(csvreg_spec_input_name(s, 0), "x1");
  assert_string_equal(csvreg_spec_term_name(s, 1), "x2");
  assert_int_equal(csvreg_spec_input_column(s, 0), 3);
  assert_int_equal(csvreg_spec_input_column(s, 1), 1);
  csvreg_spec_free(s);
  /* With the target: inputs, then the target, as csvreg_spec_new orders them. */
  assert_int_equal(bind(m, "z,x2,y,x1\n", CSVREG_MODEL_BIND_TARGET, &s, &err), CSVREG_OK);
  assert_int_equal(csvreg_spec_ninputs(s), 3);
  assert_string_equal(csvreg_spec_target_name(s), "y");
  assert_int_equal(csvreg_spec_input_column(s, 2), 2);
  csvreg_spec_free(s);
  /* The target may be absent when predicting, not when scoring. */
  assert_int_equal(bind(m, "x1,x2\n", 0, &s, &err), CSVREG_OK);
  csvreg_spec_free(s);
  assert_int_equal(bind(m, "x1,x2\n", CSVREG_MODEL_BIND_TARGET, &s, &err), CSVREG_E_COLUMN);
  assert_null(s);
  assert_string_equal(err.message, "no target column named 'y' in the header");
  assert_int_equal(bind(m, "x2,y\n", 0, &s, &err), CSVREG_E_COLUMN);
  assert_string_equal(err.message, "no feature column named 'x1' in the header");
  assert_int_equal(bind(m, "x1,x2,x1\n", 0, &s, &err), CSVREG_E_COLUMN);
  assert_string_equal(err.message,
                      "model feature column 'x1' is ambiguous: columns 1 and 3 share the name");
  csvreg_model_free(m);
}

static void predict_rows(const csvreg_model *m, const char *csv, double *yhat, size_t *n) {
  csvreg_spec *s = NULL;
  assert_int_equal(bind(m, csv, 0, &s, NULL), CSVREG_OK);
  csvreg_reader *r = open_mem(csv);
  csvreg_chunk *c = NULL;
  assert_int_equal(csvreg_chunk_new(&c, s, 0, NULL), CSVREG_OK);
  assert_int_equal(csvreg_chunk_fill(c, r, NULL), CSVREG_END);
  const double *x, *y, *w;
  size_t ld;
  csvreg_chunk_design(c, &x, &ld, &y, &w);
  assert_null(y);
  *n = csvreg_chunk_rows(c);
  assert_int_equal(
      csvreg_model_predict(m, *n, x, ld, CSVREG_INTERVAL_NONE, 0.95, yhat, NULL, NULL, NULL),
      CSVREG_OK);
  csvreg_chunk_free(c);
  csvreg_reader_free(r);
  csvreg_spec_free(s);
}

/* A version-1 file loads; saved again it is version 2 with a "spec", which
 * loads to the same predictions; a v2 spec must agree with the state. */
static void test_v1_to_v2(void **state) {
  (void)state;
  csvreg_model *m1 = load("model_small.json");
  char *text = NULL;
  assert_int_equal(csvreg_model_save(m1, &text, NULL), CSVREG_OK);
  assert_non_null(strstr(text, "\"version\": 2"));
  assert_non_null(strstr(text, "\"spec\""));
  assert_non_null(strstr(text, "\"role\": \"target\""));
  csvreg_model *m2 = NULL;
  assert_int_equal(csvreg_model_load(&m2, text, strlen(text), NULL), CSVREG_OK);
  const char *csv = "x2,x1\n0.5,1\n1.5,2\n-3,1e3\n";
  double a[8], b[8];
  size_t na, nb;
  predict_rows(m1, csv, a, &na);
  predict_rows(m2, csv, b, &nb);
  assert_int_equal(na, 3);
  assert_int_equal(nb, 3);
  assert_memory_equal(a, b, sizeof a[0] * 3);
  const csvreg_model_options *mo = csvreg_model_get_options(m2);
  assert_int_equal(mo->delimiter, ',');
  assert_int_equal(mo->header, 1);
  assert_null(mo->na);
  assert_null(mo->weights);
  /* A term reading another input than its name needs a later version (the
   * checksum recomputed, as an editor that knows the format would). */
  json_t *o = json_loads(text, 0, NULL);
  json_t *terms = json_object_get(json_object_get(o, "spec"), "terms");
  json_array_set_new(json_object_get(json_array_get(terms, 0), "inputs"), 0, json_string("x2"));
  char sum[32];
  assert_int_equal(csvreg__state_checksum(o, sum, NULL), CSVREG_OK);
  json_object_set_new(o, "checksum", json_string(sum));
  char *edited = json_dumps(o, 0);
  json_decref(o);
  csvreg_model *m3 = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_model_load(&m3, edited, strlen(edited), &err), CSVREG_E_FORMAT);
  assert_null(m3);
  assert_string_equal(
      err.message, "model term 'x1' is not one input column of its name: it needs a newer csvreg");
  free(edited);
  free(text);
  csvreg_model_free(m1);
  csvreg_model_free(m2);
}

/* csvreg_chunk_on_bad: the lines of the rows skip_bad drops, in order. */
static void count_bad(void *ctx, const csvreg_bad_row *b) {
  uint64_t *lines = ctx;
  lines[lines[0] < 8 ? ++lines[0] : 0] = b->line;
}

/* Predict mode: every record in order, its status and text. */
static void test_chunk_keep_rows(void **state) {
  (void)state;
  csvreg_model *m = load("model_small.json");
  const char *csv = "x2,name,x1\n"
                    "0.5,\"Smith, J.\",1\n"
                    "NA,\"say \"\"hi\"\"\",2\n"
                    "oops,plain,3\n"
                    "1,x,2,extra\n"
                    "2.5,\"two\nlines\",4\n";
  csvreg_spec *s = NULL;
  assert_int_equal(bind(m, csv, CSVREG_MODEL_BIND_SKIP_BAD, &s, NULL), CSVREG_OK);
  csvreg_chunk_options o;
  csvreg_chunk_options_init(&o);
  o.rows = 3;
  o.keep_rows = 1;
  o.keep_text = 1;
  csvreg_chunk *c = NULL;
  assert_int_equal(csvreg_chunk_new_with(&c, s, &o, NULL), CSVREG_OK);
  uint64_t bad_lines[9] = {0};
  csvreg_chunk_on_bad(c, count_bad, bad_lines);
  csvreg_reader *r = open_mem(csv);
  const unsigned char want_status[5] = {CSVREG_ROW_OK, CSVREG_ROW_MISSING, CSVREG_ROW_BAD,
                                        CSVREG_ROW_BAD, CSVREG_ROW_OK};
  const char *want_text[5] = {"0.5,\"Smith, J.\",1", "NA,\"say \"\"hi\"\"\",2", "oops,plain,3",
                              "1,x,2,extra", "2.5,\"two\nlines\",4"};
  const double want_x1[2] = {1, 4};
  size_t seen = 0, ok = 0;
  csvreg_status st;
  do {
    st = csvreg_chunk_fill(c, r, NULL);
    assert_false(csvreg_is_error(st));
    size_t nrec = csvreg_chunk_nrecords(c);
    assert_true(nrec <= 3);
    const unsigned char *status = csvreg_chunk_row_status(c);
    const char *text;
    const size_t *ends;
    csvreg_chunk_text(c, &text, &ends);
    const double *x, *y, *w;
    size_t ld, k = 0;
    csvreg_chunk_design(c, &x, &ld, &y, &w);
    for (size_t i = 0; i < nrec; i++, seen++) {
      assert_int_equal(status[i], want_status[seen]);
      size_t from = i ? ends[i - 1] : 0;
      assert_int_equal(ends[i] - from, strlen(want_text[seen]));
      assert_memory_equal(text + from, want_text[seen], ends[i] - from);
      if (status[i] == CSVREG_ROW_OK)
        assert_true(x[k++] == want_x1[ok++]);
    }
    assert_int_equal(k, csvreg_chunk_rows(c));
  } while (st != CSVREG_END);
  assert_int_equal(seen, 5);
  assert_int_equal(bad_lines[0], 2); /* "oops" and the extra field */
  assert_int_equal(bad_lines[1], 4);
  assert_int_equal(bad_lines[2], 5);
  csvreg_chunk_free(c);
  csvreg_reader_free(r);
  /* na_error: the first missing cell is an error naming line and column. */
  o.keep_text = 0;
  o.na_error = 1;
  assert_int_equal(csvreg_chunk_new_with(&c, s, &o, NULL), CSVREG_OK);
  r = open_mem(csv);
  csvreg_error err;
  assert_int_equal(csvreg_chunk_fill(c, r, &err), CSVREG_E_VALUE);
  assert_string_equal(err.message, "missing value in a feature column");
  assert_int_equal(err.line, 3);
  assert_int_equal(err.column, 1);
  assert_string_equal(err.column_name, "x2");
  csvreg_chunk_free(c);
  csvreg_reader_free(r);
  csvreg_spec_free(s);
  csvreg_model_free(m);
}

/* Eval mode: rows of weight 0 are counted, not kept; the chunk fills up to
 * its capacity with the others. */
static void test_chunk_drop_zero_weight(void **state) {
  (void)state;
  const char *csv = "y,x,w\n1,1,1\n2,2,0\n3,3,2\n4,4,0\n5,5,1\n";
  csvreg_reader *r = open_mem(csv);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.target = "y";
  so.weights = "w";
  csvreg_spec *s = NULL;
  assert_int_equal(
      csvreg_spec_new(&s, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), &so, NULL),
      CSVREG_OK);
  csvreg_chunk_options o;
  csvreg_chunk_options_init(&o);
  o.rows = 2;
  o.drop_zero_weight = 1;
  csvreg_chunk *c = NULL;
  assert_int_equal(csvreg_chunk_new_with(&c, s, &o, NULL), CSVREG_OK);
  assert_int_equal(csvreg_chunk_fill(c, r, NULL), CSVREG_OK);
  assert_int_equal(csvreg_chunk_rows(c), 2);
  assert_int_equal(csvreg_chunk_counts(c)->zero_weight, 1);
  const double *x, *y, *w;
  size_t ld;
  csvreg_chunk_design(c, &x, &ld, &y, &w);
  assert_true(y[0] == 1 && y[1] == 3 && w[1] == 2);
  assert_int_equal(csvreg_chunk_fill(c, r, NULL), CSVREG_END);
  assert_int_equal(csvreg_chunk_rows(c), 1);
  assert_int_equal(csvreg_chunk_counts(c)->zero_weight, 1);
  csvreg_chunk_free(c);
  csvreg_spec_free(s);
  csvreg_reader_free(r);
}

static void test_csv_append(void **state) {
  (void)state;
  const csvreg_field f[4] = {{"a", 1}, {"b,c", 3}, {"say \"hi\"", 8}, {"x\ny", 3}};
  char *buf = NULL;
  size_t len = 0, cap = 0;
  assert_int_equal(csvreg_csv_append(&buf, &len, &cap, f, 4, ',', NULL), CSVREG_OK);
  const char *want = "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"";
  assert_int_equal(len, strlen(want));
  assert_memory_equal(buf, want, len);
  assert_int_equal(csvreg_csv_append(&buf, &len, &cap, f, 2, ';', NULL), CSVREG_OK);
  assert_memory_equal(buf + strlen(want), "a;b,c", 5);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bind_by_name),    cmocka_unit_test(test_v1_to_v2),
      cmocka_unit_test(test_chunk_keep_rows), cmocka_unit_test(test_chunk_drop_zero_weight),
      cmocka_unit_test(test_csv_append),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
