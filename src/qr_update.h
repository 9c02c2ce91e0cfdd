/*
 * qr_update.h - the AVX2 + FMA QR update of accum_qr.c (qr_update_avx2.c);
 * internal.
 */
#ifndef CSVREG_QR_UPDATE_H
#define CSVREG_QR_UPDATE_H

#include <stddef.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(CSVREG_NO_SIMD)
#define QR_UPDATE_AVX2 1
#else
#define QR_UPDATE_AVX2 0
#endif

/* Designs up to this many factor columns take the kernel. */
#define QR_UPDATE_MAXQ 32

/* R (q x q, upper triangular, column-major) := the R of a QR of [R; B], B
 * rows x q column-major (overwritten), as LAPACK's dtpqrt with l = 0 up to
 * rounding. Returns 0, or 1 having changed nothing when q > QR_UPDATE_MAXQ
 * or the values are outside the range where it needs no scaling (see the
 * .c file): then call dtpqrt. Only on a CPU with AVX2 and FMA. */
int qr_update_avx2(double *r, size_t q, double *b, size_t rows);

#endif
