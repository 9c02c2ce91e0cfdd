/*
 * boundary.c - the record-boundary scanner (boundary.h): one definition of
 * "where a record may start" for byte ranges, stream blocks and threads, so
 * that every path finds the records of the plain reader (LF, CRLF and lone
 * CR line ends alike).
 *
 * Counting is the bulk of the work (a range's start is found by counting
 * from the file's start): quotes are found with memchr and the stretches
 * between them counted by branch-free loops, so a file without quotes costs
 * one memchr and one vectorised loop per buffer. Finding a boundary after a
 * known position is a byte loop: it stops within a record or two.
 */
#define _GNU_SOURCE /* memrchr */
#include "boundary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define FILE_BLOCK ((size_t)1 << 20)

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

/* A stretch without quotes, inside quotes or not. */
static void count_stretch(boundary_state *s, const unsigned char *b, size_t n) {
  if (n == 0)
    return;
  int outside = !s->odd;
  uint64_t lines = (b[0] == '\r') + (b[0] == '\n' && !s->cr);
  uint64_t recs = outside && s->at_end && !is_end(b[0]);
  uint64_t l = 0, r = 0;
  for (size_t k = 1; k < n; k++) { /* branch-free: vectorised */
    unsigned c = b[k], p = b[k - 1];
    unsigned ce = (c == '\r') | (c == '\n'), pe = (p == '\r') | (p == '\n');
    l += (c == '\r') + ((c == '\n') & (p != '\r'));
    r += (~ce & pe) & 1u;
  }
  s->lines += lines + l;
  if (outside)
    s->records += recs + r;
  s->cr = b[n - 1] == '\r';
  s->at_end = outside && is_end(b[n - 1]);
}

void csvreg__boundary_count(boundary_state *s, const unsigned char *b, size_t n) {
  size_t i = 0;
  while (i < n) {
    const unsigned char *q = memchr(b + i, '"', n - i);
    size_t e = q ? (size_t)(q - b) : n;
    count_stretch(s, b + i, e - i);
    if (!q)
      break;
    step(s, '"');
    i = e + 1;
  }
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
    if (r == 0) { /* the file shrank: its new end is the end */
      f->size = f->pos + got;
      break;
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
