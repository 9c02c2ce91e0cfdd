/*
 * validate.c - exact validation in the one pass of fit. Each row goes, by a
 * hash of its record number and the seed (csvreg_split_uniform), to one of
 * several accumulators: training and held-out (--holdout), or K folds
 * (--cv). Because an accumulator is a sufficient statistic of its rows, the
 * squared error of any coefficient vector on a part is computed from the
 * part's accumulator alone (csvreg_accum_score): no second pass, and the
 * same numbers as splitting the file and running fit and eval on the pieces.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_cli.h"

void validation_free(validation *v) {
  if (v->parts)
    for (size_t k = 0; k < v->nparts; k++)
      csvreg_accum_free(v->parts[k]);
  free(v->parts);
  free(v->part);
  free(v->scores);
  v->parts = NULL;
  v->part = NULL;
  v->scores = NULL;
}

static csvreg_status nomem(csvreg_error *err) {
  err->status = CSVREG_E_NOMEM;
  snprintf(err->message, sizeof err->message, "out of memory");
  return CSVREG_E_NOMEM;
}

csvreg_status validation_start(validation *v, const csvreg_spec *s, csvreg_solver solver,
                               size_t chunk_rows, csvreg_error *err) {
  v->nparts = v->mode == 1 ? 2 : v->k;
  v->cap = chunk_rows ? chunk_rows : CSVREG_DEFAULT_CHUNK_ROWS;
  v->parts = calloc(v->nparts, sizeof *v->parts);
  v->part = malloc(v->cap * sizeof *v->part);
  v->scores = calloc(v->nparts, sizeof *v->scores);
  if (!v->parts || !v->part || !v->scores)
    return nomem(err);
  for (size_t k = 0; k < v->nparts; k++) {
    csvreg_status st = csvreg_accum_new_for_spec(&v->parts[k], s, solver, err);
    if (st)
      return st;
  }
  return CSVREG_OK;
}

csvreg_status validation_add_chunk(validation *v, const csvreg_chunk *c, csvreg_error *err) {
  size_t n = csvreg_chunk_rows(c);
  const uint64_t *rec = csvreg_chunk_record_numbers(c);
  for (size_t i = 0; i < n; i++) {
    double u = csvreg_split_uniform(rec[i], (uint64_t)v->seed);
    if (v->mode == 1) {
      v->part[i] = u < v->fraction ? 1 : 0;
    } else {
      size_t f = (size_t)(u * (double)v->k);
      v->part[i] = f < v->k ? f : v->k - 1;
    }
  }
  return csvreg_accum_add_chunk_split(v->parts, v->nparts, c, v->part, err);
}

csvreg_status validation_merge(validation *v, csvreg_accum *all, csvreg_error *err) {
  size_t n = v->mode == 1 ? 1 : v->nparts;
  for (size_t k = 0; k < n; k++) {
    csvreg_status st = csvreg_accum_merge(all, v->parts[k], err);
    if (st)
      return st;
  }
  return CSVREG_OK;
}

csvreg_status validation_score(validation *v, const csvreg_fit *fit, const csvreg_solve_options *so,
                               const csvreg_spec *s, csvreg_solver solver, csvreg_error *err) {
  if (v->mode == 1)
    return csvreg_accum_score(v->parts[1], fit, &v->scores[1], err);
  for (size_t f = 0; f < v->k; f++) {
    csvreg_accum *rest = NULL;
    csvreg_fit *ff = NULL;
    csvreg_status st = csvreg_accum_new_for_spec(&rest, s, solver, err);
    for (size_t k = 0; !st && k < v->k; k++)
      if (k != f)
        st = csvreg_accum_merge(rest, v->parts[k], err);
    if (!st)
      st = csvreg_accum_solve(rest, so, &ff, err);
    if (!st)
      st = csvreg_accum_score(v->parts[f], ff, &v->scores[f], err);
    csvreg_fit_free(ff);
    csvreg_accum_free(rest);
    if (st) {
      /* Say which fold: its training rows may be all that failed. */
      char m[sizeof err->message + 64];
      snprintf(m, sizeof m, "cross-validation fold %zu: %s", f + 1, err->message);
      snprintf(err->message, sizeof err->message, "%.*s", (int)sizeof err->message - 1, m);
      return st;
    }
  }
  return CSVREG_OK;
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
    val = score_json(&v->scores[1]);
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
    for (size_t f = v->mode == 1 ? 1 : 0; f < v->nparts; f++) {
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
    const csvreg_score *s = &v->scores[1];
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
