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

#endif
