/*
 * csv_text.c - records written back as CSV text, re-quoted as RFC 4180
 * requires. predict copies every input row to its output, so this is on the
 * hot path of `predict` (one scan per record: fields the reader left back to
 * back are copied as one span when nothing in it needs quoting).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv_text.h"
#include "internal.h"

#if defined(__SSE2__) && defined(__x86_64__) && !defined(CSVREG_NO_SIMD)
#include <emmintrin.h>
#define CSV_TEXT_SSE2 1
#endif

int csvreg__csv_text_reserve(csv_text *t, size_t more) {
  if (t->len + more <= t->cap)
    return 0;
  size_t cap = t->cap ? t->cap : 1 << 16;
  while (cap < t->len + more)
    cap *= 2;
  char *q = realloc(t->p, cap);
  if (!q)
    return -1;
  t->p = q;
  t->cap = cap;
  return 0;
}

/* Copies `len` bytes from s to d and counts the delimiters among them; sets
 * *special when one is a quote, CR or LF. With SSE2, 16 bytes a step (the
 * last step reloads the final 16 and counts only the bytes not seen yet);
 * below 16 bytes, or without SSE2, one byte at a time. */
static size_t scan_copy(char *d, const char *s, size_t len, char delim, int *special) {
  size_t i = 0, delims = 0;
  unsigned sp = 0;
#ifdef CSV_TEXT_SSE2
  if (len >= 16) {
    static const unsigned char tail_mask[32] = {0,    0,    0,    0,    0,    0,    0,    0,
                                                0,    0,    0,    0,    0,    0,    0,    0,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const __m128i vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8('"'), vcr = _mm_set1_epi8('\r'),
                  vlf = _mm_set1_epi8('\n'), one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
    __m128i count = zero, any = zero;
    for (;; i += 16) {
      __m128i mask = _mm_set1_epi8(-1);
      if (i + 16 > len) { /* the last 16 bytes, of which len - i are new */
        mask = _mm_loadu_si128((const __m128i *)(tail_mask + (len - i)));
        i = len - 16;
      }
      __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
      _mm_storeu_si128((__m128i *)(d + i), v);
      __m128i hits = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(v, vd), mask), one);
      count = _mm_add_epi64(count, _mm_sad_epu8(hits, zero)); /* two sums of 8 bytes */
      any = _mm_or_si128(
          any, _mm_or_si128(_mm_cmpeq_epi8(v, vq),
                            _mm_or_si128(_mm_cmpeq_epi8(v, vcr), _mm_cmpeq_epi8(v, vlf))));
      if (i + 16 == len)
        break;
    }
    delims = (size_t)_mm_cvtsi128_si64(count) +
             (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(count, count));
    sp = (unsigned)_mm_movemask_epi8(any);
    i = len;
  }
#endif
  for (; i < len; i++) {
    char c = s[i];
    d[i] = c;
    delims += c == delim;
    sp |= (unsigned)(c == '"') | (unsigned)(c == '\r') | (unsigned)(c == '\n');
  }
  *special = sp != 0;
  return delims;
}

int csvreg__csv_text_field(csv_text *t, const char *s, size_t len, char delim) {
  if (csvreg__csv_text_reserve(t, len))
    return -1;
  int special;
  if (scan_copy(t->p + t->len, s, len, delim, &special) == 0 && !special) {
    t->len += len;
    return 0;
  }
  size_t quotes = 0;
  for (size_t i = 0; i < len; i++)
    quotes += s[i] == '"';
  if (csvreg__csv_text_reserve(t, len + quotes + 2))
    return -1;
  char *d = t->p + t->len;
  *d++ = '"';
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"')
      *d++ = '"';
    *d++ = s[i];
  }
  *d++ = '"';
  t->len = (size_t)(d - t->p);
  return 0;
}

/* Fields the reader left back to back in its buffer, one delimiter byte
 * apart (a plain line, or the plain stretches of a line with quoted fields),
 * are copied as one span when the span holds no quote, CR or LF and no
 * delimiter but those between the fields: that is exactly the text the
 * fields would give one by one, at the cost of one scan. */
int csvreg__csv_text_record(csv_text *t, const csvreg_field *f, size_t n, char delim) {
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && (uintptr_t)f[j].ptr == (uintptr_t)f[j - 1].ptr + f[j - 1].len + 1 &&
           f[j - 1].ptr[f[j - 1].len] == delim)
      j++;
    size_t span = (size_t)((uintptr_t)f[j - 1].ptr + f[j - 1].len - (uintptr_t)f[i].ptr);
    if (csvreg__csv_text_reserve(t, span + 1))
      return -1;
    if (i)
      t->p[t->len++] = delim;
    int special;
    if (j - i > 1 && scan_copy(t->p + t->len, f[i].ptr, span, delim, &special) == j - i - 1 &&
        !special) {
      t->len += span;
    } else {
      for (size_t k = i; k < j; k++) {
        if (k > i) {
          if (csvreg__csv_text_reserve(t, 1))
            return -1;
          t->p[t->len++] = delim;
        }
        if (csvreg__csv_text_field(t, f[k].ptr, f[k].len, delim))
          return -1;
      }
    }
    i = j;
  }
  return 0;
}

csvreg_status csvreg_csv_append(char **buf, size_t *len, size_t *cap, const csvreg_field *fields,
                                size_t n, char delim, csvreg_error *err) {
  if (!buf || !len || !cap || (n && !fields) || *len > *cap)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csv_append: missing argument");
  csv_text t = {*buf, *len, *cap};
  int bad = csvreg__csv_text_record(&t, fields, n, delim);
  *buf = t.p;
  *len = t.len;
  *cap = t.cap;
  return bad ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory") : CSVREG_OK;
}
