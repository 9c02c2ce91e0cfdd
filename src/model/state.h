/*
 * state.h - the accumulator state as a JSON value (jansson), shared by the
 * state files (state.c) and the model files that embed a state.
 */
#ifndef CSVREG_STATE_H
#define CSVREG_STATE_H

#include <jansson.h>

#include "csvreg.h"

/* A new JSON object holding the whole state (no checksum); NULL on ENOMEM. */
json_t *csvreg__state_to_json(const csvreg_accum *a);

/* Rebuilds an accumulator from csvreg__state_to_json's object, checking every field.
 * Errors are CSVREG_E_FORMAT. */
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

/* The checksum string of `o` without its "checksum" member. */
csvreg_status csvreg__state_checksum(const json_t *o, char buf[32], csvreg_error *err);

#endif
