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
  /* fd of a regular file (issue 17): read up to its size at open (`lim`)
   * from `pos`; a read that ends before it means the file shrank. */
  int limited, checked;
  uint64_t pos, lim;
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

csvreg_status csvreg__source_changed(int fd, uint64_t at_open, csvreg_error *err) {
  struct stat sb;
  if (fstat(fd, &sb) != 0)
    return csvreg__err_set(err, CSVREG_E_IO, CSVREG__CHANGED_MSG " (%llu bytes at open; %s)",
                           (unsigned long long)at_open, strerror(errno));
  return csvreg__err_set(err, CSVREG_E_IO, CSVREG__CHANGED_MSG " (%llu bytes at open, %llu now)",
                         (unsigned long long)at_open, (unsigned long long)sb.st_size);
}

int csvreg__source_shrank(int fd, uint64_t at_open) {
  struct stat sb;
  return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < at_open;
}

/* A regular file read to its size at open: bytes appended later are not
 * read (the input is the file as it was opened, as for --threads and
 * --range, which cut that size); an end before it, or a size below it when
 * it is reached, is a file that shrank under the read (exit 4, not a short
 * input folded as if whole). */
static csvreg_status fd_read_limited(csvreg_source *s, void *buf, size_t want, size_t *got,
                                     csvreg_error *err) {
  *got = 0;
  if (s->pos >= s->lim) {
    if (!s->checked) {
      s->checked = 1;
      if (csvreg__source_shrank(s->fd, s->lim))
        return csvreg__source_changed(s->fd, s->lim, err);
    }
    return CSVREG_OK;
  }
  if (want > s->lim - s->pos)
    want = (size_t)(s->lim - s->pos);
  for (;;) {
    ssize_t n = read(s->fd, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return read_error(err);
    if (n == 0)
      return csvreg__source_changed(s->fd, s->lim, err);
    s->pos += (uint64_t)n;
    *got = (size_t)n;
    return CSVREG_OK;
  }
}

static csvreg_status fd_read(csvreg_source *s, void *buf, size_t want, size_t *got,
                             csvreg_error *err) {
  if (s->limited)
    return fd_read_limited(s, buf, want, got, err);
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
    if (n == 0) /* the file shrank under the read */
      return csvreg__source_changed(s->fd, s->end, err);
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

/* A regular file is read from its offset now to its size now. A size of 0
 * is not believed (procfs and sysfs files say 0 and hold text): read to
 * the end as a stream. */
static void source_limit(csvreg_source *s, off_t size) {
  off_t at = lseek(s->fd, 0, SEEK_CUR);
  if (size <= 0 || at < 0)
    return;
  s->limited = 1;
  s->lim = (uint64_t)size;
  s->pos = (uint64_t)at;
}

csvreg_status csvreg_source_new_fd(csvreg_source **out, int fd, int own, csvreg_error *err) {
  csvreg_status st = source_alloc(out, fd_read, err);
  if (st)
    return st;
  (*out)->fd = fd;
  (*out)->own_fd = own;
  struct stat sb;
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    (*out)->size = (int64_t)sb.st_size;
    source_limit(*out, sb.st_size);
  }
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

int csvreg__error_is_change(const csvreg_error *e) {
  return e && e->status == CSVREG_E_IO &&
         strncmp(e->message, CSVREG__CHANGED_MSG, sizeof CSVREG__CHANGED_MSG - 1) == 0;
}
