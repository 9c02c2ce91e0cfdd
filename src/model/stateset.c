/*
 * stateset.c - many state lines made into one state: read from lines
 * (blank lines skipped, Hadoop's `key<TAB>` prefix dropped), checked to
 * belong together, sorted by provenance, checked to cover the input exactly
 * once, merged, and given the merged provenance. This is the library's half
 * of `csvreg merge` and `csvreg solve`; the program only opens files.
 *
 * Order: floating-point merging is not associative, so the states are
 * merged in an order fixed by their provenance (first byte range, then
 * checksum) rather than in arrival order; the merged state is then the same
 * bits however a scheduler delivered the shards.
 *
 * Memory: each state keeps its accumulator and a small JSON object of the
 * members the checks read (columns, checksum, meta); the parsed tree of its
 * numbers, several times the accumulator's size, is dropped once loaded.
 *
 * Pipes: a state line is often longer than PIPE_BUF (4 KiB), so writers that
 * share one pipe can interleave their lines; a damaged line fails its JSON
 * parse or its checksum and is reported with its source and line, never
 * merged.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocks.h"
#include "internal.h"
#include "linalg.h"
#include "state.h"

typedef struct entry {
  char *source;  /* where the line came from ("<stdin>") */
  uint64_t line; /* its line there */
  csvreg_accum *acc;
  json_t *obj; /* the members below, for the checks and the provenance */
  const char *checksum;
  int has_range;
  uint64_t start, end; /* first range, the sort key */
} entry;

/* The members of a state line kept after loading it. */
static const char *const kept_keys[] = {"solver",   "intercept", "target",  "terms",    "inputs",
                                        "checksum", "meta",      "formula", "selected", "factors"};

/* The members that must agree between states merged together. States of a
 * formula with categorical variables (version 2) must have the same frame
 * ("formula": text, header, text columns, weights) instead of the same
 * terms: a shard's terms are the levels it saw, aligned by name when merged
 * (merge_in_order). Once R's columns are chosen ("selected") a state has
 * dropped its baselines, which differ between level sets: only states of
 * the same terms and the same levels (hence baselines) merge then. */
static const char *const same_keys[] = {"solver", "intercept", "target",   "terms",
                                        "inputs", "formula",   "selected", "factors"};

struct csvreg_stateset {
  entry *v;
  size_t n, cap;
  size_t max_line; /* 0: CSVREG_STATE_MAX_LINE */
};

csvreg_status csvreg_stateset_new(csvreg_stateset **out, csvreg_error *err) {
  *out = calloc(1, sizeof **out);
  return *out ? CSVREG_OK : csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
}

void csvreg_stateset_free(csvreg_stateset *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].source);
    csvreg_accum_free(s->v[i].acc);
    json_decref(s->v[i].obj);
  }
  free(s->v);
  free(s);
}

void csvreg_stateset_set_max_line(csvreg_stateset *s, size_t bytes) { s->max_line = bytes; }

size_t csvreg_stateset_count(const csvreg_stateset *s) { return s->n; }

static size_t max_line(const csvreg_stateset *s) {
  return s->max_line ? s->max_line : CSVREG_STATE_MAX_LINE;
}

static csvreg_status too_long(const csvreg_stateset *s, const char *source, uint64_t line,
                              csvreg_error *err) {
  csvreg__err_set(
      err, CSVREG_E_FORMAT,
      "not a valid csvreg state: the line is longer than %zu bytes, more than a state of "
      "%d terms takes",
      max_line(s), CSVREG_MAX_TERMS);
  csvreg__err_at(err, source, line, 0, 0, NULL);
  return CSVREG_E_FORMAT;
}

/* The small object of `whole`'s kept members; NULL on ENOMEM. */
static json_t *kept(json_t *whole) {
  json_t *o = json_object();
  for (size_t k = 0; o && k < sizeof kept_keys / sizeof kept_keys[0]; k++) {
    json_t *v = json_object_get(whole, kept_keys[k]);
    if (v && json_object_set(o, kept_keys[k], v)) {
      json_decref(o);
      o = NULL;
    }
  }
  return o;
}

/* The input options a model made from the state (solve -o) inherits: a
 * delimiter the CLI refuses would be written into the model. */
static csvreg_status check_options(const json_t *obj, csvreg_error *err) {
  json_t *d =
      json_object_get(json_object_get(json_object_get(obj, "meta"), "options"), "delimiter");
  if (!d || json_is_null(d))
    return CSVREG_OK;
  const char *v = json_string_value(d);
  if (!v || json_string_length(d) != 1 || v[0] == '"' || v[0] == '\n' || v[0] == '\r' ||
      v[0] == '\0')
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "not a valid csvreg state: \"meta.options.delimiter\" must be one "
                           "character other than a quote, a line break or NUL");
  return CSVREG_OK;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

csvreg_status csvreg_stateset_add_text(csvreg_stateset *s, const char *text, size_t len,
                                       const char *source, uint64_t line, csvreg_error *err) {
  if (!source)
    source = "";
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    len--;
  if (len > max_line(s))
    return too_long(s, source, line, err);
  size_t i = 0;
  while (i < len && is_space(text[i]))
    i++;
  if (i == len)
    return CSVREG_OK;   /* blank */
  if (text[i] != '{') { /* key<TAB>value: the value is the state */
    const char *tab = memchr(text, '\t', len);
    if (tab)
      for (i = (size_t)(tab + 1 - text); i < len && is_space(text[i]);)
        i++;
  }
  json_t *whole = NULL, *obj = NULL;
  csvreg_accum *acc = NULL;
  char *src = NULL;
  csvreg_status st = csvreg__state_parse(text + i, len - i, &whole, err);
  if (!st)
    st = csvreg__state_from_json(whole, &acc, err);
  if (!st && (!(obj = kept(whole)) || !(src = csvreg__xstrdup(source))))
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  json_decref(whole);
  if (!st)
    st = check_options(obj, err);
  if (!st && s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    entry *v = realloc(s->v, cap * sizeof *v);
    if (v) {
      s->v = v;
      s->cap = cap;
    } else {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
  }
  if (st) {
    if (err && st != CSVREG_E_NOMEM &&
        (strstr(err->message, "checksum") || strstr(err->message, "JSON"))) {
      char why[sizeof err->message];
      snprintf(why, sizeof why, "%s", err->message);
      csvreg__err_set(
          err, st,
          "%s (a truncated line, or lines of concurrent writers interleaved: each writer "
          "must write whole lines)",
          why);
    }
    csvreg__err_at(err, source, line, 0, 0, NULL);
    csvreg_accum_free(acc);
    json_decref(obj);
    free(src);
    return st;
  }
  entry *e = &s->v[s->n++];
  memset(e, 0, sizeof *e);
  e->source = src;
  e->line = line;
  e->acc = acc;
  e->obj = obj;
  e->checksum = json_string_value(json_object_get(obj, "checksum"));
  json_t *meta = json_object_get(obj, "meta");
  json_t *r = json_object_get(meta, "range");
  json_t *rs = json_object_get(meta, "ranges");
  if (json_is_array(rs) && json_array_size(rs) > 0)
    r = json_array_get(rs, 0);
  if (json_is_array(r) && json_array_size(r) == 2 && json_is_integer(json_array_get(r, 0)) &&
      json_is_integer(json_array_get(r, 1))) {
    e->has_range = 1;
    e->start = (uint64_t)json_integer_value(json_array_get(r, 0));
    e->end = (uint64_t)json_integer_value(json_array_get(r, 1));
  }
  return CSVREG_OK;
}

/* A model file (pretty-printed JSON, its first line "{") fails as a state
 * on line 1; say what it is rather than blame concurrent writers. The
 * model's "format" member is on one of the next lines, in the first read. */
static csvreg_status model_not_state(const char *buf, size_t len, const char *source,
                                     csvreg_status st, csvreg_error *err) {
  static const char tag[] = "\"format\": \"csvreg-model\"";
  size_t n = sizeof tag - 1, i = 0;
  while (i + n <= len && memcmp(buf + i, tag, n) != 0)
    i++;
  if (len < 1 || buf[0] != '{' || i + n > len)
    return st;
  csvreg__err_set(err, CSVREG_E_FORMAT,
                  "this is a csvreg model file, not a state: merge and solve read the state "
                  "lines of 'fit --emit-state'; predict -m reads a model");
  csvreg__err_at(err, source, 0, 0, 0, NULL);
  return CSVREG_E_FORMAT;
}

/* Bytes read at a time; the buffer grows to the longest line plus this. */
#define READ_BLOCK ((size_t)1 << 16)

csvreg_status csvreg_stateset_read_fd(csvreg_stateset *s, int fd, const char *source,
                                      csvreg_error *err) {
  if (!source)
    source = "";
  const size_t limit = max_line(s);
  char *buf = NULL;
  size_t cap = 0, len = 0, scanned = 0; /* buf[0, len) is the current line so far */
  uint64_t line = 0;
  csvreg_status st = CSVREG_OK;
  for (int eof = 0; !st && !eof;) {
    if (cap - len < READ_BLOCK) {
      /* Doubling, but never past the longest line plus a read: a line that
       * long has failed before the buffer would need more. */
      size_t most = limit < SIZE_MAX - 2 * READ_BLOCK ? limit + 2 * READ_BLOCK : SIZE_MAX;
      size_t ncap = cap ? (cap < most / 2 ? cap * 2 : most) : READ_BLOCK * 2;
      char *t = realloc(buf, ncap);
      if (!t) {
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        break;
      }
      buf = t;
      cap = ncap;
    }
    ssize_t got = read(fd, buf + len, cap - len);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      st = csvreg__err_set(err, CSVREG_E_IO, "cannot read %s: %s", source, strerror(errno));
      break;
    }
    eof = got == 0;
    len += (size_t)got;
    /* Every whole line in the buffer, then what is left moved to its start. */
    size_t from = 0;
    char *nl;
    while (!st && (nl = memchr(buf + scanned, '\n', len - scanned))) {
      size_t end = (size_t)(nl - buf) + 1;
      st = csvreg_stateset_add_text(s, buf + from, end - from, source, ++line, err);
      if (st && line == 1 && st != CSVREG_E_NOMEM)
        st = model_not_state(buf, len, source, st, err);
      from = scanned = end;
    }
    if (st)
      break;
    if (from) { /* a long line is not moved again on every read */
      memmove(buf, buf + from, len - from);
      len -= from;
    }
    scanned = len;
    if (len > limit) /* stop before holding an unbounded line */
      st = too_long(s, source, line + 1, err);
    else if (eof && len)
      st = csvreg_stateset_add_text(s, buf, len, source, ++line, err);
  }
  free(buf);
  return st;
}

static int cmp_entry(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  if (a->has_range != b->has_range)
    return a->has_range ? -1 : 1;
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  if (a->end != b->end)
    return a->end < b->end ? -1 : 1;
  int c = strcmp(a->checksum ? a->checksum : "", b->checksum ? b->checksum : "");
  if (c)
    return c;
  /* Same checksum: compare the content, so that the order is total even
   * for a CRC collision (identical states compare equal either way). */
  char *ta = json_dumps(a->obj, JSON_COMPACT | JSON_SORT_KEYS);
  char *tb = json_dumps(b->obj, JSON_COMPACT | JSON_SORT_KEYS);
  c = ta && tb ? strcmp(ta, tb) : 0;
  free(ta);
  free(tb);
  ta = tb = NULL;
  if (!c && !csvreg_accum_save(a->acc, NULL, &ta, NULL) &&
      !csvreg_accum_save(b->acc, NULL, &tb, NULL))
    c = strcmp(ta, tb);
  free(ta);
  free(tb);
  return c;
}

/* "cannot merge: ..." at `e`, naming `first`. */
static csvreg_status check_same(const entry *first, const entry *e, csvreg_error *err) {
  csvreg_status st = CSVREG_OK;
  int open = json_is_false(json_object_get(first->obj, "selected")) &&
             json_is_false(json_object_get(e->obj, "selected"));
  for (size_t k = 0; !st && k < sizeof same_keys / sizeof same_keys[0]; k++) {
    if (open && (strcmp(same_keys[k], "terms") == 0 || strcmp(same_keys[k], "factors") == 0))
      continue;
    json_t *a = json_object_get(first->obj, same_keys[k]);
    json_t *b = json_object_get(e->obj, same_keys[k]);
    if ((a || b) && !json_equal(a, b)) { /* version 1 states have no "formula" */
      char *ta = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
      char *tb = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
      st = csvreg__err_set(err, CSVREG_E_FORMAT,
                           "cannot merge: \"%s\" is %.200s here but %.200s in %s:%llu",
                           same_keys[k], tb ? tb : "nothing", ta ? ta : "nothing", first->source,
                           (unsigned long long)first->line);
      free(ta);
      free(tb);
    }
  }
  json_t *oa = json_object_get(json_object_get(first->obj, "meta"), "options");
  json_t *ob = json_object_get(json_object_get(e->obj, "meta"), "options");
  if (!st && oa && ob && !json_equal(oa, ob)) {
    char *ta = json_dumps(oa, JSON_COMPACT | JSON_SORT_KEYS);
    char *tb = json_dumps(ob, JSON_COMPACT | JSON_SORT_KEYS);
    st = csvreg__err_set(
        err, CSVREG_E_FORMAT, "cannot merge: input options %.200s differ from %.200s in %s:%llu",
        tb ? tb : "?", ta ? ta : "?", first->source, (unsigned long long)first->line);
    free(ta);
    free(tb);
  }
  if (st)
    csvreg__err_at(err, e->source, e->line, 0, 0, NULL);
  return st;
}

static uint64_t meta_u64(const json_t *meta, const char *key, int *have) {
  json_t *v = json_object_get(meta, key);
  int ok = json_is_integer(v) && json_integer_value(v) >= 0;
  if (have)
    *have = ok;
  return ok ? (uint64_t)json_integer_value(v) : 0;
}

typedef struct span {
  uint64_t s, e;
  const entry *from;
} span;

static int cmp_span(const void *pa, const void *pb) {
  const span *a = pa, *b = pb;
  if (a->s != b->s)
    return a->s < b->s ? -1 : 1;
  return a->e < b->e ? -1 : a->e > b->e;
}

/* Every state's byte ranges, sorted; *nout of them, *without the number
 * of states that have none. NULL on ENOMEM. */
static span *collect_spans(const csvreg_stateset *s, size_t *nout, size_t *without) {
  size_t n = 0;
  *without = 0;
  for (size_t i = 0; i < s->n; i++) {
    json_t *meta = json_object_get(s->v[i].obj, "meta");
    json_t *rs = json_object_get(meta, "ranges");
    n += json_is_array(rs) ? json_array_size(rs) : json_object_get(meta, "range") ? 1 : 0;
  }
  span *v = calloc(n ? n : 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; v && i < s->n; i++) {
    json_t *meta = json_object_get(s->v[i].obj, "meta");
    json_t *rs = json_object_get(meta, "ranges"), *r = json_object_get(meta, "range");
    size_t m = json_is_array(rs) ? json_array_size(rs) : r ? 1 : 0;
    if (m == 0)
      (*without)++;
    for (size_t t = 0; t < m; t++) {
      json_t *x = json_is_array(rs) ? json_array_get(rs, t) : r;
      v[k].s = (uint64_t)json_integer_value(json_array_get(x, 0));
      v[k].e = (uint64_t)json_integer_value(json_array_get(x, 1));
      v[k].from = &s->v[i];
      k++;
    }
  }
  *nout = k;
  if (v)
    qsort(v, k, sizeof *v, cmp_span);
  return v;
}

static csvreg_status nomem(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
}

/* A sum of the states' byte counts past 2^64 (only forged states get
 * there): exit 3, never a wrapped count. */
static csvreg_status overflow(const entry *e, csvreg_error *err) {
  csvreg__err_set(err, CSVREG_E_LIMIT,
                  "counter overflow: the states' byte counts add up to more than 2^64 - 1");
  csvreg__err_at(err, e->source, e->line, 0, 0, NULL);
  return CSVREG_E_LIMIT;
}

/* Ranged shards: their ranges must tile [0, want); on success out_meta gets
 * "ranges": [[0, want]]. */
static csvreg_status check_ranges(const span *v, size_t n, uint64_t want, json_t *out_meta,
                                  csvreg_error *err) {
  uint64_t cur = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i].e == v[i].s && v[i].s <= cur)
      continue; /* an empty range (more shards than bytes) covers nothing */
    if (v[i].s > cur)
      return csvreg__err_set(
          err, CSVREG_E_VALUE,
          "--expect-bytes %llu: bytes %llu to %llu are in no state: a shard is missing",
          (unsigned long long)want, (unsigned long long)cur, (unsigned long long)v[i].s);
    if (v[i].s < cur)
      return csvreg__err_set(
          err, CSVREG_E_VALUE,
          "--expect-bytes %llu: bytes %llu to %llu are in two states (%s:%llu and "
          "another): a shard is duplicated",
          (unsigned long long)want, (unsigned long long)v[i].s,
          (unsigned long long)(cur < v[i].e ? cur : v[i].e), v[i].from->source,
          (unsigned long long)v[i].from->line);
    int have;
    uint64_t fs = meta_u64(json_object_get(v[i].from->obj, "meta"), "file_size", &have);
    if (have && fs != want) {
      csvreg__err_set(err, CSVREG_E_VALUE,
                      "--expect-bytes %llu: this shard was cut from a file of %llu bytes",
                      (unsigned long long)want, (unsigned long long)fs);
      csvreg__err_at(err, v[i].from->source, v[i].from->line, 0, 0, NULL);
      return CSVREG_E_VALUE;
    }
    cur = v[i].e;
  }
  if (cur != want)
    return csvreg__err_set(err, CSVREG_E_VALUE,
                           "--expect-bytes %llu: the states cover bytes 0 to %llu: %s",
                           (unsigned long long)want, (unsigned long long)cur,
                           cur < want ? "a shard is missing" : "the file is smaller");
  json_t *ranges = json_pack("[[I, I]]", (json_int_t)0, (json_int_t)want);
  if (!ranges || json_object_set_new(out_meta, "ranges", ranges))
    return nomem(err);
  return CSVREG_OK;
}

/* Streamed shards (parallel --pipepart, Hadoop splits): data bytes add up,
 * plus the header once (each pipepart block repeats it). */
static csvreg_status check_stream(const csvreg_stateset *s, uint64_t want, csvreg_error *err) {
  uint64_t sum = 0, header = 0;
  for (size_t i = 0; i < s->n; i++) {
    json_t *meta = json_object_get(s->v[i].obj, "meta");
    int have;
    if (__builtin_add_overflow(sum, meta_u64(meta, "bytes", &have), &sum))
      return overflow(&s->v[i], err);
    if (!have) {
      csvreg__err_set(err, CSVREG_E_VALUE, "--expect-bytes: the state records no byte count");
      csvreg__err_at(err, s->v[i].source, s->v[i].line, 0, 0, NULL);
      return CSVREG_E_VALUE;
    }
    uint64_t h = meta_u64(meta, "header_bytes", NULL);
    header = h > header ? h : header;
  }
  if (sum > UINT64_MAX - header)
    return overflow(&s->v[0], err);
  if (sum + header != want)
    return csvreg__err_set(
        err, CSVREG_E_VALUE,
        "--expect-bytes %llu: the states hold %llu bytes of data and a header of "
        "%llu: %s",
        (unsigned long long)want, (unsigned long long)sum, (unsigned long long)header,
        sum + header < want ? "a shard is missing" : "a shard is duplicated");
  return CSVREG_OK;
}

/* --expect-bytes: ranges tile [0, N), or stream shards add up to N. */
static csvreg_status check_bytes(const csvreg_stateset *s, uint64_t want, json_t *out_meta,
                                 csvreg_error *err) {
  size_t n, without;
  span *v = collect_spans(s, &n, &without);
  if (!v)
    return nomem(err);
  csvreg_status st;
  if (n > 0 && without > 0)
    st = csvreg__err_set(
        err, CSVREG_E_VALUE,
        "--expect-bytes: %zu state(s) have byte ranges and %zu have none: cannot check "
        "coverage of a mix of ranged and streamed shards",
        s->n - without, without);
  else if (n > 0)
    st = check_ranges(v, n, want, out_meta, err);
  else
    st = check_stream(s, want, err);
  free(v);
  return st;
}

/* The ranges of every state, coalesced, so that a merge of merges can check
 * coverage; nothing when a state has none. */
static csvreg_status add_coalesced_ranges(const csvreg_stateset *s, json_t *m, csvreg_error *err) {
  size_t n, without;
  span *v = collect_spans(s, &n, &without);
  if (!v)
    return nomem(err);
  csvreg_status st = CSVREG_OK;
  if (n && !without) {
    json_t *ranges = json_array();
    uint64_t cs = v[0].s, ce = v[0].e;
    for (size_t i = 1; ranges && i <= n; i++) {
      if (i < n && v[i].s == ce) {
        ce = v[i].e;
        continue;
      }
      if (json_array_append_new(ranges, json_pack("[I, I]", (json_int_t)cs, (json_int_t)ce))) {
        json_decref(ranges);
        ranges = NULL;
      } else if (i < n) {
        cs = v[i].s;
        ce = v[i].e;
      }
    }
    if (!ranges || json_object_set_new(m, "ranges", ranges))
      st = nomem(err);
  }
  free(v);
  return st;
}

/* The states as owners of streamed blocks (blocks.c), in their order. */
static csvreg__block_owner *owners(const csvreg_stateset *s) {
  csvreg__block_owner *o = calloc(s->n ? s->n : 1, sizeof *o);
  for (size_t i = 0; o && i < s->n; i++)
    o[i] =
        (csvreg__block_owner){json_object_get(s->v[i].obj, "meta"), s->v[i].source, s->v[i].line};
  return o;
}

/* The merged provenance into `m` (which may hold "ranges" already). */
static csvreg_status merged_meta(const csvreg_stateset *s, uint64_t records, json_t *m,
                                 csvreg_error *err) {
  json_t *m0 = json_object_get(s->v[0].obj, "meta");
  json_t *opt = json_object_get(m0, "options");
  if (opt && json_object_set(m, "options", opt))
    return nomem(err);
  json_t *src = json_object_get(m0, "source");
  int same_source = json_is_string(src);
  uint64_t bytes = 0, header = 0;
  for (size_t i = 0; i < s->n; i++) {
    json_t *mi = json_object_get(s->v[i].obj, "meta");
    same_source = same_source && json_equal(src, json_object_get(mi, "source"));
    if (__builtin_add_overflow(bytes, meta_u64(mi, "bytes", NULL), &bytes))
      return overflow(&s->v[i], err);
    uint64_t h = meta_u64(mi, "header_bytes", NULL);
    header = h > header ? h : header;
  }
  if ((same_source && json_object_set(m, "source", src)) ||
      json_object_set_new(m, "merged", json_integer((json_int_t)s->n)) ||
      json_object_set_new(m, "records", json_integer((json_int_t)records)) ||
      json_object_set_new(m, "bytes", json_integer((json_int_t)bytes)) ||
      json_object_set_new(m, "header_bytes", json_integer((json_int_t)header)))
    return nomem(err);
  /* the streamed blocks of every state, for a merge of this merge */
  csvreg__block_owner *o = owners(s);
  csvreg_status st = o ? csvreg__blocks_merged(o, s->n, m, err) : nomem(err);
  free(o);
  if (st)
    return st;
  if (!json_object_get(m, "ranges"))
    return add_coalesced_ranges(s, m, err);
  return CSVREG_OK;
}

/* Shards' states of categorical variables (not selected: a column for every
 * level seen) merge aligned by name, a level a shard never saw being a
 * column of zeros on its rows: exact, as threads merge (sink.c). Selected
 * states passed check_same with the same terms and levels. */
static csvreg_status merge_one(csvreg_accum *acc, const csvreg_accum *from, csvreg_error *err) {
  accum_frame fr;
  if (!csvreg__accum_frame_get(acc, &fr) || fr.selected)
    return csvreg_accum_merge(acc, from, err);
  csvreg_status st = csvreg__accum_merge_aligned(acc, from, NULL, err);
  return st ? st : csvreg__accum_levels_union(acc, from, err);
}

/* A copy of the first state, then the others merged into it in order. */
static csvreg_status merge_in_order(const csvreg_stateset *s, csvreg_accum **out,
                                    csvreg_error *err) {
  char *text = NULL;
  csvreg_accum *acc = NULL;
  csvreg_status st = csvreg_accum_save(s->v[0].acc, NULL, &text, err);
  if (!st)
    st = csvreg_accum_load(&acc, text, strlen(text), NULL, err);
  free(text);
  for (size_t i = 1; !st && i < s->n; i++)
    if ((st = merge_one(acc, s->v[i].acc, err)) && err) {
      char why[sizeof err->message];
      snprintf(why, sizeof why, "%s", err->message);
      csvreg__err_set(err, st, "cannot merge: %s", why);
      csvreg__err_at(err, s->v[i].source, s->v[i].line, 0, 0, NULL);
    }
  if (st)
    csvreg_accum_free(acc);
  else
    *out = acc;
  return st;
}

/* Streamed blocks (--pipepart, Hadoop splits) have no byte range, only a
 * size, so a lost block and another of the same size delivered twice add
 * up to the file's size and records. Their digests tell them apart: two
 * states of the same bytes, records and digest read the same block (issue
 * 15); merged states list their blocks' digests (blocks.c), so the check
 * holds through a tree of merges. */
static csvreg_status check_repeats(const csvreg_stateset *s, csvreg_error *err) {
  csvreg__block_owner *o = owners(s);
  if (!o)
    return nomem(err);
  csvreg_status st = csvreg__blocks_check(o, s->n, err);
  free(o);
  return st;
}

/* --expect-records / --expect-used on the merged counts. Both counts are
 * named, so a user who passed n as the records (or the reverse) sees it. */
static csvreg_status check_counts(const csvreg_counts *c, const csvreg_stateset_checks *chk,
                                  csvreg_error *err) {
  if (chk->expect_rows && c->records != chk->rows)
    return csvreg__err_set(
        err, CSVREG_E_VALUE,
        "--expect-records %llu: the states hold %llu records (%llu used in "
        "the fit): %s",
        (unsigned long long)chk->rows, (unsigned long long)c->records, (unsigned long long)c->used,
        c->records < chk->rows ? "a shard is missing"
        : c->used == chk->rows ? "more than expected, but as many rows as the fit used: give "
                                 "that count as --expect-used"
                               : "a shard is duplicated");
  if (chk->expect_used && c->used != chk->used)
    return csvreg__err_set(
        err, CSVREG_E_VALUE,
        "--expect-used %llu: the states used %llu rows in the fit (of %llu "
        "records read): %s",
        (unsigned long long)chk->used, (unsigned long long)c->used, (unsigned long long)c->records,
        c->used > chk->used       ? "a shard is duplicated"
        : c->records == chk->used ? "fewer than expected, but as many records were read: give "
                                    "that count as --expect-records"
                                  : "a shard is missing");
  return CSVREG_OK;
}

csvreg_status csvreg_stateset_merge(csvreg_stateset *s, const csvreg_stateset_checks *chk,
                                    csvreg_accum **out, char **meta_json, csvreg_error *err) {
  *out = NULL;
  if (meta_json)
    *meta_json = NULL;
  if (s->n == 0)
    return csvreg__err_set(err, CSVREG_E_FORMAT, "no state to merge (empty input)");
  for (size_t i = 1; i < s->n; i++) {
    csvreg_status st = check_same(&s->v[0], &s->v[i], err);
    if (st)
      return st;
  }
  if (!(chk && chk->allow_repeat)) {
    csvreg_status st = check_repeats(s, err);
    if (st)
      return st;
  }
  qsort(s->v, s->n, sizeof *s->v, cmp_entry);
  json_t *m = json_object();
  if (!m)
    return nomem(err);
  csvreg_status st = CSVREG_OK;
  if (chk && chk->expect_bytes)
    st = check_bytes(s, chk->bytes, m, err);
  csvreg_accum *acc = NULL;
  if (!st)
    st = merge_in_order(s, &acc, err);
  uint64_t records = acc ? csvreg_accum_counts(acc)->records : 0;
  if (!st && chk)
    st = check_counts(csvreg_accum_counts(acc), chk, err);
  if (!st && meta_json && !(st = merged_meta(s, records, m, err)) &&
      !(*meta_json = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS)))
    st = nomem(err);
  json_decref(m);
  if (st)
    csvreg_accum_free(acc);
  else
    *out = acc;
  return st;
}

/* meta with the byte provenance removed, records set and "subtracted". */
static csvreg_status subtracted_meta(const char *meta, uint64_t records, size_t nsub, char **out,
                                     csvreg_error *err) {
  json_t *m = meta ? json_loads(meta, 0, NULL) : json_object();
  if (!json_is_object(m)) {
    json_decref(m);
    return meta ? csvreg__err_set(err, CSVREG_E_USAGE, "state metadata is not a JSON object")
                : nomem(err);
  }
  json_object_del(m, "ranges");
  json_object_del(m, "bytes");
  json_object_del(m, "header_bytes");
  json_object_del(m, "digests"); /* the blocks subtracted are not in it */
  csvreg_status st = CSVREG_OK;
  if (json_object_set_new(m, "records", json_integer((json_int_t)records)) ||
      json_object_set_new(m, "subtracted", json_integer((json_int_t)nsub)) ||
      !(*out = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS)))
    st = nomem(err);
  json_decref(m);
  return st;
}

csvreg_status csvreg_stateset_subtract(csvreg_stateset *sub, csvreg_accum *acc, char **meta_json,
                                       csvreg_error *err) {
  /* A level whose rows were all subtracted would stay a level (a column
   * of zeros, aliased) where a refit would not have it: refused until the
   * levels are counted. */
  if (csvreg__accum_levels_nvars(acc))
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "states of a formula with categorical columns cannot be subtracted "
                           "yet: merge the states of the window instead");
  csvreg_accum *old = NULL;
  csvreg_status st = csvreg_stateset_merge(sub, NULL, &old, NULL, err);
  if (st)
    return st;
  /* States of other columns do not belong together: the same exit as a
   * plain merge of them (6), not a usage error. */
  int same = csvreg__accum_nterms(acc) == csvreg__accum_nterms(old) &&
             csvreg__accum_intercept(acc) == csvreg__accum_intercept(old) &&
             strcmp(csvreg__accum_target_name(acc), csvreg__accum_target_name(old)) == 0 &&
             csvreg__accum_ninputs(acc) == csvreg__accum_ninputs(old);
  for (size_t j = 0; same && j < csvreg__accum_nterms(acc); j++)
    same = strcmp(csvreg__accum_term_name(acc, j), csvreg__accum_term_name(old, j)) == 0;
  if (!same) {
    csvreg_accum_free(old);
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "cannot subtract: the states differ in target, intercept or columns");
  }
  /* The new provenance first: a failure then leaves acc as it was. */
  char *meta = NULL;
  uint64_t records = csvreg_accum_counts(acc)->records - csvreg_accum_counts(old)->records;
  if (!(st = subtracted_meta(*meta_json, records, sub->n, &meta, err)) &&
      !(st = csvreg_accum_subtract(acc, old, err))) {
    free(*meta_json);
    *meta_json = meta;
    meta = NULL;
  }
  free(meta);
  csvreg_accum_free(old);
  return st;
}

void csvreg_stateset_model_options(const csvreg_stateset *s, csvreg_model_options *mo) {
  json_t *o = s->n ? json_object_get(json_object_get(s->v[0].obj, "meta"), "options") : NULL;
  if (!json_is_object(o))
    return;
  const char *d = json_string_value(json_object_get(o, "delimiter"));
  if (d && d[0] && !d[1])
    mo->delimiter = d[0];
  json_t *h = json_object_get(o, "header");
  if (json_is_boolean(h))
    mo->header = json_is_true(h);
  mo->na = json_string_value(json_object_get(o, "na"));
  mo->weights = json_string_value(json_object_get(o, "weights"));
}
