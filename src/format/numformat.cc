// numformat.cc - double -> the shortest text that reads back to the same bits,
// independent of the locale. Dragonbox (Debian libdragonbox-dev, header-only)
// finds the shortest correctly rounded decimal significand and exponent
// (boundaries and ties to even, as double-conversion); the text is laid out
// here, byte for byte as csvreg has always written it (Google
// double-conversion's ToShortest with EMIT_POSITIVE_EXPONENT_SIGN, "Infinity",
// "NaN", 'e', shortest range [-4, 17)): tests/numparse/numformat_identity.cc
// compares the two over millions of values. Measured on predictions (17
// digits): ~250 instructions, ~50 ns a number, against ~1200 and ~220 ns for
// double-conversion, whose cost made writing predictions predict's largest.
// Built with -fno-exceptions -fno-rtti: nothing here throws or allocates.
#include <cstdint>
#include <cstring>

#include <dragonbox/dragonbox.h>

#include "csvreg.h"

namespace {

const char kDigitPairs[] = "00010203040506070809"
                           "10111213141516171819"
                           "20212223242526272829"
                           "30313233343536373839"
                           "40414243444546474849"
                           "50515253545556575859"
                           "60616263646566676869"
                           "70717273747576777879"
                           "80818283848586878889"
                           "90919293949596979899";

// Decimal digits of v, 1 <= v < 10^17 (Dragonbox's significands): the bit
// length gives the count or one more, one comparison decides.
int count_digits(uint64_t v) {
  static const uint64_t kPow10[] = {1u,
                                    10u,
                                    100u,
                                    1000u,
                                    10000u,
                                    100000u,
                                    1000000u,
                                    10000000u,
                                    100000000u,
                                    1000000000u,
                                    10000000000u,
                                    100000000000u,
                                    1000000000000u,
                                    10000000000000u,
                                    100000000000000u,
                                    1000000000000000u,
                                    10000000000000000u,
                                    100000000000000000u,
                                    1000000000000000000u};
  int bits = 64 - __builtin_clzll(v | 1);
  int n = (bits * 1233 >> 12) + 1; // 1233 / 4096 ~ log10(2)
  return n - (v < kPow10[n - 1]);
}

// The eight digits of x < 10^8 (leading zeros included) as the bytes of a
// word in memory order: the halves, quarters and digits are split in SIMD
// lanes of one 64-bit register by multiplying with reciprocals (10486 / 2^20
// is exact division by 100 below 10^4, 103 / 2^10 by 10 below 10^2).
uint64_t eight_digits(uint32_t x) {
  uint64_t halves = (x / 10000) | (uint64_t(x % 10000) << 32);
  uint64_t hundreds = ((halves * 10486) >> 20) & 0x0000007f0000007fu;
  uint64_t quarters = hundreds | ((halves - hundreds * 100) << 16);
  uint64_t tens = ((quarters * 103) >> 10) & 0x000f000f000f000fu;
  uint64_t w = tens | ((quarters - tens * 10) << 8) | 0x3030303030303030u;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

// The n digits of v into p[0..n): eight at a time from the right, the rest
// (fewer than eight) two at a time.
void write_digits(char *p, uint64_t v, int n) {
  char *q = p + n;
  while (q - p >= 8) { // at most twice: n <= 17
    uint64_t w = eight_digits(static_cast<uint32_t>(v % 100000000));
    v /= 100000000;
    q -= 8;
    std::memcpy(q, &w, 8);
  }
  uint32_t r = static_cast<uint32_t>(v); // exactly q - p digits
  while (r >= 100) {
    q -= 2;
    std::memcpy(q, kDigitPairs + 2 * (r % 100), 2);
    r /= 100;
  }
  if (q - p == 2)
    std::memcpy(p, kDigitPairs + 2 * r, 2);
  else if (q - p == 1)
    *p = static_cast<char>('0' + r);
}

} // namespace

extern "C" size_t csvreg_format_double(double v, char *buf) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const bool negative = bits >> 63;
  const uint64_t magnitude = bits & ~(uint64_t(1) << 63);
  char *p = buf;
  if (magnitude >= 0x7ff0000000000000u) { // all exponent bits set
    if (magnitude != 0x7ff0000000000000u) {
      std::memcpy(p, "NaN", 4); // unsigned, whatever its sign bit
      return 3;
    }
    if (negative)
      *p++ = '-';
    std::memcpy(p, "Infinity", 9);
    return static_cast<size_t>(p + 8 - buf);
  }
  if (negative)
    *p++ = '-';
  if (magnitude == 0) { // Dragonbox wants a nonzero input; -0 keeps its sign
    std::memcpy(p, "0", 2);
    return static_cast<size_t>(p + 1 - buf);
  }
  namespace policy = jkj::dragonbox::policy;
  const auto dec =
      jkj::dragonbox::to_decimal(v, policy::sign::ignore, policy::trailing_zero::remove);
  const int n = count_digits(dec.significand);
  // v = 0.d1d2...dn x 10^point; sci is the exponent of d1.ddd x 10^sci.
  const int point = n + dec.exponent;
  const int sci = point - 1;
  if (sci >= -4 && sci < 17) { // fixed, as %g would
    if (point <= 0) {          // "0.000ddd": at most 3 zeros after the point
      std::memcpy(p, "0.000", 2 - point);
      p += 2 - point;
      write_digits(p, dec.significand, n);
      p += n;
    } else if (point >= n) { // "ddd000": an integer below 10^17
      write_digits(p, dec.significand, n);
      std::memset(p + n, '0', static_cast<size_t>(point - n));
      p += point;
    } else { // "dd.ddd"
      write_digits(p + 1, dec.significand, n);
      std::memmove(p, p + 1, static_cast<size_t>(point));
      p[point] = '.';
      p += n + 1;
    }
  } else { // "d.ddde+XX", "de-X": no padding of the exponent
    write_digits(p + 1, dec.significand, n);
    p[0] = p[1];
    if (n > 1) {
      p[1] = '.';
      p += n + 1;
    } else {
      p += 1;
    }
    *p++ = 'e';
    *p++ = sci < 0 ? '-' : '+';
    const int e = sci < 0 ? -sci : sci; // at most 324
    if (e >= 100) {
      *p++ = static_cast<char>('0' + e / 100);
      std::memcpy(p, kDigitPairs + 2 * (e % 100), 2);
      p += 2;
    } else if (e >= 10) {
      std::memcpy(p, kDigitPairs + 2 * e, 2);
      p += 2;
    } else {
      *p++ = static_cast<char>('0' + e);
    }
  }
  *p = '\0';
  // Longest: "-0.00012345678901234567" (23), "-1.2345678901234567e-308" (24),
  // within CSVREG_FORMAT_DOUBLE_MAX (32) with the NUL.
  return static_cast<size_t>(p - buf);
}
