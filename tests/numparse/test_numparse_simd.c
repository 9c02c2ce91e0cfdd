/*
 * test_numparse_simd.c - the AVX2 versions of the hot loops against the
 * scalar ones they stand for.
 *
 * 1. numparse_short_x4 (src/numparse_avx2.h) lane by lane against
 *    numparse_short and csvreg_parse_double: the same fields accepted, and
 *    the same bits. Fields are generated in every shape the short path
 *    decides on (signs, points, lengths 0..11, stray bytes) plus all strings
 *    of up to four bytes over a small alphabet, each in a heap block of
 *    exactly its length so that AddressSanitizer catches a read past it;
 *    and again with `wide` (records with csvreg__reader_slack), each field followed
 *    by random input bytes up to the 9 the wide gather may read, no more.
 * 2. Chunks filled through the AVX2 splitter and parser and through the
 *    SSE2/scalar ones (CSVREG_SIMD=sse2, read when a reader is
 *    made) from records of 2..13 columns mixing short cells, cells only the
 *    general parser takes ("1e3", "+5", " 7", 12 digits) and NA cells at
 *    every position: the same rows and bits, and each value equal to
 *    csvreg_parse_double of its cell. csvreg_record_parse_cells on the same
 *    records, both ways, from every starting cell.
 *
 *   test_numparse_simd [N]   N random groups of four fields (default 2e6)
 *
 * Without AVX2 (or built with CSVREG_NO_SIMD) only part 2 runs, scalar
 * against csvreg_parse_double.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"
#include "internal.h"
#include "numparse_avx2.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static long failures;
#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      if (failures++ < 20) {                                                                       \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
      }                                                                                            \
    }                                                                                              \
  } while (0)

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* A field of the shapes the short path must decide on. */
static size_t gen_field(char *buf) {
  static const char stray[] = "+-.eE x,\t0";
  size_t n = 0;
  int shape = (int)(next() % 8);
  if (shape == 0) { /* anything short */
    size_t len = next() % 12;
    for (size_t i = 0; i < len; i++)
      buf[n++] = (next() % 3) ? (char)('0' + next() % 10) : stray[next() % (sizeof stray - 1)];
    return n;
  }
  if (next() % 2)
    buf[n++] = '-';
  else if (next() % 16 == 0)
    buf[n++] = '+';
  size_t digits = next() % 11; /* 0..10: over 8 is not short */
  size_t point = next() % (digits + 2);
  for (size_t i = 0; i < digits; i++) {
    if (i == point)
      buf[n++] = '.';
    buf[n++] = (char)('0' + next() % 10);
  }
  if (point == digits && next() % 2)
    buf[n++] = '.';
  if (shape == 1 && n) /* one byte spoiled */
    buf[next() % n] = stray[next() % (sizeof stray - 1)];
  return n;
}

#if NUMPARSE_X4
/* Out of line, so that the scalar calls below are compiled for the baseline. */
static __attribute__((noinline, target("avx2"))) unsigned x4(const char *const s[4],
                                                             const size_t len[4], double out[4]) {
  return numparse_short_x4(s, len, out, 0);
}

static __attribute__((noinline, target("avx2"))) unsigned
x4_wide(const char *const s[4], const size_t len[4], double out[4]) {
  return numparse_short_x4(s, len, out, 1);
}

/* The lanes of x4 (wide: x4_wide on `wide`, the same fields with other
 * bytes after them) against numparse_short on the exact fields. */
static void check_group(char *const text[4], const size_t len[4], char *const wide[4]) {
  const char *s[4] = {text[0], text[1], text[2], text[3]};
  double out[4];
  unsigned ok = wide ? x4_wide((const char *const *)wide, len, out) : x4(s, len, out);
  for (int i = 0; i < 4; i++) {
    double one = 0, ref = 0;
    int short_ok = numparse_short(s[i], len[i], &one);
    CHECK(((ok >> i) & 1) == (unsigned)short_ok, "lane %d \"%.*s\": x4 %s, short %s", i,
          (int)len[i], s[i], (ok >> i) & 1 ? "takes it" : "declines",
          short_ok ? "takes it" : "declines");
    if (!((ok >> i) & 1))
      continue;
    CHECK(same_bits(out[i], one), "lane %d \"%.*s\": x4 %.17g, short %.17g", i, (int)len[i], s[i],
          out[i], one);
    CHECK(csvreg_parse_double(s[i], len[i], &ref) == CSVREG_OK && same_bits(out[i], ref),
          "lane %d \"%.*s\": x4 %.17g, csvreg_parse_double %.17g", i, (int)len[i], s[i], out[i],
          ref);
  }
}

static void run_group(char bufs[4][16], const size_t len[4]) {
  static const char after[] = "0123456789.-+e,\n\r\"";
  char *text[4], *wide[4];
  for (int i = 0; i < 4; i++) {
    text[i] = malloc(len[i] ? len[i] : 1); /* exactly the field: ASan sees any overread */
    memcpy(text[i], bufs[i], len[i]);
    /* numparse_gather's promise with `wide`: it reads [s, s + 9), no more; the
     * bytes after the field are anything input may hold */
    size_t size = len[i] > 9 ? len[i] : 9;
    wide[i] = malloc(size);
    memcpy(wide[i], bufs[i], len[i]);
    for (size_t j = len[i]; j < size; j++)
      wide[i][j] = after[next() % (sizeof after - 1)];
  }
  check_group(text, len, NULL);
  check_group(text, len, wide);
  for (int i = 0; i < 4; i++) {
    free(text[i]);
    free(wide[i]);
  }
}

static void test_lanes(long groups) {
  char bufs[4][16];
  size_t len[4];
  for (long g = 0; g < groups; g++) {
    for (int i = 0; i < 4; i++)
      len[i] = gen_field(bufs[i]);
    run_group(bufs, len);
  }
  /* Every string of 0..4 bytes over a small alphabet, in lane (k mod 4). */
  static const char alpha[] = "059.-+e";
  const size_t na = sizeof alpha - 1;
  long k = 0;
  for (size_t l = 0; l <= 4; l++) {
    size_t total = 1;
    for (size_t i = 0; i < l; i++)
      total *= na;
    for (size_t v = 0; v < total; v++, k++) {
      int lane = (int)(k % 4);
      size_t x = v;
      for (size_t i = 0; i < l; i++, x /= na)
        bufs[lane][i] = alpha[x % na];
      len[lane] = l;
      for (int i = 0; i < 4; i++)
        if (i != lane) {
          memcpy(bufs[i], "-1.5", 4);
          len[i] = 4;
        }
      run_group(bufs, len);
    }
  }
}

#endif

/* ---- chunks --------------------------------------------------------------------------------- */

static size_t gen_cell(char *buf) {
  static const char *const general[] = {"1e3",          "+5", " 7",  "123456789012",
                                        "-0.000001e-2", "4.", ".25", "-0"};
  switch (next() % 10) {
  case 0: return (size_t)sprintf(buf, "%s", general[next() % 8]);
  case 1:
    if (next() % 8 == 0)
      return (size_t)sprintf(buf, "%s", next() % 2 ? "NA" : "");
    /* fall through */
  default: {
    size_t n = gen_field(buf);
    double v;
    if (csvreg_parse_double(buf, n, &v) != CSVREG_OK) /* keep the file valid */
      n = (size_t)sprintf(buf, "%d", (int)(next() % 1000) - 500);
    return n;
  }
  }
}

/* A reader over csv with CSVREG_SIMD set to `simd` (NULL: unset), which
 * readers and chunks read when they are made. */
static csvreg_reader *open_csv(const char *csv, size_t len, const char *simd) {
  if (simd)
    setenv("CSVREG_SIMD", simd, 1);
  else
    unsetenv("CSVREG_SIMD");
  csvreg_error err;
  csvreg_reader *r;
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  if (csvreg_reader_open_mem(&r, csv, len, "mem", &ro, &err) != CSVREG_OK) {
    fprintf(stderr, "setup failed: %s\n", err.message);
    exit(1);
  }
  return r;
}

typedef struct filled {
  size_t rows;
  double *vals; /* rows x ncol, row-major: features then target */
} filled;

static filled fill_all(const char *csv, size_t len, size_t ncol, const char *simd) {
  csvreg_error err;
  csvreg_reader *r = open_csv(csv, len, simd);
  csvreg_spec *s;
  csvreg_chunk *c;
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.target = "y";
  filled f = {0, malloc(len * sizeof(double))};
  if (csvreg_spec_new(&s, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), &so, &err) !=
          CSVREG_OK ||
      csvreg_chunk_new(&c, s, 7, &err) != CSVREG_OK) {
    fprintf(stderr, "setup failed: %s\n", err.message);
    exit(1);
  }
  csvreg_status st;
  do {
    st = csvreg_chunk_fill(c, r, &err);
    CHECK(!csvreg_is_error(st), "fill: %s (line %llu)", err.message, (unsigned long long)err.line);
    if (csvreg_is_error(st))
      break;
    const double *x, *y, *w;
    size_t ldx;
    csvreg_chunk_design(c, &x, &ldx, &y, &w);
    for (size_t i = 0; i < csvreg_chunk_rows(c); i++, f.rows++) {
      for (size_t j = 0; j + 1 < ncol; j++)
        f.vals[f.rows * ncol + j] = x[j * ldx + i];
      f.vals[f.rows * ncol + ncol - 1] = y[i];
    }
  } while (st != CSVREG_END);
  csvreg_chunk_free(c);
  csvreg_spec_free(s);
  csvreg_reader_free(r);
  return f;
}

/* csvreg_record_parse_cells over every record of `csv`, from every start k:
 * the cells before the index it returns are csvreg_parse_double's bits; the
 * cell at it is not one numparse_short takes. Columns in reverse order, so
 * that cols is not the identity. */
static void check_record_cells(const char *csv, size_t len, size_t ncol, const char *simd) {
  csvreg_error err;
  csvreg_reader *r = open_csv(csv, len, simd);
  size_t cols[16];
  double out[16 * 3], ref;
  for (size_t j = 0; j < ncol; j++)
    cols[j] = ncol - 1 - j;
  csvreg_record rec;
  while (csvreg_reader_next(r, &rec, &err) == CSVREG_OK) {
    for (size_t k = 0; k < ncol; k++) {
      size_t stop = csvreg_record_parse_cells(r, &rec, cols, k, ncol, out, 3);
      CHECK(stop >= k && stop <= ncol, "record %llu: stop %zu from %zu",
            (unsigned long long)rec.number, stop, k);
      for (size_t j = k; j < stop && j < ncol; j++) {
        const csvreg_field *f = &rec.fields[cols[j]];
        CHECK(csvreg_parse_double(f->ptr, f->len, &ref) == CSVREG_OK && same_bits(out[j * 3], ref),
              "record %llu cell %zu \"%.*s\": %.17g", (unsigned long long)rec.number, j,
              (int)f->len, f->ptr, out[j * 3]);
      }
      if (stop < ncol) {
        const csvreg_field *f = &rec.fields[cols[stop]];
        CHECK(!numparse_short(f->ptr, f->len, &ref), "record %llu: stopped at short cell \"%.*s\"",
              (unsigned long long)rec.number, (int)f->len, f->ptr);
      }
    }
  }
  csvreg_reader_free(r);
}

static void test_chunks(void) {
  char *csv = malloc(1 << 20), cell[64];
  double *expect = malloc((1 << 20) * sizeof(double));
  for (size_t ncol = 2; ncol <= 13; ncol++) {
    size_t len = 0, rows = 0;
    for (size_t j = 0; j + 1 < ncol; j++)
      len += (size_t)sprintf(csv + len, "x%zu,", j + 1);
    len += (size_t)sprintf(csv + len, "y\n");
    for (int row = 0; row < 3000; row++) {
      int na = 0;
      for (size_t j = 0; j < ncol; j++) {
        size_t n = gen_cell(cell);
        double v = 0;
        if (csvreg_parse_double(cell, n, &v) != CSVREG_OK)
          na = 1;
        expect[rows * ncol + j] = v;
        memcpy(csv + len, cell, n);
        len += n;
        csv[len++] = j + 1 < ncol ? ',' : '\n';
      }
      rows += !na;
    }
    check_record_cells(csv, len, ncol, NULL);
    check_record_cells(csv, len, ncol, "sse2");
    filled a = fill_all(csv, len, ncol, NULL), b = fill_all(csv, len, ncol, "sse2");
    CHECK(a.rows == rows && b.rows == rows, "%zu columns: %zu rows expected, avx2 %zu, sse2 %zu",
          ncol, rows, a.rows, b.rows);
    for (size_t i = 0; i < rows * ncol && a.rows == rows && b.rows == rows; i++)
      CHECK(same_bits(a.vals[i], expect[i]) && same_bits(b.vals[i], expect[i]),
            "%zu columns, row %zu column %zu: expected %.17g, avx2 %.17g, sse2 %.17g", ncol,
            i / ncol, i % ncol, expect[i], a.vals[i], b.vals[i]);
    free(a.vals);
    free(b.vals);
  }
  unsetenv("CSVREG_SIMD");
  free(csv);
  free(expect);
}

int main(int argc, char **argv) {
  long groups = argc > 1 ? atol(argv[1]) : 2000000;
  int lanes = 0;
#if NUMPARSE_X4
  if (csvreg__simd_avx2()) {
    test_lanes(groups);
    lanes = 1;
  }
#endif
  /* Without AVX2 both fills take the scalar paths: still checked against
   * csvreg_parse_double. */
  test_chunks();
  if (lanes)
    printf("%ld random groups of four fields and all strings of <= 4 bytes in AVX2 lanes; ",
           groups);
  else
    printf("AVX2 lanes not in this build or not on this CPU: not tested; ");
  printf("chunks of 2..13 columns: %ld failures\n", failures);
  return failures ? 1 : 0;
}
