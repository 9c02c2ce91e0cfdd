/*
 * blocks.c - the streamed blocks of states and of their merges (issue 15).
 *
 * Streamed blocks (--pipepart, Hadoop splits) have no byte range, only a
 * size and a record count, so a lost block plus another of the same size
 * delivered twice adds up in bytes and records; their digests tell them
 * apart. A merged state used to drop the digests, so in a tree of merges
 * (a merge per node, then a final merge) the same block reaching two nodes
 * passed every check. The merged state now lists every block it holds, and
 * the check looks at the blocks of all states, merged or not.
 *
 * Size: one entry of about 50 bytes per block, far inside the room a state
 * line has for provenance (CSVREG_STATE_MAX_LINE).
 */
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "internal.h"

typedef struct block {
  const char *digest;
  uint64_t bytes, records, header;
  size_t owner; /* index into the owners: input order, for the message */
} block;

static int u64_of(const json_t *j, uint64_t *out) {
  if (!json_is_integer(j) || json_integer_value(j) < 0)
    return -1;
  *out = (uint64_t)json_integer_value(j);
  return 0;
}

static uint64_t meta_u64(const json_t *meta, const char *key) {
  uint64_t v = 0;
  return u64_of(json_object_get(meta, key), &v) ? 0 : v;
}

static csvreg_status bad_list(const csvreg__block_owner *o, csvreg_error *err) {
  csvreg__err_set(err, CSVREG_E_FORMAT,
                  "not a valid csvreg state: \"meta.digests\" must be a list of [digest, "
                  "bytes, records, header_bytes]");
  csvreg__err_at(err, o->source, o->line, 0, 0, NULL);
  return CSVREG_E_FORMAT;
}

/* The blocks with rows of the n states into *out (NULL when there are
 * none), their number into *k. Empty blocks are left out: every empty
 * block has the same digest and merges as nothing. */
static csvreg_status collect(const csvreg__block_owner *v, size_t n, block **out, size_t *k,
                             csvreg_error *err) {
  *out = NULL;
  *k = 0;
  size_t cap = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *l = json_object_get(v[i].meta, "digests");
    if (l && !json_is_array(l))
      return bad_list(&v[i], err);
    cap += 1 + json_array_size(l);
  }
  block *b = calloc(cap ? cap : 1, sizeof *b);
  if (!b)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *meta = v[i].meta;
    const char *d = json_string_value(json_object_get(meta, "digest"));
    uint64_t records = meta_u64(meta, "records");
    if (d && records)
      b[m++] = (block){d, meta_u64(meta, "bytes"), records, meta_u64(meta, "header_bytes"), i};
    const json_t *l = json_object_get(meta, "digests");
    for (size_t t = 0; t < json_array_size(l); t++) {
      const json_t *e = json_array_get(l, t);
      block x = {json_string_value(json_array_get(e, 0)), 0, 0, 0, i};
      if (json_array_size(e) != 4 || !x.digest || u64_of(json_array_get(e, 1), &x.bytes) ||
          u64_of(json_array_get(e, 2), &x.records) || u64_of(json_array_get(e, 3), &x.header)) {
        free(b);
        return bad_list(&v[i], err);
      }
      if (x.records)
        b[m++] = x;
    }
  }
  if (m == 0) {
    free(b);
    return CSVREG_OK;
  }
  *out = b;
  *k = m;
  return CSVREG_OK;
}

static int same_block(const block *a, const block *b) {
  return strcmp(a->digest, b->digest) == 0 && a->bytes == b->bytes && a->records == b->records &&
         a->header == b->header;
}

static int cmp_block(const void *pa, const void *pb) {
  const block *a = pa, *b = pb;
  int c = strcmp(a->digest, b->digest);
  if (c)
    return c;
  if (a->bytes != b->bytes)
    return a->bytes < b->bytes ? -1 : 1;
  if (a->records != b->records)
    return a->records < b->records ? -1 : 1;
  if (a->header != b->header)
    return a->header < b->header ? -1 : 1;
  return a->owner < b->owner ? -1 : a->owner > b->owner;
}

csvreg_status csvreg__blocks_check(const csvreg__block_owner *v, size_t n, csvreg_error *err) {
  block *b;
  size_t k;
  csvreg_status st = collect(v, n, &b, &k, err);
  if (st || !b)
    return st;
  qsort(b, k, sizeof *b, cmp_block);
  for (size_t i = 1; i < k && !st; i++) {
    const block *x = &b[i - 1], *y = &b[i];
    if (!same_block(x, y) || x->owner == y->owner)
      continue;
    const csvreg__block_owner *p = &v[x->owner], *q = &v[y->owner];
    st = csvreg__err_set(
        err, CSVREG_E_VALUE,
        "%s:%llu and %s:%llu %s the same streamed block (%s, %llu bytes, %llu records): a "
        "shard is duplicated (--allow-repeat merges them if the input really holds that "
        "block twice)",
        p->source, (unsigned long long)p->line, q->source, (unsigned long long)q->line,
        json_object_get(p->meta, "digests") || json_object_get(q->meta, "digests") ? "hold" : "are",
        x->digest, (unsigned long long)x->bytes, (unsigned long long)x->records);
  }
  free(b);
  return st;
}

csvreg_status csvreg__blocks_merged(const csvreg__block_owner *v, size_t n, json_t *out_meta,
                                    csvreg_error *err) {
  block *b;
  size_t k;
  csvreg_status st = collect(v, n, &b, &k, err);
  if (st || !b)
    return st;
  /* sorted by content: the list does not depend on arrival order */
  qsort(b, k, sizeof *b, cmp_block);
  json_t *l = json_array();
  for (size_t i = 0; l && i < k; i++)
    if (json_array_append_new(l, json_pack("[s, I, I, I]", b[i].digest, (json_int_t)b[i].bytes,
                                           (json_int_t)b[i].records, (json_int_t)b[i].header))) {
      json_decref(l);
      l = NULL;
    }
  free(b);
  if (!l || json_object_set_new(out_meta, "digests", l))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return CSVREG_OK;
}
