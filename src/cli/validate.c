/*
 * validate.c - the report of fit's exact validation (--holdout, --cv): the
 * scores the library's split sink computed (csvreg_split_score), after the
 * fit report in text and csv, or as its "holdout"/"cv" member in json.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

/* Means over the folds that have rows. */
static void cv_means(const validation *v, double *mse, double *rmse, double *r2) {
  csvreg_score m;
  csvreg_scores_mean(v->scores, v->k, &m);
  *mse = m.mse;
  *rmse = m.rmse;
  *r2 = m.r_squared;
}

static void csv_num(FILE *out, double v) {
  if (isfinite(v))
    fprintf(out, ",%.17g", v);
  else
    fputs(",NA", out);
}

static csvreg_status write_json(FILE *out, const validation *v, const csvreg_fit *fit,
                                csvreg_error *err) {
  csvreg_split_options so = {v->mode == 2 ? (int)v->k : 0, v->fraction, v->seed,
                             csvreg_fit_get_summary(fit)->solver};
  char *text = NULL;
  csvreg_status st = csvreg_fit_to_json_validated(fit, &so, v->scores, v->nscores, &text, err);
  return report_put_text(out, st, text);
}

csvreg_status validation_write(FILE *out, const validation *v, const csvreg_fit *fit,
                               report_format format, csvreg_error *err) {
  if (format == REPORT_JSON)
    return write_json(out, v, fit, err);
  csvreg_status st = report_write(out, fit, format, err);
  if (st)
    return st;
  char b1[40], b2[40], b3[40];
  if (format == REPORT_CSV) {
    fputs("\nfold,n,sum_w,mse,rmse,r_squared\n", out);
    for (size_t f = 0; f < v->nscores; f++) {
      const csvreg_score *s = &v->scores[f];
      if (v->mode == 1)
        fputs("holdout", out);
      else
        fprintf(out, "%zu", f + 1);
      fprintf(out, ",%llu", (unsigned long long)s->n);
      csv_num(out, s->sum_w);
      csv_num(out, s->mse);
      csv_num(out, s->rmse);
      csv_num(out, s->r_squared);
      fputc('\n', out);
    }
    if (v->mode == 2) {
      double mse, rmse, r2;
      cv_means(v, &mse, &rmse, &r2);
      fputs("mean,", out);
      csv_num(out, NAN);
      csv_num(out, mse);
      csv_num(out, rmse);
      csv_num(out, r2);
      fputc('\n', out);
    }
    return CSVREG_OK;
  }
  if (v->mode == 1) {
    const csvreg_score *s = &v->scores[0];
    fprintf(out,
            "\nHeld-out validation (fraction %g, seed %llu): %llu row%s\n"
            "  MSE: %s,  RMSE: %s,  R-squared: %s\n",
            v->fraction, v->seed, (unsigned long long)s->n, CLI_PLURAL(s->n),
            report_num(b1, 40, s->mse, 7), report_num(b2, 40, s->rmse, 7),
            report_num(b3, 40, s->r_squared, 7));
    return CSVREG_OK;
  }
  fprintf(out, "\n%zu-fold cross-validation (seed %llu):\n", v->k, v->seed);
  fprintf(out, "%6s %12s %14s %14s %14s\n", "fold", "n", "MSE", "RMSE", "R-squared");
  for (size_t f = 0; f < v->k; f++) {
    const csvreg_score *s = &v->scores[f];
    fprintf(out, "%6zu %12llu %14s %14s %14s\n", f + 1, (unsigned long long)s->n,
            report_num(b1, 40, s->mse, 7), report_num(b2, 40, s->rmse, 7),
            report_num(b3, 40, s->r_squared, 7));
  }
  double mse, rmse, r2;
  cv_means(v, &mse, &rmse, &r2);
  fprintf(out, "%6s %12s %14s %14s %14s\n", "mean", "", report_num(b1, 40, mse, 7),
          report_num(b2, 40, rmse, 7), report_num(b3, 40, r2, 7));
  return CSVREG_OK;
}
