/*
 * model_read.c - a model file read from a descriptor with its size bounded
 * as it arrives (issue 17 item 9). A regular file has its size up front; a
 * pipe does not, and was read up to the 1 GiB cap before being refused. The
 * text is fed to json_head.c as it is read: garbage stops the read where it
 * shows, and once the "spec"'s terms are counted (they come first) the text
 * is bounded by what a model of that many terms takes.
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

csvreg_status csvreg_model_read_fd(csvreg_model **out, int fd, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_read_fd: NULL argument");
  *out = NULL;
  struct stat sb;
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > CSVREG_MODEL_MAX_BYTES)
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "not a csvreg model: %llu bytes, larger than %zu (a model of %d terms "
                           "takes about half that)",
                           (unsigned long long)sb.st_size, CSVREG_MODEL_MAX_BYTES,
                           CSVREG_MAX_TERMS);
  static const char *const path[] = {"spec", "terms"};
  csvreg__jhead h;
  csvreg__jhead_init(&h, path, 2);
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
      st = csvreg__err_set(err, CSVREG_E_IO, "cannot read the model: %s", strerror(errno));
      break;
    }
    if (got == 0)
      break;
    csvreg__jhead_feed(&h, buf + len, (size_t)got);
    len += (size_t)got;
    if (h.done && limit == CSVREG_MODEL_MAX_BYTES)
      limit = model_bound(h.count, h.done_at);
    if (len > limit) {
      if (h.done)
        st = csvreg__err_set(err, CSVREG_E_FORMAT,
                             "not a csvreg model: more than %zu bytes, more than a model of its "
                             "%zu terms takes",
                             limit, h.count);
      else
        st = csvreg__err_set(err, CSVREG_E_FORMAT, "not a csvreg model: larger than %zu bytes",
                             limit);
      break;
    }
    if (h.bad)
      break; /* the loader says what is wrong, and where */
  }
  if (st) {
    free(buf);
    return st;
  }
  /* The text is freed once its JSON is read, before the model is built. */
  return csvreg__model_load_owned(out, buf, len, err);
}
