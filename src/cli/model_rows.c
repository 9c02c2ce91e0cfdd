/*
 * model_rows.c - a kept model's columns in a new input: found by header name
 * (any order, other columns ignored), parsed with the library's exact number
 * parser (its four-cell fast path for plain numbers, as the chunk does),
 * missing values recognised with the NA tokens the model was fitted with, so
 * that predict and eval read a file exactly as fit did.
 */
#include <stdlib.h>
#include <string.h>

#include "model_cli.h"

void model_cols_free(model_cols *mc) {
  if (!mc)
    return;
  csvreg_na_free(mc->na);
  free(mc->feat);
  memset(mc, 0, sizeof *mc);
}

static csvreg_status column_error(csvreg_error *err, const csvreg_reader *r) {
  err->status = CSVREG_E_COLUMN;
  snprintf(err->source, sizeof err->source, "%s", csvreg_reader_source(r));
  err->line = 1;
  return CSVREG_E_COLUMN;
}

/* The one column named `name`, or an error. */
static csvreg_status find(const csvreg_reader *r, const char *name, const char *role, size_t *out,
                          csvreg_error *err) {
  const char *const *names = csvreg_reader_column_names(r);
  size_t n = csvreg_reader_ncolumns(r), found = n;
  for (size_t j = 0; j < n; j++) {
    if (strcmp(names[j], name) != 0)
      continue;
    if (found < n) {
      snprintf(err->message, sizeof err->message,
               "model %s column '%s' is ambiguous: columns %zu and %zu share the name", role, name,
               found + 1, j + 1);
      return column_error(err, r);
    }
    found = j;
  }
  if (found == n) {
    snprintf(err->message, sizeof err->message, "no %s column named '%s' in the header", role,
             name);
    return column_error(err, r);
  }
  *out = found;
  return CSVREG_OK;
}

csvreg_status model_cols_bind(model_cols *mc, const csvreg_model *m, const csvreg_reader *r,
                              int need_target, csvreg_error *err) {
  memset(mc, 0, sizeof *mc);
  mc->ncolumns = csvreg_reader_ncolumns(r);
  mc->p = csvreg_model_nfeatures(m);
  const csvreg_model_options *o = csvreg_model_get_options(m);
  if (!(mc->feat = calloc(mc->p ? mc->p : 1, sizeof *mc->feat)) ||
      csvreg_na_new(&mc->na, o->na, NULL)) {
    err->status = CSVREG_E_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return CSVREG_E_NOMEM;
  }
  csvreg_status st = CSVREG_OK;
  for (size_t j = 0; !st && j < mc->p; j++)
    st = find(r, csvreg_model_feature(m, j), "feature", &mc->feat[j], err);
  if (!st && need_target)
    st = find(r, csvreg_model_target(m), "target", &mc->target, err);
  if (!st && need_target && o->weights) {
    mc->has_weights = 1;
    st = find(r, o->weights, "weights", &mc->weights, err);
  }
  return st;
}

/* As the library shows a cell in a message: at most 40 bytes, control bytes
 * and quotes escaped. */
static void quote_cell(char *dst, size_t size, const char *s, size_t len) {
  size_t o = 0, max = len > 40 ? 40 : len;
  for (size_t i = 0; i < max && o + 5 < size; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      o += (size_t)snprintf(dst + o, size - o, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      o += (size_t)snprintf(dst + o, size - o, "\\x%02x", c);
    else
      dst[o++] = (char)c;
  }
  if (len > max && o + 4 < size)
    o += (size_t)snprintf(dst + o, size - o, "...");
  dst[o] = '\0';
}

static row_status bad_cell(const csvreg_reader *r, const csvreg_record *rec, size_t col,
                           const char *what, csvreg_error *err) {
  const csvreg_field *f = &rec->fields[col];
  char shown[200];
  quote_cell(shown, sizeof shown, f->ptr, f->len);
  err->status = CSVREG_E_VALUE;
  snprintf(err->source, sizeof err->source, "%s", csvreg_reader_source(r));
  err->line = rec->line;
  err->record = rec->number;
  err->column = col + 1;
  snprintf(err->column_name, sizeof err->column_name, "%s", csvreg_reader_column_names(r)[col]);
  snprintf(err->message, sizeof err->message, "expected %s, found \"%s\"", what, shown);
  return ROW_BAD;
}

/* One cell: 0 number, 1 missing, -1 not a number. */
static int cell(const model_cols *mc, const csvreg_field *f, double *v) {
  if (csvreg_na_numeric(mc->na) && csvreg_na_match(mc->na, f->ptr, f->len))
    return 1;
  if (csvreg_parse_double(f->ptr, f->len, v) == CSVREG_OK)
    return 0;
  return csvreg_na_match(mc->na, f->ptr, f->len) ? 1 : -1;
}

row_status model_cols_parse(const model_cols *mc, const csvreg_reader *r, const csvreg_record *rec,
                            double *x, size_t ld, double *y, double *w, size_t *col,
                            csvreg_error *err) {
  if (rec->nfields != mc->ncolumns) {
    err->status = CSVREG_E_CSV;
    snprintf(err->source, sizeof err->source, "%s", csvreg_reader_source(r));
    err->line = rec->line;
    err->record = rec->number;
    err->column = 0;
    err->column_name[0] = '\0';
    snprintf(err->message, sizeof err->message, "expected %zu fields, found %zu", mc->ncolumns,
             rec->nfields);
    return ROW_BAD;
  }
  row_status rs = ROW_OK;
  /* Plain numbers by the library's fast path, the others (and every cell
   * when a missing-value token is a number, which must win) one by one. */
  const int fast = !csvreg_na_numeric(mc->na);
  size_t j = fast ? csvreg_record_parse_cells(r, rec, mc->feat, 0, mc->p, x, ld) : 0;
  while (j < mc->p) {
    int c = cell(mc, &rec->fields[mc->feat[j]], &x[j * ld]);
    if (c < 0)
      return bad_cell(r, rec, mc->feat[j], "a number", err);
    if (c > 0 && rs == ROW_OK) {
      rs = ROW_MISSING;
      *col = mc->feat[j];
    }
    j = fast ? csvreg_record_parse_cells(r, rec, mc->feat, j + 1, mc->p, x, ld) : j + 1;
  }
  if (y) {
    int c = cell(mc, &rec->fields[mc->target], y);
    if (c < 0)
      return bad_cell(r, rec, mc->target, "a number", err);
    if (c > 0 && rs == ROW_OK) {
      rs = ROW_MISSING;
      *col = mc->target;
    }
  }
  if (w) {
    *w = 1.0;
    if (mc->has_weights) {
      int c = cell(mc, &rec->fields[mc->weights], w);
      if (c < 0)
        return bad_cell(r, rec, mc->weights, "a number", err);
      if (c > 0 && rs == ROW_OK) {
        rs = ROW_MISSING;
        *col = mc->weights;
      } else if (c == 0 && *w < 0) {
        bad_cell(r, rec, mc->weights, "a weight >= 0", err);
        return ROW_FATAL;
      }
    }
  }
  return rs;
}
