/*
 * test_numparse.c - csvreg_parse_double: the grammar (accepted and rejected
 * forms), exact bits on hard cases, no reads past the length, independence
 * from the process locale, and an exhaustive check of all short strings over
 * the grammar's alphabet against strtod_l and a POSIX regular expression.
 * numparse_verify does the same against strtod_l on millions of strings.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"

typedef struct accepted_case {
  const char *text;
  uint64_t bits;
} accepted_case;

/* Expected bits from Python's float(), which is correctly rounded. */
static const accepted_case accepted[] = {
    {"5", 0x4014000000000000u},
    {"+5", 0x4014000000000000u},
    {"-5", 0xc014000000000000u},
    {".5", 0x3fe0000000000000u},
    {"-.5", 0xbfe0000000000000u},
    {"+.5", 0x3fe0000000000000u},
    {"5.", 0x4014000000000000u},
    {"-5.", 0xc014000000000000u},
    {"-0", 0x8000000000000000u},
    {"+0", 0x0000000000000000u},
    {"0", 0x0000000000000000u},
    {"0.0", 0x0000000000000000u},
    {"-0.0", 0x8000000000000000u},
    {"-0e10", 0x8000000000000000u},
    {"1e-3", 0x3f50624dd2f1a9fcu},
    {"1E3", 0x408f400000000000u},
    {"1e+3", 0x408f400000000000u},
    {"1.e3", 0x408f400000000000u},
    {".1e1", 0x3ff0000000000000u},
    {"1e-400", 0x0000000000000000u},  /* underflow: accepted, as strtod */
    {"-1e-400", 0x8000000000000000u}, /* keeps its sign */
    {"4.9e-324", 0x0000000000000001u},
    {"2.4703282292062327e-324", 0x0000000000000000u}, /* below half the least subnormal */
    {"2.4703282292062328e-324", 0x0000000000000001u}, /* above it */
    {"2.2250738585072011e-308", 0x000fffffffffffffu}, /* the largest subnormal */
    {"2.2250738585072014e-308", 0x0010000000000000u}, /* DBL_MIN */
    {"1.7976931348623157e308", 0x7fefffffffffffffu},  /* DBL_MAX */
    {"1.7976931348623158e308", 0x7fefffffffffffffu},  /* still below the midpoint to 2^1024 */
    {"8.98846567431158e307", 0x7fe0000000000000u},
    {"9007199254740993", 0x4340000000000000u}, /* 2^53 + 1: a tie, to even */
    {"9007199254740992", 0x4340000000000000u},
    {"9007199254740995", 0x4340000000000002u}, /* a tie, to even upwards */
    {"7.2057594037927933e16", 0x4370000000000000u},
    {"0.1", 0x3fb999999999999au},
    {"0.3", 0x3fd3333333333333u},
    {"-12.3456", 0xc028b0f27bb2fec5u},
    {"12345678", 0x41678c29c0000000u},
    {"123456789", 0x419d6f3454000000u},
    {"123456789012345678", 0x437b69b4ba630f35u},                    /* 18 digits */
    {"1234567890123456789", 0x43b12210f47de981u},                   /* 19 digits */
    {"1234567890123456789012345", 0x44f056e0f36a6444u},             /* 25 digits */
    {"0.10000000000000001", 0x3fb999999999999au},                   /* %.17g of 0.1 */
    {"3.14159265358979323846264338327950288", 0x400921fb54442d18u}, /* 36 digits */
    {"1e22", 0x4480f0cf064dd592u},
    {"1e23", 0x44b52d02c7e14af6u}, /* just past Clinger's range */
    {"0.000000000000000000000000000000000000001", 0x37d5c72fb1552d83u},
    {"00000000000000000000000000000000001.5", 0x3ff8000000000000u},
    /* 1 + 2^-53 exactly is a tie (to even: 1); one digit less or more decides */
    {"1.00000000000000011102230246251565404236316680908203125", 0x3ff0000000000000u},
    {"1.00000000000000011102230246251565404236316680908203124", 0x3ff0000000000000u},
    {"1.00000000000000011102230246251565404236316680908203126", 0x3ff0000000000001u},
    {"0e999999999999", 0x0000000000000000u},
    {"1e-999999999999", 0x0000000000000000u},
    /* blanks: spaces and tabs on either side */
    {" 5 ", 0x4014000000000000u},
    {"\t5", 0x4014000000000000u},
    {"5\t", 0x4014000000000000u},
    {" \t -12.3456\t ", 0xc028b0f27bb2fec5u},
};

static const char *const rejected[] = {"",
                                       " ",
                                       "\t",
                                       "  \t ",
                                       "+",
                                       "-",
                                       ".",
                                       "+.",
                                       "-.",
                                       "e5",
                                       ".e5",
                                       "E5",
                                       "1e",
                                       "1e+",
                                       "1e-",
                                       "5e-",
                                       "1E",
                                       "--5",
                                       "+-5",
                                       "-+5",
                                       "++5",
                                       "1,5",
                                       "1 000",
                                       "1.5.",
                                       "1..5",
                                       "..5",
                                       "0x10",
                                       "0X10",
                                       "0x1p3",
                                       "inf",
                                       "-inf",
                                       "+inf",
                                       "INF",
                                       "nan",
                                       "NaN",
                                       "-nan",
                                       "nan(1)",
                                       "Infinity",
                                       "infinity",
                                       "1e400",
                                       "-1e400",
                                       "1.8e308",
                                       "1.7976931348623159e308",
                                       "1e999999999999",
                                       "5 e3",
                                       "5e 3",
                                       "- 5",
                                       "+ 5",
                                       "5-",
                                       "5+",
                                       "\n5",
                                       "5\n",
                                       "\r5",
                                       "5\r",
                                       "\v5",
                                       "\f5",
                                       "1e5.5",
                                       "1e5e5",
                                       "1_000",
                                       "1'000",
                                       "5d",
                                       "5f",
                                       "5L",
                                       "\xd9\xa1",     /* ARABIC-INDIC DIGIT ONE */
                                       "\xef\xbc\x95", /* FULLWIDTH DIGIT FIVE */
                                       "1.5,",
                                       ",5",
                                       "'5'",
                                       "\"5\"",
                                       "NA",
                                       "abc"};

static uint64_t bits_of(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

static const uint64_t untouched = 0x7ff4dead0000beefu; /* a NaN no parse produces */

static double sentinel(void) {
  double d;
  memcpy(&d, &untouched, sizeof d);
  return d;
}

/* Parses a heap copy of exactly n bytes, so ASan sees any read past it. */
static csvreg_status parse_exact(const char *s, size_t n, double *out) {
  char *copy = malloc(n ? n : 1);
  assert_non_null(copy);
  memcpy(copy, s, n);
  csvreg_status st = csvreg_parse_double(copy, n, out);
  free(copy);
  return st;
}

static void expect_accepted(const char *s, size_t n, uint64_t bits) {
  double v = sentinel();
  csvreg_status st = parse_exact(s, n, &v);
  if (st != CSVREG_OK || bits_of(v) != bits)
    fail_msg("\"%s\": status %d, bits 0x%016llx, expected 0x%016llx", s, (int)st,
             (unsigned long long)bits_of(v), (unsigned long long)bits);
}

static void expect_rejected(const char *s, size_t n) {
  double v = sentinel();
  csvreg_status st = parse_exact(s, n, &v);
  if (st != CSVREG_E_VALUE || bits_of(v) != untouched)
    fail_msg("\"%s\" (%zu bytes): status %d, value %a; expected CSVREG_E_VALUE, untouched", s, n,
             (int)st, v);
}

static void test_accepted(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
    expect_accepted(accepted[i].text, strlen(accepted[i].text), accepted[i].bits);
}

static void test_rejected(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
    expect_rejected(rejected[i], strlen(rejected[i]));
}

static void test_embedded_nul(void **state) {
  (void)state;
  expect_rejected("5\0", 2);
  expect_rejected("\0", 1);
  expect_rejected("\0"
                  "5",
                  2);
  expect_rejected("1\0"
                  "5",
                  3);
  expect_rejected("1.5\0"
                  "e3",
                  6);
  expect_rejected("1.23456789\0", 11); /* past the short path's 8 bytes */
  expect_rejected(" 5\0 ", 4);
}

/* The length is the field: what follows is never looked at. */
static void test_length_bounds(void **state) {
  (void)state;
  double v = 0;
  assert_int_equal(csvreg_parse_double("123", 2, &v), CSVREG_OK);
  assert_true(v == 12.0);
  assert_int_equal(csvreg_parse_double("5e", 1, &v), CSVREG_OK);
  assert_true(v == 5.0);
  assert_int_equal(csvreg_parse_double("1.5e3", 3, &v), CSVREG_OK);
  assert_true(v == 1.5);
  assert_int_equal(csvreg_parse_double("1.5e3", 4, &v), CSVREG_E_VALUE);
  assert_int_equal(csvreg_parse_double("-12.3456789", 8, &v), CSVREG_OK);
  assert_true(v == -12.3456);
  assert_int_equal(csvreg_parse_double("12345678901234567", 16, &v), CSVREG_OK);
  assert_true(v == 1234567890123456.0);
  v = sentinel();
  assert_int_equal(csvreg_parse_double("5", 0, &v), CSVREG_E_VALUE);
  assert_true(bits_of(v) == untouched);
  /* Every prefix of a long number, each in a buffer of exactly its size. */
  const char *longest = "-1234567.890123456789012345e-12";
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  assert_non_null(c);
  for (size_t n = 2; n <= strlen(longest); n++) {
    char tmp[64];
    memcpy(tmp, longest, n);
    tmp[n] = '\0';
    char *end;
    double want = strtod_l(tmp, &end, c);
    if (end == tmp + n && tmp[n - 1] != 'e' && tmp[n - 1] != '-')
      expect_accepted(tmp, n, bits_of(want));
    else
      expect_rejected(tmp, n);
  }
  freelocale(c);
}

/* Hundreds of digits, as strtod takes them. */
static void test_long_inputs(void **state) {
  (void)state;
  char buf[1200];
  /* 0.(700 zeros)1 underflows to 0; with e+700 it is 0.1 */
  size_t n = 0;
  buf[n++] = '0';
  buf[n++] = '.';
  memset(buf + n, '0', 700);
  n += 700;
  buf[n++] = '1';
  expect_accepted(buf, n, 0);
  memcpy(buf + n, "e+700", 5);
  expect_accepted(buf, n + 5, 0x3fb999999999999au);
  /* 1 followed by 400 zeros overflows; with e-400 it is 1 */
  n = 0;
  buf[n++] = '1';
  memset(buf + n, '0', 400);
  n += 400;
  expect_rejected(buf, n);
  memcpy(buf + n, "e-400", 5);
  expect_accepted(buf, n + 5, 0x3ff0000000000000u);
  /* 1000 digits of 9s after the point: rounds up to exactly 1 */
  buf[0] = '0';
  buf[1] = '.';
  memset(buf + 2, '9', 1000);
  expect_accepted(buf, 1002, 0x3ff0000000000000u);
}

/* Every string of up to 4 bytes over the grammar's alphabet: accepted exactly
 * when a POSIX regular expression of the grammar matches and strtod_l in the C
 * locale reads all of it to a finite value, with the same bits. */
static void test_exhaustive_short(void **state) {
  (void)state;
  static const char alphabet[] = "09.e+- \tx";
  const size_t k = sizeof alphabet - 1;
  regex_t re;
  assert_int_equal(regcomp(&re, "^[ \t]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[ \t]*$",
                           REG_EXTENDED | REG_NOSUB),
                   0);
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  assert_non_null(c);
  size_t checked = 0, accepted_count = 0;
  for (size_t len = 0; len <= 4; len++) {
    size_t total = 1;
    for (size_t i = 0; i < len; i++)
      total *= k;
    for (size_t code = 0; code < total; code++) {
      char s[8];
      size_t x = code;
      for (size_t i = 0; i < len; i++, x /= k)
        s[i] = alphabet[x % k];
      s[len] = '\0';
      int want_ok = regexec(&re, s, 0, NULL, 0) == 0;
      double want = 0;
      if (want_ok) {
        char *end;
        want = strtod_l(s, &end, c);
        size_t tlen = len;
        while (tlen && (s[tlen - 1] == ' ' || s[tlen - 1] == '\t'))
          tlen--;
        want_ok = end == s + tlen && isfinite(want);
      }
      if (want_ok) {
        expect_accepted(s, len, bits_of(want));
        accepted_count++;
      } else {
        expect_rejected(s, len);
      }
      checked++;
    }
  }
  assert_true(checked > 7000);
  assert_true(accepted_count > 200);
  freelocale(c);
  regfree(&re);
}

/* A comma-decimal locale changes strtod but not csvreg_parse_double. */
static void test_locale_independent(void **state) {
  (void)state;
  static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8",
                                      "fr_FR.utf8"};
  const char *set = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
    set = setlocale(LC_ALL, names[i]);
  if (!set || strcmp(localeconv()->decimal_point, ",") != 0) {
    setlocale(LC_ALL, "C");
    print_message("no comma-decimal locale installed (tried de_DE.UTF-8, fr_FR.UTF-8): "
                  "skipping the locale check\n");
    skip();
  }
  /* The locale is in effect: strtod now stops at the '.' ... */
  char *end;
  assert_true(strtod("1.5", &end) == 1.0);
  /* ... and nothing here changes. */
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
    expect_accepted(accepted[i].text, strlen(accepted[i].text), accepted[i].bits);
  for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
    expect_rejected(rejected[i], strlen(rejected[i]));
  expect_rejected("1,5", 3);
  setlocale(LC_ALL, "C");
}

/* Missing-value tokens (csvreg_na): the decision the chunk and predict/eval
 * share. */
static void test_na_tokens(void **state) {
  (void)state;
  csvreg_na *na;
  assert_int_equal(csvreg_na_new(&na, NULL, NULL), CSVREG_OK); /* "NA" and the empty cell */
  assert_true(csvreg_na_match(na, "NA", 2));
  assert_true(csvreg_na_match(na, " \tNA ", 5)); /* trimmed like a number */
  assert_true(csvreg_na_match(na, "", 0));
  assert_true(csvreg_na_match(na, "  ", 2));
  assert_false(csvreg_na_match(na, "na", 2));
  assert_false(csvreg_na_match(na, "NAN", 3));
  assert_false(csvreg_na_match(na, "N", 1));
  assert_false(csvreg_na_numeric(na));
  csvreg_na_free(na);

  /* Tokens are trimmed; no empty token: the empty cell is not missing. */
  assert_int_equal(csvreg_na_new(&na, " -999 ,n/a", NULL), CSVREG_OK);
  assert_true(csvreg_na_match(na, "-999", 4));
  assert_true(csvreg_na_match(na, " -999", 5));
  assert_true(csvreg_na_match(na, "n/a", 3));
  assert_false(csvreg_na_match(na, "-999.0", 6)); /* text, not value */
  assert_false(csvreg_na_match(na, "", 0));
  assert_false(csvreg_na_match(na, "NA", 2));
  assert_true(csvreg_na_numeric(na)); /* -999 reads as a number */
  csvreg_na_free(na);

  assert_int_equal(csvreg_na_new(&na, ",", NULL), CSVREG_OK); /* two empty tokens */
  assert_true(csvreg_na_match(na, "\t", 1));
  assert_false(csvreg_na_match(na, "0", 1));
  csvreg_na_free(na);
  csvreg_na_free(NULL);
  assert_int_equal(csvreg_na_new(NULL, "NA", NULL), CSVREG_E_USAGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepted),           cmocka_unit_test(test_rejected),
      cmocka_unit_test(test_embedded_nul),       cmocka_unit_test(test_length_bounds),
      cmocka_unit_test(test_long_inputs),        cmocka_unit_test(test_exhaustive_short),
      cmocka_unit_test(test_locale_independent), cmocka_unit_test(test_na_tokens),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
