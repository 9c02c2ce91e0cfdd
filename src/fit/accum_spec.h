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

/* The design columns of `s` for nlev[k] levels levs[k][...] of each
 * factor slot k: with r_columns 0 the live columns (every level its own
 * column: a shard's state), else R's columns (levels in R's order, the
 * baselines of contrast-coded factors left out) with, when perm_out is not
 * NULL, the slots' R orders one after another (*perm_out, malloc'd: slot
 * k's i-th level in R's order is levs[k][perm[o_k + i]], o_k the sum of
 * the earlier slots' nlev). */
struct csvreg__dcols;
csvreg_status csvreg__factor_columns(const csvreg_spec *s, const size_t *nlev,
                                     const char *const *const *levs, int r_columns,
                                     struct csvreg__dcols **out, size_t **perm_out,
                                     csvreg_error *err);

/* A chunk of a spec with categorical variables meets `a`: the chunk's new
 * levels join a's lists and its new design columns join a's terms (zero on
 * the rows folded so far). at[j] (nc = the chunk's columns) is then a's
 * term of chunk column j; *identity: they are a's terms in a's order. */
csvreg_status csvreg__accum_chunk_join(csvreg_accum *a, const csvreg_chunk *c, size_t *at,
                                       int *identity, csvreg_error *err);

/* dst := dst (+) src for accumulators of one factor spec after
 * csvreg__accum_finish_factors of src (dst: empty, or finished alike): dst
 * gets src's terms it lacks (zero columns) and src's order, then the plain
 * merge; the level lists are united. Without levels: csvreg_accum_merge. */
csvreg_status csvreg__accum_merge_finished(csvreg_accum *dst, const csvreg_accum *src,
                                           csvreg_error *err);

/* head12: the end of a pass that does not finish (open levels): the
 * accumulator's level head joins its dense state (accum_chunk.c). */
csvreg_status csvreg__sink_settle(const csvreg_sink_type *type, void *sink, csvreg_error *err);

/* The level head's plan, made once per chunk by the chunk's owner (the
 * pass) after the chunk's first fill and before that fill reaches the
 * sink: for the accumulator sink with the QR kernel, the factor whose
 * main-effect columns the chunk leaves out from then on
 * (csvreg__chunk_set_head), which an empty accumulator fed the chunk then
 * folds apart (accum_chunk.c); (size_t)-1 for every other sink. A no-op
 * on a chunk already planned. */
void csvreg__sink_plan_chunk(const csvreg_sink_type *type, const void *arg, csvreg_chunk *c);

/* The sink's end of the data (csvreg__accum_finish_factors for the
 * accumulator; nothing for other sinks). */
csvreg_status csvreg__sink_finish(const csvreg_sink_type *type, void *sink, const csvreg_spec *s,
                                  csvreg_error *err);

#endif
