/*
 * accum_spec.h - accumulators of a spec with categorical variables
 * (accum_chunk.c), for the engine's sinks.
 */
#ifndef CSVREG_ACCUM_SPEC_H
#define CSVREG_ACCUM_SPEC_H

#include "spec.h"

/* The end of the data for an accumulator fed chunks of `s`: its design
 * columns (one per level seen, the baseline included, in order of
 * appearance) become R's: levels in R's order (byte order, numeric order
 * for factor() of numbers, relevel's ref first), the baselines of
 * contrast-coded factors dropped (csvreg__accum_select). Nothing for a spec
 * without categorical variables. Call once, before solving or saving. */
csvreg_status csvreg__accum_finish_factors(csvreg_accum *a, const csvreg_spec *s,
                                           csvreg_error *err);

/* The sink's end of the data (csvreg__accum_finish_factors for the
 * accumulator; nothing for other sinks). */
csvreg_status csvreg__sink_finish(const csvreg_sink_type *type, void *sink, const csvreg_spec *s,
                                  csvreg_error *err);

#endif
