/*
 * numparse.h - internals of the number parser (src/parse/numparse.c); not installed.
 * The public entry point is csvreg_parse_double in csvreg.h.
 */
#ifndef CSVREG_NUMPARSE_H
#define CSVREG_NUMPARSE_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

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

/* The SWAR path loads bytes little-endian into a 64-bit word. */
#ifndef NUMPARSE_SWAR
#if NUMPARSE_CLINGER && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NUMPARSE_SWAR 1
#else
#define NUMPARSE_SWAR 0
#endif
#endif

/* 10^0 .. 10^22: every one is exact in double (5^22 < 2^53). */
extern const double csvreg__numparse_pow10[23];

/* v (>= 0) with the sign bit `sign` (0 or 1 << 63): -0.0 for "-0". */
static inline double numparse_with_sign(double v, uint64_t sign) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  b |= sign;
  memcpy(&v, &b, sizeof v);
  return v;
}

#if NUMPARSE_SWAR
static inline uint64_t numparse_load4(const char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

/* Flags the bytes of x (digit values, byte ^ '0') that are not digits, by
 * their high bit: x is 0..9 exactly for digits, and x + 0x76 reaches 0x80
 * from 10 up. Exact for the lowest flagged byte, and 0 exactly when all
 * eight are digits: a carry into the next byte only comes from a byte of
 * 0x8a or more, itself flagged, and moves up, to bytes the callers ignore
 * once a lower one is flagged. */
static inline uint64_t numparse_nondigits(uint64_t x) {
  return ((x + 0x7676767676767676u) | x) & 0x8080808080808080u;
}

/* The value of the eight digit values (byte ^ '0') in x, first digit in the
 * lowest byte: pairs, quads and the octet are combined by multiplies. */
static inline uint64_t numparse_octet(uint64_t x) {
  x = x * 10 + (x >> 8);
  x = (((x & 0x000000ff000000ffu) * 0x000f424000000064u) +
       (((x >> 16) & 0x000000ff000000ffu) * 0x0000271000000001u)) >>
      32;
  return (uint32_t)x;
}
#endif

/* The first half of the short path: gathers a plain field of 1..9 bytes,
 * [-]D*[.D*] with 1..8 digits and no blank or exponent ("-94.4686"), into
 * *w: the n (1..8) bytes after the sign, first byte lowest, the bytes above
 * them 0; *ns is n with the sign bit (1 << 63) or'ed in. Returns 0 for
 * what cannot be short by its length (empty, more than 8 bytes after the
 * sign, a lone point), with *w and *ns set to 0, which a lane of
 * numparse_avx2.h computes on harmlessly before it is ignored; a '+' or
 * any other stray byte is refused by the callers' digit check. Reads only
 * [s, s + len).
 *
 * The bytes are gathered by two loads inside the field (their overlap holds
 * the same bytes), so the length sets shifts, not branches: lengths vary in
 * real data and a byte loop would mispredict at each field's end. A '+' is
 * rare in data: it takes the general path, which saves a compare here.
 *
 * `wide` (a constant): the field is followed by readable input
 * (csvreg__reader_slack), and *w is the 8 bytes after the sign loaded as one word,
 * its bytes above n whatever follows the field (the callers shift them
 * out). Reads [s, s + 9) then, whatever len is; an empty field's first byte
 * is the next delimiter or line end, and a '-' there would be harmless too
 * (n wraps and is refused). One load, and no branch on the length. */
static inline int numparse_gather(const char *s, size_t len, uint64_t *w, uint64_t *ns,
                                  const int wide) {
#if NUMPARSE_SWAR
  size_t has_sign = (wide || len) && s[0] == '-';
  size_t n = len - has_sign; /* bytes after the sign */
  const char *p = s + has_sign;
  if (n - 1 >= 8 || (n == 1 && p[0] == '.')) /* none, more than 8, a lone point */
    goto no;
  if (wide)
    memcpy(w, p, 8);
  else if (n >= 4)
    *w = numparse_load4(p) | numparse_load4(s + len - 4) << (8 * n - 32);
  else
    *w = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << (8 * (n / 2)) |
         (uint64_t)(unsigned char)p[n - 1] << (8 * (n - 1));
  *ns = n | (uint64_t)has_sign << 63;
  return 1;
no:
#else
  (void)s, (void)len, (void)wide;
#endif
  *w = *ns = 0;
  return 0;
}

/* The short path of csvreg_parse_double, inline for the chunk's loop (no
 * call, constants kept in registers): for the fields numparse_gather takes,
 * sets *out to exactly what csvreg_parse_double gives and returns 1; anything
 * else returns 0 (then call csvreg_parse_double). Reads only [s, s + len).
 *
 * The point is squeezed out of the gathered word and the empty high bytes
 * read as trailing zeros: the word holds the digits times 10^(8 - digits),
 * at most 99999999, so the value is that integer over 10^(8 - digits before
 * the point), one exact division (Clinger). */
static inline int numparse_short(const char *s, size_t len, double *out) {
#if NUMPARSE_SWAR
  uint64_t w, ns;
  if (!numparse_gather(s, len, &w, &ns, 0))
    return 0;
  uint64_t n = ns & 15, sign = ns & (uint64_t)1 << 63;
  /* Digit values; the bytes above the number read 0. */
  unsigned sh = 64 - 8 * (unsigned)n;
  uint64_t x = (w ^ 0x3030303030303030u) << sh >> sh;
  uint64_t nd = numparse_nondigits(x);
  unsigned scale = 8 - (unsigned)n; /* the power of ten in the word */
  if (nd) {
    /* Exactly one non-digit, a point. */
    unsigned at = (unsigned)__builtin_ctzll(nd) - 7; /* the point's bit offset */
    uint64_t h = x >> at;                            /* the point and above */
    if ((nd & (nd - 1)) | ((h & 0xff) ^ ('.' ^ '0')))
      return 0;
    /* Squeeze the point out: the bytes above it move down one. */
    x -= (h - (h >> 8)) << at;
    scale = 8 - at / 8;
  }
  *out = numparse_with_sign((double)numparse_octet(x) / csvreg__numparse_pow10[scale], sign);
  return 1;
#else
  (void)s, (void)len, (void)out;
  return 0;
#endif
}

/* The slow path: fast_float's from_chars (Eisel-Lemire, then exact big-integer
 * comparison) over [first, last), which must be an unsigned decimal number
 * already checked against our grammar (digits, optional '.', optional
 * exponent; no sign, no spaces). Returns 1 and sets *out when the whole range
 * was consumed, else 0. Overflow gives +inf (the caller rejects it). */
int csvreg__numparse_ff(const char *first, const char *last, double *out);

/* The value of w * 10^q (w an exact decimal significand, at most 19 digits,
 * not 0) by Eisel-Lemire alone: returns 1 and sets *out (+inf on overflow,
 * 0 on underflow), or 0 in the rare cases where 128 bits of the power of ten
 * cannot decide the rounding; then call csvreg__numparse_ff on the text. Saves
 * from_chars re-reading digits that numparse.c has already read. */
int csvreg__numparse_ff_decimal(uint64_t w, int64_t q, double *out);

#ifdef __cplusplus
}
#endif

#endif
