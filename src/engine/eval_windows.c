/*
 * eval_windows.c - eval --every's windows (eval_windows.h) in memory that
 * does not grow with the rows: a sink holds at most two windows being
 * filled (its first, and its last), and each finished window is one
 * csvreg_metrics record in a spool (badlog.h: memory up to a cap, then an
 * unnamed temporary file), read back by index when the report is written.
 * Before, every window kept its evaluator in memory: --every 1 on 2M rows
 * took 365 MB.
 *
 * The same bits on any number of threads: a window's rows reach its
 * evaluator in whole blocks of CSVREG__EVAL_BLOCK counted from the window's
 * first row (a window being filled keeps up to a block of rows pending), so
 * its metrics depend on its rows alone, not on how chunks or pieces cut
 * them. A piece of a threaded pass whose first window may have begun in the
 * piece before (its first scored row is not the window's first record)
 * keeps that window's rows as they came (the head: a spool of y, yhat,
 * weight) and they are added after the earlier piece's rows when the
 * pieces merge, in input order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "badlog.h"
#include "eval_windows.h"
#include "evaluator.h"
#include "internal.h"

#define BLOCK CSVREG__EVAL_BLOCK

/* A window being filled: its evaluator and the rows of its block so far. */
typedef struct wacc {
  uint64_t k;
  csvreg_evaluator *ev;
  double *y, *p, *w; /* [BLOCK] each */
  size_t np;
} wacc;

struct csvreg__eval_windows {
  uint64_t every, first_record;
  int any; /* a row was added */
  /* the head: the first window, when it may have begun before these rows */
  int has_head;
  uint64_t head_k;
  csvreg__spool *head; /* its rows: y, yhat, weight (3 doubles each) */
  /* the last window with rows, being filled */
  int has_open;
  wacc open;
  /* finished windows done0, done0 + 1, ... (one csvreg_metrics each, empty
   * windows too) */
  uint64_t done0;
  csvreg__spool *done;
  /* after the first _get: the open window's and the head's metrics */
  int final;
  csvreg_metrics open_m, head_m;
  wacc scratch; /* the head's rows replayed at the end */
};

static csvreg_status nomem(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the windows");
}

static csvreg_status spool_failed(csvreg_error *err, csvreg_status st) {
  if (st == CSVREG_E_NOMEM)
    return nomem(err);
  return csvreg__err_set(err, CSVREG_E_IO,
                         "--every: cannot write or read the windows' temporary file (in $TMPDIR, "
                         "else /tmp)");
}

static void wacc_free(wacc *a) {
  csvreg_evaluator_free(a->ev);
  free(a->y);
  free(a->p);
  free(a->w);
  memset(a, 0, sizeof *a);
}

/* An empty window k (the buffers kept for reuse). */
static csvreg_status wacc_start(wacc *a, uint64_t k, csvreg_error *err) {
  if (!a->ev && csvreg_evaluator_new(&a->ev, err))
    return CSVREG_E_NOMEM;
  if (!a->y) {
    a->y = malloc(BLOCK * sizeof *a->y);
    a->p = malloc(BLOCK * sizeof *a->p);
    a->w = malloc(BLOCK * sizeof *a->w);
    if (!a->y || !a->p || !a->w)
      return nomem(err);
  }
  csvreg__evaluator_reset(a->ev);
  a->k = k;
  a->np = 0;
  return CSVREG_OK;
}

static csvreg_status wacc_flush(wacc *a, csvreg_error *err) {
  csvreg_status st = a->np ? csvreg_evaluator_add(a->ev, a->np, a->y, a->p, a->w, err) : CSVREG_OK;
  a->np = 0;
  return st;
}

/* Rows into the window: whole blocks go to the evaluator, the rest waits. */
static csvreg_status wacc_add(wacc *a, size_t n, const double *y, const double *p, const double *w,
                              csvreg_error *err) {
  while (n) {
    if (a->np == 0 && n >= BLOCK) { /* whole blocks as they are */
      size_t m = n - n % BLOCK;
      csvreg_status st = csvreg_evaluator_add(a->ev, m, y, p, w, err);
      if (st)
        return st;
      y += m, p += m, n -= m;
      if (w)
        w += m;
      continue;
    }
    size_t k = BLOCK - a->np < n ? BLOCK - a->np : n;
    memcpy(a->y + a->np, y, k * sizeof *y);
    memcpy(a->p + a->np, p, k * sizeof *p);
    for (size_t i = 0; i < k; i++)
      a->w[a->np + i] = w ? w[i] : 1.0; /* the same bits as no weights */
    a->np += k;
    y += k, p += k, n -= k;
    if (w)
      w += k;
    if (a->np == BLOCK) {
      csvreg_status st = wacc_flush(a, err);
      if (st)
        return st;
    }
  }
  return CSVREG_OK;
}

static csvreg_status wacc_result(wacc *a, csvreg_metrics *m, csvreg_error *err) {
  csvreg_status st = wacc_flush(a, err);
  if (!st)
    csvreg_evaluator_result(a->ev, m);
  return st;
}

static void empty_metrics(csvreg_metrics *m) {
  memset(m, 0, sizeof *m);
  m->mse = m->rmse = m->mae = m->mape = m->max_error = m->mean_error = NAN;
  m->r_squared = m->explained_variance = NAN;
}

csvreg_status csvreg__eval_windows_new(csvreg__eval_windows **out, uint64_t every,
                                       uint64_t first_record, csvreg_error *err) {
  *out = NULL;
  csvreg__eval_windows *w = calloc(1, sizeof *w);
  if (!w || !(w->head = csvreg__spool_new(0)) || !(w->done = csvreg__spool_new(0))) {
    csvreg__eval_windows_free(w);
    return nomem(err);
  }
  w->every = every;
  w->first_record = first_record;
  *out = w;
  return CSVREG_OK;
}

void csvreg__eval_windows_free(csvreg__eval_windows *w) {
  if (!w)
    return;
  csvreg__spool_free(w->head);
  csvreg__spool_free(w->done);
  wacc_free(&w->open);
  wacc_free(&w->scratch);
  free(w);
}

int csvreg__eval_windows_spilled(const csvreg__eval_windows *w) {
  return csvreg__spool_spilled(w->head) || csvreg__spool_spilled(w->done);
}

static uint64_t ndone(const csvreg__eval_windows *w) {
  return csvreg__spool_size(w->done) / sizeof(csvreg_metrics);
}

/* Finished windows up to (not including) k that have no record yet: empty. */
static csvreg_status fill_to(csvreg__eval_windows *w, uint64_t k, csvreg_error *err) {
  csvreg_metrics m;
  empty_metrics(&m);
  for (uint64_t j = w->done0 + ndone(w); j < k; j++) {
    csvreg_status st = csvreg__spool_write(w->done, &m, sizeof m);
    if (st)
      return spool_failed(err, st);
  }
  return CSVREG_OK;
}

/* The open window is finished: its metrics after those before it. */
static csvreg_status close_open(csvreg__eval_windows *w, csvreg_error *err) {
  if (!w->has_open)
    return CSVREG_OK;
  csvreg_metrics m;
  csvreg_status st = fill_to(w, w->open.k, err);
  if (!st)
    st = wacc_result(&w->open, &m, err);
  if (!st && (st = csvreg__spool_write(w->done, &m, sizeof m)))
    st = spool_failed(err, st);
  w->has_open = 0;
  return st;
}

/* The head's rows (y, yhat, weight triples) from spool `sp` into window a. */
static csvreg_status replay_head(csvreg__spool *sp, wacc *a, csvreg_error *err) {
  enum { N = 256 };
  double t[3 * N], y[N], p[N], wt[N];
  uint64_t size = csvreg__spool_size(sp), at = 0;
  while (at < size) {
    size_t n =
        (size - at) / (3 * sizeof(double)) < N ? (size_t)((size - at) / (3 * sizeof(double))) : N;
    if (n == 0)
      return spool_failed(err, CSVREG_E_IO);
    csvreg_status st = csvreg__spool_read(sp, at, t, n * 3 * sizeof(double));
    if (st)
      return spool_failed(err, st);
    for (size_t i = 0; i < n; i++) {
      y[i] = t[3 * i];
      p[i] = t[3 * i + 1];
      wt[i] = t[3 * i + 2];
    }
    if ((st = wacc_add(a, n, y, p, wt, err)))
      return st;
    at += n * 3 * sizeof(double);
  }
  return CSVREG_OK;
}

static csvreg_status head_add(csvreg__eval_windows *w, size_t n, const double *y, const double *p,
                              const double *wt, csvreg_error *err) {
  for (size_t i = 0; i < n; i++) {
    double t[3] = {y[i], p[i], wt ? wt[i] : 1.0};
    csvreg_status st = csvreg__spool_write(w->head, t, sizeof t);
    if (st)
      return spool_failed(err, st);
  }
  return CSVREG_OK;
}

csvreg_status csvreg__eval_windows_add(csvreg__eval_windows *w, size_t n, const uint64_t *rec,
                                       const double *y, const double *yhat, const double *wt,
                                       csvreg_error *err) {
  if (w->final)
    return csvreg__err_set(err, CSVREG_E_USAGE, "eval windows: rows after the result");
  size_t i = 0;
  while (i < n) {
    uint64_t k = (rec[i] - w->first_record) / w->every;
    size_t j = i + 1;
    while (j < n && (rec[j] - w->first_record) / w->every == k)
      j++;
    const double *wi = wt ? wt + i : NULL;
    csvreg_status st = CSVREG_OK;
    if (!w->any) {
      w->any = 1;
      if (rec[i] != w->first_record + k * w->every) { /* may have begun before */
        w->has_head = 1;
        w->head_k = k;
        w->done0 = k + 1;
      } else {
        w->done0 = k;
      }
    }
    if (w->has_head && k == w->head_k) {
      st = head_add(w, j - i, y + i, yhat + i, wi, err);
    } else {
      if (w->has_open && w->open.k != k)
        st = close_open(w, err);
      if (!st && !w->has_open) {
        st = wacc_start(&w->open, k, err);
        w->has_open = !st;
      }
      if (!st)
        st = wacc_add(&w->open, j - i, y + i, yhat + i, wi, err);
    }
    if (st)
      return st;
    i = j;
  }
  return CSVREG_OK;
}

static void swap_windows(csvreg__eval_windows *a, csvreg__eval_windows *b) {
  csvreg__eval_windows t = *a;
  *a = *b;
  *b = t;
}

csvreg_status csvreg__eval_windows_merge(csvreg__eval_windows *dst, csvreg__eval_windows *src,
                                         csvreg_error *err) {
  if (dst->final || src->final)
    return csvreg__err_set(err, CSVREG_E_USAGE, "eval windows: merge after the result");
  if (!src->any)
    return CSVREG_OK;
  if (!dst->any) { /* the first piece: its windows as they are */
    swap_windows(dst, src);
    return CSVREG_OK;
  }
  csvreg_status st = CSVREG_OK;
  /* src's head continues dst's last window, or starts one after it */
  if (src->has_head) {
    uint64_t k = src->head_k;
    if (!dst->has_open && dst->has_head && dst->head_k == k) {
      if ((st = csvreg__spool_copy(dst->head, src->head, 0, csvreg__spool_size(src->head))))
        return spool_failed(err, st);
    } else {
      if (dst->has_open && dst->open.k != k && (st = close_open(dst, err)))
        return st;
      if (!dst->has_open) {
        if ((st = wacc_start(&dst->open, k, err)))
          return st;
        dst->has_open = 1;
      }
      if ((st = replay_head(src->head, &dst->open, err)))
        return st;
    }
  }
  /* src's finished windows and its last one follow */
  uint64_t nd = ndone(src);
  if (nd || src->has_open) {
    if ((st = close_open(dst, err)))
      return st;
    if (nd) {
      if (dst->has_head && ndone(dst) == 0 && dst->done0 <= dst->head_k)
        dst->done0 = dst->head_k + 1;
      if ((st = fill_to(dst, src->done0, err)))
        return st;
      if ((st = csvreg__spool_copy(dst->done, src->done, 0, csvreg__spool_size(src->done))))
        return spool_failed(err, st);
    }
    if (src->has_open) {
      wacc t = dst->open;
      dst->open = src->open;
      src->open = t;
      dst->has_open = 1;
      src->has_open = 0;
    }
  }
  csvreg__spool_clear(src->head);
  csvreg__spool_clear(src->done);
  src->any = src->has_head = 0;
  return CSVREG_OK;
}

csvreg_status csvreg__eval_windows_get(csvreg__eval_windows *w, uint64_t k, csvreg_metrics *m,
                                       csvreg_error *err) {
  csvreg_status st;
  if (!w->final) {
    w->final = 1;
    empty_metrics(&w->open_m);
    empty_metrics(&w->head_m);
    if (w->has_open && (st = wacc_result(&w->open, &w->open_m, err)))
      return st;
    if (w->has_head) {
      if ((st = wacc_start(&w->scratch, w->head_k, err)) ||
          (st = replay_head(w->head, &w->scratch, err)) ||
          (st = wacc_result(&w->scratch, &w->head_m, err)))
        return st;
      wacc_free(&w->scratch);
    }
  }
  if (w->has_head && k == w->head_k) {
    *m = w->head_m;
  } else if (w->has_open && k == w->open.k) {
    *m = w->open_m;
  } else if (w->any && k >= w->done0 && k - w->done0 < ndone(w)) {
    if ((st = csvreg__spool_read(w->done, (k - w->done0) * sizeof *m, m, sizeof *m)))
      return spool_failed(err, st);
  } else {
    empty_metrics(m);
  }
  return CSVREG_OK;
}
