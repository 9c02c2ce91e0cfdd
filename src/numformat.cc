// numformat.cc - double -> shortest text that reads back to the same bits,
// through Google's double-conversion (Debian libdouble-conversion-dev): the
// Grisu3 fast path with an exact bignum fallback, independent of the locale.
// printf("%.17g") costs ~0.5 us a number in glibc's multi-precision code,
// which made predict five times slower than fit.
#include <double-conversion/double-conversion.h>

#include "csvreg.h"

extern "C" size_t csvreg_format_double(double v, char *buf) {
  // As %g chooses: fixed notation from 1e-4 up to below 1e17, else an
  // exponent ("1e-7", "1e+21"); -0 keeps its sign; "NaN", "Infinity".
  static const double_conversion::DoubleToStringConverter conv(
      double_conversion::DoubleToStringConverter::EMIT_POSITIVE_EXPONENT_SIGN, "Infinity", "NaN",
      'e', -4, 17, 0, 0);
  // "-2.2250738585072014e-308" is 24 bytes: CSVREG_FORMAT_DOUBLE_MAX (32)
  // leaves room for the NUL.
  double_conversion::StringBuilder sb(buf, CSVREG_FORMAT_DOUBLE_MAX);
  conv.ToShortest(v, &sb);
  int n = sb.position();
  sb.Finalize();
  return static_cast<size_t>(n);
}
