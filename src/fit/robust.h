/*
 * robust.h - the meat of the sandwich (robust.c), for the second pass's
 * sink in src/engine/sink.c.
 */
#ifndef CSVREG_ROBUST_H
#define CSVREG_ROBUST_H

#include "csvreg.h"

/* The meat sink's operations (csvreg_sink_type): `arg` is the const
 * csvreg_robust *, which outlives the sink. */
csvreg_status csvreg__meat_create(void **out, const csvreg_spec *spec, const void *arg,
                                  csvreg_error *err);
csvreg_status csvreg__meat_add_chunk(void *sink, const csvreg_chunk *c, csvreg_error *err);
csvreg_status csvreg__meat_merge(void *into, const void *from, csvreg_error *err);

#endif
