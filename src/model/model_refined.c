/*
 * model_refined.c - a refined model (issue 13): a model saved from
 * `fit --refine -o` keeps the refined coefficients and residual sum of
 * squares, so that predict, eval and a second pass (`fit --emit-state
 * --vcov TYPE -m`) use the coefficients the report showed, not the one-pass
 * solve of the state the model keeps beside them (the state is what
 * --update folds and what `solve` solves again).
 *
 * One member, "refined": {"steps", "passes", "stop", "digits",
 * "digits_as_read", "rss", "coefficients": [one per term, null where
 * aliased]}, written only for a refined fit, so that every other model is
 * byte for byte what it was and older models load as before. The numbers
 * are written with round-trip precision ("%.17g"), so the fit remade on
 * loading is the refined fit bit for bit; the checksum covers the member as
 * the others, and the stored report ("fit") is then checked against the
 * refined fit, so the two cannot disagree.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_impl.h"
#include "internal.h"
#include "linalg.h"
#include "model_impl.h"

static double model_sum_log_w(const csvreg_model *m) {
  accum_totals tot;
  csvreg__accum_totals_get(m->accum, &tot);
  return tot.sum_log_w;
}

/* `rec`, coefficients and RSS of the refined fit `from` made m's fit's. */
static csvreg_status refine_onto(csvreg_fit *f, const csvreg_model *m, const csvreg_fit *from,
                                 csvreg_error *err) {
  const size_t q = from->s.nterms;
  double *coef = malloc((q ? q : 1) * sizeof *coef);
  if (!coef)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < q; j++)
    coef[j] = from->terms[j].estimate;
  fit_refinement rec = {from->refine_steps, from->refine_passes, from->refine_digits,
                        from->refine_stop, from->s.digits};
  csvreg_status st = csvreg__fit_set_refined(f, coef, from->s.rss, model_sum_log_w(m), &rec, err);
  free(coef);
  return st;
}

csvreg_status csvreg_model_set_refined(csvreg_model *m, const csvreg_fit *fit, csvreg_error *err) {
  if (!m || !fit)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_set_refined: NULL argument");
  if (!fit->refined)
    return CSVREG_OK; /* the one-pass solve is the model's own */
  csvreg_status st = csvreg__model_same_terms(m, fit, "model_set_refined", err);
  return st ? st : refine_onto(m->fit, m, fit, err);
}

csvreg_status csvreg_model_solve(const csvreg_model *m, const csvreg_solve_options *o,
                                 csvreg_fit **out, csvreg_error *err) {
  if (!m || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_solve: NULL argument");
  *out = NULL;
  csvreg_fit *f = NULL;
  const model_formula *fm = m->fm;
  csvreg_status st = csvreg_accum_solve(m->accum, o ? o : &m->opt.solve, &f, err);
  if (!st && fm)
    st = csvreg__fit_set_formula(f, fm->text, fm->nfactors, (const char *const *)fm->fnames,
                                 fm->nlev, (const char *const *const *)fm->levels, err);
  if (!st && m->fit->refined)
    st = refine_onto(f, m, m->fit, err);
  if (st) {
    csvreg_fit_free(f);
    return st;
  }
  *out = f;
  return CSVREG_OK;
}

static json_t *num_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

json_t *csvreg__model_refined_json(const csvreg_model *m) {
  const csvreg_fit *f = m->fit;
  json_t *coef = json_array();
  for (size_t j = 0; coef && j < f->s.nterms; j++)
    if (json_array_append_new(coef, f->terms[j].aliased ? json_null()
                                                        : num_or_null(f->terms[j].estimate))) {
      json_decref(coef);
      coef = NULL;
    }
  if (!coef)
    return NULL;
  return json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:o}", "steps", (json_int_t)f->refine_steps,
                   "passes", (json_int_t)f->refine_passes, "stop",
                   csvreg__refine_stop_name(f->refine_stop), "digits", num_or_null(f->s.digits),
                   "digits_as_read", num_or_null(f->refine_digits), "rss", num_or_null(f->s.rss),
                   "coefficients", coef);
}

static csvreg_status bad_member(csvreg_error *err, const char *why) {
  return csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg model: \"refined\" %s", why);
}

static int is_count(const json_t *v) { return json_is_integer(v) && json_integer_value(v) >= 0; }

/* A number, or null for a digits estimate that was not finite. */
static int number_or_null(const json_t *v, double *out) {
  if (json_is_null(v)) {
    *out = NAN;
    return 1;
  }
  *out = json_number_value(v);
  return json_is_number(v);
}

csvreg_status csvreg__model_refined_from_json(csvreg_model *m, const json_t *r,
                                              csvreg_error *err) {
  if (!r)
    return CSVREG_OK;
  csvreg_fit *f = m->fit;
  const size_t q = f->s.nterms;
  if (!json_is_object(r))
    return bad_member(err, "is not an object");
  const json_t *steps = json_object_get(r, "steps"), *passes = json_object_get(r, "passes");
  const json_t *coef = json_object_get(r, "coefficients");
  fit_refinement rec;
  double rss;
  rec.stop = csvreg__refine_stop_parse(json_string_value(json_object_get(r, "stop")));
  if (!is_count(steps) || !is_count(passes) || json_integer_value(passes) < 1 ||
      json_integer_value(steps) > CSVREG_MAX_REFINE_STEPS ||
      json_integer_value(passes) > CSVREG_MAX_REFINE_STEPS + 1 || rec.stop < 0)
    return bad_member(err, "has no valid steps, passes or stop");
  if (!number_or_null(json_object_get(r, "digits"), &rec.digits) ||
      !number_or_null(json_object_get(r, "digits_as_read"), &rec.digits_as_read) ||
      !json_is_number(json_object_get(r, "rss")) ||
      !((rss = json_number_value(json_object_get(r, "rss"))) >= 0))
    return bad_member(err, "has no valid digits or residual sum of squares");
  if (!json_is_array(coef) || json_array_size(coef) != q)
    return bad_member(err, "is not one coefficient per term");
  double *b = malloc((q ? q : 1) * sizeof *b);
  if (!b)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < q; j++) {
    const json_t *x = json_array_get(coef, j);
    /* null exactly where a coefficient is aliased, a number elsewhere */
    if (f->terms[j].aliased ? !json_is_null(x) : !json_is_number(x)) {
      free(b);
      return bad_member(err, "has a number where a coefficient is aliased, or none where not");
    }
    b[j] = f->terms[j].aliased ? NAN : json_number_value(x);
  }
  rec.steps = (size_t)json_integer_value(steps);
  rec.passes = (size_t)json_integer_value(passes);
  csvreg_status st = csvreg__fit_set_refined(f, b, rss, model_sum_log_w(m), &rec, err);
  free(b);
  return st;
}
