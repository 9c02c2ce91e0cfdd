/*
 * spool.c - bytes kept for later, in order, in bounded memory (csvreg_spool
 * in csvreg.h): a piece of a threaded pass that writes text (predict's
 * rows) cannot write it before the pieces ahead of it are out, so it spools
 * it until its turn. Up to `mem` bytes stay in a buffer; past that the
 * buffer goes to an unnamed temporary file, as badlog.c does with the rows
 * --skip-bad drops, so a piece whose output is most of the input (the
 * second of two byte ranges) costs disk, not memory. The drain hands the
 * file's bytes, then the buffer's, to the caller in input order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Read back from the temporary file this much at a time. */
#define DRAIN_BYTES ((size_t)1 << 20)

struct csvreg_spool {
  unsigned char *buf;
  size_t len, cap, mem;
  FILE *spill; /* what did not fit in buf, earlier bytes first */
  uint64_t bytes, spilled;
};

csvreg_status csvreg_spool_new(csvreg_spool **out, size_t mem, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spool_new: NULL argument");
  *out = calloc(1, sizeof **out);
  if (!*out)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  (*out)->mem = mem ? mem : CSVREG_SPOOL_MEM;
  return CSVREG_OK;
}

void csvreg_spool_free(csvreg_spool *s) {
  if (!s)
    return;
  if (s->spill)
    fclose(s->spill);
  free(s->buf);
  free(s);
}

uint64_t csvreg_spool_bytes(const csvreg_spool *s) { return s ? s->bytes : 0; }

uint64_t csvreg_spool_spilled(const csvreg_spool *s) { return s ? s->spilled : 0; }

/* The buffer to the temporary file (made at the first spill). */
static csvreg_status spill(csvreg_spool *s, csvreg_error *err) {
  if (!s->spill && !(s->spill = tmpfile()))
    return csvreg__err_set(err, CSVREG_E_IO, "spool: cannot make a temporary file: %s",
                           strerror(errno));
  if (s->len && fwrite(s->buf, 1, s->len, s->spill) != s->len)
    return csvreg__err_set(err, CSVREG_E_IO, "spool: cannot write its temporary file: %s",
                           strerror(errno));
  s->spilled += s->len;
  s->len = 0;
  return CSVREG_OK;
}

csvreg_status csvreg_spool_write(csvreg_spool *s, const void *data, size_t n, csvreg_error *err) {
  if (!s || (!data && n))
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spool_write: NULL argument");
  csvreg_status st;
  if (s->len + n > s->mem && s->len && (st = spill(s, err)))
    return st;
  if (n >= s->mem) { /* as large as the buffer: straight to the file */
    s->len = 0;
    if ((st = spill(s, err)))
      return st;
    if (fwrite(data, 1, n, s->spill) != n)
      return csvreg__err_set(err, CSVREG_E_IO, "spool: cannot write its temporary file: %s",
                             strerror(errno));
    s->spilled += n;
    s->bytes += n;
    return CSVREG_OK;
  }
  if (s->len + n > s->cap) {
    /* grown by doubling up to `mem`: a piece with little to say holds little */
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + n)
      cap *= 2;
    if (cap > s->mem)
      cap = s->mem;
    unsigned char *nb = realloc(s->buf, cap);
    if (!nb)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    s->buf = nb;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, data, n);
  s->len += n;
  s->bytes += n;
  return CSVREG_OK;
}

csvreg_status csvreg_spool_drain(csvreg_spool *s, csvreg_spool_fn fn, void *ctx,
                                 csvreg_error *err) {
  if (!s || !fn)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spool_drain: NULL argument");
  csvreg_status st = CSVREG_OK;
  if (s->spill) {
    if (fflush(s->spill) || fseek(s->spill, 0, SEEK_SET))
      return csvreg__err_set(err, CSVREG_E_IO, "spool: cannot read its temporary file: %s",
                             strerror(errno));
    unsigned char *tmp = malloc(DRAIN_BYTES);
    if (!tmp)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    for (uint64_t left = s->spilled; left > 0 && !st;) {
      size_t want = left < DRAIN_BYTES ? (size_t)left : DRAIN_BYTES;
      if (fread(tmp, 1, want, s->spill) != want)
        st = csvreg__err_set(err, CSVREG_E_IO, "spool: cannot read its temporary file back");
      else if (fn(ctx, tmp, want))
        st = csvreg__err_set(err, CSVREG_E_IO, "spool: the output failed");
      left -= want;
    }
    free(tmp);
    fclose(s->spill);
    s->spill = NULL;
  }
  if (!st && s->len && fn(ctx, s->buf, s->len))
    st = csvreg__err_set(err, CSVREG_E_IO, "spool: the output failed");
  s->len = 0;
  s->bytes = s->spilled = 0;
  return st;
}
