/*
 * test_stateset.c - state sets through the public API: the merged state is
 * the same bits whatever order the shards arrive in; a lost or duplicated
 * shard fails the coverage checks; a bad line is reported with its source
 * and line; a line longer than the cap fails without the rest being read;
 * lines come from an fd with blank lines and `key<TAB>` prefixes; and a
 * subtraction rewrites the provenance.
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
#include "state.h" /* csvreg__stateset_set_keep */

#define N 600
#define P 3
#define SHARDS 5
#define FILE_BYTES 6000 /* shard k covers bytes [1200 k, 1200 (k + 1)) */

/* One shard's state line (malloc'd): rows [N k / SHARDS, N (k+1) / SHARDS)
 * of a fixed design, with a byte range and input options in its meta. */
static char *shard_line(csvreg_solver solver, size_t k, const char *options) {
  const char *names[P] = {"a", "b", "c"};
  csvreg_accum *a = NULL;
  assert_int_equal(csvreg_accum_new(&a, solver, P, 1, names, "y", NULL), CSVREG_OK);
  uint64_t s = 99;
  for (size_t i = 0; i < N; i++) {
    double row[P], y = 1;
    for (size_t j = 0; j < P; j++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      row[j] = 1e3 + (double)(s >> 11) * 0x1.0p-53 * (double)(j + 1);
      y += (double)(j + 1) * row[j];
    }
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    y += (double)(s >> 11) * 0x1.0p-53;
    if (i * SHARDS / N == k)
      assert_int_equal(csvreg_accum_add_rows(a, 1, row, 1, &y, NULL, NULL), CSVREG_OK);
  }
  uint64_t lo = (uint64_t)k * FILE_BYTES / SHARDS, hi = (uint64_t)(k + 1) * FILE_BYTES / SHARDS;
  char meta[512];
  snprintf(meta, sizeof meta,
           "{\"source\":\"d.csv\",\"range\":[%llu,%llu],\"file_size\":%d,\"bytes\":%llu,"
           "\"options\":%s}",
           (unsigned long long)lo, (unsigned long long)hi, FILE_BYTES,
           (unsigned long long)(hi - lo),
           options ? options
                   : "{\"delimiter\":\";\",\"header\":true,\"na\":\"NA\","
                     "\"weights\":null}");
  char *text = NULL;
  assert_int_equal(csvreg_accum_save(a, meta, &text, NULL), CSVREG_OK);
  csvreg_accum_free(a);
  return text;
}

static csvreg_stateset *set_of(char **lines, const size_t *order, size_t n) {
  csvreg_stateset *s = NULL;
  assert_int_equal(csvreg_stateset_new(&s, NULL), CSVREG_OK);
  for (size_t i = 0; i < n; i++) {
    char src[32];
    snprintf(src, sizeof src, "s%zu", order[i]);
    assert_int_equal(
        csvreg_stateset_add_text(s, lines[order[i]], strlen(lines[order[i]]), src, 1, NULL),
        CSVREG_OK);
  }
  return s;
}

/* The merged state and its meta as one line (malloc'd). */
static char *merged_line(csvreg_stateset *s, const csvreg_stateset_checks *chk) {
  csvreg_accum *acc = NULL;
  char *meta = NULL, *text = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_merge(s, chk, &acc, &meta, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_save(acc, meta, &text, NULL), CSVREG_OK);
  csvreg_accum_free(acc);
  free(meta);
  return text;
}

static void order_independent(csvreg_solver solver) {
  char *lines[SHARDS];
  for (size_t k = 0; k < SHARDS; k++)
    lines[k] = shard_line(solver, k, NULL);
  static const size_t orders[][SHARDS] = {
      {0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}, {1, 3, 0, 4, 2}};
  const csvreg_stateset_checks chk = {1, N, 1, FILE_BYTES, 0, 0, 0};
  char *first = NULL;
  for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
    csvreg_stateset *s = set_of(lines, orders[o], SHARDS);
    assert_int_equal(csvreg_stateset_count(s), SHARDS);
    char *text = merged_line(s, &chk);
    if (!first)
      first = text;
    else {
      assert_string_equal(first, text);
      free(text);
    }
    csvreg_stateset_free(s);
  }
  assert_non_null(strstr(first, "\"ranges\":[[0,6000]]"));
  assert_non_null(strstr(first, "\"merged\":5"));
  assert_non_null(strstr(first, "\"records\":600"));
  free(first);
  for (size_t k = 0; k < SHARDS; k++)
    free(lines[k]);
}

static void test_order_qr(void **state) {
  (void)state;
  order_independent(CSVREG_SOLVER_QR);
}

static void test_order_normal(void **state) {
  (void)state;
  order_independent(CSVREG_SOLVER_NORMAL);
}

/* merge's status and message for the shards in `order`. */
static csvreg_status try_merge(char **lines, const size_t *order, size_t n,
                               const csvreg_stateset_checks *chk, csvreg_error *err) {
  csvreg_stateset *s = set_of(lines, order, n);
  csvreg_accum *acc = NULL;
  char *meta = NULL;
  csvreg_error_clear(err);
  csvreg_status st = csvreg_stateset_merge(s, chk, &acc, &meta, err);
  if (st) {
    assert_null(acc);
    assert_null(meta);
  }
  csvreg_accum_free(acc);
  free(meta);
  csvreg_stateset_free(s);
  return st;
}

static void test_coverage(void **state) {
  (void)state;
  char *lines[SHARDS];
  for (size_t k = 0; k < SHARDS; k++)
    lines[k] = shard_line(CSVREG_SOLVER_QR, k, NULL);
  const csvreg_stateset_checks bytes = {0, 0, 1, FILE_BYTES, 0, 0, 0}, rows = {1, N, 0, 0, 0, 0, 0};
  csvreg_error err;
  static const size_t missing_mid[] = {0, 1, 3, 4}, missing_end[] = {0, 1, 2, 3},
                      dup[] = {0, 1, 2, 2, 3, 4};

  assert_int_equal(try_merge(lines, missing_mid, 4, &bytes, &err), CSVREG_E_VALUE);
  assert_string_equal(
      err.message, "--expect-bytes 6000: bytes 2400 to 3600 are in no state: a shard is missing");
  assert_int_equal(try_merge(lines, missing_end, 4, &bytes, &err), CSVREG_E_VALUE);
  assert_non_null(strstr(err.message, "cover bytes 0 to 4800: a shard is missing"));
  assert_int_equal(try_merge(lines, dup, 6, &bytes, &err), CSVREG_E_VALUE);
  assert_non_null(strstr(err.message, "are in two states (s2:1 and another): a shard is "
                                      "duplicated"));

  assert_int_equal(try_merge(lines, missing_mid, 4, &rows, &err), CSVREG_E_VALUE);
  assert_string_equal(err.message, "--expect-records 600: the states hold 480 records (480 used "
                                   "in the fit): a shard is missing");
  assert_int_equal(try_merge(lines, dup, 6, &rows, &err), CSVREG_E_VALUE);
  assert_non_null(
      strstr(err.message, "hold 720 records (720 used in the fit): a shard is duplicated"));

  /* A file of another size: the shard says so, with its source and line. */
  const csvreg_stateset_checks other = {0, 0, 1, 7000, 0, 0, 0};
  static const size_t all[] = {0, 1, 2, 3, 4};
  assert_int_equal(try_merge(lines, all, SHARDS, &other, &err), CSVREG_E_VALUE);
  assert_string_equal(err.source, "s0");
  assert_int_equal(err.line, 1);
  assert_non_null(strstr(err.message, "cut from a file of 6000 bytes"));

  /* Without checks a partial set merges. */
  assert_int_equal(try_merge(lines, missing_mid, 4, NULL, &err), CSVREG_OK);
  for (size_t k = 0; k < SHARDS; k++)
    free(lines[k]);
}

static void test_bad_lines(void **state) {
  (void)state;
  csvreg_stateset *s = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  const char *junk = "{\"format\": \"csvreg-state\", \"vers";
  assert_int_equal(csvreg_stateset_add_text(s, junk, strlen(junk), "f.txt", 7, &err),
                   CSVREG_E_FORMAT);
  assert_string_equal(err.source, "f.txt");
  assert_int_equal(err.line, 7);
  assert_non_null(strstr(err.message, "JSON error"));
  assert_non_null(strstr(err.message, "each writer must write whole lines"));

  /* One byte edited: the checksum catches it. */
  char *line = shard_line(CSVREG_SOLVER_QR, 0, NULL);
  char *p = strstr(line, "\"records\":");
  p[strlen("\"records\":")] = p[strlen("\"records\":")] == '1' ? '2' : '1';
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_add_text(s, line, strlen(line), "g.txt", 3, &err),
                   CSVREG_E_FORMAT);
  assert_int_equal(err.line, 3);
  assert_non_null(strstr(err.message, "checksum mismatch"));
  assert_int_equal(csvreg_stateset_count(s), 0);
  free(line);

  /* Blank lines add nothing; nothing to merge is an error. */
  assert_int_equal(csvreg_stateset_add_text(s, " \t\r\n", 4, "g.txt", 4, &err), CSVREG_OK);
  csvreg_accum *acc = NULL;
  assert_int_equal(csvreg_stateset_merge(s, NULL, &acc, NULL, &err), CSVREG_E_FORMAT);
  assert_string_equal(err.message, "no state to merge (empty input)");

  /* States that do not belong together name both. */
  char *a = shard_line(CSVREG_SOLVER_QR, 0, NULL), *b = shard_line(CSVREG_SOLVER_NORMAL, 1, NULL);
  char *c = shard_line(CSVREG_SOLVER_QR, 1, "{\"delimiter\":\",\"}");
  assert_int_equal(csvreg_stateset_add_text(s, a, strlen(a), "a.txt", 1, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_add_text(s, b, strlen(b), "b.txt", 2, &err), CSVREG_OK);
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_merge(s, NULL, &acc, NULL, &err), CSVREG_E_FORMAT);
  assert_string_equal(err.source, "b.txt");
  assert_int_equal(err.line, 2);
  assert_string_equal(err.message,
                      "cannot merge: \"solver\" is \"normal\" here but \"qr\" in a.txt:1");
  csvreg_stateset_free(s);
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_add_text(s, a, strlen(a), "a.txt", 1, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_add_text(s, c, strlen(c), "c.txt", 5, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_merge(s, NULL, &acc, NULL, &err), CSVREG_E_FORMAT);
  assert_int_equal(err.line, 5);
  assert_non_null(strstr(err.message, "cannot merge: input options {\"delimiter\":\",\"}"));
  csvreg_stateset_free(s);
  free(a);
  free(b);
  free(c);
  csvreg_stateset_free(NULL);
}

/* A temporary file holding `text` (len bytes), open for reading at 0. */
static FILE *temp_with(const char *text, size_t len) {
  FILE *f = tmpfile();
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, len, f), len);
  assert_int_equal(fflush(f), 0);
  rewind(f);
  return f;
}

static void test_read_fd(void **state) {
  (void)state;
  char *a = shard_line(CSVREG_SOLVER_NORMAL, 0, NULL),
       *b = shard_line(CSVREG_SOLVER_NORMAL, 1, NULL);
  size_t la = strlen(a), lb = strlen(b);
  /* line 1 blank, 2 a state, 3 key<TAB>state with CRLF, 4 blank, 5 junk */
  size_t cap = la + lb + 64, len = 0;
  char *text = malloc(cap);
  len += (size_t)snprintf(text + len, cap - len, "\n%s\nk1\t%s\r\n\n{junk", a, b);
  FILE *f = temp_with(text, len);
  csvreg_stateset *s = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_read_fd(s, fileno(f), "<stdin>", &err), CSVREG_E_FORMAT);
  assert_string_equal(err.source, "<stdin>");
  assert_int_equal(err.line, 5);
  assert_int_equal(csvreg_stateset_count(s), 2);
  fclose(f);

  /* The last line needs no line feed. */
  f = temp_with(text, len - strlen("\n{junk"));
  csvreg_stateset_free(s);
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_read_fd(s, fileno(f), "x", &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_count(s), 2);
  fclose(f);

  /* Merged model options come from the states' meta. */
  csvreg_accum *acc = NULL;
  assert_int_equal(csvreg_stateset_merge(s, NULL, &acc, NULL, &err), CSVREG_OK);
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  csvreg_stateset_model_options(s, &mo);
  assert_int_equal(mo.delimiter, ';');
  assert_int_equal(mo.header, 1);
  assert_string_equal(mo.na, "NA");
  assert_null(mo.weights);
  csvreg_accum_free(acc);
  csvreg_stateset_free(s);
  free(text);
  free(a);
  free(b);
}

static void test_line_cap(void **state) {
  (void)state;
  char *a = shard_line(CSVREG_SOLVER_QR, 0, NULL);
  size_t la = strlen(a);
  csvreg_stateset *s = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  /* A line exactly at the cap is read; one byte more is not. */
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  csvreg_stateset_set_max_line(s, la);
  assert_int_equal(csvreg_stateset_add_text(s, a, la, "a", 1, &err), CSVREG_OK);
  csvreg_stateset_set_max_line(s, la - 1);
  assert_int_equal(csvreg_stateset_add_text(s, a, la, "a", 2, &err), CSVREG_E_FORMAT);
  assert_int_equal(err.line, 2);
  char want[128];
  snprintf(want, sizeof want, "line is longer than %zu bytes", la - 1);
  assert_non_null(strstr(err.message, want));

  /* From an fd: 8 MiB without a line feed, after one good line, fail at
   * line 2 with the cap at 64 KiB, having read far less than the file. */
  const size_t big = (size_t)8 << 20;
  char *text = malloc(la + 1 + big);
  memcpy(text, a, la);
  text[la] = '\n';
  memset(text + la + 1, 'x', big);
  FILE *f = temp_with(text, la + 1 + big);
  csvreg_stateset_free(s);
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  csvreg_stateset_set_max_line(s, (size_t)64 << 10);
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_read_fd(s, fileno(f), "big", &err), CSVREG_E_FORMAT);
  assert_string_equal(err.source, "big");
  assert_int_equal(err.line, 2);
  assert_int_equal(csvreg_stateset_count(s), 1);
  off_t at = lseek(fileno(f), 0, SEEK_CUR);
  assert_true(at > 0 && (size_t)at < (size_t)1 << 20);
  fclose(f);
  csvreg_stateset_free(s);
  free(text);
  free(a);
  /* The default cap covers the widest state. */
  assert_true(CSVREG_STATE_MAX_LINE >
              (size_t)(CSVREG_MAX_TERMS + 2) * (CSVREG_MAX_TERMS + 3) / 2 * 27);
}

static void test_subtract(void **state) {
  (void)state;
  char *lines[SHARDS];
  for (size_t k = 0; k < SHARDS; k++)
    lines[k] = shard_line(CSVREG_SOLVER_NORMAL, k, NULL);
  static const size_t all[] = {0, 1, 2, 3, 4}, first[] = {0}, rest[] = {1, 2, 3, 4};
  csvreg_stateset *s = set_of(lines, all, SHARDS), *sub = set_of(lines, first, 1);
  csvreg_accum *acc = NULL;
  char *meta = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_merge(s, NULL, &acc, &meta, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_subtract(sub, acc, &meta, &err), CSVREG_OK);
  assert_int_equal(csvreg_accum_counts(acc)->records, N - N / SHARDS);
  assert_null(strstr(meta, "ranges"));
  assert_null(strstr(meta, "bytes"));
  assert_non_null(strstr(meta, "\"records\":480"));
  assert_non_null(strstr(meta, "\"subtracted\":1"));
  /* The window holds the rows of the shards left (its numbers are checked
   * against a refit end to end in tests/shard, t_subtract). */
  csvreg_stateset *r = set_of(lines, rest, 4);
  csvreg_accum *want = NULL;
  assert_int_equal(csvreg_stateset_merge(r, NULL, &want, NULL, &err), CSVREG_OK);
  assert_memory_equal(csvreg_accum_counts(acc), csvreg_accum_counts(want), sizeof(csvreg_counts));
  csvreg_accum_free(want);
  csvreg_stateset_free(r);

  /* Subtracting rows that were never there fails and changes nothing. */
  char *before = NULL, *after = NULL;
  assert_int_equal(csvreg_accum_save(acc, meta, &before, NULL), CSVREG_OK);
  csvreg_stateset_free(sub);
  sub = set_of(lines, all, SHARDS);
  assert_int_equal(csvreg_stateset_subtract(sub, acc, &meta, &err), CSVREG_E_NUMERIC);
  assert_int_equal(csvreg_accum_save(acc, meta, &after, NULL), CSVREG_OK);
  assert_string_equal(before, after);
  free(before);
  free(after);
  free(meta);
  csvreg_accum_free(acc);
  csvreg_stateset_free(s);
  csvreg_stateset_free(sub);
  for (size_t k = 0; k < SHARDS; k++)
    free(lines[k]);
}

/* Issue 17: states read from a file are dropped once checked (keep 0) and
 * read again one at a time when merged: the same bits as held states, in
 * any arrival order, ties (a state twice, --allow-repeat of ranged states
 * is not a thing: the same streamed-less state twice) included; a file
 * changed between the check and the merge is an I/O error. */
static void test_fold_read_again(void **state) {
  (void)state;
  char *lines[SHARDS];
  for (size_t k = 0; k < SHARDS; k++)
    lines[k] = shard_line(CSVREG_SOLVER_QR, k, NULL);
  static const size_t order[SHARDS] = {3, 0, 4, 2, 1};
  csvreg_stateset *held = set_of(lines, order, SHARDS);
  const csvreg_stateset_checks chk = {1, N, 1, FILE_BYTES, 0, 0, 0};
  char *want = merged_line(held, &chk);
  csvreg_stateset_free(held);
  size_t cap = 0;
  for (size_t k = 0; k < SHARDS; k++)
    cap += strlen(lines[k]) + 2;
  char *text = malloc(cap), *p = text;
  for (size_t k = 0; k < SHARDS; k++)
    p += sprintf(p, "%s\n", lines[order[k]]);
  for (size_t keep = 0; keep < 2; keep++) {
    FILE *f = temp_with(text, (size_t)(p - text));
    csvreg_stateset *s = NULL;
    csvreg_error err;
    csvreg_error_clear(&err);
    assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
    /* 0: every state read again; else the first two held */
    csvreg__stateset_set_keep(s, keep ? strlen(lines[0]) * 2 + 4 : 0);
    assert_int_equal(csvreg_stateset_read_fd(s, fileno(f), "f", &err), CSVREG_OK);
    fclose(f); /* the set reads through its own descriptor */
    char *got = merged_line(s, &chk);
    assert_string_equal(want, got);
    free(got);
    csvreg_stateset_free(s);
  }
  /* The same state twice (a tie in provenance and checksum). */
  char *two = malloc(2 * strlen(lines[0]) + 3);
  int n2 = sprintf(two, "%s\n%s\n", lines[0], lines[0]);
  csvreg_stateset *h = NULL, *r = NULL;
  assert_int_equal(csvreg_stateset_new(&h, NULL), CSVREG_OK);
  assert_int_equal(csvreg_stateset_add_text(h, lines[0], strlen(lines[0]), "a", 1, NULL), 0);
  assert_int_equal(csvreg_stateset_add_text(h, lines[0], strlen(lines[0]), "a", 2, NULL), 0);
  char *w2 = merged_line(h, NULL);
  FILE *f = temp_with(two, (size_t)n2);
  assert_int_equal(csvreg_stateset_new(&r, NULL), CSVREG_OK);
  csvreg__stateset_set_keep(r, 0);
  assert_int_equal(csvreg_stateset_read_fd(r, fileno(f), "a", NULL), CSVREG_OK);
  char *g2 = merged_line(r, NULL);
  assert_string_equal(w2, g2);
  csvreg_stateset_free(r);
  /* Changed after the check: the second line edited in place. */
  assert_int_equal(csvreg_stateset_new(&r, NULL), CSVREG_OK);
  csvreg__stateset_set_keep(r, 0);
  rewind(f);
  assert_int_equal(csvreg_stateset_read_fd(r, fileno(f), "a", NULL), CSVREG_OK);
  two[strlen(lines[0]) + 20] ^= 1;
  rewind(f);
  assert_int_equal(fwrite(two, 1, (size_t)n2, f), (size_t)n2);
  assert_int_equal(fflush(f), 0);
  csvreg_accum *acc = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_merge(r, NULL, &acc, NULL, &err), CSVREG_E_IO);
  assert_non_null(strstr(err.message, "the file changed while it was merged"));
  assert_null(acc);
  csvreg_stateset_free(r);
  csvreg_stateset_free(h);
  fclose(f);
  free(w2);
  free(g2);
  free(two);
  free(text);
  free(want);
  for (size_t k = 0; k < SHARDS; k++)
    free(lines[k]);
}

/* Issue 17: a line that cannot be JSON fails in its first block (NUL bytes,
 * as `merge /dev/zero`); once a state of fixed terms is loaded, a later line
 * is bounded by what that many terms need, far below the fixed cap. */
static void test_line_bounds(void **state) {
  (void)state;
  const size_t big = (size_t)24 << 20;
  char *text = calloc(1, big);
  FILE *f = temp_with(text, big);
  csvreg_stateset *s = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  assert_int_equal(csvreg_stateset_read_fd(s, fileno(f), "zero", &err), CSVREG_E_FORMAT);
  assert_int_equal(err.line, 1);
  assert_non_null(strstr(err.message, "a control byte (0x00) at byte 1 of the line"));
  off_t at = lseek(fileno(f), 0, SEEK_CUR);
  assert_true(at > 0 && (size_t)at <= (size_t)1 << 20);
  fclose(f);
  csvreg_stateset_free(s);

  /* A state of 3 terms, then a 24 MiB line: refused at the bound of 3
   * terms (16 MiB and change), naming the first state. */
  char *a = shard_line(CSVREG_SOLVER_QR, 0, NULL);
  size_t la = strlen(a);
  char *t2 = malloc(la + 1 + big);
  memcpy(t2, a, la);
  t2[la] = '\n';
  t2[la + 1] = '{';
  memset(t2 + la + 2, ' ', big - 1);
  f = temp_with(t2, la + 1 + big);
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_read_fd(s, fileno(f), "two", &err), CSVREG_E_FORMAT);
  assert_int_equal(err.line, 2);
  assert_non_null(strstr(err.message, "more than a state of the 3 terms of two:1 takes"));
  at = lseek(fileno(f), 0, SEEK_CUR);
  assert_true((size_t)at < la + 1 + ((size_t)18 << 20));
  fclose(f);
  csvreg_stateset_free(s);
  free(t2);
  free(a);
  free(text);
}

/* The two kinds of line: a meat line is told by its first bytes (after a
 * key<TAB> prefix too) and goes to the meat set, whose errors name the
 * line; an accumulator state is not a meat line. */
static void test_meat_lines(void **state) {
  (void)state;
  char *a = shard_line(CSVREG_SOLVER_QR, 0, NULL);
  static const char meat[] = "k\t{\"format\":\"csvreg-meat\",\"version\":1}";
  assert_int_equal(csvreg_meat_line(a, strlen(a)), 0);
  assert_int_equal(csvreg_meat_line(meat, strlen(meat)), 1);
  csvreg_meatset *m = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_meatset_new(&m, &err), CSVREG_OK);
  assert_int_equal(csvreg_meatset_add_text(m, meat, strlen(meat), "m", 3, &err), CSVREG_E_FORMAT);
  assert_int_equal(err.line, 3);
  /* through the reader of both kinds: the meat line's error, line 2 */
  char *text = malloc(strlen(a) + sizeof meat + 2);
  int n = sprintf(text, "%s\n%s\n", a, meat);
  FILE *f = temp_with(text, (size_t)n);
  csvreg_stateset *s = NULL;
  assert_int_equal(csvreg_stateset_new(&s, &err), CSVREG_OK);
  csvreg_error_clear(&err);
  assert_int_equal(csvreg_stateset_read_any_fd(s, m, fileno(f), "both", &err), CSVREG_E_FORMAT);
  assert_int_equal(err.line, 2);
  assert_non_null(strstr(err.message, "meat state"));
  assert_int_equal(csvreg_stateset_count(s), 1);
  fclose(f);
  csvreg_stateset_free(s);
  csvreg_meatset_free(m);
  free(text);
  free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order_qr),    cmocka_unit_test(test_order_normal),
      cmocka_unit_test(test_coverage),    cmocka_unit_test(test_bad_lines),
      cmocka_unit_test(test_read_fd),     cmocka_unit_test(test_line_cap),
      cmocka_unit_test(test_subtract),    cmocka_unit_test(test_fold_read_again),
      cmocka_unit_test(test_line_bounds), cmocka_unit_test(test_meat_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
