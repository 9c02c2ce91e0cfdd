/*
 * test_numformat.c - csvreg_format_double writes text that csvreg_parse_double
 * reads back to the same bits, no longer than %.17g, in any locale.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void) { /* splitmix64 */
  uint64_t z = (rng += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static void round_trip(double v) {
  char buf[CSVREG_FORMAT_DOUBLE_MAX], g17[64];
  size_t n = csvreg_format_double(v, buf);
  assert_int_equal(n, strlen(buf));
  double back;
  if (csvreg_parse_double(buf, n, &back) != CSVREG_OK)
    fail_msg("'%s' (from %a) does not parse", buf, v);
  if (memcmp(&back, &v, sizeof v) != 0)
    fail_msg("%a -> '%s' -> %a", v, buf, back);
  snprintf(g17, sizeof g17, "%.17g", v);
  if (n > strlen(g17) + 1) /* "1e+21" style exponents may add one byte */
    fail_msg("'%s' longer than %%.17g '%s'", buf, g17);
}

static void test_fixed(void **state) {
  (void)state;
  const double v[] = {0.0,    -0.0,    0.1,     1.5,     -225.69888633555468, 1e21,
                      1e-7,   1e300,   -1e-300, DBL_MAX, DBL_MIN,             4.9e-324,
                      123456, 3.0348353552859622};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    round_trip(v[i]);
  char buf[CSVREG_FORMAT_DOUBLE_MAX];
  csvreg_format_double(0.1, buf);
  assert_string_equal(buf, "0.1");
  csvreg_format_double(3.0348353552859622, buf);
  assert_string_equal(buf, "3.034835355285962");
  csvreg_format_double(-1e-7, buf);
  assert_string_equal(buf, "-1e-7");
}

/* Every bit pattern class: random finite doubles over the whole range. */
static void test_random_bits(void **state) {
  (void)state;
  for (int i = 0; i < 1000000; i++) {
    uint64_t b = next();
    double v;
    memcpy(&v, &b, sizeof v);
    if (isfinite(v))
      round_trip(v);
  }
}

/* Values like a fit's predictions: sums of products of short decimals. */
static void test_typical(void **state) {
  (void)state;
  for (int i = 0; i < 200000; i++) {
    double v = ((double)(next() % 2000001) - 1000000) / 1e4 * 1.2345678901234 + 3.0;
    round_trip(v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fixed),
                                     cmocka_unit_test(test_random_bits),
                                     cmocka_unit_test(test_typical)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
