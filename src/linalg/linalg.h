/*
 * linalg.h - what the later stages of the library (fit, model, engine) use
 * of the accumulator beyond csvreg.h: its names and totals, folding trusted
 * rows with a borrowed workspace, the kernel's solve and its numbers for
 * state files. The struct layout stays in accum_impl.h, private to
 * src/linalg; this header includes nothing from the stages above linalg.
 */
#ifndef CSVREG_LINALG_H
#define CSVREG_LINALG_H

#include "csvreg.h"

/* ---- the kernels ---- */

/* What a kernel of the table offers (tests walk the table with it). */
typedef struct accum_kernel_info {
  const char *name;
  csvreg_solver solver;
  int can_subtract;    /* csvreg_accum_subtract works */
  int can_add_columns; /* add_columns, permute, drop_column work */
} accum_kernel_info;

/* The i-th kernel of the table: 0 and *out filled, or -1 past the end. */
int csvreg__accum_kernel_at(size_t i, accum_kernel_info *out);

/* ---- the BLAS work buffer (blas_gate.c) ---- */

/* CSVREG_OK once OpenBLAS holds its work buffer (taken now if not yet);
 * CSVREG_E_NOMEM when the address space has no room for it, where OpenBLAS
 * itself would spin forever. Every constructor of an object that will call
 * the BLAS calls it first. Thread-safe. */
csvreg_status csvreg__blas_ready(csvreg_error *err);

/* Between these two calls (nested: counted) the calling thread keeps the
 * work buffer its first BLAS call takes and lends it to its later calls,
 * instead of taking and giving back OpenBLAS's buffer under OpenBLAS's
 * global mutex at every call. For runs of many small calls (dtpqrt's
 * per-column dgemv); no effect without the --wrap link (libcsvreg.so). */
void csvreg__blas_hold(void);
void csvreg__blas_unhold(void);
/* How many times a buffer was taken from OpenBLAS (not lent by a hold):
 * for tests. Always 0 without the --wrap link. */
size_t csvreg__blas_taken(void);
/* For tests too: buffers lent to calls (or held) now, buffers OpenBLAS has
 * mapped as far as the gate has seen, and how many calls have waited for a
 * buffer (the slow path's condition variable). */
size_t csvreg__blas_lent(void);
size_t csvreg__blas_buffers(void);
size_t csvreg__blas_waits(void);

/* ---- construction and shape ---- */

/* An empty accumulator with the given names (copied; NULL terms are named
 * "x1", ..., a NULL target "y") and `ninputs` input columns (names copied;
 * NULL: none). The one constructor behind csvreg_accum_new, _new_for_spec
 * and state files. */
csvreg_status csvreg__accum_new_named(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                                      int intercept, const char *const *term_names,
                                      const char *target_name, size_t ninputs,
                                      const char *const *input_names, csvreg_error *err);

/* As csvreg__accum_new_named, but no terms and no intercept is allowed: a
 * formula whose every term is categorical gets its columns with the first
 * levels (csvreg__accum_add_columns) before its first fold. */
csvreg_status csvreg__accum_new_open(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                                     int intercept, const char *const *term_names,
                                     const char *target_name, size_t ninputs,
                                     const char *const *input_names, csvreg_error *err);

size_t csvreg__accum_nterms(const csvreg_accum *a); /* p, intercept excluded */
int csvreg__accum_intercept(const csvreg_accum *a); /* 0 or 1 */
size_t csvreg__accum_ncols(const csvreg_accum *a);  /* m: p terms + responses */
size_t csvreg__accum_nresp(const csvreg_accum *a);  /* trailing response columns (1) */
const char *csvreg__accum_solver_name(const csvreg_accum *a);
const char *csvreg__accum_term_name(const csvreg_accum *a, size_t j);
const char *csvreg__accum_target_name(const csvreg_accum *a);
size_t csvreg__accum_ninputs(const csvreg_accum *a);
const char *csvreg__accum_input_name(const csvreg_accum *a, size_t k);
const uint64_t *csvreg__accum_na_by_input(const csvreg_accum *a); /* [ninputs] */
const double *csvreg__accum_shift(const csvreg_accum *a);         /* [m] */

/* The frame's totals, as a state file stores them. */
typedef struct accum_totals {
  csvreg_counts counts;
  int weighted, shifted;
  double sum_w, sum_log_w;
} accum_totals;

void csvreg__accum_totals_get(const csvreg_accum *a, accum_totals *t);

/* ---- folding ---- */

/* Scratch borrowed by folds and merges (accum_impl.h): one per thread can
 * serve any number of accumulators of any shape, one call at a time. */
typedef struct accum_ws accum_ws;
accum_ws *csvreg__accum_ws_new(void); /* NULL when out of memory */
void csvreg__accum_ws_free(accum_ws *ws);

/* Folds n rows already checked (finite values, weights >= 0) with the
 * workspace `ws` (NULL: the accumulator's own, made on first use). Counts
 * used and zero-weight rows, not records. */
csvreg_status csvreg__accum_fold(csvreg_accum *a, accum_ws *ws, size_t n, const double *x,
                                 size_t ldx, const double *y, const double *w, csvreg_error *err);

/* Adds records and dropped rows that were not folded, and per-input missing
 * counts (na: [ninputs], NULL: none). */
void csvreg__accum_add_counts(csvreg_accum *a, uint64_t records, uint64_t dropped_na,
                              uint64_t dropped_bad, const uint64_t *na);

/* csvreg_accum_merge with a borrowed workspace (NULL: dst's own). */
csvreg_status csvreg__accum_merge_ws(csvreg_accum *dst, const csvreg_accum *src, accum_ws *ws,
                                     csvreg_error *err);

/* Back to the empty state, names and shape kept. */
void csvreg__accum_reset(csvreg_accum *a);

/* ---- changing the design columns (accum_columns.c) ----
 * For terms known only as the data arrives (factor levels first seen after
 * many rows) and R's term order, chosen at the end. Exact algebra on the
 * state (both kernels), no data; each call leaves the state unchanged when
 * it fails. Terms are 0-based, the intercept excluded; the responses stay
 * last and the intercept first throughout. */

/* Appends k terms whose values on every row folded so far are 0 (a level
 * not seen yet), after the present terms. names[k] are copied (NULL, or a
 * NULL entry: "x<index>") and must differ from every term and each other
 * (CSVREG_E_USAGE); past CSVREG_MAX_TERMS: CSVREG_E_LIMIT. Works on an
 * empty state, after any number of folds and repeatedly; later rows carry
 * the new terms' values as usual. */
csvreg_status csvreg__accum_add_columns(csvreg_accum *a, size_t k, const char *const *names,
                                        csvreg_error *err);

/* Appends one term whose values on every row folded so far are the
 * combination c[0] + sum_j c[1 + j] * term j (c: 1 + p numbers; c[0] must
 * be 0 without an intercept); later rows carry its own values. For a
 * treatment baseline already dropped that becomes a level again (an update
 * brings a level that sorts first): over past rows its dummy is
 * 1 - the other levels' dummies, and an interaction x:base is
 * x - sum x:level. Exact algebra up to the rounding of the combination. */
csvreg_status csvreg__accum_add_combination(csvreg_accum *a, const char *name, const double *c,
                                            csvreg_error *err);

/* Reorders the terms: new term j is old term perm[j] (perm: a permutation
 * of 0..p-1; names and shift move with their columns). QR: the factor's
 * columns are permuted and the trailing block from the first moved column
 * on is re-triangularised (dgeqrf); normal: the moments are permuted. */
csvreg_status csvreg__accum_permute(csvreg_accum *a, const size_t *perm, csvreg_error *err);

/* Removes term j from the design (a treatment-contrast baseline): the state
 * becomes the state of the design without that column. At least one term
 * or the intercept must remain. */
csvreg_status csvreg__accum_drop_column(csvreg_accum *a, size_t j, csvreg_error *err);

/* Keeps exactly the terms names[0..n), in that order, dropping the others:
 * the end-of-data step (R's baseline dropped, R's term and level order).
 * Every name must be a term, none twice, and the state's names distinct. */
csvreg_status csvreg__accum_select(csvreg_accum *a, const char *const *names, size_t n,
                                   csvreg_error *err);

/* The position of the term named `name`, or (size_t)-1. */
size_t csvreg__accum_term_index(const csvreg_accum *a, const char *name);

/* A deep copy (names, totals, shift, numbers; no workspace). */
csvreg_status csvreg__accum_clone(csvreg_accum **out, const csvreg_accum *a, csvreg_error *err);

/* dst := dst (+) src for states whose terms may differ, aligned by name:
 * each side gets the terms only the other has as zero columns (it never saw
 * them), src's copy is put in dst's order, then the plain merge. The merged
 * order is dst's terms in dst's order, then src's new terms in src's order;
 * states with the same terms in the same order merge exactly as
 * csvreg__accum_merge_ws. Solver, intercept, response and inputs must agree, and
 * each side's term names be distinct (CSVREG_E_USAGE). ws as csvreg__accum_merge_ws.
 * src is not changed; dst is unchanged when the names do not align or
 * memory runs out before the merge, and should the merge itself fail it
 * may keep src's terms as zero columns (the same rows, a valid state). */
/* CSVREG_E_LIMIT ("counter overflow") when a merge of src into dst would
 * take a count past 2^63 - 1, the most a state file holds. */
csvreg_status csvreg__accum_counts_check(const csvreg_accum *dst, const csvreg_accum *src,
                                         csvreg_error *err);

csvreg_status csvreg__accum_merge_aligned(csvreg_accum *dst, const csvreg_accum *src, accum_ws *ws,
                                          csvreg_error *err);

/* ---- the levels of categorical variables (accum_levels.c) ----
 * Lists of strings carried with the state for the stage above, which knows
 * what they mean (the levels seen of each categorical variable of a formula,
 * in order of appearance): linalg only keeps, merges and frees them. */

/* Makes room for `nvars` lists (all empty); a second call is a no-op when
 * nvars agrees. */
csvreg_status csvreg__accum_levels_init(csvreg_accum *a, size_t nvars, csvreg_error *err);
size_t csvreg__accum_levels_nvars(const csvreg_accum *a);
/* Appends `name` (len bytes, copied) to list v unless it is there. */
csvreg_status csvreg__accum_level_add(csvreg_accum *a, size_t v, const char *name, size_t len,
                                      csvreg_error *err);
/* List v: *n strings, valid until the next change of `a`. */
const char *const *csvreg__accum_levels(const csvreg_accum *a, size_t v, size_t *n);
/* dst's lists := the union, dst's order then src's new names. */
csvreg_status csvreg__accum_levels_union(csvreg_accum *dst, const csvreg_accum *src,
                                         csvreg_error *err);
void csvreg__accum_levels_free(csvreg_accum *a);
/* Puts list v in the order perm (new i = old perm[i]). */
csvreg_status csvreg__accum_levels_permute(csvreg_accum *a, size_t v, const size_t *perm,
                                           csvreg_error *err);

/* The formula's frame, kept with the level lists (copied in; needs
 * csvreg__accum_levels_init first): the formula text, the header it was
 * resolved against, the columns read as text, the weights column, and
 * whether R's columns were chosen already (selected) or the state has a
 * column for every level (a shard's state, to merge). levels_union copies
 * src's frame into a dst that has none. */
typedef struct accum_frame {
  const char *formula;
  const char *weights; /* NULL: unweighted */
  size_t ncolumns;
  const char *const *columns;
  size_t ntext;
  const char *const *text;
  const char *const *vars; /* [levels_nvars] each level list's variable, as R names it */
  int selected;
} accum_frame;
csvreg_status csvreg__accum_frame_set(csvreg_accum *a, const accum_frame *f, csvreg_error *err);
/* 1 and *f filled (borrowed until `a` changes) when `a` has a frame. */
int csvreg__accum_frame_get(const csvreg_accum *a, accum_frame *f);
void csvreg__accum_set_selected(csvreg_accum *a, int selected);

/* ---- the level head (accum_head.c, head12) ----
 * One factor's main-effect indicator columns kept apart while rows are
 * folded (QR kernel): a row costs O(q - levels), not O(q^2). The dense
 * state lacks the head's columns until csvreg__accum_head_flush adds them
 * and folds the head in; every door out of a pass (merges, clone, finish,
 * settle) flushes first. */

/* Lets csvreg__accum_head_start work on `a` (the pass's sinks call it;
 * which factor, if any, is the chunk's plan: src/fit/accum_chunk.c). */
void csvreg__accum_head_allow(csvreg_accum *a);
/* 1 when a head may start now: allowed, QR, nothing folded, none yet. */
int csvreg__accum_head_may_start(const csvreg_accum *a);
int csvreg__accum_head_active(const csvreg_accum *a);
size_t csvreg__accum_head_nrows(const csvreg_accum *a);
/* Starts an empty head; `tag` is the caller's (which factor it holds),
 * given back by csvreg__accum_head_tag ((size_t)-1 without a head). */
csvreg_status csvreg__accum_head_start(csvreg_accum *a, size_t tag, csvreg_error *err);
size_t csvreg__accum_head_tag(const csvreg_accum *a);
/* The head row of the term `name`, a new row of zeros when it has none. */
csvreg_status csvreg__accum_head_row(csvreg_accum *a, const char *name, size_t *row,
                                     csvreg_error *err);
/* csvreg__accum_add_columns for tail terms while a head is active (the
 * head's rows gain the zero columns too). */
csvreg_status csvreg__accum_head_add_terms(csvreg_accum *a, size_t k, const char *const *names,
                                           csvreg_error *err);
/* Folds n rows: tail term j of the state is column xcol[j] of x (ldx;
 * (size_t)-1: 0 on these rows), y, w (NULL: 1), hrow[i] the head row of
 * row i's level. Counts as csvreg__accum_fold. */
csvreg_status csvreg__accum_head_fold(csvreg_accum *a, size_t n, const double *x, size_t ldx,
                                      const size_t *xcol, const double *y, const double *w,
                                      const size_t *hrow, csvreg_error *err);
/* Adds the head's columns to the dense state and folds its rows in; no
 * head starts on `a` afterwards. A no-op without a head. */
csvreg_status csvreg__accum_head_flush(csvreg_accum *a, csvreg_error *err);

/* ---- solving ---- */

/* What a kernel's solve gives the statistics (src/fit/solve.c). */
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

/* csvreg_accum_solve_release: the state's numbers handed over
 * (the caller frees them; QR: q x q, R), `a` marked released, and the
 * check every use of the numbers makes: CSVREG_E_USAGE once released. */
double *csvreg__accum_release_numbers(csvreg_accum *a);
csvreg_status csvreg__accum_check_live(const csvreg_accum *a, csvreg_error *err);

csvreg_status csvreg__accum_solve_kernel(const csvreg_accum *a, double tol, solved *out,
                                         csvreg_error *err);

/* sum w (c[0] + c[1..m]' v)^2 over the folded rows (v: the shifted data row)
 * and the response's sum of squares about its mean (NaN when unknown). */
void csvreg__accum_resid_ss(const csvreg_accum *a, const double *c, double *sse, double *tss);

/* The triangular factor of the kept coefficient slots of the shifted design
 * (see kernel_ops.design_factor); *info != 0 when singular. */
csvreg_status csvreg__accum_design_factor(const csvreg_accum *a, const size_t *kept, size_t rank,
                                          double *u, int *info, csvreg_error *err);

/* The first-order digits estimate of a solve (kernel.c; accum_impl.h says
 * how), for the stages that re-estimate it (refine.c). */
double csvreg__digits_estimate(size_t k, const double *b, const double *d, double kappa,
                               int squared, const double *b0, const double *xbar);

/* ---- the kernel's numbers, for state files ---- */

typedef enum kernel_field_kind {
  KERNEL_FIELD_VECTOR, /* n doubles */
  KERNEL_FIELD_UPPER   /* upper triangle of an n x n column-major matrix */
} kernel_field_kind;

typedef struct kernel_field {
  const char *name; /* the state file's member: "r", "mean", "com" */
  kernel_field_kind kind;
  size_t n;
  size_t offset; /* into csvreg__accum_kernel_numbers */
} kernel_field;

#define KERNEL_MAX_FIELDS 4

size_t csvreg__accum_kernel_fields(const csvreg_accum *a, kernel_field out[KERNEL_MAX_FIELDS]);
const double *csvreg__accum_kernel_numbers(const csvreg_accum *a);
size_t
csvreg__accum_kernel_len(const csvreg_accum *a); /* doubles in csvreg__accum_kernel_numbers */

/* A loaded state: the totals, per-input missing counts [ninputs], the shift
 * [m] and the kernel's numbers (csvreg__accum_kernel_numbers' layout; the strict
 * lower triangles of UPPER fields are ignored and set to 0) are copied in. */
void csvreg__accum_restore(csvreg_accum *a, const accum_totals *t, const uint64_t *na,
                           const double *shift, const double *numbers);

/* R^-1 of the n x n upper triangle a (leading dimension lda), in place:
 * LAPACK's blocked dtrtri with its level-3 calls on panels of at most 64
 * columns, so OpenBLAS touches a bounded part of its work buffer
 * (tri_panels.c). 0, or dtrtri's info (i > 0: a(i-1, i-1) is 0). */
int csvreg__trtri_upper(size_t n, double *a, size_t lda);
/* U U^T over the upper triangle U (dlauum's product), likewise in panels. */
int csvreg__lauum_upper(size_t n, double *a, size_t lda);

#endif
