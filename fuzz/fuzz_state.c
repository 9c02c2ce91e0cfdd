/*
 * fuzz_state.c - libFuzzer target for the state-file loader: any bytes give an
 * accumulator or a CSVREG_E_FORMAT (or NOMEM) error, never a crash or a leak.
 * A loaded state saves and loads again to the same text, merges with itself,
 * chooses R's columns when it holds levels (csvreg_accum_finish) and solves
 * (a numerical error is fine, a crash is not).
 *
 * A mutated file almost never passes its CRC-32, so each input is tried as
 * given (the checksum path) and, when it is a JSON object, with its checksum
 * recomputed (src/model/state.h's canonical text), to reach the checks behind it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"
#include "fuzz_rechecksum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_state(const uint8_t *data, size_t size) {
  csvreg_accum *a = NULL;
  csvreg_error err;
  char *meta = NULL;
  csvreg_status st = csvreg_accum_load(&a, (const char *)data, size, &meta, &err);
  if (st != CSVREG_OK) {
    if (a || (st != CSVREG_E_FORMAT && st != CSVREG_E_NOMEM))
      abort();
    free(meta);
    return;
  }
  char *text = NULL, *again = NULL;
  if (csvreg_accum_save(a, meta, &text, &err) != CSVREG_OK)
    abort();
  csvreg_accum *b = NULL;
  if (csvreg_accum_load(&b, text, strlen(text), NULL, &err) != CSVREG_OK)
    abort();
  if (csvreg_accum_save(b, meta, &again, &err) != CSVREG_OK || strcmp(text, again) != 0)
    abort();
  csvreg_accum_merge(b, a, &err);
  csvreg_accum_finish(b, &err); /* a shard's state of factors: R's columns */
  csvreg_fit *f = NULL;
  if (csvreg_accum_solve(b, NULL, &f, &err) == CSVREG_OK) {
    char *json = NULL;
    csvreg_fit_to_json(f, &json, &err);
    free(json);
  }
  csvreg_fit_free(f);
  free(text);
  free(again);
  free(meta);
  csvreg_accum_free(b);
  csvreg_accum_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_state(data, size);
  char *fixed = fuzz_rechecksum((const char *)data, size);
  if (fixed) {
    check_state((const uint8_t *)fixed, strlen(fixed));
    free(fixed);
  }
  return 0;
}
