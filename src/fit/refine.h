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
};

#endif
