/*
 * tri_panels.c - R^-1 and then R^-1 R^-T of an upper triangle in place, by
 * LAPACK's own blocked algorithms (the reference dtrtri and dlauum) with the
 * level-3 calls made on column panels of at most TRI_PANEL columns.
 *
 * Why not LAPACKE_dtrtri/dlauum (issue 12, mem12d): OpenBLAS's versions pack
 * a GEMM_Q x n panel of the whole order n into its work buffer, and every
 * page they touch stays resident: at n = 1009 dlauum took the buffer from
 * 1.2 MB (what the pass's dtpqrt had touched) to 3.0 MB, the largest part of
 * the plain 1000-level fit's excess over issue 12's bound. With at most
 * TRI_PANEL columns in a call's packed B panel, the solve touches no more
 * of the buffer than the pass did. The flops are the same (n^3/3 each); the
 * rounding is the reference algorithm's, not OpenBLAS's (differences of a
 * few ulps in the covariance; measured in docs/limits.md, mem12d).
 */
#include <cblas.h>
#include <lapacke.h>
#include <stddef.h>

#include "linalg.h"

/* Columns per panel: the reference LAPACK's block size (ILAENV's 64 for
 * both routines); OpenBLAS packs at most 256 x 64 doubles (128 KiB) of B. */
#define TRI_PANEL 64

/* dtrtri('U', 'N'): column panel j is multiplied by the inverse already
 * formed before it (dtrmm), solved against its own diagonal block (dtrsm)
 * and that block inverted unblocked. */
int csvreg__trtri_upper(size_t n, double *a, size_t lda) {
  const int ld = (int)lda;
  for (size_t j = 0; j < n; j += TRI_PANEL) {
    size_t jb = n - j < TRI_PANEL ? n - j : TRI_PANEL;
    double *aj = a + j * lda, *ajj = aj + j;
    if (j > 0) {
      cblas_dtrmm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)j,
                  (int)jb, 1.0, a, ld, aj, ld);
      cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, (int)j,
                  (int)jb, -1.0, ajj, ld, aj, ld);
    }
    lapack_int info = LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'U', 'N', (lapack_int)jb, ajj, ld);
    if (info != 0)
      return info > 0 ? (int)(info + (lapack_int)j) : (int)info;
  }
  return 0;
}

/* dlauum('U'): U U^T over U, panel i at a time: the rows above it times
 * its diagonal block's transpose (dtrmm), its block's own product
 * unblocked, then what the columns after it add (dgemm for the rows above,
 * dsyrk for its block). */
int csvreg__lauum_upper(size_t n, double *a, size_t lda) {
  const int ld = (int)lda;
  for (size_t i = 0; i < n; i += TRI_PANEL) {
    size_t ib = n - i < TRI_PANEL ? n - i : TRI_PANEL, rest = n - i - ib;
    double *ai = a + i * lda, *aii = ai + i;
    if (i > 0)
      cblas_dtrmm(CblasColMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, (int)i,
                  (int)ib, 1.0, aii, ld, ai, ld);
    lapack_int info = LAPACKE_dlauum(LAPACK_COL_MAJOR, 'U', (lapack_int)ib, aii, ld);
    if (info != 0)
      return (int)info;
    if (rest > 0) {
      const double *after = a + (i + ib) * lda;
      if (i > 0)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)i, (int)ib, (int)rest, 1.0,
                    after, ld, after + i, ld, 1.0, ai, ld);
      cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)ib, (int)rest, 1.0, after + i, ld,
                  1.0, aii, ld);
    }
  }
  return 0;
}
