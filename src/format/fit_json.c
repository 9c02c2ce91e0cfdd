/*
 * fit_json.c - a solved fit as a JSON object, built with jansson.
 *
 * Doubles are written with JSON_REAL_PRECISION(17): %.17g always reads back to
 * the same bits, so the JSON is the exact form of the fit (the text report
 * rounds to 7 digits). JSON has no NaN or Infinity, and jansson refuses them,
 * so values that do not exist (aliased terms, no residual degrees of freedom)
 * are null. Keys come out in insertion order (jansson >= 2.8).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "json_mem.h"

/* Builders that remember a failure (out of memory) instead of checking each call. */
typedef struct jb {
  int failed;
} jb;

static void put(jb *b, json_t *obj, const char *key, json_t *v) {
  if (!v || json_object_set_new(obj, key, v) != 0)
    b->failed = 1;
}

/* jansson insists on UTF-8; a column name in another encoding keeps its ASCII
 * bytes and shows '?' for the others rather than failing the whole report. */
static json_t *jstr(const char *s) {
  json_t *v = json_string(s);
  if (v || !s)
    return v;
  char *copy = xstrdup(s);
  if (!copy)
    return NULL;
  for (char *p = copy; *p; p++)
    if ((unsigned char)*p >= 0x80)
      *p = '?';
  v = json_string(copy);
  free(copy);
  return v;
}

static void put_real(jb *b, json_t *obj, const char *key, double v) {
  put(b, obj, key, isfinite(v) ? json_real(v) : json_null());
}

static void put_count(jb *b, json_t *obj, const char *key, uint64_t v) {
  put(b, obj, key, json_integer((json_int_t)v));
}

static json_t *term_json(jb *b, const csvreg_term *t) {
  json_t *o = json_object();
  if (!o) {
    b->failed = 1;
    return NULL;
  }
  put(b, o, "name", jstr(t->name));
  put_real(b, o, "estimate", t->estimate);
  put_real(b, o, "std_error", t->std_error);
  put_real(b, o, "t_value", t->t_value);
  put_real(b, o, "p_value", t->p_value);
  put_real(b, o, "ci_lower", t->ci_lower);
  put_real(b, o, "ci_upper", t->ci_upper);
  put(b, o, "aliased", json_boolean(t->aliased));
  return o;
}

static json_t *fit_object(jb *b, const csvreg_fit *f) {
  const csvreg_counts *k = &f->counts;
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
    for (size_t i = 0; i < f->ninputs; i++) {
      json_t *name = jstr(f->input_names[i]); /* a key must be UTF-8 too */
      if (!name) {
        b->failed = 1;
        continue;
      }
      put_count(b, by_col, json_string_value(name), f->na_by_input ? f->na_by_input[i] : 0);
      json_decref(name);
    }
  put(b, o, "missing_by_column", by_col);
  put_count(b, o, "n_read", k->records);
  put_real(b, o, "df_residual", f->df_residual);
  put_count(b, o, "rank", f->rank);
  put(b, o, "target", jstr(f->target ? f->target : ""));
  put(b, o, "intercept", json_boolean(f->intercept));
  put(b, o, "weighted", json_boolean(f->weighted));
  json_t *terms = json_array();
  if (terms)
    for (size_t i = 0; i < f->nterms; i++) {
      json_t *t = term_json(b, &f->terms[i]);
      if (!t || json_array_append_new(terms, t) != 0)
        b->failed = 1;
    }
  put(b, o, "terms", terms);
  put_real(b, o, "residual_sd", f->residual_sd);
  put_real(b, o, "rss", f->rss);
  put_real(b, o, "tss", f->tss);
  put_real(b, o, "r_squared", f->r_squared);
  put_real(b, o, "adj_r_squared", f->adj_r_squared);
  put_real(b, o, "f_statistic", f->f_statistic);
  put_real(b, o, "f_df1", f->f_df1);
  put_real(b, o, "f_df2", f->f_df2);
  put_real(b, o, "f_p_value", f->f_p_value);
  put_real(b, o, "log_likelihood", f->log_likelihood);
  put_real(b, o, "aic", f->aic);
  put_real(b, o, "bic", f->bic);
  put_real(b, o, "condition_number", f->condition_number);
  put_real(b, o, "digits", f->digits);
  put_real(b, o, "level", f->level);
  put_real(b, o, "tol", f->tol);
  put(b, o, "solver", json_string(csvreg_solver_name(f->solver)));
  put(b, o, "version", json_string(csvreg_version()));
  return o;
}

csvreg_status csvreg_fit_to_json(const csvreg_fit *f, char **out, csvreg_error *err) {
  if (!f || !out)
    return err_set(err, CSVREG_E_USAGE, "csvreg_fit_to_json: NULL argument");
  *out = NULL;
  /* jstr's fallback must not turn a name that failed to allocate into '?'s. */
  unsigned long mark = json_mem_failures();
  jb b = {0};
  json_t *o = fit_object(&b, f);
  if (o && !b.failed)
    *out = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  json_decref(o);
  if (*out && json_mem_check(mark, CSVREG_OK, NULL)) {
    free(*out);
    *out = NULL;
  }
  if (!*out)
    return err_set(err, CSVREG_E_NOMEM, "out of memory writing the fit as JSON");
  return CSVREG_OK;
}
