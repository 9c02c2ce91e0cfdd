/*
 * json_head.c - the size a state line or a model can have, from its first
 * bytes (issue 17 item 9). A model of T terms is O(T^2) text, and its
 * "spec" (the terms) comes first, so a reader that feeds this lexer as it
 * reads knows, soon after the start, how long the text may be, and stops an
 * oversized text early instead of reading up to the fixed cap; both the
 * model reader and the state lines' reader stop text that cannot be JSON
 * (a pipe of garbage) in the block where that shows. The lexer is no validator: it follows strings, containers
 * and keys, and says `bad` only where JSON text cannot continue (a control
 * byte in a string, a byte that starts no token, a container closed by the
 * wrong bracket); the loaders' own parser gives the message.
 */
#include <string.h>

#include "json_head.h"

void csvreg__jhead_init(csvreg__jhead *h, const char *const *path, size_t npath) {
  memset(h, 0, sizeof *h);
  for (size_t i = 0; i < npath && i < 2; i++)
    h->path[i] = path[i];
  h->npath = npath < 2 ? npath : 2;
}

static void set_bad(csvreg__jhead *h, const char *why) {
  h->bad = 1;
  h->why = why;
  h->bad_at = h->fed;
}

/* A value starts at the innermost level. */
static void value_start(csvreg__jhead *h) {
  if (h->counting && h->depth == h->npath + 1 && !h->seen_value) {
    h->count++;
    h->seen_value = 1;
  }
}

static void open_container(csvreg__jhead *h, int obj) {
  value_start(h);
  size_t d = h->depth; /* index of the new container */
  if (d < JHEAD_STACK) {
    int parent_obj = d > 0 && h->obj[d - 1];
    h->obj[d] = (unsigned char)obj;
    h->match[d] = (unsigned char)(d == 0 || (parent_obj && h->match[d - 1] && h->key_ok));
    h->want_key[d] = (unsigned char)obj;
    if (!obj && d == h->npath && h->match[d] && !h->done && !h->counting) {
      h->counting = 1;
      h->seen_value = 0;
    }
  }
  h->depth++;
  h->key_ok = 0;
}

static void close_container(csvreg__jhead *h, int obj) {
  if (h->depth == 0) {
    set_bad(h, "a closing bracket with nothing open");
    return;
  }
  size_t d = h->depth - 1;
  if (d < JHEAD_STACK && h->obj[d] != obj) {
    set_bad(h, "a container closed by the wrong bracket");
    return;
  }
  if (h->counting && d == h->npath) {
    h->counting = 0;
    h->done = 1;
    h->done_at = h->fed + 1;
  }
  h->depth--;
}

static void end_key(csvreg__jhead *h) {
  size_t d = h->depth - 1;
  h->key[h->klen <= JHEAD_KEY ? h->klen : JHEAD_KEY] = '\0';
  int exact = h->klen <= JHEAD_KEY;
  h->key_ok = exact && d < h->npath && h->match[d] && strcmp(h->key, h->path[d]) == 0;
}

void csvreg__jhead_feed(csvreg__jhead *h, const char *p, size_t n) {
  for (size_t i = 0; i < n && !h->bad; i++, h->fed++) {
    unsigned char c = (unsigned char)p[i];
    if (h->in_str) {
      if (h->esc) {
        h->esc = 0;
        h->klen = JHEAD_KEY + 1; /* an escaped key is none of ours */
      } else if (c == '\\') {
        h->esc = 1;
      } else if (c == '"') {
        h->in_str = 0;
        if (h->key_str)
          end_key(h);
      } else if (c < 0x20) {
        set_bad(h, "a control byte in a string");
      } else if (h->key_str && h->klen <= JHEAD_KEY) {
        if (h->klen < JHEAD_KEY)
          h->key[h->klen] = (char)c;
        h->klen++;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      continue;
    if (!h->started) {
      if (c != '{') {
        set_bad(h, "the text does not start with a JSON object");
        continue;
      }
      h->started = 1;
    } else if (h->depth == 0) {
      set_bad(h, "text after the JSON object");
      continue;
    }
    size_t d = h->depth ? h->depth - 1 : 0;
    int tracked = h->depth > 0 && d < JHEAD_STACK;
    switch (c) {
    case '{':
    case '[':
      open_container(h, c == '{');
      break;
    case '}':
    case ']':
      close_container(h, c == '}');
      break;
    case ',':
      if (tracked && h->obj[d])
        h->want_key[d] = 1;
      if (h->counting && h->depth == h->npath + 1)
        h->seen_value = 0;
      break;
    case ':':
      break;
    case '"':
      h->in_str = 1;
      h->key_str = tracked && h->obj[d] && h->want_key[d];
      if (h->key_str) {
        h->want_key[d] = 0;
        h->klen = 0;
      } else {
        value_start(h);
      }
      break;
    default:
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          c == '-' || c == '+' || c == '.')
        value_start(h);
      else
        set_bad(h, c < 0x20 ? "a control byte" : "a byte that starts no JSON token");
    }
  }
}
