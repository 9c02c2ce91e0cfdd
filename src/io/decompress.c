/*
 * decompress.c - compressed input (decompress.h): the sniffer that tells a
 * compressed or non-text input by its first bytes, and the decompressing
 * source. A driver feeds a codec (decompress_codec.h) from the inner source
 * through one input buffer, resets it at each member's end and tells a
 * clean end from a truncated one; on a thread of its own it fills a ring of
 * blocks ahead of the reader, so inflating (about as slow as parsing on one
 * core) overlaps parsing. The ring bounds memory: RING_BLOCKS blocks of
 * BLOCK_BYTES, plus IN_BYTES of input and the codec's window.
 */
#define _POSIX_C_SOURCE 200809L
#include "decompress.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decompress_codec.h"
#include "internal.h"

#define IN_BYTES ((size_t)64 << 10)
#define BLOCK_BYTES ((size_t)128 << 10)
#define RING_BLOCKS 4

/* ---- sniffing ---- */

int csvreg__sniff_compression(const unsigned char *b, size_t n) {
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
    return CSVREG__COMP_GZIP;
  /* a zstd frame, or a skippable frame (0x184D2A50..5F, little-endian) */
  if (n >= 4 && ((b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) ||
                 ((b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)))
    return CSVREG__COMP_ZSTD;
  if (n >= 6 && memcmp(b,
                       "\xfd"
                       "7zXZ\0",
                       6) == 0)
    return CSVREG__COMP_XZ;
  /* "BZh" and a block size is also how a CSV header could start: the
   * first block's magic (pi) or the empty stream's end (sqrt(pi)) too. */
  if (n >= 10 && memcmp(b, "BZh", 3) == 0 && b[3] >= '1' && b[3] <= '9' &&
      (memcmp(b + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
       memcmp(b + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0))
    return CSVREG__COMP_BZIP2;
  return CSVREG__COMP_NONE;
}

const char *csvreg__compression_name(int format) {
  switch (format) {
  case CSVREG__COMP_GZIP: return "gzip";
  case CSVREG__COMP_ZSTD: return "zstd";
  case CSVREG__COMP_XZ: return "xz";
  case CSVREG__COMP_BZIP2: return "bzip2";
  default: return NULL;
  }
}

static const struct {
  const char *magic;
  size_t len;
  const char *what;
} not_text[] = {
    {"PK\3\4", 4, "a zip archive"},
    {"PK\5\6", 4, "a zip archive"},
    {"7z\xbc\xaf\x27\x1c", 6, "a 7-Zip archive"},
    {"Rar!\x1a\x07", 6, "a RAR archive"},
    {"\x04\x22\x4d\x18", 4, "lz4-compressed data, which is not read"},
    {"\x1f\x9d", 2, "compress (.Z) data, which is not read"},
    {"LZIP", 4, "lzip-compressed data, which is not read"},
    {"PAR1", 4, "a Parquet file"},
    {"SQLite format 3", 16, "an SQLite database"},
    {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "an OLE document (an .xls workbook?)"},
    {"\x7f"
     "ELF",
     4, "an ELF executable"},
    {"%PDF-", 5, "a PDF document"},
    {"\x89PNG", 4, "a PNG image"},
    {"\xff\xd8\xff", 3, "a JPEG image"},
    {"\xff\xfe", 2, "UTF-16 text: convert it to UTF-8"},
    {"\xfe\xff", 2, "UTF-16 text: convert it to UTF-8"},
};

static const char nul_bytes[] = "binary data (NUL bytes)";

/* Where the first NUL of b[0, n) is: its line (LF, CRLF and CR end one) and
 * byte in that line, both from 1, for the message (issue 17). */
static void nul_at(const unsigned char *b, size_t n, unsigned long long *line,
                   unsigned long long *byte) {
  size_t start = 0;
  *line = 1;
  for (size_t i = 0; i < n && b[i]; i++)
    if (b[i] == '\n' || (b[i] == '\r' && (i + 1 >= n || b[i + 1] != '\n'))) {
      ++*line;
      start = i + 1;
    }
  const unsigned char *z = memchr(b, 0, n);
  *byte = z ? (unsigned long long)(z - b - (ptrdiff_t)start) + 1 : 0;
}

/* The message of a non-text head; a NUL byte's line and byte are named. */
static csvreg_status refuse_not_text(csvreg_error *err, const char *what, const char *comp,
                                     const unsigned char *b, size_t n) {
  char how[64] = "";
  if (comp)
    snprintf(how, sizeof how, "%s-compressed; ", comp);
  if (what != nul_bytes)
    return csvreg__err_set(err, CSVREG_E_CSV, "not a CSV text file (%slooks like %s)", how, what);
  unsigned long long line, byte;
  nul_at(b, n, &line, &byte);
  return csvreg__err_set(err, CSVREG_E_CSV,
                         "not a CSV text file (%slooks like binary data: a NUL byte on line "
                         "%llu, byte %llu of the line%s)",
                         how, line, byte, line == 1 ? ", in the header" : "");
}

const char *csvreg__sniff_not_text(const unsigned char *b, size_t n) {
  for (size_t i = 0; i < sizeof not_text / sizeof not_text[0]; i++)
    if (n >= not_text[i].len && memcmp(b, not_text[i].magic, not_text[i].len) == 0)
      return not_text[i].what;
  if (n >= 262 && memcmp(b + 257, "ustar", 5) == 0)
    return "a tar archive";
  if (csvreg__sniff_compression(b, n))
    return "compressed data";
  /* Binary data almost always has a NUL byte before its first line end,
   * or control bytes all over. A NUL further on in text is left to the
   * reader: the cell that holds it is then a data error naming its line. */
  const unsigned char *lf = memchr(b, '\n', n);
  if (memchr(b, 0, lf ? (size_t)(lf - b) : n))
    return nul_bytes;
  size_t ctl = 0;
  for (size_t i = 0; i < n; i++)
    ctl += b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r';
  if (ctl * 4 > n)
    return "binary data (control bytes)";
  return NULL;
}

/* ---- the driver ---- */

typedef struct dsrc {
  const codec *c;
  void *st;
  int format;
  csvreg_source *inner;
  unsigned char *in;
  size_t in_pos, in_len;
  int in_eof, in_member, stalls;
  int padding;            /* zero bytes after the last member (codec zero_pad) */
  uint64_t in_base;       /* compressed bytes before in[0] */
  uint64_t member_at;     /* where the member being decoded starts */
  _Atomic uint64_t taken; /* compressed bytes the codec took */
  /* a failure, returned again on every later read */
  csvreg_status failed;
  csvreg_error ferr;
  /* the thread and its ring */
  int threaded, started, done, stop;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned char *blk[RING_BLOCKS];
  size_t blen[RING_BLOCKS];
  size_t head, tail, count, rd;
} dsrc;

/* What the format calls one of its independent parts. */
static const char *unit(const dsrc *d) {
  return d->format == CSVREG__COMP_GZIP   ? "member"
         : d->format == CSVREG__COMP_ZSTD ? "frame"
                                          : "stream";
}

/* A failure of the codec at compressed byte `at`: the part at fault, as
 * the codec names it (zstd: the frame header, block or checksum), else
 * the member it lies in (not known to xz's one decoder of every stream). */
static csvreg_status corrupt(dsrc *d, uint64_t at, const codec_io *io, const char *why,
                             csvreg_error *err) {
  char ctx[160] = "";
  if (io && io->where[0])
    snprintf(ctx, sizeof ctx, " (%s)", io->where);
  else if (!d->c->joined)
    snprintf(ctx, sizeof ctx, " (in the %s that starts at byte %llu)", unit(d),
             (unsigned long long)d->member_at);
  return csvreg__err_set(err, CSVREG_E_IO, "corrupt %s data at compressed byte %llu%s: %s",
                         d->c->name, (unsigned long long)at, ctx, why);
}

/* Zero bytes where the next member would start (in[in_pos] is one, or
 * padding began in an earlier buffer): gzip and bzip2 end there cleanly
 * when only zeros follow, as `gzip -d` does silently and `bzip2 -d` with a
 * warning (tar pads its output to 10 KiB with zeros). Anything but a zero
 * after them is refused (gzip and bzip2 would drop it, and a member
 * after the zeros with it, as "trailing garbage"). */
static csvreg_status skip_padding(dsrc *d, csvreg_error *err) {
  d->padding = 1;
  while (d->in_pos < d->in_len && !d->in[d->in_pos])
    d->in_pos++;
  atomic_store(&d->taken, d->in_base + d->in_pos);
  if (d->in_pos < d->in_len)
    return csvreg__err_set(err, CSVREG_E_IO,
                           "corrupt %s data at compressed byte %llu: a byte other than zero in "
                           "the zero padding after the last %s",
                           d->c->name, (unsigned long long)(d->in_base + d->in_pos), unit(d));
  return CSVREG_OK;
}

/* Up to `cap` decompressed bytes into out; *made = 0 only at a clean end. */
static csvreg_status decode(dsrc *d, unsigned char *out, size_t cap, size_t *made,
                            csvreg_error *err) {
  *made = 0;
  for (;;) {
    if (d->in_pos == d->in_len && !d->in_eof) {
      size_t got = 0;
      d->in_base += d->in_len;
      d->in_pos = d->in_len = 0;
      csvreg_status st = csvreg_source_read(d->inner, d->in, IN_BYTES, &got, err);
      if (st)
        return st;
      d->in_len = got;
      d->in_eof = got == 0;
    }
    if (d->in_pos == d->in_len && d->in_eof && !d->in_member)
      return CSVREG_OK;
    if (!d->in_member && d->c->zero_pad && (d->padding || !d->in[d->in_pos])) {
      csvreg_status st = skip_padding(d, err);
      if (st)
        return st;
      continue;
    }
    if (!d->in_member)
      d->member_at = d->in_base + d->in_pos;
    codec_io io = {d->in + d->in_pos, d->in_len - d->in_pos, 0, out, cap, 0, d->in_eof, 0, NULL, 0,
                   d->in_base + d->in_pos, 0, 0, ""};
    int bad = d->c->run(d->st, &io);
    /* where the codec says the fault is; else where it stopped, or (one that
     * does not say) the end of its input */
    uint64_t at = io.at_set ? io.at : d->in_base + d->in_pos + (io.in_used ? io.in_used : io.in_len);
    if (bad && io.limit)
      return csvreg__err_set(err, CSVREG_E_LIMIT, "%s data at compressed byte %llu: %s", d->c->name,
                             (unsigned long long)at, io.what);
    if (bad)
      return corrupt(d, at, &io, io.what ? io.what : "invalid data", err);
    d->in_pos += io.in_used;
    atomic_store(&d->taken, d->in_base + d->in_pos);
    if (io.in_used)
      d->in_member = 1;
    if (io.end) {
      d->in_member = 0;
      if (d->c->reset(d->st))
        return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    if (io.out_made) {
      *made = io.out_made;
      return CSVREG_OK;
    }
    if (io.in_used || io.end) {
      d->stalls = 0;
      continue;
    }
    if (d->in_pos == d->in_len && d->in_eof) {
      if (d->c->joined)
        return csvreg__err_set(err, CSVREG_E_IO,
                               "truncated %s data: the input ends at compressed byte %llu, inside "
                               "a compressed %s",
                               d->c->name, (unsigned long long)(d->in_base + d->in_pos), unit(d));
      return csvreg__err_set(err, CSVREG_E_IO,
                             "truncated %s data: the input ends at compressed byte %llu, inside "
                             "the compressed %s that starts at byte %llu",
                             d->c->name, (unsigned long long)(d->in_base + d->in_pos), unit(d),
                             (unsigned long long)d->member_at);
    }
    if (d->in_pos < d->in_len && ++d->stalls > 4) /* input there, none taken: a codec bug */
      return corrupt(d, d->in_base + d->in_pos, NULL, "the decoder stopped", err);
  }
}

/* ---- the thread ---- */

static void *producer(void *arg) {
  dsrc *d = arg;
  for (;;) {
    pthread_mutex_lock(&d->mu);
    while (d->count == RING_BLOCKS && !d->stop)
      pthread_cond_wait(&d->cv, &d->mu);
    int stop = d->stop;
    size_t i = d->head;
    pthread_mutex_unlock(&d->mu);
    if (stop)
      return NULL;
    /* blk[i] is the producer's alone until count says it is filled */
    size_t len = 0, m = 1;
    csvreg_error e;
    csvreg_error_clear(&e);
    csvreg_status st = CSVREG_OK;
    while (len < BLOCK_BYTES && m && !st)
      if (!(st = decode(d, d->blk[i] + len, BLOCK_BYTES - len, &m, &e)))
        len += m;
    pthread_mutex_lock(&d->mu);
    if (len) {
      d->blen[i] = len;
      d->head = (d->head + 1) % RING_BLOCKS;
      d->count++;
    }
    if (st || !m) {
      d->done = 1;
      d->failed = st;
      d->ferr = e;
    }
    int done = d->done;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (done)
      return NULL;
  }
}

static csvreg_status fail_again(dsrc *d, csvreg_error *err) {
  if (err)
    *err = d->ferr;
  return d->failed;
}

static csvreg_status dsrc_read(void *ctx, void *buf, size_t want, size_t *got, csvreg_error *err) {
  dsrc *d = ctx;
  *got = 0;
  if (!d->threaded) {
    if (d->failed)
      return fail_again(d, err);
    csvreg_error_clear(&d->ferr);
    if ((d->failed = decode(d, buf, want, got, &d->ferr)))
      return fail_again(d, err);
    return CSVREG_OK;
  }
  if (!d->started) {
    int e = pthread_create(&d->th, NULL, producer, d);
    if (e)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "cannot start the decompression thread: %s",
                             strerror(e));
    d->started = 1;
  }
  pthread_mutex_lock(&d->mu);
  while (!d->count && !d->done)
    pthread_cond_wait(&d->cv, &d->mu);
  size_t count = d->count;
  pthread_mutex_unlock(&d->mu);
  if (!count) /* done: the end, or the failure after every block before it */
    return d->failed ? fail_again(d, err) : CSVREG_OK;
  size_t i = d->tail, n = d->blen[i] - d->rd < want ? d->blen[i] - d->rd : want;
  memcpy(buf, d->blk[i] + d->rd, n);
  d->rd += n;
  *got = n;
  if (d->rd == d->blen[i]) {
    d->rd = 0;
    pthread_mutex_lock(&d->mu);
    d->tail = (d->tail + 1) % RING_BLOCKS;
    d->count--;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
  }
  return CSVREG_OK;
}

static void dsrc_free(void *ctx) {
  dsrc *d = ctx;
  if (!d)
    return;
  if (d->started) {
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->th, NULL);
  }
  if (d->threaded) {
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
  }
  for (size_t i = 0; i < RING_BLOCKS; i++)
    free(d->blk[i]);
  if (d->st)
    d->c->destroy(d->st);
  free(d->in);
  csvreg_source_free(d->inner);
  free(d);
}

static const codec *codec_for(int format) {
  switch (format) {
  case CSVREG__COMP_GZIP: {
#ifdef CSVREG_HAVE_ISAL
    const char *e = getenv("CSVREG_GZIP");
    if (!e || strcmp(e, "zlib") != 0)
      return &csvreg__codec_gzip_isal;
#endif
    return &csvreg__codec_gzip_zlib;
  }
#ifdef CSVREG_HAVE_ZSTD
  case CSVREG__COMP_ZSTD: return &csvreg__codec_zstd;
#endif
#ifdef CSVREG_HAVE_LZMA
  case CSVREG__COMP_XZ: return &csvreg__codec_xz;
#endif
#ifdef CSVREG_HAVE_BZIP2
  case CSVREG__COMP_BZIP2: return &csvreg__codec_bzip2;
#endif
  default: return NULL;
  }
}

csvreg_status csvreg__source_new_decompress(csvreg_source **out, csvreg_source *inner, int format,
                                            int threaded, csvreg_error *err) {
  if (!out || !inner || !csvreg__compression_name(format)) {
    csvreg_source_free(inner);
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg__source_new_decompress: bad argument");
  }
  *out = NULL;
  const codec *c = codec_for(format);
  if (!c) {
    csvreg_source_free(inner);
    return csvreg__err_set(err, CSVREG_E_IO, "%s-compressed input, but built without %s support",
                           csvreg__compression_name(format), csvreg__compression_name(format));
  }
  const char *e = getenv("CSVREG_DECOMPRESS_THREAD");
  if (e && strcmp(e, "0") == 0)
    threaded = 0;
  dsrc *d = calloc(1, sizeof *d);
  if (!d) {
    csvreg_source_free(inner);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  d->c = c;
  d->format = format;
  d->inner = inner;
  int ok = (d->in = malloc(IN_BYTES)) && (d->st = c->create());
  if (ok && threaded) {
    for (size_t i = 0; ok && i < RING_BLOCKS; i++)
      ok = (d->blk[i] = malloc(BLOCK_BYTES)) != NULL;
    if (ok && pthread_mutex_init(&d->mu, NULL) == 0) {
      if (pthread_cond_init(&d->cv, NULL) == 0)
        d->threaded = 1;
      else
        pthread_mutex_destroy(&d->mu);
    }
    ok = ok && d->threaded;
  }
  if (!ok) {
    dsrc_free(d);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  return csvreg__source_new_custom(out, dsrc_read, dsrc_free, d, err);
}

uint64_t csvreg__source_compressed_bytes(const csvreg_source *s) {
  dsrc *d = csvreg__source_custom_ctx(s, dsrc_read);
  return d ? atomic_load(&d->taken) : 0;
}

csvreg_status csvreg__source_blame_archive(csvreg_source *s, csvreg_status st, csvreg_error *err) {
  unsigned char *buf = malloc(1 << 16);
  if (!buf)
    return st;
  csvreg_error e;
  csvreg_error_clear(&e);
  size_t got;
  csvreg_status r;
  while (!(r = csvreg_source_read(s, buf, (size_t)1 << 16, &got, &e)) && got)
    ;
  free(buf);
  if (r != CSVREG_E_IO)
    return st;
  if (err) { /* the archive's message at the line the text reached */
    e.line = err->line;
    e.record = err->record;
    memcpy(e.source, err->source, sizeof e.source);
    *err = e;
  }
  return r;
}

csvreg_status csvreg__source_blame_header(csvreg_source *s, csvreg_status st, csvreg_error *err) {
  if (!s || !(st == CSVREG_E_COLUMN || st == CSVREG_E_CSV || st == CSVREG_E_VALUE ||
              st == CSVREG_E_LIMIT))
    return st;
  return csvreg__source_blame_archive(s, st, err);
}

/* ---- opening an input ---- */

/* Up to CSVREG__SNIFF_BYTES of `s` into `b`, stopping only at its end.
 * 0 when they were read; 1 when a read failed: what was read goes back,
 * unsniffed, and the reader meets the failure again (a descriptor's, or
 * the decompressing source's, which repeats it) and reports it with its
 * line and record, as it did before any sniffing. */
static int read_head(csvreg_source *s, unsigned char *b, size_t *n) {
  *n = 0;
  while (*n < CSVREG__SNIFF_BYTES) {
    size_t got = 0;
    if (csvreg_source_read(s, b + *n, CSVREG__SNIFF_BYTES - *n, &got, NULL))
      return 1;
    if (!got)
      break;
    *n += got;
  }
  return 0;
}

/* Gives the first bytes back to `s`: a copy, as the source owns what it is
 * given. */
static csvreg_status give_back(csvreg_source *s, const unsigned char *b, size_t n,
                               csvreg_error *err) {
  if (!n)
    return CSVREG_OK;
  void *t = malloc(n);
  if (!t)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  memcpy(t, b, n);
  return csvreg_source_prepend(s, t, n, err);
}

csvreg_status csvreg__source_open_input(csvreg_source **out, int fd, int own, int at_start,
                                        int mode, int *format, csvreg_error *err) {
  *out = NULL;
  *format = CSVREG__COMP_NONE;
  if (mode == CSVREG_DECOMPRESS_NONE) {
    if (at_start)
      return CSVREG_OK;
    csvreg_status st = csvreg_source_new_fd(out, fd, own, err);
    if (st && own)
      close(fd);
    return st;
  }
  unsigned char head[CSVREG__SNIFF_BYTES];
  size_t n = 0;
  csvreg_source *src = NULL;
  csvreg_status st = CSVREG_OK;
  if (at_start) { /* pread: the descriptor's offset stays where it was */
    while (n < sizeof head) {
      ssize_t r = pread(fd, head + n, sizeof head - n, (off_t)n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) /* the caller's reads meet it again */
        return CSVREG_OK;
      if (r == 0)
        break;
      n += (size_t)r;
    }
  } else {
    if ((st = csvreg_source_new_fd(&src, fd, own, err))) {
      if (own)
        close(fd);
      return st;
    }
    int failed = read_head(src, head, &n);
    if ((st = give_back(src, head, n, err)))
      goto fail;
    if (failed) {
      *out = src;
      return CSVREG_OK;
    }
  }
  int f = csvreg__sniff_compression(head, n);
  if (!f) {
    const char *what = csvreg__sniff_not_text(head, n);
    if (what) {
      st = refuse_not_text(err, what, NULL, head, n);
      goto fail;
    }
    *out = src; /* NULL at_start: the caller reads fd as before */
    return CSVREG_OK;
  }
  if (!src && (st = csvreg_source_new_fd(&src, fd, own, err))) {
    if (own)
      close(fd);
    return st;
  }
  csvreg_source *d = NULL;
  st = csvreg__source_new_decompress(&d, src, f, 1, err);
  src = d;
  if (st)
    return st;
  /* What the archive holds must be CSV text too (a .tar.gz is not). */
  int failed = read_head(src, head, &n);
  const char *what = failed ? NULL : csvreg__sniff_not_text(head, n);
  if (what) {
    /* a damaged first block decodes to bytes that look binary (bzip2 checks
     * its ~900 kB block only at the end): the archive is blamed when it is
     * corrupt, as for a garbled header (one decode of the rest) */
    st = refuse_not_text(err, what, csvreg__compression_name(f), head, n);
    st = csvreg__source_blame_archive(src, st, err);
    goto fail;
  }
  if ((st = give_back(src, head, n, err)))
    goto fail;
  *out = src;
  *format = f;
  return CSVREG_OK;
fail:
  csvreg_source_free(src);
  return st;
}
