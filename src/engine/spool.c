/*
 * spool.c - bytes kept for later, in order, in bounded memory (csvreg_spool
 * in csvreg.h): a piece of a threaded pass that writes text (predict's
 * rows) cannot write it before the pieces ahead of it are out, so it spools
 * it until its turn. It is the library's one memory-then-file store
 * (csvreg__spool, badlog.c, which --skip-bad's rows and eval --every's
 * windows use too) behind a public face: up to `mem` bytes stay in memory,
 * the rest go to an unnamed temporary file that no error or signal can
 * leave behind, so a piece whose output is most of the input (the second
 * of two byte ranges) costs disk, not memory. The drain hands the bytes to
 * the caller in order and empties the spool.
 */
#include <stdlib.h>

#include "badlog.h"
#include "internal.h"

/* Read back this much at a time. */
#define DRAIN_BYTES ((size_t)1 << 20)

struct csvreg_spool {
  csvreg__spool *sp;
  size_t mem;
};

csvreg_status csvreg_spool_new(csvreg_spool **out, size_t mem, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spool_new: NULL argument");
  *out = calloc(1, sizeof **out);
  if (!*out)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  (*out)->mem = mem ? mem : CSVREG_SPOOL_MEM;
  if (!((*out)->sp = csvreg__spool_new((*out)->mem))) {
    free(*out);
    *out = NULL;
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  return CSVREG_OK;
}

void csvreg_spool_free(csvreg_spool *s) {
  if (!s)
    return;
  csvreg__spool_free(s->sp);
  free(s);
}

uint64_t csvreg_spool_bytes(const csvreg_spool *s) { return s ? csvreg__spool_size(s->sp) : 0; }

uint64_t csvreg_spool_spilled(const csvreg_spool *s) {
  return s ? csvreg__spool_file_bytes(s->sp) : 0;
}

static csvreg_status spool_failed(csvreg_status st, csvreg_error *err, const char *what) {
  return st == CSVREG_E_NOMEM ? csvreg__err_set(err, st, "out of memory")
                              : csvreg__err_set(err, CSVREG_E_IO, "spool: %s", what);
}

csvreg_status csvreg_spool_write(csvreg_spool *s, const void *data, size_t n, csvreg_error *err) {
  if (!s || (!data && n))
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spool_write: NULL argument");
  csvreg_status st = csvreg__spool_write(s->sp, data, n);
  return st ? spool_failed(st, err, "cannot write its temporary file") : CSVREG_OK;
}

/* The bytes in the temporary file are read back through a buffer; those
 * still in memory (all of them for a spool that stayed under `mem`, as a
 * piece of predict --threads does) go to fn where they are, without a copy. */
csvreg_status csvreg_spool_drain(csvreg_spool *s, csvreg_spool_fn fn, void *ctx,
                                 csvreg_error *err) {
  if (!s || !fn)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spool_drain: NULL argument");
  uint64_t size = csvreg__spool_file_bytes(s->sp);
  csvreg_status st = CSVREG_OK;
  unsigned char *tmp = size ? malloc(size < DRAIN_BYTES ? (size_t)size : DRAIN_BYTES) : NULL;
  if (size && !tmp)
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (uint64_t off = 0; off < size && !st;) {
    size_t want = size - off < DRAIN_BYTES ? (size_t)(size - off) : DRAIN_BYTES;
    csvreg_status rs = csvreg__spool_read(s->sp, off, tmp, want);
    if (rs)
      st = spool_failed(rs, err, "cannot read its temporary file back");
    else if (fn(ctx, tmp, want))
      st = csvreg__err_set(err, CSVREG_E_IO, "spool: the output failed");
    off += want;
  }
  free(tmp);
  size_t len = 0;
  const unsigned char *mem = csvreg__spool_tail(s->sp, &len);
  for (size_t off = 0; off < len && !st;) {
    size_t want = len - off < DRAIN_BYTES ? len - off : DRAIN_BYTES;
    if (fn(ctx, mem + off, want))
      st = csvreg__err_set(err, CSVREG_E_IO, "spool: the output failed");
    off += want;
  }
  csvreg__spool_clear(s->sp);
  return st;
}
