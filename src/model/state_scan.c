/*
 * state_scan.c - reading a state line's or a model file's big arrays
 * without a JSON tree. jansson has no incremental (event) decoder: it
 * always builds the whole tree, about 8 times the text (420 MB for one
 * 2000-column state line). The O(terms^2) arrays (a state's "r", "mean",
 * "com"; a model's "fit"."vcov") are read here by a strict scanner into
 * doubles and the CRC-32 of their canonical text, and jansson parses the
 * rest: the text with each of those arrays replaced by "[]".
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

#include "hexfloat.h"
#include "state_scan.h"

typedef struct scanner {
  const char *p, *end;
  csvreg__jscan *out;
  char *red; /* reduced text */
  size_t rlen, rcap;
  const char *copied; /* text before this is in red */
  int nomem;
} scanner;

static void ws(scanner *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static int skip_string(scanner *s) {
  if (s->p >= s->end || *s->p != '"')
    return -1;
  for (s->p++; s->p < s->end; s->p++) {
    if (*s->p == '\\')
      s->p++;
    else if (*s->p == '"') {
      s->p++;
      return 0;
    }
  }
  return -1;
}

/* Any value, not checked (jansson reads it from the reduced text). */
static int skip_value(scanner *s) {
  if (s->p >= s->end)
    return -1;
  if (*s->p == '"')
    return skip_string(s);
  if (*s->p == '{' || *s->p == '[') {
    size_t depth = 0;
    while (s->p < s->end) {
      char c = *s->p;
      if (c == '"') {
        if (skip_string(s))
          return -1;
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      else if ((c == '}' || c == ']') && --depth == 0) {
        s->p++;
        return 0;
      }
      s->p++;
    }
    return -1;
  }
  while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' ' &&
         *s->p != '\t' && *s->p != '\n' && *s->p != '\r')
    s->p++;
  return 0;
}

static void red_put(scanner *s, const char *p, size_t n) {
  if (s->nomem)
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
  if (s->p < s->end && *s->p == ',') {
    s->p++;
    csvreg__jsink_put(crc, ",", 1);
    ws(s);
    return 1;
  }
  if (s->p < s->end && *s->p == ']') {
    s->p++;
    csvreg__jsink_put(crc, "]", 1);
    return 0;
  }
  return -1;
}

/* An array of hex-float strings: the numbers, their canonical text's CRC. */
static int hex_array(scanner *s, csvreg__jbig *b, double **v, csvreg__jsink *crc) {
  size_t cap = 0;
  s->p++;
  csvreg__jsink_put(crc, "[", 1);
  ws(s);
  if (s->p < s->end && *s->p == ']') {
    s->p++;
    csvreg__jsink_put(crc, "]", 1);
    return 0;
  }
  for (;;) {
    if (s->p >= s->end || *s->p != '"')
      return -1;
    const char *q = s->p + 1;
    while (q < s->end && *q != '"') {
      unsigned char c = (unsigned char)*q;
      if (c < 0x20 || c > 0x7e || c == '\\')
        return -1;
      q++;
    }
    if (q >= s->end)
      return -1;
    size_t n = (size_t)(q - s->p - 1);
    char tok[HEXFLOAT_MAX + 8];
    double x = 0;
    if (n >= sizeof tok) {
      b->bad = 1;
    } else {
      memcpy(tok, s->p + 1, n);
      tok[n] = '\0';
      if (csvreg__hexfloat_parse(tok, &x))
        b->bad = 1;
    }
    if (push(b, v, &cap, x)) {
      s->nomem = 1;
      return -1;
    }
    csvreg__jsink_put(crc, s->p, n + 2);
    s->p = q + 1;
    int r = after_element(s, crc);
    if (r <= 0)
      return r;
  }
}

static int digits(const char **q, const char *end) {
  const char *a = *q;
  while (*q < end && **q >= '0' && **q <= '9')
    (*q)++;
  return *q > a;
}

/* One JSON number or null as jansson reads and dumps it. */
static int vcov_number(scanner *s, csvreg__jsink *crc) {
  if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0) {
    s->p += 4;
    csvreg__jsink_put(crc, "null", 4);
    return 0;
  }
  const char *q = s->p;
  int real = 0;
  if (q < s->end && *q == '-')
    q++;
  if (q < s->end && *q == '0')
    q++;
  else if (!digits(&q, s->end))
    return -1;
  if (q < s->end && *q == '.') {
    q++;
    real = 1;
    if (!digits(&q, s->end))
      return -1;
  }
  if (q < s->end && (*q == 'e' || *q == 'E')) {
    q++;
    real = 1;
    if (q < s->end && (*q == '+' || *q == '-'))
      q++;
    if (!digits(&q, s->end))
      return -1;
  }
  size_t n = (size_t)(q - s->p);
  char tok[64], out[48];
  if (n >= sizeof tok)
    return -1; /* unusual: jansson decides */
  memcpy(tok, s->p, n);
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
  s->p = q;
  return 0;
}

/* An array of arrays of numbers or null (a fit's "vcov"): only its CRC. */
static int vcov_array(scanner *s, csvreg__jsink *crc) {
  s->p++;
  csvreg__jsink_put(crc, "[", 1);
  ws(s);
  if (s->p < s->end && *s->p == ']') {
    s->p++;
    csvreg__jsink_put(crc, "]", 1);
    return 0;
  }
  for (;;) {
    if (s->p >= s->end || *s->p != '[')
      return -1;
    s->p++;
    csvreg__jsink_put(crc, "[", 1);
    ws(s);
    int r;
    if (s->p < s->end && *s->p == ']') {
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

/* Which member of an object at `where` is a big array: 1 a state's kernel
 * numbers, 2 a fit's covariance, 0 none. */
static int big_kind(int where, const char *key, size_t n) {
  if (where == JSCAN_STATE)
    return (n == 1 && key[0] == 'r') || (n == 3 && memcmp(key, "com", 3) == 0) ||
                   (n == 4 && memcmp(key, "mean", 4) == 0)
               ? 1
               : 0;
  if (where == JSCAN_FIT)
    return n == 4 && memcmp(key, "vcov", 4) == 0 ? 2 : 0;
  return 0;
}

static int scan_object(scanner *s, int where, int model);

static int member_value(scanner *s, int where, int model, const char *key, size_t klen) {
  int kind = big_kind(where, key, klen);
  if (kind && s->p < s->end && *s->p == '[') {
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
    const char *start = s->p;
    double *v = NULL;
    int r = kind == 1 ? hex_array(s, b, &v, crc) : vcov_array(s, crc);
    if (!r && csvreg__jsink_flush(crc))
      r = -1;
    b->crc = crc->crc;
    b->len = crc->total;
    free(crc);
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
    red_put(s, s->copied, (size_t)(start - s->copied));
    red_put(s, "[]", 2);
    s->copied = s->p;
    return 0;
  }
  if (model && where == JSCAN_TOP && s->p < s->end && *s->p == '{') {
    if (klen == 5 && memcmp(key, "state", 5) == 0)
      return scan_object(s, JSCAN_STATE, model);
    if (klen == 3 && memcmp(key, "fit", 3) == 0)
      return scan_object(s, JSCAN_FIT, model);
  }
  return skip_value(s);
}

static int scan_object(scanner *s, int where, int model) {
  ws(s);
  if (s->p >= s->end || *s->p != '{')
    return -1;
  s->p++;
  ws(s);
  if (s->p < s->end && *s->p == '}') {
    s->p++;
    return 0;
  }
  for (;;) {
    const char *k = s->p;
    if (skip_string(s))
      return -1;
    const char *key = k + 1;
    size_t klen = (size_t)(s->p - k - 2);
    ws(s);
    if (s->p >= s->end || *s->p != ':')
      return -1;
    s->p++;
    ws(s);
    if (member_value(s, where, model, key, klen))
      return -1;
    ws(s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      ws(s);
      continue;
    }
    if (s->p < s->end && *s->p == '}') {
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

int csvreg__jscan_text(const char *text, size_t len, int model, csvreg__jscan *o) {
  memset(o, 0, sizeof *o);
  o->model = model;
  scanner s = {text, text + len, o, NULL, 0, 0, text, 0};
  int r = scan_object(&s, model ? JSCAN_TOP : JSCAN_STATE, model);
  if (!r && o->nbig) {
    red_put(&s, s.copied, (size_t)(s.end - s.copied));
    if (!s.nomem) {
      o->reduced = s.red;
      o->reduced_len = s.rlen;
      return 1;
    }
  }
  free(s.red);
  int nomem = s.nomem;
  csvreg__jscan_free(o);
  return nomem ? -1 : 0;
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
