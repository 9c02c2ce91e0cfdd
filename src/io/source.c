/*
 * source.c - the byte sources under the reader (source.h): a descriptor,
 * memory, and a pread range of a regular file, each optionally preceded by
 * bytes read ahead. One read function per kind behind a pointer, so that a
 * decompressing source can be added without touching the reader.
 */
#define _POSIX_C_SOURCE 200809L
#include "source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "internal.h"

typedef csvreg_status (*source_read_fn)(csvreg_source *s, void *buf, size_t want, size_t *got,
                                        csvreg_error *err);

struct csvreg_source {
  source_read_fn read;
  int64_t size;
  /* fd and range */
  int fd, own_fd;
  uint64_t off, end;
  /* memory */
  const unsigned char *mem;
  size_t mem_len, mem_off;
  /* custom: another module's reads (decompress.c) */
  csvreg__source_fn custom_read;
  void (*custom_free)(void *);
  void *custom_ctx;
  /* bytes to yield first (owned) */
  unsigned char *ahead;
  size_t ahead_len, ahead_off;
  csvreg__digest *digest; /* borrowed; NULL: none */
};

static csvreg_status read_error(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_IO, "read failed: %s", strerror(errno));
}

static csvreg_status fd_read(csvreg_source *s, void *buf, size_t want, size_t *got,
                             csvreg_error *err) {
  for (;;) {
    ssize_t n = read(s->fd, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return read_error(err);
    *got = (size_t)n;
    return CSVREG_OK;
  }
}

static csvreg_status range_read(csvreg_source *s, void *buf, size_t want, size_t *got,
                                csvreg_error *err) {
  if (s->off >= s->end) {
    *got = 0;
    return CSVREG_OK;
  }
  if (want > s->end - s->off)
    want = (size_t)(s->end - s->off);
  for (;;) {
    ssize_t n = pread(s->fd, buf, want, (off_t)s->off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return read_error(err);
    if (n == 0) /* the file shrank: its new end is the end */
      s->end = s->off;
    s->off += (uint64_t)n;
    *got = (size_t)n;
    return CSVREG_OK;
  }
}

static csvreg_status mem_read(csvreg_source *s, void *buf, size_t want, size_t *got,
                              csvreg_error *err) {
  (void)err;
  size_t n = s->mem_len - s->mem_off < want ? s->mem_len - s->mem_off : want;
  if (n)
    memcpy(buf, s->mem + s->mem_off, n);
  s->mem_off += n;
  *got = n;
  return CSVREG_OK;
}

static csvreg_status custom_source_read(csvreg_source *s, void *buf, size_t want, size_t *got,
                                 csvreg_error *err) {
  return s->custom_read(s->custom_ctx, buf, want, got, err);
}

static csvreg_status source_alloc(csvreg_source **out, source_read_fn fn, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_source: NULL argument");
  *out = calloc(1, sizeof **out);
  if (!*out)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  (*out)->read = fn;
  (*out)->fd = -1;
  (*out)->size = -1;
  return CSVREG_OK;
}

csvreg_status csvreg_source_new_fd(csvreg_source **out, int fd, int own, csvreg_error *err) {
  csvreg_status st = source_alloc(out, fd_read, err);
  if (st)
    return st;
  (*out)->fd = fd;
  (*out)->own_fd = own;
  struct stat sb;
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
    (*out)->size = (int64_t)sb.st_size;
  return CSVREG_OK;
}

csvreg_status csvreg_source_new_mem(csvreg_source **out, const void *data, size_t len,
                                    csvreg_error *err) {
  csvreg_status st = source_alloc(out, mem_read, err);
  if (st)
    return st;
  (*out)->mem = data ? data : (const unsigned char *)"";
  (*out)->mem_len = len;
  (*out)->size = (int64_t)len;
  return CSVREG_OK;
}

csvreg_status csvreg_source_new_file_range(csvreg_source **out, int fd, uint64_t start,
                                           uint64_t end, csvreg_error *err) {
  csvreg_status st = source_alloc(out, range_read, err);
  if (st)
    return st;
  (*out)->fd = fd;
  (*out)->off = start;
  (*out)->end = end > start ? end : start;
  (*out)->size = (int64_t)((*out)->end - start);
  return CSVREG_OK;
}

csvreg_status csvreg__source_new_custom(csvreg_source **out, csvreg__source_fn read,
                                        void (*free_ctx)(void *), void *ctx, csvreg_error *err) {
  csvreg_status st = read ? source_alloc(out, custom_source_read, err)
                          : csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_source: NULL argument");
  if (st) {
    if (free_ctx)
      free_ctx(ctx);
    return st;
  }
  (*out)->custom_read = read;
  (*out)->custom_free = free_ctx;
  (*out)->custom_ctx = ctx;
  return CSVREG_OK;
}

void *csvreg__source_custom_ctx(const csvreg_source *s, csvreg__source_fn read) {
  return s && s->read == custom_source_read && s->custom_read == read ? s->custom_ctx : NULL;
}

csvreg_status csvreg_source_prepend(csvreg_source *s, void *data, size_t len, csvreg_error *err) {
  if (!s || (!data && len)) {
    free(data);
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_source_prepend: NULL argument");
  }
  if (s->ahead_off < s->ahead_len) { /* the bytes left in front go after the new ones */
    size_t left = s->ahead_len - s->ahead_off;
    unsigned char *t = realloc(data, len + left);
    if (!t) {
      free(data);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    memcpy(t + len, s->ahead + s->ahead_off, left);
    data = t;
    len += left;
  }
  free(s->ahead);
  s->ahead = data;
  s->ahead_len = len;
  s->ahead_off = 0; /* the size stays the input's: the bytes came from it */
  return CSVREG_OK;
}

csvreg_status csvreg_source_read(csvreg_source *s, void *buf, size_t want, size_t *got,
                                 csvreg_error *err) {
  *got = 0;
  if (s->ahead_off < s->ahead_len) {
    size_t n = s->ahead_len - s->ahead_off < want ? s->ahead_len - s->ahead_off : want;
    memcpy(buf, s->ahead + s->ahead_off, n);
    s->ahead_off += n;
    *got = n;
    if (s->digest)
      csvreg__digest_update(s->digest, buf, n);
    if (s->ahead_off == s->ahead_len) {
      free(s->ahead);
      s->ahead = NULL;
      s->ahead_len = s->ahead_off = 0;
    }
    return CSVREG_OK;
  }
  csvreg_status st = s->read(s, buf, want, got, err);
  if (!st && s->digest)
    csvreg__digest_update(s->digest, buf, *got);
  return st;
}

void csvreg__source_set_digest(csvreg_source *s, csvreg__digest *d) {
  if (s)
    s->digest = d;
}

int64_t csvreg_source_size(const csvreg_source *s) { return s ? s->size : -1; }

void csvreg_source_free(csvreg_source *s) {
  if (!s)
    return;
  if (s->custom_free)
    s->custom_free(s->custom_ctx);
  if (s->own_fd && s->fd >= 0)
    close(s->fd);
  free(s->ahead);
  free(s);
}
