/*
 * state_lines.c - the one reader of state lines, for accumulator states
 * (stateset.c) and meat states (meat_state.c): a file or pipe cut into
 * lines, each handed to its set with its line number and byte offset (so a
 * set can read a state again instead of holding it), and the order states
 * are merged in, shared by both sets.
 *
 * Bounds: a line is never held past the limit of its kind (the set says
 * which, from the line's first bytes), and a line that cannot be JSON text
 * (a control byte, or no '{' where the object must start) fails at its
 * first block: `merge /dev/zero` stops after 64 KiB, not after the limit.
 */
#define _POSIX_C_SOURCE 200809L /* pread, F_DUPFD_CLOEXEC, off_t */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "state.h"

size_t csvreg__line_json_start(const char *text, size_t len) {
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  if (i < len && text[i] != '{') { /* key<TAB>value: the value is the state */
    const char *tab = memchr(text, '\t', len);
    if (tab)
      for (i = (size_t)(tab + 1 - text); i < len && (text[i] == ' ' || text[i] == '\t');)
        i++;
  }
  return i;
}

/* The first key of a Hadoop line is short; a line whose object has not
 * started by then is not a state. */
#define KEY_MAX ((size_t)1 << 16)

/* CSVREG_E_FORMAT when bytes [from, len) of the line cannot belong to a
 * state line: JSON text holds no control byte but TAB (and the CR before
 * the line feed), and its object starts within KEY_MAX bytes. */
static csvreg_status check_bytes(const char *buf, size_t from, size_t len, const char *source,
                                 uint64_t line, csvreg_error *err) {
  for (size_t i = from; i < len; i++) {
    unsigned char c = (unsigned char)buf[i];
    if (c < 0x20 && c != '\t' && c != '\r') {
      csvreg__err_set(err, CSVREG_E_FORMAT,
                      "not a valid csvreg state: a control byte (0x%02x) at byte %zu of the "
                      "line: not JSON text",
                      c, i + 1);
      csvreg__err_at(err, source, line, 0, 0, NULL);
      return CSVREG_E_FORMAT;
    }
  }
  if (len > KEY_MAX && from <= KEY_MAX) {
    size_t i = 0;
    while (i < KEY_MAX && (buf[i] == ' ' || buf[i] == '\t'))
      i++;
    if (i < KEY_MAX && !memchr(buf, '{', KEY_MAX)) {
      csvreg__err_set(err, CSVREG_E_FORMAT,
                      "not a valid csvreg state: no JSON object ('{') in the first %zu bytes "
                      "of the line",
                      KEY_MAX);
      csvreg__err_at(err, source, line, 0, 0, NULL);
      return CSVREG_E_FORMAT;
    }
  }
  return CSVREG_OK;
}

/* A pretty-printed model file: "{" alone on its first line and the model's
 * format tag in the first block read. */
static int is_model(const char *buf, size_t len) {
  static const char tag[] = "\"format\": \"csvreg-model\"";
  const size_t n = sizeof tag - 1;
  if (len < 2 || buf[0] != '{' || (buf[1] != '\n' && buf[1] != '\r'))
    return 0;
  for (size_t i = 0; i + n <= len; i++)
    if (!memcmp(buf + i, tag, n))
      return 1;
  return 0;
}

csvreg_status csvreg__buf_grow(char **buf, size_t *cap, size_t ncap, csvreg_error *err) {
  char *t = realloc(*buf, ncap);
  if (!t)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  *buf = t;
  *cap = ncap;
  return CSVREG_OK;
}

/* Bytes read at a time; the buffer grows to the longest line plus this. */
#define READ_BLOCK ((size_t)1 << 16)

csvreg_status csvreg__lines_read_fd(int fd, const char *source, const csvreg__line_ops *ops,
                                    csvreg_error *err) {
  if (!source)
    source = "";
  /* Where the first byte read lies in the file, for sets that read a
   * line again (regular files only: a pipe's offsets mean nothing). */
  struct stat sb;
  off_t at = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? lseek(fd, 0, SEEK_CUR) : -1;
  uint64_t base = at >= 0 ? (uint64_t)at : 0; /* file offset of buf[0] */
  char *buf = NULL;
  size_t cap = 0, len = 0, scanned = 0; /* buf[0, len) is the current line so far */
  uint64_t line = 0;
  csvreg_status st = CSVREG_OK;
  for (int eof = 0; !st && !eof;) {
    size_t limit = ops->limit(ops->ctx, buf, len);
    if (cap - len < READ_BLOCK) {
      /* Doubling, but never past the longest line plus a read: a line that
       * long has failed before the buffer would need more. */
      size_t most = limit < SIZE_MAX - 2 * READ_BLOCK ? limit + 2 * READ_BLOCK : SIZE_MAX;
      size_t ncap = cap ? (cap < most / 2 ? cap * 2 : most) : READ_BLOCK * 2;
      if (ncap < len + READ_BLOCK)
        ncap = len + READ_BLOCK;
      if ((st = csvreg__buf_grow(&buf, &cap, ncap, err)))
        break;
    }
    ssize_t got = read(fd, buf + len, cap - len);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      st = csvreg__err_set(err, CSVREG_E_IO, "cannot read %s: %s", source, strerror(errno));
      break;
    }
    eof = got == 0;
    len += (size_t)got;
    if (line == 0 && is_model(buf, len)) {
      /* a model fails as a state on line 1: say what it is rather than
       * blame concurrent writers */
      csvreg__err_set(err, CSVREG_E_FORMAT,
                      "this is a csvreg model file, not a state: merge and solve read the state "
                      "lines of 'fit --emit-state'; predict -m reads a model");
      csvreg__err_at(err, source, 0, 0, 0, NULL);
      st = CSVREG_E_FORMAT;
      break;
    }
    /* Every whole line in the buffer, then what is left moved to its start. */
    size_t from = 0;
    char *nl;
    while (!st && (nl = memchr(buf + scanned, '\n', len - scanned))) {
      size_t end = (size_t)(nl - buf) + 1;
      st = ops->add(ops->ctx, buf + from, end - from, source, ++line, at >= 0 ? base + from : 0,
                    at >= 0, err);
      from = scanned = end;
    }
    if (st)
      break;
    if (from) { /* a long line is not moved again on every read */
      memmove(buf, buf + from, len - from);
      len -= from;
      base += from;
    }
    st = check_bytes(buf, scanned, len, source, line + 1, err);
    scanned = len;
    if (st)
      break;
    limit = ops->limit(ops->ctx, buf, len);
    if (len > limit) /* stop before holding an unbounded line */
      st = ops->too_long(ops->ctx, buf, len, source, line + 1, err);
    else if (eof && len)
      st = ops->add(ops->ctx, buf, len, source, ++line, base, at >= 0, err);
  }
  free(buf);
  return st;
}

/* ---- the merge order ---- */

void csvreg__merge_key_of(const json_t *meta, const char *checksum, csvreg__merge_key *k) {
  memset(k, 0, sizeof *k);
  k->checksum = checksum ? checksum : "";
  const json_t *r = json_object_get(meta, "range");
  const json_t *rs = json_object_get(meta, "ranges");
  if (json_is_array(rs) && json_array_size(rs) > 0)
    r = json_array_get(rs, 0);
  if (json_is_array(r) && json_array_size(r) == 2 && json_is_integer(json_array_get(r, 0)) &&
      json_is_integer(json_array_get(r, 1))) {
    k->has_range = 1;
    k->start = (uint64_t)json_integer_value(json_array_get(r, 0));
    k->end = (uint64_t)json_integer_value(json_array_get(r, 1));
  }
}

int csvreg__merge_key_cmp(const csvreg__merge_key *a, const csvreg__merge_key *b) {
  if (a->has_range != b->has_range)
    return a->has_range ? -1 : 1;
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  if (a->end != b->end)
    return a->end < b->end ? -1 : 1;
  return strcmp(a->checksum, b->checksum);
}
