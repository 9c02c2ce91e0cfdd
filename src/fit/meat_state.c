/*
 * meat_state.c - the sharded second pass of robust errors (issue 13): the
 * meat of a second pass (robust.c) written as one line of JSON, read back,
 * checked to belong together and to cover the input once, and merged, so
 * that `fit --emit-state --vcov ... -m MODEL` per shard, `merge` and `solve
 * -m MODEL` give the single process's sandwich.
 *
 * A meat state names the model whose residuals it holds by a digest of its
 * coefficients (robust.c): meat of another model would give a covariance
 * that is no one's. Cluster sums are keyed by the cell's bytes (hex in the
 * line, as cells may hold any bytes) and merge by key, since one cluster's
 * rows may be in several shards. States merge in an order fixed by their
 * provenance (byte range, then checksum), as accumulator states do
 * (stateset.c), so the result does not depend on arrival order.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "blocks.h"
#include "fit_impl.h"
#include "hexfloat.h"
#include "internal.h"
#include "robust.h"
#include "state.h"

static csvreg_status nomem(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
}

/* ---- numbers and keys as text ---- */

static json_t *num(double v) {
  char buf[HEXFLOAT_MAX];
  if (isnan(v))
    return json_string("nan");
  if (isinf(v))
    return json_string(v > 0 ? "inf" : "-inf");
  csvreg__hexfloat_format(v, buf);
  return json_string(buf);
}

static int num_get(const json_t *j, double *out) {
  const char *s = json_string_value(j);
  if (!s)
    return -1;
  if (strcmp(s, "nan") == 0)
    *out = NAN;
  else if (strcmp(s, "inf") == 0)
    *out = INFINITY;
  else if (strcmp(s, "-inf") == 0)
    *out = -INFINITY;
  else
    return csvreg__hexfloat_parse(s, out);
  return 0;
}

static json_t *key_hex(const char *p, size_t n) {
  static const char hx[] = "0123456789abcdef";
  char *t = malloc(2 * n + 1);
  if (!t)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    t[2 * i] = hx[(unsigned char)p[i] >> 4];
    t[2 * i + 1] = hx[(unsigned char)p[i] & 15];
  }
  t[2 * n] = '\0';
  json_t *j = json_string(t);
  free(t);
  return j;
}

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The bytes of a hex key into buf (at least half its length); their
 * number, or -1. */
static long key_unhex(const char *s, char *buf) {
  size_t n = strlen(s);
  if (n % 2)
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
    if (a < 0 || b < 0)
      return -1;
    buf[i] = (char)(a << 4 | b);
  }
  return (long)(n / 2);
}

/* An intersection key of two-way clustering (robust.c): the first key's
 * length as 8 little-endian bytes, then both keys. Keys of this layout are
 * the bytes every 64-bit little-endian build wrote before it was fixed
 * (a native size_t); another layout is refused, never misread. */
static int pair_key(const char *k, size_t n) {
  if (n < 8)
    return 0;
  uint64_t first = 0;
  for (int b = 7; b >= 0; b--)
    first = first << 8 | (unsigned char)k[b];
  return first <= n - 8;
}

/* ---- writing ---- */

csvreg_status csvreg_meat_meta(const csvreg_meat *m, const csvreg_pass_info *pv, const char *shard,
                               char **out, csvreg_error *err) {
  if (!m || !pv || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_meat_meta: NULL argument");
  *out = NULL;
  json_t *o = json_pack("{s:s}", "source", pv->source ? pv->source : "<stdin>");
  int bad = !o;
  if (!bad && shard)
    bad = json_object_set_new(o, "shard", json_string(shard)) != 0;
  if (!bad && pv->has_range)
    bad = json_object_set_new(
              o, "range",
              json_pack("[I, I]", (json_int_t)pv->range_start, (json_int_t)pv->range_end)) ||
          json_object_set_new(o, "file_size", json_integer((json_int_t)pv->file_size));
  if (!bad && pv->has_digest) {
    char hex[CSVREG_DIGEST_HEX];
    csvreg_digest_format(pv->digest, hex);
    bad = json_object_set_new(o, "digest", json_string(hex)) != 0;
  }
  bad = bad || json_object_set_new(o, "header_bytes", json_integer((json_int_t)pv->header_bytes)) ||
        json_object_set_new(o, "bytes", json_integer((json_int_t)pv->bytes)) ||
        json_object_set_new(o, "records", json_integer((json_int_t)m->counts.records));
  char *t = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  if (!t)
    return nomem(err);
  *out = t;
  return CSVREG_OK;
}

static json_t *counts_json(const csvreg_meat *m) {
  const csvreg_counts *c = &m->counts;
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "records", (json_int_t)c->records, "used",
                   (json_int_t)c->used, "zero_weight", (json_int_t)c->zero_weight, "dropped_na",
                   (json_int_t)c->dropped_na, "dropped_bad", (json_int_t)c->dropped_bad,
                   "new_level", (json_int_t)c->new_level, "rows", (json_int_t)m->rows);
}

static json_t *groups_json(const csvreg_meat *m) {
  const size_t rank = m->r->rank;
  json_t *g = json_array();
  for (size_t t = 0; g && t < m->ntab; t++) {
    const cl_table *tb = &m->tab[t];
    json_t *keys = json_array(), *sums = json_array();
    int bad = !keys || !sums;
    for (size_t i = 0; !bad && i < tb->n; i++) {
      bad = json_array_append_new(keys, key_hex(tb->keys + tb->koff[i], tb->kn[i])) != 0;
      for (size_t k = 0; !bad && k < rank; k++)
        bad = json_array_append_new(sums, num(tb->s[i * rank + k])) != 0;
    }
    if (bad || json_array_append_new(g, json_pack("{s:o, s:o}", "keys", keys, "sums", sums))) {
      json_decref(g);
      return NULL;
    }
  }
  return g;
}

/* The canonical text the checksum covers: compact, members in order. */
static char *body_text(json_t *o) { return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER); }

static void crc_text(const char *text, char buf[32]) {
  uLong crc = crc32(0L, (const Bytef *)text, (uInt)strlen(text));
  snprintf(buf, 32, "crc32:%08lx", (unsigned long)crc);
}

csvreg_status csvreg_meat_save(const csvreg_meat *m, const char *meta_json, char **out,
                               csvreg_error *err) {
  if (!m || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_meat_save: NULL argument");
  *out = NULL;
  const csvreg_robust *r = m->r;
  json_t *meta = NULL;
  if (meta_json && !(meta = json_loads(meta_json, 0, NULL)))
    return csvreg__err_set(err, CSVREG_E_USAGE, "meat state: the metadata is not JSON");
  json_t *o = json_object();
  json_t *cl = json_array(), *meat = json_array();
  int bad = !o || !cl || !meat;
  for (size_t d = 0; !bad && d < r->ndims; d++)
    bad = json_array_append_new(cl, json_string(r->cl_names[d])) != 0;
  if (r->type != CSVREG_VCOV_CLUSTER)
    for (size_t j = 0; !bad && j < r->rank; j++)
      for (size_t i = 0; !bad && i <= j; i++)
        bad = json_array_append_new(meat, num(m->m[j * r->rank + i])) != 0;
  bad = bad || json_object_set_new(o, "format", json_string(CSVREG_MEAT_FORMAT)) ||
        json_object_set_new(o, "version", json_integer(CSVREG_MEAT_VERSION)) ||
        json_object_set_new(o, "vcov", json_string(csvreg_vcov_name(r->type))) ||
        json_object_set_new(o, "model", json_string(r->digest)) ||
        json_object_set_new(o, "rank", json_integer((json_int_t)r->rank)) ||
        json_object_set(o, "clusters", cl) ||
        json_object_set_new(o, "max_clusters", json_integer((json_int_t)r->max_clusters)) ||
        json_object_set_new(o, "counts", counts_json(m)) || json_object_set(o, "meat", meat) ||
        json_object_set_new(o, "groups", groups_json(m)) ||
        json_object_set(o, "meta", meta ? meta : json_object());
  json_decref(cl);
  json_decref(meat);
  json_decref(meta);
  char *body = bad ? NULL : body_text(o);
  char crc[32];
  char *t = NULL;
  if (body) {
    crc_text(body, crc);
    if (!json_object_set_new(o, "checksum", json_string(crc)))
      t = body_text(o);
  }
  free(body);
  json_decref(o);
  if (!t)
    return nomem(err);
  *out = t;
  return CSVREG_OK;
}

/* ---- reading ---- */

static const char meat_prefix[] = "{\"format\":\"" CSVREG_MEAT_FORMAT "\"";

int csvreg_meat_line(const char *text, size_t len) {
  size_t i = csvreg__line_json_start(text, len);
  return len - i >= sizeof meat_prefix - 1 &&
         memcmp(text + i, meat_prefix, sizeof meat_prefix - 1) == 0;
}

static csvreg_status bad_state(csvreg_error *err, const char *what) {
  return csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg meat state: %s", what);
}

static uint64_t u64_of(const json_t *o, const char *key, int *ok) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0) {
    *ok = 0;
    return 0;
  }
  return (uint64_t)json_integer_value(v);
}

/* An empty meat of r's description (r owned by it). */
static csvreg_status meat_shell(csvreg_robust *r, csvreg_meat **out, csvreg_error *err) {
  csvreg_meat *m = calloc(1, sizeof *m);
  if (!m || !(m->m = calloc(r->rank ? r->rank * r->rank : 1, sizeof *m->m))) {
    free(m);
    csvreg_robust_free(r);
    return nomem(err);
  }
  m->r = m->own_r = r;
  m->ntab = r->ndims == 2 ? 3 : r->ndims;
  *out = m;
  return CSVREG_OK;
}

/* A description of the same type, clusters and rank (no fit). */
static csvreg_status robust_shell(const csvreg_robust *from, csvreg_robust **out,
                                  csvreg_error *err) {
  csvreg_robust *r = calloc(1, sizeof *r);
  if (!r)
    return nomem(err);
  r->type = from->type;
  r->max_clusters = from->max_clusters;
  r->rank = from->rank;
  r->ndims = from->ndims;
  memcpy(r->digest, from->digest, sizeof r->digest);
  for (size_t d = 0; d < r->ndims; d++)
    if (!(r->cl_names[d] = csvreg__xstrdup(from->cl_names[d]))) {
      csvreg_robust_free(r);
      return nomem(err);
    }
  *out = r;
  return CSVREG_OK;
}

static csvreg_status meat_from_json(json_t *o, csvreg_meat **out, csvreg_error *err) {
  *out = NULL;
  json_t *v = json_object_get(o, "version");
  if (!json_is_integer(v) || json_integer_value(v) < 1)
    return bad_state(err, "no version");
  /* Version 1 summed the meat on the raw columns; version 2 on the shifted
   * ones (robust.c): the sums of the two cannot be merged or solved alike. */
  if (json_integer_value(v) < CSVREG_MEAT_VERSION)
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "meat state version %lld was made by an older csvreg, whose sums "
                           "this one reads otherwise: run the second pass again",
                           (long long)json_integer_value(v));
  if (json_integer_value(v) > CSVREG_MEAT_VERSION)
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "meat state version %lld is newer than this csvreg's (%d)",
                           (long long)json_integer_value(v), CSVREG_MEAT_VERSION);
  csvreg_robust *r = calloc(1, sizeof *r);
  if (!r)
    return nomem(err);
  int ok = 1;
  const char *model = json_string_value(json_object_get(o, "model"));
  json_t *cl = json_object_get(o, "clusters");
  if (csvreg_vcov_parse(json_string_value(json_object_get(o, "vcov")), &r->type) ||
      r->type == CSVREG_VCOV_CLASSICAL || !model || strlen(model) >= sizeof r->digest ||
      !json_is_array(cl) || json_array_size(cl) > 2 ||
      (json_array_size(cl) > 0) != (r->type == CSVREG_VCOV_CLUSTER))
    ok = 0;
  r->rank = (size_t)u64_of(o, "rank", &ok);
  r->max_clusters = (size_t)u64_of(o, "max_clusters", &ok);
  if (ok && (r->rank > CSVREG_MAX_TERMS + 1 || r->max_clusters < 1))
    ok = 0;
  if (!ok) {
    csvreg_robust_free(r);
    return bad_state(err, "a member is missing or out of range");
  }
  memcpy(r->digest, model, strlen(model) + 1);
  for (size_t d = 0; d < json_array_size(cl); d++) {
    const char *s = json_string_value(json_array_get(cl, d));
    if (!s) {
      csvreg_robust_free(r);
      return bad_state(err, "a cluster column is not a name");
    }
    if (!(r->cl_names[d] = csvreg__xstrdup(s))) {
      csvreg_robust_free(r);
      return nomem(err);
    }
    r->ndims++;
  }
  csvreg_meat *m = NULL;
  csvreg_status st = meat_shell(r, &m, err);
  if (st)
    return st;
  const size_t rank = r->rank;
  json_t *c = json_object_get(o, "counts");
  m->counts.records = u64_of(c, "records", &ok);
  m->counts.used = u64_of(c, "used", &ok);
  m->counts.zero_weight = u64_of(c, "zero_weight", &ok);
  m->counts.dropped_na = u64_of(c, "dropped_na", &ok);
  m->counts.dropped_bad = u64_of(c, "dropped_bad", &ok);
  m->counts.new_level = u64_of(c, "new_level", &ok);
  m->rows = u64_of(c, "rows", &ok);
  json_t *meat = json_object_get(o, "meat"), *groups = json_object_get(o, "groups");
  size_t want = r->type == CSVREG_VCOV_CLUSTER ? 0 : rank * (rank + 1) / 2;
  if (!ok || !json_is_array(meat) || json_array_size(meat) != want || !json_is_array(groups) ||
      json_array_size(groups) != m->ntab) {
    csvreg_meat_free(m);
    return bad_state(err, "the counts, meat or cluster sums do not fit its rank");
  }
  for (size_t j = 0, k = 0; j < rank && want; j++)
    for (size_t i = 0; i <= j; i++)
      if (num_get(json_array_get(meat, k++), &m->m[j * rank + i])) {
        csvreg_meat_free(m);
        return bad_state(err, "a meat entry is not a hex float");
      }
  char *buf = NULL;
  for (size_t t = 0; !st && t < m->ntab; t++) {
    json_t *g = json_array_get(groups, t);
    json_t *keys = json_object_get(g, "keys"), *sums = json_object_get(g, "sums");
    if (!json_is_array(keys) || !json_is_array(sums) ||
        json_array_size(sums) != json_array_size(keys) * rank) {
      st = bad_state(err, "cluster keys and sums do not fit");
      break;
    }
    for (size_t i = 0; !st && i < json_array_size(keys); i++) {
      const char *h = json_string_value(json_array_get(keys, i));
      char *nb = h ? realloc(buf, strlen(h) / 2 + 1) : NULL;
      long kl = nb ? key_unhex(h, buf = nb) : -1;
      if (kl < 0) {
        st = h && !nb ? nomem(err) : bad_state(err, "a cluster key is not hex");
        break;
      }
      if (t == 2 && !pair_key(buf, (size_t)kl)) {
        st = bad_state(err, "an intersection key is not a pair of cluster keys (the first key's "
                            "length as 8 little-endian bytes, then both keys)");
        break;
      }
      size_t before = m->tab[t].n;
      double *s = csvreg__cl_find_add(&m->tab[t], buf, (size_t)kl, rank, SIZE_MAX, "a meat state",
                                      &st, err);
      if (s && m->tab[t].n == before)
        st = bad_state(err, "a cluster key twice");
      for (size_t k = 0; !st && k < rank; k++)
        if (num_get(json_array_get(sums, i * rank + k), &s[k]))
          st = bad_state(err, "a cluster sum is not a hex float");
    }
  }
  free(buf);
  if (st) {
    csvreg_meat_free(m);
    return st;
  }
  *out = m;
  return CSVREG_OK;
}

/* ---- the set ---- */

typedef struct mentry {
  char *source;
  uint64_t line;
  csvreg_meat *m;
  json_t *meta;
  char checksum[32];
  csvreg__merge_key k; /* its checksum is set when compared: v moves */
} mentry;

struct csvreg_meatset {
  mentry *v;
  size_t n, cap;
};

csvreg_status csvreg_meatset_new(csvreg_meatset **out, csvreg_error *err) {
  *out = calloc(1, sizeof **out);
  return *out ? CSVREG_OK : nomem(err);
}

void csvreg_meatset_free(csvreg_meatset *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].source);
    csvreg_meat_free(s->v[i].m);
    json_decref(s->v[i].meta);
  }
  free(s->v);
  free(s);
}

size_t csvreg_meatset_count(const csvreg_meatset *s) { return s ? s->n : 0; }

csvreg_status csvreg_meatset_add_text(csvreg_meatset *s, const char *text, size_t len,
                                      const char *source, uint64_t line, csvreg_error *err) {
  if (!source)
    source = "";
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    len--;
  size_t i = csvreg__line_json_start(text, len);
  if (i == len)
    return CSVREG_OK;
  json_error_t je;
  json_t *o = json_loadb(text + i, len - i, 0, &je);
  csvreg_status st = CSVREG_OK;
  char crc[32];
  const char *given = json_string_value(json_object_get(o, "checksum"));
  if (!json_is_object(o)) {
    st = bad_state(err, "not JSON (a truncated line, or lines of concurrent writers "
                        "interleaved: each writer must write whole lines)");
  } else if (!given) {
    st = bad_state(err, "no checksum");
  } else {
    snprintf(crc, sizeof crc, "%s", given);
    json_object_del(o, "checksum");
    char *body = body_text(o);
    char want[32];
    if (!body) {
      st = nomem(err);
    } else {
      crc_text(body, want);
      if (strcmp(want, crc) != 0)
        st = bad_state(err, "checksum mismatch (a truncated or edited line, or lines of "
                            "concurrent writers interleaved)");
    }
    free(body);
  }
  csvreg_meat *m = NULL;
  if (!st)
    st = meat_from_json(o, &m, err);
  if (!st && s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    mentry *v = realloc(s->v, cap * sizeof *v);
    if (v) {
      s->v = v;
      s->cap = cap;
    } else {
      st = nomem(err);
    }
  }
  char *src = st ? NULL : csvreg__xstrdup(source);
  if (!st && !src)
    st = nomem(err);
  if (st) {
    csvreg__err_at(err, source, line, 0, 0, NULL);
    csvreg_meat_free(m);
    json_decref(o);
    return st;
  }
  mentry *e = &s->v[s->n++];
  memset(e, 0, sizeof *e);
  e->source = src;
  e->line = line;
  e->m = m;
  e->meta = json_incref(json_object_get(o, "meta"));
  memcpy(e->checksum, crc, sizeof crc);
  csvreg__merge_key_of(e->meta, NULL, &e->k);
  json_decref(o);
  return CSVREG_OK;
}

static int cmp_mentry(const void *pa, const void *pb) {
  const mentry *a = pa, *b = pb;
  csvreg__merge_key ka = a->k, kb = b->k;
  ka.checksum = a->checksum;
  kb.checksum = b->checksum;
  return csvreg__merge_key_cmp(&ka, &kb);
}

static csvreg_status at(csvreg_error *err, const mentry *e, csvreg_status st) {
  csvreg__err_at(err, e->source, e->line, 0, 0, NULL);
  return st;
}

static csvreg_status check_same(const mentry *a, const mentry *b, csvreg_error *err) {
  const csvreg_robust *x = a->m->r, *y = b->m->r;
  if (strcmp(x->digest, y->digest) != 0)
    return at(err, b,
              csvreg__err_set(err, CSVREG_E_VALUE,
                              "cannot merge: this meat state is of the model %s, %s:%llu of %s "
                              "(the second pass of another model's residuals)",
                              y->digest, a->source, (unsigned long long)a->line, x->digest));
  int same = x->type == y->type && x->ndims == y->ndims && x->rank == y->rank &&
             x->max_clusters == y->max_clusters;
  for (size_t d = 0; same && d < x->ndims; d++)
    same = strcmp(x->cl_names[d], y->cl_names[d]) == 0;
  if (!same)
    return at(err, b,
              csvreg__err_set(err, CSVREG_E_FORMAT,
                              "cannot merge: the covariance type, cluster columns or "
                              "--max-clusters differ from %s:%llu's",
                              a->source, (unsigned long long)a->line));
  return CSVREG_OK;
}

static uint64_t meta_u64(const json_t *meta, const char *key) {
  json_t *v = json_object_get(meta, key);
  return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* Every byte range of every state (a merged state has several), sorted:
 * a merge of merged meat states checks them all, not each state's first
 * (issue 15: a tree of merges). NULL on ENOMEM. */
typedef struct mspan {
  uint64_t s, e;
  const mentry *from;
} mspan;

static int cmp_mspan(const void *pa, const void *pb) {
  const mspan *a = pa, *b = pb;
  if (a->s != b->s)
    return a->s < b->s ? -1 : 1;
  return a->e < b->e ? -1 : a->e > b->e;
}

static mspan *meat_spans(const csvreg_meatset *s, size_t *nout) {
  size_t n = 0, k = 0;
  for (size_t i = 0; i < s->n; i++) {
    json_t *rs = json_object_get(s->v[i].meta, "ranges");
    n += json_is_array(rs) ? json_array_size(rs) : (size_t)s->v[i].k.has_range;
  }
  mspan *v = calloc(n ? n : 1, sizeof *v);
  for (size_t i = 0; v && i < s->n; i++) {
    const mentry *e = &s->v[i];
    json_t *rs = json_object_get(e->meta, "ranges");
    if (!json_is_array(rs)) {
      if (e->k.has_range)
        v[k++] = (mspan){e->k.start, e->k.end, e};
      continue;
    }
    for (size_t t = 0; t < json_array_size(rs); t++) {
      json_t *r = json_array_get(rs, t);
      v[k++] = (mspan){(uint64_t)json_integer_value(json_array_get(r, 0)),
                       (uint64_t)json_integer_value(json_array_get(r, 1)), e};
    }
  }
  if (v)
    qsort(v, k, sizeof *v, cmp_mspan);
  *nout = k;
  return v;
}

/* Shards read twice: two ranged states whose ranges overlap, or a
 * streamed block with rows in two states (blocks.c: merged states list
 * their blocks, so this holds through a tree of merges). s->v is sorted. */
static csvreg_status check_repeats(const csvreg_meatset *s, int allow, csvreg_error *err) {
  size_t n;
  mspan *v = meat_spans(s, &n);
  if (!v)
    return nomem(err);
  const mspan *last = NULL; /* the range that reaches furthest so far */
  csvreg_status st = CSVREG_OK;
  for (size_t i = 0; !st && i < n; i++) {
    if (v[i].e == v[i].s)
      continue; /* an empty range (more shards than bytes) covers nothing */
    if (last && v[i].s < last->e)
      st = at(err, v[i].from,
              csvreg__err_set(err, CSVREG_E_VALUE,
                              "bytes %llu to %llu are in two meat states (this and %s:%llu): "
                              "a shard is duplicated",
                              (unsigned long long)v[i].s,
                              (unsigned long long)(last->e < v[i].e ? last->e : v[i].e),
                              last->from->source, (unsigned long long)last->from->line));
    if (!last || v[i].e > last->e)
      last = &v[i];
  }
  free(v);
  if (st || allow)
    return st;
  csvreg__block_owner *o = calloc(s->n ? s->n : 1, sizeof *o);
  if (!o)
    return nomem(err);
  for (size_t i = 0; i < s->n; i++)
    o[i] = (csvreg__block_owner){s->v[i].meta, s->v[i].source, s->v[i].line};
  st = csvreg__blocks_check(o, s->n, err);
  free(o);
  return st;
}

/* --expect-bytes: ranges tile [0, N) (sorted), or streamed data bytes plus
 * one header add up to N. */
static csvreg_status check_bytes(const csvreg_meatset *s, uint64_t want, csvreg_error *err) {
  size_t ranged = 0;
  for (size_t i = 0; i < s->n; i++)
    ranged += s->v[i].k.has_range;
  if (ranged && ranged != s->n)
    return csvreg__err_set(err, CSVREG_E_VALUE,
                           "--expect-bytes: a mix of ranged and streamed meat states");
  if (ranged) {
    size_t n;
    mspan *v = meat_spans(s, &n); /* every range of every state, sorted */
    if (!v)
      return nomem(err);
    uint64_t cur = 0;
    csvreg_status st = CSVREG_OK;
    for (size_t i = 0; !st && i < n; i++) {
      const mentry *e = v[i].from;
      if (v[i].s == v[i].e && v[i].s <= cur)
        continue;
      if (v[i].s != cur) {
        st = csvreg__err_set(
            err, CSVREG_E_VALUE, "--expect-bytes %llu: bytes %llu to %llu are in %s: a shard is %s",
            (unsigned long long)want, (unsigned long long)cur, (unsigned long long)v[i].s,
            v[i].s > cur ? "no meat state" : "two meat states",
            v[i].s > cur ? "missing" : "duplicated");
        break;
      }
      uint64_t fs = meta_u64(e->meta, "file_size");
      if (json_object_get(e->meta, "file_size") && fs != want)
        st = at(err, e,
                csvreg__err_set(err, CSVREG_E_VALUE,
                                "--expect-bytes %llu: this shard was cut from a file of %llu "
                                "bytes",
                                (unsigned long long)want, (unsigned long long)fs));
      cur = v[i].e;
    }
    free(v);
    if (st)
      return st;
    if (cur != want)
      return csvreg__err_set(err, CSVREG_E_VALUE,
                             "--expect-bytes %llu: the meat states cover bytes 0 to %llu: %s",
                             (unsigned long long)want, (unsigned long long)cur,
                             cur < want ? "a shard is missing" : "the file is smaller");
    return CSVREG_OK;
  }
  uint64_t sum = 0, header = 0;
  for (size_t i = 0; i < s->n; i++) {
    sum += meta_u64(s->v[i].meta, "bytes");
    uint64_t h = meta_u64(s->v[i].meta, "header_bytes");
    header = h > header ? h : header;
  }
  if (sum + header != want)
    return csvreg__err_set(err, CSVREG_E_VALUE,
                           "--expect-bytes %llu: the meat states hold %llu bytes of data and a "
                           "header of %llu: %s",
                           (unsigned long long)want, (unsigned long long)sum,
                           (unsigned long long)header,
                           sum + header < want ? "a shard is missing" : "a shard is duplicated");
  return CSVREG_OK;
}

static csvreg_status merged_meta(const csvreg_meatset *s, const csvreg_meat *m, char **out,
                                 csvreg_error *err) {
  json_t *o = json_object();
  json_t *src = json_object_get(s->v[0].meta, "source");
  int same = json_is_string(src);
  uint64_t bytes = 0, header = 0;
  json_t *ranges = json_array();
  int bad = !o || !ranges, all_ranged = 1;
  for (size_t i = 0; i < s->n; i++) {
    const mentry *e = &s->v[i];
    same = same && json_equal(src, json_object_get(e->meta, "source"));
    bytes += meta_u64(e->meta, "bytes");
    uint64_t h = meta_u64(e->meta, "header_bytes");
    header = h > header ? h : header;
    json_t *rs = json_object_get(e->meta, "ranges"), *rg = json_object_get(e->meta, "range");
    if (!rs && !rg)
      all_ranged = 0;
    for (size_t k = 0; !bad && rs && k < json_array_size(rs); k++)
      bad = json_array_append(ranges, json_array_get(rs, k)) != 0;
    if (!bad && !rs && rg)
      bad = json_array_append(ranges, rg) != 0;
  }
  bad = bad || (same && json_object_set(o, "source", src)) ||
        json_object_set_new(o, "merged", json_integer((json_int_t)s->n)) ||
        json_object_set_new(o, "records", json_integer((json_int_t)m->counts.records)) ||
        json_object_set_new(o, "bytes", json_integer((json_int_t)bytes)) ||
        json_object_set_new(o, "header_bytes", json_integer((json_int_t)header)) ||
        (all_ranged && json_object_set(o, "ranges", ranges));
  json_decref(ranges);
  /* the streamed blocks of every state, for a merge of this merge */
  csvreg_status st = CSVREG_OK;
  csvreg__block_owner *bo = bad ? NULL : calloc(s->n, sizeof *bo);
  for (size_t i = 0; bo && i < s->n; i++)
    bo[i] = (csvreg__block_owner){s->v[i].meta, s->v[i].source, s->v[i].line};
  if (bo)
    st = csvreg__blocks_merged(bo, s->n, o, err);
  free(bo);
  char *t = bad || !bo || st ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  if (st)
    return st;
  if (!t)
    return nomem(err);
  *out = t;
  return CSVREG_OK;
}

csvreg_status csvreg_meatset_merge(csvreg_meatset *s, const csvreg_stateset_checks *chk,
                                   csvreg_meat **out, char **meta_json, csvreg_error *err) {
  *out = NULL;
  if (meta_json)
    *meta_json = NULL;
  if (!s || s->n == 0)
    return csvreg__err_set(err, CSVREG_E_FORMAT, "no meat state to merge (empty input)");
  csvreg_status st = CSVREG_OK;
  for (size_t i = 1; !st && i < s->n; i++)
    st = check_same(&s->v[0], &s->v[i], err);
  if (st)
    return st;
  qsort(s->v, s->n, sizeof *s->v, cmp_mentry);
  if ((st = check_repeats(s, chk && chk->allow_repeat, err)))
    return st;
  if (chk && chk->expect_bytes && (st = check_bytes(s, chk->bytes, err)))
    return st;
  csvreg_robust *r = NULL;
  csvreg_meat *m = NULL;
  if ((st = robust_shell(s->v[0].m->r, &r, err)) || (st = meat_shell(r, &m, err)))
    return st;
  if (r->ndims && !(m->cl_text = malloc(strlen(r->cl_names[0]) +
                                        (r->ndims > 1 ? strlen(r->cl_names[1]) : 0) + 2)))
    st = nomem(err);
  else if (r->ndims)
    sprintf(m->cl_text, "%s%s%s", r->cl_names[0], r->ndims > 1 ? "," : "",
            r->ndims > 1 ? r->cl_names[1] : "");
  /* the merged meat holds at most max clusters, as the single pass does */
  for (size_t i = 0; !st && i < s->n; i++)
    if ((st = csvreg__meat_merge(m, s->v[i].m, err)))
      at(err, &s->v[i], st);
  const csvreg_counts *c = &m->counts;
  if (!st && chk && chk->expect_rows && c->records != chk->rows)
    st = csvreg__err_set(err, CSVREG_E_VALUE,
                         "--expect-records %llu: the meat states hold %llu records: a shard is %s",
                         (unsigned long long)chk->rows, (unsigned long long)c->records,
                         c->records < chk->rows ? "missing" : "duplicated");
  if (!st && chk && chk->expect_used && c->used != chk->used)
    st = csvreg__err_set(err, CSVREG_E_VALUE,
                         "--expect-used %llu: the meat states used %llu rows: a shard is %s",
                         (unsigned long long)chk->used, (unsigned long long)c->used,
                         c->used < chk->used ? "missing" : "duplicated");
  if (!st && meta_json)
    st = merged_meta(s, m, meta_json, err);
  if (st) {
    csvreg_meat_free(m);
    return st;
  }
  *out = m;
  return CSVREG_OK;
}

void csvreg_meat_options(const csvreg_meat *m, csvreg_robust_options *o) {
  csvreg_robust_options_init(o);
  o->type = m->r->type;
  o->clusters = m->cl_text;
  o->max_clusters = m->r->max_clusters;
}

csvreg_status csvreg_meat_bind(csvreg_meat *m, const csvreg_robust *r, csvreg_error *err) {
  if (!m || !r || !r->fit)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_meat_bind: NULL argument");
  const csvreg_robust *x = m->r;
  if (strcmp(x->digest, r->digest) != 0)
    return csvreg__err_set(err, CSVREG_E_VALUE,
                           "the meat states are of the model %s, not of this model (%s): the "
                           "second pass must use the model that was solved",
                           x->digest, r->digest);
  int same = x->type == r->type && x->ndims == r->ndims && x->rank == r->rank;
  for (size_t d = 0; same && d < x->ndims; d++)
    same = strcmp(x->cl_names[d], r->cl_names[d]) == 0;
  if (!same)
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "the meat states' covariance type or clusters are not the model's");
  const csvreg_counts *k1 = &r->fit->s.counts, *k2 = &m->counts;
  if (k1->records != k2->records || k1->used != k2->used || k1->zero_weight != k2->zero_weight)
    return csvreg__err_set(err, CSVREG_E_VALUE,
                           "the meat states hold %llu records (%llu used), the model %llu (%llu "
                           "used): a shard of the second pass is %s",
                           (unsigned long long)k2->records, (unsigned long long)k2->used,
                           (unsigned long long)k1->records, (unsigned long long)k1->used,
                           k2->records < k1->records ? "missing" : "duplicated (or of other rows)");
  m->r = r;
  return CSVREG_OK;
}
