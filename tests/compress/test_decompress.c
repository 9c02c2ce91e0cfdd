/*
 * test_decompress.c - the decompressing source (src/io/decompress.h) on its
 * own: gzip made here with zlib (several members, an empty one), read
 * through the source with ISA-L and with zlib (CSVREG_GZIP=zlib), on the
 * decoder's thread and inline, in reads of 1, 7 and 64 KiB bytes; the zlib
 * codec called directly one output byte at a time; every truncation of a
 * small archive; bgzip's members and zero padding after them; and the
 * sniffer's magic bytes. Built twice: against the library, and as
 * test_decompress_zlib from the decompressing source's own files with
 * zlib only, as a build without ISA-L has it (tests/compress/CMakeLists.txt).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "decompress.h"
#include "decompress_codec.h"
#include "source.h"

/* One gzip member of `len` bytes of `src` appended to buf at *n. */
static void gzip_member(unsigned char *buf, size_t *n, size_t cap, const unsigned char *src,
                        size_t len) {
  z_stream z = {0};
  assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  z.next_in = (Bytef *)(uintptr_t)src;
  z.avail_in = (uInt)len;
  z.next_out = buf + *n;
  z.avail_out = (uInt)(cap - *n);
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  *n = cap - z.avail_out;
  deflateEnd(&z);
}

static unsigned char *text(size_t len) {
  unsigned char *t = malloc(len);
  uint64_t x = 1;
  for (size_t i = 0; i < len; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    t[i] = (i % 40 == 39) ? '\n' : (i % 8 == 7) ? ',' : (unsigned char)('0' + (x >> 60) % 10);
  }
  return t;
}

/* [member of a | empty member | member of b]: a + b bytes of text. */
static unsigned char *archive(const unsigned char *t, size_t a, size_t b, size_t *n) {
  size_t cap = a + b + 4096;
  unsigned char *g = malloc(cap);
  *n = 0;
  gzip_member(g, n, cap, t, a);
  gzip_member(g, n, cap, t, 0);
  gzip_member(g, n, cap, t + a, b);
  return g;
}

static csvreg_status read_all(const unsigned char *g, size_t n, int threaded, size_t step,
                              unsigned char *out, size_t cap, size_t *got, csvreg_error *err) {
  csvreg_source *mem = NULL, *s = NULL;
  assert_int_equal(csvreg_source_new_mem(&mem, g, n, err), CSVREG_OK);
  csvreg_status st = csvreg__source_new_decompress(&s, mem, CSVREG__COMP_GZIP, threaded, err);
  assert_int_equal(st, CSVREG_OK);
  *got = 0;
  for (;;) {
    size_t k = 0, want = step < cap - *got ? step : cap - *got;
    if ((st = csvreg_source_read(s, out + *got, want, &k, err)) || !k)
      break;
    *got += k;
  }
  if (!st)
    assert_int_equal(csvreg__source_compressed_bytes(s), n);
  csvreg_source_free(s);
  return st;
}

static void test_members(void **state) {
  (void)state;
  const size_t a = 1500000, b = 700001; /* several 512 KiB ring blocks */
  unsigned char *t = text(a + b);
  size_t n;
  unsigned char *g = archive(t, a, b, &n);
  unsigned char *out = malloc(a + b + 1);
  const char *gz[] = {NULL, "zlib"};
  const size_t steps[] = {1, 7, 65536};
  for (int k = 0; k < 2; k++) {
    if (gz[k])
      setenv("CSVREG_GZIP", gz[k], 1);
    else
      unsetenv("CSVREG_GZIP");
    for (int threaded = 0; threaded < 2; threaded++)
      for (size_t i = 0; i < 3; i++) {
        if (steps[i] == 1 && threaded == 0 && k == 0)
          continue; /* a byte at a time inline is slow and adds nothing */
        size_t got;
        csvreg_error err;
        assert_int_equal(read_all(g, n, threaded, steps[i], out, a + b + 1, &got, &err), CSVREG_OK);
        assert_int_equal(got, a + b);
        assert_memory_equal(out, t, a + b);
      }
  }
  unsetenv("CSVREG_GZIP");
  free(out);
  free(g);
  free(t);
}

/* The zlib codec, called directly: one output byte at a time, members end
 * where they end. */
static void test_zlib_codec(void **state) {
  (void)state;
  unsigned char *t = text(5000);
  size_t n;
  unsigned char *g = archive(t, 3000, 2000, &n);
  const codec *c = &csvreg__codec_gzip_zlib;
  void *st = c->create();
  assert_non_null(st);
  unsigned char out[5000];
  size_t in = 0, made = 0, ends = 0;
  while (in < n) {
    codec_io io = {.in = g + in, .in_len = n - in, .out = out + made,
                   .out_cap = made < sizeof out ? 1 : 0};
    assert_int_equal(c->run(st, &io), 0);
    in += io.in_used;
    made += io.out_made;
    if (io.end) {
      ends++;
      assert_int_equal(made, ends == 1 ? 3000u : 3000u + (ends == 3 ? 2000u : 0u));
      assert_int_equal(c->reset(st), 0);
    }
    assert_true(io.in_used || io.out_made || io.end);
  }
  assert_int_equal(ends, 3);
  assert_int_equal(made, 5000);
  assert_memory_equal(out, t, 5000);
  c->destroy(st);
  free(g);
  free(t);
}

/* Every prefix of an archive: the whole one reads, any other fails with
 * CSVREG_E_IO (truncated, or for a cut gzip header a corrupt one), after
 * giving only bytes of the text. */
static void test_truncations(void **state) {
  (void)state;
  unsigned char *t = text(3000);
  size_t n;
  unsigned char *g = archive(t, 2000, 1000, &n);
  unsigned char out[4000];
  for (int threaded = 0; threaded < 2; threaded++)
    for (size_t cut = 1; cut <= n; cut += threaded ? 7 : 1) {
      size_t got;
      csvreg_error err;
      csvreg_error_clear(&err);
      csvreg_status st = read_all(g, cut, threaded, 4096, out, sizeof out, &got, &err);
      assert_memory_equal(out, t, got);
      if (cut == n) {
        assert_int_equal(st, CSVREG_OK);
        assert_int_equal(got, 3000);
      } else if (st == CSVREG_OK) {
        /* a cut exactly after a member is a complete, shorter archive */
        assert_true(got == 2000);
      } else {
        assert_int_equal(st, CSVREG_E_IO);
        assert_true(strstr(err.message, "gzip data") != NULL);
      }
    }
  free(g);
  free(t);
}

static void test_sniff(void **state) {
  (void)state;
  assert_int_equal(csvreg__sniff_compression((const unsigned char *)"\x1f\x8b\x08", 3),
                   CSVREG__COMP_GZIP);
  assert_int_equal(csvreg__sniff_compression((const unsigned char *)"\x28\xb5\x2f\xfd", 4),
                   CSVREG__COMP_ZSTD);
  assert_int_equal(csvreg__sniff_compression((const unsigned char *)"\x50\x2a\x4d\x18", 4),
                   CSVREG__COMP_ZSTD);
  assert_int_equal(csvreg__sniff_compression((const unsigned char *)"\xfd"
                                                                    "7zXZ\0\0",
                                             7),
                   CSVREG__COMP_XZ);
  assert_int_equal(csvreg__sniff_compression((const unsigned char *)"BZh91AY&SY\0", 11),
                   CSVREG__COMP_BZIP2);
  assert_int_equal(csvreg__sniff_compression((const unsigned char *)"BZh9,y\n1,2\n", 11),
                   CSVREG__COMP_NONE);
  assert_int_equal(csvreg__sniff_compression((const unsigned char *)"\x1f", 1), CSVREG__COMP_NONE);
  assert_null(csvreg__sniff_not_text((const unsigned char *)"a,b\n1,\0\n", 8));
  assert_string_equal(csvreg__sniff_not_text((const unsigned char *)"a\0,b\n", 5),
                      "binary data (NUL bytes)");
  assert_string_equal(csvreg__sniff_not_text((const unsigned char *)"PK\3\4....", 8),
                      "a zip archive");
  assert_null(csvreg__sniff_not_text((const unsigned char *)"", 0));
  assert_string_equal(csvreg__compression_name(CSVREG__COMP_XZ), "xz");
  assert_null(csvreg__compression_name(CSVREG__COMP_NONE));
}

/* bgzip's BGZF: members with a "BC" extra field (the FEXTRA flag the
 * decoders must skip) and an empty member at the end; then the zero
 * padding tar adds, and a byte other than zero in it. */
static void bgzf_member(unsigned char *buf, size_t *n, size_t cap, const unsigned char *src,
                        size_t len) {
  z_stream z = {0};
  assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  unsigned char extra[6] = {'B', 'C', 2, 0, 0, 0}; /* BSIZE is not checked by readers */
  gz_header h = {0};
  h.extra = extra;
  h.extra_len = sizeof extra;
  h.os = 255;
  assert_int_equal(deflateSetHeader(&z, &h), Z_OK);
  z.next_in = (Bytef *)(uintptr_t)src;
  z.avail_in = (uInt)len;
  z.next_out = buf + *n;
  z.avail_out = (uInt)(cap - *n);
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal(buf[*n + 3] & 4, 4); /* FEXTRA */
  *n = cap - z.avail_out;
  deflateEnd(&z);
}

static void test_bgzf_padding(void **state) {
  (void)state;
  const size_t len = 300000, block = 65280;
  unsigned char *t = text(len);
  size_t cap = len + 100000, n = 0;
  unsigned char *g = calloc(1, cap);
  for (size_t at = 0; at < len; at += block)
    bgzf_member(g, &n, cap, t + at, len - at < block ? len - at : block);
  bgzf_member(g, &n, cap, t, 0);
  const size_t whole = n;
  unsigned char *out = malloc(len + 1);
  /* as made, then with 1, 3 and 10240 zero bytes after it (calloc'd) */
  const size_t pads[] = {0, 1, 3, 10240};
  for (size_t k = 0; k < sizeof pads / sizeof pads[0]; k++)
    for (int threaded = 0; threaded < 2; threaded++) {
      size_t got;
      csvreg_error err;
      csvreg_error_clear(&err);
      assert_int_equal(read_all(g, whole + pads[k], threaded, 65536, out, len + 1, &got, &err),
                       CSVREG_OK);
      assert_int_equal(got, len);
      assert_memory_equal(out, t, len);
    }
  g[whole + 100] = 'x';
  for (int threaded = 0; threaded < 2; threaded++) {
    size_t got;
    csvreg_error err;
    csvreg_error_clear(&err);
    assert_int_equal(read_all(g, whole + 200, threaded, 65536, out, len + 1, &got, &err),
                     CSVREG_E_IO);
    assert_int_equal(got, len);
    char want[160];
    snprintf(want, sizeof want,
             "corrupt gzip data at compressed byte %zu: a byte other than zero in the zero "
             "padding after the last member",
             whole + 100);
    assert_string_equal(err.message, want);
  }
  free(out);
  free(g);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_members),
      cmocka_unit_test(test_zlib_codec),
      cmocka_unit_test(test_truncations),
      cmocka_unit_test(test_bgzf_padding),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
