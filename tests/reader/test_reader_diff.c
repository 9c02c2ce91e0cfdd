/*
 * test_reader_diff.c - the differential test of the reader: random inputs
 * over the bytes that matter to CSV (a 1 , " CR LF space NUL, sometimes a
 * BOM), and records of RFC 4180 quoted fields with near misses, parsed
 * through the fast path and through libcsv alone, each with its own random
 * read size, must give the same records (fields, count, line, number) and
 * the same final status, line and record.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"
#include "reader_dump.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void) { /* xorshift64*: fixed seed, reproducible */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Du;
}

/* Half the inputs; the other half come from random_quoted_input. */
static size_t random_input(unsigned char *buf, size_t max) {
  static const unsigned char alphabet[] = {'a', '1', ',', '"', '\r', '\n', ' ', '\0'};
  /* skewed weights: mostly plain text, so the fast path gets long runs */
  static const unsigned weights[] = {30, 20, 15, 6, 4, 12, 6, 2};
  size_t len = (size_t)(rng() % (max + 1)), i = 0;
  if (rng() % 8 == 0 && len >= 3) {
    memcpy(buf, "\xEF\xBB\xBF", 3);
    i = 3;
  }
  int quoteless = rng() % 3 == 0; /* inputs the fast path takes whole */
  for (; i < len; i++) {
    unsigned total = 0, pick;
    for (size_t k = 0; k < 8; k++)
      total += quoteless && k == 3 ? 0 : weights[k];
    pick = (unsigned)(rng() % total);
    size_t k = 0;
    for (;; k++) {
      unsigned w = quoteless && k == 3 ? 0 : weights[k];
      if (pick < w)
        break;
      pick -= w;
    }
    buf[i] = alphabet[k];
  }
  return len;
}

/* Records of plain and RFC 4180 quoted fields (with delimiters, doubled
 * quotes, sometimes LF or CR inside), LF or CRLF line ends, and now and then
 * one malformed byte (a stray quote, text after a closing quote, a lost
 * closing quote): the shapes the fast path splits itself and their near
 * misses, which must go to libcsv. */
static size_t random_quoted_input(unsigned char *buf, size_t max) {
  static const char plain[] = {'a', '1', ' ', '.', 'e', '-'};
  static const char inner[] = {'a', ',', ' ', '1', '"', '"', '"', ',', '\n', '\r'};
  size_t len = (size_t)(rng() % (max + 1)), i = 0;
  int crlf = rng() % 2 == 0;
  while (i + 8 < len) {
    size_t nf = 1 + rng() % 5;
    for (size_t f = 0; f < nf && i + 8 < len; f++) {
      if (f)
        buf[i++] = ',';
      size_t flen = rng() % 6;
      if (rng() % 2 == 0) {
        buf[i++] = '"';
        for (size_t k = 0; k < flen && i + 8 < len; k++) {
          /* LF and CR inside are rare: they keep the line off the fast path */
          size_t kinds = rng() % 16 == 0 ? 10 : 8;
          char c = inner[rng() % kinds];
          buf[i++] = (unsigned char)c;
          if (c == '"')
            buf[i++] = '"';
        }
        if (rng() % 40 != 0)
          buf[i++] = '"';
      } else {
        for (size_t k = 0; k < flen && i + 8 < len; k++)
          buf[i++] = (unsigned char)plain[rng() % sizeof plain];
      }
      if (rng() % 40 == 0) /* a stray quote or byte after the field */
        buf[i++] = rng() % 2 ? '"' : 'x';
    }
    if (crlf || rng() % 30 == 0)
      buf[i++] = '\r';
    if (rng() % 30 != 0)
      buf[i++] = '\n';
  }
  return i;
}

static size_t random_buffer(void) {
  uint64_t x = rng() % 100;
  return x == 0 ? 0 : x < 90 ? (size_t)(1 + rng() % 64) : (size_t)(65 + rng() % 4096);
}

static void test_differential(void **state) {
  (void)state;
  unsigned char buf[600];
  size_t fast_records = 0, errors = 0, quoted_records = 0;
  for (int iter = 0; iter < 40000; iter++) {
    size_t max = iter % 10 == 0 ? sizeof buf - 8 : 80;
    size_t len = iter % 2 ? random_quoted_input(buf, max) : random_input(buf, max);
    csvreg_reader_options a, b;
    csvreg_reader_options_init(&a);
    a.header = (int)(rng() % 2);
    a.max_record_bytes = rng() % 4 == 0 ? (size_t)(1 + rng() % 24) : 0;
    b = a;
    a.buffer_bytes = random_buffer();
    b.buffer_bytes = random_buffer();
    b.force_libcsv = 1;
    char *fast = dump_parse(buf, len, &a, 1);
    char *slow = dump_parse(buf, len, &b, 1);
    if (strcmp(fast, slow) != 0) {
      print_error("iteration %d, buffers %zu/%zu, header %d, max %zu, input:\n", iter,
                  a.buffer_bytes, b.buffer_bytes, a.header, a.max_record_bytes);
      for (size_t i = 0; i < len; i++)
        print_error("\\x%02x", buf[i]);
      print_error("\n--- fast\n%s--- libcsv\n%s", fast, slow);
      free(fast);
      free(slow);
      fail();
    }
    fast_records += strchr(fast, '\n') ? 1 : 0;
    /* records with an unescaped "" (a well-formed quoted field) */
    for (const char *l = fast; iter % 2 && (l = strstr(l, "\nL")) != NULL; l++)
      quoted_records += strcspn(l + 1, "\"\n") < strcspn(l + 1, "\n");
    errors += strstr(fast, "ERR ") != NULL;
    free(fast);
    free(slow);
  }
  /* the generator must reach both outcomes often */
  assert_true(errors > 1000);
  assert_true(fast_records > 10000);
  print_message("%zu records with quoted fields holding a quote\n", quoted_records);
  assert_true(quoted_records > 10000);
}

/* Replays the fuzz corpus and every input the fuzzer ever crashed on
 * (tests/reader/crashes/), with fuzz/fuzz_reader.c's option bytes. */
static size_t replay_dir(const char *dir) {
  DIR *d = opendir(dir);
  size_t files = 0;
  if (!d)
    return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char data[1 << 16];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    if (len < 3)
      continue;
    csvreg_reader_options a, b;
    csvreg_reader_options_init(&a);
    a.header = data[2] & 1;
    a.max_record_bytes = (data[2] & 2) ? (size_t)(data[2] >> 2) + 1 : 0;
    b = a;
    a.buffer_bytes = data[0] == 255 ? 0 : (size_t)(data[0] % 64) + 1;
    b.buffer_bytes = data[1] == 255 ? 0 : (size_t)(data[1] % 64) + 1;
    b.force_libcsv = 1;
    char *fast = dump_parse(data + 3, len - 3, &a, 1);
    char *slow = dump_parse(data + 3, len - 3, &b, 1);
    if (strcmp(fast, slow) != 0)
      print_error("%s\n--- fast\n%s--- libcsv\n%s", path, fast, slow);
    assert_string_equal(fast, slow);
    free(fast);
    free(slow);
    files++;
  }
  closedir(d);
  return files;
}

static void test_fuzz_inputs(void **state) {
  (void)state;
  assert_true(replay_dir(CSVREG_SOURCE_DIR "/fuzz/corpus/fuzz_reader") >= 4);
  replay_dir(CSVREG_SOURCE_DIR "/tests/reader/crashes");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_differential),
                                     cmocka_unit_test(test_fuzz_inputs)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
