/*
 * hexfloat.h - exact, locale-independent text for doubles ("0x1.8p+3"), for
 * state and model files: a value written and read back has the same bits.
 * printf's %a follows LC_NUMERIC, so it is not used.
 */
#ifndef CSVREG_HEXFLOAT_H
#define CSVREG_HEXFLOAT_H

#include <stddef.h>

#define HEXFLOAT_MAX 32 /* "-0x1.fffffffffffffp+1023" and a NUL fit */

/* Writes the finite double `v` into buf (HEXFLOAT_MAX bytes); returns the length. */
size_t csvreg__hexfloat_format(double v, char *buf);

/* Parses a hex float written by csvreg__hexfloat_format (or any "[-]0x[01].hhhp[+-]d"
 * with at most 13 hex digits after the point). Returns 0 on success. */
int csvreg__hexfloat_parse(const char *s, double *out);

#endif
