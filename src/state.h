/*
 * state.h - the accumulator state as a JSON value (jansson), shared by the
 * state files (state.c) and the model files that embed a state.
 */
#ifndef CSVREG_STATE_H
#define CSVREG_STATE_H

#include <jansson.h>

#include "csvreg.h"

/* A new JSON object holding the whole state (no checksum); NULL on ENOMEM. */
json_t *state_to_json(const csvreg_accum *a);

/* Rebuilds an accumulator from state_to_json's object, checking every field.
 * Errors are CSVREG_E_FORMAT. */
csvreg_status state_from_json(const json_t *o, csvreg_accum **out, csvreg_error *err);

/* The checksum string of `o` without its "checksum" member. */
csvreg_status state_checksum(const json_t *o, char buf[32], csvreg_error *err);

#endif
