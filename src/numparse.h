/*
 * numparse.h - internals of the number parser (src/numparse.c); not installed.
 * The public entry point is csvreg_parse_double in csvreg.h.
 */
#ifndef CSVREG_NUMPARSE_H
#define CSVREG_NUMPARSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The slow path: fast_float's from_chars (Eisel-Lemire, then exact big-integer
 * comparison) over [first, last), which must be an unsigned decimal number
 * already checked against our grammar (digits, optional '.', optional
 * exponent; no sign, no spaces). Returns 1 and sets *out when the whole range
 * was consumed, else 0. Overflow gives +inf (the caller rejects it). */
int numparse_ff(const char *first, const char *last, double *out);

/* The value of w * 10^q (w an exact decimal significand, at most 19 digits,
 * not 0) by Eisel-Lemire alone: returns 1 and sets *out (+inf on overflow,
 * 0 on underflow), or 0 in the rare cases where 128 bits of the power of ten
 * cannot decide the rounding; then call numparse_ff on the text. Saves
 * from_chars re-reading digits that numparse.c has already read. */
int numparse_ff_decimal(uint64_t w, int64_t q, double *out);

#ifdef __cplusplus
}
#endif

#endif
