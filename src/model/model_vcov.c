/*
 * model_vcov.c - a model's robust covariance (issue 13): a model saved from
 * `fit --vcov TYPE -o` keeps the type and the p x p covariance V of the
 * coefficients, so that predict's intervals use it: the standard error of a
 * fitted value at x is sqrt(x' V x), as R's `sqrt(rowSums((X %*% V) * X))`
 * with V = sandwich::vcovHC(fit, type) (predict.lm itself takes no vcov).
 *
 * Kept apart from model.c (whose writing is streamed elsewhere): one member,
 * "robust": {"type": NAME, "vcov": [[...] per row]}, null where a
 * coefficient is aliased, written only when the fit had one, so that every
 * other model is byte for byte what it was and older models load as before.
 * The model's checksum covers it like the other members.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_impl.h"
#include "internal.h"
#include "model_impl.h"

csvreg_status csvreg__model_same_terms(const csvreg_model *m, const csvreg_fit *fit,
                                      const char *fn, csvreg_error *err) {
  const size_t q = m->fit->s.nterms;
  if (fit->s.nterms != q)
    return csvreg__err_set(err, CSVREG_E_USAGE, "%s: the fit has %zu coefficients, the model %zu",
                           fn, fit->s.nterms, q);
  for (size_t j = 0; j < q; j++)
    if (strcmp(fit->terms[j].name, m->fit->terms[j].name) != 0 ||
        !fit->terms[j].aliased != !m->fit->terms[j].aliased)
      return csvreg__err_set(err, CSVREG_E_USAGE,
                             "%s: the fit's term %zu (%s) is not the model's (%s)", fn, j,
                             fit->terms[j].name, m->fit->terms[j].name);
  return CSVREG_OK;
}

csvreg_status csvreg_model_set_vcov(csvreg_model *m, const csvreg_fit *fit, csvreg_error *err) {
  if (!m || !fit)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_set_vcov: NULL argument");
  if (fit->vcov_type == CSVREG_VCOV_CLASSICAL || !fit->rcov)
    return CSVREG_OK; /* the classical covariance is the model's own */
  const size_t q = m->fit->s.nterms;
  csvreg_status st = csvreg__model_same_terms(m, fit, "model_set_vcov", err);
  if (st)
    return st;
  double *v = malloc((q ? q * q : 1) * sizeof *v);
  if (!v)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  if (q)
    memcpy(v, fit->rcov, q * q * sizeof *v);
  free(m->rcov);
  m->rcov = v;
  m->vcov_type = fit->vcov_type;
  return CSVREG_OK;
}

json_t *csvreg__model_vcov_json(const csvreg_model *m) {
  const size_t q = m->fit->s.nterms;
  json_t *rows = json_array();
  for (size_t i = 0; rows && i < q; i++) {
    json_t *row = json_array();
    for (size_t j = 0; row && j < q; j++) {
      double x = m->rcov[j * q + i];
      if (json_array_append_new(row, isfinite(x) ? json_real(x) : json_null())) {
        json_decref(row);
        row = NULL;
      }
    }
    if (!row || json_array_append_new(rows, row)) {
      json_decref(rows);
      rows = NULL;
    }
  }
  return rows ? json_pack("{s:s, s:o}", "type", csvreg_vcov_name((csvreg_vcov_type)m->vcov_type),
                          "vcov", rows)
              : NULL;
}

static csvreg_status bad_member(csvreg_error *err, const char *why) {
  return csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg model: \"robust\" %s", why);
}

csvreg_status csvreg__model_vcov_from_json(csvreg_model *m, const json_t *r, csvreg_error *err) {
  if (!r)
    return CSVREG_OK;
  const size_t q = m->fit->s.nterms;
  csvreg_vcov_type t;
  const json_t *rows = json_object_get(r, "vcov");
  if (!json_is_object(r) || csvreg_vcov_parse(json_string_value(json_object_get(r, "type")), &t) ||
      t == CSVREG_VCOV_CLASSICAL)
    return bad_member(err, "has no robust covariance type");
  if (!json_is_array(rows) || json_array_size(rows) != q)
    return bad_member(err, "is not one row per coefficient");
  double *v = malloc((q ? q * q : 1) * sizeof *v);
  if (!v)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t i = 0; i < q; i++) {
    const json_t *row = json_array_get(rows, i);
    if (!json_is_array(row) || json_array_size(row) != q) {
      free(v);
      return bad_member(err, "is not a square matrix of the model's coefficients");
    }
    for (size_t j = 0; j < q; j++) {
      const json_t *x = json_array_get(row, j);
      /* null exactly where a coefficient is aliased, a number elsewhere */
      int alias = m->fit->terms[i].aliased || m->fit->terms[j].aliased;
      if (alias ? !json_is_null(x) : !json_is_number(x)) {
        free(v);
        return bad_member(err, "has a number where a coefficient is aliased, or none where not");
      }
      v[j * q + i] = alias ? NAN : json_number_value(x);
    }
  }
  free(m->rcov);
  m->rcov = v;
  m->vcov_type = (int)t;
  return CSVREG_OK;
}
