/*
 * test_spool.c - csvreg_spool, the ordered output of a piece of a threaded
 * pass (predict --threads): bytes come back in order whether they stayed in
 * memory or went to the temporary file, a spool is reusable after a drain,
 * and a failing output stops the drain with CSVREG_E_IO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvreg.h"

typedef struct sinkbuf {
  unsigned char *p;
  size_t len, cap, calls;
  int fail_at; /* >0: the fail_at-th call fails */
} sinkbuf;

static int to_buf(void *ctx, const void *data, size_t n) {
  sinkbuf *b = ctx;
  if (b->fail_at && (int)++b->calls == b->fail_at)
    return -1;
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

/* Writes of many sizes with memory bounds below, around and above them. */
static void test_order(void **state) {
  (void)state;
  const size_t mems[] = {1, 7, 100, 4096, 0};
  unsigned char *want = malloc(300000);
  assert_non_null(want);
  for (size_t i = 0; i < 300000; i++)
    want[i] = (unsigned char)(i * 2654435761u >> 13);
  for (size_t m = 0; m < sizeof mems / sizeof *mems; m++) {
    csvreg_spool *s = NULL;
    assert_int_equal(csvreg_spool_new(&s, mems[m], NULL), CSVREG_OK);
    for (int round = 0; round < 2; round++) { /* reusable after a drain */
      size_t off = 0, step = 1;
      while (off < 300000) {
        size_t n = off + step > 300000 ? 300000 - off : step;
        assert_int_equal(csvreg_spool_write(s, want + off, n, NULL), CSVREG_OK);
        off += n;
        step = step * 3 % 9973 + 1;
      }
      assert_int_equal(csvreg_spool_bytes(s), 300000);
      if (mems[m] && mems[m] < 300000)
        assert_true(csvreg_spool_spilled(s) > 0);
      if (!mems[m]) /* CSVREG_SPOOL_MEM: all in memory */
        assert_int_equal(csvreg_spool_spilled(s), 0);
      sinkbuf b = {0};
      assert_int_equal(csvreg_spool_drain(s, to_buf, &b, NULL), CSVREG_OK);
      assert_int_equal(b.len, 300000);
      assert_memory_equal(b.p, want, 300000);
      assert_int_equal(csvreg_spool_bytes(s), 0);
      free(b.p);
    }
    csvreg_spool_free(s);
  }
  free(want);
  csvreg_spool_free(NULL);
}

static void test_output_fails(void **state) {
  (void)state;
  csvreg_spool *s = NULL;
  assert_int_equal(csvreg_spool_new(&s, 16, NULL), CSVREG_OK);
  char text[64];
  memset(text, 'a', sizeof text);
  assert_int_equal(csvreg_spool_write(s, text, sizeof text, NULL), CSVREG_OK);
  assert_int_equal(csvreg_spool_write(s, text, 5, NULL), CSVREG_OK);
  sinkbuf b = {.fail_at = 1};
  csvreg_error err;
  assert_int_equal(csvreg_spool_drain(s, to_buf, &b, &err), CSVREG_E_IO);
  assert_string_equal(err.message, "spool: the output failed");
  free(b.p);
  csvreg_spool_free(s);
  assert_int_equal(csvreg_spool_new(NULL, 0, &err), CSVREG_E_USAGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_order),
                                     cmocka_unit_test(test_output_fails)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
