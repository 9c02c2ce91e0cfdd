/*
 * numparse.c - strict, locale-independent, correctly rounded text -> double.
 *
 * This is the hot path of a fit (one call per used cell), so the common case
 * never leaves this file. One pass checks the grammar and accumulates the
 * decimal significand; when it has at most 19 digits, fits in 2^53 and the
 * power of ten is within 10^+-22, the result is one multiply or divide of two
 * exact doubles, which IEEE 754 rounds correctly (Clinger's fast path).
 * Otherwise fast_float decides through the shim in csvreg__numparse_ff.cc: its
 * Eisel-Lemire step on the significand already read (19 digits or fewer),
 * else from_chars on the text (more digits, or the rare undecided case).
 * All paths agree bit for bit with strtod in the C locale under the default
 * rounding mode (numparse_verify checks that); none reads the locale; strtod
 * is never called. The input is not NUL-terminated: nothing reads past
 * s + len.
 *
 * Short plain fields ("-12.3456": at most 8 digits, no blank, no exponent)
 * first take numparse_short (numparse.h, inline so that the chunk's loop can
 * use it without a call): two loads gather the field into one 64-bit word, a
 * SWAR digit mask locates the point, and one multiply sequence converts every
 * digit. Byte-at-a-time loops pay a branch misprediction at the end of each
 * digit run whenever field lengths vary. Everything else, blanks included,
 * goes to parse_general, out of line so that the short path saves no
 * registers.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "numparse.h"

const double csvreg__numparse_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                           1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
#define pow10_exact csvreg__numparse_pow10

/* The digit's value, or something >= 10 for any other byte. */
static inline unsigned digit_value(char c) { return (unsigned)(unsigned char)c - (unsigned)'0'; }

static inline int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Consumes the digits at p (up to end) into *m (modulo 2^64) and returns
 * where they stop; eight at a time while eight digits are in the field. */
static inline const char *scan_digits(const char *p, const char *end, uint64_t *m) {
  uint64_t acc = *m;
  unsigned d;
#if NUMPARSE_SWAR
  while (end - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    w ^= 0x3030303030303030u;
    if (numparse_nondigits(w) != 0)
      break;
    acc = acc * 100000000u + numparse_octet(w);
    p += 8;
  }
#endif
  while (p != end && (d = digit_value(*p)) < 10) {
    acc = 10 * acc + d;
    p++;
  }
  *m = acc;
  return p;
}

/* Everything but the short plain fields: blanks, exponents, long
 * significands, and every error. Kept out of line so that the short path
 * pays for no registers it does not use. */
static __attribute__((noinline)) csvreg_status parse_general(const char *s, size_t len,
                                                             double *out) {
  const char *p = s, *end = s + len;
  while (p != end && is_blank(*p))
    p++;
  while (end != p && is_blank(end[-1]))
    end--;
  if (p == end)
    return CSVREG_E_VALUE;

  /* Branch-free: signs are random in real data and would mispredict. */
  uint64_t sign = (uint64_t)(*p == '-') << 63;
  p += (*p == '-') | (*p == '+');
  const char *number = p; /* what the slow path sees: no sign, no blanks */

  /* The significand wraps modulo 2^64 past 19 digits; it is only used when
   * ndigits <= 19 (leading zeros included, which is conservative). */
  uint64_t m = 0;
  p = scan_digits(p, end, &m);
  size_t ndigits = (size_t)(p - number);
  size_t nfrac = 0;
  if (p != end && *p == '.') {
    const char *frac = ++p;
    p = scan_digits(p, end, &m);
    nfrac = (size_t)(p - frac);
    ndigits += nfrac;
  }
  if (ndigits == 0) /* ".", "e5", "+", "inf" */
    return CSVREG_E_VALUE;

  int64_t exp10 = 0;
  if (p != end && (*p == 'e' || *p == 'E')) {
    p++;
    int exp_negative = 0;
    if (p != end && (*p == '-' || *p == '+')) {
      exp_negative = (*p == '-');
      p++;
    }
    if (p == end || digit_value(*p) >= 10)
      return CSVREG_E_VALUE;
    /* Saturate: beyond 10^6 only the sign matters for the fast path. */
    do {
      if (exp10 < 1000000)
        exp10 = 10 * exp10 + digit_value(*p);
      p++;
    } while (p != end && digit_value(*p) < 10);
    if (exp_negative)
      exp10 = -exp10;
  }
  if (p != end) /* trailing garbage: "1,5", "1 000", "0x10", "5e-x" */
    return CSVREG_E_VALUE;

  double v;
  if (ndigits <= 19) { /* m is exact */
    int64_t q = exp10 - (int64_t)nfrac;
    if (m == 0) {
      v = 0.0; /* zero times any power of ten, however large */
    } else if (NUMPARSE_CLINGER && m <= ((uint64_t)1 << 53) && q >= -22 && q <= 22) {
      v = (double)m; /* exact: m <= 2^53 */
      v = q < 0 ? v / pow10_exact[-q] : v * pow10_exact[q];
    } else if (!csvreg__numparse_ff_decimal(m, q, &v) && !csvreg__numparse_ff(number, end, &v)) {
      return CSVREG_E_VALUE; /* not reached: the grammar was checked */
    }
  } else if (!csvreg__numparse_ff(number, end, &v)) {
    return CSVREG_E_VALUE;
  }
  if (isinf(v)) /* overflow ("1e400"); underflow gives 0 or a subnormal and passes */
    return CSVREG_E_VALUE;
  *out = numparse_with_sign(v, sign);
  return CSVREG_OK;
}

csvreg_status csvreg_parse_double(const char *s, size_t len, double *out) {
#if NUMPARSE_SWAR
  if (numparse_short(s, len, out))
    return CSVREG_OK;
#endif
  return parse_general(s, len, out);
}
