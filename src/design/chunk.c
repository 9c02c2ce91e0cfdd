/*
 * chunk.c - the fixed block of rows x input columns: the memory bound of a
 * run lives here. Filling parses only the cells the spec uses, drops rows
 * with a missing value (counted per column), and stops at `cap` rows, so the
 * accumulator sees blocks large enough for level-3 BLAS.
 *
 * The same fill serves predict and eval (csvreg_chunk_options): predict
 * keeps every record in order with its status (complete, missing, bad) and
 * its text, so an output row can be written for each input row; eval leaves
 * out rows of weight 0, which score nothing. One row path for all three
 * commands means they parse and judge a cell alike.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "csv_text.h"
#include "design.h"
#include "badlog.h"
#include "formula.h"
#include "internal.h"

/* The levels of one categorical variable seen by this chunk, in order of
 * appearance (index = the row's level number), with a hash of them. */
typedef struct level_table {
  char **names;
  size_t *len;
  size_t n, cap;
  uint32_t *hash; /* [hcap] level + 1, 0: empty */
  size_t hcap;
} level_table;

struct csvreg_chunk {
  const csvreg_spec *spec; /* borrowed */
  csvreg_chunk_options opt;
  csvreg_bad_row_fn on_bad; /* --skip-bad reports (csvreg_chunk_on_bad) */
  void *on_bad_ctx;
  size_t cap, rows;
  size_t nrecords;       /* keep_rows: records read by the last fill */
  unsigned char *status; /* keep_rows: [cap] csvreg_row_status of each record */
  csv_text text;         /* keep_text: the records' text, re-quoted */
  size_t *text_end;      /* keep_text: [cap] end of each record's text */
  double *vals;          /* cap x ninputs, column-major */
  csvreg_counts counts;
  uint64_t *na;          /* [ninputs] */
  unsigned char *row_na; /* [ninputs] scratch for one row */
  uint64_t *recno;       /* [cap] record number of each row (for splitting) */
  uint64_t *lines;       /* computed specs: [cap] physical line of each row */
  design_work work;      /* computed specs: the design buffers */
  design_block design;
  /* categorical variables (s->nfactors): each row's level, the tables of
   * levels seen, and the live design columns (append-only: a column keeps
   * its place when levels bring new ones; matched to R's by name). */
  uint32_t *lev;         /* [nfactors x cap] */
  level_table *tab;      /* [nfactors] */
  int levels_new;        /* a level appeared since the columns were made */
  csvreg__dcols *live_d; /* the columns for the levels seen (spec_live_columns) */
  size_t *order;         /* [nlive] design column j is live_d->cols[order[j]] */
  size_t nlive, order_cap;
  /* skip_bad: the columns before this fill's levels, to go back to when
   * rows dropped for a non-finite value took the only uses of new levels */
  size_t *tab_n0;        /* [nfactors] levels before this fill */
  csvreg__dcols *prev_d; /* live_d before update_columns (owned) */
  size_t *prev_order;    /* [prev_nlive] */
  size_t prev_nlive;
  /* The level head's factor (an option the chunk's owner sets after the
   * first fill, csvreg__chunk_set_head): its main-effect indicator columns
   * are left out of the design block from the next fill on, and the
   * consumer folds them from each row's level index. `omit` is the slot
   * this fill left out: live column j is design column xpos[j], (size_t)-1
   * when left out; nx columns are made. */
  size_t head;
  int planned; /* csvreg__chunk_set_head was called */
  size_t omit;
  size_t *xpos; /* [order_cap] */
  size_t nx;
  /* key columns (spec nkeys): each complete row's cell text */
  char *ktext;
  size_t klen, kcap;
  size_t *koff, *kl; /* [nkeys x cap] */
  /* --skip-bad reports in input order (ux2): with a computed spec the rows
   * dropped for a bad cell wait here until the fill's non-finite terms are
   * known, and both go to on_bad merged by line (report_in_order) */
  badlog *defer;
};

static long table_find_add(level_table *t, const char *p, size_t n, int *added);

void csvreg_chunk_options_init(csvreg_chunk_options *o) {
  memset(o, 0, sizeof *o);
  o->delimiter = ',';
}

csvreg_status csvreg_chunk_new(csvreg_chunk **out, const csvreg_spec *s, size_t rows,
                               csvreg_error *err) {
  csvreg_chunk_options o;
  csvreg_chunk_options_init(&o);
  o.rows = rows;
  return csvreg_chunk_new_with(out, s, &o, err);
}

csvreg_status csvreg_chunk_new_with(csvreg_chunk **out, const csvreg_spec *s,
                                    const csvreg_chunk_options *o, csvreg_error *err) {
  if (!out || !o)
    return csvreg__err_set(err, CSVREG_E_USAGE, "chunk_new: NULL argument");
  *out = NULL;
  if (!s)
    return csvreg__err_set(err, CSVREG_E_USAGE, "no spec");
  size_t rows = o->rows;
  if (rows == 0)
    rows = CSVREG_DEFAULT_CHUNK_ROWS;
  if (rows > ((size_t)1 << 26) || s->ninputs > SIZE_MAX / sizeof(double) / rows)
    return csvreg__err_set(err, CSVREG_E_LIMIT, "chunk of %zu rows x %zu columns is too large",
                           rows, s->ninputs);
  csvreg_chunk *c = calloc(1, sizeof *c);
  if (!c)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  c->spec = s;
  c->opt = *o;
  c->opt.rows = rows;
  c->cap = rows;
  c->vals = calloc(rows * s->ninputs, sizeof *c->vals);
  c->na = calloc(s->ninputs, sizeof *c->na);
  c->row_na = calloc(s->ninputs, 1);
  c->recno = calloc(rows, sizeof *c->recno);
  if (o->keep_rows)
    c->status = calloc(rows, 1);
  if (o->keep_rows && o->keep_text)
    c->text_end = calloc(rows, sizeof *c->text_end);
  if (!c->vals || !c->na || !c->row_na || !c->recno || (o->keep_rows && !c->status) ||
      (o->keep_rows && o->keep_text && !c->text_end)) {
    csvreg_chunk_free(c);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for a chunk of %zu rows", rows);
  }
  if (s->formula) {
    csvreg_status st = csvreg__design_work_init(&c->work, s, rows, err);
    if (st == CSVREG_OK && !(c->lines = calloc(rows, sizeof *c->lines)))
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for a chunk of %zu rows", rows);
    if (st == CSVREG_OK && s->nfactors) {
      c->lev = calloc(s->nfactors * rows, sizeof *c->lev);
      c->tab = calloc(s->nfactors, sizeof *c->tab);
      c->tab_n0 = calloc(s->nfactors, sizeof *c->tab_n0);
      if (!c->lev || !c->tab || !c->tab_n0)
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for a chunk of %zu rows", rows);
      /* a model's levels are known: its tables hold them from the start */
      for (size_t f = 0; st == CSVREG_OK && s->fixed && f < s->nfactors; f++)
        for (size_t i = 0; st == CSVREG_OK && i < s->fixed_nlev[f]; i++) {
          int added;
          const char *l = s->fixed_levels[f][i];
          if (table_find_add(&c->tab[f], l, strlen(l), &added) < 0)
            st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the levels");
        }
      if (st == CSVREG_OK && !s->fixed)
        st = csvreg__spec_live_columns(s, NULL, NULL, &c->live_d, err);
      if (st == CSVREG_OK && !s->fixed) {
        c->nlive = c->order_cap = c->live_d->ncols;
        if (!(c->order = malloc((c->order_cap ? c->order_cap : 1) * sizeof *c->order)))
          st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        for (size_t j = 0; c->order && j < c->nlive; j++)
          c->order[j] = j;
      }
      if (st == CSVREG_OK && !s->fixed) {
        c->head = c->omit = (size_t)-1;
        c->xpos = malloc((c->order_cap ? c->order_cap : 1) * sizeof *c->xpos);
        if (!c->xpos)
          st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        for (size_t j = 0; c->xpos && j < c->nlive; j++)
          c->xpos[j] = j;
        c->nx = c->nlive;
      }
    }
    if (st != CSVREG_OK) {
      csvreg_chunk_free(c);
      return st;
    }
  }
  if (s->nkeys) {
    c->koff = calloc(s->nkeys * rows, sizeof *c->koff);
    c->kl = calloc(s->nkeys * rows, sizeof *c->kl);
    if (!c->koff || !c->kl) {
      csvreg_chunk_free(c);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for a chunk of %zu rows", rows);
    }
  }
  csvreg__design_build(s, c->vals, c->cap, &c->work, &c->design);
  *out = c;
  return CSVREG_OK;
}

void csvreg_chunk_free(csvreg_chunk *c) {
  if (!c)
    return;
  free(c->vals);
  free(c->na);
  free(c->row_na);
  free(c->recno);
  free(c->status);
  free(c->text.p);
  free(c->text_end);
  free(c->lines);
  csvreg__design_work_free(&c->work);
  free(c->lev);
  for (size_t f = 0; c->tab && f < c->spec->nfactors; f++) {
    for (size_t i = 0; i < c->tab[f].n; i++)
      free(c->tab[f].names[i]);
    free(c->tab[f].names);
    free(c->tab[f].len);
    free(c->tab[f].hash);
  }
  free(c->tab);
  free(c->tab_n0);
  csvreg__dcols_free(c->live_d);
  csvreg__dcols_free(c->prev_d);
  free(c->order);
  free(c->prev_order);
  free(c->xpos);
  free(c->ktext);
  free(c->koff);
  free(c->kl);
  csvreg__badlog_free(c->defer);
  free(c);
}

static csvreg_status bad_cell(const csvreg_reader *r, const csvreg_record *rec,
                              const csvreg_spec *s, size_t k, const char *what, csvreg_error *err) {
  char shown[96];
  const csvreg_field *f = &rec->fields[s->input_cols[k]];
  csvreg__err_quote(shown, sizeof shown, f->ptr, f->len, 40);
  csvreg__err_at(err, csvreg_reader_source(r), rec->line, rec->number, s->input_cols[k] + 1,
                 s->input_names[k]);
  return csvreg__err_set(err, CSVREG_E_VALUE, "expected %s, found \"%s\"", what, shown);
}

static const char *input_role(const csvreg_spec *s, size_t k) {
  if ((ptrdiff_t)k == s->target_input)
    return "the target";
  return (ptrdiff_t)k == s->weights_input ? "the weights" : "a feature";
}

void csvreg_chunk_on_bad(csvreg_chunk *c, csvreg_bad_row_fn fn, void *ctx) {
  c->on_bad = fn;
  c->on_bad_ctx = ctx;
  /* a computed spec drops rows at the end of a fill too: the bad cells wait
   * (without memory for the log they are told at once, as before) */
  if (fn && c->spec->formula && c->spec->skip_bad && !c->defer)
    c->defer = csvreg__badlog_new();
}

/* Tells on_bad about a dropped record (k: the input, or (size_t)-1 for the
 * width). Only on the skip_bad paths, so the cost is the bad rows'. */
static void report_bad(const csvreg_chunk *c, const csvreg_reader *r, const csvreg_record *rec,
                       size_t k) {
  const csvreg_spec *s = c->spec;
  char reason[160];
  csvreg_bad_row b = {
      csvreg_reader_source(r), rec->line, 0, NULL, reason, rec->fields, rec->nfields};
  if (k == (size_t)-1) {
    snprintf(reason, sizeof reason, "expected %zu fields, found %zu", s->ncolumns, rec->nfields);
  } else {
    char shown[96];
    const csvreg_field *f = &rec->fields[s->input_cols[k]];
    csvreg__err_quote(shown, sizeof shown, f->ptr, f->len, 40);
    snprintf(reason, sizeof reason, "expected a number, found \"%s\"", shown);
    b.column = s->input_cols[k] + 1;
    b.name = s->input_names[k];
  }
  if (c->defer)
    csvreg__badlog_add(c->defer, &b);
  else
    c->on_bad(c->on_bad_ctx, &b);
}

/* Row i dropped for a non-finite term or response (before the rows move). */
static void report_transform(const csvreg_chunk *c, const csvreg_reader *r, size_t i) {
  const csvreg_spec *s = c->spec;
  char msg[400];
  size_t k = csvreg__design_explain(s, c->vals, c->cap, &c->work, i, msg, sizeof msg);
  csvreg_bad_row b = {
      csvreg_reader_source(r), c->lines[i], s->input_cols[k] + 1, s->input_names[k], msg, NULL, 0};
  c->on_bad(c->on_bad_ctx, &b);
}

typedef struct defer_merge {
  csvreg_chunk *c;
  const csvreg_reader *r;
  const unsigned char *bad; /* [c->rows] rows with a non-finite term, or NULL */
  size_t i;                 /* the next of them to tell */
} defer_merge;

static void defer_emit(void *ctx, const csvreg_bad_row *row) {
  defer_merge *m = ctx;
  for (; m->bad && m->i < m->c->rows && m->c->lines[m->i] < row->line; m->i++)
    if (m->bad[m->i])
      report_transform(m->c, m->r, m->i);
  m->c->on_bad(m->c->on_bad_ctx, row);
}

/* The fill's dropped rows to on_bad by line, as the input has them whatever
 * the chunks' cuts (threads): the waiting bad cells merged with the rows
 * `bad` marks (NULL: none). err NULL: a failure of the log is not told. */
static csvreg_status report_in_order(csvreg_chunk *c, const csvreg_reader *r,
                                     const unsigned char *bad, csvreg_error *err) {
  defer_merge m = {c, r, bad, 0};
  csvreg_status st = CSVREG_OK;
  if (c->defer &&
      (st = csvreg__badlog_replay(c->defer, csvreg_reader_source(r), defer_emit, &m, err))) {
    csvreg__badlog_free(c->defer); /* its failure sticks: tell at once from now on */
    c->defer = NULL;
  }
  for (; bad && m.i < c->rows; m.i++)
    if (bad[m.i])
      report_transform(c, r, m.i);
  return st;
}

/* target_optional: the target's and the weights' inputs may be NA. */
static int optional_input(const csvreg_spec *s, size_t k) {
  return (ptrdiff_t)k == s->target_input || (ptrdiff_t)k == s->weights_input;
}

/* Parses one record into row `i`. Returns CSVREG_OK (row kept), CSVREG_END
 * (row dropped and counted; *why says which csvreg_row_status) or an error. */
static csvreg_status take_row(csvreg_chunk *c, const csvreg_reader *r, const csvreg_record *rec,
                              unsigned char *why, csvreg_error *err) {
  const csvreg_spec *s = c->spec;
  const size_t i = c->rows, cap = c->cap;
  *why = CSVREG_ROW_BAD;
  if (rec->nfields != s->ncolumns) {
    if (s->skip_bad) {
      if (c->on_bad)
        report_bad(c, r, rec, (size_t)-1);
      c->counts.dropped_bad++;
      return CSVREG_END;
    }
    csvreg__err_at(err, csvreg_reader_source(r), rec->line, rec->number, 0, NULL);
    return csvreg__err_set(err, CSVREG_E_CSV, "expected %zu fields, found %zu", s->ncolumns,
                           rec->nfields);
  }
  /* Locals: the stores into vals could alias the spec and the record. */
  const size_t ninputs = s->ninputs, *cols = s->input_cols;
  const csvreg_field *fields = rec->fields;
  const int na_numeric = csvreg_na_numeric(s->na);
  double *vals = c->vals + i;
  int missing = 0;
  /* row_na stays all zero between rows: only a missing cell sets it, and
   * every path that leaves a row with one set clears it. A numeric NA token
   * such as -999 must win over the number it spells, so with one every cell
   * takes the general path. */
  const cells_fn parse = csvreg__cells_for(r);
  size_t k = na_numeric ? 0 : parse(fields, cols, 0, ninputs, vals, cap);
  while (k < ninputs) {
    const csvreg_field *f = &fields[cols[k]];
    double v;
    if (s->input_text && s->input_text[k] == 2) {
      /* a key only (a cluster): its text is taken once the row is complete */
    } else if (s->input_text && s->input_text[k]) {
      /* a categorical input: its level is taken once the row is complete */
      if (csvreg_na_match(s->na, f->ptr, f->len)) {
        c->row_na[k] = 1;
        missing = 1;
      }
    } else if (na_numeric && csvreg_na_match(s->na, f->ptr, f->len)) {
      if (s->target_optional && optional_input(s, k))
        vals[k * cap] = NAN;
      else
        c->row_na[k] = 1, missing = 1;
    } else if (csvreg_parse_double(f->ptr, f->len, &v) == CSVREG_OK) {
      vals[k * cap] = v;
    } else if (csvreg_na_match(s->na, f->ptr, f->len)) {
      if (s->target_optional && optional_input(s, k))
        vals[k * cap] = NAN;
      else
        c->row_na[k] = 1, missing = 1;
    } else {
      memset(c->row_na, 0, ninputs);
      if (s->skip_bad) {
        if (c->on_bad)
          report_bad(c, r, rec, k);
        c->counts.dropped_bad++;
        return CSVREG_END;
      }
      if (s->from_formula)
        return bad_cell(r, rec, s, k, "a number (for a categorical column write factor(...))", err);
      return bad_cell(r, rec, s, k, "a number", err);
    }
    k = na_numeric ? k + 1 : parse(fields, cols, k + 1, ninputs, vals, cap);
  }
  if (missing && c->opt.na_error) {
    size_t k0 = 0;
    while (!c->row_na[k0])
      k0++;
    memset(c->row_na, 0, ninputs);
    csvreg__err_at(err, csvreg_reader_source(r), rec->line, rec->number, cols[k0] + 1,
                   s->input_names[k0]);
    return csvreg__err_set(err, CSVREG_E_VALUE, "missing value in %s column", input_role(s, k0));
  }
  if (missing) {
    *why = CSVREG_ROW_MISSING;
    for (size_t j = 0; j < ninputs; j++) {
      c->na[j] += c->row_na[j];
      c->row_na[j] = 0;
    }
    c->counts.dropped_na++;
    return CSVREG_END;
  }
  if (s->weights_input >= 0) {
    size_t kw = (size_t)s->weights_input;
    double w = vals[kw * cap];
    /* A negative weight is not bad data to skip: it means the column is not
     * weights at all, so it is always an error. */
    if (w < 0)
      return bad_cell(r, rec, s, kw, "a weight >= 0", err);
    if (w == 0 && c->opt.drop_zero_weight) {
      c->counts.zero_weight++;
      *why = CSVREG_ROW_ZERO_WEIGHT;
      return CSVREG_END;
    }
    if (w == 0)
      c->counts.zero_weight++;
    else
      c->counts.used++;
  } else {
    c->counts.used++;
  }
  return CSVREG_OK;
}

/* The columns the chunk's rows are coded into: the live ones (levels as
 * they come, index 0 the sentinel, hence base 1) or a saved model's fixed
 * ones. */
static design_live chunk_live(const csvreg_chunk *c) {
  const csvreg_spec *s = c->spec;
  if (s->fixed)
    return (design_live){s->dcols, NULL, s->dcols->ncols, c->lev, 0, NULL, s->dcols->ncols};
  return (design_live){c->live_d, c->order, c->nlive, c->lev, 1, c->xpos, c->nx};
}

/* Is live column j factor slot k's main effect (one indicator per level,
 * the term of that factor alone)? The level head takes exactly these. */
static int main_effect(const csvreg_chunk *c, size_t j, size_t k) {
  const csvreg_spec *s = c->spec;
  const csvreg__dcol *d = &c->live_d->cols[c->order[j]];
  return d->nfac == 1 && d->fac[0].var == s->factor_var[k] &&
         s->formula->terms[d->term].nvars == 1;
}

/* Where each live column goes in the design block for this fill (the
 * columns of the head's factor, csvreg__chunk_set_head, are left out), and
 * the block sized to the columns made: grown as levels come, shrunk when a
 * head starts leaving most of them out. O(columns) a fill. */
static csvreg_status layout(csvreg_chunk *c, csvreg_error *err) {
  const csvreg_spec *s = c->spec;
  if (!s->nfactors || s->fixed)
    return CSVREG_OK;
  c->omit = c->head < s->nfactors ? c->head : (size_t)-1;
  size_t nx = 0;
  for (size_t j = 0; j < c->nlive; j++)
    c->xpos[j] = c->omit != (size_t)-1 && main_effect(c, j, c->omit) ? (size_t)-1 : nx++;
  c->nx = nx;
  return csvreg__design_work_fit(&c->work, nx, err);
}

/* A computed spec's design for the filled rows. A row with a non-finite
 * term or response (log(0)) is an error naming its line, the blamed column
 * and the values, or with skip_bad is dropped like a bad row: the rows after
 * it move up and the design is computed again (same values, fewer rows). */
static csvreg_status compute_design(csvreg_chunk *c, const csvreg_reader *r, csvreg_status st,
                                    csvreg_error *err) {
  const csvreg_spec *s = c->spec;
  const size_t cap = c->cap;
  design_live live = chunk_live(c);
  design_live *lp = s->nfactors ? &live : NULL;
  size_t nbad = csvreg__design_compute(s, lp, c->vals, cap, c->rows, &c->work);
  if (nbad == 0)
    return st;
  const unsigned char *bad = c->work.bad;
  if (!s->skip_bad) {
    size_t i = 0;
    while (!bad[i])
      i++;
    char msg[400];
    size_t k = csvreg__design_explain(s, c->vals, cap, &c->work, i, msg, sizeof msg);
    csvreg__err_at(err, csvreg_reader_source(r), c->lines[i], c->recno[i], s->input_cols[k] + 1,
                   s->input_names[k]);
    return csvreg__err_set(err, CSVREG_E_VALUE, "%s (use --skip-bad to drop such rows)", msg);
  }
  if (c->on_bad) {
    csvreg_status st2 = report_in_order(c, r, bad, err);
    if (st2)
      return st2;
  }
  /* keep_rows: the i-th complete record is row i; mark the dropped ones */
  size_t row = 0;
  for (size_t q = 0; c->opt.keep_rows && q < c->nrecords; q++)
    if (c->status[q] == CSVREG_ROW_OK && bad[row++])
      c->status[q] = CSVREG_ROW_BAD;
  size_t kept = 0;
  for (size_t i = 0; i < c->rows; i++) {
    if (bad[i]) {
      if (s->weights_input >= 0 && c->vals[(size_t)s->weights_input * cap + i] == 0)
        c->counts.zero_weight--;
      else
        c->counts.used--;
      c->counts.dropped_bad++;
      continue;
    }
    if (kept != i) {
      for (size_t k = 0; k < s->ninputs; k++)
        c->vals[k * cap + kept] = c->vals[k * cap + i];
      c->recno[kept] = c->recno[i];
      c->lines[kept] = c->lines[i];
      for (size_t f = 0; f < s->nfactors; f++)
        c->lev[f * cap + kept] = c->lev[f * cap + i];
      for (size_t q = 0; q < s->nkeys; q++) {
        c->koff[q * cap + kept] = c->koff[q * cap + i];
        c->kl[q * cap + kept] = c->kl[q * cap + i];
      }
    }
    kept++;
  }
  c->rows = kept;
  csvreg__design_compute(s, lp, c->vals, cap, c->rows, &c->work);
  return st;
}

/* FNV-1a */
static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 1099511628211u;
  return h;
}

static int table_grow(level_table *t) {
  size_t hc = t->hcap ? 2 * t->hcap : 64;
  uint32_t *h = calloc(hc, sizeof *h);
  if (!h)
    return -1;
  for (size_t i = 0; i < t->n; i++) {
    size_t j = (size_t)hash_bytes(t->names[i], t->len[i]) & (hc - 1);
    while (h[j])
      j = (j + 1) & (hc - 1);
    h[j] = (uint32_t)(i + 1);
  }
  free(t->hash);
  t->hash = h;
  t->hcap = hc;
  return 0;
}

/* The slot of [p, p + n) in t's hash (hcap > 0): where its number is, or the
 * empty slot where it would go. */
static size_t table_probe(const level_table *t, const char *p, size_t n) {
  size_t j = (size_t)hash_bytes(p, n) & (t->hcap - 1);
  while (t->hash[j]) {
    size_t i = t->hash[j] - 1;
    if (t->len[i] == n && memcmp(t->names[i], p, n) == 0)
      break;
    j = (j + 1) & (t->hcap - 1);
  }
  return j;
}

/* The level number of [p, p + n) in t, or -1. */
static long table_find(const level_table *t, const char *p, size_t n) {
  return t->hcap == 0 ? -1 : (long)t->hash[table_probe(t, p, n)] - 1;
}

/* The level number of [p, p + n) in t, added when new (*added = 1); -1 when
 * out of memory. */
static long table_find_add(level_table *t, const char *p, size_t n, int *added) {
  *added = 0;
  if (t->hcap == 0 && table_grow(t))
    return -1;
  size_t j = table_probe(t, p, n);
  if (t->hash[j])
    return (long)t->hash[j] - 1;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    char **nm = realloc(t->names, cap * sizeof *nm);
    if (!nm)
      return -1;
    t->names = nm;
    size_t *ln = realloc(t->len, cap * sizeof *ln);
    if (!ln)
      return -1;
    t->len = ln;
    t->cap = cap;
  }
  char *copy = malloc(n + 1);
  if (!copy)
    return -1;
  memcpy(copy, p, n);
  copy[n] = '\0';
  t->names[t->n] = copy;
  t->len[t->n] = n;
  t->hash[j] = (uint32_t)(t->n + 1);
  t->n++;
  *added = 1;
  if (2 * t->n > t->hcap && table_grow(t))
    return -1;
  return (long)(t->n - 1);
}

/* The levels of a complete row (row c->rows). A factor() of a number is
 * labelled as R's as.character prints it (15 significant digits), so "4"
 * and "4.0" are one level, as in R after read.csv. */
static csvreg_status take_levels(csvreg_chunk *c, const csvreg_reader *r, const csvreg_record *rec,
                                 csvreg_error *err) {
  const csvreg_spec *s = c->spec;
  for (size_t f = 0; f < s->nfactors; f++) {
    const csvreg__fvar *fv = &s->formula->vars[s->factor_var[f]];
    size_t k = s->fin_input[fv->input];
    const csvreg_field *fl = &rec->fields[s->input_cols[k]];
    const char *p = fl->ptr;
    size_t n = fl->len;
    char buf[40];
    double v;
    if (fv->kind == CSVREG__VAR_FACTOR && csvreg_parse_double(p, n, &v) == CSVREG_OK) {
      csvreg__formula_num(v, buf, sizeof buf);
      p = buf;
      n = strlen(buf);
    }
    level_table *t = &c->tab[f];
    if (s->fixed) {
      /* a model's levels: one it never saw has no coefficient */
      long id = table_find(t, p, n);
      if (id < 0) {
        if (c->opt.na_error) {
          char shown[96];
          csvreg__err_quote(shown, sizeof shown, p, n, 40);
          csvreg__err_at(err, csvreg_reader_source(r), rec->line, rec->number, s->input_cols[k] + 1,
                         s->input_names[k]);
          return csvreg__err_set(err, CSVREG_E_VALUE,
                                 "level \"%s\" of %s was not seen in fitting: the model has no "
                                 "coefficient for it",
                                 shown, fv->name);
        }
        return CSVREG_END;
      }
      c->lev[f * c->cap + c->rows] = (uint32_t)id;
      continue;
    }
    int added;
    long id = table_find_add(t, p, n, &added);
    if (id < 0)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the levels of %s", fv->name);
    if (added) {
      c->levels_new = 1;
      if (t->n > s->max_levels) {
        csvreg__err_at(err, csvreg_reader_source(r), rec->line, rec->number, s->input_cols[k] + 1,
                       s->input_names[k]);
        return csvreg__err_set(err, CSVREG_E_VALUE,
                               "%s has more than %zu levels (raise --max-levels)", fv->name,
                               s->max_levels);
      }
    }
    c->lev[f * c->cap + c->rows] = (uint32_t)id;
  }
  return CSVREG_OK;
}

/* The live columns for the levels seen now: the new list holds the old
 * columns (by name) and new ones; old columns keep their place in the
 * design, new ones come after them. */
static csvreg_status update_columns(csvreg_chunk *c, int keep_prev, csvreg_error *err) {
  const csvreg_spec *s = c->spec;
  size_t nf = s->nfactors;
  size_t *nlev = malloc(nf * sizeof *nlev);
  const char *const **levs = malloc(nf * sizeof *levs);
  csvreg__dcols *d = NULL;
  size_t *pos = NULL;
  unsigned char *used = NULL;
  csvreg_status st = CSVREG_OK;
  if (!nlev || !levs) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t f = 0; f < nf; f++) {
    nlev[f] = c->tab[f].n;
    levs[f] = (const char *const *)c->tab[f].names;
  }
  if ((st = csvreg__spec_live_columns(s, nlev, (const char *const *const *)levs, &d, err)))
    goto done;
  const csvreg__dcols *old = c->live_d;
  pos = malloc((old->ncols ? old->ncols : 1) * sizeof *pos);
  used = calloc(d->ncols ? d->ncols : 1, 1);
  if (!pos || !used) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  /* old columns are a subsequence of the new (levels only add columns
   * within their terms): one walk; a name not found that way is looked up */
  size_t j = 0;
  for (size_t i = 0; i < old->ncols; i++) {
    size_t from = j;
    while (j < d->ncols && strcmp(d->cols[j].name, old->cols[i].name) != 0)
      j++;
    if (j == d->ncols) {
      for (j = 0; j < d->ncols && strcmp(d->cols[j].name, old->cols[i].name) != 0; j++)
        ;
      if (j == d->ncols) {
        st = csvreg__err_set(err, CSVREG_E_USAGE, "levels: column %s lost", old->cols[i].name);
        goto done;
      }
      (void)from;
    }
    pos[i] = j;
    used[j] = 1;
    j++;
  }
  if (d->ncols > CSVREG_MAX_TERMS) {
    st = csvreg__err_set(err, CSVREG_E_LIMIT, "%zu design columns: at most %d are supported",
                         d->ncols, CSVREG_MAX_TERMS);
    goto done;
  }
  if (d->ncols > c->order_cap) {
    size_t *o = realloc(c->order, d->ncols * sizeof *o);
    if (!o) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    c->order = o;
    size_t *xp = realloc(c->xpos, d->ncols * sizeof *xp);
    if (!xp) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    c->xpos = xp;
    c->order_cap = d->ncols;
  }
  if (keep_prev) {
    size_t *o = realloc(c->prev_order, (c->nlive ? c->nlive : 1) * sizeof *o);
    if (!o) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    memcpy(o, c->order, c->nlive * sizeof *o);
    c->prev_order = o;
    c->prev_nlive = c->nlive;
  }
  for (size_t q = 0; q < c->nlive; q++)
    c->order[q] = pos[c->order[q]];
  size_t q = c->nlive;
  for (size_t t = 0; t < d->ncols; t++)
    if (!used[t])
      c->order[q++] = t;
  c->nlive = q;
  if (keep_prev) {
    csvreg__dcols_free(c->prev_d);
    c->prev_d = c->live_d;
  } else {
    csvreg__dcols_free(c->live_d);
  }
  c->live_d = d;
  d = NULL;
  c->levels_new = 0;
done:
  csvreg__dcols_free(d);
  free(pos);
  free(used);
  free(nlev);
  free(levs);
  return st;
}

/* After rows were dropped for a non-finite value (skip_bad): a level that
 * this fill added and no kept row holds is not a level (R drops unused
 * levels). Such levels leave the tables, the rows' level numbers are
 * renumbered, and the columns go back to those before the fill and are made
 * again for the levels kept. *changed: the columns were made again. */
static csvreg_status prune_levels(csvreg_chunk *c, int *changed, csvreg_error *err) {
  const csvreg_spec *s = c->spec;
  *changed = 0;
  int any = 0;
  size_t *remap = NULL;
  for (size_t f = 0; f < s->nfactors; f++) {
    level_table *t = &c->tab[f];
    size_t n0 = c->tab_n0[f], nnew = t->n - n0;
    if (!nnew)
      continue;
    size_t *r = realloc(remap, nnew * sizeof *r);
    if (!r) {
      free(remap);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    remap = r;
    memset(remap, 0, nnew * sizeof *remap);
    uint32_t *lv = c->lev + f * c->cap;
    for (size_t i = 0; i < c->rows; i++)
      if (lv[i] >= n0)
        remap[lv[i] - n0] = 1;
    size_t kept = n0;
    for (size_t q = 0; q < nnew; q++) {
      if (!remap[q]) {
        free(t->names[n0 + q]);
        continue;
      }
      t->names[kept] = t->names[n0 + q];
      t->len[kept] = t->len[n0 + q];
      remap[q] = kept++;
    }
    if (kept == t->n)
      continue;
    any = 1;
    t->n = kept;
    for (size_t i = 0; i < c->rows; i++)
      if (lv[i] >= n0)
        lv[i] = (uint32_t)remap[lv[i] - n0];
    /* the hash again, at its size */
    memset(t->hash, 0, t->hcap * sizeof *t->hash);
    for (size_t i = 0; i < t->n; i++) {
      size_t j = (size_t)hash_bytes(t->names[i], t->len[i]) & (t->hcap - 1);
      while (t->hash[j])
        j = (j + 1) & (t->hcap - 1);
      t->hash[j] = (uint32_t)(i + 1);
    }
  }
  free(remap);
  if (!any)
    return CSVREG_OK;
  csvreg__dcols_free(c->live_d);
  c->live_d = c->prev_d;
  c->prev_d = NULL;
  memcpy(c->order, c->prev_order, c->prev_nlive * sizeof *c->order);
  c->nlive = c->prev_nlive;
  *changed = 1;
  return update_columns(c, 0, err);
}

const csvreg_spec *csvreg__chunk_spec(const csvreg_chunk *c) { return c->spec; }

size_t csvreg__chunk_ncolumns(const csvreg_chunk *c) {
  return c->spec->nfactors && !c->spec->fixed ? c->nlive : c->spec->nterms;
}

const char *csvreg__chunk_column_name(const csvreg_chunk *c, size_t j) {
  if (c->spec->nfactors && !c->spec->fixed)
    return c->live_d->cols[c->order[j]].name;
  return csvreg_spec_term_name(c->spec, j);
}

/* head12: what column j is made of (the level head picks a factor's
 * indicator columns by it). */
const csvreg__dcol *csvreg__chunk_column(const csvreg_chunk *c, size_t j) {
  if (!c->spec->nfactors || c->spec->fixed)
    return NULL;
  return &c->live_d->cols[c->order[j]];
}

size_t csvreg__chunk_column_pos(const csvreg_chunk *c, size_t j) {
  return c->spec->nfactors && !c->spec->fixed ? c->xpos[j] : j;
}

size_t csvreg__chunk_omitted(const csvreg_chunk *c) {
  return c->spec->nfactors && !c->spec->fixed ? c->omit : (size_t)-1;
}

int csvreg__chunk_main_effect(const csvreg_chunk *c, size_t j, size_t k) {
  return c->spec->nfactors && !c->spec->fixed && k < c->spec->nfactors && main_effect(c, j, k);
}

void csvreg__chunk_set_head(csvreg_chunk *c, size_t k) {
  c->planned = 1;
  if (c->spec->nfactors && !c->spec->fixed)
    c->head = k < c->spec->nfactors ? k : (size_t)-1;
}

int csvreg__chunk_head_set(const csvreg_chunk *c) { return c->planned; }

size_t csvreg__chunk_head(const csvreg_chunk *c) {
  return c->spec->nfactors && !c->spec->fixed ? c->head : (size_t)-1;
}

void csvreg__chunk_column_values(const csvreg_chunk *c, size_t j, double *dst) {
  size_t pos = csvreg__chunk_column_pos(c, j);
  if (pos != (size_t)-1) {
    memcpy(dst, c->design.x + pos * c->design.ld, c->rows * sizeof *dst);
    return;
  }
  /* a left-out indicator: 1 where the row's level is the column's */
  const csvreg__dcol *d = &c->live_d->cols[c->order[j]];
  const uint32_t *lv = c->lev + c->omit * c->cap, want = (uint32_t)(d->fac[0].index - 1);
  for (size_t i = 0; i < c->rows; i++)
    dst[i] = lv[i] == want ? 1.0 : 0.0;
}

const uint32_t *csvreg__chunk_row_levels(const csvreg_chunk *c, size_t f) {
  return c->lev + f * c->cap;
}

const char *csvreg__chunk_key(const csvreg_chunk *c, size_t q, size_t i, size_t *len) {
  *len = c->kl[q * c->cap + i];
  return c->ktext + c->koff[q * c->cap + i];
}

/* Keeps row c->rows's key cells (spec nkeys). */
static csvreg_status take_keys(csvreg_chunk *c, const csvreg_record *rec, csvreg_error *err) {
  const csvreg_spec *s = c->spec;
  for (size_t q = 0; q < s->nkeys; q++) {
    const csvreg_field *f = &rec->fields[s->input_cols[s->key_input[q]]];
    if (f->len > c->kcap - c->klen) {
      size_t cap = c->kcap ? 2 * c->kcap : 4096;
      while (cap - c->klen < f->len)
        cap *= 2;
      char *t = realloc(c->ktext, cap);
      if (!t)
        return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the key cells of a chunk");
      c->ktext = t;
      c->kcap = cap;
    }
    if (f->len)
      memcpy(c->ktext + c->klen, f->ptr, f->len);
    c->koff[q * c->cap + c->rows] = c->klen;
    c->kl[q * c->cap + c->rows] = f->len;
    c->klen += f->len;
  }
  return CSVREG_OK;
}

const char *const *csvreg__chunk_levels(const csvreg_chunk *c, size_t f, size_t *n) {
  *n = c->tab[f].n;
  return (const char *const *)c->tab[f].names;
}

csvreg_status csvreg_chunk_fill(csvreg_chunk *c, csvreg_reader *r, csvreg_error *err) {
  memset(&c->counts, 0, sizeof c->counts);
  memset(c->na, 0, c->spec->ninputs * sizeof *c->na);
  c->rows = 0;
  c->nrecords = 0;
  c->text.len = 0;
  c->klen = 0;
  /* keep_rows counts records against the capacity (every record has an
   * output row), otherwise complete rows (the design block is full). */
  const int keep = c->opt.keep_rows, text = keep && c->opt.keep_text;
  csvreg_status st = CSVREG_OK;
  while ((keep ? c->nrecords : c->rows) < c->cap) {
    csvreg_record rec;
    st = csvreg_reader_next(r, &rec, err);
    if (st != CSVREG_OK)
      break;
    c->counts.records++;
    unsigned char why;
    st = take_row(c, r, &rec, &why, err);
    if (st == CSVREG_OK && c->spec->nfactors && (st = take_levels(c, r, &rec, err)) == CSVREG_END) {
      /* a level the model never saw: the row was counted as used */
      const csvreg_spec *s = c->spec;
      if (s->weights_input >= 0 && c->vals[(size_t)s->weights_input * c->cap + c->rows] == 0)
        c->counts.zero_weight--;
      else
        c->counts.used--;
      c->counts.new_level++;
      why = CSVREG_ROW_NEW_LEVEL;
    }
    if (st == CSVREG_OK && c->spec->nkeys)
      st = take_keys(c, &rec, err);
    if (st == CSVREG_OK) {
      if (c->lines)
        c->lines[c->rows] = rec.line;
      c->recno[c->rows++] = rec.number;
    } else if (st != CSVREG_END)
      break;
    if (keep) {
      c->status[c->nrecords] = st == CSVREG_OK ? CSVREG_ROW_OK : why;
      if (text) {
        if (csvreg__csv_text_record(&c->text, rec.fields, rec.nfields, c->opt.delimiter)) {
          st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the text of a chunk");
          break;
        }
        c->text_end[c->nrecords] = c->text.len;
      }
      c->nrecords++;
    }
    st = CSVREG_OK;
  }
  /* skip_bad may drop rows after their levels were taken */
  const int prune = c->levels_new && c->spec->skip_bad;
  if (c->levels_new && (st == CSVREG_OK || st == CSVREG_END)) {
    csvreg_status st2 = update_columns(c, prune, err);
    if (st2 != CSVREG_OK)
      st = st2;
  }
  if (c->spec->formula && (st == CSVREG_OK || st == CSVREG_END)) {
    csvreg_status st2 = layout(c, err);
    if (st2 != CSVREG_OK)
      st = st2;
  }
  if (c->spec->formula && c->rows && (st == CSVREG_OK || st == CSVREG_END)) {
    size_t before = c->rows;
    st = compute_design(c, r, st, err);
    int changed = 0;
    if (prune && c->rows < before && (st == CSVREG_OK || st == CSVREG_END)) {
      csvreg_status st2 = prune_levels(c, &changed, err);
      if (st2 != CSVREG_OK)
        st = st2;
      else if (changed && (st2 = layout(c, err)) != CSVREG_OK)
        st = st2;
      else if (changed) {
        design_live live = chunk_live(c);
        csvreg__design_compute(c->spec, &live, c->vals, c->cap, c->rows, &c->work);
      }
    }
  }
  /* bad cells not told yet (no non-finite term, or a failure): now */
  if (c->defer) {
    csvreg_status st2 =
        report_in_order(c, r, NULL, st == CSVREG_OK || st == CSVREG_END ? err : NULL);
    if (st2 && (st == CSVREG_OK || st == CSVREG_END))
      st = st2;
  }
  for (size_t f = 0; c->tab_n0 && f < c->spec->nfactors; f++)
    c->tab_n0[f] = c->tab[f].n;
  csvreg__design_build(c->spec, c->vals, c->cap, &c->work, &c->design);
  return st;
}

size_t csvreg_chunk_rows(const csvreg_chunk *c) { return c->rows; }

void csvreg_chunk_design(const csvreg_chunk *c, const double **x, size_t *ldx, const double **y,
                         const double **w) {
  *x = c->design.x;
  *ldx = c->design.ld;
  *y = c->design.y;
  *w = c->design.w;
}

const csvreg_counts *csvreg_chunk_counts(const csvreg_chunk *c) { return &c->counts; }
const uint64_t *csvreg_chunk_na_counts(const csvreg_chunk *c) { return c->na; }
const uint64_t *csvreg_chunk_record_numbers(const csvreg_chunk *c) { return c->recno; }

size_t csvreg_chunk_nrecords(const csvreg_chunk *c) { return c->nrecords; }
const unsigned char *csvreg_chunk_row_status(const csvreg_chunk *c) { return c->status; }

void csvreg_chunk_text(const csvreg_chunk *c, const char **text, const size_t **ends) {
  *text = c->text.p;
  *ends = c->text_end;
}

void csvreg_counts_add(csvreg_counts *t, const csvreg_counts *c) {
  t->records += c->records;
  t->used += c->used;
  t->new_level += c->new_level;
  t->zero_weight += c->zero_weight;
  t->dropped_na += c->dropped_na;
  t->dropped_bad += c->dropped_bad;
}
