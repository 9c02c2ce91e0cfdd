/*
 * blocks.h - the streamed blocks a state was made of, carried through merges
 * (issue 15). A streamed state (a --pipepart block, a Hadoop split) records
 * the digest of its bytes; a merged state lists the blocks of every state it
 * merged under "digests" ([digest, bytes, records, header_bytes] each), so a
 * block lost and another of the same size delivered twice is caught at any
 * level of a tree of merges (per-node merges, then a final one). Used by
 * accumulator states (stateset.c) and meat states (meat_state.c) alike.
 */
#ifndef CSVREG_BLOCKS_H
#define CSVREG_BLOCKS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "csvreg.h"

/* One state whose blocks are checked: its provenance ("meta"), borrowed,
 * and where it was read (for messages). */
typedef struct csvreg__block_owner {
  const json_t *meta;
  const char *source;
  uint64_t line;
} csvreg__block_owner;

/* A streamed block with rows in two of the n states (their own digest or
 * one listed under "digests"): CSVREG_E_VALUE naming both states. A block
 * listed twice by one merged state was allowed (--allow-repeat) when that
 * state was merged and is not an error here. A malformed "digests" member:
 * CSVREG_E_FORMAT at its state. */
csvreg_status csvreg__blocks_check(const csvreg__block_owner *v, size_t n, csvreg_error *err);

/* Sets "digests" in `out_meta` to every block of the n states, sorted;
 * sets nothing when none has a block with rows (ranged shards), so merged
 * ranged states are what they were. */
csvreg_status csvreg__blocks_merged(const csvreg__block_owner *v, size_t n, json_t *out_meta,
                                    csvreg_error *err);

#endif
