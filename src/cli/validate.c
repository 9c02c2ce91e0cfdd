/*
 * validate.c - the report of fit's exact validation (--holdout, --cv): the
 * scores the library's split sink computed (csvreg_split_score), after the
 * fit report in text and csv, or as its "holdout"/"cv" member in json.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static csvreg_status nomem(csvreg_error *err) {
  err->status = CSVREG_E_NOMEM;
  snprintf(err->message, sizeof err->message, "out of memory");
  return CSVREG_E_NOMEM;
}

/* Means over the folds that have rows. */
static void cv_means(const validation *v, double *mse, double *rmse, double *r2) {
  double s[3] = {0, 0, 0};
  size_t c[3] = {0, 0, 0};
  for (size_t f = 0; f < v->k; f++) {
    const csvreg_score *sc = &v->scores[f];
    double x[3] = {sc->mse, sc->rmse, sc->r_squared};
    for (int i = 0; i < 3; i++)
      if (isfinite(x[i]))
        s[i] += x[i], c[i]++;
  }
  *mse = c[0] ? s[0] / (double)c[0] : NAN;
  *rmse = c[1] ? s[1] / (double)c[1] : NAN;
  *r2 = c[2] ? s[2] / (double)c[2] : NAN;
}

static void csv_num(FILE *out, double v) {
  if (isfinite(v))
    fprintf(out, ",%.17g", v);
  else
    fputs(",NA", out);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *score_json(const csvreg_score *s) {
  return json_pack("{s:I, s:o, s:o, s:o, s:o}", "n", (json_int_t)s->n, "sum_w", jnum(s->sum_w),
                   "mse", jnum(s->mse), "rmse", jnum(s->rmse), "r_squared", jnum(s->r_squared));
}

static csvreg_status write_json(FILE *out, const validation *v, const csvreg_fit *fit,
                                csvreg_error *err) {
  char *text = NULL;
  csvreg_status st = csvreg_fit_to_json(fit, &text, err);
  if (st)
    return st;
  json_error_t je;
  json_t *o = json_loads(text, 0, &je);
  free(text);
  text = NULL;
  json_t *val;
  if (v->mode == 1) {
    val = score_json(&v->scores[0]);
    if (val) {
      json_object_set_new(val, "fraction", json_real(v->fraction));
      json_object_set_new(val, "seed", json_integer((json_int_t)v->seed));
    }
  } else {
    json_t *folds = json_array();
    for (size_t f = 0; folds && f < v->k; f++) {
      json_t *sf = score_json(&v->scores[f]);
      if (sf)
        json_object_set_new(sf, "fold", json_integer((json_int_t)(f + 1)));
      json_array_append_new(folds, sf);
    }
    double mse, rmse, r2;
    cv_means(v, &mse, &rmse, &r2);
    val = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "k", (json_int_t)v->k, "seed",
                    (json_int_t)v->seed, "folds", folds, "mean_mse", jnum(mse), "mean_rmse",
                    jnum(rmse), "mean_r_squared", jnum(r2));
  }
  if (o && val && !json_object_set_new(o, v->mode == 1 ? "holdout" : "cv", val))
    text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  json_decref(o);
  if (!text)
    return nomem(err);
  fputs(text, out);
  fputc('\n', out);
  free(text);
  return CSVREG_OK;
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
            "\nHeld-out validation (fraction %g, seed %llu): %llu rows\n"
            "  MSE: %s,  RMSE: %s,  R-squared: %s\n",
            v->fraction, v->seed, (unsigned long long)s->n, report_num(b1, 40, s->mse, 7),
            report_num(b2, 40, s->rmse, 7), report_num(b3, 40, s->r_squared, 7));
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
