/*
 * hexfloat.c - see hexfloat.h. Built from the IEEE 754 bits, so no rounding
 * and no locale can enter.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hexfloat.h"

size_t csvreg__hexfloat_format(double v, char *buf) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int neg = (int)(bits >> 63);
  int e = (int)((bits >> 52) & 0x7ff);
  uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
  const char *sign = neg ? "-" : "";
  int n;
  if (e == 0 && mant == 0)
    n = snprintf(buf, HEXFLOAT_MAX, "%s0x0p+0", sign);
  else if (e == 0) /* subnormal */
    n = snprintf(buf, HEXFLOAT_MAX, "%s0x0.%013llxp-1022", sign, (unsigned long long)mant);
  else
    n = snprintf(buf, HEXFLOAT_MAX, "%s0x1.%013llxp%+d", sign, (unsigned long long)mant, e - 1023);
  return n < 0 ? 0 : (size_t)n;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int csvreg__hexfloat_parse(const char *s, double *out) {
  int neg = 0;
  if (*s == '-')
    neg = 1, s++;
  if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
    return -1;
  s += 2;
  if (*s != '0' && *s != '1')
    return -1;
  uint64_t lead = (uint64_t)(*s++ - '0'), frac = 0;
  int nd = 0;
  if (*s == '.') {
    s++;
    for (int h; (h = hexval(*s)) >= 0; s++) {
      if (++nd > 13)
        return -1;
      frac = frac << 4 | (uint64_t)h;
    }
    if (nd == 0)
      return -1;
  }
  if (*s != 'p' && *s != 'P')
    return -1;
  s++;
  int eneg = 0;
  if (*s == '+' || *s == '-')
    eneg = *s++ == '-';
  if (*s < '0' || *s > '9')
    return -1;
  long e = 0;
  for (; *s >= '0' && *s <= '9'; s++)
    if ((e = e * 10 + (*s - '0')) > 2000)
      return -1;
  if (*s)
    return -1;
  /* value = (lead . frac) * 2^e, with frac holding nd hex digits: an integer
   * of at most 53 bits scaled by a power of two, so ldexp is exact unless
   * the result is subnormal and loses bits, which csvreg__hexfloat_format never
   * produces (its subnormals carry 52 bits at exponent -1022). */
  uint64_t m = lead << (4 * nd) | frac;
  if (m >> 53)
    return -1;
  double v = ldexp((double)m, (int)((eneg ? -e : e) - 4 * nd));
  if (!isfinite(v))
    return -1;
  *out = neg ? -v : v;
  return 0;
}
