/*
 * csv_text.h - records written back as RFC 4180 text (csv_text.c), shared by
 * the chunk (which keeps each record's text for predict) and the public
 * csvreg_csv_append.
 */
#ifndef CSVREG_CSV_TEXT_H
#define CSVREG_CSV_TEXT_H

#include <stddef.h>

#include "csvreg.h"

/* A growing text buffer; p is malloc'd (free it), len bytes used of cap. */
typedef struct csv_text {
  char *p;
  size_t len, cap;
} csv_text;

/* Makes room for `more` bytes after len; -1 when out of memory. */
int csvreg__csv_text_reserve(csv_text *t, size_t more);

/* Appends one field, quoted (quotes doubled) when it holds the delimiter, a
 * quote, CR or LF, else as it is; -1 when out of memory. */
int csvreg__csv_text_field(csv_text *t, const char *s, size_t len, char delim);

/* Appends a record's fields, delimited, without a line end; -1 when out of
 * memory. */
int csvreg__csv_text_record(csv_text *t, const csvreg_field *f, size_t n, char delim);

#endif
