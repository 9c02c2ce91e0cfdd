/*
 * fuzz_rechecksum.h - for the loader targets (fuzz_model, fuzz_state): a
 * mutated file almost never passes its CRC-32, so each input is also tried
 * with its checksum recomputed, to reach the checks behind it.
 */
#ifndef CSVREG_FUZZ_RECHECKSUM_H
#define CSVREG_FUZZ_RECHECKSUM_H

#include <jansson.h>
#include <stddef.h>

#include "state.h"

/* The input with a valid "checksum" member (src/model/state.h's canonical text),
 * malloc'd, or NULL when it is not a JSON object. */
static inline char *fuzz_rechecksum(const char *data, size_t size) {
  json_error_t je;
  json_t *o = json_loadb(data, size, 0, &je);
  if (!json_is_object(o)) {
    json_decref(o);
    return NULL;
  }
  char sum[32];
  char *text = NULL;
  if (csvreg__state_checksum(o, sum, NULL) == CSVREG_OK &&
      json_object_set_new(o, "checksum", json_string(sum)) == 0)
    text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}

#endif
