/*
 * model_read.c - a model file read from a descriptor with its size bounded
 * as it arrives (issue 17 item 9), and, from a regular file, never held
 * whole (load12d). A regular file has its size up front; a pipe does not,
 * and was read up to the 1 GiB cap before being refused. The text is fed
 * to json_head.c as it is read: garbage stops the read where it shows, and
 * once the "spec"'s terms are counted (they come first) the text is
 * bounded by what a model of that many terms takes.
 *
 * A regular file is read a block at a time into the scanner of
 * state_scan.c: the big arrays' numbers go to their vectors and the rest
 * (spec, names, levels, the fit's small members) to a small text for
 * jansson, so the peak is the built model and one block, not its text (30
 * T^2 bytes: 48 MB for 1009 design columns). Text the scanner does not
 * take (a damaged or unusual file) is read again from the start and loaded
 * whole, as before, so every message stays what it was. A pipe cannot be
 * read again: its text is held whole, as before.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "json_head.h"
#include "model_impl.h"
#include "state.h"
#include "state_scan.h"

/* The most text a model whose terms end at byte `names` (the spec: inputs,
 * formula, levels and the terms' names) can have: per T^2 a covariance
 * (pretty-printed reals, about 36 bytes each), the state's upper triangle
 * (hex floats, about 34 bytes each, half as many) and a robust covariance,
 * 121 MB at 2000 terms measured against 512 MB here; the names again in the
 * fit and the state, 16 times over; 32 MiB for fold records and the rest. */
static size_t model_bound(size_t terms, size_t names) {
  if (terms > CSVREG_MAX_TERMS)
    return CSVREG_MODEL_MAX_BYTES;
  size_t b = 128 * (terms + 3) * (terms + 3) + ((size_t)32 << 20);
  if (names > (CSVREG_MODEL_MAX_BYTES - b) / 16)
    return CSVREG_MODEL_MAX_BYTES;
  b += 16 * names;
  return b < CSVREG_MODEL_MAX_BYTES ? b : CSVREG_MODEL_MAX_BYTES;
}

/* The bound as the text arrives: `got` new bytes at p, `len` read in all
 * (them included). 1 when the read must stop: *st set past the bound, or
 * not JSON text (h->bad: the loader says what is wrong, and where). */
static int bounded(csvreg__jhead *h, size_t *limit, const char *p, size_t got, size_t len,
                   csvreg_status *st, csvreg_error *err) {
  csvreg__jhead_feed(h, p, got);
  if (h->done && *limit == CSVREG_MODEL_MAX_BYTES)
    *limit = model_bound(h->count, h->done_at);
  if (len > *limit) {
    if (h->done)
      *st = csvreg__err_set(err, CSVREG_E_FORMAT,
                            "not a csvreg model: more than %zu bytes, more than a model of its "
                            "%zu terms takes",
                            *limit, h->count);
    else
      *st = csvreg__err_set(err, CSVREG_E_FORMAT, "not a csvreg model: larger than %zu bytes",
                            *limit);
    return 1;
  }
  return h->bad;
}

static const char *const terms_path[] = {"spec", "terms"};

static csvreg_status read_error(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_IO, "cannot read the model: %s", strerror(errno));
}

/* The whole text, then the model (the pipe's way, and a file the scanner
 * did not take). */
static csvreg_status read_whole(csvreg_model **out, int fd, unsigned flags, csvreg_error *err) {
  csvreg__jhead h;
  csvreg__jhead_init(&h, terms_path, 2);
  size_t cap = (size_t)1 << 16, len = 0, limit = CSVREG_MODEL_MAX_BYTES;
  char *buf = malloc(cap);
  csvreg_status st = CSVREG_OK;
  if (!buf)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (;;) {
    if (len == cap) {
      /* never more than the limit plus one byte: that byte says "longer" */
      size_t ncap = cap < (limit + 1) / 2 ? cap * 2 : limit + 1;
      if (ncap <= cap) {
        st = csvreg__err_set(err, CSVREG_E_FORMAT, "not a csvreg model: larger than %zu bytes",
                             limit);
        break;
      }
      if ((st = csvreg__buf_grow(&buf, &cap, ncap, err)))
        break;
    }
    ssize_t got = read(fd, buf + len, cap - len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      st = read_error(err);
      break;
    }
    if (got == 0)
      break;
    len += (size_t)got;
    if (bounded(&h, &limit, buf + len - got, (size_t)got, len, &st, err))
      break;
  }
  if (st) {
    free(buf);
    return st;
  }
  /* The text is freed once its JSON is read, before the model is built. */
  return csvreg__model_load_owned(out, buf, len, flags, err);
}

/* The blocks of a regular file for the scanner, bounded as above. */
typedef struct model_feed {
  int fd;
  char *blk;
  size_t size; /* of a block */
  csvreg__jhead h;
  size_t len, limit;
  int stop; /* past the bound (st), a read error (st), or not JSON (h.bad) */
  csvreg_status st;
  csvreg_error *err;
} model_feed;

static size_t feed_next(void *ctx, const char **block) {
  model_feed *f = ctx;
  if (f->stop)
    return 0;
  ssize_t got;
  while ((got = read(f->fd, f->blk, f->size)) < 0 && errno == EINTR)
    ;
  if (got < 0) {
    f->st = read_error(f->err);
    f->stop = 1;
    return 0;
  }
  f->len += (size_t)got;
  if (got && bounded(&f->h, &f->limit, f->blk, (size_t)got, f->len, &f->st, f->err)) {
    f->stop = 1;
    return 0;
  }
  *block = f->blk;
  return (size_t)got;
}

/* For tests only: CSVREG_TEST_MODEL_BLOCK=BYTES sets the block (default 64
 * KiB), so that numbers and keys split across blocks are read in tests. */
static size_t block_size(void) {
  const char *e = getenv("CSVREG_TEST_MODEL_BLOCK");
  long v = e ? strtol(e, NULL, 10) : 0;
  return v > 0 && v <= (1L << 24) ? (size_t)v : (size_t)1 << 16;
}

csvreg_status csvreg_model_read_fd(csvreg_model **out, int fd, csvreg_error *err) {
  return csvreg_model_read_fd_with(out, fd, 0, err);
}

csvreg_status csvreg_model_read_fd_with(csvreg_model **out, int fd, unsigned flags,
                                        csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_read_fd: NULL argument");
  *out = NULL;
  struct stat sb;
  int regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
  if (regular && (uint64_t)sb.st_size > CSVREG_MODEL_MAX_BYTES)
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "not a csvreg model: %llu bytes, larger than %zu (a model of %d terms "
                           "takes about half that)",
                           (unsigned long long)sb.st_size, CSVREG_MODEL_MAX_BYTES,
                           CSVREG_MAX_TERMS);
  off_t start = regular ? lseek(fd, 0, SEEK_CUR) : -1;
  if (start < 0)
    return read_whole(out, fd, flags, err);
  model_feed f = {.fd = fd, .size = block_size(), .limit = CSVREG_MODEL_MAX_BYTES, .err = err};
  csvreg__jhead_init(&f.h, terms_path, 2);
  if (!(f.blk = malloc(f.size)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg__jfeed feed = {feed_next, &f};
  csvreg__jscan scan;
  int r = csvreg__jscan_feed(&feed, 1, &scan);
  free(f.blk);
  if (f.st) {
    if (r > 0)
      csvreg__jscan_free(&scan);
    return f.st;
  }
  if (r < 0)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  int whole = 1;
  if (r > 0 && !f.stop) {
    csvreg_status st = csvreg__model_load_scanned(out, &scan, &whole, flags, err);
    if (!whole)
      return st;
  } else if (r > 0) {
    csvreg__jscan_free(&scan);
  }
  /* not the scanner's text: all of it again, for the loader's message */
  if (lseek(fd, start, SEEK_SET) < 0)
    return read_error(err);
  return read_whole(out, fd, flags, err);
}
