/*
 * test_boundary.c - the record-boundary scanner (src/engine/boundary.c)
 * against the plain reader: an input cut at the boundaries the scanner
 * finds, each piece read by a reader that starts from the lines and records
 * the scanner counted before it, gives the whole input's records with the
 * same content, lines and record numbers; for every cut offset of small
 * inputs with quoted newlines, LF, CRLF and lone CR line ends, blank lines
 * and a BOM.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "boundary.h"
#include "source.h"

typedef struct recs {
  size_t n;
  char text[64][64];
  uint64_t line[64], number[64];
} recs;

/* Appends the records of b[0, n) read from `origin` to *out. */
static void read_piece(const char *b, size_t n, const reader_origin *origin, recs *out) {
  csvreg_source *src = NULL;
  csvreg_reader *r = NULL;
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  ro.header = 0;
  ro.buffer_bytes = 16; /* small reads: refills inside pieces (and quick under valgrind) */
  assert_int_equal(csvreg_source_new_mem(&src, b, n, NULL), CSVREG_OK);
  assert_int_equal(csvreg__reader_open_source(&r, src, "t", &ro, origin, NULL), CSVREG_OK);
  csvreg_record rec;
  while (csvreg_reader_next(r, &rec, NULL) == CSVREG_OK) {
    assert_true(out->n < 64);
    char *t = out->text[out->n];
    size_t k = 0;
    for (size_t i = 0; i < rec.nfields; i++) {
      k += (size_t)snprintf(t + k, 64 - k, "%s%.*s", i ? "|" : "", (int)rec.fields[i].len,
                            rec.fields[i].ptr);
      if (k >= 64)
        k = 63;
    }
    out->line[out->n] = rec.line;
    out->number[out->n] = rec.number;
    out->n++;
  }
  csvreg_reader_free(r);
}

static void whole(const char *b, size_t n, recs *out) {
  memset(out, 0, sizeof *out);
  read_piece(b, n, NULL, out);
}

static void assert_same(const recs *a, const recs *b, const char *in, size_t at) {
  if (a->n != b->n)
    fail_msg("%zu records against %zu, input \"%s\" cut at %zu", a->n, b->n, in, at);
  for (size_t i = 0; i < a->n; i++) {
    if (strcmp(a->text[i], b->text[i]) != 0 || a->line[i] != b->line[i] ||
        a->number[i] != b->number[i])
      fail_msg("record %zu: '%s' line %llu #%llu against '%s' line %llu #%llu (cut at %zu)", i,
               a->text[i], (unsigned long long)a->line[i], (unsigned long long)a->number[i],
               b->text[i], (unsigned long long)b->line[i], (unsigned long long)b->number[i], at);
  }
}

/* Reads b in pieces cut at cuts[0..k) (increasing). */
static void read_cut(const char *b, size_t n, const size_t *cuts, size_t k, recs *out) {
  memset(out, 0, sizeof *out);
  size_t from = 0;
  boundary_state s;
  csvreg__boundary_init(&s);
  for (size_t i = 0; i <= k; i++) {
    size_t to = i < k ? cuts[i] : n;
    reader_origin o = {s.lines, s.records, from > 0};
    read_piece(b + from, to - from, &o, out);
    csvreg__boundary_count(&s, (const unsigned char *)b + from, to - from);
    from = to;
  }
}

/* The first boundary at or after `at`, from the input's start. */
static size_t next_at(const char *b, size_t n, size_t at, boundary_state *s) {
  csvreg__boundary_init(s);
  csvreg__boundary_count(s, (const unsigned char *)b, at);
  size_t p = csvreg__boundary_next(s, (const unsigned char *)b + at, n - at, 1, 0);
  assert_true(p != BOUNDARY_NONE);
  return at + p;
}

static const char *const inputs[] = {
    "a,b\n1,2\n3,4\n",
    "a,b\r\n1,2\r\n3,4\r\n",
    "a,b\r1,2\r3,4\r",
    "a,b\r1,2\n3,4\r\n5,6",
    "a,b\n\n\n1,2\n\r\n\r3,4\n\n",
    "\xEF\xBB\xBF"
    "a,b\n1,2\n",
    "a,\"x\ny\"\n\"1\r\n2\",3\n\"\"\"q\"\"\r\",4\r5,6\n",
    "\"a\nb\",c\n\"\n\n\",\"\r\"\n\"\r\n\",x\n",
    "x\n\"\",\"\"\n\"\"\"\"\n,\n",
    "1,2",
    "\n\r\n\r",
    "",
    "a\r\r\n\r\nb\n\"c\r\"\r\r",
};

static void test_next_every_offset(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof inputs / sizeof *inputs; t++) {
    const char *b = inputs[t];
    size_t n = strlen(b);
    recs all, cut;
    whole(b, n, &all);
    for (size_t at = 0; at <= n; at++) {
      boundary_state s;
      size_t p = next_at(b, n, at, &s);
      assert_true(p >= at && p <= n);
      read_cut(b, n, &p, 1, &cut);
      assert_same(&all, &cut, b, p);
      /* records before p: those the first piece holds */
      recs first;
      memset(&first, 0, sizeof first);
      read_piece(b, p, NULL, &first);
      assert_int_equal(s.records, first.n);
    }
  }
}

static void test_two_cuts(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof inputs / sizeof *inputs; t++) {
    const char *b = inputs[t];
    size_t n = strlen(b);
    recs all, cut;
    whole(b, n, &all);
    for (size_t i = 0; i <= n; i++)
      for (size_t j = i; j <= n; j++) {
        boundary_state s;
        size_t c[2] = {next_at(b, n, i, &s), next_at(b, n, j, &s)};
        read_cut(b, n, c, 2, &cut);
        assert_same(&all, &cut, b, c[1]);
      }
  }
}

/* csvreg__boundary_last: the cut a stream block makes after reading m bytes. */
static void test_last_every_prefix(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof inputs / sizeof *inputs; t++) {
    const char *b = inputs[t];
    size_t n = strlen(b);
    recs all, cut;
    whole(b, n, &all);
    for (size_t m = 1; m <= n; m++) {
      boundary_state s;
      csvreg__boundary_init(&s);
      size_t c = csvreg__boundary_last(&s, (const unsigned char *)b, m);
      assert_true(c <= m);
      if (c == 0)
        continue;
      read_cut(b, n, &c, 1, &cut);
      assert_same(&all, &cut, b, c);
      /* it is the last boundary certain from m bytes: next finds none
       * later within them */
      boundary_state s2;
      size_t p = next_at(b, m, c < m ? c + 1 : m, &s2);
      assert_true(p == m || c == m);
    }
  }
}

/* csvreg__boundary_last_skim finds csvreg__boundary_last's cut from the
 * end, and the state there is the counted state's, lines and records aside;
 * on every prefix of the inputs from every offset, and on random bytes of
 * quotes, LF, CR and letters from either quote parity. */
static void check_last_skim(const unsigned char *b, size_t m, const boundary_state *s) {
  boundary_state at;
  memset(&at, 0x5a, sizeof at);
  size_t c = csvreg__boundary_last(s, b, m);
  size_t k = csvreg__boundary_last_skim(s, b, m, &at);
  assert_int_equal(k, c);
  if (c == 0)
    return;
  boundary_state want = *s;
  csvreg__boundary_count(&want, b, c);
  assert_int_equal(at.odd, want.odd);
  assert_int_equal(at.cr, want.cr);
  assert_int_equal(at.at_end, want.at_end);
  assert_int_equal(at.lines, s->lines);
  assert_int_equal(at.records, s->records);
}

static void test_last_skim(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof inputs / sizeof *inputs; t++) {
    const unsigned char *b = (const unsigned char *)inputs[t];
    size_t n = strlen(inputs[t]);
    for (size_t from = 0; from < n; from++) {
      boundary_state s;
      csvreg__boundary_init(&s);
      csvreg__boundary_count(&s, b, from);
      for (size_t m = 0; from + m <= n; m++)
        check_last_skim(b + from, m, &s);
    }
  }
  unsigned long long x = 88172645463325252ULL;
  unsigned char buf[300];
  const char alphabet[] = "\"\n\rab,";
  for (int rep = 0; rep < 20000; rep++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t m = (size_t)(x % 300);
    boundary_state s;
    csvreg__boundary_init(&s);
    s.odd = (unsigned)(x >> 20) & 1u;
    s.cr = (int)(x >> 21) & 1;
    s.lines = 7;
    s.records = 5;
    for (size_t i = 0; i < m; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      /* mostly letters, so that some blocks have no line end outside quotes */
      buf[i] = (unsigned char)(x % 4 ? 'a' : alphabet[(x >> 8) % 6]);
    }
    check_last_skim(buf, m, &s);
  }
}

/* Blocks cut one after another as the stream reader does, at every block
 * size: the records and their numbers are the whole input's. */
static void test_blocks_every_size(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof inputs / sizeof *inputs; t++) {
    const char *b = inputs[t];
    size_t n = strlen(b);
    recs all, got;
    whole(b, n, &all);
    for (size_t bs = 1; bs <= n; bs++) {
      size_t cuts[64], k = 0, from = 0;
      boundary_state s;
      csvreg__boundary_init(&s);
      while (from < n) {
        size_t m = from + bs, c;
        for (;; m++) { /* grow until a record ends in the block */
          if (m >= n) {
            c = n;
            break;
          }
          c = csvreg__boundary_last(&s, (const unsigned char *)b + from, m - from);
          if (c) {
            c += from;
            break;
          }
        }
        if (c < n)
          cuts[k++] = c;
        csvreg__boundary_count(&s, (const unsigned char *)b + from, c - from);
        from = c;
      }
      read_cut(b, n, cuts, k, &got);
      assert_same(&all, &got, b, bs);
    }
  }
}

/* The file scanner (pread from the start) agrees with the memory scanner. */
static void test_file_seek(void **state) {
  (void)state;
  char path[] = "/tmp/csvreg_boundaryXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *b = inputs[6];
  size_t n = strlen(b);
  assert_int_equal(write(fd, b, n), (ssize_t)n);
  for (size_t at = 0; at <= n + 2; at++) {
    boundary_file f;
    assert_int_equal(csvreg__boundary_file_open(&f, fd, n, NULL), CSVREG_OK);
    assert_int_equal(csvreg__boundary_file_seek(&f, at, 0, NULL), CSVREG_OK);
    boundary_state s;
    size_t p = next_at(b, n, at < n ? at : n, &s);
    assert_int_equal(f.pos, p);
    assert_int_equal(f.st.records, s.records);
    assert_int_equal(f.st.lines, s.lines);
    csvreg__boundary_file_close(&f);
  }
  /* the end of the first record: the header's end */
  boundary_file f;
  assert_int_equal(csvreg__boundary_file_open(&f, fd, n, NULL), CSVREG_OK);
  assert_int_equal(csvreg__boundary_file_seek(&f, 0, 1, NULL), CSVREG_OK);
  assert_int_equal(f.pos, strlen("a,\"x\ny\"\n"));
  csvreg__boundary_file_close(&f);
  close(fd);
  unlink(path);
}

/* The 64-byte mask path equals the byte-at-a-time state machine (a count
 * of one byte goes through it) on random text of quotes, CR, LF, commas and
 * letters, from every starting state the text itself produces, at every
 * offset and length around the block size. */
static void test_count_blocks_random(void **state) {
  (void)state;
  static const char alphabet[] = "\"\r\n,a\"\n";
  unsigned char b[700];
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (int round = 0; round < 400; round++) {
    size_t n = 1 + (size_t)(round * 7 % 699);
    for (size_t k = 0; k < n; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      /* some rounds without quotes, some with many */
      unsigned pick = (unsigned)(x % (round % 3 ? 7 : 5));
      b[k] = (unsigned char)alphabet[round % 3 ? pick : pick + 1];
    }
    for (size_t from = 0; from < 70 && from < n; from += 3) {
      boundary_state fast, slow;
      csvreg__boundary_init(&fast);
      for (size_t k = 0; k < from; k++) /* the state at `from`, by bytes */
        csvreg__boundary_count(&fast, b + k, 1);
      slow = fast;
      csvreg__boundary_count(&fast, b + from, n - from);
      for (size_t k = from; k < n; k++)
        csvreg__boundary_count(&slow, b + k, 1);
      assert_int_equal(fast.lines, slow.lines);
      assert_int_equal(fast.records, slow.records);
      assert_int_equal(fast.odd, slow.odd);
      assert_int_equal(fast.cr, slow.cr);
      assert_int_equal(fast.at_end, slow.at_end);
    }
  }
}

/* A range piece read through boundary_range (its end found while read)
 * ends where the file scanner puts the next piece's start: the first
 * boundary at or after the cut, for every start and cut of every input. */
static void test_range_read_every_cut(void **state) {
  (void)state;
  char path[] = "/tmp/csvreg_rangeXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  for (size_t t = 0; t < sizeof inputs / sizeof *inputs; t++) {
    const char *b = inputs[t];
    size_t n = strlen(b);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, b, n, 0), (ssize_t)n);
    for (size_t from = 0; from <= n; from++)
      for (size_t cut = from; cut <= n + 1; cut++) {
        boundary_state s;
        size_t start = next_at(b, n, from, &s);
        boundary_range br = {fd, start, cut > start ? cut : start, n, s, 0, 0, 0};
        unsigned char buf[3];
        size_t total = 0, got;
        do { /* small reads: the cut falls inside, at and after a read */
          assert_int_equal(csvreg__boundary_range_read(&br, buf, sizeof buf, &got, NULL),
                           CSVREG_OK);
          total += got;
        } while (got);
        boundary_state s2;
        size_t want = next_at(b, n, cut < n ? (cut > start ? cut : start) : n, &s2);
        assert_int_equal(start + total, want);
        assert_int_equal(br.off, want);
      }
  }
  close(fd);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_next_every_offset), cmocka_unit_test(test_two_cuts),
      cmocka_unit_test(test_last_every_prefix), cmocka_unit_test(test_last_skim), cmocka_unit_test(test_blocks_every_size),
      cmocka_unit_test(test_file_seek), cmocka_unit_test(test_count_blocks_random),
      cmocka_unit_test(test_range_read_every_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
