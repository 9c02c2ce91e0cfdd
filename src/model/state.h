/*
 * state.h - the accumulator state as a JSON value (jansson), shared by the
 * state files (state.c) and the model files that embed a state.
 */
#ifndef CSVREG_STATE_H
#define CSVREG_STATE_H

#include <jansson.h>

#include "csvreg.h"
#include "json_write.h"

/* A new JSON object holding the state (no checksum); NULL on ENOMEM. The
 * kernel's numbers (O(terms^2)) are not in the tree: an empty array stands
 * for each, described in bigs[0, *nbigs) (KERNEL_MAX_FIELDS entries), which
 * borrow the accumulator's numbers; csvreg__jwrite writes the whole state. */
json_t *csvreg__state_to_json_big(const csvreg_accum *a, csvreg__jbig *bigs, size_t *nbigs);

/* Rebuilds an accumulator from a state object, checking every field.
 * Errors are CSVREG_E_FORMAT. Kernel fields that are stand-ins of `bigs`
 * take their numbers from there (a copy, or a loader that read them
 * itself: JBIG_CRC entries hold the numbers in file order, `bad` when one
 * was not a hex float); the others are read from the tree. */
csvreg_status csvreg__state_from_json_big(const json_t *o, const csvreg__jbig *bigs, size_t nbigs,
                                          csvreg_accum **out, csvreg_error *err);
/* The same with every number in the tree. */
csvreg_status csvreg__state_from_json(const json_t *o, csvreg_accum **out, csvreg_error *err);

/* state_levels.c: the categorical part of a version 2 state. _put adds
 * "formula", "factors" and "selected" to `o` for an accumulator with level
 * lists and a frame (-1: out of memory or no frame); _get checks them
 * against the spec they rebuild and the state's terms (CSVREG_E_FORMAT) and
 * gives them to `a`. */
int csvreg__state_levels_put(json_t *o, const csvreg_accum *a);
csvreg_status csvreg__state_levels_get(const json_t *o, csvreg_accum *a, csvreg_error *err);
/* The spec a framed accumulator's formula rebuilds (its frame: formula,
 * header, text columns, weights), for a model made from a state (solve -o);
 * *out NULL and CSVREG_OK when `a` has no frame. */
csvreg_status csvreg__state_frame_spec(const csvreg_accum *a, csvreg_spec **out, csvreg_error *err);

/* CSVREG_E_VALUE naming the first of the accumulator's names (target, terms,
 * inputs) that is not valid UTF-8: JSON cannot hold it, so a state or model
 * file would be refused (or silently renamed) rather than written. */
csvreg_status csvreg__state_check_names(const csvreg_accum *a, csvreg_error *err);

/* Parses one state text and checks its checksum (not yet its fields:
 * csvreg__state_from_json does that); *out is the whole object, for callers that
 * also read its members (the state sets of stateset.c). CSVREG_E_FORMAT for
 * text that is not JSON, has duplicate keys or fails the checksum. */
csvreg_status csvreg__state_parse(const char *text, size_t len, json_t **out, csvreg_error *err);
/* The same with the big arrays read without a tree (state_scan.c) into
 * *scan when the text allows it (scan->nbig of them, stand-ins in *out; give
 * scan->big to csvreg__state_from_json_big); the caller frees *scan with
 * csvreg__jscan_free. */
struct csvreg__jscan;
csvreg_status csvreg__state_parse_scan(const char *text, size_t len, json_t **out,
                                       struct csvreg__jscan *scan, csvreg_error *err);

/* The checksum string of `o` without its "checksum" member (the CRC-32 of
 * its compact, sorted-key text, streamed); _big with stand-ins. */
csvreg_status csvreg__state_checksum(const json_t *o, char buf[32], csvreg_error *err);
csvreg_status csvreg__state_checksum_big(const json_t *o, const csvreg__jbig *bigs, size_t nbigs,
                                         char buf[32], csvreg_error *err);

/* ---- state_head.c: the sizes a version 3 line declares first ---- */

/* The longest JSON text of a state of `terms` terms whose line, its kernel
 * arrays written as `[]`, is `text` bytes: text + 32 ((T + 2)(T + 3) / 2 +
 * (T + 2)); CSVREG_STATE_MAX_LINE for sizes past the limits. */
size_t csvreg__state_line_bound(size_t terms, size_t text);

enum { STATE_HEAD_MORE, STATE_HEAD_OLD, STATE_HEAD_BOUNDS, STATE_HEAD_BAD, STATE_HEAD_OTHER };
/* A line that begins neither with "bounds" (version 3) nor with "checksum"
 * (versions 1 and 2, whose keys are sorted) is no state csvreg wrote: it is
 * read at most this far, so that its parse says what is wrong with a short
 * one and a long one stops early. */
#define STATE_OTHER_MAX ((size_t)1 << 16)
typedef struct csvreg__state_head {
  size_t start;       /* where the JSON starts in the line */
  size_t terms, text; /* the declaration (STATE_HEAD_BOUNDS) */
  size_t bound;       /* the longest line it allows, the start included */
} csvreg__state_head;

/* What the first bytes line[0, len) of a state line say: STATE_HEAD_MORE
 * (too few bytes yet), STATE_HEAD_OLD ("checksum" first: a version 1 or 2
 * line), STATE_HEAD_OTHER (any other first key), STATE_HEAD_BOUNDS (*h filled) or STATE_HEAD_BAD (a
 * "bounds" that is not {"terms": T, "text": N} within T <= CSVREG_MAX_TERMS
 * and N <= CSVREG_STATE_MAX_LINE, or does not close in its first 256
 * bytes). */
int csvreg__state_line_head(const char *line, size_t len, csvreg__state_head *h);

/* ---- state_lines.c: reading state lines, the merge order ---- */

/* Grows the malloc'd *buf to ncap bytes (*cap := ncap); CSVREG_E_NOMEM
 * with *buf kept when it cannot (the line reader, model_read.c). */
csvreg_status csvreg__buf_grow(char **buf, size_t *cap, size_t ncap, csvreg_error *err);

/* Where the JSON of a state line starts: after blanks, or after a Hadoop
 * `key<TAB>` prefix and blanks. */
size_t csvreg__line_json_start(const char *text, size_t len);

/* What a set does with the lines csvreg__lines_read_fd cuts. */
typedef struct csvreg__line_ops {
  void *ctx;
  /* The longest line accepted when it starts with head[0, len) (len may
   * be 0: the limit before anything was read). */
  size_t (*limit)(void *ctx, const char *head, size_t len);
  /* One line (with its line feed, if any); `offset` is its first byte's
   * offset in the file when `seekable` (a regular file), else 0. */
  csvreg_status (*add)(void *ctx, const char *text, size_t len, const char *source, uint64_t line,
                       uint64_t offset, int seekable, csvreg_error *err);
  /* The error for a line past its limit (head[0, len) read so far). */
  csvreg_status (*too_long)(void *ctx, const char *head, size_t len, const char *source,
                            uint64_t line, csvreg_error *err);
} csvreg__line_ops;

/* Reads `fd` to its end and hands each line to ops->add, counting lines
 * from 1. A line fails as soon as it passes its limit, holds a control
 * byte (JSON text holds none) or has no '{' in its first 64 KiB
 * (CSVREG_E_FORMAT, never read on); a model file (a pretty-printed JSON
 * object) is named as such. CSVREG_E_IO when reading fails. */
csvreg_status csvreg__lines_read_fd(int fd, const char *source, const csvreg__line_ops *ops,
                                    csvreg_error *err);

/* stateset.c: the line text of the states a set holds before it drops
 * later ones (read again when merged); tests set 0 to read every state
 * again. */
void csvreg__stateset_set_keep(csvreg_stateset *s, size_t bytes);

/* The order states (and meat states) are merged in: states with a byte
 * range first, by their first range's start and end, then by checksum;
 * fixed by provenance, so the bits merged do not depend on arrival. */
typedef struct csvreg__merge_key {
  int has_range;
  uint64_t start, end;
  const char *checksum; /* borrowed */
} csvreg__merge_key;

/* The key of a state whose "meta" is `meta` (may be NULL). */
void csvreg__merge_key_of(const json_t *meta, const char *checksum, csvreg__merge_key *k);
int csvreg__merge_key_cmp(const csvreg__merge_key *a, const csvreg__merge_key *b);

#endif
