/*
 * json_write.c - JSON text of a jansson tree, with the big numeric arrays
 * (a state's R factor or co-moments, a fit's covariance: O(terms^2) numbers)
 * written from the doubles themselves rather than from tree nodes. As a
 * jansson tree those arrays cost about 150 bytes a number (a node, a string
 * and its text): 618 MB for fit -o at 2000 columns. Here the tree keeps only
 * the small members and the big arrays stream into a FILE, a buffer or a
 * CRC-32.
 *
 * The text is byte for byte what json_dumps wrote for the whole tree, in the
 * two layouts csvreg uses: JSON_INDENT(2) | JSON_REAL_PRECISION(17) in
 * insertion order (model files) and JSON_COMPACT | JSON_SORT_KEYS (state
 * lines and the canonical text that checksums cover). Scalars and keys are
 * dumped by jansson itself (its escaping); the layout follows jansson 2.14's
 * dump.c (newline and depth x 2 spaces between members, ": " or ":", keys
 * sorted by their bytes), and reals are formatted as its jsonp_dtostr does
 * ("%.17g", ".0" added, exponent without '+' and leading zeros).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hexfloat.h"
#include "json_write.h"

void csvreg__jsink_init(csvreg__jsink *s, int mode, FILE *fp) {
  s->mode = mode;
  s->fp = fp;
  s->buf = NULL;
  s->len = s->cap = 0;
  s->crc = crc32(0L, Z_NULL, 0);
  s->total = 0;
  s->failed = 0;
  s->err_no = 0;
  s->used = 0;
}

int csvreg__jsink_flush(csvreg__jsink *s) {
  if (s->failed || !s->used) {
    s->used = 0;
    return s->failed;
  }
  switch (s->mode) {
  case JSINK_FILE:
    if (fwrite(s->stage, 1, s->used, s->fp) != s->used) {
      s->failed = 2;
      s->err_no = errno;
    }
    break;
  case JSINK_BUF:
    if (s->len + s->used + 1 > s->cap) {
      size_t cap = s->cap ? s->cap : 1 << 16;
      while (cap < s->len + s->used + 1)
        cap *= 2;
      char *t = realloc(s->buf, cap);
      if (!t) {
        s->failed = 1;
        break;
      }
      s->buf = t;
      s->cap = cap;
    }
    memcpy(s->buf + s->len, s->stage, s->used);
    s->len += s->used;
    s->buf[s->len] = '\0';
    break;
  default: s->crc = crc32(s->crc, (const Bytef *)s->stage, (uInt)s->used); break;
  }
  s->total += s->used;
  s->used = 0;
  return s->failed;
}

void csvreg__jsink_put(csvreg__jsink *s, const char *p, size_t n) {
  while (n && !s->failed) {
    if (s->used == sizeof s->stage)
      csvreg__jsink_flush(s);
    size_t k = sizeof s->stage - s->used;
    if (k > n)
      k = n;
    memcpy(s->stage + s->used, p, k);
    s->used += k;
    p += k;
    n -= k;
  }
}

static void put_str(csvreg__jsink *s, const char *p) { csvreg__jsink_put(s, p, strlen(p)); }

/* A CRC-32 already computed over `len` bytes, as if they were written. */
static void put_crc(csvreg__jsink *s, unsigned long crc, uint64_t len) {
  csvreg__jsink_flush(s);
  if (s->failed)
    return;
  if (s->mode != JSINK_CRC) {
    s->failed = 1; /* only checksums take an array known by its CRC */
    return;
  }
  s->crc = crc32_combine(s->crc, crc, (z_off_t)len);
  s->total += len;
}

size_t csvreg__jreal(double v, char *buf) {
  int n = snprintf(buf, 40, "%.17g", v);
  size_t len = n > 0 ? (size_t)n : 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == ',') /* a comma-decimal LC_NUMERIC: jansson undoes it too */
      buf[i] = '.';
  if (!strchr(buf, '.') && !strchr(buf, 'e')) {
    memcpy(buf + len, ".0", 3);
    len += 2;
  }
  char *start = strchr(buf, 'e');
  if (start) {
    start++;
    char *end = start + 1;
    if (*start == '-')
      start++;
    while (*end == '0')
      end++;
    if (end != start) {
      size_t tail = len - (size_t)(end - buf);
      memmove(start, end, tail + 1);
      len -= (size_t)(end - start);
    }
  }
  return len;
}

static void indent(csvreg__jsink *s, int pretty, int depth) {
  static const char spaces[] = "                                ";
  if (!pretty)
    return;
  csvreg__jsink_put(s, "\n", 1);
  size_t n = (size_t)depth * 2;
  while (n) {
    size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
    csvreg__jsink_put(s, spaces, k);
    n -= k;
  }
}

/* A scalar, or a key (as a string), dumped by jansson. */
static void put_scalar(csvreg__jsink *s, const json_t *v, int pretty) {
  char small[256];
  size_t flags = JSON_ENCODE_ANY | (pretty ? JSON_REAL_PRECISION(17) : 0);
  size_t n = json_dumpb(v, small, sizeof small, flags);
  if (n == 0) {
    s->failed = 1;
    return;
  }
  if (n <= sizeof small) {
    csvreg__jsink_put(s, small, n);
    return;
  }
  char *big = malloc(n);
  if (!big || json_dumpb(v, big, n, flags) != n)
    s->failed = 1;
  else
    csvreg__jsink_put(s, big, n);
  free(big);
}

static void put_key(csvreg__jsink *s, const char *key, size_t len) {
  json_t *k = json_stringn_nocheck(key, len);
  if (!k) {
    s->failed = 1;
    return;
  }
  put_scalar(s, k, 0);
  json_decref(k);
}

static void put_hex(csvreg__jsink *s, double v) {
  char buf[HEXFLOAT_MAX + 2];
  buf[0] = '"';
  size_t n = csvreg__hexfloat_format(v, buf + 1);
  buf[n + 1] = '"';
  csvreg__jsink_put(s, buf, n + 2);
}

/* Between the elements of an array at `depth` (their own depth + 1). */
static void sep(csvreg__jsink *s, int pretty, int depth, size_t i, size_t n) {
  if (i + 1 < n) {
    csvreg__jsink_put(s, ",", 1);
    indent(s, pretty, depth + 1);
  } else {
    indent(s, pretty, depth);
  }
}

static void write_value(csvreg__jsink *s, const json_t *v, int pretty, int depth,
                        const csvreg__jbig *bigs, size_t nbigs);

static void put_big(csvreg__jsink *s, const csvreg__jbig *b, int pretty, int depth) {
  if (b->kind == JBIG_CRC) {
    put_crc(s, b->crc, b->len);
    return;
  }
  size_t n = b->kind == JBIG_UPPER ? b->n * (b->n + 1) / 2 : b->n;
  if (n == 0) {
    put_str(s, "[]");
    return;
  }
  csvreg__jsink_put(s, "[", 1);
  indent(s, pretty, depth + 1);
  if (b->kind == JBIG_EACH) { /* as write_value writes an array's elements */
    for (size_t i = 0; i < n && !s->failed; i++) {
      json_t *e = b->each(b->ctx, i);
      if (!e) {
        s->failed = 1;
        break;
      }
      write_value(s, e, pretty, depth + 1, NULL, 0);
      json_decref(e);
      sep(s, pretty, depth, i, n);
    }
  } else if (b->kind == JBIG_HEX) {
    for (size_t i = 0; i < n && !s->failed; i++) {
      put_hex(s, b->v[i]);
      sep(s, pretty, depth, i, n);
    }
  } else if (b->kind == JBIG_UPPER) {
    size_t t = 0;
    for (size_t j = 0; j < b->n && !s->failed; j++)
      for (size_t i = 0; i <= j; i++, t++) {
        put_hex(s, b->v[j * b->n + i]);
        sep(s, pretty, depth, t, n);
      }
  } else { /* JBIG_VCOV: rows of the symmetric matrix */
    char buf[40];
    for (size_t i = 0; i < n && !s->failed; i++) {
      csvreg__jsink_put(s, "[", 1);
      indent(s, pretty, depth + 2);
      for (size_t j = 0; j < n; j++) {
        double x = b->v[j * n + i];
        if (b->scaled)
          x = b->scale * x;
        if (isfinite(x))
          csvreg__jsink_put(s, buf, csvreg__jreal(x, buf));
        else
          csvreg__jsink_put(s, "null", 4);
        sep(s, pretty, depth + 1, j, n);
      }
      csvreg__jsink_put(s, "]", 1);
      sep(s, pretty, depth, i, n);
    }
  }
  csvreg__jsink_put(s, "]", 1);
}

typedef struct key_len {
  const char *key;
  size_t len;
  json_t *value;
} key_len;

/* jansson 2.14's order of sorted keys: bytes, then length. */
static int key_cmp(const void *a, const void *b) {
  const key_len *x = a, *y = b;
  size_t m = x->len < y->len ? x->len : y->len;
  int r = memcmp(x->key, y->key, m);
  return r ? r : (x->len > y->len) - (x->len < y->len);
}

static void write_value(csvreg__jsink *s, const json_t *v, int pretty, int depth,
                        const csvreg__jbig *bigs, size_t nbigs) {
  if (s->failed)
    return;
  for (size_t k = 0; k < nbigs; k++)
    if (bigs[k].node == v) {
      put_big(s, &bigs[k], pretty, depth);
      return;
    }
  if (json_is_array(v)) {
    size_t n = json_array_size(v);
    if (!n) {
      put_str(s, "[]");
      return;
    }
    csvreg__jsink_put(s, "[", 1);
    indent(s, pretty, depth + 1);
    for (size_t i = 0; i < n && !s->failed; i++) {
      write_value(s, json_array_get(v, i), pretty, depth + 1, bigs, nbigs);
      sep(s, pretty, depth, i, n);
    }
    csvreg__jsink_put(s, "]", 1);
  } else if (json_is_object(v)) {
    size_t n = json_object_size(v);
    if (!n) {
      put_str(s, "{}");
      return;
    }
    key_len *keys = malloc(n * sizeof *keys);
    if (!keys) {
      s->failed = 1;
      return;
    }
    size_t i = 0;
    for (void *it = json_object_iter((json_t *)v); it && i < n;
         it = json_object_iter_next((json_t *)v, it), i++) {
      keys[i].key = json_object_iter_key(it);
      keys[i].len = json_object_iter_key_len(it);
      keys[i].value = json_object_iter_value(it);
    }
    n = i;
    if (!pretty)
      qsort(keys, n, sizeof *keys, key_cmp);
    csvreg__jsink_put(s, "{", 1);
    indent(s, pretty, depth + 1);
    for (i = 0; i < n && !s->failed; i++) {
      put_key(s, keys[i].key, keys[i].len);
      csvreg__jsink_put(s, pretty ? ": " : ":", pretty ? 2 : 1);
      write_value(s, keys[i].value, pretty, depth + 1, bigs, nbigs);
      sep(s, pretty, depth, i, n);
    }
    csvreg__jsink_put(s, "}", 1);
    free(keys);
  } else {
    put_scalar(s, v, pretty);
  }
}

int csvreg__jwrite(csvreg__jsink *s, const json_t *v, int pretty, const csvreg__jbig *bigs,
                   size_t nbigs) {
  write_value(s, v, pretty, 0, bigs, nbigs);
  return csvreg__jsink_flush(s);
}
