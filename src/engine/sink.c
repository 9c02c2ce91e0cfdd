/*
 * sink.c - the sinks a pass feeds (csvreg_sink_type in csvreg.h): the
 * accumulator, and the holdout / cross-validation split.
 *
 * The split sends each row, by a hash of its record number and the seed
 * (csvreg_split_uniform), to one of several accumulators. An accumulator is
 * a sufficient statistic of its rows, so the squared error of any
 * coefficient vector on a part comes from the part's accumulator alone
 * (csvreg_accum_score): exact validation in the one pass, the same numbers
 * as splitting the file and running fit and eval on the pieces. Because the
 * record number is the whole input's on every path, the split is the same
 * on byte ranges and threads; merging two splits merges part by part.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accum_spec.h"
#include "evaluator.h"
#include "eval_plot.h"
#include "eval_windows.h"
#include "fit_impl.h"
#include "internal.h"
#include "linalg.h"
#include "robust.h"

/* ---- the accumulator ---- */

static csvreg_status acc_create(void **out, const csvreg_spec *spec, const void *arg,
                                csvreg_error *err) {
  csvreg_solver solver = arg ? *(const csvreg_solver *)arg : CSVREG_SOLVER_QR;
  csvreg_accum *a = NULL;
  csvreg_status st = csvreg_accum_new_for_spec(&a, spec, solver, err);
  /* head12: a pass's accumulator may fold a factor's levels apart (the
   * pass flushes it at every merge and at its end) */
  if (!st)
    csvreg__accum_head_allow(a);
  *out = a;
  return st;
}

static csvreg_status acc_add(void *sink, const csvreg_chunk *c, csvreg_error *err) {
  return csvreg_accum_add_chunk(sink, c, err);
}

/* Pieces that saw different levels have different columns: aligned by
 * name (the same columns in the same order merge as csvreg_accum_merge). */
static csvreg_status acc_merge(void *into, const void *from, csvreg_error *err) {
  if (!csvreg__accum_levels_nvars(from))
    return csvreg_accum_merge(into, from, err);
  csvreg_status st = csvreg__accum_merge_aligned(into, from, NULL, err);
  return st ? st : csvreg__accum_levels_union(into, from, err);
}

static void acc_free(void *sink) { csvreg_accum_free(sink); }

static const csvreg_sink_type accum_type = {
    "accumulator", acc_create, acc_add, acc_merge, acc_free,
    CSVREG_SINK_SPECULATE | CSVREG_SINK_LANES, NULL};

const csvreg_sink_type *csvreg_sink_accum(void) { return &accum_type; }

/* ---- the split ---- */

/* Rows per level and part of one categorical variable: a level seen only
 * in held-out rows has no coefficient in the fit that scores them (R's
 * predict: "factor has new levels"). Levels are parts[0]'s list's. */
typedef struct level_rows {
  uint64_t *n; /* [nlev x nparts] */
  size_t nlev; /* levels counted */
  size_t cap;  /* levels room */
  size_t *map; /* [nmap] a chunk's level number -> list index */
  size_t nmap, map_cap;
} level_rows;

struct csvreg_split {
  csvreg_split_options o;
  const csvreg_spec *spec;
  size_t nparts;
  csvreg_accum **parts;
  size_t *part; /* per chunk row, grown as needed */
  size_t cap;
  level_rows *lr; /* [spec->nfactors] */
};

void csvreg_split_free(csvreg_split *s) {
  if (!s)
    return;
  if (s->parts)
    for (size_t k = 0; k < s->nparts; k++)
      csvreg_accum_free(s->parts[k]);
  free(s->parts);
  free(s->part);
  for (size_t f = 0; s->lr && f < s->spec->nfactors; f++) {
    free(s->lr[f].n);
    free(s->lr[f].map);
  }
  free(s->lr);
  free(s);
}

static csvreg_status split_create(void **out, const csvreg_spec *spec, const void *arg,
                                  csvreg_error *err) {
  *out = NULL;
  const csvreg_split_options *o = arg;
  if (!o || !spec || o->folds == 1 || o->folds > 100000 ||
      (o->folds == 0 && !(o->fraction > 0 && o->fraction < 1)))
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "split: holdout fraction in (0, 1) or 2 or more folds");
  csvreg_split *s = calloc(1, sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  s->o = *o;
  s->spec = spec;
  s->nparts = o->folds ? (size_t)o->folds : 2;
  s->parts = calloc(s->nparts, sizeof *s->parts);
  if (spec->nfactors)
    s->lr = calloc(spec->nfactors, sizeof *s->lr);
  if (!s->parts || (spec->nfactors && !s->lr)) {
    csvreg_split_free(s);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  for (size_t k = 0; k < s->nparts; k++) {
    csvreg_status st = csvreg_accum_new_for_spec(&s->parts[k], spec, o->solver, err);
    if (st) {
      csvreg_split_free(s);
      return st;
    }
  }
  *out = s;
  return CSVREG_OK;
}

/* Room for `nlev` levels in lr (zero counts). */
static csvreg_status lr_reserve(level_rows *lr, size_t nparts, size_t nlev, csvreg_error *err) {
  if (nlev > lr->cap) {
    size_t cap = nlev > 2 * lr->cap ? nlev : 2 * lr->cap;
    uint64_t *t = realloc(lr->n, cap * nparts * sizeof *t);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    memset(t + lr->cap * nparts, 0, (cap - lr->cap) * nparts * sizeof *t);
    lr->n = t;
    lr->cap = cap;
  }
  if (nlev > lr->nlev)
    lr->nlev = nlev;
  return CSVREG_OK;
}

/* The index of `name` in list l[0..n), or n. */
static size_t find_level(const char *const *l, size_t n, const char *name) {
  size_t i = 0;
  while (i < n && strcmp(l[i], name) != 0)
    i++;
  return i;
}

/* The chunk's rows by level and part (after add_chunk_split, which gave
 * every part the chunk's levels). */
static csvreg_status count_levels(csvreg_split *s, size_t f, const csvreg_chunk *c,
                                  csvreg_error *err) {
  level_rows *lr = &s->lr[f];
  size_t nc, na;
  const char *const *cl = csvreg__chunk_levels(c, f, &nc);
  const char *const *al = csvreg__accum_levels(s->parts[0], f, &na);
  csvreg_status st = lr_reserve(lr, s->nparts, na, err);
  if (st)
    return st;
  if (nc > lr->map_cap) {
    size_t *t = realloc(lr->map, nc * sizeof *t);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    lr->map = t;
    lr->map_cap = nc;
  }
  /* a chunk's levels only grow: only its new ones are looked up (the
   * accumulator's list is the chunk's when it fed alone: checked first) */
  for (size_t i = lr->nmap; i < nc; i++)
    lr->map[i] = i < na && strcmp(al[i], cl[i]) == 0 ? i : find_level(al, na, cl[i]);
  lr->nmap = nc;
  const uint32_t *lev = csvreg__chunk_row_levels(c, f);
  for (size_t i = 0, n = csvreg_chunk_rows(c); i < n; i++)
    lr->n[lr->map[lev[i]] * s->nparts + s->part[i]]++;
  return CSVREG_OK;
}

static csvreg_status split_add(void *sink, const csvreg_chunk *c, csvreg_error *err) {
  csvreg_split *s = sink;
  size_t n = csvreg_chunk_rows(c);
  if (n > s->cap) {
    size_t *t = realloc(s->part, n * sizeof *t);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    s->part = t;
    s->cap = n;
  }
  const uint64_t *rec = csvreg_chunk_record_numbers(c);
  size_t k = s->nparts;
  for (size_t i = 0; i < n; i++) {
    double u = csvreg_split_uniform(rec[i], s->o.seed);
    if (!s->o.folds) {
      s->part[i] = u < s->o.fraction ? 1 : 0;
    } else {
      size_t f = (size_t)(u * (double)k);
      s->part[i] = f < k ? f : k - 1;
    }
  }
  csvreg_status st = csvreg_accum_add_chunk_split(s->parts, s->nparts, c, s->part, err);
  for (size_t f = 0; !st && f < s->spec->nfactors; f++)
    st = count_levels(s, f, c, err);
  return st;
}

static csvreg_status split_merge(void *into, const void *from, csvreg_error *err) {
  csvreg_split *a = into;
  const csvreg_split *b = from;
  if (a->nparts != b->nparts)
    return csvreg__err_set(err, CSVREG_E_USAGE, "split merge: %zu parts against %zu", a->nparts,
                           b->nparts);
  for (size_t k = 0; k < a->nparts; k++) {
    csvreg_status st = b->lr ? csvreg__accum_merge_aligned(a->parts[k], b->parts[k], NULL, err)
                             : csvreg_accum_merge(a->parts[k], b->parts[k], err);
    if (!st && b->lr)
      st = csvreg__accum_levels_union(a->parts[k], b->parts[k], err);
    if (st)
      return st;
  }
  /* b's level counts onto a's (united) lists, by name */
  for (size_t f = 0; b->lr && f < a->spec->nfactors; f++) {
    size_t na, nb;
    const char *const *al = csvreg__accum_levels(a->parts[0], f, &na);
    const char *const *bl = csvreg__accum_levels(b->parts[0], f, &nb);
    csvreg_status st = lr_reserve(&a->lr[f], a->nparts, na, err);
    if (st)
      return st;
    for (size_t i = 0; i < b->lr[f].nlev; i++) {
      size_t j = i < na && strcmp(al[i], bl[i]) == 0 ? i : find_level(al, na, bl[i]);
      for (size_t k = 0; j < na && k < a->nparts; k++)
        a->lr[f].n[j * a->nparts + k] += b->lr[f].n[i * a->nparts + k];
    }
  }
  return CSVREG_OK;
}

static void split_free_sink(void *sink) { csvreg_split_free(sink); }

static const csvreg_sink_type split_type = {
    "split", split_create, split_add, split_merge, split_free_sink, 0, NULL};

const csvreg_sink_type *csvreg_sink_split(void) { return &split_type; }

/* Each part's levels in R's order, its baselines dropped: the parts keep
 * one level list, so they finish with the same columns. */
csvreg_status csvreg__sink_finish(const csvreg_sink_type *type, void *sink, const csvreg_spec *s,
                                  csvreg_error *err) {
  if (type == &accum_type)
    return csvreg__accum_finish_factors(sink, s, err);
  if (type == &split_type) {
    csvreg_split *sp = sink;
    for (size_t k = 0; k < sp->nparts; k++) {
      csvreg_status st = csvreg__accum_finish_factors(sp->parts[k], s, err);
      if (st)
        return st;
    }
  }
  return CSVREG_OK;
}

csvreg_status csvreg_split_merge_fit_rows(const csvreg_split *s, csvreg_accum *all,
                                          csvreg_error *err) {
  if (!s || !all)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_split_merge_fit_rows: NULL argument");
  size_t n = s->o.folds ? s->nparts : 1;
  for (size_t k = 0; k < n; k++) {
    csvreg_status st = csvreg__accum_merge_finished(all, s->parts[k], err);
    if (st)
      return st;
  }
  return CSVREG_OK;
}

uint64_t csvreg_split_unseen(const csvreg_split *s, size_t i) {
  if (!s || !s->lr || i >= csvreg_split_nscores(s))
    return 0;
  size_t test = s->o.folds ? i : 1;
  uint64_t total = 0;
  for (size_t f = 0; f < s->spec->nfactors; f++)
    for (size_t l = 0; l < s->lr[f].nlev; l++) {
      const uint64_t *n = s->lr[f].n + l * s->nparts;
      uint64_t train = 0;
      for (size_t k = 0; k < s->nparts; k++)
        train += k != test ? n[k] : 0;
      if (!train)
        total += n[test];
    }
  return total;
}

size_t csvreg_split_nscores(const csvreg_split *s) { return s ? (s->o.folds ? s->nparts : 1) : 0; }

/* ---- many folds (hardcli, issue 17 item 10) ----
 * Fold f trains on base + every part but f. Merging the K-1 other parts for
 * each fold costs K^2 merges, each O(p^3) for QR states: --cv 1000 at 300
 * columns ran past 120 s. Past CV_SEQUENTIAL_MAX folds the training state is
 * prefix_f (base + parts 0..f-1, one running state) merged with suffix_{f+1}
 * (parts f+1..K-1). Suffixes are built backwards once, keeping one every B ~
 * sqrt(K) parts; each block of B folds rebuilds its B suffixes from the next
 * checkpoint. About 4K merges and K solves in all, O(sqrt(K)) states held.
 * The merge order differs from the sequential one, so the scores may differ
 * in the last bits; up to CV_SEQUENTIAL_MAX folds (all earlier uses) the
 * order, and the answer, is unchanged. Formulas with factors keep the
 * sequential order: their level columns follow the order levels are met. */
#define CV_SEQUENTIAL_MAX 32

static void free_states(csvreg_accum **a, size_t n) {
  for (size_t i = 0; a && i < n; i++)
    csvreg_accum_free(a[i]);
  free(a);
}

/* *dst = a fresh state with a merged in (csvreg_accum_copy goes through the
 * state's JSON: most of the time at 300 columns). */
static csvreg_status fresh_with(const csvreg_split *s, const csvreg_accum *a, csvreg_accum **dst,
                                csvreg_error *err) {
  csvreg_status st = csvreg_accum_new_for_spec(dst, s->spec, s->o.solver, err);
  if (!st)
    st = csvreg__accum_merge_finished(*dst, a, err);
  return st;
}

/* dst = parts[j] merged with next (NULL: nothing after j). */
static csvreg_status suffix_step(const csvreg_split *s, size_t j, const csvreg_accum *next,
                                 csvreg_accum **dst, csvreg_error *err) {
  csvreg_status st = fresh_with(s, s->parts[j], dst, err);
  if (!st && next)
    st = csvreg__accum_merge_finished(*dst, next, err);
  return st;
}

static csvreg_status score_many_folds(const csvreg_split *s, const csvreg_accum *base,
                                      const csvreg_solve_options *so, csvreg_score *scores,
                                      csvreg_error *err) {
  const size_t K = s->nparts;
  size_t B = 1;
  while (B * B < K)
    B++;
  const size_t nblocks = (K + B - 1) / B;
  /* check[b]: suffix from part b*B to the end (check[nblocks]: none). */
  csvreg_accum **check = calloc(nblocks + 1, sizeof *check);
  csvreg_accum **block = calloc(B + 1, sizeof *block);
  csvreg_accum *prefix = NULL, *run = NULL;
  csvreg_status st = CSVREG_OK;
  if (!check || !block)
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = K; !st && j-- > 0;) {
    csvreg_accum *t = NULL;
    st = suffix_step(s, j, run, &t, err);
    if (run && (j + 1) % B != 0)
      csvreg_accum_free(run); /* a checkpoint is freed with check[] */
    run = t;
    if (run && j % B == 0)
      check[j / B] = run;
  }
  if (!st)
    st = csvreg_accum_new_for_spec(&prefix, s->spec, s->o.solver, err);
  if (!st && base)
    st = csvreg_accum_merge(prefix, base, err);
  size_t f = 0;
  for (size_t b = 0; !st && b < nblocks; b++) {
    const size_t lo = b * B, hi = lo + B < K ? lo + B : K;
    /* block[i]: suffix from part lo+i (block[hi-lo]: the next checkpoint). */
    block[hi - lo] = check[b + 1];
    f = 0; /* a failure here is no fold's */
    for (size_t j = hi; !st && j-- > lo + 1;)
      st = suffix_step(s, j, block[j + 1 - lo], &block[j - lo], err);
    for (f = lo; !st && f < hi; f++) {
      csvreg_accum *rest = NULL;
      csvreg_fit *ff = NULL;
      st = fresh_with(s, prefix, &rest, err);
      if (!st && block[f + 1 - lo])
        st = csvreg__accum_merge_finished(rest, block[f + 1 - lo], err);
      if (!st)
        st = csvreg_accum_solve(rest, so, &ff, err);
      if (!st)
        st = csvreg_accum_score(s->parts[f], ff, &scores[f], err);
      if (!st)
        st = csvreg__accum_merge_finished(prefix, s->parts[f], err);
      csvreg_fit_free(ff);
      csvreg_accum_free(rest);
    }
    for (size_t i = 1; i < hi - lo; i++) {
      csvreg_accum_free(block[i]);
      block[i] = NULL;
    }
    block[hi - lo] = NULL;
  }
  csvreg_accum_free(prefix);
  free_states(check, check ? nblocks + 1 : 0);
  free(block);
  if (st && f > 0 && err) {
    char m[sizeof err->message + 64];
    snprintf(m, sizeof m, "cross-validation fold %zu: %s", f, err->message);
    snprintf(err->message, sizeof err->message, "%.*s", (int)sizeof err->message - 1, m);
  }
  return st;
}

csvreg_status csvreg_split_score(const csvreg_split *s, const csvreg_fit *fit,
                                 const csvreg_accum *base, const csvreg_solve_options *so,
                                 csvreg_score *scores, csvreg_error *err) {
  if (!s || !fit || !scores)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_split_score: NULL argument");
  if (!s->o.folds)
    return csvreg_accum_score(s->parts[1], fit, &scores[0], err);
  if (s->nparts > CV_SEQUENTIAL_MAX && s->spec->nfactors == 0)
    return score_many_folds(s, base, so, scores, err);
  for (size_t f = 0; f < s->nparts; f++) {
    csvreg_accum *rest = NULL;
    csvreg_fit *ff = NULL;
    csvreg_status st = csvreg_accum_new_for_spec(&rest, s->spec, s->o.solver, err);
    if (!st && base)
      st = csvreg_accum_merge(rest, base, err);
    for (size_t k = 0; !st && k < s->nparts; k++)
      if (k != f)
        st = csvreg__accum_merge_finished(rest, s->parts[k], err);
    if (!st)
      st = csvreg_accum_solve(rest, so, &ff, err);
    if (!st)
      st = csvreg_accum_score(s->parts[f], ff, &scores[f], err);
    csvreg_fit_free(ff);
    csvreg_accum_free(rest);
    if (st) {
      /* Say which fold: its training rows may be all that failed. */
      if (err) {
        char m[sizeof err->message + 64];
        snprintf(m, sizeof m, "cross-validation fold %zu: %s", f + 1, err->message);
        snprintf(err->message, sizeof err->message, "%.*s", (int)sizeof err->message - 1, m);
      }
      return st;
    }
  }
  return CSVREG_OK;
}

/* ---- the evaluation ---- */

struct csvreg_scoring {
  const csvreg_model *model;
  csvreg_evaluator *ev;
  csvreg_counts counts; /* the chunks' */
  double *yhat;         /* a chunk's predictions, grown as needed */
  size_t cap;
  /* eval --every and --plot (csvreg_sink_eval_with) */
  csvreg_eval_options o;
  csvreg__eval_windows *win; /* --every: the windows (eval_windows.c) */
  csvreg__eval_plot *plot;
};

void csvreg_scoring_free(csvreg_scoring *s) {
  if (!s)
    return;
  csvreg_evaluator_free(s->ev);
  free(s->yhat);
  csvreg__eval_windows_free(s->win);
  csvreg__eval_plot_free(s->plot);
  free(s);
}

static csvreg_status score_create(void **out, const csvreg_spec *spec, const void *arg,
                                  csvreg_error *err) {
  (void)spec;
  *out = NULL;
  if (!arg)
    return csvreg__err_set(err, CSVREG_E_USAGE, "evaluation sink: no model");
  csvreg_scoring *s = calloc(1, sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  s->model = arg;
  csvreg_status st = csvreg_evaluator_new(&s->ev, err);
  if (st) {
    csvreg_scoring_free(s);
    return st;
  }
  *out = s;
  return CSVREG_OK;
}

static csvreg_status score_add(void *sink, const csvreg_chunk *c, csvreg_error *err) {
  csvreg_scoring *s = sink;
  csvreg_counts_add(&s->counts, csvreg_chunk_counts(c));
  size_t n = csvreg_chunk_rows(c), ldx;
  if (!n)
    return CSVREG_OK;
  if (n > s->cap) {
    double *t = realloc(s->yhat, n * sizeof *t);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for a block of %zu rows", n);
    s->yhat = t;
    s->cap = n;
  }
  const double *x, *y, *w;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  csvreg_status st = csvreg_model_predict(s->model, n, x, ldx, CSVREG_INTERVAL_NONE, 0.95, s->yhat,
                                          NULL, NULL, err);
  if (!st)
    st = csvreg_evaluator_add(s->ev, n, y, s->yhat, w, err);
  if (!st && s->o.every)
    st = csvreg__eval_windows_add(s->win, n, csvreg_chunk_record_numbers(c), y, s->yhat, w, err);
  if (!st && s->plot)
    st = csvreg__eval_plot_add(s->plot, n, y, s->yhat, csvreg_chunk_record_numbers(c), err);
  return st;
}

static csvreg_status score_merge(void *into, const void *from, csvreg_error *err) {
  (void)err;
  csvreg_scoring *d = into;
  const csvreg_scoring *s = from;
  csvreg_counts_add(&d->counts, &s->counts);
  csvreg__evaluator_merge(d->ev, s->ev);
  /* the piece is freed after its merge: its windows move (eval_windows.c) */
  if (d->win && s->win) {
    csvreg_status st = csvreg__eval_windows_merge(d->win, s->win, err);
    if (st)
      return st;
  }
  return d->plot && s->plot ? csvreg__eval_plot_merge(d->plot, s->plot, err) : CSVREG_OK;
}

static void score_free(void *sink) { csvreg_scoring_free(sink); }

static const csvreg_sink_type scoring_type = {
    "evaluation", score_create, score_add, score_merge, score_free, CSVREG_SINK_SPECULATE, NULL};

const csvreg_sink_type *csvreg_sink_eval(void) { return &scoring_type; }

/* The sink with options (eval --every, --plot). */
static csvreg_status score_create_with(void **out, const csvreg_spec *spec, const void *arg,
                                       csvreg_error *err) {
  const csvreg_eval_options *o = arg;
  *out = NULL;
  if (!o || (o->every && o->first_record == 0))
    return csvreg__err_set(err, CSVREG_E_USAGE, "evaluation sink: bad options");
  csvreg_status st = score_create(out, spec, o->model, err);
  if (st)
    return st;
  csvreg_scoring *s = *out;
  s->o = *o;
  if (o->every && (st = csvreg__eval_windows_new(&s->win, o->every, o->first_record, err))) {
    csvreg_scoring_free(s);
    *out = NULL;
    return st;
  }
  if (o->plot && (st = csvreg__eval_plot_new(&s->plot, o->sample ? o->sample : CSVREG_EVAL_SAMPLE,
                                             o->seed, err))) {
    csvreg_scoring_free(s);
    *out = NULL;
  }
  return st;
}

static const csvreg_sink_type scoring_with_type = {
    "evaluation", score_create_with, score_add, score_merge, score_free, 0, NULL};

const csvreg_sink_type *csvreg_sink_eval_with(void) { return &scoring_with_type; }

uint64_t csvreg_scoring_nwindows(const csvreg_scoring *s) {
  return s->o.every ? (s->counts.records + s->o.every - 1) / s->o.every : 0;
}

void csvreg_scoring_window(const csvreg_scoring *s, uint64_t k, uint64_t *first, uint64_t *last,
                           csvreg_metrics *m) {
  uint64_t every = s->o.every ? s->o.every : 1, end = s->o.first_record + s->counts.records - 1;
  uint64_t a = s->o.first_record + k * every, b = a + every - 1;
  if (first)
    *first = a;
  if (last)
    *last = b < end ? b : end;
  if (!m)
    return;
  if (csvreg_scoring_window_get(s, k, m, NULL)) { /* a failure: the metrics of no rows */
    memset(m, 0, sizeof *m);
    m->mse = m->rmse = m->mae = m->mape = m->max_error = m->mean_error = NAN;
    m->r_squared = m->explained_variance = NAN;
  }
}

csvreg_status csvreg_scoring_window_get(const csvreg_scoring *s, uint64_t k, csvreg_metrics *m,
                                        csvreg_error *err) {
  if (!s || !m)
    return csvreg__err_set(err, CSVREG_E_USAGE, "scoring_window_get: NULL argument");
  if (!s->win) { /* no --every: the metrics of no rows */
    memset(m, 0, sizeof *m);
    m->mse = m->rmse = m->mae = m->mape = m->max_error = m->mean_error = NAN;
    m->r_squared = m->explained_variance = NAN;
    return CSVREG_OK;
  }
  /* reading the windows back moves a file offset and ends the adding: the
   * sink is not const underneath (one reader at a time) */
  return csvreg__eval_windows_get(((csvreg_scoring *)s)->win, k, m, err);
}

int csvreg_scoring_grid(const csvreg_scoring *s, int which, csvreg_grid *out) {
  if (!s->plot) {
    memset(out, 0, sizeof *out);
    return 0;
  }
  return csvreg__eval_plot_grid(s->plot, which, out);
}

size_t csvreg_scoring_sample(const csvreg_scoring *s, double *out) {
  if (!s->plot)
    return 0;
  return csvreg__eval_plot_sample(s->plot, out);
}

void csvreg_scoring_result(const csvreg_scoring *s, csvreg_metrics *m, csvreg_counts *k) {
  if (m)
    csvreg_evaluator_result(s->ev, m);
  if (k)
    *k = s->counts;
}

/* ---- the meat of robust errors (the second pass; src/fit/robust.c) ---- */

static void meat_free_sink(void *sink) { csvreg_meat_free(sink); }

static const csvreg_sink_type meat_type = {"meat",
                                           csvreg__meat_create,
                                           csvreg__meat_add_chunk,
                                           csvreg__meat_merge,
                                           meat_free_sink,
                                           CSVREG_SINK_SPECULATE,
                                           NULL};

const csvreg_sink_type *csvreg_sink_meat(void) { return &meat_type; }
