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
#define _POSIX_C_SOURCE 200809L /* pread, F_DUPFD_CLOEXEC, off_t */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blocks.h"
#include "state_scan.h"
#include "internal.h"
#include "linalg.h"
#include "json_head.h"
#include "state.h"

typedef struct entry {
  char *source;      /* where the line came from ("<stdin>") */
  uint64_t line;     /* its line there */
  csvreg_accum *acc; /* NULL: not held, read again from `file` when merged */
  json_t *obj;       /* the members below, for the checks and the provenance */
  const char *checksum;
  csvreg__merge_key key; /* the merge order (its checksum is in obj) */
  int file;              /* index in files, or -1: the line cannot be read again */
  uint64_t off;          /* the line's offset and length in that file */
  size_t len;
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

/* Line text of the accumulators held at once (their memory is about as
 * large) before later states read from regular files are dropped after
 * their checks and read again, one at a time, when merged. */
#define KEEP_BYTES ((size_t)64 << 20)

/* Descriptors kept open at most: the caller opens one file after another
 * and must not run out of descriptors (a merge of thousands of files);
 * past this the states of further files are held. */
#define KEEP_FILES 64

struct csvreg_stateset {
  entry *v;
  size_t n, cap;
  size_t max_line;      /* 0: CSVREG_STATE_MAX_LINE */
  int *files;           /* duplicates of the regular files read, to read a line again */
  size_t nfiles, open;  /* open: how many of them are not -1 */
  size_t keep, kept;    /* KEEP_BYTES (or set), and the line bytes held */
  size_t bound;         /* 0, or the longest line the first state's terms allow */
  csvreg_meatset *meat; /* during csvreg_stateset_read_any_fd: meat lines go here */
  /* The first state's line as it arrives (json_head.c), to stop a line
   * that cannot be JSON early. head_at: where its JSON starts in the line
   * (SIZE_MAX: not yet found). */
  csvreg__jhead head;
  size_t head_at;
  /* The current line's head (state_head.c): a version 3 line declares its
   * terms and text first and is bounded by them. */
  int decl_kind;
  csvreg__state_head decl;
  /* States from a pipe past the budget go to an unlinked temporary file
   * (index spool in files, -1: none yet) and are read again from there
   * when merged, as states of regular files are: spool_end is its size;
   * spool_failed: it could not be made or written, so they are held. */
  int spool;
  uint64_t spool_end;
  int spool_failed;
};

/* For tests only: CSVREG_TEST_STATE_KEEP=BYTES lowers (or raises) the bytes
 * of line text held before states are dropped and read again, so that the
 * one-at-a-time merge runs on small states (tests/faults/bounds.sh);
 * documented in docs/limits.md. Not a setting for users. */
static size_t keep_bytes(void) {
  const char *e = getenv("CSVREG_TEST_STATE_KEEP");
  char *end;
  if (!e || !*e)
    return KEEP_BYTES;
  unsigned long long v = strtoull(e, &end, 10);
  return *end || v > SIZE_MAX ? KEEP_BYTES : (size_t)v;
}

csvreg_status csvreg_stateset_new(csvreg_stateset **out, csvreg_error *err) {
  *out = calloc(1, sizeof **out);
  if (*out) {
    (*out)->keep = keep_bytes();
    (*out)->head_at = SIZE_MAX;
    (*out)->spool = -1;
  }
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
  for (size_t i = 0; i < s->nfiles; i++)
    if (s->files[i] >= 0)
      close(s->files[i]);
  free(s->files);
  free(s->v);
  free(s);
}

void csvreg_stateset_set_max_line(csvreg_stateset *s, size_t bytes) { s->max_line = bytes; }

void csvreg__stateset_set_keep(csvreg_stateset *s, size_t bytes) { s->keep = bytes; }

size_t csvreg_stateset_count(const csvreg_stateset *s) { return s->n; }

static size_t max_line(const csvreg_stateset *s) {
  size_t m = s->max_line ? s->max_line : CSVREG_STATE_MAX_LINE;
  return s->bound && s->bound < m ? s->bound : m;
}

/* The first state's line, before any state bounds the others (set_bound):
 * its lexer (json_head.c) stops a line that cannot be JSON text in the
 * block where that shows (0). Its length keeps the fixed cap otherwise: the
 * term count comes after the O(T^2) numbers (keys are sorted), and "inputs",
 * which comes before, does not bound it (a version 1 state of
 * `y ~ poly(x, 50, raw = TRUE)` has 2 inputs and 50 terms, and no "formula"
 * member says so). */
static size_t first_line_bound(const csvreg__jhead *h) { return h->bad ? 0 : SIZE_MAX; }

/* Feeds the first line's new bytes head[.., len) to its lexer. */
static size_t first_line_limit(csvreg_stateset *s, const char *head, size_t len) {
  if (s->n)
    return SIZE_MAX;
  if (s->head_at == SIZE_MAX) {
    size_t i = 0;
    while (i < len && (head[i] == ' ' || head[i] == '\t'))
      i++;
    if (i < len && head[i] != '{') { /* a Hadoop key<TAB> first */
      const char *tab = memchr(head, '\t', len);
      i = len;
      if (tab)
        for (i = (size_t)(tab + 1 - head); i < len && (head[i] == ' ' || head[i] == '\t');)
          i++;
    }
    if (i >= len)
      return SIZE_MAX;
    s->head_at = i;
    csvreg__jhead_init(&s->head, NULL, 0);
  }
  size_t at = s->head_at + s->head.fed;
  if (len > at)
    csvreg__jhead_feed(&s->head, head + at, len - at);
  return first_line_bound(&s->head);
}

static csvreg_status too_long(const csvreg_stateset *s, const char *source, uint64_t line,
                              csvreg_error *err) {
  if (s->decl_kind == STATE_HEAD_BAD)
    csvreg__err_set(err, CSVREG_E_FORMAT,
                    "not a valid csvreg state: the line begins with a \"bounds\" member that "
                    "is not {\"terms\": T, \"text\": N} (T at most %d, closed within 256 "
                    "bytes)",
                    CSVREG_MAX_TERMS);
  else if (s->decl_kind == STATE_HEAD_OTHER && STATE_OTHER_MAX < max_line(s))
    csvreg__err_set(err, CSVREG_E_FORMAT,
                    "not a valid csvreg state: the line is longer than %zu bytes and begins "
                    "with neither \"bounds\" (version 3) nor \"checksum\" (versions 1 and 2)",
                    STATE_OTHER_MAX);
  else if (s->decl_kind == STATE_HEAD_BOUNDS && s->decl.bound < max_line(s))
    csvreg__err_set(err, CSVREG_E_FORMAT,
                    "not a valid csvreg state: the line is longer than %zu bytes, more than its "
                    "\"bounds\" allow (%zu terms and %zu bytes of text besides the numbers; a "
                    "damaged line, or lines of concurrent writers interleaved: each writer must "
                    "write whole lines)",
                    s->decl.bound, s->decl.terms, s->decl.text);
  else if (s->bound && s->bound == max_line(s))
    csvreg__err_set(err, CSVREG_E_FORMAT,
                    "not a valid csvreg state: the line is longer than %zu bytes, more than a "
                    "state of the %zu terms of %s:%llu takes",
                    max_line(s), json_array_size(json_object_get(s->v[0].obj, "terms")),
                    s->v[0].source, (unsigned long long)s->v[0].line);
  else
    csvreg__err_set(
        err, CSVREG_E_FORMAT,
        "not a valid csvreg state: the line is longer than %zu bytes, more than a state of "
        "%d terms takes",
        max_line(s), CSVREG_MAX_TERMS);
  csvreg__err_at(err, source, line, 0, 0, NULL);
  return CSVREG_E_FORMAT;
}

/* Once a state of fixed terms is loaded, the states merged with it have
 * the same terms (check_same), so their lines are bounded by those: the
 * numbers of T terms, (T + 2)(T + 3) / 2 + 2 (T + 2) hex floats and one
 * count an input, at most 32 bytes each, and the names and provenance,
 * twice what the first state's took, plus 16 MiB (a longer source path,
 * more byte ranges). Open states of categorical variables (not
 * "selected") keep their terms' count open: the fixed cap holds. */
static void set_bound(csvreg_stateset *s, const json_t *obj) {
  if (json_is_false(json_object_get(obj, "selected")))
    return;
  size_t t = json_array_size(json_object_get(obj, "terms"));
  size_t in = json_array_size(json_object_get(obj, "inputs"));
  char *names = json_dumps(obj, JSON_COMPACT);
  if (!names || t > CSVREG_MAX_TERMS || in > CSVREG_MAX_FIELDS) {
    free(names);
    return;
  }
  size_t numbers = (t + 2) * (t + 3) / 2 + 2 * (t + 2) + in;
  s->bound = numbers * 32 + 2 * strlen(names) + ((size_t)16 << 20);
  free(names);
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

/* The JSON of a state line parsed and checked into *whole and *acc (both
 * NULL for a blank line). */
static csvreg_status parse_line(const char *text, size_t len, json_t **whole, csvreg_accum **acc,
                                csvreg_error *err) {
  *whole = NULL;
  *acc = NULL;
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    len--;
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  if (i == len)
    return CSVREG_OK; /* blank */
  i = csvreg__line_json_start(text, len);
  /* The big arrays are read without a tree (state_scan.c): one 2000-column
   * line parsed as a whole tree took 420 MB. */
  csvreg__jscan scan;
  memset(&scan, 0, sizeof scan);
  csvreg_status st = csvreg__state_parse_scan(text + i, len - i, whole, &scan, err);
  if (!st)
    st = csvreg__state_from_json_big(*whole, scan.big, scan.nbig, acc, err);
  csvreg__jscan_free(&scan);
  if (st) {
    json_decref(*whole);
    *whole = NULL;
  }
  return st;
}

/* One line, from files[file] at `off` (file -1: it cannot be read again). */
static csvreg_status add_line(csvreg_stateset *s, const char *text, size_t len, const char *source,
                              uint64_t line, int file, uint64_t off, csvreg_error *err) {
  if (!source)
    source = "";
  size_t full = len;
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    len--;
  /* a line that arrived whole was not bounded as it came: its own
   * declaration (version 3) or the fixed cap */
  s->decl_kind = csvreg__state_line_head(text, len, &s->decl);
  size_t most = max_line(s);
  if (s->decl_kind == STATE_HEAD_BOUNDS && s->decl.bound < most)
    most = s->decl.bound;
  if (s->decl_kind == STATE_HEAD_OTHER && STATE_OTHER_MAX < most)
    most = STATE_OTHER_MAX;
  if (len > most || s->decl_kind == STATE_HEAD_BAD)
    return too_long(s, source, line, err);
  s->decl_kind = STATE_HEAD_MORE;
  json_t *whole = NULL, *obj = NULL;
  csvreg_accum *acc = NULL;
  char *src = NULL;
  csvreg_status st = parse_line(text, len, &whole, &acc, err);
  if (!st && !whole)
    return CSVREG_OK; /* blank */
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
  e->obj = obj;
  e->checksum = json_string_value(json_object_get(obj, "checksum"));
  csvreg__merge_key_of(json_object_get(obj, "meta"), e->checksum, &e->key);
  e->file = file;
  e->off = off;
  e->len = full;
  /* Held while the budget lasts (a line that cannot be read again always
   * is); the others were checked whole and are read again when merged. */
  if (file < 0 || s->kept + full <= s->keep) {
    e->acc = acc;
    s->kept += full;
  } else {
    csvreg_accum_free(acc);
  }
  if (s->n == 1)
    set_bound(s, obj);
  return CSVREG_OK;
}

csvreg_status csvreg_stateset_add_text(csvreg_stateset *s, const char *text, size_t len,
                                       const char *source, uint64_t line, csvreg_error *err) {
  return add_line(s, text, len, source, line, -1, 0, err);
}

/* The longest meat line held: a million clusters of 100 coefficients as
 * hex floats is about 2.5 GB. */
#define MEAT_MAX_LINE ((size_t)1 << 32)

/* The bound of the line head[0, len) so far: what a version 3 line
 * declares first (state_head.c), or for older lines the first line's
 * lexer and the bound the first state set; never past max_line. */
static size_t line_limit(csvreg_stateset *s, const char *head, size_t len) {
  size_t m = max_line(s);
  if (s->decl_kind == STATE_HEAD_MORE && len)
    s->decl_kind = csvreg__state_line_head(head, len, &s->decl);
  if (s->decl_kind == STATE_HEAD_BAD)
    return 0;
  if (s->decl_kind == STATE_HEAD_BOUNDS)
    return s->decl.bound < m ? s->decl.bound : m;
  if (s->decl_kind == STATE_HEAD_OTHER && STATE_OTHER_MAX < m)
    m = STATE_OTHER_MAX;
  size_t f = first_line_limit(s, head, len);
  return f < m ? f : m;
}

static size_t ops_limit(void *ctx, const char *head, size_t len) {
  csvreg_stateset *s = ctx;
  if (s->meat && csvreg_meat_line(head, len))
    return MEAT_MAX_LINE;
  return line_limit(s, head, len);
}

static csvreg_status ops_too_long(void *ctx, const char *head, size_t len, const char *source,
                                  uint64_t line, csvreg_error *err) {
  csvreg_stateset *s = ctx;
  if (!(s->meat && csvreg_meat_line(head, len))) {
    if (s->decl_kind != STATE_HEAD_BAD && s->decl_kind != STATE_HEAD_BOUNDS && !s->n &&
        s->head_at != SIZE_MAX && s->head.bad) {
      csvreg__err_set(err, CSVREG_E_FORMAT,
                      "not a valid csvreg state: %s at byte %zu of the line: not JSON text",
                      s->head.why, s->head_at + s->head.bad_at + 1);
      csvreg__err_at(err, source, line, 0, 0, NULL);
      return CSVREG_E_FORMAT;
    }
    return too_long(s, source, line, err);
  }
  csvreg__err_set(err, CSVREG_E_FORMAT,
                  "not a valid csvreg meat state: the line is longer than %zu bytes",
                  (size_t)MEAT_MAX_LINE);
  csvreg__err_at(err, source, line, 0, 0, NULL);
  return CSVREG_E_FORMAT;
}

/* The temporary file of the states of pipes (TMPDIR, or /tmp), removed
 * from its directory at once: it goes when the set is freed or the
 * process ends, however it ends. */
static int spool_open(csvreg_stateset *s) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir)
    dir = "/tmp";
  size_t n = strlen(dir) + sizeof "/.csvreg-merge-XXXXXX";
  char *path = malloc(n);
  int *f = realloc(s->files, (s->nfiles + 1) * sizeof *f);
  if (f)
    s->files = f;
  int fd = -1;
  if (path && f) {
    snprintf(path, n, "%s/.csvreg-merge-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd >= 0) {
      unlink(path);
      (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
      s->files[s->nfiles] = fd;
      s->spool = (int)s->nfiles++;
    }
  }
  free(path);
  return fd >= 0 ? 0 : -1;
}

/* A line of a pipe that the budget does not hold, copied to the spool:
 * its index in files and *off there, or -1 (then it is held). */
static int spool_line(csvreg_stateset *s, const char *text, size_t len, uint64_t *off) {
  if (s->spool_failed || (s->spool < 0 && spool_open(s))) {
    s->spool_failed = 1;
    return -1;
  }
  int fd = s->files[s->spool];
  for (size_t done = 0; done < len;) {
    ssize_t w = pwrite(fd, text + done, len - done, (off_t)(s->spool_end + done));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) { /* ENOSPC, EFBIG (ulimit -f): held from here on */
      s->spool_failed = 1;
      return -1;
    }
    done += (size_t)w;
  }
  *off = s->spool_end;
  s->spool_end += len;
  return s->spool;
}

static csvreg_status ops_add(void *ctx, const char *text, size_t len, const char *source,
                             uint64_t line, uint64_t off, int seekable, csvreg_error *err) {
  csvreg_stateset *s = ctx;
  s->head_at = SIZE_MAX; /* the next line is a new one */
  s->decl_kind = STATE_HEAD_MORE;
  int is_meat = s->meat && csvreg_meat_line(text, len);
  csvreg_status st;
  if (is_meat) {
    st = csvreg_meatset_add_text(s->meat, text, len, source, line, err);
  } else {
    /* the file was duplicated (last in files) when it is seekable; a
     * pipe's line past the budget is copied to the spool first */
    int file = seekable && s->nfiles && s->files[s->nfiles - 1] >= 0 ? (int)s->nfiles - 1 : -1;
    size_t j = csvreg__line_json_start(text, len);
    int blank = j >= len || text[j] == '\n' || text[j] == '\r';
    if (!seekable && !blank && s->kept + len > s->keep)
      file = spool_line(s, text, len, &off);
    st = add_line(s, text, len, source, line, file, off, err);
  }
  if (!st && s->meat && s->n && csvreg_meatset_count(s->meat)) {
    csvreg__err_set(err, CSVREG_E_FORMAT,
                    "the input mixes accumulator states (of 'fit --emit-state') and meat "
                    "states (of 'fit --emit-state --vcov ... -m MODEL'): merge each kind on "
                    "its own");
    csvreg__err_at(err, source, line, 0, 0, NULL);
    st = CSVREG_E_FORMAT;
  }
  return st;
}

csvreg_status csvreg_stateset_read_any_fd(csvreg_stateset *s, csvreg_meatset *meat, int fd,
                                          const char *source, csvreg_error *err) {
  /* A regular file is kept open (a duplicate of fd) so that states can be
   * read again when merged rather than held; past KEEP_FILES files, or
   * without a descriptor to spare (EMFILE), its states are held. */
  struct stat sb;
  int dup_fd = -1;
  if (s->open < KEEP_FILES && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
      (dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0)
    s->open++;
  int *f = realloc(s->files, (s->nfiles + 1) * sizeof *f);
  if (!f) {
    if (dup_fd >= 0)
      close(dup_fd);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  s->files = f;
  s->files[s->nfiles++] = dup_fd;
  s->meat = meat;
  csvreg__line_ops ops = {s, ops_limit, ops_add, ops_too_long};
  csvreg_status st = csvreg__lines_read_fd(fd, source, &ops, err);
  s->meat = NULL;
  return st;
}

csvreg_status csvreg_stateset_read_fd(csvreg_stateset *s, int fd, const char *source,
                                      csvreg_error *err) {
  return csvreg_stateset_read_any_fd(s, NULL, fd, source, err);
}

/* The accumulator of a state not held, read again from its file: the same
 * line, or the file changed since it was checked (CSVREG_E_IO). */
static csvreg_status reload(const csvreg_stateset *s, const entry *e, csvreg_accum **out,
                            csvreg_error *err) {
  *out = NULL;
  char *buf = malloc(e->len ? e->len : 1);
  if (!buf)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  size_t got = 0;
  int fd = s->files[e->file];
  while (got < e->len) {
    ssize_t r = pread(fd, buf + got, e->len - got, (off_t)(e->off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  json_t *whole = NULL;
  csvreg_status st = CSVREG_E_IO;
  if (got == e->len) {
    csvreg_error e2;
    csvreg_error_clear(&e2);
    st = parse_line(buf, e->len, &whole, out, &e2);
    if (!st && (!whole || !e->checksum || !json_is_string(json_object_get(whole, "checksum")) ||
                strcmp(json_string_value(json_object_get(whole, "checksum")), e->checksum)))
      st = CSVREG_E_IO;
    if (st == CSVREG_E_NOMEM)
      csvreg__err_set(err, st, "out of memory");
  }
  free(buf);
  json_decref(whole);
  if (st && st != CSVREG_E_NOMEM) {
    csvreg_accum_free(*out);
    *out = NULL;
    st = csvreg__err_set(err, CSVREG_E_IO,
                         "the file changed while it was merged: the state read again is not "
                         "the one checked");
    csvreg__err_at(err, e->source, e->line, 0, 0, NULL);
  }
  return st;
}

static int cmp_entry(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  int c = csvreg__merge_key_cmp(&a->key, &b->key);
  if (c)
    return c;
  /* Same checksum: compare the content, so that the order is total even
   * for a CRC collision (identical states compare equal either way); such
   * states are held (hold_ties). */
  char *ta = json_dumps(a->obj, JSON_COMPACT | JSON_SORT_KEYS);
  char *tb = json_dumps(b->obj, JSON_COMPACT | JSON_SORT_KEYS);
  c = ta && tb ? strcmp(ta, tb) : 0;
  free(ta);
  free(tb);
  ta = tb = NULL;
  if (!c && a->acc && b->acc && !csvreg_accum_save(a->acc, NULL, &ta, NULL) &&
      !csvreg_accum_save(b->acc, NULL, &tb, NULL))
    c = strcmp(ta, tb);
  free(ta);
  free(tb);
  return c;
}

static int cmp_key_at(const void *pa, const void *pb) {
  const entry *a = *(const entry *const *)pa, *b = *(const entry *const *)pb;
  return csvreg__merge_key_cmp(&a->key, &b->key);
}

/* cmp_entry compares accumulators of states of the same provenance and
 * checksum (a state given twice, or a CRC collision): read those again
 * before sorting, so the order is the same whether they were held or not. */
static csvreg_status hold_ties(csvreg_stateset *s, csvreg_error *err) {
  size_t missing = 0;
  for (size_t i = 0; i < s->n; i++)
    missing += !s->v[i].acc;
  if (!missing || s->n < 2)
    return CSVREG_OK;
  entry **p = malloc(s->n * sizeof *p);
  if (!p)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t i = 0; i < s->n; i++)
    p[i] = &s->v[i];
  qsort(p, s->n, sizeof *p, cmp_key_at);
  csvreg_status st = CSVREG_OK;
  for (size_t i = 0; !st && i < s->n; i++) {
    int tie =
        (i > 0 && !cmp_key_at(&p[i - 1], &p[i])) || (i + 1 < s->n && !cmp_key_at(&p[i], &p[i + 1]));
    if (tie && !p[i]->acc)
      st = reload(s, p[i], &p[i]->acc, err);
  }
  free(p);
  return st;
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

/* A copy of the first state, then the others merged into it in order;
 * a state not held is read again, merged and dropped, one at a time. */
static csvreg_status merge_in_order(const csvreg_stateset *s, csvreg_accum **out,
                                    csvreg_error *err) {
  char *text = NULL;
  csvreg_accum *acc = NULL;
  csvreg_status st;
  if (s->v[0].acc) {
    st = csvreg_accum_save(s->v[0].acc, NULL, &text, err);
    if (!st)
      st = csvreg_accum_load(&acc, text, strlen(text), NULL, err);
    free(text);
  } else {
    st = reload(s, &s->v[0], &acc, err); /* the same bits as a copy */
  }
  for (size_t i = 1; !st && i < s->n; i++) {
    csvreg_accum *read_again = NULL;
    if (!s->v[i].acc && (st = reload(s, &s->v[i], &read_again, err)))
      break;
    st = merge_one(acc, s->v[i].acc ? s->v[i].acc : read_again, err);
    csvreg_accum_free(read_again);
    if (st && err) {
      char why[sizeof err->message];
      snprintf(why, sizeof why, "%s", err->message);
      csvreg__err_set(err, st, "cannot merge: %s", why);
      csvreg__err_at(err, s->v[i].source, s->v[i].line, 0, 0, NULL);
    }
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
  csvreg_status hs = hold_ties(s, err);
  if (hs)
    return hs;
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
