/*
 * bad_rows.c - the report of rows --skip-bad dropped (bad_rows.h): the
 * chunk calls bad_rows_add as it drops each row, so the file is written as
 * the input is read and memory stays one record's text.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bad_rows.h"

int bad_rows_open(bad_rows *b, const char *path, char delim) {
  memset(b, 0, sizeof *b);
  b->delim = delim;
  if (!path)
    return 0;
  char msg[1024];
  int rc = atomic_open(&b->af, path, msg, sizeof msg);
  if (rc) {
    cli_errorf("%s", msg);
    return rc;
  }
  b->file = 1;
  fputs("line,column,reason,text\n", b->af.fp);
  return 0;
}

void bad_rows_add(void *ctx, const csvreg_bad_row *r) {
  bad_rows *b = ctx;
  b->n++;
  if (b->n <= BAD_ROWS_SHOWN) {
    if (r->name)
      cli_warnf("%s:%" PRIu64 ": column %s: %s (row skipped)", r->source, r->line, r->name,
                r->reason);
    else
      cli_warnf("%s:%" PRIu64 ": %s (row skipped)", r->source, r->line, r->reason);
  }
  if (!b->file)
    return;
  /* text: the record as CSV in the input's delimiter (empty when the row
   * was dropped after parsing: its reason holds the values) */
  size_t rlen = 0, llen = 0;
  csvreg_error err;
  csvreg_error_clear(&err);
  if (r->fields &&
      csvreg_csv_append(&b->rec, &rlen, &b->rec_cap, r->fields, r->nfields, b->delim, &err)) {
    b->oom = 1;
    return;
  }
  char num[32], col[32];
  snprintf(num, sizeof num, "%" PRIu64, r->line);
  if (r->column)
    snprintf(col, sizeof col, "%zu", r->column);
  else
    col[0] = 0;
  const char *name = r->name ? r->name : col;
  csvreg_field f[4] = {{num, strlen(num)},
                       {name, strlen(name)},
                       {r->reason, strlen(r->reason)},
                       {r->fields ? b->rec : "", r->fields ? rlen : 0}};
  if (csvreg_csv_append(&b->line, &llen, &b->line_cap, f, 4, ',', &err)) {
    b->oom = 1;
    return;
  }
  fwrite(b->line, 1, llen, b->af.fp);
  fputc('\n', b->af.fp);
}

int bad_rows_close(bad_rows *b, int ok) {
  int rc = 0;
  if (b->n > BAD_ROWS_SHOWN)
    cli_warnf("... and %" PRIu64 " more skipped row%s%s", b->n - BAD_ROWS_SHOWN,
              CLI_PLURAL(b->n - BAD_ROWS_SHOWN), b->file ? "" : " (--bad-rows FILE lists all)");
  if (b->file) {
    char msg[1024];
    if (ok && b->oom) {
      cli_errorf("--bad-rows: out of memory for a row's text");
      atomic_abort(&b->af);
      rc = CLI_EXIT_INTERNAL;
    } else if (ok && atomic_commit(&b->af, msg, sizeof msg) != 0) {
      cli_errorf("%s", msg);
      rc = CLI_EXIT_IO;
    } else {
      atomic_abort(&b->af);
    }
  }
  free(b->rec);
  free(b->line);
  memset(b, 0, sizeof *b);
  return rc;
}
