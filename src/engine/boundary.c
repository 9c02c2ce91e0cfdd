/*
 * boundary.c - the record-boundary scanner (boundary.h): one definition of
 * "where a record may start" for byte ranges, stream blocks and threads, so
 * that every path finds the records of the plain reader (LF, CRLF and lone
 * CR line ends alike).
 *
 * Counting is the bulk of the work (a range's start is found by counting
 * from the file's start): 64 bytes at a time by bit masks of quotes and line
 * ends, the quote parity by a prefix XOR, so quotes cost no more than other
 * bytes (count_blocks); the tail goes byte by byte. Finding a boundary after a
 * known position is a byte loop: it stops within a record or two.
 */
#define _GNU_SOURCE /* memrchr */
#include "boundary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>

#include "internal.h"
#include "source.h"

/* 128 KiB: the pread copy and the count stay in the L2 cache (1 MiB measured
 * ~15% more copy time in --threads 2). */
#define FILE_BLOCK ((size_t)1 << 17)

void csvreg__boundary_init(boundary_state *s) {
  memset(s, 0, sizeof *s);
  s->at_end = 1;
}

static inline int is_end(unsigned c) { return c == '\r' || c == '\n'; }

/* One byte of the state machine (the reference the fast paths follow). */
static inline void step(boundary_state *s, unsigned c) {
  if (c == '"') {
    if (!s->odd && s->at_end)
      s->records++;
    s->odd ^= 1u;
    s->cr = 0;
    s->at_end = 0;
  } else if (c == '\r') {
    s->lines++;
    s->cr = 1;
    s->at_end = !s->odd;
  } else if (c == '\n') {
    s->lines += !s->cr;
    s->cr = 0;
    s->at_end = !s->odd;
  } else {
    if (!s->odd && s->at_end)
      s->records++;
    s->cr = 0;
    s->at_end = 0;
  }
}

/* Bit k of the three masks: byte k of b[0, 64) is '"', CR, LF. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(CSVREG_NO_SIMD)
#define BOUNDARY_X86 1
#include <immintrin.h>

static inline __attribute__((always_inline)) void masks64_sse2(const unsigned char *b,
                                                               uint64_t *q, uint64_t *cr,
                                                               uint64_t *lf) {
  uint64_t mq = 0, mc = 0, ml = 0;
  const __m128i vq = _mm_set1_epi8('"'), vc = _mm_set1_epi8('\r'), vl = _mm_set1_epi8('\n');
  for (int k = 0; k < 4; k++) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
    mq |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) << (16 * k);
    mc |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vc)) << (16 * k);
    ml |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vl)) << (16 * k);
  }
  *q = mq, *cr = mc, *lf = ml;
}

static inline __attribute__((always_inline, target("avx2"))) void
masks64_avx2(const unsigned char *b, uint64_t *q, uint64_t *cr, uint64_t *lf) {
  const __m256i vq = _mm256_set1_epi8('"'), vc = _mm256_set1_epi8('\r'),
                vl = _mm256_set1_epi8('\n');
  __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)b);
  __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32));
#define MASK2(c)                                                                                  \
  ((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, c)) |                           \
   (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, c)) << 32)
  *q = MASK2(vq), *cr = MASK2(vc), *lf = MASK2(vl);
#undef MASK2
}
#else
static inline __attribute__((always_inline)) void masks64_bytes(const unsigned char *b,
                                                                uint64_t *q, uint64_t *cr,
                                                                uint64_t *lf) {
  uint64_t mq = 0, mc = 0, ml = 0;
  for (int k = 0; k < 64; k++) {
    mq |= (uint64_t)(b[k] == '"') << k;
    mc |= (uint64_t)(b[k] == '\r') << k;
    ml |= (uint64_t)(b[k] == '\n') << k;
  }
  *q = mq, *cr = mc, *lf = ml;
}
#endif

/* Bit k = parity of the set bits 0..k of x. */
static inline __attribute__((always_inline)) uint64_t prefix_xor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

/* 64 bytes at a time, quotes or not, by masks (what step() does byte by
 * byte):
 *  - a line ends at every CR and at every LF not right after a CR, inside
 *    quotes or not;
 *  - a line end is outside quotes when an even number of quotes comes before
 *    it (a line end is not a quote, so "before" and "up to" agree);
 *  - a record starts at a byte that is not a line end right after a line end
 *    outside quotes (a quote that opens a field included: before it the
 *    count is even, as at the line end).
 * Carries between blocks: the last byte was a CR, the last byte was a line
 * end outside quotes (at_end), the quote parity. Threads find a range's start
 * by counting from the file's start, so this loop is what a later thread of
 * `--threads N` pays before it parses (it was a third of the CPU time of
 * `--threads 2` when it jumped from quote to quote with memchr and counted
 * bytes). Compiled for AVX2 + POPCNT and for SSE2 (without -mpopcnt the
 * builtin is a libgcc call), bytes elsewhere. */
#define COUNT_BLOCKS(NAME, ATTR, MASKS)                                                           \
  static ATTR void NAME(boundary_state *s, const unsigned char *b, size_t n) {                     \
    uint64_t lines = 0, recs = 0;                                                                  \
    uint64_t pcr = s->cr ? 1 : 0, pend = s->at_end ? 1 : 0, odd = s->odd & 1u;                    \
    for (size_t k = 0; k + 64 <= n; k += 64) {                                                     \
      uint64_t q, cr, lf;                                                                          \
      MASKS(b + k, &q, &cr, &lf);                                                                  \
      uint64_t end = cr | lf;                                                                      \
      uint64_t inside = prefix_xor(q) ^ (0 - odd);                                                 \
      uint64_t end_out = end & ~inside;                                                            \
      lines += (uint64_t)__builtin_popcountll(cr) +                                                \
               (uint64_t)__builtin_popcountll(lf & ~((cr << 1) | pcr));                            \
      recs += (uint64_t)__builtin_popcountll(~end & ((end_out << 1) | pend));                      \
      pcr = cr >> 63;                                                                              \
      pend = end_out >> 63;                                                                        \
      odd = inside >> 63;                                                                          \
    }                                                                                              \
    s->lines += lines;                                                                             \
    s->records += recs;                                                                            \
    s->cr = (int)pcr;                                                                              \
    s->at_end = (int)pend;                                                                         \
    s->odd = (unsigned)odd;                                                                        \
  }

#ifdef BOUNDARY_X86
COUNT_BLOCKS(count_blocks_sse2, , masks64_sse2)
COUNT_BLOCKS(count_blocks_avx2, __attribute__((target("avx2,popcnt"))), masks64_avx2)
#else
COUNT_BLOCKS(count_blocks_bytes, , masks64_bytes)
#endif

typedef void (*count_fn)(boundary_state *, const unsigned char *, size_t);

/* Picked once (CSVREG_SIMD=sse2 keeps SSE2, as for the reader). */
static count_fn pick_count(void) {
#ifdef BOUNDARY_X86
  return csvreg__simd_avx2() ? count_blocks_avx2 : count_blocks_sse2;
#else
  return count_blocks_bytes;
#endif
}

void csvreg__boundary_count(boundary_state *s, const unsigned char *b, size_t n) {
  static _Atomic(count_fn) fn;
  count_fn f = atomic_load_explicit(&fn, memory_order_relaxed);
  if (!f) {
    f = pick_count();
    atomic_store_explicit(&fn, f, memory_order_relaxed);
  }
  size_t blocks = n & ~(size_t)63;
  f(s, b, blocks);
  for (size_t i = blocks; i < n; i++)
    step(s, b[i]);
}

/* Quotes in b[0, n): AVX2 masks, or memchr from quote to quote. */
#ifdef BOUNDARY_X86
static __attribute__((target("avx2,popcnt"))) uint64_t quotes_avx2(const unsigned char *b,
                                                                   size_t n) {
  const __m256i vq = _mm256_set1_epi8('"');
  uint64_t c = 0;
  size_t k = 0;
  for (; k + 64 <= n; k += 64) {
    __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)(b + k));
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + k + 32));
    uint64_t m = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, vq)) |
                 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, vq)) << 32;
    c += (uint64_t)__builtin_popcountll(m);
  }
  for (; k < n; k++)
    c += b[k] == '"';
  return c;
}
#endif

static uint64_t quotes_memchr(const unsigned char *b, size_t n) {
  uint64_t c = 0;
  const unsigned char *e = b + n, *q;
  while (b < e && (q = memchr(b, '"', (size_t)(e - b)))) {
    c++;
    b = q + 1;
  }
  return c;
}

uint64_t csvreg__boundary_skim(boundary_state *s, const unsigned char *b, size_t n) {
  if (n == 0)
    return 0;
#ifdef BOUNDARY_X86
  static _Atomic int avx2 = -1; /* picked once, as count_blocks is */
  int a = atomic_load_explicit(&avx2, memory_order_relaxed);
  if (a < 0) {
    a = csvreg__simd_avx2();
    atomic_store_explicit(&avx2, a, memory_order_relaxed);
  }
  uint64_t q = a ? quotes_avx2(b, n) : quotes_memchr(b, n);
#else
  uint64_t q = quotes_memchr(b, n);
#endif
  s->odd ^= (unsigned)(q & 1u);
  /* what step() leaves after the last byte (a line end is not a quote: the
   * parity after it is the parity before it) */
  unsigned c = b[n - 1];
  s->cr = c == '\r';
  s->at_end = is_end(c) && !s->odd;
  return q;
}

size_t csvreg__boundary_next(boundary_state *s, const unsigned char *b, size_t n, int eof,
                             uint64_t min_records) {
  for (size_t i = 0;; i++) {
    if (s->records >= min_records && s->at_end) {
      if (!s->cr)
        return i;
      if (i < n) {
        if (b[i] != '\n')
          return i;
      } else if (eof) {
        return i;
      }
    }
    if (i == n)
      return eof && s->records >= min_records ? n : BOUNDARY_NONE;
    step(s, b[i]);
  }
}

size_t csvreg__boundary_last(const boundary_state *s, const unsigned char *b, size_t n) {
  unsigned odd = s->odd;
  size_t cut = 0, i = 0;
  while (i < n) {
    const unsigned char *q = memchr(b + i, '"', n - i);
    size_t e = q ? (size_t)(q - b) : n;
    if (!odd && e > i) {
      const unsigned char *lf = memrchr(b + i, '\n', e - i);
      size_t c = lf ? (size_t)(lf - b) + 1 : 0;
      /* a CR ends a line unless an LF follows (then that LF is the later
       * end) or nothing follows yet (it may be half a CRLF) */
      const unsigned char *cr = memrchr(b + i, '\r', e - i);
      if (cr && (size_t)(cr - b) + 1 == n)
        cr = (size_t)(cr - b) > i ? memrchr(b + i, '\r', (size_t)(cr - b) - i) : NULL;
      if (cr && b[(cr - b) + 1] != '\n' && (size_t)(cr - b) + 1 > c)
        c = (size_t)(cr - b) + 1;
      if (c > cut)
        cut = c;
    }
    if (!q)
      break;
    odd ^= 1u;
    i = e + 1;
  }
  return cut;
}

size_t csvreg__boundary_last_skim(const boundary_state *s, const unsigned char *b, size_t n,
                                  boundary_state *at) {
  boundary_state t = *s;
  csvreg__boundary_skim(&t, b, n);
  unsigned odd = t.odd; /* quotes before i + 1, mod 2 */
  for (size_t i = n; i-- > 0;) {
    unsigned char c = b[i];
    /* a line end outside quotes; a CR only when a byte other than LF follows */
    if (!odd && (c == '\n' || (c == '\r' && i + 1 < n && b[i + 1] != '\n'))) {
      *at = *s;
      at->odd = 0;
      at->cr = c == '\r';
      at->at_end = 1;
      return i + 1;
    }
    odd ^= c == '"';
  }
  return 0;
}

/* ---- a regular file from its start ---- */

csvreg_status csvreg__boundary_file_open(boundary_file *f, int fd, uint64_t size,
                                         csvreg_error *err) {
  memset(f, 0, sizeof *f);
  f->fd = fd;
  f->size = size;
  csvreg__boundary_init(&f->st);
  f->buf = malloc(FILE_BLOCK);
  if (!f->buf)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return CSVREG_OK;
}

void csvreg__boundary_file_close(boundary_file *f) {
  if (!f)
    return;
  free(f->buf);
  f->buf = NULL;
}

/* Makes buf hold pos: 0, 1 at the end of the file, or an error status. */
static int file_fill(boundary_file *f, csvreg_error *err, csvreg_status *st) {
  if (f->pos >= f->buf_pos && f->pos < f->buf_pos + f->buf_len)
    return 0;
  if (f->pos >= f->size)
    return 1;
  uint64_t want = f->size - f->pos < FILE_BLOCK ? f->size - f->pos : FILE_BLOCK;
  size_t got = 0;
  while (got < want) {
    ssize_t r = pread(f->fd, f->buf + got, (size_t)want - got, (off_t)(f->pos + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      *st = csvreg__err_set(err, CSVREG_E_IO, "cannot read: %s", strerror(errno));
      return -1;
    }
    if (r == 0) { /* the file shrank under the read (issue 17) */
      *st = csvreg__source_changed(f->fd, f->size, err);
      return -1;
    }
    got += (size_t)r;
  }
  f->buf_pos = f->pos;
  f->buf_len = got;
  return got ? 0 : 1;
}

csvreg_status csvreg__boundary_file_seek(boundary_file *f, uint64_t at, uint64_t min_records,
                                         csvreg_error *err) {
  csvreg_status st = CSVREG_OK;
  if (at > f->size)
    at = f->size;
  while (f->pos < at) {
    int r = file_fill(f, err, &st);
    if (r < 0)
      return st;
    if (r > 0)
      break;
    size_t off = (size_t)(f->pos - f->buf_pos);
    size_t n = f->buf_len - off;
    if (at - f->pos < n)
      n = (size_t)(at - f->pos);
    if (f->skim)
      csvreg__boundary_skim(&f->st, f->buf + off, n);
    else
      csvreg__boundary_count(&f->st, f->buf + off, n);
    f->pos += n;
  }
  for (;;) {
    int r = file_fill(f, err, &st);
    if (r < 0)
      return st;
    size_t off = r ? 0 : (size_t)(f->pos - f->buf_pos);
    size_t n = r ? 0 : f->buf_len - off;
    int eof = r > 0 || f->pos + n >= f->size;
    size_t p = csvreg__boundary_next(&f->st, r ? NULL : f->buf + off, n, eof, min_records);
    if (p != BOUNDARY_NONE) {
      f->pos += p;
      return CSVREG_OK;
    }
    f->pos += n;
    if (eof)
      return CSVREG_OK;
  }
}

csvreg_status csvreg__boundary_file_has_quote(int fd, uint64_t size, uint64_t from, uint64_t end,
                                              int *found, csvreg_error *err) {
  *found = 0;
  if (end > size)
    end = size;
  if (from >= end)
    return CSVREG_OK;
  unsigned char *b = malloc(FILE_BLOCK);
  if (!b)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg_status st = CSVREG_OK;
  while (from < end && !*found) {
    size_t want = end - from < FILE_BLOCK ? (size_t)(end - from) : FILE_BLOCK;
    ssize_t r = pread(fd, b, want, (off_t)from);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      st = csvreg__err_set(err, CSVREG_E_IO, "cannot read: %s", strerror(errno));
      break;
    }
    if (r == 0) { /* the file shrank under the read (issue 17) */
      st = csvreg__source_changed(fd, size, err);
      break;
    }
    *found = memchr(b, '"', (size_t)r) != NULL;
    from += (uint64_t)r;
  }
  free(b);
  return st;
}

/* ---- a range read up to the boundary after its cut ---- */

csvreg_status csvreg__boundary_range_read(void *ctx, void *buf, size_t want, size_t *got,
                                          csvreg_error *err) {
  boundary_range *r = ctx;
  unsigned char *b = buf;
  *got = 0;
  if (r->done || want == 0)
    return CSVREG_OK;
  if (r->off >= r->size) {
    r->done = 1;
    return CSVREG_OK;
  }
  if (want > r->size - r->off)
    want = (size_t)(r->size - r->off);
  ssize_t n;
  do
    n = pread(r->fd, b, want, (off_t)r->off);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return csvreg__err_set(err, CSVREG_E_IO, "read failed: %s", strerror(errno));
  if (n == 0) /* the file shrank under the read (issue 17) */
    return csvreg__source_changed(r->fd, r->size, err);
  size_t len = (size_t)n, k = 0;
  if (r->off < r->cut) { /* before the cut: count up to it */
    k = r->cut - r->off < len ? (size_t)(r->cut - r->off) : len;
    if (r->skim)
      r->quotes += csvreg__boundary_skim(&r->st, b, k);
    else
      csvreg__boundary_count(&r->st, b, k);
  }
  if (k < len || r->off + len == r->cut) {
    /* at or past the cut: the first boundary ends the range */
    int eof = r->off + len >= r->size;
    size_t p = csvreg__boundary_next(&r->st, b + k, len - k, eof, 0);
    if (p != BOUNDARY_NONE) {
      len = k + p;
      r->done = 1;
    }
  }
  r->off += len;
  *got = len;
  return CSVREG_OK;
}
