/*
 * eval_plot.h - the bounded summaries behind `eval --plot` (eval_plot.c):
 * binned counts on grids that widen as values arrive, and a sample of the
 * residuals, both mergeable so that the pass's pieces combine.
 */
#ifndef CSVREG_EVAL_PLOT_H
#define CSVREG_EVAL_PLOT_H

#include "csvreg.h"

typedef struct csvreg__eval_plot csvreg__eval_plot;

csvreg_status csvreg__eval_plot_new(csvreg__eval_plot **out, size_t sample, uint64_t seed,
                                    csvreg_error *err);
void csvreg__eval_plot_free(csvreg__eval_plot *p);
/* n rows: actual y, prediction yhat, record numbers rec (the sample's keys). */
csvreg_status csvreg__eval_plot_add(csvreg__eval_plot *p, size_t n, const double *y,
                                    const double *yhat, const uint64_t *rec, csvreg_error *err);
/* into := into and from's rows (any order: the result does not depend on it). */
csvreg_status csvreg__eval_plot_merge(csvreg__eval_plot *into, const csvreg__eval_plot *from,
                                      csvreg_error *err);
/* The occupied part of grid `which` (CSVREG_GRID_*); 0 when no rows. */
int csvreg__eval_plot_grid(const csvreg__eval_plot *p, int which, csvreg_grid *out);
/* How many residuals are sampled, and with out != NULL those, ascending. */
size_t csvreg__eval_plot_sample(const csvreg__eval_plot *p, double *out);

#endif
