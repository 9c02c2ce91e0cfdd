/*
 * pass.c - the pass engine (csvreg_pass_* in csvreg.h): one pass over an
 * input (a file, standard input, a byte range of a file) on one or more
 * threads, feeding chunks to a sink (csvreg_sink_type).
 *
 * Three ways to read, one result:
 *   - one worker, the whole input: one reader, chunk after chunk into the
 *     total sink (csvreg_chunk_fill + add_chunk: the plain single pass);
 *   - a regular file with a byte range or threads: the range is cut in one
 *     sub-range per thread, each aligned to records by the boundary scanner
 *     (boundary.h) counting from the file's start, read with pread
 *     (source.h) into its own sink; with a sink that uses record numbers
 *     only in messages, a piece after the first starts speculatively at the
 *     first line end after its cut, checked (and read again if wrong) when
 *     merged (may_speculate, spec_check);
 *   - a stream with threads: the main thread reads blocks, cut after their
 *     last record boundary, that workers parse into their own sinks.
 * Worker sinks are merged into the total in input order by the ordered pool
 * (pool.h), so the answer does not depend on timing. Each piece's reader
 * starts from the lines and records the scanner counted before it, so
 * messages and record numbers (which the split uses) are the whole input's.
 *
 * The header: with one worker and the header (or the width) taken from the
 * first record, the reader reads it as it always has. Otherwise the input's
 * first bytes are read ahead until the first record ends: its reader gives
 * the names (or, with names given, tells whether it is a header to skip) and
 * its length, where the data starts; for a stream those bytes go back in
 * front of the rest.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_POPULATE, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "badlog.h"
#include "boundary.h"
#include "decompress.h"
#include "accum_spec.h"
#include "digest.h"
#include "internal.h"
#include "pass_internal.h"
#include "pool.h"
#include "source.h"

/* A stream's blocks with threads: 512 KiB took less CPU than 1 MiB (the
 * buffers in flight stay nearer in cache for the read's copy and the
 * worker; 256 KiB: more wake-ups), medians of 9 interleaved runs of the
 * clean 2M x 10 file on standard input, 2 threads: 292 against 317 ms. */
#define BLOCK_BYTES ((size_t)512 << 10)
/* ...but a block is one piece merged into the total, and a merge costs
 * O(columns^3) where a block's fold costs O(bytes x columns): on wide rows
 * 512 KiB blocks spent the time in merges (wide 100k x 200 on standard
 * input, 2 threads, medians of 5 quiet runs: 512 KiB 478 ms, 1 MiB 396,
 * 4 MiB 387, 8 MiB 421; one thread 536). So a block holds at least
 * BLOCK_PER_COL2 bytes per column squared (201 columns: 1.3 MB), at most
 * BLOCK_MAX; memory in flight stays O(columns^2). */
#define BLOCK_PER_COL2 ((size_t)32)
#define BLOCK_MAX ((size_t)8 << 20)
/* Spare bytes after a stream block: its reader reads it in place
 * (csvreg__reader_open_block) and its last loads may run this far. */
#define BLOCK_PAD ((size_t)64)
/* Stream blocks' buffers kept for reuse (at most 2N are in flight). */
#define SPARE_MAX 18
#define SNIFF_BYTES ((size_t)1 << 16)
/* A reader's read size in small pieces (below the reader's 256 KiB, from
 * which it maps a fresh buffer). */
#define PIECE_READ_BYTES ((size_t)192 << 10)
/* Small ranges gain nothing from threads: at least this much per thread. */
#define MIN_RANGE_BYTES ((uint64_t)1 << 16)

enum { MODE_SINGLE, MODE_RANGES, MODE_BLOCKS };

struct csvreg_pass {
  csvreg_pass_options o;
  char *source;
  int fd, own_fd, is_file;
  int stdin_file; /* standard input read by byte ranges (stdin_ranges) */
  int64_t size;
  int mode, given, ran;
  /* names: the reader's (MODE_SINGLE without given names) or our own */
  csvreg_reader *reader;
  char **names;
  size_t ncolumns;
  /* where the data starts: offset, and the scanner's state there */
  uint64_t data_start, first_end;
  uint64_t sniffed; /* bytes the sniff read (header and sample) */
  boundary_state at_data;
  unsigned char *text_cols; /* sample_text: [ncolumns] */
  unsigned char *ahead;     /* read-ahead bytes from data_start (MODE_BLOCKS) */
  size_t ahead_len;
  uint64_t reader_base; /* offset of the MODE_SINGLE reader's first byte */
  /* The input as a source (issue 14, open_input): a stream whose first
   * bytes were sniffed, or a decompressed input; NULL: read fd. Handed to
   * the MODE_SINGLE reader; in_view stays for the compressed byte count. */
  csvreg_source *in;
  const csvreg_source *in_view;
  csvreg_pass_info info;
  /* run */
  const csvreg_spec *spec;
  const csvreg_sink_type *type;
  const void *arg;
  void *total;
  int inline_tick;  /* pieces run on the calling thread: report progress there */
  int small_pieces; /* piece_bytes in use: readers read less at a time */
  /* o.digest on a stream: every byte in input order (header by sniff, the
   * rest by the source or read_blocks), so that merge can tell a block
   * delivered twice from two blocks of the same size (issue 15) */
  int digesting;
  csvreg__digest dig;
  _Atomic uint64_t prog_bytes, prog_records;
  /* ranges: where the pieces merged so far end, and the scanner there */
  uint64_t prev_end;
  boundary_state prev_st;
  /* Pieces skim their bytes (quote parity only, csvreg__boundary_skim):
   * prev_st's lines and records mean nothing. The last position whose lines
   * and records are known, for a piece read again (spec_check): counting
   * goes on from there, not from the file's start. */
  uint64_t known_end;
  boundary_state known_st;
  _Atomic size_t spec_redone; /* speculative starts read again (tests) */
  uint64_t start_scanned;     /* csvreg__pass_start_scanned (tests) */
  /* Stream blocks' buffers, returned by the workers for the reader to fill
   * again: a fresh 1 MiB per block (and a reader buffer per block, as
   * before) page-faulted ~19,000 times on the 186 MB file, ~0.2 s of
   * system time on the project's VM; reused, a few hundred. */
  pthread_mutex_t spare_mu;
  unsigned char *spare[SPARE_MAX];
  size_t spare_cap[SPARE_MAX], nspare;
  /* Blocks numbered from 0 (blocks_spec): the reading thread only skims for
   * the quote parity (csvreg__boundary_last_skim), each block's reader counts
   * the block's lines and records, and merge_task adds them up in input
   * order here: the lines and records before the next block to merge. */
  int blocks_spec;
  uint64_t blk_lines, blk_records;
  /* A stream's lanes (CSVREG_SINK_LANES): block i folds into lane[i mod
   * nlanes] on the one worker the pool pins it to (pool.h), and the lanes
   * are merged into the total once, in order, at the end. On wide rows a
   * merge per block (O(columns^3) each; 130 blocks for the 169 MB 100k x
   * 200 file) took about as much CPU as parsing: wide standard input on 2
   * threads cost 0.97 s of CPU against 0.65 s for one thread. */
  void **lane;
  size_t nlanes;
};

void csvreg_pass_options_init(csvreg_pass_options *o) {
  if (!o)
    return;
  memset(o, 0, sizeof *o);
  csvreg_reader_options_init(&o->reader);
}

static csvreg_status fail_src(csvreg_pass *p, csvreg_error *err, csvreg_status st) {
  if (err && !err->source[0])
    csvreg__err_at(err, p->source, err->line, err->record, err->column,
                   err->column_name[0] ? err->column_name : NULL);
  return st;
}

/* Grows *buf to `ncap` bytes, keeping its contents (and *buf on failure). */
static csvreg_status grow(unsigned char **buf, size_t *cap, size_t ncap, csvreg_error *err) {
  unsigned char *t = realloc(*buf, ncap);
  if (!t)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  *buf = t;
  *cap = ncap;
  return CSVREG_OK;
}

/* One read(2) of at most `len` bytes, retried on EINTR; *got 0 at the end. */
static csvreg_status read_some(int fd, unsigned char *buf, size_t len, size_t *got,
                               csvreg_error *err) {
  ssize_t r;
  do
    r = read(fd, buf, len);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return csvreg__err_set(err, CSVREG_E_IO, "read failed: %s", strerror(errno));
  *got = (size_t)r;
  return CSVREG_OK;
}

/* The input's next bytes: through the input's source when there is one. */
static csvreg_status pass_read(csvreg_pass *p, unsigned char *buf, size_t len, size_t *got,
                               csvreg_error *err) {
  return p->in ? csvreg_source_read(p->in, buf, len, got, err)
               : read_some(p->fd, buf, len, got, err);
}

/* The source a MODE_SINGLE reader takes over: the input's, or fd's. */
static csvreg_status input_source(csvreg_pass *p, csvreg_source **src, csvreg_error *err) {
  if (!p->in)
    return csvreg_source_new_fd(src, p->fd, 0, err);
  *src = p->in;
  p->in = NULL;
  return CSVREG_OK;
}

/* Compressed and non-text input (src/io/decompress.h): the first bytes
 * decide. A compressed file is read as a stream, so --threads cuts the
 * decompressed bytes in blocks; a byte range of it cannot be found. */
static csvreg_status open_input(csvreg_pass *p, csvreg_error *err) {
  if (p->o.reader.decompress == CSVREG_DECOMPRESS_NONE)
    return CSVREG_OK;
  int format;
  csvreg_status st =
      csvreg__source_open_input(&p->in, p->fd, 0, p->is_file, p->o.reader.decompress, &format, err);
  if (st || !format)
    return st;
  p->in_view = p->in;
  p->info.compression = csvreg__compression_name(format);
  if (p->o.has_range)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "%s-compressed input is not splittable: a byte range (--range, "
                           "--bytes) cannot start mid-stream; use --threads N, which splits the "
                           "decompressed stream, or pre-split the uncompressed file",
                           p->info.compression);
  p->is_file = 0;
  p->size = -1;
  return CSVREG_OK;
}

static char *dupn(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static csvreg_status names_copy(csvreg_pass *p, const char *const *v, size_t n, csvreg_error *err) {
  p->names = calloc(n + 1, sizeof *p->names);
  if (!p->names)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  p->ncolumns = n;
  for (size_t i = 0; i < n; i++)
    if (!(p->names[i] = dupn(v[i], strlen(v[i]))))
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return CSVREG_OK;
}

/* --columns A,B,C or --header-line "A,B,C" (read as a CSV record). */
static csvreg_status names_given(csvreg_pass *p, csvreg_error *err) {
  if (p->o.columns) {
    size_t n = 1;
    for (const char *c = p->o.columns; *c; c++)
      n += *c == ',';
    p->names = calloc(n + 1, sizeof *p->names);
    if (!p->names)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    const char *c = p->o.columns;
    for (size_t i = 0; i < n; i++) {
      size_t len = strcspn(c, ",");
      if (!(p->names[p->ncolumns++] = dupn(c, len)))
        return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      c += len + (c[len] == ',');
    }
    return CSVREG_OK;
  }
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  ro.delimiter = p->o.reader.delimiter;
  csvreg_reader *r = NULL;
  csvreg_status st = csvreg_reader_open_mem(&r, p->o.header_line, strlen(p->o.header_line),
                                            "--header-line", &ro, err);
  if (!st)
    st = names_copy(p, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), err);
  csvreg_reader_free(r);
  return st;
}

static int same_record(const csvreg_record *rec, char *const *names, size_t n) {
  if (rec->nfields != n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (rec->fields[i].len != strlen(names[i]) ||
        memcmp(rec->fields[i].ptr, names[i], rec->fields[i].len) != 0)
      return 0;
  return 1;
}

/* Reads the input's first bytes until its first record has ended (or the
 * input ends, or a record longer than the limit), then decides the names
 * and where the data starts. */
#define SAMPLE_BYTES ((size_t)256 << 10)

/* The records that whole lines of d[0, len) hold, up to p->o.sample_text,
 * tallied per column into tally[2j] (numbers) and tally[2j + 1] (text);
 * returns how many were read. */
static size_t sample_tally(const csvreg_pass *p, const unsigned char *d, size_t len,
                           const csvreg_na *na, size_t *tally) {
  csvreg_reader_options ro = p->o.reader;
  ro.header = 0;
  csvreg_reader *r = NULL;
  csvreg_error e2;
  size_t k = 0;
  memset(tally, 0, 2 * (p->ncolumns ? p->ncolumns : 1) * sizeof *tally);
  if (len && csvreg_reader_open_mem(&r, d, len, p->source, &ro, &e2) == CSVREG_OK) {
    csvreg_record rec;
    for (; k < p->o.sample_text && csvreg_reader_next(r, &rec, &e2) == CSVREG_OK; k++)
      for (size_t j = 0; j < rec.nfields && j < p->ncolumns; j++) {
        const csvreg_field *f = &rec.fields[j];
        double v;
        if (!csvreg_na_match(na, f->ptr, f->len))
          tally[2 * j + (csvreg_parse_double(f->ptr, f->len, &v) != CSVREG_OK)]++;
      }
  }
  csvreg_reader_free(r);
  return k;
}

/* Whole lines of the *n bytes read: up to the last line end unless at end
 * of input. */
static size_t whole_lines(const unsigned char *d, size_t len, int eof) {
  if (!eof)
    while (len > 0 && d[len - 1] != '\n')
      len--;
  return len;
}

/* sample_text: the first records after the header, read ahead into buf
 * (they go back in front of the rest with it), mark the columns that hold
 * text. Only whole lines are read (up to the last line end unless at end of
 * input); a sample that ends in a broken record just stops there. The input
 * is read in the steps it always was (the buffer doubled up to at least
 * SAMPLE_BYTES of data), but no further once the whole lines read hold
 * p->o.sample_text records: the clean 2M x 10 file's 512 records are in the
 * first 64 KiB the sniff read, and the other ~450 KiB it read ahead were
 * ~110 page faults of fresh heap memory (~10-13 us each on the project's
 * VM, ~1.3 ms before any thread starts) for nothing. The records tallied are
 * the same either way (the first sample_text of the same bytes). */
static csvreg_status sample_text(csvreg_pass *p, unsigned char **buf, size_t *cap, size_t *n,
                                 int eof, csvreg_error *err) {
  csvreg_status st = CSVREG_OK;
  if (!(p->text_cols = calloc(p->ncolumns ? p->ncolumns : 1, 1)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg_na *na = NULL;
  if ((st = csvreg_na_new(&na, p->o.sample_na, err)))
    return st;
  /* per column: sampled cells that are numbers, and that are text */
  size_t *tally = calloc(2 * (p->ncolumns ? p->ncolumns : 1), sizeof *tally);
  if (!tally) {
    csvreg_na_free(na);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  /* records started in the data read so far (the scanner's count, a cheap
   * gate: the reader's own count decides) */
  boundary_state s;
  csvreg__boundary_init(&s);
  size_t counted = (size_t)p->data_start;
  int tallied = 0;
  while (!eof && *n - (size_t)p->data_start < SAMPLE_BYTES) {
    csvreg__boundary_count(&s, *buf + counted, *n - counted);
    counted = *n;
    if (s.records > p->o.sample_text) {
      const unsigned char *d = *buf + p->data_start;
      size_t len = whole_lines(d, *n - (size_t)p->data_start, eof);
      if (sample_tally(p, d, len, na, tally) >= p->o.sample_text) {
        tallied = 1;
        break;
      }
    }
    if (*n == *cap && (st = grow(buf, cap, *cap * 2, err)))
      goto done;
    size_t got = 0;
    if ((st = pass_read(p, *buf + *n, *cap - *n, &got, err)))
      goto done;
    eof = got == 0;
    *n += got;
  }
  if (!tallied) {
    const unsigned char *d = *buf + p->data_start;
    sample_tally(p, d, whole_lines(d, *n - (size_t)p->data_start, eof), na, tally);
  }
  /* Text when at least half the non-missing cells are text. R's read.csv
   * makes a column text on one such cell; here a numeric column with a few
   * malformed cells ("1,5", "inf") stays numeric, so its first bad cell is
   * a data error naming line and value (with the factor()/--factor hint)
   * instead of a factor of every number seen. */
  for (size_t j = 0; j < p->ncolumns; j++)
    p->text_cols[j] = tally[2 * j + 1] > 0 && tally[2 * j + 1] >= tally[2 * j];
done:
  free(tally);
  csvreg_na_free(na);
  return st;
}

const unsigned char *csvreg_pass_text_columns(const csvreg_pass *p) {
  return p ? p->text_cols : NULL;
}

static csvreg_status sniff(csvreg_pass *p, csvreg_error *err) {
  size_t max_rec =
      p->o.reader.max_record_bytes ? p->o.reader.max_record_bytes : CSVREG_DEFAULT_MAX_RECORD;
  size_t limit = max_rec + SNIFF_BYTES, cap = SNIFF_BYTES, n = 0, scanned = 0;
  boundary_state s;
  csvreg__boundary_init(&s);
  unsigned char *buf = malloc(cap);
  csvreg_reader *r = NULL;
  csvreg_status st = CSVREG_OK;
  if (!buf)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  int eof = 0;
  while (!eof) {
    if (n == cap) {
      if (cap >= limit)
        break; /* the reader below reports the record too long */
      if ((st = grow(&buf, &cap, cap * 2 < limit ? cap * 2 : limit, err)))
        goto done;
    }
    size_t got = 0;
    if ((st = pass_read(p, buf + n, cap - n, &got, err)))
      goto done;
    eof = got == 0;
    n += got;
    if (csvreg__boundary_next(&s, buf + scanned, n - scanned, eof, 1) != BOUNDARY_NONE)
      break;
    scanned = n;
  }
  /* The reader, not the scanner, says where the first record ends: they
   * differ only on input that is not RFC 4180 (a stray quote). */
  csvreg_reader_options ro = p->o.reader;
  ro.header = p->given ? 0 : ro.header;
  if ((st = csvreg_reader_open_mem(&r, buf, n, p->source, &ro, err)))
    goto done;
  uint64_t first = csvreg_reader_bytes(r);
  if (first > 0 && first < n && buf[first - 1] == '\r' && buf[first] == '\n')
    first++; /* libcsv ends a record at the CR of a CRLF */
  p->first_end = first;
  if (p->given) {
    csvreg_record rec;
    st = csvreg_reader_next(r, &rec, err);
    if (csvreg_is_error(st))
      goto done;
    /* Without a header option (--no-header) every record is data. */
    p->data_start =
        p->o.reader.header && st == CSVREG_OK && same_record(&rec, p->names, p->ncolumns) ? first
                                                                                          : 0;
    st = CSVREG_OK;
  } else {
    if ((st = names_copy(p, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), err)))
      goto done;
    p->data_start = ro.header ? first : 0;
  }
  p->info.header_bytes = p->data_start;
  if (p->digesting) /* the data read ahead is digested where it is yielded */
    csvreg__digest_update(&p->dig, buf, (size_t)p->data_start);
  csvreg__boundary_init(&p->at_data);
  csvreg__boundary_count(&p->at_data, buf, (size_t)p->data_start);
  if (p->o.sample_text && (st = sample_text(p, &buf, &cap, &n, eof, err)))
    goto done;
  p->sniffed = n;
  if (p->mode == MODE_RANGES)
    goto done;
  /* The bytes read ahead of the data go back in front of the rest. */
  p->ahead_len = n - (size_t)p->data_start;
  memmove(buf, buf + p->data_start, p->ahead_len);
  p->ahead = buf;
  buf = NULL;
done:
  csvreg_reader_free(r);
  free(buf);
  return st;
}

/* A regular file on standard input (`- < FILE`) with threads is read by
 * byte ranges like a named file, so the workers pread their own pieces
 * instead of the calling thread copying every byte into stream blocks and
 * skimming them for quotes (fit --threads 2 - < clean 2M x 10 file: 1.29x
 * one thread against 1.5x for the named file, lead's quiet run). Only when
 * the descriptor is at the file's start (a shell that read part of it
 * before us means the data starts at its offset: read that as a stream),
 * and not when the caller wants the stream's own things: a digest of every
 * byte (states, -o: streamed input is known by it), stream blocks of a
 * given size (block_bytes: tests of the block path, CSVREG_STDIN_BLOCK).
 * csvreg_pass_run leaves the offset at the end, as reading it would. */
static int stdin_ranges(const csvreg_pass *p, const csvreg_pass_options *o) {
  return o->threads > 1 && !o->has_range && !o->digest && !o->block_bytes &&
         lseek(p->fd, 0, SEEK_CUR) == 0;
}

csvreg_status csvreg_pass_open(csvreg_pass **out, const csvreg_pass_options *o, csvreg_error *err) {
  if (!out || !o)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_pass_open: NULL argument");
  *out = NULL;
  if (o->columns && o->header_line)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "give the names by columns or by header_line, not both");
  csvreg_pass *p = calloc(1, sizeof *p);
  if (!p)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  p->o = *o;
  p->fd = -1;
  int stdin_ = !o->path || strcmp(o->path, "-") == 0;
  p->source = csvreg__xstrdup(stdin_ ? "<stdin>" : o->path);
  if (!p->source) {
    free(p);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  p->info.source = p->source;
  p->info.file_size = -1;
  p->info.workers = 1;
  csvreg_status st = CSVREG_OK;
  if (stdin_) {
    p->fd = 0;
  } else {
    do
      p->fd = open(o->path, O_RDONLY);
    while (p->fd < 0 && errno == EINTR);
    if (p->fd < 0) {
      st = csvreg__err_set(err, CSVREG_E_IO, "cannot open: %s", strerror(errno));
      goto fail;
    }
    p->own_fd = 1;
  }
  struct stat sb;
  p->size = -1;
  if (fstat(p->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    /* Standard input is a stream even when it is a file (read once, in
     * order; its size still shows progress), except in stdin_ranges. */
    p->stdin_file = stdin_ && stdin_ranges(p, o);
    p->is_file = !stdin_ || p->stdin_file;
    p->size = (int64_t)sb.st_size;
  }
  if ((st = open_input(p, err)))
    goto fail;
  p->given = o->columns || o->header_line;
  p->digesting = o->digest && !p->is_file;
  csvreg__digest_init(&p->dig);
  size_t threads = o->threads ? o->threads : 1;
  if (o->has_range && !p->is_file) {
    st = csvreg__err_set(err, CSVREG_E_USAGE, "byte ranges need a regular file");
    goto fail;
  }
  p->mode = o->has_range || (threads > 1 && p->is_file) ? MODE_RANGES
            : threads > 1                               ? MODE_BLOCKS
                                                        : MODE_SINGLE;
  if (p->given && (st = names_given(p, err)))
    goto fail;
  if (p->mode == MODE_SINGLE && !p->given && !o->sample_text) {
    /* The plain pass: the reader reads the header as it always has. */
    csvreg_source *src = NULL;
    if ((st = input_source(p, &src, err)))
      goto fail;
    if (p->digesting)
      csvreg__source_set_digest(src, &p->dig);
    if ((st = csvreg__reader_open_source(&p->reader, src, p->source, &o->reader, NULL, err)))
      goto fail;
    p->info.header_bytes = o->reader.header ? csvreg_reader_bytes(p->reader) : 0;
    p->ncolumns = csvreg_reader_ncolumns(p->reader);
  } else {
    if ((st = sniff(p, err)))
      goto fail;
    if (p->mode == MODE_SINGLE) {
      csvreg_source *src = NULL;
      csvreg_reader_options ro = o->reader;
      ro.header = 0;
      reader_origin org = {p->at_data.lines, p->at_data.records, p->data_start > 0};
      if ((st = input_source(p, &src, err)))
        goto fail;
      if (p->digesting)
        csvreg__source_set_digest(src, &p->dig);
      void *ahead = p->ahead;
      p->ahead = NULL;
      if ((st = csvreg_source_prepend(src, ahead, p->ahead_len, err))) {
        csvreg_source_free(src);
        goto fail;
      }
      if ((st = csvreg__reader_open_source(&p->reader, src, p->source, &ro, &org, err)))
        goto fail;
      p->reader_base = p->data_start;
    }
  }
  *out = p;
  return CSVREG_OK;
fail:
  st = csvreg_pass_blame_input(p, st, err);
  fail_src(p, err, st);
  csvreg_pass_free(p);
  return st;
}

/* The header-time blame of a compressed input (decompress.c) */
csvreg_status csvreg_pass_blame_input(csvreg_pass *p, csvreg_status st, csvreg_error *err) {
  return p && !p->ran && p->in_view
             ? csvreg__source_blame_header((csvreg_source *)p->in_view, st, err)
             : st;
}

void csvreg_pass_free(csvreg_pass *p) {
  if (!p)
    return;
  if (p->total && p->type)
    p->type->free(p->total);
  csvreg_reader_free(p->reader);
  if (p->names)
    for (size_t i = 0; i < p->ncolumns; i++)
      free(p->names[i]);
  free(p->names);
  free(p->ahead);
  free(p->text_cols);
  csvreg_source_free(p->in);
  if (p->own_fd && p->fd >= 0)
    close(p->fd);
  free(p->source);
  free(p);
}

size_t csvreg_pass_ncolumns(const csvreg_pass *p) { return p ? p->ncolumns : 0; }

const char *const *csvreg_pass_column_names(const csvreg_pass *p) {
  if (!p)
    return NULL;
  if (p->names)
    return (const char *const *)p->names;
  return p->reader ? csvreg_reader_column_names(p->reader) : NULL;
}

const csvreg_pass_info *csvreg_pass_get_info(const csvreg_pass *p) { return p ? &p->info : NULL; }

size_t csvreg__pass_spec_redone(const csvreg_pass *p) {
  return p ? atomic_load(&p->spec_redone) : 0;
}

uint64_t csvreg__pass_start_scanned(const csvreg_pass *p) { return p ? p->start_scanned : 0; }

int csvreg__pass_reads_ranges(const csvreg_pass *p) { return p && p->mode == MODE_RANGES; }

uint64_t csvreg__pass_sniffed(const csvreg_pass *p) { return p ? p->sniffed : 0; }

/* A chunk for the pass's spec: the caller's chunk options, or the defaults
 * with its chunk_rows. */
static csvreg_status make_chunk(const csvreg_pass *p, csvreg_chunk **out, csvreg_error *err) {
  return p->o.chunk ? csvreg_chunk_new_with(out, p->spec, p->o.chunk, err)
                    : csvreg_chunk_new(out, p->spec, p->o.chunk_rows, err);
}

/* ---- one worker ---- */

static csvreg_status run_single(csvreg_pass *p, csvreg_error *err) {
  csvreg_chunk *chunk = NULL;
  csvreg_status st = make_chunk(p, &chunk, err);
  if (!st && p->o.on_bad) /* --skip-bad reports */
    csvreg_chunk_on_bad(chunk, p->o.on_bad, p->o.on_bad_ctx);
  uint64_t records = 0;
  while (st == CSVREG_OK) {
    st = csvreg_chunk_fill(chunk, p->reader, err);
    if (csvreg_is_error(st))
      break;
    uint64_t n = csvreg_chunk_counts(chunk)->records;
    p->info.chunks += n > 0;
    records += n;
    csvreg__sink_plan_chunk(p->type, p->arg, chunk); /* once, after the first fill */
    csvreg_status st2 = p->type->add_chunk(p->total, chunk, err);
    if (st2 != CSVREG_OK) {
      st = st2;
      break;
    }
    if (p->o.progress)
      p->o.progress(p->o.progress_ctx, p->reader_base + csvreg_reader_bytes(p->reader), records,
                    p->size);
  }
  csvreg_chunk_free(chunk);
  if (st == CSVREG_END)
    st = CSVREG_OK;
  p->info.records = records;
  p->info.bytes = p->reader_base + csvreg_reader_bytes(p->reader) - p->info.header_bytes;
  if (p->is_file && !p->given) {
    p->info.has_range = 1;
    p->info.range_end = (uint64_t)p->size;
    p->info.aligned_start = p->info.header_bytes;
    p->info.aligned_end = p->info.header_bytes + p->info.bytes;
    p->info.file_size = p->size;
  }
  return st;
}

/* ---- pieces on workers: ranges and blocks ---- */

typedef struct task {
  /* a range [start, end) to align, or a block of memory */
  uint64_t start, end;
  uint64_t index; /* the piece's place in input order (create_piece) */
  unsigned char *data;
  size_t len, cap; /* cap: bytes of data that can be read (BLOCK_PAD more are there) */
  reader_origin origin;
  /* results */
  uint64_t aligned_start, aligned_end;
  void *sink;
  uint64_t records, chunks;
  badlog *bad; /* the rows skip_bad dropped, told when merged (on_bad) */
  /* A range piece's scanner state at aligned_end (lines and records
   * relative to its start when it started speculatively). */
  boundary_state end_st;
  /* Speculative start (run_ranges): the piece starts at the first boundary
   * after its cut as if no quote were open there, with its own lines and
   * records counted from 0; merge_task checks the start against the piece
   * before it and runs it again (spec_redo) when it was wrong or failed. */
  int spec, spec_failed;
  int redo;               /* read again in merge_task: into its own sink, not a lane */
  csvreg_status first_st; /* a failed block's first reading's status */
  uint64_t quotes; /* quotes skimmed before the end cut (range_fold, skim) */
  /* A stream block read with its records numbered from 0 (blocks_spec):
   * the scanner's state at its start (lines and records 0); end_st then
   * holds its own lines and records once read (block_fold). */
  boundary_state start_st;
} task;

/* t->spec of a lone byte range (run_range, lone_start). */
#define SPEC_LONE 2

/* Every record of `r` into a new sink of the pass's type. */
static csvreg_status fold(csvreg_pass *p, task *t, csvreg_reader *r, void **local,
                          csvreg_error *err) {
  csvreg_status st;
  if (!*local && (st = make_chunk(p, (csvreg_chunk **)local, err)))
    return st;
  csvreg_chunk *chunk = *local;
  /* --skip-bad reports: kept with the piece, told in input order when it is
   * merged (the worker's chunk is told into this piece's log) */
  if (p->o.on_bad) {
    if (!t->bad && !(t->bad = csvreg__badlog_new()))
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    csvreg_chunk_on_bad(chunk, csvreg__badlog_add, t->bad);
  }
  void **sink = p->nlanes && !t->redo ? &p->lane[t->index % p->nlanes] : &t->sink;
  if (!*sink &&
      (st = p->type->create_piece ? p->type->create_piece(sink, p->spec, p->arg, t->index, err)
                                  : p->type->create(sink, p->spec, p->arg, err)))
    return st;
  uint64_t seen = 0;
  do {
    st = csvreg_chunk_fill(chunk, r, err);
    if (csvreg_is_error(st))
      return st;
    uint64_t n = csvreg_chunk_counts(chunk)->records;
    t->chunks += n > 0;
    t->records += n;
    csvreg__sink_plan_chunk(p->type, p->arg, chunk); /* once, after the first fill */
    csvreg_status st2 = p->type->add_chunk(*sink, chunk, err);
    if (st2)
      return st2;
    uint64_t b = csvreg_reader_bytes(r);
    atomic_fetch_add(&p->prog_bytes, b - seen);
    atomic_fetch_add(&p->prog_records, n);
    seen = b;
    if (p->inline_tick && p->o.progress)
      p->o.progress(p->o.progress_ctx, p->info.header_bytes + atomic_load(&p->prog_bytes),
                    atomic_load(&p->prog_records), p->size);
  } while (st != CSVREG_END);
  return CSVREG_OK;
}

/* Reads the piece from the boundary `off` (scanner state `at` there, whose
 * lines and records number the piece's records) up to the first boundary at
 * or after t->end, folding it into t->sink. With skim, t->end_st's lines and
 * records are not counted: only a piece read again (spec_check) needs them,
 * and counting them cost ~6% of the CPU time of `--threads 2` (the reader
 * counts its own lines for its messages anyway). */
static csvreg_status range_fold(csvreg_pass *p, task *t, uint64_t off, const boundary_state *at,
                                int skim, void **local, csvreg_error *err) {
  csvreg_reader *r = NULL;
  csvreg_source *src = NULL;
  boundary_range *br = calloc(1, sizeof *br);
  if (!br)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  br->fd = p->fd;
  br->off = off;
  br->cut = t->end > off ? t->end : off;
  br->size = (uint64_t)p->size;
  br->st = *at;
  br->skim = skim;
  t->aligned_start = off;
  t->origin.lines = at->lines;
  t->origin.records = at->records;
  t->origin.mid_input = off > 0;
  csvreg_reader_options ro = p->o.reader;
  ro.header = 0;
  /* Many small pieces: a reader each, whose default 1 MiB buffer is fresh
   * memory every time (its page faults and cold cache cost predict's 2 MiB
   * pieces more than the pieces saved); a smaller one comes from the heap
   * the reader before it freed. */
  if (p->small_pieces && !ro.buffer_bytes)
    ro.buffer_bytes = PIECE_READ_BYTES;
  csvreg_status st = csvreg__source_new_custom(&src, csvreg__boundary_range_read, NULL, br, err);
  if (!st)
    st = csvreg__reader_open_source(&r, src, p->source, &ro, &t->origin, err);
  if (!st)
    st = fold(p, t, r, local, err);
  t->aligned_end = br->off;
  t->end_st = br->st;
  t->quotes = br->quotes;
  csvreg_reader_free(r);
  free(br);
  return st;
}

/* How far past its cut a speculative piece looks for its first line end
 * before it gives up speculating (a record longer than this: count). */
#define SPEC_WINDOW ((size_t)64 << 10)

/* The first boundary at or after `cut` as if no quote were open before it
 * (the byte before still tells a CR or a line end). *found 0: none within
 * SPEC_WINDOW bytes. */
static csvreg_status spec_start(csvreg_pass *p, uint64_t cut, uint64_t *at, boundary_state *s,
                                int *found, csvreg_error *err) {
  *found = 0;
  uint64_t size = (uint64_t)p->size, from = cut - 1;
  size_t want = size - from < SPEC_WINDOW + 1 ? (size_t)(size - from) : SPEC_WINDOW + 1;
  unsigned char *b = malloc(want ? want : 1);
  if (!b)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  size_t got = 0;
  while (got < want) {
    ssize_t r = pread(p->fd, b + got, want - got, (off_t)(from + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(b);
      return csvreg__err_set(err, CSVREG_E_IO, "read failed: %s", strerror(errno));
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  if (got >= 1) {
    csvreg__boundary_init(s);
    s->cr = b[0] == '\r';
    s->at_end = b[0] == '\r' || b[0] == '\n';
    int eof = from + got >= size;
    size_t k = csvreg__boundary_next(s, b + 1, got - 1, eof, 0);
    if (k != BOUNDARY_NONE) {
      *at = cut + k;
      s->lines = s->records = 0; /* counted from the piece's start */
      *found = 1;
    }
  }
  free(b);
  return CSVREG_OK;
}

/* A piece's results dropped before it is read again. */
static void piece_reset(csvreg_pass *p, task *t) {
  p->type->free(t->sink);
  t->sink = NULL;
  csvreg__badlog_free(t->bad); /* fold logs the piece's dropped rows again */
  t->bad = NULL;
  t->records = t->chunks = 0;
  t->spec_failed = 0;
}

/* A lone byte range (--range I/N, one thread) has no piece before it to
 * check a guessed start against, so its start is found from the file's
 * start, but skimmed (quote parity only, csvreg__boundary_skim) rather than
 * counted: lines and records are numbered from the range's start, for
 * sinks that use them only in error messages (may_speculate). When the
 * range fails, run_range reads it again from a counted start and that
 * reading's error, with the whole file's numbers, is the answer. */
static csvreg_status lone_start(csvreg_pass *p, task *t, uint64_t *off, boundary_state *at,
                                csvreg_error *err) {
  boundary_file f;
  csvreg_status st = csvreg__boundary_file_open(&f, p->fd, (uint64_t)p->size, err);
  if (st)
    return st;
  f.skim = 1;
  f.pos = p->data_start; /* the header was counted when it was read */
  f.st = p->at_data;
  st = csvreg__boundary_file_seek(&f, t->start, 0, err);
  p->start_scanned += f.pos - p->data_start; /* one range: one thread */
  *off = f.pos;
  *at = f.st;
  at->lines = at->records = 0;
  csvreg__boundary_file_close(&f);
  return st;
}

/* A lone range read from a guessed start (spec_start: the first line end
 * after the cut as if no quote were open there), which skips the skim from
 * the file's start (for `--range 2/2`, half the file: ~15% of the range's
 * CPU time). The guess is proven, at no cost for the last range, when no
 * quote follows the cut: a quote open at the cut would have to close after
 * it (a file that ends inside a quote fails in the range holding its opening
 * quote). The bytes from the guess to the end cut were skimmed while read
 * (t->quotes); the few before the guess and those after the end cut are
 * searched here, so a range uses this only where the bytes after it are
 * fewer than those before it. Else the start is found as lone_start does,
 * and the reading stands when the guess is that start (the first boundary
 * after a cut with and without an open quote are never the same byte).
 * *how: what came of it (enum guess). */
enum guess { GUESS_NONE, GUESS_READ, GUESS_WRONG, GUESS_FAILED };

static csvreg_status lone_guess(csvreg_pass *p, task *t, void **local, enum guess *how,
                                csvreg_error *err) {
  *how = GUESS_NONE;
  uint64_t off, size = (uint64_t)p->size;
  boundary_state at;
  int found = 0;
  csvreg_status st = spec_start(p, t->start, &off, &at, &found, err);
  if (st || !found)
    return st;
  csvreg_error e;
  csvreg_error_clear(&e);
  if (range_fold(p, t, off, &at, 1, local, &e) != CSVREG_OK) {
    *how = GUESS_FAILED; /* a misplaced start, or relative numbers */
    return CSVREG_OK;
  }
  int quoted = t->quotes > 0;
  if (!quoted)
    st = csvreg__boundary_file_has_quote(p->fd, size, t->start - 1, off, &quoted, err);
  if (!st && !quoted)
    st = csvreg__boundary_file_has_quote(p->fd, size, t->end > off ? t->end : off, size, &quoted,
                                         err);
  uint64_t true_off = off;
  if (!st && quoted)
    st = lone_start(p, t, &true_off, &at, err);
  if (!st)
    *how = true_off == off ? GUESS_READ : GUESS_WRONG;
  return st;
}

static csvreg_status run_range(void *ctx, void *tp, void **local, csvreg_error *err) {
  csvreg_pass *p = ctx;
  task *t = tp;
  boundary_state at;
  uint64_t off;
  csvreg_status st;
  if (t->start <= p->data_start) /* never inside the header */
    t->spec = 0;
  if (t->spec == SPEC_LONE) {
    t->spec = 0; /* nothing for merge_task to check */
    enum guess how = GUESS_NONE;
    if ((uint64_t)p->size - t->end < t->start - p->data_start &&
        (st = lone_guess(p, t, local, &how, err)))
      return st;
    if (how == GUESS_READ)
      return CSVREG_OK;
    if (how != GUESS_NONE) {
      atomic_fetch_add(&p->spec_redone, 1);
      piece_reset(p, t);
      csvreg_chunk_free(*local);
      *local = NULL;
      if (how == GUESS_FAILED) /* read it again, counted: its error is the answer */
        goto counted;
    }
    if ((st = lone_start(p, t, &off, &at, err)))
      return st;
    csvreg_error e;
    csvreg_error_clear(&e);
    if (range_fold(p, t, off, &at, 1, local, &e) == CSVREG_OK)
      return CSVREG_OK;
    atomic_fetch_add(&p->spec_redone, 1);
    piece_reset(p, t);
    csvreg_chunk_free(*local);
    *local = NULL;
  }
  if (t->spec) {
    int found = 0;
    if ((st = spec_start(p, t->start, &off, &at, &found, err)))
      return st;
    if (found) {
      csvreg_error e;
      csvreg_error_clear(&e);
      /* Its failure may be a misplaced start or carry relative numbers:
       * merge_task reads the piece again and reports what that finds. */
      if (range_fold(p, t, off, &at, 1, local, &e) != CSVREG_OK) {
        t->spec_failed = 1;
        csvreg_chunk_free(*local); /* this worker's next piece starts afresh */
        *local = NULL;
      }
      return CSVREG_OK;
    }
    t->spec = 0;
  }
counted:;
  /* The start: counted from the file's start (record numbers and quote
   * parity); the end: found while the piece is read (boundary_range). */
  boundary_file f;
  st = csvreg__boundary_file_open(&f, p->fd, (uint64_t)p->size, err);
  if (!st)
    st =
        csvreg__boundary_file_seek(&f, t->start > p->data_start ? t->start : p->data_start, 0, err);
  off = f.pos;
  at = f.st;
  csvreg__boundary_file_close(&f);
  if (!st)
    st = range_fold(p, t, off, &at, 1, local, err);
  return st;
}

static csvreg_status block_fold(csvreg_pass *p, task *t, void **local, csvreg_error *err) {
  csvreg_reader *r = NULL;
  csvreg_reader_options ro = p->o.reader;
  ro.header = 0;
  /* A block is in memory: the reader reads it where it is. */
  csvreg_status st = csvreg__reader_open_block(&r, (char *)t->data, t->len, t->cap + BLOCK_PAD,
                                               p->source, &ro, &t->origin, err);
  if (!st)
    st = fold(p, t, r, local, err);
  if (!st) {
    /* The block's own lines and records (blocks_spec adds them up in
     * block_check), as its reader counted them while parsing: counting them
     * again with the scanner (csvreg__boundary_count) was ~4% of the CPU of
     * `cat FILE | fit --threads 2 -` (perf samples, count_blocks_avx2). A
     * block ends where a record does, so they are what a reader of the
     * whole input counts there. */
    reader_origin end;
    csvreg__reader_counted(r, &end);
    t->end_st = t->start_st;
    t->end_st.lines = end.lines - t->origin.lines;
    t->end_st.records = end.records - t->origin.records;
  }
  csvreg_reader_free(r);
  return st;
}

static csvreg_status run_block(void *ctx, void *tp, void **local, csvreg_error *err) {
  csvreg_pass *p = ctx;
  task *t = tp;
  if (!t->spec)
    return block_fold(p, t, local, err);
  /* Numbered from 0: a failure may carry relative numbers, so merge_task
   * reads the block again with the true ones and reports what that finds. */
  csvreg_error e;
  csvreg_error_clear(&e);
  if ((t->first_st = block_fold(p, t, local, &e)) != CSVREG_OK) {
    t->spec_failed = 1;
    csvreg_chunk_free(*local); /* this worker's next block starts afresh */
    *local = NULL;
  }
  return CSVREG_OK;
}

/* A block numbered from 0, in input order (merge_task): read again with
 * the lines and records before it when it failed, then its own added to
 * them. */
static csvreg_status block_check(csvreg_pass *p, task *t, csvreg_error *err) {
  if (t->spec_failed) {
    atomic_fetch_add(&p->spec_redone, 1);
    piece_reset(p, t);
    t->origin.lines = p->blk_lines;
    t->origin.records = p->blk_records;
    t->redo = 1;
    void *local = NULL;
    csvreg_status st = block_fold(p, t, &local, err);
    csvreg_chunk_free(local);
    if (st)
      return st;
    /* A block fails the same with any numbers; its lane holds part of the
     * first reading, so the answer would be wrong. */
    if (p->nlanes) /* e.g. an allocation that failed once: its status stands */
      return t->first_st == CSVREG_E_NOMEM
                 ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory")
                 : csvreg__err_set(err, CSVREG_E_INTERNAL,
                                   "a block failed once and not when read again");
  }
  p->blk_lines += t->end_st.lines;
  p->blk_records += t->end_st.records;
  return CSVREG_OK;
}

/* The scanner's state, lines and records counted, at `pos`, a boundary at
 * or after p->known_end: counted on from there (pieces only skim). */
static csvreg_status count_to(csvreg_pass *p, uint64_t pos, boundary_state *at, csvreg_error *err) {
  boundary_file f;
  csvreg_status st = csvreg__boundary_file_open(&f, p->fd, (uint64_t)p->size, err);
  if (st)
    return st;
  f.pos = p->known_end;
  f.st = p->known_st;
  st = csvreg__boundary_file_seek(&f, pos, 0, err);
  if (!st) {
    *at = f.st;
    p->known_end = f.pos;
    p->known_st = f.st;
  }
  csvreg__boundary_file_close(&f);
  return st;
}

/* A speculative piece, checked in input order against the end of the piece
 * before it (p->prev_end). Its start was right when it is that end (the
 * first boundary after the cut with and without an open quote differ). Else,
 * or when it failed, it is read again from that end, here, with the lines
 * and records before it counted: the answer, and any error with its line and
 * record, are those of a counted start. */
static csvreg_status spec_check(csvreg_pass *p, task *t, csvreg_error *err) {
  boundary_state at;
  csvreg_status st;
  if (!t->spec_failed && t->aligned_start == p->prev_end) {
    /* its dropped rows were numbered from the piece's start (none: a
     * speculating pass has no --skip-bad reports, may_speculate) */
    if (t->bad) {
      if ((st = count_to(p, p->prev_end, &at, err)))
        return st;
      csvreg__badlog_shift(t->bad, at.lines);
    }
    return CSVREG_OK;
  }
  atomic_fetch_add(&p->spec_redone, 1);
  piece_reset(p, t);
  if ((st = count_to(p, p->prev_end, &at, err)))
    return st;
  void *local = NULL;
  st = range_fold(p, t, p->prev_end, &at, 0, &local, err);
  csvreg_chunk_free(local);
  if (!st) { /* counted: the next piece read again counts on from its end */
    p->known_end = t->aligned_end;
    p->known_st = t->end_st;
  }
  return st;
}

static csvreg_status merge_task(void *ctx, void *tp, csvreg_error *err) {
  csvreg_pass *p = ctx;
  task *t = tp;
  if (p->mode == MODE_RANGES) {
    csvreg_status st = t->spec ? spec_check(p, t, err) : CSVREG_OK;
    if (st)
      return st;
    p->prev_end = t->aligned_end;
    p->prev_st = t->end_st;
  } else if (t->spec) {
    csvreg_status st = block_check(p, t, err);
    if (st)
      return st;
  }
  csvreg_status st =
      t->bad ? csvreg__badlog_replay(t->bad, p->source, p->o.on_bad, p->o.on_bad_ctx, err)
             : CSVREG_OK;
  if (!st && t->sink) /* none: the block is in its lane */
    st = p->type->merge(p->total, t->sink, err);
  if (!st) {
    p->info.records += t->records;
    p->info.chunks += t->chunks;
  }
  return st;
}

static void release_range(void *ctx, void *tp) {
  csvreg_pass *p = ctx;
  task *t = tp;
  p->type->free(t->sink);
  t->sink = NULL;
  csvreg__badlog_free(t->bad);
  t->bad = NULL;
}

/* Stream blocks' buffers are mapped with their pages populated: a block
 * in flight is fresh memory for the `read` that fills it, and its 257 pages
 * faulted one at a time cost ~3.5 ms of CPU on the project's VM (~13 us a
 * fault; ~1,700 faults, ~20 ms, per 186 MB stream with 2 threads: the
 * 2N + 1 buffers in flight), populated in one call ~0.3 ms. A buffer of
 * `cap` data bytes and BLOCK_PAD more, rounded up to whole pages: *real is
 * the data bytes it holds. */
static unsigned char *block_buf_new(size_t cap, size_t *real) {
  long pg = sysconf(_SC_PAGESIZE);
  size_t page = pg > 0 ? (size_t)pg : 4096, bytes = (cap + BLOCK_PAD + page - 1) / page * page;
  void *b = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS
#ifdef MAP_POPULATE
                     | MAP_POPULATE
#endif
                 ,
                 -1, 0);
  if (b == MAP_FAILED)
    return NULL;
  *real = bytes - BLOCK_PAD;
  return b;
}

static void block_buf_free(unsigned char *b, size_t cap) {
  if (b)
    munmap(b, cap + BLOCK_PAD);
}

/* A block's buffer (cap: as block_buf_new's *real) back to the spares, or
 * unmapped when they are full. */
static void spare_put(csvreg_pass *p, unsigned char *buf, size_t cap) {
  if (!buf)
    return;
  pthread_mutex_lock(&p->spare_mu);
  if (p->nspare < SPARE_MAX) {
    p->spare[p->nspare] = buf;
    p->spare_cap[p->nspare++] = cap;
    buf = NULL;
  }
  pthread_mutex_unlock(&p->spare_mu);
  block_buf_free(buf, cap);
}

/* A buffer for at least `cap` bytes of data (plus BLOCK_PAD), *real the
 * bytes it holds: a spare when one is big enough, else a new one with room
 * to spare (the next block's carried-over bytes differ in length), NULL
 * when out of memory. */
static unsigned char *spare_take(csvreg_pass *p, size_t cap, size_t *real) {
  unsigned char *b = NULL;
  size_t have = 0;
  pthread_mutex_lock(&p->spare_mu);
  if (p->nspare) {
    b = p->spare[--p->nspare];
    have = p->spare_cap[p->nspare];
  }
  pthread_mutex_unlock(&p->spare_mu);
  if (b && have >= cap) {
    *real = have;
    return b;
  }
  block_buf_free(b, have);
  return block_buf_new(cap + cap / 8, real);
}

static void release_block(void *ctx, void *tp) {
  release_range(ctx, tp);
  task *t = tp;
  spare_put(ctx, t->data, t->cap);
  free(t);
}

static void free_chunk(void *ctx, void *local) {
  (void)ctx;
  csvreg_chunk_free(local);
}

static void tick(void *ctx) {
  csvreg_pass *p = ctx;
  if (p->o.progress)
    p->o.progress(p->o.progress_ctx, p->info.header_bytes + atomic_load(&p->prog_bytes),
                  atomic_load(&p->prog_records), p->size);
}

/* Piece i starts only after counting the file from its start to its own
 * start (record numbers, quote parity): SCAN_COST is that count's cost per
 * byte against parsing and folding a byte. Measured on the clean 2M-row file
 * with 2 threads (perf samples, 2 vCPUs): counting the first ~100 MB took
 * ~70 ms of the second thread (pread copy, page-cache lookup, mask count),
 * parsing it ~160 ms with both threads busy (a thread parses ~30% slower
 * when the other one runs). Equal pieces would make the last thread finish
 * last by that much; pieces that shrink so that every thread ends together
 * (scan of o_i plus parse of len_i = T for all i) take it back:
 * o_{i+1} = o_i + T - SCAN_COST * o_i, solved for o_n = end. */
#define SCAN_COST 0.35

static void cut_ranges(task *t, uint64_t n, uint64_t start, uint64_t end, int spec) {
  if (spec) {
    /* Only the first piece counts (from the file's start to `start`): it
     * gets that much less to read, the others equal shares. */
    double len = (double)(end - start), T = (len + SCAN_COST * (double)start) / (double)n;
    double first = T - SCAN_COST * (double)start;
    if (first < T / 8)
      first = T / 8;
    double rest = (len - first) / (double)(n - 1);
    for (uint64_t i = 0; i < n; i++) {
      t[i].start = i ? t[i - 1].end : start;
      double o = (double)start + first + rest * (double)i;
      uint64_t e = o < (double)end ? (uint64_t)o : end;
      t[i].end = i + 1 == n ? end : e < t[i].start ? t[i].start : e;
      t[i].spec = i > 0 && t[i].start > 0;
    }
    return;
  }
  double keep = 1.0 - SCAN_COST, kn = 1.0;
  for (uint64_t i = 0; i < n; i++)
    kn *= keep;
  double T = n > 1 ? SCAN_COST * ((double)end - kn * (double)start) / (1.0 - kn) : 0.0;
  double o = (double)start;
  for (uint64_t i = 0; i < n; i++) {
    t[i].start = i ? t[i - 1].end : start;
    o = keep * o + T;
    uint64_t e = o < (double)end ? (uint64_t)o : end;
    if (e < t[i].start)
      e = t[i].start;
    t[i].end = i + 1 == n ? end : e;
  }
}

/* Speculative starts renumber a piece's records after it is read, so they
 * are for sinks that use record numbers only in error messages (which a
 * failed piece's second reading gets right), CSVREG_SINK_SPECULATE: the
 * accumulator, robust errors' meat, eval without --every and --plot,
 * predict's rows. A split (by record number), other sinks and --skip-bad
 * reports (told row by row) count every start. CSVREG_SPECULATE=0 turns it
 * off (tests, A/B timings). */
static int may_speculate(const csvreg_pass *p) {
  const char *e = getenv("CSVREG_SPECULATE");
  if (e && strcmp(e, "0") == 0)
    return 0;
  return !p->o.on_bad && (p->type->flags & CSVREG_SINK_SPECULATE);
}

static csvreg_status run_ranges(csvreg_pass *p, csvreg_error *err) {
  uint64_t size = (uint64_t)p->size, start = 0, end = size;
  if (p->o.has_range) {
    start = p->o.range_start;
    end = p->o.range_end;
    if (start > end)
      return csvreg__err_set(err, CSVREG_E_USAGE, "byte range %llu:%llu: start after end",
                             (unsigned long long)start, (unsigned long long)end);
  }
  if (end > size)
    end = size;
  if (start > end)
    start = end;
  uint64_t n = p->o.threads ? p->o.threads : 1;
  if ((end - start) / n < MIN_RANGE_BYTES)
    n = (end - start) / MIN_RANGE_BYTES ? (end - start) / MIN_RANGE_BYTES : 1;
  const int spec = n > 1 && may_speculate(p);
  /* Workers, and pieces: one per worker, or with piece_bytes (and starts
   * that need no count from the file's start, else each piece would count
   * the whole file before it) as many as make pieces of about that size,
   * 2 per worker in flight. */
  const uint64_t workers = n;
  if (spec && p->o.piece_bytes && (end - start) / p->o.piece_bytes > n) {
    uint64_t piece = p->o.piece_bytes > MIN_RANGE_BYTES ? p->o.piece_bytes : MIN_RANGE_BYTES;
    n = (end - start + piece - 1) / piece;
    p->small_pieces = 1;
  }
  task *t = calloc((size_t)n, sizeof *t);
  if (!t)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  cut_ranges(t, n, start, end, spec);
  for (uint64_t i = 0; i < n; i++)
    t[i].index = i;
  if (n == 1 && p->o.has_range && t[0].start > p->data_start && may_speculate(p))
    t[0].spec = SPEC_LONE;
  p->prev_end = 0;
  csvreg__boundary_init(&p->prev_st);
  p->known_end = p->data_start;
  p->known_st = p->at_data;
  static const pool_ops ops = {run_range, merge_task, release_range, free_chunk, tick};
  pool *pl = NULL;
  /* One range runs on this thread, as a plain pass would. */
  p->inline_tick = n == 1;
  csvreg_status st = csvreg__pool_new(&pl, n > 1 ? (size_t)workers : 0,
                                      n > workers ? 2 * (size_t)workers : (size_t)n, &ops, p, err);
  for (uint64_t i = 0; !st && i < n; i++)
    if (!csvreg__pool_submit(pl, &t[i]))
      break;
  if (!st)
    st = csvreg__pool_finish(pl, err);
  csvreg__pool_free(pl);
  if (!st) {
    p->info.workers = (size_t)workers;
    p->info.has_range = 1;
    p->info.range_start = start;
    p->info.range_end = end;
    p->info.aligned_start = t[0].aligned_start;
    p->info.aligned_end = t[n - 1].aligned_end;
    p->info.bytes = p->info.aligned_end - p->info.aligned_start;
    p->info.file_size = p->size;
  }
  free(t);
  return st;
}

/* The main thread's part of a stream: read, cut after the last record
 * boundary, hand out. Returns the stream's own failure (a read error, a
 * record too long), which counts only if no block before it failed. */
static csvreg_status read_blocks(csvreg_pass *p, pool *pl, csvreg_error *err) {
  size_t bs = p->o.block_bytes;
  if (!bs) {
    size_t nc = p->ncolumns < 513 ? p->ncolumns : 513; /* 513^2 x 32 > BLOCK_MAX */
    bs = nc * nc * BLOCK_PER_COL2;
    bs = bs < BLOCK_BYTES ? BLOCK_BYTES : bs > BLOCK_MAX ? BLOCK_MAX : bs;
  }
  size_t max_rec =
      p->o.reader.max_record_bytes ? p->o.reader.max_record_bytes : CSVREG_DEFAULT_MAX_RECORD;
  /* The first block is as long as the others plus a first record that is
   * data (the former stream reader read that line apart). */
  size_t cap = bs + (p->data_start ? 0 : (size_t)p->first_end), real = 0;
  unsigned char *buf = spare_take(p, cap, &real);
  if (!buf)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  size_t len = 0, grow_base = cap, ahead_off = 0;
  boundary_state s = p->at_data, at;
  uint64_t offset = p->data_start, index = 0;
  int eof = 0;
  csvreg_status st = CSVREG_OK;
  while (!eof || len) {
    while (len < cap && !eof) {
      if (ahead_off < p->ahead_len) { /* the bytes read ahead come first */
        size_t k = p->ahead_len - ahead_off < cap - len ? p->ahead_len - ahead_off : cap - len;
        memcpy(buf + len, p->ahead + ahead_off, k);
        ahead_off += k;
        len += k;
        continue;
      }
      size_t r = 0;
      if ((st = pass_read(p, buf + len, cap - len, &r, err)))
        goto done;
      eof = r == 0;
      len += r;
    }
    if (eof && len == 0)
      break;
    size_t cut = eof              ? len
                 : p->blocks_spec ? csvreg__boundary_last_skim(&s, buf, len, &at)
                                  : csvreg__boundary_last(&s, buf, len);
    if (cut == 0) { /* no record ends in the buffer: grow it */
      if (cap - grow_base >= max_rec) {
        /* numbered blocks: the lines before this one are all counted once
         * the blocks before it are merged (run_blocks) */
        uint64_t line = p->blocks_spec ? 0 : s.lines + 1;
        csvreg__err_set(err, CSVREG_E_LIMIT,
                        "record starting on line %llu is longer than %zu bytes",
                        (unsigned long long)line, max_rec);
        csvreg__err_at(err, p->source, line, 0, 0, NULL);
        st = CSVREG_E_LIMIT;
        goto done;
      }
      size_t ncap = cap * 2 - grow_base > max_rec + grow_base ? max_rec + grow_base : cap * 2;
      if (ncap > real) {
        size_t nreal = 0;
        unsigned char *nb = block_buf_new(ncap, &nreal);
        if (!nb) {
          st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
          goto done;
        }
        memcpy(nb, buf, len);
        block_buf_free(buf, real);
        buf = nb;
        real = nreal;
      }
      cap = ncap;
      continue;
    }
    size_t rest = len - cut, nreal = 0;
    unsigned char *next = eof && !rest ? NULL : spare_take(p, rest + bs, &nreal);
    task *t = calloc(1, sizeof *t);
    if ((!next && !(eof && !rest)) || !t) {
      block_buf_free(next, nreal);
      free(t);
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    if (rest)
      memcpy(next, buf + cut, rest);
    t->data = buf;
    t->index = index++;
    t->len = cut;
    t->cap = real;
    t->origin.mid_input = offset > 0;
    if (p->blocks_spec) {
      t->spec = 1;
      t->start_st = s;
      t->start_st.lines = t->start_st.records = 0;
      if (!eof)
        s = at;
    } else {
      t->origin.lines = s.lines;
      t->origin.records = s.records;
      csvreg__boundary_count(&s, buf, cut);
    }
    if (p->digesting)
      csvreg__digest_update(&p->dig, buf, cut);
    offset += cut;
    p->info.bytes += cut;
    buf = next;
    real = nreal;
    cap = grow_base = rest + bs;
    len = rest;
    if (!csvreg__pool_submit(pl, t))
      break; /* a block before failed: what follows does not matter */
  }
done:
  spare_put(p, buf, real);
  return st;
}

/* A pipe's buffer is 64 KiB by default: the reading thread's read() returns
 * at most that much, and the writer (cat, a decompressor) blocks and is
 * woken once per 64 KiB, many wake-ups per block. Asking for PIPE_BYTES
 * (the unprivileged maximum, /proc/sys/fs/pipe-max-size, on most systems)
 * lets both sides move more per call; refused, it stays as it was. */
#define PIPE_BYTES (1 << 20)

static void pipe_grow(int fd) {
#ifdef F_SETPIPE_SZ
  struct stat sb;
  if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode))
    (void)fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES);
#else
  (void)fd;
#endif
}

static csvreg_status run_blocks(csvreg_pass *p, csvreg_error *err) {
  size_t n = p->o.threads;
  if (!p->in_view) /* a decompressed input is read by its own thread */
    pipe_grow(p->fd);
  static const pool_ops ops = {run_block, merge_task, release_block, free_chunk, tick};
  pool *pl = NULL;
  pthread_mutex_init(&p->spare_mu, NULL);
  p->blocks_spec = may_speculate(p);
  p->blk_lines = p->at_data.lines;
  p->blk_records = p->at_data.records;
  csvreg_status st = csvreg__pool_new(&pl, n, 2 * n, &ops, p, err);
  if (st) {
    pthread_mutex_destroy(&p->spare_mu);
    return st;
  }
  if ((p->type->flags & CSVREG_SINK_LANES) && !p->type->create_piece) {
    size_t nl = csvreg__pool_workers(pl) ? csvreg__pool_workers(pl) : 1;
    if ((p->lane = calloc(nl, sizeof *p->lane)) && csvreg__pool_pin(pl))
      p->nlanes = nl;
    else { /* a sink per block, merged block by block */
      free(p->lane);
      p->lane = NULL;
    }
  }
  csvreg_error rerr;
  csvreg_error_clear(&rerr);
  csvreg_status rst = read_blocks(p, pl, &rerr);
  st = csvreg__pool_finish(pl, err);
  csvreg__pool_free(pl);
  /* the lanes, in order, after every block's merge (its counts) */
  for (size_t i = 0; i < p->nlanes; i++) {
    if (!st && !rst && p->lane[i])
      st = p->type->merge(p->total, p->lane[i], err);
    p->type->free(p->lane[i]);
  }
  free(p->lane);
  p->lane = NULL;
  p->nlanes = 0;
  while (p->nspare) {
    p->nspare--;
    block_buf_free(p->spare[p->nspare], p->spare_cap[p->nspare]);
  }
  pthread_mutex_destroy(&p->spare_mu);
  if (!st && rst) {
    if (rst == CSVREG_E_LIMIT && p->blocks_spec && rerr.line == 0) {
      /* every block before the long record is merged: its line is known */
      size_t max_rec =
          p->o.reader.max_record_bytes ? p->o.reader.max_record_bytes : CSVREG_DEFAULT_MAX_RECORD;
      csvreg__err_set(&rerr, CSVREG_E_LIMIT,
                      "record starting on line %llu is longer than %zu bytes",
                      (unsigned long long)p->blk_lines + 1, max_rec);
      csvreg__err_at(&rerr, p->source, p->blk_lines + 1, 0, 0, NULL);
    }
    if (err)
      *err = rerr;
    st = rst;
  }
  p->info.workers = n;
  return st;
}

/* Issue 17: a regular file that shrank while the pass read it. Every read
 * stops at the size seen at open and fails at an end before it (source.h),
 * but a piece may end cleanly at a record boundary that is the file's new
 * end, and a reader may meet a record cut short first: the answer or error
 * of a shorter file. The size now, below the size at open, replaces either
 * with "file changed while reading". */
static csvreg_status check_unchanged(csvreg_pass *p, csvreg_status st, csvreg_error *err) {
  if (p->size <= 0 || p->fd < 0 || !csvreg__source_shrank(p->fd, (uint64_t)p->size))
    return st;
  if (err)
    csvreg_error_clear(err);
  csvreg_status ch = csvreg__source_changed(p->fd, (uint64_t)p->size, err);
  csvreg__err_at(err, p->source, 0, 0, 0, NULL);
  return ch;
}

csvreg_status csvreg_pass_run(csvreg_pass *p, const csvreg_spec *spec, const csvreg_sink_type *type,
                              const void *arg, void **out, csvreg_error *err) {
  if (!p || !spec || !type || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_pass_run: NULL argument");
  *out = NULL;
  if (p->ran)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_pass_run: the pass has run");
  p->ran = 1;
  p->spec = spec;
  p->type = type;
  p->arg = arg;
  csvreg_status st = type->create(&p->total, spec, arg, err);
  if (!st) {
    if (p->mode == MODE_SINGLE)
      st = run_single(p, err);
    else if (p->mode == MODE_RANGES)
      st = run_ranges(p, err);
    else
      st = run_blocks(p, err);
  }
  if (!st && p->stdin_file) {
    /* as the stream: no byte range, no file size; read to its end */
    p->info.has_range = 0;
    p->info.range_start = p->info.range_end = 0;
    p->info.aligned_start = p->info.aligned_end = 0;
    p->info.file_size = -1;
    (void)lseek(p->fd, 0, SEEK_END);
  }
  if (!st && p->digesting && p->mode != MODE_RANGES) {
    p->info.has_digest = 1;
    p->info.digest = csvreg__digest_final(&p->dig);
  }
  /* in_view is read-only for the counts; here the pass, which owns it
   * (directly or through its reader, both idle now), reads its rest */
  if (p->in_view && (st == CSVREG_E_CSV || st == CSVREG_E_VALUE || st == CSVREG_E_LIMIT))
    st = csvreg__source_blame_archive((csvreg_source *)p->in_view, st, err);
  if (p->in_view) /* read to its end, or to the failure */
    p->info.compressed_bytes = csvreg__source_compressed_bytes(p->in_view);
  st = check_unchanged(p, st, err);
  if (!st)
    st = p->o.open_levels ? csvreg__sink_settle(type, p->total, err)
                          : csvreg__sink_finish(type, p->total, spec, err);
  if (st)
    return fail_src(p, err, st);
  *out = p->total;
  p->total = NULL;
  return CSVREG_OK;
}
