/*
 * state_head.c - the sizes a version 3 state line declares before its
 * numbers, so that a reader can bound the line as it arrives.
 *
 * A state line's keys are written sorted, so its term count ("terms")
 * comes after its O(terms^2) numbers ("r", "com"); versions 1 and 2 could
 * only be read up to a fixed cap (CSVREG_STATE_MAX_LINE, 336 MB). Version 3
 * begins with `"bounds":{"terms":T,"text":N}` ("bounds" sorts before
 * "checksum"): T terms and N bytes of the line with its kernel arrays
 * written as `[]` (names, counts, provenance, "shift"). The line then holds
 * at most the kernel's numbers of T terms, (T + 2)(T + 3) / 2 + (T + 2) hex
 * floats of at most 32 bytes with quotes and comma, besides those N bytes:
 * the reader stops a line as soon as it passes that, and the loader checks
 * T against "terms" (state.c).
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "state.h"

/* The declaration is a short object: a line whose "bounds" does not close
 * within this many bytes is not a state csvreg wrote. */
#define HEAD_MAX 256

size_t csvreg__state_line_bound(size_t terms, size_t text) {
  if (terms > CSVREG_MAX_TERMS || text > CSVREG_STATE_MAX_LINE)
    return CSVREG_STATE_MAX_LINE;
  size_t numbers = (terms + 2) * (terms + 3) / 2 + (terms + 2);
  return text + numbers * 32;
}

static size_t skip_ws(const char *p, size_t i, size_t len) {
  while (i < len && (p[i] == ' ' || p[i] == '\t'))
    i++;
  return i;
}

/* After a version 1 or 2 line's "checksum" key, at line[i]: its value is
 * "crc32:" and 8 hex digits, as every writer made it. */
static int old_checksum(const char *line, size_t i, size_t len) {
  static const char want[] = ":\"crc32:XXXXXXXX\"";
  size_t k = 0;
  i = skip_ws(line, i, len);
  for (; k < sizeof want - 1 && i < len; k++) {
    if (k == 1)
      i = skip_ws(line, i, len); /* after the colon */
    if (i >= len)
      break;
    unsigned char c = (unsigned char)line[i++];
    int ok = want[k] == 'X' ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') : c == want[k];
    if (!ok)
      return STATE_HEAD_OTHER;
  }
  return k == sizeof want - 1 ? STATE_HEAD_OLD : STATE_HEAD_MORE;
}

int csvreg__state_line_head(const char *line, size_t len, csvreg__state_head *h) {
  memset(h, 0, sizeof *h);
  size_t i = csvreg__line_json_start(line, len);
  if (i >= len)
    return STATE_HEAD_MORE;
  if (line[i] != '{') {
    /* a Hadoop key whose TAB has not arrived yet, or not a state at all
     * (the line reader's own checks say which) */
    return memchr(line, '\t', len) ? STATE_HEAD_OTHER : STATE_HEAD_MORE;
  }
  h->start = i;
  i = skip_ws(line, i + 1, len);
  static const char key[] = "\"bounds\"", old[] = "\"checksum\"";
  const size_t klen = sizeof key - 1;
  if (len - i < klen && !memcmp(line + i, key, len - i))
    return STATE_HEAD_MORE;
  if (len - i < klen || memcmp(line + i, key, klen)) {
    /* versions 1 and 2 begin with their checksum (keys sorted) */
    if (len - i < sizeof old - 1)
      return memcmp(line + i, old, len - i) ? STATE_HEAD_OTHER : STATE_HEAD_MORE;
    if (memcmp(line + i, old, sizeof old - 1))
      return STATE_HEAD_OTHER;
    return old_checksum(line, i + sizeof old - 1, len);
  }
  i = skip_ws(line, i + klen, len);
  if (i < len && line[i] == ':')
    i = skip_ws(line, i + 1, len);
  const char *open = i < len && line[i] == '{' ? line + i : NULL;
  const char *close = open ? memchr(open, '}', len - i) : NULL;
  if (!close) {
    if (len - h->start < HEAD_MAX && (i >= len || open))
      return STATE_HEAD_MORE;
    return STATE_HEAD_BAD;
  }
  json_t *o = json_loadb(open, (size_t)(close - open) + 1, JSON_REJECT_DUPLICATES, NULL);
  json_t *t = json_object_get(o, "terms"), *n = json_object_get(o, "text");
  int ok = json_is_object(o) && json_object_size(o) == 2 && json_is_integer(t) &&
           json_is_integer(n) && json_integer_value(t) >= 0 &&
           json_integer_value(t) <= CSVREG_MAX_TERMS && json_integer_value(n) >= 0 &&
           (uint64_t)json_integer_value(n) <= CSVREG_STATE_MAX_LINE;
  if (ok) {
    h->terms = (size_t)json_integer_value(t);
    h->text = (size_t)json_integer_value(n);
    h->bound = h->start + csvreg__state_line_bound(h->terms, h->text);
  }
  json_decref(o);
  return ok ? STATE_HEAD_BOUNDS : STATE_HEAD_BAD;
}
