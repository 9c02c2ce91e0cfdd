/*
 * fuzz_chunk.c - differential libFuzzer target for filling chunks: the same
 * bytes read and parsed by the AVX2 splitter and number lanes (with the
 * one-word field loads of records that have csvreg__reader_slack) and by the SSE2
 * splitter and one-field-at-a-time parser (CSVREG_SIMD=sse2) must give the
 * same transcript: every fill's status, rows, counts, missing-value counts,
 * record numbers and design values bit for bit, and the same error (status,
 * line, record, column, message). Byte 0 picks the chunk's rows, the read
 * size, skip-bad and the NA tokens; byte 1 the target column and, with its
 * high bit, predict's mode (every record kept with its status and its
 * re-quoted text, which must also agree); the rest is the CSV input (no
 * header: columns V1, V2, ...).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"

typedef struct transcript {
  unsigned char *p;
  size_t len, cap;
} transcript;

static void put(transcript *t, const void *v, size_t n) {
  if (t->len + n > t->cap) {
    size_t cap = (t->len + n) * 2;
    unsigned char *p = realloc(t->p, cap);
    if (!p)
      abort();
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, v, n);
  t->len += n;
}

static void put_error(transcript *t, csvreg_status st, const csvreg_error *e) {
  put(t, &st, sizeof st);
  put(t, &e->line, sizeof e->line);
  put(t, &e->record, sizeof e->record);
  put(t, &e->column, sizeof e->column);
  put(t, e->message, strlen(e->message));
}

static transcript run(const uint8_t *data, size_t size, uint8_t opts, uint8_t target,
                      const char *simd) {
  transcript t = {0};
  if (simd)
    setenv("CSVREG_SIMD", simd, 1);
  else
    unsetenv("CSVREG_SIMD");
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  ro.header = 0;
  ro.buffer_bytes = (opts & 8) ? 0 : 16 + (size_t)(opts >> 4) * 37;
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  char target_col[8];
  snprintf(target_col, sizeof target_col, "%u", (unsigned)(target % 12) + 1);
  so.target = target_col;
  so.skip_bad = opts & 1;
  so.na = (opts & 2) ? "NA,-999, ." : NULL;
  csvreg_error err;
  memset(&err, 0, sizeof err);
  csvreg_reader *r = NULL;
  csvreg_spec *s = NULL;
  csvreg_chunk *c = NULL;
  csvreg_status st = csvreg_reader_open_mem(&r, data, size, "fuzz", &ro, &err);
  if (!st)
    st = csvreg_spec_new(&s, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), &so, &err);
  csvreg_chunk_options co;
  csvreg_chunk_options_init(&co);
  co.rows = (opts & 4) ? 1 : 7;
  co.keep_rows = co.keep_text = (target & 0x80) != 0;
  if (!st)
    st = csvreg_chunk_new_with(&c, s, &co, &err);
  while (!st) {
    st = csvreg_chunk_fill(c, r, &err);
    if (csvreg_is_error(st))
      break;
    size_t rows = csvreg_chunk_rows(c), nterms = csvreg_spec_nterms(s);
    const double *x, *y, *w;
    size_t ldx;
    csvreg_chunk_design(c, &x, &ldx, &y, &w);
    put(&t, &rows, sizeof rows);
    put(&t, csvreg_chunk_counts(c), sizeof(csvreg_counts));
    put(&t, csvreg_chunk_na_counts(c), (nterms + 1) * sizeof(uint64_t));
    put(&t, csvreg_chunk_record_numbers(c), rows * sizeof(uint64_t));
    for (size_t j = 0; j < nterms; j++)
      put(&t, x + j * ldx, rows * sizeof *x);
    put(&t, y, rows * sizeof *y);
    if (co.keep_rows) {
      size_t nrec = csvreg_chunk_nrecords(c);
      const char *text;
      const size_t *ends;
      csvreg_chunk_text(c, &text, &ends);
      put(&t, &nrec, sizeof nrec);
      put(&t, csvreg_chunk_row_status(c), nrec);
      put(&t, ends, nrec * sizeof *ends);
      if (nrec)
        put(&t, text, ends[nrec - 1]);
    }
  }
  put_error(&t, st, &err);
  csvreg_chunk_free(c);
  csvreg_spec_free(s);
  csvreg_reader_free(r);
  return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  uint8_t opts = data[0], target = data[1];
  data += 2;
  size -= 2;
  transcript a = run(data, size, opts, target, NULL);
  transcript b = run(data, size, opts, target, "sse2");
  if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
    size_t at = 0;
    while (at < a.len && at < b.len && a.p[at] == b.p[at])
      at++;
    fprintf(stderr, "fuzz_chunk: AVX2 and SSE2 transcripts differ at byte %zu (%zu vs %zu)\n", at,
            a.len, b.len);
    abort();
  }
  free(a.p);
  free(b.p);
  return 0;
}
