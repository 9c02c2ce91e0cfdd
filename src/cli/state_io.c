/*
 * state_io.c - state lines in files and pipes: writing one (stdout or an
 * atomic file), reading many (files or stdin, Hadoop's `key<TAB>` prefix
 * dropped), checking that they belong together and cover the input exactly
 * once, and merging them in an order fixed by their provenance so that the
 * result does not depend on which shard finished first.
 *
 * Pipes: a state line is often longer than PIPE_BUF (4 KiB), so writers that
 * share one pipe can interleave their lines. Each engine must keep lines
 * whole (GNU parallel buffers each job's output; Hadoop and `sort` move whole
 * lines); a damaged line fails its JSON parse or its checksum and is
 * reported with its file and line, never merged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "shard.h"

int state_write(const char *path, const csvreg_accum *acc, const char *meta) {
  csvreg_error err;
  csvreg_error_clear(&err);
  char *text = NULL;
  if (csvreg_accum_save(acc, meta, &text, &err))
    return cli_report_error(&err);
  int rc = CLI_EXIT_OK;
  if (!path || strcmp(path, "-") == 0) {
    /* One fwrite of the whole line: stdio hands it to the kernel in as few
     * writes as it can; whole-line delivery is the engine's job (above). */
    fputs(text, stdout);
    fputc('\n', stdout);
    if (cli_flush_stdout() != 0)
      rc = CLI_EXIT_IO; /* main reports it when closing stdout */
  } else {
    atomic_file af;
    char msg[1024];
    if ((rc = atomic_open(&af, path, msg, sizeof msg)) != 0) {
      cli_errorf("%s", msg);
    } else {
      fputs(text, af.fp);
      fputc('\n', af.fp);
      if (atomic_commit(&af, msg, sizeof msg) != 0) {
        cli_errorf("%s", msg);
        rc = CLI_EXIT_IO;
      }
    }
  }
  free(text);
  return rc;
}

static int read_line(state_set *s, const char *source, uint64_t lineno, char *text, size_t len) {
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    text[--len] = '\0';
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  if (i == len)
    return 0;           /* blank */
  if (text[i] != '{') { /* key<TAB>value: the value is the state */
    char *tab = memchr(text, '\t', len);
    if (tab) {
      i = (size_t)(tab + 1 - text);
      while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    }
  }
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_accum *acc = NULL;
  json_error_t je;
  json_t *obj = NULL;
  csvreg_status st = csvreg_accum_load(&acc, text + i, len - i, NULL, &err);
  if (!st && !(obj = json_loadb(text + i, len - i, 0, &je)))
    st = CSVREG_E_NOMEM;
  if (st) {
    cli_errorf("%s:%llu: %s%s", source, (unsigned long long)lineno,
               err.message[0] ? err.message : csvreg_status_str(st),
               strstr(err.message, "checksum") || strstr(err.message, "JSON")
                   ? " (a truncated line, or lines of concurrent writers interleaved: each "
                     "writer must write whole lines)"
                   : "");
    csvreg_accum_free(acc);
    return cli_exit_code(st);
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    state_entry *v = realloc(s->v, cap * sizeof *v);
    if (!v) {
      csvreg_accum_free(acc);
      json_decref(obj);
      cli_errorf("out of memory");
      return CLI_EXIT_INTERNAL;
    }
    s->v = v;
    s->cap = cap;
  }
  state_entry *e = &s->v[s->n++];
  memset(e, 0, sizeof *e);
  e->source = malloc(strlen(source) + 1);
  if (e->source)
    strcpy(e->source, source);
  e->line = lineno;
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
  return 0;
}

int state_set_read(state_set *s, const char *path) {
  int stdin_ = strcmp(path, "-") == 0;
  const char *source = stdin_ ? "<stdin>" : path;
  FILE *f = stdin_ ? stdin : fopen(path, "rb");
  if (!f) {
    cli_errorf("cannot open state %s: %s", path, strerror(errno));
    return CLI_EXIT_IO;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  uint64_t lineno = 0;
  int rc = 0;
  while (!rc && (n = getline(&line, &cap, f)) >= 0)
    rc = read_line(s, source, ++lineno, line, (size_t)n);
  if (!rc && ferror(f)) {
    cli_errorf("cannot read %s: %s", source, strerror(errno));
    rc = CLI_EXIT_IO;
  }
  free(line);
  if (!stdin_)
    fclose(f);
  return rc;
}

void state_set_free(state_set *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].source);
    csvreg_accum_free(s->v[i].acc);
    json_decref(s->v[i].obj);
  }
  free(s->v);
  memset(s, 0, sizeof *s);
}

static int cmp_entry(const void *pa, const void *pb) {
  const state_entry *a = pa, *b = pb;
  if (a->has_range != b->has_range)
    return a->has_range ? -1 : 1;
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  if (a->end != b->end)
    return a->end < b->end ? -1 : 1;
  int c = strcmp(a->checksum ? a->checksum : "", b->checksum ? b->checksum : "");
  if (c)
    return c;
  /* Same checksum: compare the content, so that order is total. */
  char *ta = json_dumps(a->obj, JSON_COMPACT | JSON_SORT_KEYS);
  char *tb = json_dumps(b->obj, JSON_COMPACT | JSON_SORT_KEYS);
  c = ta && tb ? strcmp(ta, tb) : 0;
  free(ta);
  free(tb);
  return c;
}

/* The members that must agree between states merged together. */
static const char *const same_keys[] = {"solver", "intercept", "target", "terms", "inputs"};

static int check_same(const state_entry *first, const state_entry *e) {
  for (size_t k = 0; k < sizeof same_keys / sizeof same_keys[0]; k++) {
    json_t *a = json_object_get(first->obj, same_keys[k]);
    json_t *b = json_object_get(e->obj, same_keys[k]);
    if (!json_equal(a, b)) {
      char *ta = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
      char *tb = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
      cli_errorf("%s:%llu: cannot merge: \"%s\" is %.200s here but %.200s in %s:%llu", e->source,
                 (unsigned long long)e->line, same_keys[k], tb ? tb : "?", ta ? ta : "?",
                 first->source, (unsigned long long)first->line);
      free(ta);
      free(tb);
      return CLI_EXIT_FORMAT;
    }
  }
  json_t *oa = json_object_get(json_object_get(first->obj, "meta"), "options");
  json_t *ob = json_object_get(json_object_get(e->obj, "meta"), "options");
  if (oa && ob && !json_equal(oa, ob)) {
    char *ta = json_dumps(oa, JSON_COMPACT | JSON_SORT_KEYS);
    char *tb = json_dumps(ob, JSON_COMPACT | JSON_SORT_KEYS);
    cli_errorf("%s:%llu: cannot merge: input options %.300s differ from %.300s in %s:%llu",
               e->source, (unsigned long long)e->line, tb ? tb : "?", ta ? ta : "?", first->source,
               (unsigned long long)first->line);
    free(ta);
    free(tb);
    return CLI_EXIT_FORMAT;
  }
  return 0;
}

static uint64_t meta_u64(const json_t *meta, const char *key, int *have) {
  json_t *v = json_object_get(meta, key);
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    if (have)
      *have = 1;
    return (uint64_t)json_integer_value(v);
  }
  if (have)
    *have = 0;
  return 0;
}

typedef struct span {
  uint64_t s, e;
  const state_entry *from;
} span;

static int cmp_span(const void *pa, const void *pb) {
  const span *a = pa, *b = pb;
  if (a->s != b->s)
    return a->s < b->s ? -1 : 1;
  return a->e < b->e ? -1 : a->e > b->e;
}

/* Every state's byte ranges, sorted; *nout of them. NULL with *nout = 0
 * when a state has none. */
static span *collect_spans(const state_set *s, size_t *nout, size_t *without) {
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

/* --expect-bytes: ranges tile [0, N), or stream shards add up to N. */
static int check_bytes(const state_set *s, uint64_t want, json_t *out_meta) {
  size_t n, without;
  span *v = collect_spans(s, &n, &without);
  if (!v) {
    cli_errorf("out of memory");
    return CLI_EXIT_INTERNAL;
  }
  int rc = 0;
  if (n > 0 && without > 0) {
    cli_errorf("--expect-bytes: %zu state(s) have byte ranges and %zu have none: cannot check "
               "coverage of a mix of ranged and streamed shards",
               s->n - without, without);
    rc = CLI_EXIT_DATA;
  } else if (n > 0) {
    uint64_t cur = 0;
    json_t *ranges = json_array();
    for (size_t i = 0; i < n && !rc; i++) {
      if (v[i].e == v[i].s && v[i].s <= cur)
        continue; /* an empty range (more shards than bytes) covers nothing */
      if (v[i].s > cur) {
        cli_errorf("--expect-bytes %llu: bytes %llu to %llu are in no state: a shard is "
                   "missing",
                   (unsigned long long)want, (unsigned long long)cur, (unsigned long long)v[i].s);
        rc = CLI_EXIT_DATA;
      } else if (v[i].s < cur) {
        cli_errorf("--expect-bytes %llu: bytes %llu to %llu are in two states (%s:%llu and "
                   "another): a shard is duplicated",
                   (unsigned long long)want, (unsigned long long)v[i].s,
                   (unsigned long long)(cur < v[i].e ? cur : v[i].e), v[i].from->source,
                   (unsigned long long)v[i].from->line);
        rc = CLI_EXIT_DATA;
      }
      int have;
      uint64_t fs = meta_u64(json_object_get(v[i].from->obj, "meta"), "file_size", &have);
      if (!rc && have && fs != want) {
        cli_errorf("%s:%llu: --expect-bytes %llu: this shard was cut from a file of %llu bytes",
                   v[i].from->source, (unsigned long long)v[i].from->line, (unsigned long long)want,
                   (unsigned long long)fs);
        rc = CLI_EXIT_DATA;
      }
      cur = v[i].e;
    }
    if (!rc && cur != want) {
      cli_errorf("--expect-bytes %llu: the states cover bytes 0 to %llu: %s",
                 (unsigned long long)want, (unsigned long long)cur,
                 cur < want ? "a shard is missing" : "the file is smaller");
      rc = CLI_EXIT_DATA;
    }
    if (!rc)
      json_array_append_new(ranges, json_pack("[I, I]", (json_int_t)0, (json_int_t)want));
    json_object_set_new(out_meta, "ranges", ranges);
  } else {
    /* Streamed shards (parallel --pipepart, Hadoop splits): data bytes add
     * up, plus the header once (each pipepart block repeats it). */
    uint64_t sum = 0, header = 0;
    for (size_t i = 0; i < s->n; i++) {
      json_t *meta = json_object_get(s->v[i].obj, "meta");
      int have;
      sum += meta_u64(meta, "bytes", &have);
      if (!have) {
        cli_errorf("%s:%llu: --expect-bytes: the state records no byte count", s->v[i].source,
                   (unsigned long long)s->v[i].line);
        rc = CLI_EXIT_DATA;
        break;
      }
      uint64_t h = meta_u64(meta, "header_bytes", NULL);
      header = h > header ? h : header;
    }
    if (!rc && sum + header != want) {
      cli_errorf("--expect-bytes %llu: the states hold %llu bytes of data and a header of %llu: "
                 "%s",
                 (unsigned long long)want, (unsigned long long)sum, (unsigned long long)header,
                 sum + header < want ? "a shard is missing" : "a shard is duplicated");
      rc = CLI_EXIT_DATA;
    }
  }
  free(v);
  return rc;
}

int state_set_merge(state_set *s, const merge_checks *chk, csvreg_accum **out, char **meta) {
  *out = NULL;
  *meta = NULL;
  if (s->n == 0) {
    cli_errorf("no state to merge (empty input)");
    return CLI_EXIT_FORMAT;
  }
  for (size_t i = 1; i < s->n; i++) {
    int rc = check_same(&s->v[0], &s->v[i]);
    if (rc)
      return rc;
  }
  qsort(s->v, s->n, sizeof *s->v, cmp_entry);
  json_t *m = json_object();
  if (!m) {
    cli_errorf("out of memory");
    return CLI_EXIT_INTERNAL;
  }
  int rc = 0;
  if (chk && chk->expect_bytes)
    rc = check_bytes(s, chk->bytes, m);
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_accum *acc = NULL;
  char *text = NULL;
  /* A copy of the first, then the others merged into it in order. */
  if (!rc) {
    if (csvreg_accum_save(s->v[0].acc, NULL, &text, &err) ||
        csvreg_accum_load(&acc, text, strlen(text), NULL, &err))
      rc = cli_report_error(&err);
    free(text);
  }
  for (size_t i = 1; !rc && i < s->n; i++)
    if (csvreg_accum_merge(acc, s->v[i].acc, &err)) {
      cli_errorf("%s:%llu: cannot merge: %s", s->v[i].source, (unsigned long long)s->v[i].line,
                 err.message);
      rc = cli_exit_code(err.status);
    }
  uint64_t records = acc ? csvreg_accum_counts(acc)->records : 0;
  if (!rc && chk && chk->expect_rows && records != chk->rows) {
    cli_errorf("--expect-rows %llu: the states hold %llu records: %s",
               (unsigned long long)chk->rows, (unsigned long long)records,
               records < chk->rows ? "a shard is missing" : "a shard is duplicated");
    rc = CLI_EXIT_DATA;
  }
  if (!rc) {
    json_t *m0 = json_object_get(s->v[0].obj, "meta");
    json_t *opt = json_object_get(m0, "options");
    if (opt)
      json_object_set(m, "options", opt);
    json_t *src = json_object_get(m0, "source");
    int same_source = json_is_string(src);
    uint64_t bytes = 0, header = 0;
    for (size_t i = 0; i < s->n; i++) {
      json_t *mi = json_object_get(s->v[i].obj, "meta");
      same_source = same_source && json_equal(src, json_object_get(mi, "source"));
      bytes += meta_u64(mi, "bytes", NULL);
      uint64_t h = meta_u64(mi, "header_bytes", NULL);
      header = h > header ? h : header;
    }
    if (same_source)
      json_object_set(m, "source", src);
    json_object_set_new(m, "merged", json_integer((json_int_t)s->n));
    json_object_set_new(m, "records", json_integer((json_int_t)records));
    json_object_set_new(m, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(m, "header_bytes", json_integer((json_int_t)header));
    if (!json_object_get(m, "ranges")) {
      /* Keep the ranges (coalesced) so a merge of merges can check coverage. */
      size_t n, without;
      span *v = collect_spans(s, &n, &without);
      if (!v) {
        cli_errorf("out of memory");
        rc = CLI_EXIT_INTERNAL;
      } else if (n && !without) {
        json_t *ranges = json_array();
        uint64_t cs = v[0].s, ce = v[0].e;
        for (size_t i = 1; i <= n; i++) {
          if (i < n && v[i].s == ce) {
            ce = v[i].e;
            continue;
          }
          json_array_append_new(ranges, json_pack("[I, I]", (json_int_t)cs, (json_int_t)ce));
          if (i < n) {
            cs = v[i].s;
            ce = v[i].e;
          }
        }
        json_object_set_new(m, "ranges", ranges);
      }
      free(v);
    }
    if (!rc && !(*meta = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS))) {
      cli_errorf("out of memory");
      rc = CLI_EXIT_INTERNAL;
    }
  }
  json_decref(m);
  if (rc)
    csvreg_accum_free(acc);
  else
    *out = acc;
  return rc;
}

void state_meta_model_options(const char *meta, csvreg_model_options *mo, json_t **holder) {
  *holder = meta ? json_loads(meta, 0, NULL) : NULL;
  json_t *o = json_object_get(*holder, "options");
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
