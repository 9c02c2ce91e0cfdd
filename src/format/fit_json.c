/*
 * fit_json.c - a solved fit as a JSON object, built with jansson.
 *
 * Doubles are written with JSON_REAL_PRECISION(17): %.17g always reads back to
 * the same bits, so the JSON is the exact form of the fit (the text report
 * rounds to 7 digits). JSON has no NaN or Infinity, and jansson refuses them,
 * so values that do not exist (aliased terms, no residual degrees of freedom)
 * are null. Keys come out in insertion order (jansson >= 2.8).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit_impl.h"
#include "internal.h"
#include "json_mem.h"
#include "json_str.h"
#include "json_write.h"

/* Builders that remember a failure (out of memory) instead of checking each call. */
typedef struct jb {
  int failed;
} jb;

static void put(jb *b, json_t *obj, const char *key, json_t *v) {
  if (!v || json_object_set_new(obj, key, v) != 0)
    b->failed = 1;
}

static void put_real(jb *b, json_t *obj, const char *key, double v) {
  put(b, obj, key, isfinite(v) ? json_real(v) : json_null());
}

static void put_count(jb *b, json_t *obj, const char *key, uint64_t v) {
  put(b, obj, key, json_integer((json_int_t)v));
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *term_json(jb *b, const csvreg_term *t) {
  json_t *o = json_object();
  if (!o) {
    b->failed = 1;
    return NULL;
  }
  put(b, o, "name", csvreg__json_str(t->name));
  put_real(b, o, "estimate", t->estimate);
  put_real(b, o, "std_error", t->std_error);
  put_real(b, o, "t_value", t->t_value);
  put_real(b, o, "p_value", t->p_value);
  put_real(b, o, "ci_lower", t->ci_lower);
  put_real(b, o, "ci_upper", t->ci_upper);
  put(b, o, "aliased", json_boolean(t->aliased));
  return o;
}

/* R's vcov(fit): sigma^2 (X'WX)^-1, rows and columns in the terms' order;
 * null in the rows and columns of aliased terms (NA in R) and everywhere
 * when sigma does not exist (no residual degrees of freedom). */
static json_t *vcov_json(jb *b, const csvreg_fit *f) {
  size_t p = f->s.nterms;
  double s2 = f->s.residual_sd * f->s.residual_sd;
  json_t *rows = json_array();
  for (size_t i = 0; rows && i < p; i++) {
    json_t *row = json_array();
    for (size_t j = 0; row && j < p; j++)
      if (json_array_append_new(
              row, jnum(f->rcov ? f->rcov[j * p + i] : s2 * f->xtx_inv[j * p + i])) != 0) {
        json_decref(row);
        row = NULL;
      }
    if (!row || json_array_append_new(rows, row) != 0) {
      json_decref(rows);
      rows = NULL;
    }
  }
  if (!rows)
    b->failed = 1;
  return rows;
}

/* A term's object for a streamed "terms" array (JBIG_EACH). */
static json_t *term_each(const void *ctx, size_t i) {
  jb b = {0};
  json_t *t = term_json(&b, &((const csvreg_fit *)ctx)->terms[i]);
  if (t && b.failed) {
    json_decref(t);
    t = NULL;
  }
  return t;
}

/* `vcov` NULL: the covariance as tree nodes (the fit's JSON report); else an
 * empty array stands for it, described in *vcov (a model file, written by
 * json_write.c: p^2 numbers as nodes cost about 150 bytes each). `terms`
 * likewise: NULL, the terms as tree nodes (a model file); else each term's
 * object is made as it is written (the report; mem12d: about 1 KB of nodes
 * a term, 1.3 MB at 1009 terms). */
static json_t *fit_object(jb *b, const csvreg_fit *f, csvreg__jbig *vcov,
                          csvreg__jbig *terms_big) {
  const csvreg_counts *k = &f->s.counts;
  json_t *o = json_object();
  if (!o) {
    b->failed = 1;
    return NULL;
  }
  put_count(b, o, "n", k->used);
  put_count(b, o, "n_dropped", k->dropped_na + k->dropped_bad + k->zero_weight);
  json_t *dropped = json_object();
  if (dropped) {
    put_count(b, dropped, "missing", k->dropped_na);
    put_count(b, dropped, "bad", k->dropped_bad);
    put_count(b, dropped, "zero_weight", k->zero_weight);
  }
  put(b, o, "dropped", dropped);
  json_t *by_col = json_object();
  if (by_col)
    for (size_t i = 0; i < f->s.ninputs; i++) {
      json_t *name = csvreg__json_str(f->input_names[i]); /* a key must be UTF-8 too */
      if (!name) {
        b->failed = 1;
        continue;
      }
      put_count(b, by_col, json_string_value(name), f->na_by_input ? f->na_by_input[i] : 0);
      json_decref(name);
    }
  put(b, o, "missing_by_column", by_col);
  put_count(b, o, "n_read", k->records);
  put_real(b, o, "df_residual", f->s.df_residual);
  put_count(b, o, "rank", f->s.rank);
  put(b, o, "target", csvreg__json_str(f->target ? f->target : ""));
  put(b, o, "intercept", json_boolean(f->s.intercept));
  put(b, o, "weighted", json_boolean(f->s.weighted));
  if (f->formula) {
    /* a formula's fit: what was written and what each dummy column means */
    put(b, o, "formula", csvreg__json_str(f->formula));
    json_t *factors = json_object();
    for (size_t v = 0; factors && v < f->nfactors; v++) {
      json_t *levels = json_array(), *name = csvreg__json_str(f->factor_names[v]);
      for (size_t i = 0; levels && i < f->factor_nlev[v]; i++) {
        json_t *l = csvreg__json_str(f->factor_levels[v][i]);
        if (!l || json_array_append_new(levels, l) != 0)
          b->failed = 1;
      }
      if (name)
        put(b, factors, json_string_value(name), levels);
      else
        json_decref(levels), b->failed = 1;
      json_decref(name);
    }
    put(b, o, "factors", factors);
  }
  json_t *terms = json_array();
  if (terms && terms_big) {
    memset(terms_big, 0, sizeof *terms_big);
    terms_big->node = terms;
    terms_big->kind = JBIG_EACH;
    terms_big->n = f->s.nterms;
    terms_big->each = term_each;
    terms_big->ctx = f;
  } else if (terms)
    for (size_t i = 0; i < f->s.nterms; i++) {
      json_t *t = term_json(b, &f->terms[i]);
      if (!t || json_array_append_new(terms, t) != 0)
        b->failed = 1;
    }
  put(b, o, "terms", terms);
  if (vcov) {
    json_t *slot = json_array();
    memset(vcov, 0, sizeof *vcov);
    vcov->node = slot;
    vcov->kind = JBIG_VCOV;
    vcov->n = f->s.nterms;
    /* the same products as vcov_json */
    vcov->v = f->rcov ? f->rcov : f->xtx_inv;
    vcov->scaled = !f->rcov;
    vcov->scale = f->s.residual_sd * f->s.residual_sd;
    put(b, o, "vcov", slot);
  } else {
    put(b, o, "vcov", vcov_json(b, f));
  }
  if (f->vcov_type) {
    /* a robust fit (csvreg_fit_apply_meat): which covariance the standard
     * errors, tests and vcov are; a classical fit's report has no such keys */
    put(b, o, "vcov_type", json_string(csvreg_vcov_name((csvreg_vcov_type)f->vcov_type)));
    if (f->ncl) {
      json_t *cl = json_array();
      for (size_t d = 0; cl && d < f->ncl; d++) {
        json_t *c = json_object();
        if (c) {
          put(b, c, "column", csvreg__json_str(f->cl_names[d]));
          put_count(b, c, "clusters", f->cl_count[d]);
        }
        if (!c || json_array_append_new(cl, c) != 0)
          b->failed = 1;
      }
      put(b, o, "clusters", cl);
      if (f->ncl == 2)
        put_count(b, o, "clusters_intersection", f->cl_count[2]);
    }
  }
  put_real(b, o, "residual_sd", f->s.residual_sd);
  put_real(b, o, "rss", f->s.rss);
  put_real(b, o, "tss", f->s.tss);
  put_real(b, o, "r_squared", f->s.r_squared);
  put_real(b, o, "adj_r_squared", f->s.adj_r_squared);
  put_real(b, o, "f_statistic", f->s.f_statistic);
  put_real(b, o, "f_df1", f->s.f_df1);
  put_real(b, o, "f_df2", f->s.f_df2);
  put_real(b, o, "f_p_value", f->s.f_p_value);
  put_real(b, o, "log_likelihood", f->s.log_likelihood);
  put_real(b, o, "aic", f->s.aic);
  put_real(b, o, "bic", f->s.bic);
  put_real(b, o, "condition_number", f->s.condition_number);
  put_real(b, o, "digits", f->s.digits);
  if (f->refined) {
    /* iterative refinement (refine.c): what it did and its own digits */
    json_t *r = json_object();
    put(b, o, "refine", r);
    if (r) {
      put_count(b, r, "steps", f->refine_steps);
      put_count(b, r, "passes", f->refine_passes);
      const char *stop = "";
      csvreg_fit_refined(f, NULL, NULL, &stop);
      put(b, r, "stop", json_string(stop));
      put_real(b, r, "digits_as_read", f->refine_digits);
    }
  }
  put_real(b, o, "level", f->s.level);
  put_real(b, o, "tol", f->s.tol);
  put(b, o, "solver", json_string(csvreg_solver_name(f->s.solver)));
  put(b, o, "version", json_string(csvreg_version()));
  return o;
}

static json_t *score_json(const csvreg_score *s) {
  return json_pack("{s:I, s:o, s:o, s:o, s:o}", "n", (json_int_t)s->n, "sum_w", jnum(s->sum_w),
                   "mse", jnum(s->mse), "rmse", jnum(s->rmse), "r_squared", jnum(s->r_squared));
}

/* The "holdout" or "cv" member of a validated fit's report. */
static json_t *validation_json(const csvreg_split_options *so, const csvreg_score *scores,
                               size_t nscores) {
  if (so->folds == 0) {
    json_t *val = nscores ? score_json(&scores[0]) : NULL;
    if (val && (json_object_set_new(val, "fraction", json_real(so->fraction)) ||
                json_object_set_new(val, "seed", json_integer((json_int_t)so->seed)))) {
      json_decref(val);
      return NULL;
    }
    return val;
  }
  json_t *folds = json_array();
  for (size_t f = 0; folds && f < nscores; f++) {
    json_t *sf = score_json(&scores[f]);
    if (!sf || json_object_set_new(sf, "fold", json_integer((json_int_t)(f + 1))) ||
        json_array_append_new(folds, sf)) {
      json_decref(folds);
      folds = NULL;
    }
  }
  csvreg_score mean;
  csvreg_scores_mean(scores, nscores, &mean);
  return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "k", (json_int_t)so->folds, "seed",
                   (json_int_t)so->seed, "folds", folds, "mean_mse", jnum(mean.mse), "mean_rmse",
                   jnum(mean.rmse), "mean_r_squared", jnum(mean.r_squared));
}

/* The report's text into the sink s: the tree holds the small members and
 * the covariance (p^2 reals) is written from the fit's array (json_write.c,
 * byte for byte what json_dumps wrote; issue 12: at p = 1000 the tree's
 * nodes were about 100 MB, ten times the state). */
static csvreg_status fit_json_emit(const csvreg_fit *f, const csvreg_split_options *so,
                                   const csvreg_score *scores, size_t nscores, csvreg__jsink *s,
                                   csvreg_error *err) {
  /* jstr's fallback must not turn a name that failed to allocate into '?'s. */
  unsigned long mark = csvreg__json_mem_failures();
  jb b = {0};
  csvreg__jbig bigs[2];
  json_t *o = fit_object(&b, f, &bigs[0], &bigs[1]);
  if (o && so)
    put(&b, o, so->folds == 0 ? "holdout" : "cv", validation_json(so, scores, nscores));
  int bad = !o || b.failed || csvreg__json_mem_check(mark, CSVREG_OK, NULL);
  if (!bad) /* the terms' names are made as they are written: checked after */
    bad = csvreg__jwrite(s, o, 1, bigs, 2) || csvreg__jsink_flush(s) ||
          csvreg__json_mem_check(mark, CSVREG_OK, NULL);
  json_decref(o);
  if (bad && s->failed == 2)
    return csvreg__err_set(err, CSVREG_E_IO, "error writing the fit as JSON: %s",
                           strerror(s->err_no));
  if (bad)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the fit as JSON");
  return CSVREG_OK;
}

csvreg_status csvreg_fit_to_json_validated(const csvreg_fit *f, const csvreg_split_options *so,
                                           const csvreg_score *scores, size_t nscores, char **out,
                                           csvreg_error *err) {
  if (!f || !out || (so && nscores && !scores))
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_fit_to_json_validated: NULL argument");
  *out = NULL;
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the fit as JSON");
  csvreg__jsink_init(s, JSINK_BUF, NULL);
  csvreg_status st = fit_json_emit(f, so, scores, nscores, s, err);
  if (!st && !s->buf) /* nothing written cannot happen: an object is at least "{}" */
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the fit as JSON");
  if (st)
    free(s->buf);
  else
    *out = s->buf;
  free(s);
  return st;
}

csvreg_status csvreg_fit_write_json(const csvreg_fit *f, FILE *out, csvreg_error *err) {
  if (!f || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_fit_write_json: NULL argument");
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the fit as JSON");
  csvreg__jsink_init(s, JSINK_FILE, out);
  csvreg_status st = fit_json_emit(f, NULL, NULL, 0, s, err);
  free(s);
  if (!st && fputc('\n', out) == EOF)
    st = csvreg__err_set(err, CSVREG_E_IO, "error writing the fit as JSON: %s", strerror(errno));
  return st;
}

csvreg_status csvreg_fit_to_json(const csvreg_fit *f, char **out, csvreg_error *err) {
  return csvreg_fit_to_json_validated(f, NULL, NULL, 0, out, err);
}

/* The fit report of a model file: csvreg_fit_to_json's object with the
 * covariance outside the tree (*vcov); NULL when out of memory. */
json_t *csvreg__fit_model_json(const csvreg_fit *f, csvreg__jbig *vcov) {
  jb b = {0};
  json_t *o = fit_object(&b, f, vcov, NULL);
  if (o && b.failed) {
    json_decref(o);
    return NULL;
  }
  return o;
}
