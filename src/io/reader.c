/*
 * reader.c - the CSV record generator: large reads into one reusable buffer, a
 * fast path for plain lines and libcsv (the parser of record) for the rest.
 *
 * The input is cut into lines at LF with memchr. A line that starts while
 * libcsv is between records and holds no '"' and no CR (except one CR right
 * before its LF) cannot mean anything to RFC 4180 but "fields separated by the
 * delimiter", so it is split with memchr and its fields point straight into the
 * read buffer. A line whose quotes all form well-formed quoted fields inside
 * it (RFC 4180: opened right after a delimiter, inner quotes doubled, closed
 * right before a delimiter or the line's end) is split the same way, each such
 * field pointing between its quotes, or, when it holds a doubled quote, into
 * a scratch buffer where it is unescaped. Every other line goes to libcsv in
 * segments that end at each CR or LF, so that line numbers (LF, CRLF and a
 * lone CR each end a line, quoted or not) and record starts are known exactly;
 * its callbacks copy fields into a record store. The two paths must give the
 * same records, lines and errors (tests/reader/test_reader_diff.c and
 * fuzz/fuzz_reader.c prove it).
 *
 * Memory: the buffer (buffer_bytes, grown only to hold one plain line of at
 * most max_record_bytes) plus one record in the store, in libcsv and in the
 * scratch buffer.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_POPULATE */

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__) && defined(__GNUC__) && !defined(CSVREG_NO_SIMD)
#define CSVREG_SPLIT_SIMD 1
#include <immintrin.h>
#else
#define CSVREG_SPLIT_SIMD 0
#endif

#include "decompress.h"
#include "internal.h"
#include "source.h"

/* libcsv's parser states (libcsv.c keeps them private; struct csv_parser
 * exposes pstate). 3.0.3 uses these values. */
#define LIBCSV_ROW_NOT_BEGUN 0
#define LIBCSV_FIELD_BEGUN 2
#define LIBCSV_FIELD_MIGHT_HAVE_ENDED 3

#define DEFAULT_BUFFER ((size_t)1 << 20)
#define MAX_BUFFER ((size_t)1 << 30)
#define NONE SIZE_MAX
#define PAD 64

/* The plain-line splitter (see fast_split_sse2 below). */
typedef size_t (*split_fn)(csvreg_reader *r, size_t pos, size_t *n_out, size_t *last, int *st);

/* Cache of the next position of one byte value ('"' or CR) in the buffer, so
 * that a file without quotes is searched for them once per read, not per line.
 * `at` is the first occurrence at or after the last query's start (NONE: none
 * in [start, scanned)). */
typedef struct byte_cache {
  size_t at;
  size_t scanned;
} byte_cache;

struct csvreg_reader {
  /* input */
  csvreg_source *src; /* owned */
  int eof;
  int64_t size;
  char *source;

  /* buffer: bytes [pos, end) are unparsed; base is the stream offset of buf[0] */
  char *buf;
  size_t buf_mapped; /* buf was mapped (map_buffer): its length, else 0 */
  int buf_borrowed; /* buf is the caller's (csvreg__reader_open_block): not freed, and
                       copied before it would grow */
  size_t cap, pos, end, read_size;
  uint64_t base;
  byte_cache quote_cache, cr_cache;
  uint64_t lf_hint_at, lf_hint_to; /* stream offsets: no LF in [at, to) */
  int bom_done;

  /* options */
  char delim;
  int force_libcsv;
  split_fn split;
  int avx2; /* csvreg__simd_avx2() when opened: for csvreg_record_parse_cells */
  size_t max_record;

  /* position */
  uint64_t line; /* physical line of buf[pos] */
  int prev_cr;   /* the byte before buf[pos] was a CR (a following LF ends no line) */
  uint64_t number;

  /* libcsv */
  struct csv_parser csv;
  int lib_mid_line;  /* part of the current line went to libcsv: the rest must too */
  uint64_t rec_line; /* line where libcsv's current record started */
  size_t rec_raw;    /* input bytes of libcsv's current record so far */
  uint64_t quote_line;
  uint64_t fields_total; /* fields libcsv has submitted (to spot a new quoted field) */
  char *store;
  size_t store_len, store_cap;
  size_t *offs;
  int lib_row_done;
  int lib_overflow; /* 1: too many fields, 2: out of memory */
  char *scratch;    /* the fast path's unescaped quoted fields of one record */
  size_t scratch_cap;

  /* the record handed out */
  csvreg_field *fields;
  size_t nfields, fields_cap;
  /* The last record returned came from the plain fast path and at least
   * READER_SLACK bytes of input follow it in buf (csvreg__reader_slack). */
  int slack;
  int have_pending; /* header = 0: the first record was read ahead */
  csvreg_record pending;

  /* header */
  size_t ncolumns;
  char **names;

  /* sticky end or failure */
  csvreg_status done;
  csvreg_error fail;
};

void csvreg_reader_options_init(csvreg_reader_options *o) {
  if (!o)
    return;
  o->delimiter = ',';
  o->header = 1;
  o->force_libcsv = 0;
  o->max_record_bytes = 0;
  o->buffer_bytes = 0;
  o->decompress = CSVREG_DECOMPRESS_AUTO;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

static csvreg_status fail_at(csvreg_reader *r, csvreg_error *err, csvreg_status st, uint64_t line,
                             uint64_t record, const char *msg) {
  csvreg_error_clear(&r->fail);
  csvreg__err_set(&r->fail, st, "%s", msg);
  csvreg__err_at(&r->fail, r->source, line, record, 0, NULL);
  r->done = st;
  if (err)
    *err = r->fail;
  return st;
}

/* ------------------------------------------------------------------------ */
/* Buffer and input                                                         */

/* A failed read of the source: at the record being read, except a file that
 * changed under the read (source.h), which is the input's, not a line's. */
static csvreg_status read_failed(csvreg_reader *r, csvreg_error *err, const csvreg_error *rerr) {
  if (csvreg__error_is_change(rerr))
    return fail_at(r, err, rerr->status, 0, 0, rerr->message);
  return fail_at(r, err, rerr->status, r->line, r->number + 1, rerr->message);
}

static void cache_reset(byte_cache *c) {
  c->at = NONE;
  c->scanned = 0;
}

/* First position of `ch` in [from, to) of the buffer, or NONE. `from` never
 * decreases between calls except across cache_reset. */
static inline size_t cache_find(csvreg_reader *r, byte_cache *c, int ch, size_t from, size_t to) {
  if (c->at != NONE && c->at >= from)
    return c->at < to ? c->at : NONE;
  if (c->at == NONE && c->scanned >= to)
    return NONE;
  size_t start = (c->at == NONE && c->scanned > from) ? c->scanned : from;
  const char *hit = start < r->end ? memchr(r->buf + start, ch, r->end - start) : NULL;
  c->at = hit ? (size_t)(hit - r->buf) : NONE;
  c->scanned = r->end;
  return c->at != NONE && c->at < to ? c->at : NONE;
}

/* A first buffer of at least this size is mapped with its pages populated
 * (map_buffer). */
#define MAP_MIN ((size_t)256 << 10)

/* `n` zeroed bytes whose pages are there at once, or NULL. Zeroing a fresh
 * 1 MiB malloc'd buffer faults its 257 pages one by one: ~3.5 ms of CPU per
 * reader on the project's VM (~13 us a fault), a reader per piece of a byte
 * range or thread; MAP_POPULATE makes them in one call (~0.3 ms). */
static char *map_buffer(size_t n) {
#if defined(MAP_POPULATE) && defined(MAP_ANONYMOUS)
  void *b = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
                 0);
  return b == MAP_FAILED ? NULL : b;
#else
  (void)n;
  return NULL;
#endif
}

static void free_buffer(csvreg_reader *r) {
  if (r->buf_borrowed)
    return;
  if (r->buf_mapped)
    munmap(r->buf, r->buf_mapped);
  else
    free(r->buf);
  r->buf = NULL;
  r->buf_mapped = 0;
}

static int grow_buffer(csvreg_reader *r, size_t need) {
  size_t cap = r->cap ? r->cap : need;
  while (cap < need)
    cap = cap > SIZE_MAX / 4 ? need : cap * 2;
  /* PAD spare bytes for the last loads of fast_split; zeroed like the rest
   * of the new space so that no load ever sees uninitialized bytes */
  char *b;
  if (!r->buf && cap + PAD >= MAP_MIN && (b = map_buffer(cap + PAD))) {
    r->buf = b; /* zeroed already */
    r->buf_mapped = cap + PAD;
    r->cap = cap;
    return 0;
  }
  if (r->buf_borrowed || r->buf_mapped) { /* the caller's block stays as it is: move to our own */
    if (!(b = malloc(cap + PAD)))
      return -1;
    memcpy(b, r->buf, r->cap);
    free_buffer(r);
    r->buf_borrowed = 0;
  } else if (!(b = realloc(r->buf, cap + PAD))) {
    return -1;
  }
  memset(b + r->cap, 0, cap + PAD - r->cap);
  r->buf = b;
  r->cap = cap;
  return 0;
}

/* Makes room after `end` (dropping parsed bytes, or growing the buffer when the
 * unparsed part fills it) and reads once. Sets eof on end of input. */
static csvreg_status refill(csvreg_reader *r, csvreg_error *err) {
  /* A borrowed block is never written: its unparsed rest moves to our own
   * buffer (the caller may read the block again). */
  if (r->buf_borrowed && r->pos < r->end && grow_buffer(r, r->cap) != 0)
    return fail_at(r, err, CSVREG_E_NOMEM, r->line, r->number + 1, "out of memory");
  if (r->pos == r->end || (r->pos > 0 && r->cap - r->end < r->read_size)) {
    memmove(r->buf, r->buf + r->pos, r->end - r->pos);
    r->base += r->pos;
    r->end -= r->pos;
    r->pos = 0;
    cache_reset(&r->quote_cache);
    cache_reset(&r->cr_cache);
  }
  if (r->end == r->cap && grow_buffer(r, r->cap + 1) != 0)
    return fail_at(r, err, CSVREG_E_NOMEM, r->line, r->number + 1, "out of memory");
  size_t want = r->cap - r->end < r->read_size ? r->cap - r->end : r->read_size;
  size_t n;
  csvreg_error rerr;
  csvreg_error_clear(&rerr);
  if (csvreg_source_read(r->src, r->buf + r->end, want, &n, &rerr) != CSVREG_OK)
    return read_failed(r, err, &rerr);
  r->end += n;
  r->eof = n == 0;
  return CSVREG_OK;
}

static int ensure_fields(csvreg_reader *r, size_t n) {
  if (n <= r->fields_cap)
    return 0;
  size_t cap = r->fields_cap ? r->fields_cap : 64;
  while (cap < n)
    cap *= 2;
  csvreg_field *f = realloc(r->fields, cap * sizeof *f);
  if (!f)
    return -1;
  r->fields = f;
  size_t *o = realloc(r->offs, cap * sizeof *o);
  if (!o)
    return -1;
  r->offs = o;
  r->fields_cap = cap;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* libcsv path                                                              */

static void lib_field(void *data, size_t len, void *arg) {
  csvreg_reader *r = arg;
  r->fields_total++;
  if (r->lib_overflow)
    return;
  if (r->nfields >= CSVREG_MAX_FIELDS) {
    r->lib_overflow = 1;
    return;
  }
  if (ensure_fields(r, r->nfields + 1) != 0) {
    r->lib_overflow = 2;
    return;
  }
  if (r->store_cap - r->store_len < len) {
    size_t cap = r->store_cap;
    while (cap - r->store_len < len)
      cap *= 2;
    char *s = realloc(r->store, cap);
    if (!s) {
      r->lib_overflow = 2;
      return;
    }
    r->store = s;
    r->store_cap = cap;
  }
  if (len)
    memcpy(r->store + r->store_len, data, len);
  r->offs[r->nfields] = r->store_len;
  r->fields[r->nfields].len = len;
  r->store_len += len;
  r->nfields++;
}

static void lib_row(int c, void *arg) {
  (void)c;
  csvreg_reader *r = arg;
  r->lib_row_done = 1;
}

/* libcsv grows its field buffer by a fixed block (128 bytes) per realloc,
 * which is quadratic on a long field; this realloc keeps its capacity in a
 * 16-byte header and grows it geometrically, so most calls return at once. */
static void *lib_realloc(void *p, size_t n) {
  size_t *h = p ? (size_t *)p - 2 : NULL;
  size_t cap = h ? h[0] : 0;
  if (h && cap >= n)
    return p;
  cap = cap > n / 2 ? 2 * cap : n;
  if (cap < 256)
    cap = 256;
  if (cap > SIZE_MAX - 16)
    return NULL;
  size_t *g = realloc(h, cap + 16);
  if (!g)
    return NULL;
  g[0] = cap;
  return g + 2;
}

static void lib_free(void *p) {
  if (p)
    free((size_t *)p - 2);
}

/* Never a space: unquoted fields keep their spaces, as on the fast path. */
static int lib_no_space(unsigned char c) {
  (void)c;
  return 0;
}

static int lib_quote_open(const csvreg_reader *r) {
  return r->csv.quoted &&
         (r->csv.pstate == LIBCSV_FIELD_BEGUN || r->csv.pstate == LIBCSV_FIELD_MIGHT_HAVE_ENDED);
}

static csvreg_status lib_limit_error(csvreg_reader *r, csvreg_error *err, int why) {
  char msg[200];
  if (why == 2)
    return fail_at(r, err, CSVREG_E_NOMEM, r->rec_line, r->number + 1, "out of memory");
  if (why == 1)
    snprintf(msg, sizeof msg, "record starting on line %llu has more than %zu fields",
             (unsigned long long)r->rec_line, (size_t)CSVREG_MAX_FIELDS);
  else
    snprintf(msg, sizeof msg, "record starting on line %llu is longer than %zu bytes",
             (unsigned long long)r->rec_line, r->max_record);
  return fail_at(r, err, CSVREG_E_LIMIT, r->rec_line, r->number + 1, msg);
}

/* Feeds libcsv [pos, next CR or LF] (or to `end`) and advances. */
static csvreg_status lib_step(csvreg_reader *r, csvreg_error *err) {
  const char *s = r->buf + r->pos, *e = r->buf + r->end, *t = s;
  while (t < e && *t != '\n' && *t != '\r')
    t++;
  int term = t < e ? *t : 0;
  size_t len = (size_t)(t - s) + (term ? 1 : 0);
  size_t body = (size_t)(t - s);

  if (r->csv.pstate == LIBCSV_ROW_NOT_BEGUN) {
    r->rec_line = r->line;
    r->rec_raw = 0;
    r->nfields = 0;
    r->store_len = 0;
  }
  if (r->rec_raw > r->max_record || body > r->max_record - r->rec_raw)
    return lib_limit_error(r, err, 0);

  int quoted_before = r->csv.quoted;
  uint64_t fields_before = r->fields_total;
  r->lib_row_done = 0;
  if (csv_parse(&r->csv, s, len, lib_field, lib_row, r) != len)
    return lib_limit_error(r, err, 2);
  if (r->lib_overflow)
    return lib_limit_error(r, err, r->lib_overflow);
  if (lib_quote_open(r) && (!quoted_before || r->fields_total != fields_before))
    r->quote_line = r->line;

  if (term == '\r' || (term == '\n' && !(r->prev_cr && body == 0)))
    r->line++;
  r->prev_cr = term == '\r';
  /* The fast path may only start right after an LF (a CR may be half a CRLF). */
  r->lib_mid_line = term != '\n';
  r->pos += len;
  r->rec_raw += len;
  return CSVREG_OK;
}

/* Hands out libcsv's finished row. */
static void lib_emit(csvreg_reader *r, csvreg_record *rec) {
  for (size_t i = 0; i < r->nfields; i++)
    r->fields[i].ptr = r->store + r->offs[i];
  rec->nfields = r->nfields;
  rec->fields = r->fields;
  rec->line = r->rec_line;
  rec->number = ++r->number;
  r->slack = 0;
  r->lib_row_done = 0;
  r->rec_raw = 0;
}

/* ------------------------------------------------------------------------ */
/* Fast path                                                                */

enum { FAST_RECORD, FAST_SKIP, FAST_NEED_DATA, FAST_DECLINE, FAST_ERROR };
enum { SPLIT_OK, SPLIT_WIDE, SPLIT_NOMEM };

/* Splits the bytes from `pos` at the delimiter, up to the first LF or `end`,
 * whichever comes first, and returns that position. Every field but the last
 * is stored in r->fields (*n of them); the last one starts at *last. Past
 * CSVREG_MAX_FIELDS it stops storing and reports SPLIT_WIDE in *st. */
#if CSVREG_SPLIT_SIMD
/* One pass, 64 bytes at a time, for delimiters and LF together: per-field
 * memchr calls cost more than the scan itself on short numeric fields. The
 * body is in reader_split.h, compiled once for SSE2 (every x86-64) and once
 * for AVX2, which halves the work per block; reader_new picks by CPU. */
static inline __attribute__((always_inline)) void split_masks_sse2(const char *p, char delim,
                                                                   uint64_t *md, uint64_t *ml) {
  const __m128i vd = _mm_set1_epi8(delim), vl = _mm_set1_epi8('\n');
  uint64_t d = 0, l = 0;
  for (int k = 0; k < 4; k++) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    d |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd)) << (16 * k);
    l |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vl)) << (16 * k);
  }
  *md = d;
  *ml = l;
}

static inline __attribute__((always_inline, target("avx2"))) void
split_masks_avx2(const char *p, char delim, uint64_t *md, uint64_t *ml) {
  const __m256i vd = _mm256_set1_epi8(delim), vl = _mm256_set1_epi8('\n');
  __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
  __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
  *md = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, vd)) |
        (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, vd)) << 32;
  *ml = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, vl)) |
        (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, vl)) << 32;
}

#define SPLIT_FN fast_split_sse2
#define SPLIT_ATTR
#define SPLIT_MASKS split_masks_sse2
#include "reader_split.h"
#define SPLIT_FN fast_split_avx2
#define SPLIT_ATTR __attribute__((target("avx2")))
#define SPLIT_MASKS split_masks_avx2
#include "reader_split.h"

static split_fn choose_split(void) {
  return csvreg__simd_avx2() ? fast_split_avx2 : fast_split_sse2;
}
#else
static size_t fast_split_memchr(csvreg_reader *r, size_t pos, size_t *n_out, size_t *last,
                                int *st) {
  const char *b = r->buf;
  const char *lf = memchr(b + pos, '\n', r->end - pos);
  size_t stop = lf ? (size_t)(lf - b) : r->end, start = pos, n = 0;
  const char *d;
  *st = SPLIT_OK;
  while ((d = memchr(b + start, r->delim, stop - start)) != NULL) {
    if (n >= CSVREG_MAX_FIELDS) {
      *st = SPLIT_WIDE;
      break;
    }
    if (n == r->fields_cap && ensure_fields(r, n + 1) != 0) {
      *st = SPLIT_NOMEM;
      break;
    }
    r->fields[n].ptr = b + start;
    r->fields[n++].len = (size_t)(d - b) - start;
    start = (size_t)(d - b) + 1;
  }
  *n_out = n;
  *last = start;
  return stop;
}

static split_fn choose_split(void) { return fast_split_memchr; }
#endif

/* Quoted lines. A line whose quotes all form RFC 4180 quoted fields inside
 * it (a field that opens with '"', doubles every inner '"' and closes right
 * before a delimiter or the line's end) means the same to libcsv as to this
 * split, so it stays on the fast path; any other quote (inside an unquoted
 * field, text after a closing quote, a field still open at the line's end)
 * declines the line to libcsv. The line holds no CR (the caller checked). */
enum { QS_OK, QS_DECLINE, QS_NOMEM };

typedef struct qsplit {
  csvreg_reader *r;
  size_t line_start, line_len;
  size_t start; /* first byte of the current field */
  size_t qopen; /* NONE, or the byte after the current field's opening quote */
  size_t qlast; /* NONE, or the open field's last quote, which may close it */
  int esc;      /* the open field holds a doubled quote */
  size_t n, used;
} qsplit;

/* Stores field [from, to) (a quoted one unescaped when `esc`); the next field
 * starts at `next`. */
static int qs_emit(qsplit *q, size_t from, size_t to, size_t next, int esc) {
  csvreg_reader *r = q->r;
  if (q->n >= CSVREG_MAX_FIELDS)
    return QS_DECLINE; /* libcsv reports the limit */
  if (q->n == r->fields_cap && ensure_fields(r, q->n + 1) != 0)
    return QS_NOMEM;
  const char *s = r->buf + from;
  size_t len = to - from;
  if (esc) {
    /* sized for the whole line at the first use, so earlier fields' pointers
     * into the scratch buffer stay valid */
    if (q->used == 0 && r->scratch_cap < q->line_len) {
      char *b = realloc(r->scratch, q->line_len);
      if (!b)
        return QS_NOMEM;
      r->scratch = b;
      r->scratch_cap = q->line_len;
    }
    char *d = r->scratch + q->used, *d0 = d;
    for (size_t i = 0; i < len; i++) {
      *d++ = s[i];
      i += s[i] == '"'; /* the pair's second quote */
    }
    s = d0;
    len = (size_t)(d - d0);
    q->used += len;
  }
  r->fields[q->n].ptr = s;
  r->fields[q->n++].len = len;
  q->start = next;
  q->qopen = NONE;
  return QS_OK;
}

/* One delimiter or quote at p. */
static inline int qs_event(qsplit *q, size_t p, int is_quote) {
  if (q->qopen == NONE) {
    if (!is_quote)
      return qs_emit(q, q->start, p, p + 1, 0);
    if (p != q->start)
      return QS_DECLINE;
    q->qopen = p + 1;
    q->qlast = NONE;
    q->esc = 0;
    return QS_OK;
  }
  if (q->qlast != NONE) {
    if (p != q->qlast + 1)
      return QS_DECLINE;
    if (!is_quote)
      return qs_emit(q, q->qopen, q->qlast, p + 1, q->esc);
    q->esc = 1;
    q->qlast = NONE;
    return QS_OK;
  }
  if (is_quote)
    q->qlast = p;
  return QS_OK;
}

/* Splits the line [pos, body_end) into r->fields (*n_out of them). */
static int quoted_split(csvreg_reader *r, size_t pos, size_t body_end, size_t *n_out) {
  qsplit q = {r, pos, body_end - pos, pos, NONE, NONE, 0, 0, 0};
  const char *b = r->buf;
  int st = QS_OK;
#if defined(__SSE2__) && defined(__GNUC__) && !defined(CSVREG_NO_SIMD)
  const __m128i vd = _mm_set1_epi8(r->delim), vq = _mm_set1_epi8('"');
  for (size_t i = pos; i < body_end; i += 32) {
    __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
    __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 16));
    uint32_t md = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, vd)) |
                  (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, vd)) << 16;
    uint32_t mq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, vq)) |
                  (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, vq)) << 16;
    if (body_end - i < 32) {
      uint32_t keep = ((uint32_t)1 << (body_end - i)) - 1;
      md &= keep;
      mq &= keep;
    }
    uint32_t m = md | mq;
    while (m && st == QS_OK) {
      unsigned k = (unsigned)__builtin_ctz(m);
      m &= m - 1;
      st = qs_event(&q, i + k, (mq >> k) & 1);
    }
    if (st != QS_OK)
      return st;
  }
#else
  for (size_t i = pos; i < body_end && st == QS_OK; i++)
    if (b[i] == r->delim || b[i] == '"')
      st = qs_event(&q, i, b[i] == '"');
  if (st != QS_OK)
    return st;
#endif
  if (q.qopen == NONE)
    st = qs_emit(&q, q.start, body_end, body_end, 0);
  else if (q.qlast != NONE && q.qlast + 1 == body_end)
    st = qs_emit(&q, q.qopen, q.qlast, body_end, q.esc);
  else
    st = QS_DECLINE;
  *n_out = q.n;
  return st;
}

/* Tries the line at pos. FAST_DECLINE: it must go to libcsv. */
static int fast_line(csvreg_reader *r, csvreg_record *rec, csvreg_error *err) {
  size_t pos = r->pos, stop = r->end, n = 0, last = pos;
  int st = SPLIT_OK;
  /* A long line seen before without its LF: look for the LF from where the
   * last search stopped before splitting it again. */
  if (r->lf_hint_at != r->base + pos ||
      memchr(r->buf + (r->lf_hint_to - r->base), '\n', r->end - (r->lf_hint_to - r->base)) ||
      r->eof)
    stop = r->split(r, pos, &n, &last, &st);
  if (st == SPLIT_OK && n >= CSVREG_MAX_FIELDS)
    st = SPLIT_WIDE;
  if (st == SPLIT_NOMEM) {
    fail_at(r, err, CSVREG_E_NOMEM, r->line, r->number + 1, "out of memory");
    return FAST_ERROR;
  }
  int has_lf = stop < r->end;
  if (!has_lf && !r->eof) {
    /* Only a plain line that may still fit is worth a bigger buffer. */
    r->lf_hint_at = r->base + pos;
    r->lf_hint_to = r->base + r->end;
    if (r->end - pos > r->max_record + 1 ||
        cache_find(r, &r->quote_cache, '"', pos, r->end) != NONE ||
        cache_find(r, &r->cr_cache, '\r', pos, r->end - 1) != NONE)
      return FAST_DECLINE;
    return FAST_NEED_DATA;
  }
  size_t body_end = stop > pos && r->buf[stop - 1] == '\r' ? stop - 1 : stop;
  if (body_end - pos > r->max_record || cache_find(r, &r->cr_cache, '\r', pos, body_end) != NONE)
    return FAST_DECLINE;
  int quoted = cache_find(r, &r->quote_cache, '"', pos, stop) != NONE;
  if (quoted) {
    /* the split above ignored quotes: split again, or leave it to libcsv */
    if (st != SPLIT_OK)
      return FAST_DECLINE;
    int qs = quoted_split(r, pos, body_end, &n);
    if (qs == QS_DECLINE)
      return FAST_DECLINE;
    if (qs == QS_NOMEM) {
      fail_at(r, err, CSVREG_E_NOMEM, r->line, r->number + 1, "out of memory");
      return FAST_ERROR;
    }
  }

  uint64_t line = r->line;
  r->pos = has_lf ? stop + 1 : stop;
  r->line++;
  r->prev_cr = 0;
  if (body_end == pos)
    return FAST_SKIP;
  if (st == SPLIT_WIDE) {
    char msg[200];
    snprintf(msg, sizeof msg, "record starting on line %llu has more than %zu fields",
             (unsigned long long)line, (size_t)CSVREG_MAX_FIELDS);
    fail_at(r, err, CSVREG_E_LIMIT, line, r->number + 1, msg);
    return FAST_ERROR;
  }
  if (!quoted) {
    if (n == r->fields_cap && ensure_fields(r, n + 1) != 0) {
      fail_at(r, err, CSVREG_E_NOMEM, line, r->number + 1, "out of memory");
      return FAST_ERROR;
    }
    r->fields[n].ptr = r->buf + last;
    r->fields[n++].len = body_end - last;
  }
  rec->nfields = n;
  rec->fields = r->fields;
  rec->line = line;
  rec->number = ++r->number;
  /* Quoted fields may live in scratch; plain ones all lie in buf. */
  r->slack = !quoted && r->end - body_end >= READER_SLACK;
  return FAST_RECORD;
}

/* ------------------------------------------------------------------------ */
/* The generator                                                            */

static csvreg_status next_record(csvreg_reader *r, csvreg_record *rec, csvreg_error *err) {
  if (r->done == CSVREG_END)
    return CSVREG_END;
  if (r->done != CSVREG_OK) {
    if (err)
      *err = r->fail;
    return r->done;
  }
  for (;;) {
    if (r->lib_row_done) {
      lib_emit(r, rec);
      return CSVREG_OK;
    }
    if (!r->bom_done) {
      if (r->end - r->pos < 3 && !r->eof) {
        if (refill(r, err) != CSVREG_OK)
          return r->done;
        continue;
      }
      if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0)
        r->pos += 3;
      r->bom_done = 1;
    }
    if (r->pos == r->end) {
      if (!r->eof) {
        if (refill(r, err) != CSVREG_OK)
          return r->done;
        continue;
      }
      if (r->csv.quoted && r->csv.pstate == LIBCSV_FIELD_BEGUN) {
        char msg[200];
        snprintf(msg, sizeof msg, "unterminated quoted field (opened on line %llu)",
                 (unsigned long long)r->quote_line);
        return fail_at(r, err, CSVREG_E_CSV, r->rec_line, r->number + 1, msg);
      }
      if (r->csv.pstate != LIBCSV_ROW_NOT_BEGUN) {
        if (csv_fini(&r->csv, lib_field, lib_row, r) != 0 || r->lib_overflow)
          return lib_limit_error(r, err, r->lib_overflow ? r->lib_overflow : 2);
        continue;
      }
      r->done = CSVREG_END;
      return CSVREG_END;
    }
    if (!r->force_libcsv && !r->lib_mid_line && r->csv.pstate == LIBCSV_ROW_NOT_BEGUN) {
      switch (fast_line(r, rec, err)) {
      case FAST_RECORD: return CSVREG_OK;
      case FAST_SKIP: continue;
      case FAST_ERROR: return r->done;
      case FAST_NEED_DATA:
        if (refill(r, err) != CSVREG_OK)
          return r->done;
        continue;
      default: r->lib_mid_line = 1; break;
      }
    }
    if (lib_step(r, err) != CSVREG_OK)
      return r->done;
  }
}

int csvreg__reader_slack(const csvreg_reader *r) { return r->slack; }
int csvreg__reader_avx2(const csvreg_reader *r) { return r->avx2; }

csvreg_status csvreg_reader_next(csvreg_reader *r, csvreg_record *rec, csvreg_error *err) {
  if (!r || !rec)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_reader_next: NULL argument");
  if (r->have_pending) {
    r->have_pending = 0;
    *rec = r->pending;
    return CSVREG_OK;
  }
  return next_record(r, rec, err);
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

/* Reads the header (or the first record, kept for the first _next). */
static csvreg_status read_header(csvreg_reader *r, int header, csvreg_error *err) {
  csvreg_record rec;
  csvreg_status st = next_record(r, &rec, err);
  if (csvreg_is_error(st))
    return st;
  if (st == CSVREG_END) {
    if (header)
      return fail_at(r, err, CSVREG_E_CSV, r->line, 1, "empty input: no header");
    return CSVREG_OK;
  }
  r->ncolumns = rec.nfields;
  r->names = calloc(rec.nfields + 1, sizeof *r->names);
  if (!r->names)
    return fail_at(r, err, CSVREG_E_NOMEM, rec.line, rec.number, "out of memory");
  for (size_t i = 0; i < rec.nfields; i++) {
    size_t len = header ? rec.fields[i].len : 24;
    /* Names are C strings: a NUL would cut one silently ("ab\0cd" taken
     * for "ab"). A NUL in the first block is refused as binary data before
     * (decompress.c); this is one further on in a long header. */
    const char *nul = header ? memchr(rec.fields[i].ptr, '\0', len) : NULL;
    if (nul) {
      char q[160], msg[320];
      csvreg__err_quote(q, sizeof q, rec.fields[i].ptr, len, 40);
      snprintf(msg, sizeof msg, "the header's name \"%s\" holds a NUL byte (byte %zu of the name)",
               q, (size_t)(nul - rec.fields[i].ptr) + 1);
      fail_at(r, err, CSVREG_E_CSV, rec.line, rec.number, msg);
      r->fail.column = i + 1;
      if (err)
        err->column = i + 1;
      return CSVREG_E_CSV;
    }
    r->names[i] = malloc(len + 1);
    if (!r->names[i])
      return fail_at(r, err, CSVREG_E_NOMEM, rec.line, rec.number, "out of memory");
    if (header) {
      memcpy(r->names[i], rec.fields[i].ptr, len);
      r->names[i][len] = '\0';
    } else
      snprintf(r->names[i], len + 1, "V%zu", i + 1);
  }
  if (!header) {
    r->pending = rec;
    r->have_pending = 1;
  }
  return CSVREG_OK;
}

static csvreg_status reader_new(csvreg_reader **out, const char *source,
                                const csvreg_reader_options *o, csvreg_error *err) {
  csvreg_reader_options def;
  if (!o) {
    csvreg_reader_options_init(&def);
    o = &def;
  }
  if (o->delimiter == '"' || o->delimiter == '\r' || o->delimiter == '\n') {
    csvreg__err_set(err, CSVREG_E_USAGE, "the delimiter cannot be a quote, CR or LF");
    csvreg__err_at(err, source, 0, 0, 0, NULL);
    return CSVREG_E_USAGE;
  }
  if (o->buffer_bytes > MAX_BUFFER) {
    csvreg__err_set(err, CSVREG_E_USAGE, "buffer_bytes above %zu", MAX_BUFFER);
    csvreg__err_at(err, source, 0, 0, 0, NULL);
    return CSVREG_E_USAGE;
  }
  csvreg_reader *r = calloc(1, sizeof *r);
  if (r) {
    r->source = csvreg__xstrdup(source);
    r->read_size = o->buffer_bytes ? o->buffer_bytes : DEFAULT_BUFFER;
    r->store_cap = 256;
    r->store = malloc(r->store_cap);
  }
  if (!r || !r->source || !r->store || grow_buffer(r, r->read_size) != 0 ||
      ensure_fields(r, 64) != 0 || csv_init(&r->csv, CSV_STRICT_FINI) != 0) {
    csvreg_reader_free(r);
    csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    csvreg__err_at(err, source, 0, 0, 0, NULL);
    return CSVREG_E_NOMEM;
  }
  csv_set_delim(&r->csv, (unsigned char)o->delimiter);
  csv_set_space_func(&r->csv, lib_no_space);
  csv_set_realloc_func(&r->csv, lib_realloc);
  csv_set_free_func(&r->csv, lib_free);
  csv_set_blk_size(&r->csv, 4096);
  r->delim = o->delimiter;
  r->force_libcsv = o->force_libcsv;
  r->split = choose_split();
  r->avx2 = csvreg__simd_avx2();
  r->max_record = o->max_record_bytes ? o->max_record_bytes : CSVREG_DEFAULT_MAX_RECORD;
  r->line = 1;
  r->size = -1;
  r->lf_hint_at = UINT64_MAX;
  cache_reset(&r->quote_cache);
  cache_reset(&r->cr_cache);
  *out = r;
  return CSVREG_OK;
}

static csvreg_status reader_start(csvreg_reader **out, csvreg_reader *r,
                                  const csvreg_reader_options *o, csvreg_error *err) {
  csvreg_status st = read_header(r, o ? o->header : 1, err);
  if (st != CSVREG_OK) {
    csvreg_reader_free(r);
    *out = NULL;
    return st;
  }
  *out = r;
  return CSVREG_OK;
}

csvreg_status csvreg__reader_open_source(csvreg_reader **out, csvreg_source *src, const char *name,
                                         const csvreg_reader_options *o,
                                         const reader_origin *origin, csvreg_error *err) {
  if (!out || !src) {
    csvreg_source_free(src);
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg__reader_open_source: NULL argument");
  }
  *out = NULL;
  csvreg_reader *r;
  csvreg_status st = reader_new(&r, name ? name : "<memory>", o, err);
  if (st != CSVREG_OK) {
    csvreg_source_free(src);
    return st;
  }
  r->src = src;
  r->size = csvreg_source_size(src);
  if (origin) {
    r->line = origin->lines + 1;
    r->number = origin->records;
    r->bom_done = origin->mid_input;
  }
  return reader_start(out, r, o, err);
}

csvreg_status csvreg__reader_open_block(csvreg_reader **out, char *buf, size_t len, size_t cap,
                                        const char *name, const csvreg_reader_options *o,
                                        const reader_origin *origin, csvreg_error *err) {
  if (!out || !buf || cap < len + PAD)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg__reader_open_block: bad argument");
  *out = NULL;
  csvreg_source *src;
  csvreg_status st = csvreg_source_new_mem(&src, "", 0, err);
  if (st != CSVREG_OK)
    return st;
  /* a reader with a token buffer, which the block then replaces */
  csvreg_reader_options bo;
  if (o)
    bo = *o;
  else
    csvreg_reader_options_init(&bo);
  bo.buffer_bytes = 1;
  csvreg_reader *r;
  if ((st = reader_new(&r, name ? name : "<memory>", &bo, err)) != CSVREG_OK) {
    csvreg_source_free(src);
    return st;
  }
  memset(buf + len, 0, PAD); /* the last loads of fast_split see zeros */
  free_buffer(r);
  r->buf = buf;
  r->buf_borrowed = 1;
  r->cap = cap - PAD;
  r->end = len;
  r->read_size = len > 0 ? len : 1;
  r->src = src;
  r->size = (int64_t)len;
  if (origin) {
    r->line = origin->lines + 1;
    r->number = origin->records;
    r->bom_done = origin->mid_input;
  }
  return reader_start(out, r, o, err);
}

void csvreg__reader_counted(const csvreg_reader *r, reader_origin *at) {
  at->lines = r->line - 1;
  at->records = r->number;
  at->mid_input = 1;
}

csvreg_status csvreg_reader_open_fd(csvreg_reader **out, int fd, const char *name,
                                    const csvreg_reader_options *o, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_reader_open_fd: NULL argument");
  *out = NULL;
  const char *source = name && strcmp(name, "-") != 0 ? name : fd == 0 ? "<stdin>" : "<fd>";
  /* The first bytes tell compressed input and non-text (decompress.h). */
  csvreg_source *src;
  int format;
  csvreg_status st = csvreg__source_open_input(
      &src, fd, 0, 0, o ? o->decompress : CSVREG_DECOMPRESS_AUTO, &format, err);
  if (st != CSVREG_OK) {
    csvreg__err_at(err, source, 0, 0, 0, NULL);
    return st;
  }
  return csvreg__reader_open_source(out, src, source, o, NULL, err);
}

csvreg_status csvreg_reader_open(csvreg_reader **out, const char *path,
                                 const csvreg_reader_options *o, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_reader_open: NULL argument");
  *out = NULL;
  if (!path || strcmp(path, "-") == 0)
    return csvreg_reader_open_fd(out, 0, "<stdin>", o, err);
  int fd;
  do
    fd = open(path, O_RDONLY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    csvreg__err_set(err, CSVREG_E_IO, "cannot open: %s", strerror(errno));
    csvreg__err_at(err, path, 0, 0, 0, NULL);
    return CSVREG_E_IO;
  }
  csvreg_source *src;
  int format;
  csvreg_status st = csvreg__source_open_input(
      &src, fd, 1, 0, o ? o->decompress : CSVREG_DECOMPRESS_AUTO, &format, err);
  if (st != CSVREG_OK) { /* fd closed */
    csvreg__err_at(err, path, 0, 0, 0, NULL);
    return st;
  }
  return csvreg__reader_open_source(out, src, path, o, NULL, err);
}

csvreg_status csvreg_reader_open_mem(csvreg_reader **out, const void *data, size_t len,
                                     const char *name, const csvreg_reader_options *o,
                                     csvreg_error *err) {
  if (!out || (!data && len))
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_reader_open_mem: NULL argument");
  *out = NULL;
  csvreg_source *src;
  csvreg_status st = csvreg_source_new_mem(&src, data, len, err);
  if (st != CSVREG_OK) {
    csvreg__err_at(err, name ? name : "<memory>", 0, 0, 0, NULL);
    return st;
  }
  /* Bytes in memory need no 1 MiB buffer: one their size (grown as for any
   * input when a line is longer) spares zeroing pages never used, which on
   * the project's VM costs a page fault each (~250 faults, ~4 ms of serial
   * start-up per reader: the pass opens two such readers before the data). */
  csvreg_reader_options mo;
  if (!o || !o->buffer_bytes) {
    if (o)
      mo = *o;
    else
      csvreg_reader_options_init(&mo);
    if (len < DEFAULT_BUFFER)
      mo.buffer_bytes = len + PAD;
    o = &mo;
  }
  return csvreg__reader_open_source(out, src, name ? name : "<memory>", o, NULL, err);
}

void csvreg_reader_free(csvreg_reader *r) {
  if (!r)
    return;
  csvreg_source_free(r->src);
  csv_free(&r->csv);
  if (r->names)
    for (size_t i = 0; i < r->ncolumns; i++)
      free(r->names[i]);
  free(r->names);
  free(r->fields);
  free(r->offs);
  free(r->store);
  free(r->scratch);
  free_buffer(r);
  free(r->source);
  free(r);
}

size_t csvreg_reader_ncolumns(const csvreg_reader *r) { return r ? r->ncolumns : 0; }

const char *const *csvreg_reader_column_names(const csvreg_reader *r) {
  return r ? (const char *const *)r->names : NULL;
}

const char *csvreg_reader_source(const csvreg_reader *r) { return r ? r->source : NULL; }

uint64_t csvreg_reader_bytes(const csvreg_reader *r) { return r ? r->base + r->pos : 0; }

int64_t csvreg_reader_size(const csvreg_reader *r) { return r ? r->size : -1; }
