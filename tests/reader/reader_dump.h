/*
 * reader_dump.h - renders everything a reader yields (names, records, the
 * final status and error) as one string, so tests compare whole parses at
 * once and the differential test compares the fast path with libcsv.
 */
#ifndef READER_DUMP_H
#define READER_DUMP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"

typedef struct dump_buf {
  char *s;
  size_t len, cap;
} dump_buf;

static void dump_put(dump_buf *d, const char *p, size_t n) {
  if (d->len + n + 1 > d->cap) {
    while (d->len + n + 1 > d->cap)
      d->cap = d->cap ? d->cap * 2 : 256;
    d->s = realloc(d->s, d->cap);
    if (!d->s)
      abort();
  }
  memcpy(d->s + d->len, p, n);
  d->len += n;
  d->s[d->len] = '\0';
}

static void dump_printf(dump_buf *d, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  dump_put(d, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Fields in brackets; bytes outside printable ASCII (and [ ] \) as \xNN. */
static void dump_field(dump_buf *d, const char *p, size_t n) {
  dump_put(d, "[", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c < 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\')
      dump_printf(d, "\\x%02x", c);
    else
      dump_put(d, (const char *)&c, 1);
  }
  dump_put(d, "]", 1);
}

/* "names:[a][b]\nL2 N2 [1][2]\n...END\n" or "...ERR 5 L3 R3 message\n".
 * With `with_message` 0 the error message is left out (the two paths may
 * word a limit error differently; status, line and record must agree). */
static char *dump_parse(const void *data, size_t len, const csvreg_reader_options *o,
                        int with_message) {
  dump_buf d = {0};
  csvreg_reader *r;
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_status st = csvreg_reader_open_mem(&r, data, len, "mem", o, &err);
  if (st == CSVREG_OK) {
    size_t nc = csvreg_reader_ncolumns(r);
    const char *const *names = csvreg_reader_column_names(r);
    dump_printf(&d, "names:");
    for (size_t i = 0; i < nc; i++)
      dump_field(&d, names[i], strlen(names[i]));
    dump_put(&d, "\n", 1);
    csvreg_record rec;
    while ((st = csvreg_reader_next(r, &rec, &err)) == CSVREG_OK) {
      dump_printf(&d, "L%llu N%llu ", (unsigned long long)rec.line, (unsigned long long)rec.number);
      for (size_t i = 0; i < rec.nfields; i++)
        dump_field(&d, rec.fields[i].ptr, rec.fields[i].len);
      dump_put(&d, "\n", 1);
    }
    if (st == CSVREG_END && csvreg_reader_bytes(r) != len)
      dump_printf(&d, "BYTES %llu of %zu\n", (unsigned long long)csvreg_reader_bytes(r), len);
    csvreg_reader_free(r);
  }
  if (st == CSVREG_END)
    dump_printf(&d, "END\n");
  else
    dump_printf(&d, "ERR %d L%llu R%llu %s\n", (int)st, (unsigned long long)err.line,
                (unsigned long long)err.record, with_message ? err.message : "");
  return d.s;
}

#endif
