/*
 * fuzz_numparse.c - libFuzzer target: csvreg_parse_double against strtod_l
 * in the C locale on the same bytes. The two must agree on accepting under
 * the grammar documented in csvreg.h (spaces/tabs, sign, digits with an
 * optional '.', optional exponent, spaces/tabs; finite results only) and,
 * when accepted, on every bit of the result. The input is also cut at ','
 * into fields, four at a time, for the AVX2 short path (numparse_avx2.h),
 * which must take exactly the fields numparse_short takes, with the same bits.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"
#include "internal.h"
#include "numparse_avx2.h"

/* The documented grammar; returns 1 when `s` matches it. */
static int grammar_ok(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    i++;
  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++, digits++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++, digits++;
  }
  if (digits == 0)
    return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t e = 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++, e++;
    if (e == 0)
      return 0;
  }
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  return i == n;
}

#if NUMPARSE_X4
static __attribute__((noinline, target("avx2"))) unsigned
x4(const char *const s[4], const size_t len[4], double out[4], int wide) {
  return wide ? numparse_short_x4(s, len, out, 1) : numparse_short_x4(s, len, out, 0);
}

/* Fields of `s` cut at ',' (cycled when fewer than four), each copied into
 * a block of exactly its size so that ASan sees any read past it; then with
 * the input's following bytes after each field, up to the 9 bytes from its
 * start that the wide gather (records with csvreg__reader_slack) may read. */
static void check_x4(const char *s, size_t size) {
  const char *start[4];
  size_t len[4];
  int nf = 0;
  size_t from = 0;
  for (size_t i = 0; i <= size && nf < 4; i++)
    if (i == size || s[i] == ',') {
      start[nf] = s + from;
      len[nf++] = i - from;
      from = i + 1;
    }
  char *copy[4], *wide[4];
  for (int i = 0; i < 4; i++) {
    size_t k = (size_t)(i % nf), wsize = len[k] > 9 ? len[k] : 9;
    len[i] = len[k];
    copy[i] = malloc(len[i] ? len[i] : 1);
    wide[i] = malloc(wsize);
    if (!copy[i] || !wide[i])
      abort();
    memcpy(copy[i], start[k], len[i]);
    for (size_t j = 0; j < wsize; j++) /* the field, then what follows it (or '\n') */
      wide[i][j] = (size_t)(start[k] - s) + j < size ? start[k][j] : '\n';
  }
  for (int w = 0; w < 2; w++) {
    double out[4];
    unsigned ok = x4((const char *const *)(w ? wide : copy), len, out, w);
    for (int i = 0; i < 4; i++) {
      double one;
      int short_ok = numparse_short(copy[i], len[i], &one);
      if (((ok >> i) & 1) != (unsigned)short_ok ||
          (short_ok && memcmp(&one, &out[i], sizeof one) != 0)) {
        fprintf(stderr,
                "fuzz_numparse: x4%s lane %d (%u, %.17g) != short (%d, %.17g) on \"%.*s\"\n",
                w ? " wide" : "", i, (ok >> i) & 1, out[i], short_ok, one, (int)len[i], copy[i]);
        abort();
      }
    }
  }
  for (int i = 0; i < 4; i++) {
    free(copy[i]);
    free(wide[i]);
  }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static locale_t c_locale;
  if (!c_locale)
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (size > 4096)
    return 0;
  const char *s = (const char *)data;
#if NUMPARSE_X4
  if (csvreg__simd_avx2())
    check_x4(s, size);
#endif
  double got = 12345.0;
  csvreg_status st = csvreg_parse_double(s, size, &got);

  int expect_ok = grammar_ok(s, size);
  double want = 0;
  if (expect_ok) {
    char *copy = malloc(size + 1);
    if (!copy)
      abort();
    memcpy(copy, s, size);
    copy[size] = '\0';
    char *end;
    want = strtod_l(copy, &end, c_locale);
    /* strtod stops before trailing spaces; the grammar allows only those */
    if (!isfinite(want))
      expect_ok = 0; /* overflow is rejected */
    free(copy);
  }
  if ((st == CSVREG_OK) != expect_ok) {
    fprintf(stderr,
            "fuzz_numparse: accept mismatch: parse_double %d, grammar+strtod %d on \"%.*s\"\n",
            (int)st, expect_ok, (int)size, s);
    abort();
  }
  if (st != CSVREG_OK && st != CSVREG_E_VALUE)
    abort();
  if (st != CSVREG_OK && got != 12345.0) {
    fprintf(stderr, "fuzz_numparse: *out written on rejection\n");
    abort();
  }
  if (st == CSVREG_OK && memcmp(&got, &want, sizeof got) != 0) {
    fprintf(stderr, "fuzz_numparse: %.17g != strtod %.17g on \"%.*s\"\n", got, want, (int)size, s);
    abort();
  }
  return 0;
}
