/*
 * bad_rows.h - what --skip-bad dropped, told (issue 16): the first few rows
 * on standard error as FILE:LINE: column NAME: reason, then "... and N more";
 * every one with --bad-rows FILE, a CSV (line,column,reason,text) written as
 * the rows come (bounded memory) and atomically (atomic_file.h).
 */
#ifndef CSVREG_BAD_ROWS_H
#define CSVREG_BAD_ROWS_H

#include <stdint.h>

#include "atomic_file.h"
#include "cli.h"

#define BAD_ROWS_SHOWN 5

typedef struct bad_rows {
  uint64_t n; /* rows told so far */
  int file;   /* --bad-rows given: af is open */
  atomic_file af;
  char delim;       /* the input's, to write a record's text back */
  char *rec, *line; /* growing buffers (csvreg_csv_append) */
  size_t rec_cap, line_cap;
  int oom; /* a line could not be made: the file is incomplete */
} bad_rows;

/* Starts a report; with `path` (not NULL) opens its file and writes the
 * header. Returns 0, or the exit status after printing why. */
int bad_rows_open(bad_rows *b, const char *path, char delim);

/* A csvreg_bad_row_fn: `ctx` is the bad_rows. */
void bad_rows_add(void *ctx, const csvreg_bad_row *r);

/* Ends the report: "... and N more" on standard error when rows were not
 * shown; with ok, commits the file (returns CLI_EXIT_IO after printing why
 * if that fails), else removes it. Safe on a zeroed bad_rows. */
int bad_rows_close(bad_rows *b, int ok);

#endif
