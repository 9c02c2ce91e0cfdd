/*
 * accum_impl.h - the accumulator's state, shared by accum.c (lifecycle,
 * counts, merging checks), accum_qr.c and accum_normal.c (the two numerical
 * kernels) and solve.c.
 *
 * Both kernels work on shifted data: every column (terms and target) has the
 * first folded row subtracted (K), which keeps the digits of data with large
 * offsets. With an intercept this is exact algebra (the intercept absorbs
 * the shift); without one it would change the model, so K = 0 there.
 */
#ifndef CSVREG_ACCUM_IMPL_H
#define CSVREG_ACCUM_IMPL_H

#include "csvreg.h"

struct csvreg_accum {
  csvreg_solver solver;
  size_t p; /* terms, intercept excluded */
  int intercept;
  int weighted; /* weights were given */
  size_t m;     /* data columns: p terms + target */
  size_t q;     /* factor columns: intercept + m */
  char **term_names;
  char *target_name;
  size_t ninputs;
  char **input_names;
  uint64_t *na_by_input;
  csvreg_counts counts;
  double sum_w;     /* over folded rows */
  double sum_log_w; /* over folded rows, for the weighted log-likelihood */
  int shifted;      /* K has been set (by the first folded row) */
  double *shift;    /* [m] K for the terms, then the target */
  /* qr: R (q x q, upper triangular, column-major) of
   *     [sqrt(w) | sqrt(w)(X-K) | sqrt(w)(y-K_y)]. */
  double *r;
  /* normal: weighted means of the shifted columns and their centred
   * co-moment matrix (m x m, column-major, upper triangle used). */
  double *mean;
  double *com;
  /* workspace for one block of rows, reused across calls */
  double *work;
  size_t work_rows;
  double *tau; /* qr: T and the work array of dtpqrt */
  int qr_avx2; /* qr: fold with qr_update_avx2 when it takes the block */
};

/* Kernels: fold n validated rows with weights w > 0 (w NULL: all 1). */
csvreg_status accum_qr_fold(csvreg_accum *a, size_t n, const double *x, size_t ldx, const double *y,
                            const double *w, csvreg_error *err);
csvreg_status accum_normal_fold(csvreg_accum *a, size_t n, const double *x, size_t ldx,
                                const double *y, const double *w, csvreg_error *err);
/* dst := dst (+) src, both non-empty, same shape. */
csvreg_status accum_qr_merge(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err);
csvreg_status accum_normal_merge(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err);

/* Makes sure the workspace holds `rows` x q doubles. */
csvreg_status accum_reserve(csvreg_accum *a, size_t rows, csvreg_error *err);

/* The shared solve back-end: given the solution in shifted coordinates
 * and its unscaled covariance, fills the statistics (solve.c). */
typedef struct solved {
  size_t q;           /* coefficient slots: intercept + p */
  const int *aliased; /* [q] */
  size_t rank;
  double *coef;    /* [q] in original coordinates (NaN when aliased) */
  double *cov;     /* [q*q] unscaled covariance, original coordinates */
  double rss, mss; /* residual and explained (centred with intercept) SS */
  double cond;     /* condition number of the scaled (centred) design */
  double digits;
} solved;

/* Estimated correct significant digits of the least accurate coefficient,
 * from first-order perturbation theory applied per component. The k slopes
 * b (column norms d, centred when there is an intercept) of the scaled
 * problem carry errors |db_j| <~ rel |D b| / d_j with rel = u kappa for a
 * backward-stable QR solve and u kappa^2 for the normal equations; the
 * intercept b0 = ybar - sum b_j xbar_j inherits sum |db_j| |xbar_j|. So a
 * small coefficient next to large ones gets fewer digits, as measured on
 * NIST Wampler, while an intercept far from the data does not penalise the
 * slopes (Longley). xbar may be NULL without an intercept. */
double digits_estimate(size_t k, const double *b, const double *d, double kappa, int squared,
                       const double *b0, const double *xbar);

csvreg_status solve_qr(const csvreg_accum *a, double tol, solved *out, csvreg_error *err);
csvreg_status solve_normal(const csvreg_accum *a, double tol, solved *out, csvreg_error *err);

#endif
