/*
 * numparse_dd.c - a decimal cell as a double-double: hi, the correctly
 * rounded double (what csvreg_parse_double gives), and lo, the rest of the
 * decimal as written (hi + lo is the text's value to about 2^-104 of it).
 * Only the refinement's passes read cells this way (src/fit/refine.c): its
 * residuals are those of the data as written, not of the data rounded to
 * binary64, so the refined fit is the least-squares solution of the file.
 *
 * The common cell (at most 19 significant digits, a power of ten within
 * 10^+-22) needs no big numbers: with m the digits as an integer and
 * P = 10^k exact in double, the remainder m - hi P (or m P - hi) is computed
 * exactly with fma (TwoProduct) and rounded once when divided by P. Longer
 * or larger decimals are read to 38 significant digits (more cannot change
 * a double-double) and scaled by powers of ten in double-double arithmetic.
 * Values near the ends of the double range (below 1e-270, or an exponent
 * beyond 280) and
 * anything odd keep lo = 0: the double as the main pass reads it.
 */
#include <math.h>
#include <stdint.h>

#include "ddouble.h"
#include "internal.h"
#include "numparse.h"
#include "numparse_dd.h"

static dd dd_div(dd a, dd b) {
  double q1 = a.hi / b.hi;
  dd r = dd_add(a, (dd){-(q1 * b.hi), -fma(q1, b.hi, -(q1 * b.hi))});
  r = dd_add(r, (dd){-(q1 * b.lo), 0});
  double q2 = r.hi / b.hi;
  dd r2 = dd_mul((dd){q2, 0}, b);
  r = dd_add(r, (dd){-r2.hi, -r2.lo});
  double q3 = r.hi / b.hi;
  dd q = dd_quick_two_sum(q1, q2);
  return dd_add(q, (dd){q3, 0});
}

/* An integer below 2^64 as a double-double (exact). */
static dd dd_u64(uint64_t m) {
  double a = (double)m; /* m < 10^19: a < 2^64, and m - a fits in int64 */
  return dd_quick_two_sum(a, (double)(int64_t)(m - (uint64_t)a));
}

/* 10^e, 0 <= e <= 330, as a double-double: products of exact powers. */
static dd dd_pow10(int e) {
  dd r = {1, 0};
  while (e > 22) {
    r = dd_mul(r, (dd){1e22, 0});
    e -= 22;
  }
  return dd_mul(r, (dd){csvreg__numparse_pow10[e], 0});
}

static const double inv_pow10[9] = {1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8};

static inline unsigned digit(char c) { return (unsigned)(unsigned char)c - (unsigned)'0'; }

int csvreg__parse_dd(const char *s, size_t len, double *hi, double *lo) {
  *lo = 0;
#if NUMPARSE_SWAR
  if (numparse_short(s, len, hi)) {
    /* the common cell, [-]D*[.D*] with at most 8 digits: m / 10^k, k the
     * digits after the point (found without a branch per byte) and m the
     * integer hi 10^k rounds to (hi is within 2^-53 of it, m < 10^8) */
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
      k = s[i] == '.' ? len - 1 - i : k;
    if (k > 0 && k <= 8 && *hi != 0) {
      double pp = csvreg__numparse_pow10[k], h = fabs(*hi), a = h * pp, ae = fma(h, pp, -a);
      double m = (double)(int64_t)(a + 0.5); /* a < 10^8 */
      /* times 10^-k rounded: lo's own rounding is u^2 of the value */
      double l = ((m - a) - ae) * inv_pow10[k];
      *lo = *hi < 0 ? -l : l;
    }
    return 0;
  }
#endif
  if (csvreg_parse_double(s, len, hi) != CSVREG_OK)
    return -1;
  const char *p = s, *end = s + len;
  while (p != end && (*p == ' ' || *p == '\t'))
    p++;
  int neg = p != end && *p == '-';
  p += p != end && (*p == '-' || *p == '+');
  /* up to 38 significant digits: m1 (the first 19), m2 (n2 more) */
  uint64_t m1 = 0, m2 = 0;
  int n1 = 0, n2 = 0;
  long e = 0; /* the value is (m1 10^n2 + m2) 10^e */
  int seen_point = 0;
  for (; p != end; p++) {
    if (*p == '.') {
      if (seen_point)
        break;
      seen_point = 1;
      continue;
    }
    unsigned d = digit(*p);
    if (d >= 10)
      break;
    if (n1 == 0 && d == 0) { /* leading zeros */
      e -= seen_point;
      continue;
    }
    if (n1 < 19)
      m1 = 10 * m1 + d, n1++, e -= seen_point;
    else if (n2 < 19)
      m2 = 10 * m2 + d, n2++, e -= seen_point;
    else
      e += !seen_point; /* dropped: only its place counts */
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    p++;
    int en = p != end && *p == '-';
    p += p != end && (*p == '-' || *p == '+');
    long x = 0;
    for (; p != end && digit(*p) < 10; p++)
      if (x < 100000)
        x = 10 * x + digit(*p);
    e += en ? -x : x;
  }
  if (m1 == 0 || !isfinite(*hi) || *hi == 0)
    return 0; /* zero is exact */
  double h = fabs(*hi), l;
  if (h < 1e-270) /* lo would be subnormal: no digits to add */
    return 0;
  if (n2 == 0 && e >= -22 && e <= 22) {
    dd m = dd_u64(m1);
    if (e >= 0) {
      /* m P - h: each product exact (fma), the sum of the small parts
       * rounded once at u^2 of the value */
      double pp = csvreg__numparse_pow10[e];
      double a = m.hi * pp, ae = fma(m.hi, pp, -a);
      double b = m.lo * pp, be = fma(m.lo, pp, -b);
      l = ((a - h) + b) + (ae + be);
    } else {
      double pp = csvreg__numparse_pow10[-e];
      double a = h * pp, ae = fma(h, pp, -a);
      l = (((m.hi - a) + m.lo) - ae) / pp;
    }
  } else {
    if (e > 280 || e < -280 - 38)
      return 0;
    dd m = n2 ? dd_add(dd_mul(dd_u64(m1), (dd){csvreg__numparse_pow10[n2], 0}), dd_u64(m2))
              : dd_u64(m1);
    dd v = e >= 0 ? dd_mul(m, dd_pow10((int)e)) : dd_div(m, dd_pow10((int)-e));
    l = (v.hi - h) + v.lo;
  }
  /* a remainder beyond half an ulp of hi (plus rounding) is not one */
  if (!isfinite(l) || fabs(l) > 0x1p-52 * h)
    return 0;
  *lo = neg ? -l : l;
  return 0;
}
