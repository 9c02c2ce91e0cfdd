/*
 * model_spec.c - a saved model's spec bound to a new input: the inputs the
 * model reads are found by their exact header names, in any order, so that
 * predict, eval and fit --update read a file through the same spec -> chunk
 * -> design path as fit, whatever the order of its columns.
 */
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "internal.h"
#include "model_impl.h"
#include "spec.h"

/* The one column named `name`, or CSVREG_E_COLUMN. */
static csvreg_status find(const char *const *names, size_t n, const char *name, const char *role,
                          size_t *out, csvreg_error *err) {
  size_t found = n;
  for (size_t j = 0; j < n; j++) {
    if (strcmp(names[j], name) != 0)
      continue;
    if (found < n)
      return csvreg__err_set(
          err, CSVREG_E_COLUMN,
          "model %s column '%s' is ambiguous: columns %zu and %zu share the name", role, name,
          found + 1, j + 1);
    found = j;
  }
  if (found == n)
    return csvreg__err_set(err, CSVREG_E_COLUMN, "no %s column named '%s' in the header", role,
                           name);
  *out = found;
  return CSVREG_OK;
}

csvreg_status csvreg_model_spec_new(csvreg_spec **out, const csvreg_model *m,
                                    const char *const *names, size_t ncolumns, unsigned flags,
                                    csvreg_error *err) {
  if (!out || !m || (!names && ncolumns))
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_spec_new: NULL argument");
  *out = NULL;
  const model_spec *ms = &m->spec;
  const int bind_target = (flags & CSVREG_MODEL_BIND_TARGET) != 0;
  /* Inputs in the model's order, which puts the terms' inputs first, then
   * the target and the weights: without the target, only the first ones. */
  size_t ninputs = bind_target ? ms->ninputs : ms->target;
  csvreg_spec *s = calloc(1, sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  s->ncolumns = ncolumns;
  s->intercept = csvreg__accum_intercept(m->accum);
  s->skip_bad = (flags & CSVREG_MODEL_BIND_SKIP_BAD) != 0;
  s->nterms = ms->nterms;
  s->target_input = bind_target ? (ptrdiff_t)ms->target : -1;
  s->weights_input = bind_target ? ms->weights : -1;
  s->input_cols = malloc((ninputs ? ninputs : 1) * sizeof *s->input_cols);
  s->input_names = calloc(ninputs ? ninputs : 1, sizeof *s->input_names);
  s->term_input = malloc((ms->nterms ? ms->nterms : 1) * sizeof *s->term_input);
  csvreg_status st = CSVREG_OK;
  if (!s->input_cols || !s->input_names || !s->term_input) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto fail;
  }
  for (size_t k = 0; k < ninputs; k++) {
    const char *role = k == ms->target               ? "target"
                       : (ptrdiff_t)k == ms->weights ? "weights"
                                                     : "feature";
    if ((st = find(names, ncolumns, ms->inputs[k], role, &s->input_cols[k], err)))
      goto fail;
    if (!(s->input_names[k] = csvreg__xstrdup(ms->inputs[k]))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto fail;
    }
    s->ninputs = k + 1;
  }
  memcpy(s->term_input, ms->term_input, ms->nterms * sizeof *s->term_input);
  if ((st = csvreg_na_new(&s->na, m->na, err)))
    goto fail;
  *out = s;
  return CSVREG_OK;
fail:
  csvreg_spec_free(s);
  return st;
}
