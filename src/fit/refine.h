/*
 * refine.h - the state of an iterative refinement (refine.c), private to
 * the library: white-box tests may read it.
 */
#ifndef CSVREG_REFINE_H
#define CSVREG_REFINE_H

#include "csvreg.h"

struct csvreg_refine {
  const csvreg_fit *fit;
  size_t p, ic, nc, rank, max_steps;
  size_t *kept;       /* [rank] coefficient slots kept */
  double *b, *b_prev; /* [2 * nc] the iterate and the one before: double-double pairs, 0 aliased */
  double *d;          /* [2 * nc] the last correction (or the rejected one), original coordinates */
  double *shift;      /* [p] the accumulator's shift of each term */
  double *u;          /* [rank x rank] U'U = A'WA over the kept slots */
  uint64_t used;      /* rows of weight > 0 the fit used */
  double sum_log_w;
  size_t steps, passes;
  double delta, delta_prev; /* ||U d|| of the last two steps taken */
  double rss, rss_prev;     /* at the iterate; measured at the one before */
  csvreg_refine_stop stop;
  int done, rejected;
  int as_written; /* every pass read the cells as written (refine_cells.c) */
};

/* A chunk as the refinement reads it (refine_cells.c): the design, the
 * response and the weights as double-double pairs (value, rest), [p x ld]
 * column-major; a NULL rest is 0. */
typedef struct refine_view {
  size_t n, ld;
  const double *x, *xl;
  const double *y, *yl;
  const double *w, *wl; /* NULL: unweighted */
} refine_view;

/* The chunk's cells the refinement reads as text (refine_cells.c). */
typedef struct csvreg__refine_cells csvreg__refine_cells;

/* Adds to `s` (a spec bound to the fit, no chunk made yet) as key cells
 * the numeric inputs the refinement recomputes in double-double: the
 * response, the weights and the inputs of the terms. Nothing when the spec
 * has keys already (then the doubles are read). */
csvreg_status csvreg__refine_cells_keys(csvreg_spec *s, csvreg_error *err);
csvreg_status csvreg__refine_cells_new(csvreg__refine_cells **out, const csvreg_spec *s,
                                       csvreg_error *err);
void csvreg__refine_cells_free(csvreg__refine_cells *rc);
/* 1: every column, the response and the weights are read as written
 * (no term the double-double arithmetic cannot recompute, such as log). */
int csvreg__refine_cells_as_written(const csvreg__refine_cells *rc);
/* The chunk as double-double values of its cells as written, valid until
 * the next call. */
csvreg_status csvreg__refine_cells_read(csvreg__refine_cells *rc, const csvreg_chunk *c,
                                        refine_view *out, csvreg_error *err);

#endif
