/*
 * csvreg__numparse_ff.cc - the C-callable shim over fast_float, the slow path of
 * csvreg_parse_double for significands beyond 2^53 or powers of ten beyond
 * 22: csvreg__numparse_ff_decimal (Eisel-Lemire on a significand numparse.c has
 * already read) and csvreg__numparse_ff (from_chars on the text). fast_float is
 * correctly rounded (as strtod in the C locale) and never looks at the locale.
 * Built with -fno-exceptions -fno-rtti: everything here is noexcept and works
 * on the stack.
 */
#include <fast_float/fast_float.h>

#include "numparse.h"

extern "C" int csvreg__numparse_ff(const char *first, const char *last, double *out) {
  double v = 0.0;
  fast_float::from_chars_result r = fast_float::from_chars(first, last, v);
  if (r.ec != std::errc() || r.ptr != last)
    return 0;
  *out = v;
  return 1;
}

// compute_float and to_float are the two steps from_chars itself takes after
// reading the digits (namespace fast_float, fast_float 3.x and later).
// am.power2 < 0 means Eisel-Lemire could not decide; from_chars then compares
// digits with big integers, which needs the text.
extern "C" int csvreg__numparse_ff_decimal(uint64_t w, int64_t q, double *out) {
  fast_float::adjusted_mantissa am =
      fast_float::compute_float<fast_float::binary_format<double>>(q, w);
  if (am.power2 < 0)
    return 0;
  double v = 0.0;
  fast_float::to_float(false, am, v);
  *out = v;
  return 1;
}
