/*
 * fuzz_reader.c - differential libFuzzer target for the reader: the same
 * bytes through the fast path and through libcsv alone must give the same
 * records (fields, count, line, number) and the same end (status, line,
 * record). Byte 0 picks the fast reader's read size, byte 1 libcsv's, byte 2
 * the header flag and a small record limit; the rest is the CSV input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"

static size_t buffer_size(uint8_t b) { return b == 255 ? 0 : (size_t)(b % 64) + 1; }

static void mismatch(const char *what, uint64_t line) {
  fprintf(stderr, "fuzz_reader: fast path and libcsv differ: %s (line %llu)\n", what,
          (unsigned long long)line);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  csvreg_reader_options a, b;
  csvreg_reader_options_init(&a);
  a.header = data[2] & 1;
  a.max_record_bytes = (data[2] & 2) ? (size_t)(data[2] >> 2) + 1 : 0;
  b = a;
  a.buffer_bytes = buffer_size(data[0]);
  b.buffer_bytes = buffer_size(data[1]);
  b.force_libcsv = 1;
  data += 3;
  size -= 3;

  csvreg_reader *ra = NULL, *rb = NULL;
  csvreg_error ea, eb;
  csvreg_error_clear(&ea);
  csvreg_error_clear(&eb);
  csvreg_status sa = csvreg_reader_open_mem(&ra, data, size, "fuzz", &a, &ea);
  csvreg_status sb = csvreg_reader_open_mem(&rb, data, size, "fuzz", &b, &eb);
  if (sa != sb)
    mismatch("open status", ea.line);
  if (sa == CSVREG_OK) {
    size_t nc = csvreg_reader_ncolumns(ra);
    if (nc != csvreg_reader_ncolumns(rb))
      mismatch("ncolumns", 0);
    for (size_t i = 0; i < nc; i++)
      if (strcmp(csvreg_reader_column_names(ra)[i], csvreg_reader_column_names(rb)[i]) != 0)
        mismatch("column name", 0);
    for (;;) {
      csvreg_record x, y;
      sa = csvreg_reader_next(ra, &x, &ea);
      sb = csvreg_reader_next(rb, &y, &eb);
      if (sa != sb)
        mismatch("next status", sa == CSVREG_OK ? x.line : y.line);
      if (sa != CSVREG_OK)
        break;
      if (x.nfields != y.nfields || x.line != y.line || x.number != y.number)
        mismatch("record shape", x.line);
      for (size_t i = 0; i < x.nfields; i++)
        if (x.fields[i].len != y.fields[i].len ||
            (x.fields[i].len && memcmp(x.fields[i].ptr, y.fields[i].ptr, x.fields[i].len) != 0))
          mismatch("field", x.line);
    }
    if (sa == CSVREG_END && (csvreg_reader_bytes(ra) != size || csvreg_reader_bytes(rb) != size))
      mismatch("bytes consumed", 0);
  }
  if (csvreg_is_error(sa) &&
      (ea.status != eb.status || ea.line != eb.line || ea.record != eb.record ||
       strcmp(ea.source, "fuzz") != 0 || ea.message[0] == '\0'))
    mismatch("error", ea.line);
  csvreg_reader_free(ra);
  csvreg_reader_free(rb);
  return 0;
}
