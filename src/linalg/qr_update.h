/*
 * qr_update.h - the AVX2 + FMA QR update of accum_qr.c (csvreg__qr_update_avx2.c);
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
 * .c file): then call dtpqrt. b_checked: B's range is known to be good
 * (csvreg__qr_load_avx2 returned 1), so only R's is checked. Only on a CPU with AVX2
 * and FMA. */
int csvreg__qr_update_avx2(double *r, size_t q, double *b, size_t rows, int b_checked);

/* B := [1 | X - K | y - K_y] (rows x q column-major; the column of ones only
 * with an intercept; X is p columns with leading dimension ldx, K = shift[0..p),
 * K_y = shift[p]), as accum_qr_fold builds it, checking B's range on the way:
 * returns 1 when every entry is in the range csvreg__qr_update_avx2 takes. */
int csvreg__qr_load_avx2(double *b, size_t rows, int intercept, const double *x, size_t ldx,
                         size_t p, const double *shift, const double *y);

#endif
