/*
 * solve.c - from a solved kernel (coefficients, unscaled covariance, RSS) to
 * the statistics of R's summary.lm, confint.lm and logLik.lm, with the t and F
 * distributions of R's own standalone libRmath so p-values match R.
 *
 * The numerical solve is the kernel's (csvreg__accum_solve_kernel: aliasing,
 * coefficients, unscaled covariance, RSS, condition, digits); this file only
 * turns it into statistics.
 * Weighted fits follow lm(weights=): rows of weight 0 are not in n, the
 * residual sums are weighted, and the log-likelihood gains sum(log w)/2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <Rmath.h>

#include "fit_impl.h"
#include "internal.h"
#include "linalg.h"

void csvreg_solve_options_init(csvreg_solve_options *o) {
  o->tol = CSVREG_DEFAULT_TOL;
  o->level = 0.95;
}

void csvreg_fit_free(csvreg_fit *f) {
  if (!f)
    return;
  if (f->term_names)
    for (size_t j = 0; j < f->s.nterms; j++)
      free(f->term_names[j]);
  if (f->input_names)
    for (size_t k = 0; k < f->s.ninputs; k++)
      free(f->input_names[k]);
  free(f->term_names);
  free(f->terms);
  free(f->target);
  free(f->input_names);
  free(f->na_by_input);
  free(f->xtx_inv);
  free(f->rcov);
  free(f->cl_names[0]);
  free(f->cl_names[1]);
  csvreg__fit_free_formula(f);
  free(f);
}

const csvreg_fit_summary *csvreg_fit_get_summary(const csvreg_fit *f) { return &f->s; }
const char *csvreg_fit_target(const csvreg_fit *f) { return f->target; }
const csvreg_term *csvreg_fit_term(const csvreg_fit *f, size_t i) {
  return i < f->s.nterms ? &f->terms[i] : NULL;
}
const char *csvreg_fit_input_name(const csvreg_fit *f, size_t k) {
  return k < f->s.ninputs ? f->input_names[k] : NULL;
}
uint64_t csvreg_fit_input_na(const csvreg_fit *f, size_t k) {
  return k < f->s.ninputs ? f->na_by_input[k] : 0;
}
double csvreg_fit_xtx_inv(const csvreg_fit *f, size_t i, size_t j) {
  size_t n = f->s.nterms;
  return i < n && j < n ? f->xtx_inv[j * n + i] : NAN;
}

static csvreg_status fit_alloc(const csvreg_accum *a, int cov, csvreg_fit **out,
                               csvreg_error *err) {
  const size_t ic = (size_t)csvreg__accum_intercept(a), nc = ic + csvreg__accum_nterms(a),
               ninputs = csvreg__accum_ninputs(a);
  csvreg_fit *f = calloc(1, sizeof *f);
  if (!f)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  f->s.nterms = nc;
  f->s.ninputs = ninputs;
  f->terms = calloc(nc, sizeof *f->terms);
  f->term_names = calloc(nc, sizeof *f->term_names);
  /* Room for the kernel's q x q (q = nc + 1): the QR solve works in it
   * (accum_qr.c); shrunk to nc x nc after the solve. */
  f->xtx_inv = cov ? malloc((nc + 1) * (nc + 1) * sizeof *f->xtx_inv) : NULL;
  f->input_names = calloc(ninputs ? ninputs : 1, sizeof *f->input_names);
  f->na_by_input = calloc(ninputs ? ninputs : 1, sizeof *f->na_by_input);
  int ok = f->terms && f->term_names && (f->xtx_inv || !cov) && f->input_names && f->na_by_input &&
           (f->target = csvreg__xstrdup(csvreg__accum_target_name(a)));
  for (size_t j = 0; ok && j < nc; j++) {
    f->term_names[j] =
        csvreg__xstrdup(ic && j == 0 ? "(Intercept)" : csvreg__accum_term_name(a, j - ic));
    f->terms[j].name = f->term_names[j];
    ok = f->term_names[j] != NULL;
  }
  for (size_t k = 0; ok && k < ninputs; k++) {
    ok = (f->input_names[k] = csvreg__xstrdup(csvreg__accum_input_name(a, k))) != NULL;
    f->na_by_input[k] = csvreg__accum_na_by_input(a)[k];
  }
  if (!ok) {
    csvreg_fit_free(f);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  *out = f;
  return CSVREG_OK;
}

/* R's summary.lm, confint.lm and logLik.lm from the solved kernel. */
static void fill_stats(csvreg_fit *f, const accum_totals *a, const solved *sv) {
  const double n = (double)a->counts.used, rank = (double)sv->rank;
  const double dfi = f->s.intercept ? 1.0 : 0.0;
  const double df = n - rank;
  f->s.df_residual = df;
  /* A saturated fit (rank = n) interpolates: its residuals are 0 and what
   * the kernel has left is rounding, so the RSS is 0 as R's lm has it, and
   * with it R^2 = 1, logLik = Inf and AIC = BIC = -Inf (R: logLik.lm). */
  const double rss = df > 0 ? sv->rss : 0.0;
  f->s.rss = rss;
  f->s.tss = sv->mss + rss;
  double s2 = df > 0 ? rss / df : NAN;
  f->s.residual_sd = sqrt(s2);
  double alpha = (1.0 - f->s.level) / 2.0;
  /* confint.lm: est + se * qt(c(a, 1 - a), df) */
  double qlo = df > 0 ? qt(alpha, df, 1, 0) : NAN, qhi = df > 0 ? qt(1.0 - alpha, df, 1, 0) : NAN;
  for (size_t j = 0; j < f->s.nterms; j++) {
    csvreg_term *t = &f->terms[j];
    t->aliased = sv->aliased[j];
    t->estimate = sv->coef[j];
    double v = sv->cov[j * f->s.nterms + j];
    t->std_error = t->aliased ? NAN : sqrt(v * s2);
    t->t_value = t->estimate / t->std_error;
    t->p_value = df > 0 && !isnan(t->t_value) ? 2.0 * pt(fabs(t->t_value), df, 0, 0) : NAN;
    t->ci_lower = t->estimate + t->std_error * qlo;
    t->ci_upper = t->estimate + t->std_error * qhi;
  }
  if (f->xtx_inv != sv->cov)
    memcpy(f->xtx_inv, sv->cov, f->s.nterms * f->s.nterms * sizeof *f->xtx_inv);
  double mss = sv->mss;
  f->s.r_squared = mss / (mss + rss);
  f->s.adj_r_squared = df > 0 ? 1.0 - (1.0 - f->s.r_squared) * ((n - dfi) / df) : NAN;
  f->s.f_df1 = rank - dfi;
  f->s.f_df2 = df;
  if (f->s.f_df1 > 0 && df > 0) {
    f->s.f_statistic = (mss / f->s.f_df1) / s2;
    f->s.f_p_value = pf(f->s.f_statistic, f->s.f_df1, df, 0, 0);
  } else {
    f->s.f_statistic = f->s.f_p_value = NAN;
  }
  /* logLik.lm: 0.5 * (sum(log w) - N (log(2 pi) + 1 - log(N) + log(sum(w r^2)))) */
  f->s.log_likelihood =
      0.5 * (a->sum_log_w - n * (log(2.0 * 3.14159265358979323846) + 1.0 - log(n) + log(rss)));
  f->s.aic = -2.0 * f->s.log_likelihood + 2.0 * (rank + 1.0);
  f->s.bic = -2.0 * f->s.log_likelihood + log(n) * (rank + 1.0);
  f->s.condition_number = sv->cond;
  f->s.digits = sv->digits;
}

void csvreg__fit_fill_stats(csvreg_fit *f, const accum_totals *a, const solved *sv) {
  fill_stats(f, a, sv);
}

/* csvreg_accum_solve; release: the fit takes a's numbers (the QR kernel
 * solves in them, no copy; the normal kernel's are freed after its solve),
 * and `a` keeps its names, counts and levels only. */
static csvreg_status solve_impl(csvreg_accum *a, const csvreg_solve_options *o, int release,
                                csvreg_fit **out, csvreg_error *err) {
  *out = NULL;
  csvreg_solve_options def;
  if (!o) {
    csvreg_solve_options_init(&def);
    o = &def;
  }
  if (!(o->tol > 0 && o->tol < 1))
    return csvreg__err_set(err, CSVREG_E_USAGE, "tolerance %g is not in (0, 1)", o->tol);
  if (!(o->level > 0 && o->level < 1))
    return csvreg__err_set(err, CSVREG_E_USAGE, "confidence level %g is not in (0, 1)", o->level);
  csvreg_status st = csvreg__accum_check_live(a, err);
  if (st)
    return st;
  accum_totals tot;
  csvreg__accum_totals_get(a, &tot);
  if (tot.counts.used == 0)
    return csvreg__err_set(
        err, CSVREG_E_NUMERIC,
        "no rows to fit: %llu read, %llu dropped as missing, %llu bad, %llu with "
        "weight 0",
        (unsigned long long)tot.counts.records, (unsigned long long)tot.counts.dropped_na,
        (unsigned long long)tot.counts.dropped_bad, (unsigned long long)tot.counts.zero_weight);
  csvreg_fit *f = NULL;
  /* release with the QR kernel: the fit's covariance is the state's own
   * array (q x q: room for it), so fit_alloc's is not made */
  const int in_state = release && csvreg_accum_solver(a) == CSVREG_SOLVER_QR;
  st = fit_alloc(a, !in_state, &f, err);
  if (st)
    return st;
  const size_t nc = f->s.nterms;
  solved sv;
  memset(&sv, 0, sizeof sv);
  int *aliased = calloc(nc, sizeof *aliased);
  sv.q = nc;
  sv.aliased = aliased;
  sv.coef = malloc(nc * sizeof *sv.coef);
  sv.cov = f->xtx_inv; /* the kernel writes the fit's own covariance (issue 12: no copy) */
  if (!aliased || !sv.coef) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  if (in_state) /* released right after the kernel's solve, whatever it says */
    f->xtx_inv = sv.cov = (double *)csvreg__accum_kernel_numbers(a);
  st = csvreg__accum_solve_kernel(a, o->tol, &sv, err);
  if (in_state)
    csvreg__accum_release_numbers(a); /* the fit owns them now */
  if (st)
    goto done;
  double *shrunk = realloc(f->xtx_inv, nc * nc * sizeof *shrunk);
  if (shrunk) /* nc x nc of the (nc + 1)^2 the solve had */
    f->xtx_inv = sv.cov = shrunk;
  f->s.solver = csvreg_accum_solver(a);
  f->s.intercept = csvreg__accum_intercept(a);
  f->s.weighted = tot.weighted;
  f->s.counts = tot.counts;
  f->s.rank = sv.rank;
  f->s.level = o->level;
  f->s.tol = o->tol;
  fill_stats(f, &tot, &sv);
  for (size_t j = 0; j < nc; j++)
    if (!f->terms[j].aliased && !isfinite(f->terms[j].estimate)) {
      st = csvreg__err_set(err, CSVREG_E_NUMERIC, "the estimate of '%s' is not finite",
                           f->terms[j].name);
      goto done;
    }
  /* Values near the ends of the double range (|x| ~ 1e300 or 1e-300) can give
   * finite estimates whose variances overflow or underflow: with residual
   * degrees of freedom a kept term's standard error is finite and > 0, so
   * anything else is refused rather than printed as a silently wrong table. */
  if (f->s.df_residual > 0 && !(f->s.rss >= 0 && isfinite(f->s.rss)))
    st = csvreg__err_set(
        err, CSVREG_E_NUMERIC,
        "the residual sum of squares is not finite: the values are too large; rescale "
        "the data");
  for (size_t j = 0; !st && f->s.df_residual > 0 && f->s.rss > 0 && j < nc; j++)
    if (!f->terms[j].aliased && !(f->terms[j].std_error > 0 && isfinite(f->terms[j].std_error)))
      st = csvreg__err_set(
          err, CSVREG_E_NUMERIC,
          "the standard error of '%s' is out of floating-point range: the values are "
          "too large or too small; rescale the data",
          f->terms[j].name);
done:
  free(aliased);
  free(sv.coef);
  if (release && csvreg__accum_check_live(a, NULL) == CSVREG_OK)
    free(csvreg__accum_release_numbers(a)); /* a failed solve releases them too */
  if (st) {
    csvreg_fit_free(f);
    return st;
  }
  *out = f;
  return CSVREG_OK;
}

csvreg_status csvreg_accum_solve(const csvreg_accum *a, const csvreg_solve_options *o,
                                 csvreg_fit **out, csvreg_error *err) {
  if (out)
    *out = NULL;
  if (!a || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "accum_solve: NULL argument");
  return solve_impl((csvreg_accum *)a, o, 0, out, err);
}

csvreg_status csvreg_accum_solve_release(csvreg_accum *a, const csvreg_solve_options *o,
                                         csvreg_fit **out, csvreg_error *err) {
  if (out)
    *out = NULL;
  if (!a || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "accum_solve_release: NULL argument");
  csvreg_status st = solve_impl(a, o, 1, out, err);
  /* the early failures (no rows, bad options) release the numbers too, as
   * the header promises: later uses are CSVREG_E_USAGE whatever the solve said */
  if (csvreg__accum_check_live(a, NULL) == CSVREG_OK)
    free(csvreg__accum_release_numbers(a));
  return st;
}
