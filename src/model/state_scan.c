/*
 * state_scan.c - reading a state line's or a model file's big arrays
 * without a JSON tree. jansson has no incremental (event) decoder: it
 * always builds the whole tree, about 8 times the text (420 MB for one
 * 2000-column state line). The O(terms^2) arrays (a state's "r", "mean",
 * "com"; a model's "fit"."vcov") are read here by a strict scanner into
 * doubles and the CRC-32 of their canonical text, and jansson parses the
 * rest: the text with each of those arrays replaced by "[]".
 *
 * The scanner reads its text from memory (a state line) or from a feed of
 * blocks (a model file, model_read.c: load12d), so that a model's text is
 * never held whole: the bytes outside the big arrays are copied out as each
 * block is left, the big arrays' numbers go straight to their vectors, and
 * no token needs to lie in one block (each is taken a byte at a time).
 *
 * Only well-formed text takes this path: an array element that is not a
 * plain string (hex floats: printable ASCII, no escapes) or, in "vcov", a
 * number or null, anything the scanner does not follow, or reduced text
 * that jansson refuses (a duplicate key, a syntax error elsewhere) sends
 * the caller back to jansson on the whole text, which gives today's errors
 * and positions. What is accepted here is exactly what jansson would have
 * read: the numbers are parsed as the tree path parses them, and the CRC is
 * over the bytes json_dumps would write for them (a plain string is its own
 * dump; a number is dumped again from its value).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"
#include "hexfloat.h"
#include "state_scan.h"

typedef struct scanner {
  const char *p, *end;
  const csvreg__jfeed *feed; /* NULL: the text is all in [p, end) */
  csvreg__jscan *out;
  char *red; /* reduced text */
  size_t rlen, rcap;
  const char *copied; /* [copied, p) is still to go to red, unless in_big */
  int in_big;
  int nomem;
  size_t shift_n; /* elements of the state's "shift" (its columns), 0 unseen */
} scanner;

static void red_put(scanner *s, const char *p, size_t n) {
  if (s->nomem || !n)
    return;
  if (s->rlen + n + 1 > s->rcap) {
    size_t cap = s->rcap ? s->rcap : 4096;
    while (cap < s->rlen + n + 1)
      cap *= 2;
    char *t = realloc(s->red, cap);
    if (!t) {
      s->nomem = 1;
      return;
    }
    s->red = t;
    s->rcap = cap;
  }
  memcpy(s->red + s->rlen, p, n);
  s->rlen += n;
  s->red[s->rlen] = '\0';
}

/* The block is left: its bytes outside the big arrays go to the reduced
 * text, and the next block (if any) is taken. 0 at the end of the text. */
static int refill(scanner *s) {
  if (!s->in_big)
    red_put(s, s->copied, (size_t)(s->end - s->copied));
  s->copied = s->p = s->end;
  if (!s->feed)
    return 0;
  const char *b = NULL;
  size_t n = s->feed->next(s->feed->ctx, &b);
  if (!n)
    return 0;
  s->p = s->copied = b;
  s->end = b + n;
  return 1;
}

static inline int avail(scanner *s) { return s->p < s->end || refill(s); }

/* The next byte, or NUL at the end of the text (never taken for a token). */
static inline char peek(scanner *s) { return avail(s) ? *s->p : '\0'; }

static void ws(scanner *s) {
  while (avail(s) && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

/* A string; its first JSCAN_KEY bytes as written (no unescaping: the keys
 * looked for have no escapes) into key, and its length into *klen. */
#define JSCAN_KEY 8
static int take_string(scanner *s, char *key, size_t *klen) {
  if (peek(s) != '"')
    return -1;
  size_t n = 0;
  for (s->p++; avail(s);) {
    char c = *s->p++;
    if (c == '"') {
      if (klen)
        *klen = n;
      return 0;
    }
    if (key && n < JSCAN_KEY)
      key[n] = c;
    n++;
    if (c == '\\') {
      if (!avail(s))
        return -1;
      if (key && n < JSCAN_KEY)
        key[n] = *s->p;
      n++;
      s->p++;
    }
  }
  return -1;
}

/* Any value, not checked (jansson reads it from the reduced text); *count
 * (when given) the elements of an array, by its commas. */
static int skip_value(scanner *s, size_t *count) {
  if (!avail(s))
    return -1;
  if (*s->p == '"')
    return take_string(s, NULL, NULL);
  if (*s->p == '{' || *s->p == '[') {
    size_t depth = 0, commas = 0;
    int any = 0;
    while (avail(s)) {
      char c = *s->p;
      if (c == '"') {
        if (take_string(s, NULL, NULL))
          return -1;
        any = 1;
        continue;
      }
      if (c == '{' || c == '[') {
        if (depth == 1)
          any = 1;
        depth++;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        s->p++;
        if (count)
          *count = any ? commas + 1 : 0;
        return 0;
      } else if (depth == 1 && c == ',')
        commas++;
      else if (depth == 1 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
        any = 1;
      s->p++;
    }
    return -1;
  }
  while (avail(s) && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' ' &&
         *s->p != '\t' && *s->p != '\n' && *s->p != '\r')
    s->p++;
  return 0;
}

static int push(csvreg__jbig *b, double **v, size_t *cap, double x) {
  if (b->n == *cap) {
    size_t c = *cap ? *cap * 2 : 1024;
    double *t = realloc(*v, c * sizeof *t);
    if (!t)
      return -1;
    *v = t;
    *cap = c;
  }
  (*v)[b->n++] = x;
  return 0;
}

/* After an array element: 1 at a comma (taken, with the blanks after it),
 * 0 at the closing bracket (taken), -1 at anything else; what is taken
 * goes to the CRC. */
static int after_element(scanner *s, csvreg__jsink *crc) {
  ws(s);
  char c = peek(s);
  if (c == ',') {
    s->p++;
    csvreg__jsink_put(crc, ",", 1);
    ws(s);
    return 1;
  }
  if (c == ']') {
    s->p++;
    csvreg__jsink_put(crc, "]", 1);
    return 0;
  }
  return -1;
}

/* An array of hex-float strings: the numbers, their canonical text's CRC.
 * `reserve`: the elements expected (a state's triangle of its columns),
 * allocated at once rather than grown by doubling. */
static int hex_array(scanner *s, csvreg__jbig *b, double **v, csvreg__jsink *crc,
                     size_t reserve) {
  size_t cap = 0;
  if (reserve && (*v = malloc(reserve * sizeof **v)) != NULL)
    cap = reserve;
  s->p++;
  csvreg__jsink_put(crc, "[", 1);
  ws(s);
  if (peek(s) == ']') {
    s->p++;
    csvreg__jsink_put(crc, "]", 1);
    return 0;
  }
  for (;;) {
    if (peek(s) != '"')
      return -1;
    s->p++;
    /* the element with its quotes; tok + 1 the number's text */
    char tok[HEXFLOAT_MAX + 10];
    size_t n = 1;
    int longer = 0;
    tok[0] = '"';
    for (;;) {
      if (!avail(s))
        return -1;
      unsigned char c = (unsigned char)*s->p;
      if (c == '"')
        break;
      if (c < 0x20 || c > 0x7e || c == '\\')
        return -1;
      if (n == sizeof tok - 1) { /* too long for a hex float: bad, but its CRC counts */
        csvreg__jsink_put(crc, tok, n);
        n = 0;
        longer = 1;
      }
      tok[n++] = (char)c;
      s->p++;
    }
    s->p++;
    tok[n++] = '"';
    csvreg__jsink_put(crc, tok, n);
    double x = 0;
    if (longer || n - 2 >= HEXFLOAT_MAX + 8) {
      b->bad = 1;
    } else {
      tok[n - 1] = '\0';
      if (csvreg__hexfloat_parse(tok + 1, &x))
        b->bad = 1;
    }
    if (push(b, v, &cap, x)) {
      s->nomem = 1;
      return -1;
    }
    int r = after_element(s, crc);
    if (r <= 0)
      return r;
  }
}

/* Takes the next byte into tok (64 bytes; *n past 63: too long). */
static void take(scanner *s, char *tok, size_t *n) {
  if (*n < 63)
    tok[*n] = *s->p;
  (*n)++;
  s->p++;
}

static int digits(scanner *s, char *tok, size_t *n) {
  size_t a = *n;
  while (avail(s) && *s->p >= '0' && *s->p <= '9')
    take(s, tok, n);
  return *n > a;
}

/* One JSON number or null as jansson reads and dumps it. */
static int vcov_number(scanner *s, csvreg__jsink *crc) {
  if (peek(s) == 'n') {
    for (const char *w = "null"; *w; w++) {
      if (peek(s) != *w)
        return -1;
      s->p++;
    }
    csvreg__jsink_put(crc, "null", 4);
    return 0;
  }
  char tok[64], out[48];
  size_t n = 0;
  int real = 0;
  if (peek(s) == '-')
    take(s, tok, &n);
  if (peek(s) == '0')
    take(s, tok, &n);
  else if (!digits(s, tok, &n))
    return -1;
  if (peek(s) == '.') {
    take(s, tok, &n);
    real = 1;
    if (!digits(s, tok, &n))
      return -1;
  }
  if (peek(s) == 'e' || peek(s) == 'E') {
    take(s, tok, &n);
    real = 1;
    if (peek(s) == '+' || peek(s) == '-')
      take(s, tok, &n);
    if (!digits(s, tok, &n))
      return -1;
  }
  if (n >= sizeof tok)
    return -1; /* unusual: jansson decides */
  tok[n] = '\0';
  errno = 0;
  size_t len;
  if (real) {
    double x = strtod(tok, NULL);
    if (isinf(x))
      return -1; /* jansson: real number overflow */
    len = csvreg__jreal(x, out);
  } else {
    long long x = strtoll(tok, NULL, 10);
    if (errno == ERANGE)
      return -1; /* jansson: too big integer */
    len = (size_t)snprintf(out, sizeof out, "%lld", x);
  }
  csvreg__jsink_put(crc, out, len);
  return 0;
}

/* An array of arrays of numbers or null (a fit's "vcov"): only its CRC. */
static int vcov_array(scanner *s, csvreg__jsink *crc) {
  s->p++;
  csvreg__jsink_put(crc, "[", 1);
  ws(s);
  if (peek(s) == ']') {
    s->p++;
    csvreg__jsink_put(crc, "]", 1);
    return 0;
  }
  for (;;) {
    if (peek(s) != '[')
      return -1;
    s->p++;
    csvreg__jsink_put(crc, "[", 1);
    ws(s);
    int r;
    if (peek(s) == ']') {
      s->p++;
      csvreg__jsink_put(crc, "]", 1);
    } else {
      do {
        if (vcov_number(s, crc))
          return -1;
      } while ((r = after_element(s, crc)) == 1);
      if (r < 0)
        return -1;
    }
    if ((r = after_element(s, crc)) <= 0)
      return r;
  }
}

static int is_key(const char *key, size_t n, const char *want) {
  return n == strlen(want) && memcmp(key, want, n) == 0;
}

/* Which member of an object at `where` is a big array: 1 a state's kernel
 * numbers, 2 a fit's covariance, 0 none. */
static int big_kind(int where, const char *key, size_t n) {
  if (where == JSCAN_STATE)
    return is_key(key, n, "r") || is_key(key, n, "com") || is_key(key, n, "mean") ? 1 : 0;
  if (where == JSCAN_FIT)
    return is_key(key, n, "vcov") ? 2 : 0;
  return 0;
}

static int scan_object(scanner *s, int where, int model);

static int big_value(scanner *s, int where, int kind, const char *key, size_t klen) {
  csvreg__jscan *o = s->out;
  if (o->nbig == JSCAN_MAX)
    return -1; /* a key repeated: jansson refuses it */
  csvreg__jbig *b = &o->big[o->nbig];
  memset(b, 0, sizeof *b);
  b->kind = JBIG_CRC;
  csvreg__jsink *crc = malloc(sizeof *crc);
  if (!crc) {
    s->nomem = 1;
    return -1;
  }
  csvreg__jsink_init(crc, JSINK_CRC, NULL);
  /* the text so far goes to red; the array's own bytes do not */
  red_put(s, s->copied, (size_t)(s->p - s->copied));
  s->in_big = 1;
  /* a triangle of the state's columns and the intercept's, when "shift"
   * (one number per column) came first, as csvreg writes it */
  size_t m = s->shift_n + 1, reserve = 0;
  if (kind == 1 && !is_key(key, klen, "mean") && s->shift_n && m <= CSVREG_MAX_TERMS + 3)
    reserve = m * (m + 1) / 2;
  double *v = NULL;
  int r = kind == 1 ? hex_array(s, b, &v, crc, reserve) : vcov_array(s, crc);
  if (!r && csvreg__jsink_flush(crc))
    r = -1;
  b->crc = crc->crc;
  b->len = crc->total;
  free(crc);
  s->in_big = 0;
  s->copied = s->p;
  if (r) {
    free(v);
    return -1;
  }
  o->nums[o->nbig] = v;
  b->v = v;
  o->where[o->nbig] = where;
  memcpy(o->name[o->nbig], key, klen);
  o->name[o->nbig][klen] = '\0';
  o->nbig++;
  red_put(s, "[]", 2);
  return 0;
}

static int member_value(scanner *s, int where, int model, const char *key, size_t klen) {
  int kind = klen < JSCAN_KEY ? big_kind(where, key, klen) : 0;
  char c = peek(s);
  if (kind && c == '[')
    return big_value(s, where, kind, key, klen);
  if (model && where == JSCAN_TOP && c == '{') {
    if (is_key(key, klen, "state"))
      return scan_object(s, JSCAN_STATE, model);
    if (is_key(key, klen, "fit"))
      return scan_object(s, JSCAN_FIT, model);
  }
  if (where == JSCAN_STATE && c == '[' && is_key(key, klen, "shift"))
    return skip_value(s, &s->shift_n);
  return skip_value(s, NULL);
}

static int scan_object(scanner *s, int where, int model) {
  ws(s);
  if (peek(s) != '{')
    return -1;
  s->p++;
  ws(s);
  if (peek(s) == '}') {
    s->p++;
    return 0;
  }
  for (;;) {
    char key[JSCAN_KEY];
    size_t klen = 0;
    if (take_string(s, key, &klen))
      return -1;
    ws(s);
    if (peek(s) != ':')
      return -1;
    s->p++;
    ws(s);
    if (member_value(s, where, model, key, klen))
      return -1;
    ws(s);
    char c = peek(s);
    if (c == ',') {
      s->p++;
      ws(s);
      continue;
    }
    if (c == '}') {
      s->p++;
      return 0;
    }
    return -1;
  }
}

void csvreg__jscan_free(csvreg__jscan *o) {
  if (!o)
    return;
  for (size_t i = 0; i < o->nbig; i++)
    free(o->nums[i]);
  free(o->reduced);
  int model = o->model;
  memset(o, 0, sizeof *o);
  o->model = model;
}

void csvreg__jscan_drop_numbers(csvreg__jscan *o) {
  for (size_t i = 0; o && i < o->nbig; i++) {
    free(o->nums[i]);
    o->nums[i] = NULL;
    o->big[i].v = NULL;
  }
}

static int scan(scanner *s, int model, csvreg__jscan *o) {
  int r = scan_object(s, model ? JSCAN_TOP : JSCAN_STATE, model);
  if (!r && o->nbig) {
    /* the rest of the text (blanks, or what jansson will refuse) */
    while (refill(s))
      s->p = s->end;
    if (!s->nomem) {
      o->reduced = s->red;
      o->reduced_len = s->rlen;
      return 1;
    }
  }
  free(s->red);
  int nomem = s->nomem;
  csvreg__jscan_free(o);
  return nomem ? -1 : 0;
}

int csvreg__jscan_text(const char *text, size_t len, int model, csvreg__jscan *o) {
  memset(o, 0, sizeof *o);
  o->model = model;
  scanner s = {.p = text, .end = text + len, .out = o, .copied = text};
  return scan(&s, model, o);
}

int csvreg__jscan_feed(const csvreg__jfeed *feed, int model, csvreg__jscan *o) {
  memset(o, 0, sizeof *o);
  o->model = model;
  scanner s = {.feed = feed, .out = o};
  return scan(&s, model, o);
}

int csvreg__jscan_link(csvreg__jscan *o, json_t *root) {
  for (size_t i = 0; i < o->nbig; i++) {
    json_t *parent = !o->model                    ? root
                     : o->where[i] == JSCAN_STATE ? json_object_get(root, "state")
                                                  : json_object_get(root, "fit");
    json_t *node = json_object_get(parent, o->name[i]);
    if (!json_is_array(node) || json_array_size(node) != 0)
      return -1;
    o->big[i].node = node;
  }
  return 0;
}

json_t *csvreg__jscan_tree(csvreg__jscan *o) {
  json_error_t je;
  json_t *root = json_loadb(o->reduced, o->reduced_len, JSON_REJECT_DUPLICATES, &je);
  free(o->reduced);
  o->reduced = NULL;
  if (root && csvreg__jscan_link(o, root)) {
    json_decref(root);
    root = NULL;
  }
  if (!root)
    csvreg__jscan_free(o);
  return root;
}
