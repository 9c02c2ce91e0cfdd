// numformat_identity.cc - csvreg_format_double (Dragonbox plus our own layout)
// writes exactly the bytes Google double-conversion's ToShortest wrote before
// it (EMIT_POSITIVE_EXPONENT_SIGN, "Infinity", "NaN", 'e', shortest range
// [-4, 17)), and every finite output reads back to the same bits with
// csvreg_parse_double. double-conversion is a test-only dependency: it is the
// reference that model files and predictions written by older builds came from.
//
//   numformat_identity [RANDOM_BITS [SHORT_DECIMALS [SEED]]]
//
// Edge cases first (zeros, subnormals, DBL_MIN/MAX, every power of two and of
// ten with its neighbours, the notation switches at 1e-4 and 1e17, integers
// up to 2^53, infinities, NaNs), then RANDOM_BITS random bit patterns
// (default 4,000,000) and SHORT_DECIMALS random decimals of 1 to 17 digits
// (default 2,000,000), the values CSV files hold. Prints counts and the first
// mismatches; exits 1 on any.
#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <double-conversion/double-conversion.h>

#include "csvreg.h"

namespace {

uint64_t rng_state;

uint64_t rnd() { // splitmix64
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

double from_bits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

uint64_t to_bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// The converter csvreg_format_double used until it moved to Dragonbox.
size_t reference(double v, char *buf, int size) {
  static const double_conversion::DoubleToStringConverter conv(
      double_conversion::DoubleToStringConverter::EMIT_POSITIVE_EXPONENT_SIGN, "Infinity", "NaN",
      'e', -4, 17, 0, 0);
  double_conversion::StringBuilder sb(buf, size);
  conv.ToShortest(v, &sb);
  int n = sb.position();
  sb.Finalize();
  return static_cast<size_t>(n);
}

uint64_t checked, mismatches;

void check(double v) {
  checked++;
  char got[CSVREG_FORMAT_DOUBLE_MAX], want[64];
  size_t n = csvreg_format_double(v, got);
  size_t m = reference(v, want, sizeof want);
  const char *why = nullptr;
  if (n >= sizeof got || got[n] != '\0' || std::strlen(got) != n)
    why = "length or NUL";
  else if (n != m || std::memcmp(got, want, n) != 0)
    why = "differs from double-conversion";
  else if (std::isfinite(v)) {
    double back;
    if (csvreg_parse_double(got, n, &back) != CSVREG_OK)
      why = "does not parse";
    else if (to_bits(back) != to_bits(v))
      why = "reads back to other bits";
  }
  if (!why)
    return;
  if (++mismatches <= 20)
    std::printf("MISMATCH %016" PRIx64 " (%a): '%s' vs double-conversion '%s': %s\n", to_bits(v), v,
                got, want, why);
}

// v, its neighbours one and two ulps away, and the same for -v.
void check_around(double v) {
  double lo = v, hi = v;
  for (int i = 0; i < 3; i++) {
    check(lo);
    check(-lo);
    check(hi);
    check(-hi);
    lo = std::nextafter(lo, -HUGE_VAL);
    hi = std::nextafter(hi, HUGE_VAL);
  }
}

void edge_cases() {
  check(0.0);
  check(-0.0);
  check(HUGE_VAL);
  check(-HUGE_VAL);
  check(std::nan(""));
  check(-std::nan(""));
  check(from_bits(0x7ff0000000000001u)); // signalling NaN
  check(from_bits(0xfff8000000000001u)); // negative NaN with a payload
  check(from_bits(0x7fffffffffffffffu));
  // Subnormals: the smallest ones, the largest, every power of two between.
  for (uint64_t b = 1; b < 100000; b++)
    check(from_bits(b));
  for (uint64_t b = 0x000fffffffffffffu; b > 0x000fffffffffffffu - 100000; b--)
    check(from_bits(b));
  check_around(DBL_MIN);
  check_around(DBL_MAX);
  check_around(DBL_TRUE_MIN);
  // Every power of two (the asymmetric rounding interval) from 2^-1074 up.
  for (int e = -1074; e <= 1023; e++)
    check_around(std::ldexp(1.0, e));
  // Every power of ten the parser gives, the notation switches 1e-4 / 1e17
  // among them, with multiples, halves and neighbours.
  for (int e = -323; e <= 308; e++) {
    char text[32];
    std::snprintf(text, sizeof text, "1e%d", e);
    double p;
    if (csvreg_parse_double(text, std::strlen(text), &p) != CSVREG_OK)
      continue;
    check_around(p);
    for (int d = 2; d <= 9; d++)
      check_around(p * d);
    check_around(p * 0.5);
    check_around(p * 9.999999999999999);
  }
  // Integers: all up to 10^6, then each power of two below 2^54 with its
  // neighbours (2^53 + 1 is the first one a double cannot hold), then random.
  for (int i = 0; i <= 1000000; i++)
    check(i);
  for (int e = 20; e <= 54; e++)
    for (int d = -3; d <= 3; d++)
      check(std::ldexp(1.0, e) + d);
  for (int i = 0; i < 1000000; i++)
    check(static_cast<double>(rnd() >> 11));
}

void random_bits(uint64_t count) {
  for (uint64_t i = 0; i < count; i++)
    check(from_bits(rnd()));
}

// "ddd...e-X": 1 to 17 significant digits at a scale around the notation
// switches and the usual range of data, parsed to the nearest double.
void short_decimals(uint64_t count) {
  for (uint64_t i = 0; i < count; i++) {
    int digits = 1 + static_cast<int>(rnd() % 17);
    uint64_t sig = rnd() % 100000000000000000u; // < 10^17
    for (int k = digits; k < 17; k++)
      sig /= 10;
    int exp10 = static_cast<int>(rnd() % 61) - 30; // 10^-30 .. 10^30
    if (rnd() % 8 == 0)
      exp10 = static_cast<int>(rnd() % 640) - 340; // anywhere, overflow aside
    char text[64];
    std::snprintf(text, sizeof text, "%s%" PRIu64 "e%d", rnd() & 1 ? "-" : "", sig, exp10);
    double v;
    if (csvreg_parse_double(text, std::strlen(text), &v) == CSVREG_OK)
      check(v);
  }
}

} // namespace

int main(int argc, char **argv) {
  uint64_t nbits = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4000000;
  uint64_t ndec = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2000000;
  rng_state = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 20240601;
  edge_cases();
  uint64_t edges = checked;
  random_bits(nbits);
  short_decimals(ndec);
  std::printf("checked %" PRIu64 " values (%" PRIu64 " edge cases), %" PRIu64 " mismatches\n",
              checked, edges, mismatches);
  return mismatches ? 1 : 0;
}
