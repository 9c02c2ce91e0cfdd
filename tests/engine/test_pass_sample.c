/*
 * test_pass_sample.c - the text sample of csvreg_pass_open (pass.c,
 * sample_text; issue 14): the first sample_text data records decide which
 * columns hold text, and the input is read no further than it takes to hold
 * them (the clean 2M x 10 file read 512 KiB ahead, page faults before any
 * thread started, for 512 records in its first 64 KiB). The decision is the
 * one made over exactly the first sample_text records: a column that turns
 * to text only inside them is text, one that turns to text after them is
 * not, whether the records are short (all in the first read), long (read in
 * several steps) or hold quoted line breaks (more lines than records).
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */

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
#include "pass_internal.h"

#define SAMPLE 512

/* Columns y, a, t, u, pad: t is text in data records [t_from, t_to)
 * (1-based) and a number elsewhere; u is text from record SAMPLE + 1 on
 * (never sampled); pad is `pad` bytes of digits, or a quoted field with two
 * line breaks when `quoted`. */
static void write_file(const char *path, size_t n, size_t t_from, size_t t_to, size_t pad,
                       int quoted) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("y,a,t,u,pad\n", f);
  for (size_t i = 1; i <= n; i++) {
    fprintf(f, "%zu.5,%zu,", i % 17, i % 5);
    if (i >= t_from && i < t_to)
      fprintf(f, "w%zu,", i % 3);
    else
      fprintf(f, "%zu,", i % 7);
    if (i > SAMPLE)
      fputs("text,", f);
    else
      fprintf(f, "%zu,", i % 11);
    if (quoted)
      fputs("\"1\n2\n3\"", f);
    else
      for (size_t k = 0; k < pad; k++)
        fputc('0' + (int)((i + k) % 10), f);
    fputc('\n', f);
  }
  assert_int_equal(fclose(f), 0);
}

/* The text flags of the five columns and the bytes read before the data. */
static void sample(const char *path, unsigned char text[5], uint64_t *sniffed) {
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = path;
  po.sample_text = SAMPLE;
  csvreg_pass *p = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_pass_open(&p, &po, &err), CSVREG_OK);
  assert_int_equal(csvreg_pass_ncolumns(p), 5);
  memcpy(text, csvreg_pass_text_columns(p), 5);
  *sniffed = csvreg__pass_sniffed(p);
  csvreg_pass_free(p);
}

/* Writes the file (write_file's arguments), samples it and checks the
 * text flags against `want` and the bytes read before the data against
 * [lo, hi] (hi 0: the file's size, all of it). */
static void check(size_t n, size_t t_from, size_t t_to, size_t pad, int quoted,
                  const unsigned char want[5], uint64_t lo, uint64_t hi) {
  char path[] = "/tmp/csvreg_sampleXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  write_file(path, n, t_from, t_to, pad, quoted);
  if (!hi) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    lo = hi = (uint64_t)ftell(f);
    fclose(f);
  }
  unsigned char text[5];
  uint64_t sniffed = 0;
  sample(path, text, &sniffed);
  remove(path);
  assert_memory_equal(text, want, 5);
  assert_true(sniffed >= lo);
  assert_true(sniffed <= hi);
}

/* Short records: the 512 are in the first 64 KiB read, nothing more is read
 * (the file is ~80 KiB; before, all of it). t is text in records 200-511
 * (312 of 512 cells: text), u only after the sample (a number). */
static void test_short_records(void **state) {
  (void)state;
  const unsigned char want[5] = {0, 0, 1, 0, 0};
  check(3000, 200, SAMPLE, 10, 0, want, 0, (uint64_t)64 << 10);
}

/* t turns to text at record 300 and stays text: 213 text cells of 512
 * against 299 numbers, so it is a number column, which a sample of more
 * than 512 records (the next 100 records are text) would call text. */
static void test_exactly_the_sample(void **state) {
  (void)state;
  const unsigned char want[5] = {0, 0, 0, 0, 0};
  check(3000, 300, 3000, 10, 0, want, 0, (uint64_t)64 << 10);
}

/* Records of ~300 bytes: 512 of them need ~150 KiB, read in steps; t is
 * text in records 200-511 (text), u after them (a number). The read stops
 * short of the 512 KiB it took before. */
static void test_long_records(void **state) {
  (void)state;
  const unsigned char want[5] = {0, 0, 1, 0, 0};
  check(3000, 200, SAMPLE, 290, 0, want, (uint64_t)128 << 10, (uint64_t)256 << 10);
}

/* Quoted line breaks: three lines a record, so the first 512 lines hold
 * only ~170 records; the sample still takes 512 records (t: text in
 * 200-511; pad is text in every record). */
static void test_quoted_lines(void **state) {
  (void)state;
  const unsigned char want[5] = {0, 0, 1, 0, 1};
  check(6000, 200, SAMPLE, 0, 1, want, 0, (uint64_t)64 << 10);
}

/* A file shorter than the sample: all of it, to its end. */
static void test_short_file(void **state) {
  (void)state;
  const unsigned char want[5] = {0, 0, 1, 0, 0};
  check(100, 20, 80, 10, 0, want, 0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_short_records),  cmocka_unit_test(test_exactly_the_sample),
      cmocka_unit_test(test_long_records),   cmocka_unit_test(test_quoted_lines),
      cmocka_unit_test(test_short_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
