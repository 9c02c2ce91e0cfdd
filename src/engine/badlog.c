/*
 * badlog.c - the dropped rows of one piece of a threaded pass (badlog.h),
 * serialized (line, column, name, reason, fields) into a spool that holds
 * at most CSVREG__SPOOL_MEM bytes in memory: past it the bytes go to an
 * unnamed temporary file, so a piece that drops millions of rows while an
 * earlier piece is still being read costs disk, not memory. Replayed
 * through one scratch record when the piece is merged.
 *
 * The spool is that memory-then-file store on its own, for any append-only
 * bytes read back by offset (eval --every's finished windows and the rows
 * of a window a piece shares with the piece before it). Its file has no
 * name (O_TMPFILE, or unlinked as soon as it is made), so neither an error
 * path nor a signal can leave it behind: the kernel drops it with the last
 * descriptor. Reads of the file go through one cached block, so reading
 * back in order costs a pread per block, not per field.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badlog.h"
#include "internal.h"

#define NONE UINT64_MAX /* a NULL name or fields */
#define SPOOL_READ ((size_t)64 << 10)

/* ---- the spool ---- */

struct csvreg__spool {
  unsigned char *buf; /* bytes flen .. flen + len */
  size_t len, cap, mem;
  int fd;        /* the file of bytes 0 .. flen, -1 before the first move */
  uint64_t flen; /* bytes in the file */
  csvreg_status bad;
  unsigned char *rbuf; /* a block of the file: bytes roff .. roff + rlen */
  uint64_t roff;
  size_t rlen;
};

csvreg__spool *csvreg__spool_new(size_t mem) {
  csvreg__spool *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->mem = mem ? mem : CSVREG__SPOOL_MEM;
  s->fd = -1;
  return s;
}

void csvreg__spool_clear(csvreg__spool *s) {
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
  s->flen = 0;
  s->len = 0;
  s->rlen = 0;
  s->bad = CSVREG_OK;
}

void csvreg__spool_free(csvreg__spool *s) {
  if (!s)
    return;
  csvreg__spool_clear(s);
  free(s->buf);
  free(s->rbuf);
  free(s);
}

/* A file with no name in $TMPDIR (else /tmp). Without O_TMPFILE it is
 * made and unlinked with every signal held on this thread, so the name
 * lives only between two system calls. */
static int spool_file(void) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !dir[0])
    dir = "/tmp";
#ifdef O_TMPFILE
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
    return fd;
#endif
  size_t n = strlen(dir) + 32;
  char *path = malloc(n);
  if (!path)
    return -1;
  snprintf(path, n, "%s/.csvreg-spool-XXXXXX", dir);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int tfd = mkstemp(path);
  if (tfd >= 0)
    unlink(path);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  free(path);
  return tfd;
}

static int write_all(int fd, const unsigned char *p, size_t n, uint64_t off) {
  while (n) {
    ssize_t k = pwrite(fd, p, n, (off_t)off);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    p += k;
    n -= (size_t)k;
    off += (uint64_t)k;
  }
  return 0;
}

csvreg_status csvreg__spool_write(csvreg__spool *s, const void *p, size_t n) {
  if (s->bad)
    return s->bad;
  if (s->len + n > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + n)
      cap *= 2;
    unsigned char *nb = realloc(s->buf, cap);
    if (!nb)
      return s->bad = CSVREG_E_NOMEM;
    s->buf = nb;
    s->cap = cap;
  }
  if (n)
    memcpy(s->buf + s->len, p, n);
  s->len += n;
  if (s->len >= s->mem) {
    if (s->fd < 0 && (s->fd = spool_file()) < 0)
      return s->bad = CSVREG_E_IO;
    if (write_all(s->fd, s->buf, s->len, s->flen))
      return s->bad = CSVREG_E_IO;
    s->flen += s->len;
    s->len = 0;
  }
  return CSVREG_OK;
}

uint64_t csvreg__spool_size(const csvreg__spool *s) { return s->flen + s->len; }

const unsigned char *csvreg__spool_tail(const csvreg__spool *s, size_t *len) {
  *len = s->len;
  return s->buf;
}

int csvreg__spool_spilled(const csvreg__spool *s) { return s->fd >= 0; }

uint64_t csvreg__spool_file_bytes(const csvreg__spool *s) { return s->flen; }

csvreg_status csvreg__spool_read(csvreg__spool *s, uint64_t off, void *p, size_t n) {
  unsigned char *out = p;
  if (off > csvreg__spool_size(s) || n > csvreg__spool_size(s) - off)
    return CSVREG_E_IO;
  while (n && off < s->flen) {
    if (!(off >= s->roff && off < s->roff + s->rlen)) {
      if (!s->rbuf && !(s->rbuf = malloc(SPOOL_READ)))
        return CSVREG_E_NOMEM;
      size_t want = s->flen - off < SPOOL_READ ? (size_t)(s->flen - off) : SPOOL_READ;
      size_t got = 0;
      s->rlen = 0;
      while (got < want) {
        ssize_t k = pread(s->fd, s->rbuf + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
          continue;
        if (k <= 0)
          return CSVREG_E_IO;
        got += (size_t)k;
      }
      s->roff = off;
      s->rlen = want;
    }
    size_t at = (size_t)(off - s->roff), k = s->rlen - at < n ? s->rlen - at : n;
    memcpy(out, s->rbuf + at, k);
    out += k;
    off += k;
    n -= k;
  }
  if (n)
    memcpy(out, s->buf + (off - s->flen), n);
  return CSVREG_OK;
}

csvreg_status csvreg__spool_copy(csvreg__spool *dst, csvreg__spool *src, uint64_t off, uint64_t n) {
  unsigned char tmp[8192];
  while (n) {
    size_t k = n < sizeof tmp ? (size_t)n : sizeof tmp;
    csvreg_status st = csvreg__spool_read(src, off, tmp, k);
    if (!st)
      st = csvreg__spool_write(dst, tmp, k);
    if (st)
      return st;
    off += k;
    n -= k;
  }
  return CSVREG_OK;
}

/* ---- the log of dropped rows ---- */

struct badlog {
  csvreg__spool *sp;
  csvreg_status bad; /* the first failure of an add */
  uint64_t shift;    /* added to each row's line when replayed */
};

badlog *csvreg__badlog_new(void) {
  badlog *b = calloc(1, sizeof *b);
  if (b && !(b->sp = csvreg__spool_new(CSVREG__SPOOL_MEM))) {
    free(b);
    b = NULL;
  }
  return b;
}

void csvreg__badlog_shift(badlog *b, uint64_t lines) {
  if (b)
    b->shift += lines;
}

void csvreg__badlog_free(badlog *b) {
  if (!b)
    return;
  csvreg__spool_free(b->sp);
  free(b);
}

static int put_u64(badlog *b, uint64_t v) { return csvreg__spool_write(b->sp, &v, sizeof v) != 0; }

static int put_str(badlog *b, const char *s, size_t n) {
  return put_u64(b, s ? (uint64_t)n : NONE) || (s && csvreg__spool_write(b->sp, s, n));
}

void csvreg__badlog_add(void *ctx, const csvreg_bad_row *r) {
  badlog *b = ctx;
  if (b->bad)
    return;
  int fail = put_u64(b, r->line) || put_u64(b, r->column) ||
             put_str(b, r->name, r->name ? strlen(r->name) : 0) ||
             put_str(b, r->reason, strlen(r->reason)) || put_u64(b, r->fields ? r->nfields : NONE);
  for (size_t i = 0; !fail && r->fields && i < r->nfields; i++)
    fail = put_str(b, r->fields[i].ptr ? r->fields[i].ptr : "", r->fields[i].len);
  if (fail)
    b->bad = b->sp->bad ? b->sp->bad : CSVREG_E_NOMEM;
}

/* Reading back, from offset *off. */
static int get(badlog *b, uint64_t *off, void *dst, size_t n) {
  csvreg_status st = csvreg__spool_read(b->sp, *off, dst, n);
  if (st)
    return st == CSVREG_E_NOMEM ? -2 : -1;
  *off += n;
  return 0;
}

/* A string into scratch at *len (0-terminated); its offset, or NONE. */
static int get_str(badlog *b, uint64_t *at, char **scratch, size_t *cap, size_t *len,
                   uint64_t *off) {
  uint64_t n;
  int rc = get(b, at, &n, sizeof n);
  if (rc)
    return rc;
  *off = n;
  if (n == NONE)
    return 0;
  if (n > csvreg__spool_size(b->sp))
    return -1;
  if (*len + n + 1 > *cap) {
    size_t ncap = *cap ? *cap : 256;
    while (ncap < *len + n + 1)
      ncap *= 2;
    char *ns = realloc(*scratch, ncap);
    if (!ns)
      return -2;
    *scratch = ns;
    *cap = ncap;
  }
  if ((rc = get(b, at, *scratch + *len, (size_t)n)))
    return rc;
  (*scratch)[*len + n] = 0;
  *off = *len;
  *len += (size_t)n + 1;
  return 0;
}

static csvreg_status read_failed(csvreg_error *err, int rc) {
  return rc == -2 ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory")
                  : csvreg__err_set(err, CSVREG_E_IO, "--skip-bad report: cannot read it back");
}

csvreg_status csvreg__badlog_replay(badlog *b, const char *source, csvreg_bad_row_fn fn, void *ctx,
                                    csvreg_error *err) {
  if (b->bad)
    return csvreg__err_set(err, b->bad, "--skip-bad report: %s",
                           b->bad == CSVREG_E_NOMEM ? "out of memory"
                                                    : "cannot write its temporary file");
  char *scratch = NULL;
  size_t cap = 0;
  csvreg_field *fields = NULL;
  size_t fcap = 0;
  uint64_t *offs = NULL, *lens = NULL;
  csvreg_status st = CSVREG_OK;
  uint64_t at = 0, end = csvreg__spool_size(b->sp);
  while (at < end) {
    uint64_t line, column, name, reason, nf;
    size_t len = 0;
    int rc = get(b, &at, &line, sizeof line);
    if (!rc)
      rc = get(b, &at, &column, sizeof column);
    if (!rc)
      rc = get_str(b, &at, &scratch, &cap, &len, &name);
    if (!rc)
      rc = get_str(b, &at, &scratch, &cap, &len, &reason);
    if (!rc)
      rc = get(b, &at, &nf, sizeof nf);
    if (rc) {
      st = read_failed(err, rc);
      break;
    }
    size_t n = nf == NONE ? 0 : (size_t)nf;
    if (n > fcap) {
      csvreg_field *nfp = realloc(fields, n * sizeof *fields);
      uint64_t *no = realloc(offs, n * sizeof *offs);
      if (nfp)
        fields = nfp;
      if (no)
        offs = no;
      uint64_t *nl = no ? realloc(lens, n * sizeof *lens) : NULL;
      if (nl)
        lens = nl;
      if (!nfp || !no || !nl) {
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        break;
      }
      fcap = n;
    }
    for (size_t i = 0; i < n && !st; i++) {
      size_t before = len;
      int frc = get_str(b, &at, &scratch, &cap, &len, &offs[i]);
      if (frc)
        st = read_failed(err, frc);
      lens[i] = len - before - 1;
    }
    if (st)
      break;
    /* pointers only now: the scratch may have moved while it grew */
    for (size_t i = 0; i < n; i++)
      fields[i] = (csvreg_field){scratch + offs[i], (size_t)lens[i]};
    csvreg_bad_row r = {source,
                        line + b->shift,
                        (size_t)column,
                        name == NONE ? NULL : scratch + name,
                        scratch + reason,
                        nf == NONE ? NULL : fields,
                        n};
    fn(ctx, &r);
  }
  free(scratch);
  free(fields);
  free(offs);
  free(lens);
  csvreg__spool_clear(b->sp);
  return st;
}
