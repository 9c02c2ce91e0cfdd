/*
 * fuzz_boundary.c - libFuzzer target for the record-boundary scanner
 * (src/engine/boundary.c) against the plain reader. The fuzz bytes drive a
 * generator of RFC 4180 CSV (plain and quoted fields, doubled quotes, CR, LF
 * and CRLF inside quotes, LF / CRLF / lone CR line ends, blank lines, an
 * optional BOM), so that the quote parity means what the reader reads.
 * The input is then cut at the first boundaries at or after two offsets and,
 * separately, into stream blocks as the pass engine cuts them; the pieces,
 * each read from the lines and records the scanner counted before it, must
 * give the whole input's records (fields, line, number), and the scanner's
 * record count must equal the reader's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boundary.h"
#include "source.h"

static void fail(const char *what) {
  fprintf(stderr, "fuzz_boundary: pieces and whole input differ: %s\n", what);
  abort();
}

static csvreg_reader *open_piece(const char *b, size_t n, const reader_origin *o) {
  csvreg_source *src = NULL;
  csvreg_reader *r = NULL;
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  ro.header = 0;
  ro.buffer_bytes = 256; /* small reads: refills inside pieces, and fast */
  if (csvreg_source_new_mem(&src, b, n, NULL) != CSVREG_OK)
    abort();
  csvreg_error e;
  csvreg_error_clear(&e);
  if (csvreg__reader_open_source(&r, src, "fuzz", &ro, o, &e) != CSVREG_OK) {
    fprintf(stderr, "%s\n", e.message);
    fail("a piece does not open");
  }
  return r;
}

static int same(const csvreg_record *x, const csvreg_record *y) {
  if (x->nfields != y->nfields || x->line != y->line || x->number != y->number)
    return 0;
  for (size_t i = 0; i < x->nfields; i++)
    if (x->fields[i].len != y->fields[i].len ||
        memcmp(x->fields[i].ptr, y->fields[i].ptr, x->fields[i].len) != 0)
      return 0;
  return 1;
}

/* Reads b cut at cuts[0..k) and compares with the whole input's reader. */
static void check_cuts(const char *b, size_t n, const size_t *cuts, size_t k) {
  csvreg_reader *all = open_piece(b, n, NULL);
  boundary_state s;
  csvreg__boundary_init(&s);
  size_t from = 0;
  csvreg_record x, y;
  for (size_t i = 0; i <= k; i++) {
    size_t to = i < k ? cuts[i] : n;
    reader_origin o = {s.lines, s.records, from > 0};
    csvreg_reader *r = open_piece(b + from, to - from, &o);
    while (csvreg_reader_next(r, &y, NULL) == CSVREG_OK) {
      if (csvreg_reader_next(all, &x, NULL) != CSVREG_OK)
        fail("a piece has more records");
      if (!same(&x, &y))
        fail("a record differs");
    }
    csvreg_reader_free(r);
    csvreg__boundary_count(&s, (const unsigned char *)b + from, to - from);
    from = to;
  }
  if (csvreg_reader_next(all, &x, NULL) == CSVREG_OK)
    fail("the pieces miss records");
  csvreg_reader_free(all);
}

static size_t count_records(const char *b, size_t n) {
  csvreg_reader *r = open_piece(b, n, NULL);
  csvreg_record x;
  size_t k = 0;
  while (csvreg_reader_next(r, &x, NULL) == CSVREG_OK)
    k++;
  csvreg_reader_free(r);
  return k;
}

/* Writes CSV driven by data into out (cap bytes); returns its length. */
static size_t generate(const uint8_t *d, size_t n, char *out, size_t cap) {
  size_t o = 0, i = 0;
  static const char plain[] = "ab1. ";
  static const char inq[] = "a,\r\n";
  if (n && (d[0] & 7) == 7 && cap > 3) {
    memcpy(out, "\xEF\xBB\xBF", 3);
    o = 3;
    out[o++] = 'h'; /* a BOM then a line end would be an empty line */
  }
  int field_start = 1, after_quote = 0;
  while (i < n && o + 8 < cap) {
    uint8_t c = d[i++];
    switch (c % 8) {
    case 0:
    case 1:
      if (after_quote) /* RFC 4180: a quoted field ends at a delimiter or line end */
        out[o++] = ',';
      out[o++] = plain[(c >> 3) % 5];
      field_start = 0;
      break;
    case 2:
      out[o++] = ',';
      field_start = 1;
      break;
    case 3:
      out[o++] = '\n';
      field_start = 1;
      break;
    case 4:
      out[o++] = '\r';
      if (c & 8)
        out[o++] = '\n';
      field_start = 1;
      break;
    case 5: /* a quoted field, if at a field's start */
      if (!field_start) {
        out[o++] = ',';
      }
      out[o++] = '"';
      {
        size_t len = (c >> 3) % 6;
        for (size_t k = 0; k < len && i < n && o + 4 < cap; k++) {
          uint8_t q = d[i++];
          if (q % 5 == 4) {
            out[o++] = '"';
            out[o++] = '"';
          } else {
            out[o++] = inq[q % 4];
          }
        }
      }
      out[o++] = '"';
      field_start = 0;
      break;
    default:
      if (after_quote)
        out[o++] = ',';
      out[o++] = plain[c % 5];
      field_start = 0;
      break;
    }
    after_quote = c % 8 == 5;
  }
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  static char b[16384];
  size_t n = generate(data + 3, size - 3, b, sizeof b);

  /* two cuts at the first boundaries at or after two offsets */
  size_t at[2] = {n ? data[0] * n / 255 : 0, n ? data[1] * n / 255 : 0};
  if (at[0] > at[1]) {
    size_t t = at[0];
    at[0] = at[1];
    at[1] = t;
  }
  size_t cuts[2];
  for (int k = 0; k < 2; k++) {
    boundary_state s;
    csvreg__boundary_init(&s);
    csvreg__boundary_count(&s, (const unsigned char *)b, at[k]);
    size_t p = csvreg__boundary_next(&s, (const unsigned char *)b + at[k], n - at[k], 1, 0);
    if (p == BOUNDARY_NONE)
      fail("no boundary before the end");
    cuts[k] = at[k] + p;
  }
  check_cuts(b, n, cuts, 2);

  /* stream blocks of data[2] + 1 bytes, grown until a record ends */
  size_t bs = (size_t)data[2] + 1, from = 0, k = 0;
  size_t *bc = malloc((n + 1) * sizeof *bc);
  if (!bc)
    return 0;
  boundary_state s;
  csvreg__boundary_init(&s);
  while (from < n) {
    size_t m = from + bs, c;
    for (;; m++) {
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
      bc[k++] = c;
    csvreg__boundary_count(&s, (const unsigned char *)b + from, c - from);
    from = c;
  }
  check_cuts(b, n, bc, k);
  free(bc);
  if (s.records != count_records(b, n))
    fail("record count");
  return 0;
}
