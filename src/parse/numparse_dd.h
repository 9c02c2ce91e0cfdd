/*
 * numparse_dd.h - a decimal cell read as a double-double (numparse_dd.c),
 * for the refinement's passes. Internal.
 */
#ifndef CSVREG_NUMPARSE_DD_H
#define CSVREG_NUMPARSE_DD_H

#include <stddef.h>

/* The number [s, s + len) (csvreg_parse_double's grammar) as *hi, exactly
 * what csvreg_parse_double gives, and *lo, the rest of the decimal as
 * written, so that hi + lo is its value to about 2^-104 relative (lo = 0
 * for exact values, zeros, values below 1e-270 and exponents beyond 280). Returns 0, or -1 when
 * the text is not a number (csvreg_parse_double fails; *hi, *lo unset). */
int csvreg__parse_dd(const char *s, size_t len, double *hi, double *lo);

#endif
