/*
 * provenance_json.c - a state's "meta": where its rows came from (source,
 * shard, byte range, header and data bytes, records) and the reader options
 * every shard of a merge must share. Written here, beside the checks that
 * read it (stateset.c), so that the program needs no JSON library. Compact,
 * keys sorted: a state is one line.
 */
#include <jansson.h>
#include <stdlib.h>

#include "internal.h"
#include "json_mem.h"
#include "json_str.h"

static int put(json_t *o, const char *key, json_t *v) {
  return !v || json_object_set_new(o, key, v) != 0;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *options_json(const csvreg_provenance *p) {
  char d[2] = {p->delimiter, '\0'};
  return json_pack("{s:s, s:b, s:o, s:o}", "delimiter", d, "header", p->header, "na",
                   str_or_null(p->na), "weights", str_or_null(p->weights));
}

csvreg_status csvreg_provenance_to_json(const csvreg_provenance *p, const csvreg_accum *a,
                                        char **out, csvreg_error *err) {
  if (!p || !p->pass || !a || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "provenance_to_json: NULL argument");
  *out = NULL;
  /* jansson's failures, even those it hid (json_mem.c), are out of memory. */
  unsigned long mark = csvreg__json_mem_failures();
  const csvreg_pass_info *pv = p->pass;
  json_t *o = json_object();
  int bad = !o || put(o, "source", csvreg__json_str(pv->source ? pv->source : "<stdin>"));
  if (!bad && p->shard)
    bad = put(o, "shard", csvreg__json_str(p->shard));
  if (!bad && pv->has_range && !p->updated_from)
    bad = put(o, "range",
              json_pack("[I, I]", (json_int_t)pv->range_start, (json_int_t)pv->range_end)) ||
          put(o, "aligned",
              json_pack("[I, I]", (json_int_t)pv->aligned_start, (json_int_t)pv->aligned_end)) ||
          put(o, "file_size", json_integer((json_int_t)pv->file_size));
  if (!bad && pv->has_digest && !p->updated_from) {
    /* a streamed block's bytes: merge refuses the same block twice */
    char hex[CSVREG_DIGEST_HEX];
    csvreg_digest_format(pv->digest, hex);
    bad = put(o, "digest", json_string(hex));
  }
  if (!bad && pv->compression) /* issue 14: the bytes below are decompressed */
    bad = put(o, "compressed", json_pack("{s:s, s:I}", "format", pv->compression, "bytes",
                                         (json_int_t)pv->compressed_bytes));
  if (!bad && !p->updated_from)
    bad = put(o, "header_bytes", json_integer((json_int_t)pv->header_bytes)) ||
          put(o, "bytes", json_integer((json_int_t)pv->bytes));
  else if (!bad)
    bad = put(o, "updated_from", csvreg__json_str(p->updated_from));
  bad = bad || put(o, "records", json_integer((json_int_t)csvreg_accum_counts(a)->records)) ||
        put(o, "options", options_json(p));
  char *t = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  if (t && csvreg__json_mem_check(mark, CSVREG_OK, NULL)) {
    free(t);
    t = NULL;
  }
  if (!t)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  *out = t;
  return CSVREG_OK;
}
