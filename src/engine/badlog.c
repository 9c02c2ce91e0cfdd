/*
 * badlog.c - the dropped rows of one piece of a threaded pass (badlog.h),
 * serialized (line, column, name, reason, fields) into a buffer that holds
 * at most BADLOG_MEM bytes: past it the buffer goes to an unnamed temporary
 * file, so a piece that drops millions of rows while an earlier piece is
 * still being read costs disk, not memory. Replayed through one scratch
 * record when the piece is merged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badlog.h"
#include "internal.h"

#define BADLOG_MEM (256u << 10)
#define NONE UINT64_MAX /* a NULL name or fields */

struct badlog {
  unsigned char *buf;
  size_t len, cap;
  FILE *spill;       /* what did not fit in buf, earlier rows first */
  csvreg_status bad; /* the first failure of an add */
  uint64_t shift;    /* added to each row's line when replayed */
};

badlog *csvreg__badlog_new(void) { return calloc(1, sizeof(badlog)); }

void csvreg__badlog_shift(badlog *b, uint64_t lines) {
  if (b)
    b->shift += lines;
}

void csvreg__badlog_free(badlog *b) {
  if (!b)
    return;
  if (b->spill)
    fclose(b->spill);
  free(b->buf);
  free(b);
}

static int put(badlog *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    unsigned char *nb = realloc(b->buf, cap);
    if (!nb)
      return -1;
    b->buf = nb;
    b->cap = cap;
  }
  if (n)
    memcpy(b->buf + b->len, p, n);
  b->len += n;
  return 0;
}

static int put_u64(badlog *b, uint64_t v) { return put(b, &v, sizeof v); }

static int put_str(badlog *b, const char *s, size_t n) {
  return put_u64(b, s ? (uint64_t)n : NONE) || (s && put(b, s, n));
}

static int flush(badlog *b) {
  if (!b->spill && !(b->spill = tmpfile()))
    return -1;
  if (fwrite(b->buf, 1, b->len, b->spill) != b->len)
    return -1;
  b->len = 0;
  return 0;
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
    b->bad = CSVREG_E_NOMEM;
  else if (b->len >= BADLOG_MEM && flush(b))
    b->bad = CSVREG_E_IO;
}

/* Reading back: from the spill file, then the buffer. */
typedef struct cursor {
  FILE *fp;
  const unsigned char *p, *end;
} cursor;

static int get(cursor *c, void *dst, size_t n) {
  /* a record is never split between the file and the buffer */
  if (c->fp)
    return fread(dst, 1, n, c->fp) == n ? 0 : -1;
  if ((size_t)(c->end - c->p) < n)
    return -1;
  memcpy(dst, c->p, n);
  c->p += n;
  return 0;
}

/* A string into scratch at *len (0-terminated); its offset, or NONE. */
static int get_str(cursor *c, char **scratch, size_t *cap, size_t *len, uint64_t *off) {
  uint64_t n;
  if (get(c, &n, sizeof n))
    return -1;
  *off = n;
  if (n == NONE)
    return 0;
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
  if (get(c, *scratch + *len, (size_t)n))
    return -1;
  (*scratch)[*len + n] = 0;
  *off = *len;
  *len += (size_t)n + 1;
  return 0;
}

csvreg_status csvreg__badlog_replay(badlog *b, const char *source, csvreg_bad_row_fn fn, void *ctx,
                                    csvreg_error *err) {
  if (b->bad)
    return csvreg__err_set(err, b->bad, "--skip-bad report: %s",
                           b->bad == CSVREG_E_NOMEM ? "out of memory"
                                                    : "cannot write its temporary file");
  cursor c = {b->spill, b->buf, b->buf + b->len};
  if (b->spill && (fflush(b->spill) || fseek(b->spill, 0, SEEK_SET)))
    return csvreg__err_set(err, CSVREG_E_IO, "--skip-bad report: cannot read its temporary file");
  char *scratch = NULL;
  size_t cap = 0;
  csvreg_field *fields = NULL;
  size_t fcap = 0;
  uint64_t *offs = NULL, *lens = NULL;
  csvreg_status st = CSVREG_OK;
  while (c.fp || c.p < c.end) {
    if (c.fp) { /* the file done, the buffer follows */
      int ch = getc(c.fp);
      if (ch == EOF)
        c.fp = NULL;
      else
        ungetc(ch, c.fp);
      if (!c.fp && c.p == c.end)
        break;
    }
    uint64_t line, column, name, reason, nf;
    size_t len = 0;
    int rc = get(&c, &line, sizeof line) || get(&c, &column, sizeof column);
    if (!rc)
      rc = get_str(&c, &scratch, &cap, &len, &name);
    if (!rc)
      rc = get_str(&c, &scratch, &cap, &len, &reason);
    if (!rc)
      rc = get(&c, &nf, sizeof nf);
    if (rc) {
      st = rc == -2 ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory")
                    : csvreg__err_set(err, CSVREG_E_IO, "--skip-bad report: cannot read it back");
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
      int frc = get_str(&c, &scratch, &cap, &len, &offs[i]);
      if (frc)
        st = frc == -2
                 ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory")
                 : csvreg__err_set(err, CSVREG_E_IO, "--skip-bad report: cannot read it back");
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
  if (b->spill) {
    fclose(b->spill);
    b->spill = NULL;
  }
  b->len = 0;
  return st;
}
