/*
 * test_digest.c - the stream digest of issue 15 (XXH64, seed 0): the
 * published test vectors, and the same digest however the bytes are cut
 * into updates (a stream read in pieces of any size, as the pass reads it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"
#include "digest.h"

static void test_vectors(void **state) {
  (void)state;
  static const struct {
    const char *in, *want;
  } v[] = {{"", "xxh64:ef46db3751d8e999"},
           {"a", "xxh64:d24ec4f1a98c6e5b"},
           {"abc", "xxh64:44bc2cf5ad770999"},
           {"Nobody inspects the spammish repetition", "xxh64:fbcea83c8a378bf1"}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char hex[CSVREG_DIGEST_HEX];
    csvreg_digest_hex(v[i].in, strlen(v[i].in), hex);
    assert_string_equal(hex, v[i].want);
  }
}

static void test_pieces(void **state) {
  (void)state;
  enum { N = 1000 };
  unsigned char buf[N];
  uint64_t x = 88172645463325252ULL;
  for (size_t i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = (unsigned char)x;
  }
  for (size_t len = 0; len <= N; len += len < 70 ? 1 : 131) {
    csvreg__digest whole;
    csvreg__digest_init(&whole);
    csvreg__digest_update(&whole, buf, len);
    uint64_t want = csvreg__digest_final(&whole);
    for (size_t step = 1; step <= 67; step += 11) {
      csvreg__digest d;
      csvreg__digest_init(&d);
      for (size_t at = 0; at < len; at += step)
        csvreg__digest_update(&d, buf + at, len - at < step ? len - at : step);
      assert_true(csvreg__digest_final(&d) == want);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_vectors), cmocka_unit_test(test_pieces)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
