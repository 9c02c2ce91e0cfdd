/*
 * fuzz_stateset.c - libFuzzer target for state sets (csvreg_stateset): the
 * input is read as lines of states (each line tried as given and, when it is
 * a JSON object, with its checksum recomputed so that mutated provenance
 * reaches the checks), then merged with and without the coverage checks and
 * subtracted from itself. Any bytes give a result or an error status, never
 * a crash, a leak or an output left behind on failure; a merge's provenance
 * must load back as a state's meta.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"
#include "fuzz_rechecksum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *copy(const char *s) {
  char *d = s ? malloc(strlen(s) + 1) : NULL;
  return d ? strcpy(d, s) : NULL;
}

/* The count after `key` in a meta text (0 when absent). */
static unsigned long long meta_count(const char *meta, const char *key) {
  const char *p = meta ? strstr(meta, key) : NULL;
  return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Merges; with `chk` NULL, fills *want with checks the merge should pass
 * (its own records and bytes) for the next call. */
static void merge_once(csvreg_stateset *s, const csvreg_stateset_checks *chk,
                       csvreg_stateset_checks *want) {
  csvreg_accum *acc = NULL;
  char *meta = NULL;
  csvreg_error err;
  csvreg_status st = csvreg_stateset_merge(s, chk, &acc, &meta, &err);
  if (st) {
    if (acc || meta)
      abort();
    return;
  }
  if (want) {
    want->expect_rows = want->expect_bytes = 1;
    want->rows = meta_count(meta, "\"records\":");
    const char *r = strstr(meta, "\"ranges\":[[0,");
    want->bytes = r ? meta_count(r, "\"ranges\":[[0,")
                    : meta_count(meta, "\"bytes\":") + meta_count(meta, "\"header_bytes\":");
  }
  char *text = NULL;
  if (csvreg_accum_save(acc, meta, &text, &err) != CSVREG_OK)
    abort();
  /* Rolling window: the set subtracted from its own merge (normal solver:
   * no rows left; qr: CSVREG_E_USAGE). On failure nothing changes. */
  char *before = copy(meta);
  if (csvreg_stateset_subtract(s, acc, &meta, &err) != CSVREG_OK &&
      ((before == NULL) != (meta == NULL) || (before && strcmp(before, meta) != 0)))
    abort();
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  csvreg_stateset_model_options(s, &mo);
  free(before);
  free(text);
  free(meta);
  csvreg_accum_free(acc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  csvreg_stateset *s = NULL;
  if (csvreg_stateset_new(&s, NULL) != CSVREG_OK)
    return 0;
  const char *p = (const char *)data, *end = p + size;
  uint64_t line = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    csvreg_error err;
    csvreg_status st = csvreg_stateset_add_text(s, p, len, "fuzz", ++line, &err);
    if (st != CSVREG_OK && st != CSVREG_E_FORMAT && st != CSVREG_E_NOMEM)
      abort();
    char *fixed = st ? fuzz_rechecksum(p, len) : NULL;
    if (fixed) {
      csvreg_stateset_add_text(s, fixed, strlen(fixed), "fuzz", line, &err);
      free(fixed);
    }
    p += len + (nl != NULL);
  }
  /* Unchecked, then with the checks the states should pass, then with
   * checks from the input's size and lines (a shard missing or extra). */
  csvreg_stateset_checks want = {0, 0, 0, 0, 0, 0, 0}, other = {1, line, 1, size, 0, 0, 0};
  merge_once(s, NULL, &want);
  merge_once(s, &want, NULL);
  merge_once(s, &other, NULL);
  csvreg_stateset_free(s);
  return 0;
}
