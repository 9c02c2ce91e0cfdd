/*
 * numparse.c - strict, locale-independent, correctly rounded text -> double.
 *
 * This is the hot path of a fit (one call per used cell), so the common case
 * never leaves this file. One pass checks the grammar and accumulates the
 * decimal significand; when it has at most 19 digits, fits in 2^53 and the
 * power of ten is within 10^+-22, the result is one multiply or divide of two
 * exact doubles, which IEEE 754 rounds correctly (Clinger's fast path).
 * Otherwise fast_float decides through the shim in numparse_ff.cc: its
 * Eisel-Lemire step on the significand already read (19 digits or fewer),
 * else from_chars on the text (more digits, or the rare undecided case).
 * All paths agree bit for bit with strtod in the C locale under the default
 * rounding mode (numparse_verify checks that); none reads the locale; strtod
 * is never called. The input is not NUL-terminated: nothing reads past
 * s + len.
 *
 * Short plain fields ("-12.3456": at most 8 bytes after the sign, no
 * exponent) first take a branch-light path: the field is loaded as one
 * 64-bit word, a SWAR digit mask locates the point, and one multiply sequence
 * converts every digit. Byte-at-a-time loops pay a branch misprediction at
 * the end of each digit run whenever field lengths vary, and the sign is
 * handled without a branch for the same reason.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "numparse.h"

/* Clinger's argument needs each operation rounded once to double; with x87
 * excess precision (FLT_EVAL_METHOD != 0) the product would be rounded twice,
 * so such targets take the slow path for everything. */
#ifndef NUMPARSE_CLINGER /* -DNUMPARSE_CLINGER=0 tests the slow paths alone */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define NUMPARSE_CLINGER 1
#else
#define NUMPARSE_CLINGER 0
#endif
#endif

/* 10^0 .. 10^22: every one is exact in double (5^22 < 2^53). */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The SWAR path loads bytes little-endian into a 64-bit word. */
#ifndef NUMPARSE_SWAR
#if NUMPARSE_CLINGER && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NUMPARSE_SWAR 1
#else
#define NUMPARSE_SWAR 0
#endif
#endif

/* The digit's value, or something >= 10 for any other byte. */
static inline unsigned digit_value(char c) { return (unsigned)(unsigned char)c - (unsigned)'0'; }

static inline int is_blank(char c) { return c == ' ' || c == '\t'; }

/* v (>= 0) with the sign bit `sign` (0 or 1 << 63): -0.0 for "-0". */
static inline double with_sign(double v, uint64_t sign) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  b |= sign;
  memcpy(&v, &b, sizeof v);
  return v;
}

#if NUMPARSE_SWAR
static inline uint64_t load_u32(const char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

static inline uint64_t load_u16(const char *p) {
  uint16_t w;
  memcpy(&w, p, 2);
  return w;
}

/* One bit per byte of w (bit i for byte i): set where the byte is not an
 * ASCII digit. x = byte ^ '0' is 0..9 exactly for digits; adding 0x76 to its
 * low 7 bits reaches 0x80 from 10 up, without carries between bytes. */
static inline unsigned nondigit_bits(uint64_t w) {
  const uint64_t ones7 = 0x7f7f7f7f7f7f7f7fu, high = 0x8080808080808080u;
  uint64_t x = w ^ 0x3030303030303030u;
  uint64_t nd = (((x & ones7) + 0x7676767676767676u) | x) & high;
  return (unsigned)(((nd >> 7) * 0x0102040810204080u) >> 56); /* gather the high bits */
}

/* The value of k (1..8) digit values (byte ^ '0') in the low bytes of x,
 * first digit lowest: shifted up, the empty low bytes read as leading zeros;
 * then pairs, quads and the octet are combined by multiplies. */
static inline uint64_t swar_digits(uint64_t x, unsigned k) {
  x <<= 8 * (8 - k);
  x = x * 10 + (x >> 8);
  x = (((x & 0x000000ff000000ffu) * 0x000f424000000064u) +
       (((x >> 16) & 0x000000ff000000ffu) * 0x0000271000000001u)) >>
      32;
  return (uint32_t)x;
}

/* Fields of n (1..8) bytes of the form D*[.D*] with a digit ("12.3456"):
 * sets *v and returns 1. Anything else (an exponent, garbage) returns 0 for
 * the general path to decide. At most 8 digits: always within Clinger. */
static inline int parse_short_plain(const char *p, size_t n, double *v) {
  uint64_t w;
  /* Two overlapping loads inside the field (their overlap holds the same
   * bytes, so OR-ing is harmless); bytes past n stay 0, a non-digit. */
  if (n == 8)
    memcpy(&w, p, 8);
  else if (n >= 4)
    w = load_u32(p) | load_u32(p + n - 4) << (8 * (n - 4));
  else if (n >= 2)
    w = load_u16(p) | load_u16(p + n - 2) << (8 * (n - 2));
  else
    w = (unsigned char)p[0];
  unsigned nd = nondigit_bits(w) | 1u << 8;
  unsigned int_len = (unsigned)__builtin_ctz(nd), ndigits = int_len, frac_len = 0;
  uint64_t x = w ^ 0x3030303030303030u; /* digit values where there are digits */
  if (int_len != n) {
    if ((char)(w >> (8 * int_len)) != '.' ||
        (unsigned)__builtin_ctz(nd & ~((2u << int_len) - 1)) != n)
      return 0;
    /* Drop the point: the bytes above it move down one. */
    uint64_t below = ((uint64_t)1 << (8 * int_len)) - 1;
    x = (x & below) | ((x >> 8) & ~below);
    frac_len = (unsigned)n - int_len - 1;
    ndigits = (unsigned)n - 1;
  }
  if (ndigits == 0)
    return 0;
  *v = (double)swar_digits(x, ndigits) / pow10_exact[frac_len];
  return 1;
}
#endif

/* Consumes the digits at p (up to end) into *m (modulo 2^64) and returns
 * where they stop; eight at a time while eight digits are in the field. */
static inline const char *scan_digits(const char *p, const char *end, uint64_t *m) {
  uint64_t acc = *m;
  unsigned d;
#if NUMPARSE_SWAR
  while (end - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    if (nondigit_bits(w) != 0)
      break;
    acc = acc * 100000000u + swar_digits(w ^ 0x3030303030303030u, 8);
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

csvreg_status csvreg_parse_double(const char *s, size_t len, double *out) {
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

#if NUMPARSE_SWAR
  double short_value;
  if (end - p <= 8 && p != end && parse_short_plain(p, (size_t)(end - p), &short_value)) {
    *out = with_sign(short_value, sign);
    return CSVREG_OK;
  }
#endif

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
    } else if (!numparse_ff_decimal(m, q, &v) && !numparse_ff(number, end, &v)) {
      return CSVREG_E_VALUE; /* not reached: the grammar was checked */
    }
  } else if (!numparse_ff(number, end, &v)) {
    return CSVREG_E_VALUE;
  }
  if (isinf(v)) /* overflow ("1e400"); underflow gives 0 or a subnormal and passes */
    return CSVREG_E_VALUE;
  *out = with_sign(v, sign);
  return CSVREG_OK;
}
