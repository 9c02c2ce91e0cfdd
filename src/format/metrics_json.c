/*
 * metrics_json.c - evaluation metrics as JSON (eval --format json), written
 * here so that the program does not need a JSON library: the same jansson
 * settings as the fit report (two-space indent, 17 significant digits,
 * non-finite numbers as null).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

csvreg_status csvreg_metrics_to_json(const csvreg_metrics *m, const csvreg_counts *k,
                                     const char *target, int weighted, char **out,
                                     csvreg_error *err) {
  if (!m || !k || !target || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "metrics_to_json: NULL argument");
  *out = NULL;
  const struct {
    const char *name;
    double value;
  } r[] = {{"mse", m->mse},
           {"rmse", m->rmse},
           {"mae", m->mae},
           {"mape", m->mape},
           {"max_error", m->max_error},
           {"mean_error", m->mean_error},
           {"r_squared", m->r_squared},
           {"explained_variance", m->explained_variance},
           {"sum_w", m->sum_w}};
  json_t *o = json_object();
  int bad = !o;
  bad = bad || json_object_set_new(o, "n", json_integer((json_int_t)m->n));
  for (size_t i = 0; !bad && i < sizeof r / sizeof r[0]; i++)
    bad = json_object_set_new(o, r[i].name,
                              isfinite(r[i].value) ? json_real(r[i].value) : json_null());
  bad = bad || json_object_set_new(o, "n_zero_y", json_integer((json_int_t)m->n_zero_y)) ||
        json_object_set_new(o, "n_read", json_integer((json_int_t)k->records)) ||
        json_object_set_new(o, "n_missing", json_integer((json_int_t)k->dropped_na)) ||
        json_object_set_new(o, "n_bad", json_integer((json_int_t)k->dropped_bad)) ||
        json_object_set_new(o, "n_zero_weight", json_integer((json_int_t)k->zero_weight)) ||
        /* a formula model's rows with a level it never saw (only when some) */
        (k->new_level &&
         json_object_set_new(o, "n_new_level", json_integer((json_int_t)k->new_level))) ||
        json_object_set_new(o, "target", json_string(target)) ||
        json_object_set_new(o, "weighted", json_boolean(weighted));
  char *text = bad ? NULL : json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  json_decref(o);
  if (!text)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing JSON");
  *out = text;
  return CSVREG_OK;
}
