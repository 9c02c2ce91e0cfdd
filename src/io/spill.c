/*
 * spill.c - the copy of an input that can be read only once (standard
 * input), for runs that read their input more than once (fit --vcov,
 * --refine, --plot with --spill DIR; issue 13). The copy is zstd-compressed
 * when the library has zstd: a spilled CSV takes a fraction of its size on
 * disk (the reason to spill into a chosen DIR at all is that stdin may be
 * larger than the space there), and the passes read it back through the
 * reader's own decompression, which runs on a thread of its own.
 *
 * An input that is compressed already, or that the reader refuses (an
 * archive, binary data), is copied as it is: the reader sniffs the copy as
 * it would have sniffed the input, so every message stays the same. So is
 * an input that is to be read as it is (CSVREG_DECOMPRESS_NONE).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decompress.h"
#include "internal.h"

#ifdef CSVREG_HAVE_ZSTD
#include <zstd.h>
#endif

#define SPILL_BUF ((size_t)1 << 17)

/* zstd's fastest regular level: it keeps up with reading a pipe and makes
 * CSV about four times smaller; stronger levels cost more than the disk
 * they save on a copy that lives for one run. */
#define SPILL_LEVEL 1

typedef struct spill {
  int in_fd, out_fd;
  const char *in_name, *out_name;
  csvreg_spill_info *info;
  csvreg_error *err;
} spill;

/* Up to `cap` bytes (fewer only at the end of the input); *got 0 at its end. */
static csvreg_status read_full(spill *s, unsigned char *buf, size_t cap, size_t *got) {
  size_t n = 0;
  while (n < cap) {
    ssize_t r = read(s->in_fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      csvreg_status st = csvreg__err_set(s->err, CSVREG_E_IO, "cannot read: %s", strerror(errno));
      if (s->err)
        snprintf(s->err->source, sizeof s->err->source, "%s", s->in_name);
      return st;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  *got = n;
  s->info->bytes_in += n;
  return CSVREG_OK;
}

static csvreg_status write_all(spill *s, const unsigned char *b, size_t n) {
  for (size_t w = 0; w < n;) {
    ssize_t k = write(s->out_fd, b + w, n - w);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return csvreg__err_set(s->err, CSVREG_E_IO, "cannot write %s: %s", s->out_name,
                             strerror(errno));
    w += (size_t)k;
  }
  s->info->bytes_out += n;
  return CSVREG_OK;
}

static csvreg_status copy_plain(spill *s, unsigned char *buf, size_t have) {
  csvreg_status st = write_all(s, buf, have);
  while (!st && have == SPILL_BUF && !(st = read_full(s, buf, SPILL_BUF, &have)))
    st = write_all(s, buf, have);
  return st;
}

#ifdef CSVREG_HAVE_ZSTD
static csvreg_status zstd_failed(spill *s, size_t code) {
  return csvreg__err_set(s->err, CSVREG_E_IO, "cannot compress %s: zstd: %s", s->out_name,
                         ZSTD_getErrorName(code));
}

/* One frame: each buffer read is given to the compressor, whose output is
 * written as it comes; the frame is ended at the input's end. */
static csvreg_status copy_zstd(spill *s, unsigned char *buf, size_t have) {
  const size_t out_cap = ZSTD_CStreamOutSize();
  unsigned char *out = malloc(out_cap);
  ZSTD_CCtx *cc = ZSTD_createCCtx();
  csvreg_status st = CSVREG_OK;
  if (!out || !cc)
    st = csvreg__err_set(s->err, CSVREG_E_NOMEM, "out of memory");
  size_t code = 0;
  if (!st && ZSTD_isError(code = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, SPILL_LEVEL)))
    st = zstd_failed(s, code);
  s->info->compression = "zstd";
  for (int last = 0; !st && !last;) {
    last = have < SPILL_BUF;
    ZSTD_inBuffer in = {buf, have, 0};
    for (int more = 1; !st && more;) {
      ZSTD_outBuffer ob = {out, out_cap, 0};
      code = ZSTD_compressStream2(cc, &ob, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(code))
        st = zstd_failed(s, code);
      else
        st = write_all(s, out, ob.pos);
      /* e_end: until the frame is flushed; e_continue: until the input is taken */
      more = last ? code != 0 : in.pos < in.size;
    }
    if (!st && !last)
      st = read_full(s, buf, SPILL_BUF, &have);
  }
  ZSTD_freeCCtx(cc);
  free(out);
  return st;
}
#endif

csvreg_status csvreg_spill_copy(int in_fd, const char *in_name, int out_fd, const char *out_name,
                                int mode, csvreg_spill_info *info, csvreg_error *err) {
  if (!info || in_fd < 0 || out_fd < 0)
    return csvreg__err_set(err, CSVREG_E_USAGE, "spill_copy: bad argument");
  memset(info, 0, sizeof *info);
  spill s = {in_fd, out_fd, in_name ? in_name : "<stdin>", out_name ? out_name : "the spill file",
             info, err};
  unsigned char *buf = malloc(SPILL_BUF);
  if (!buf)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  size_t have = 0;
  csvreg_status st = read_full(&s, buf, SPILL_BUF, &have);
  if (!st) {
    /* the reader's own look at the first bytes decides (decompress.c) */
    size_t head = have < CSVREG__SNIFF_BYTES ? have : CSVREG__SNIFF_BYTES;
    int plain_text = have > 0 && !csvreg__sniff_compression(buf, head) &&
                     !csvreg__sniff_not_text(buf, head);
#ifdef CSVREG_HAVE_ZSTD
    if (plain_text && mode == CSVREG_DECOMPRESS_AUTO)
      st = copy_zstd(&s, buf, have);
    else
#else
    (void)plain_text;
    (void)mode;
#endif
      st = copy_plain(&s, buf, have);
  }
  free(buf);
  return st;
}
