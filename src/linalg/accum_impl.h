/*
 * accum_impl.h - the accumulator's layout and the kernel contract, private to
 * src/linalg (accum.c, kernel.c, accum_ops.c and the two kernels). Every other
 * stage goes through the functions of linalg.h or csvreg.h.
 *
 * An accumulator is a frame shared by every kernel (names, counts, weight
 * sums, the shift K) plus the kernel's own numbers: one flat array `k` whose
 * length and meaning the kernel defines, all zero when empty. The scratch of
 * a fold (block copies, dtpqrt's T and work) lives in a separate workspace
 * (accum_ws), so a thousand group states need not each carry one.
 *
 * Both kernels work on shifted data: every column (terms and responses) has
 * the first folded row subtracted (K), which keeps the digits of data with
 * large offsets. With an intercept this is exact algebra (the intercept
 * absorbs the shift); without one it would change the model, so K = 0 there.
 */
#ifndef CSVREG_ACCUM_IMPL_H
#define CSVREG_ACCUM_IMPL_H

#include "csvreg.h"
#include "linalg.h"

typedef struct kernel_ops kernel_ops;

/* Scratch for folds and merges, borrowed by one fold at a time. Its contents
 * never outlive a call; it only grows. */
struct accum_ws {
  double *work; /* block copies, a centred block, a copy of R */
  size_t work_len;
  double *tau; /* qr: T and the work array of dtpqrt */
  size_t tau_len;
  int qr_avx2; /* qr: fold with csvreg__qr_update_avx2 when it takes the block (the
                  CPU and CSVREG_SIMD, read when the workspace is made) */
};

/* Makes sure ws->work holds `len` doubles. */
csvreg_status csvreg__accum_ws_reserve(accum_ws *ws, size_t len, csvreg_error *err);
/* Makes sure ws->tau holds `len` doubles. */
csvreg_status csvreg__accum_ws_reserve_tau(accum_ws *ws, size_t len, csvreg_error *err);

struct csvreg_accum {
  const kernel_ops *ops;
  size_t p; /* design terms, intercept excluded */
  int intercept;
  int weighted; /* weights were given */
  size_t nresp; /* trailing response columns: 1 (the target) today */
  size_t m;     /* data columns: p terms + nresp responses */
  size_t q;     /* factor columns: intercept + m */
  char **term_names;
  char *target_name;
  size_t ninputs;
  char **input_names;
  uint64_t *na_by_input;
  csvreg_counts counts;
  double sum_w;                /* over folded rows */
  double sum_log_w;            /* over folded rows, for the weighted log-likelihood */
  int shifted;                 /* K has been set (by the first folded row) */
  double *shift;               /* [m] K for the terms, then the responses */
  double *k;                   /* [ops->state_len(m, q)] the kernel's numbers */
  accum_ws *ws;                /* owned, made by the first fold that is given none */
  struct accum_levels *levels; /* owned, NULL: no categorical variables (accum_levels.c) */
  /* head12: one factor's level columns kept apart while rows are folded
   * (accum_head.c); NULL when there is none. Flushed into a->k before
   * anything but a fold reads the state. head_off: never start one. */
  struct accum_head *head;
  int head_allowed, head_off;
  /* k was given to a fit (csvreg_accum_solve_release): NULL
   * now, and only names, counts and levels may be read */
  int released;
};

/* One kernel: the operations of GSL's gsl_multilarge_linear_type, on the
 * frame above and the kernel's array a->k. Reset needs no entry: an empty
 * state is all zeros for every kernel (csvreg__accum_reset). An entry may be NULL
 * where the kernel cannot do it; the caller then returns a clear error. */
struct kernel_ops {
  const char *name; /* in files and messages: "qr", "normal" */
  csvreg_solver solver;
  /* Doubles in a->k for m data columns and q = intercept + m. */
  size_t (*state_len)(size_t m, size_t q);
  /* The named pieces of a->k as they are written to a state file; fills at
   * most KERNEL_MAX_FIELDS and returns their number. */
  size_t (*fields)(const csvreg_accum *a, kernel_field *out);
  /* Folds n validated rows (x column-major, ldx; y; w NULL: all 1, rows of
   * weight 0 skipped) into a->k. a->shift is set; a->sum_w is the weight
   * folded before this block (the caller adds the block's afterwards). */
  csvreg_status (*accumulate)(csvreg_accum *a, accum_ws *ws, size_t n, const double *x, size_t ldx,
                              const double *y, const double *w, csvreg_error *err);
  /* dst := dst (+) src, both non-empty, same kernel and shape; src's numbers
   * are on src's shift and must be moved onto dst's. */
  csvreg_status (*merge)(csvreg_accum *dst, accum_ws *ws, const csvreg_accum *src,
                         csvreg_error *err);
  /* Every folded weight times lambda in (0, 1) (a->sum_w is the caller's). */
  void (*scale)(csvreg_accum *a, double lambda);
  /* dst := dst without src's rows, counts already checked; sets dst's
   * numbers, sum_w and sum_log_w, or fails leaving dst unchanged. NULL: the
   * kernel cannot downdate. */
  csvreg_status (*subtract)(csvreg_accum *dst, const csvreg_accum *src, csvreg_error *err);
  /* Column operations (accum_columns.c does the frame: names, shift, sizes).
   * A kernel without them has NULL entries (can_add_columns).
   * add_columns: k term columns inserted after the p terms, before the
   * responses, whose values over the folded rows are all 0 (comb NULL:
   * exact), or known combinations of the design's columns: new column i is
   * sum_j comb[i * t + j] * column j of the shifted design [1 | X - K],
   * t = intercept + p (the frame picks the new shift so that the intercept
   * entry is 0; kernels ignore it). In place: a->k already has room for the
   * new shape (state_len(m + k, q + k)) and holds the old numbers at its
   * front; a->p, m, q are still the old ones (the frame sets them after).
   * Cannot fail, so a state never needs two copies of its numbers. */
  void (*add_columns)(csvreg_accum *a, size_t k, const double *comb);
  /* permute and drop_column write the numbers of the new shape into `out`
   * (zeroed by the caller, state_len of the new shape) from a->k and leave
   * `a` alone, so a failure changes nothing. */
  /* The terms reordered: new term j is old term perm[j] (a permutation of
   * 0..p-1); intercept first and responses last stay where they are. */
  csvreg_status (*permute)(const csvreg_accum *a, const size_t *perm, double *out,
                           csvreg_error *err);
  /* Term j (0-based, intercept excluded) removed from the design. */
  csvreg_status (*drop_column)(const csvreg_accum *a, size_t j, double *out, csvreg_error *err);
  /* In place, with O(q) scratch: the terms reordered by perm (as permute)
   * and then the trailing p - keep of them dropped (as drop_column, last
   * first), the numbers ending in the front of a->k as the state of
   * keep terms (a->p, m, q are still the old ones; the frame sets them).
   * Fails (out of memory) only before a->k is touched. NULL: the frame
   * selects with permute and drop_column on a copy. */
  csvreg_status (*select)(csvreg_accum *a, const size_t *perm, size_t keep, csvreg_error *err);
  /* Aliasing, coefficients, the unscaled covariance, RSS/MSS, the condition
   * number of the kept (scaled, centred) design and the digits estimate: the
   * reciprocal condition is part of the solve because it is of the columns
   * the solve keeps. */
  csvreg_status (*solve)(const csvreg_accum *a, double tol, solved *out, csvreg_error *err);
  /* sum w (c0 + c' v)^2 over the folded rows, v the shifted data row (terms,
   * then response), c = c_all[1..m], c0 = c_all[0]; and the response's sum of
   * squares about its mean (NaN when the kernel does not keep the mean). */
  void (*resid_ss)(const csvreg_accum *a, const double *c_all, double *sse, double *tss);
  /* Upper-triangular u (rank x rank, column-major) with u'u = A'A over the
   * coefficient slots kept[] of the shifted, weighted design A = [1 | X-K];
   * *info != 0 when it cannot be factored. */
  csvreg_status (*design_factor)(const csvreg_accum *a, const size_t *kept, size_t rank, double *u,
                                 int *info, csvreg_error *err);
};

extern const kernel_ops csvreg__kernel_qr;

/* The QR kernel: folds `rows` rows of the shifted, weighted design
 * (b: rows x q column-major, overwritten) into R (accum_qr.c). */
csvreg_status csvreg__qr_fold_rows(csvreg_accum *a, accum_ws *ws, size_t rows, double *b,
                                   csvreg_error *err);
/* Frees a's head without flushing it (accum_head.c). */
void csvreg__accum_head_drop(csvreg_accum *a);
/* Zeroes the head's numbers, keeping its rows and names (csvreg__accum_reset). */
void csvreg__accum_head_reset(csvreg_accum *a);
extern const kernel_ops csvreg__kernel_normal;

/* The one place a csvreg_solver becomes a kernel (kernel.c); NULL when unknown. */
const kernel_ops *csvreg__kernel_for(csvreg_solver s);

/* Estimated correct significant digits of the least accurate coefficient,
 * from first-order perturbation theory applied per component. The k slopes
 * b (column norms d, centred when there is an intercept) of the scaled
 * problem carry errors |db_j| <~ rel |D b| / d_j with rel = u kappa for a
 * backward-stable QR solve and u kappa^2 for the normal equations; the
 * intercept b0 = ybar - sum b_j xbar_j inherits sum |db_j| |xbar_j|. So a
 * small coefficient next to large ones gets fewer digits, as measured on
 * NIST Wampler, while an intercept far from the data does not penalise the
 * slopes (Longley). xbar may be NULL without an intercept. */
double csvreg__digits_estimate(size_t k, const double *b, const double *d, double kappa,
                               int squared, const double *b0, const double *xbar);

#endif
