/*
 * evaluator.h - what the library's sinks need of the evaluator beyond
 * csvreg.h (metrics.c).
 */
#ifndef CSVREG_EVALUATOR_H
#define CSVREG_EVALUATOR_H

#include "csvreg.h"

/* dst := dst followed by src's rows (compensated sums added, moments
 * combined with Chan's update): the metrics of both sets, to rounding. */
void csvreg__evaluator_merge(csvreg_evaluator *dst, const csvreg_evaluator *src);

/* csvreg_evaluator_add works in blocks of this many rows: rows given in
 * calls of whole blocks (and the rest last) give the same bits however they
 * were split before (eval --every's windows, eval_windows.c). */
#define CSVREG__EVAL_BLOCK 4096

/* Back to no rows, as new. */
void csvreg__evaluator_reset(csvreg_evaluator *e);

#endif
