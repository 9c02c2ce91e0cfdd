/*
 * fit_impl.h - the layout of a solved fit, private to the library (solve.c
 * makes it; score, model, predict and the JSON writer read it; white-box
 * tests may too). The public view is csvreg_fit_summary plus accessors.
 */
#ifndef CSVREG_FIT_IMPL_H
#define CSVREG_FIT_IMPL_H

#include "csvreg.h"

struct csvreg_fit {
  csvreg_fit_summary s;
  char *target;
  csvreg_term *terms; /* [s.nterms]; each name points into term_names */
  char **term_names;  /* [s.nterms], owned */
  char **input_names; /* [s.ninputs], owned */
  uint64_t *na_by_input;
  double *xtx_inv; /* [nterms * nterms], column-major */
  /* A formula's fit (csvreg__fit_set_formula): the formula as given and each
   * categorical variable's name and final levels; NULL/0 otherwise. */
  char *formula;
  size_t nfactors;
  char **factor_names;   /* [nfactors] */
  size_t *factor_nlev;   /* [nfactors] */
  char ***factor_levels; /* [nfactors][factor_nlev[k]] */
  /* A robust covariance (csvreg_fit_apply_meat, robust.c): its type, the
   * scaled covariance [nterms * nterms] (NaN where aliased) and clusters;
   * vcov_type 0 (classical) and rcov NULL otherwise. */
  int vcov_type;
  double *rcov;
  size_t ncl;
  char *cl_names[2];
  uint64_t cl_count[3]; /* clusters per column, then of their intersection */
  /* Iterative refinement (csvreg_fit_apply_refine, refine.c): steps kept,
   * passes read, digits as the exact solution of the values as read, and
   * why it stopped (csvreg_refine_stop); refined 0 otherwise. */
  int refined;
  size_t refine_steps, refine_passes;
  double refine_digits;
  int refine_stop;
};

/* Sets the fit's formula and factors (copied; fit_spec.c). */
csvreg_status csvreg__fit_set_formula(csvreg_fit *f, const char *formula, size_t nfactors,
                                      const char *const *names, const size_t *nlev,
                                      const char *const *const *levels, csvreg_error *err);
void csvreg__fit_free_formula(csvreg_fit *f);

/* Binds a spec made as the first pass's to the fit's design columns (the
 * fit's factor levels; the same terms), for a further pass (robust.c). */
csvreg_status csvreg__spec_bind_fit(csvreg_spec *s, const csvreg_fit *f, csvreg_error *err);

/* What a refinement did (refine.c), as a fit and a model's "refined"
 * member (model_refined.c) keep it: steps kept, passes read, digits as the
 * exact solution of the values as read, why it stopped
 * (csvreg_refine_stop), and the report's estimated correct digits. */
typedef struct fit_refinement {
  size_t steps, passes;
  double digits_as_read;
  int stop;
  double digits;
} fit_refinement;

/* Sets `f`'s coefficients ([s.nterms], aliased slots ignored) and RSS to a
 * refinement's and fills its statistics again (sum_log_w: of the
 * accumulator, for the weighted log-likelihood). */
csvreg_status csvreg__fit_set_refined(csvreg_fit *f, const double *coef, double rss,
                                      double sum_log_w, const fit_refinement *rec,
                                      csvreg_error *err);

/* csvreg_refine_stop as the report's name ("converged", ...; "" unknown),
 * and back (-1: not a name). */
const char *csvreg__refine_stop_name(int stop);
int csvreg__refine_stop_parse(const char *name);

/* R's summary.lm statistics of `f` from a solve (solve.c; linalg.h's types):
 * refinement fills them again with its coefficients and RSS. */
struct accum_totals;
struct solved;
void csvreg__fit_fill_stats(csvreg_fit *f, const struct accum_totals *a, const struct solved *sv);

#endif
