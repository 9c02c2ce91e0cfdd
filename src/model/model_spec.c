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
#include "formula.h"
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

/* A formula model's spec bound to a new header: the spec rebuilt from the
 * training columns (csvreg__model_formula_spec), its inputs then found in
 * `names` by name. Without the target, the inputs only the response reads
 * and the weights are left out (the rest move up), and the response is not
 * computed (design.c). */
static csvreg_status formula_spec_new(csvreg_spec **out, const csvreg_model *m,
                                      const char *const *names, size_t ncolumns, unsigned flags,
                                      csvreg_error *err) {
  const int bind_target = (flags & CSVREG_MODEL_BIND_TARGET) != 0;
  csvreg_spec *s = NULL;
  csvreg_status st =
      csvreg__model_formula_spec(m, (flags & CSVREG_MODEL_BIND_SKIP_BAD) != 0,
                                 (flags & CSVREG_MODEL_BIND_OPEN_LEVELS) != 0, &s, err);
  if (st)
    return st;
  const csvreg__formula *f = s->formula;
  const size_t n = s->ninputs;
  unsigned char *need = calloc(n ? n : 1, 1);
  size_t *to = malloc((n ? n : 1) * sizeof *to);
  if (!need || !to) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < n; k++)
    need[k] = bind_target;
  const int no_weights = bind_target && (flags & CSVREG_MODEL_BIND_NO_WEIGHTS) != 0;
  if (no_weights && s->weights_input >= 0)
    need[s->weights_input] = 0;
  for (size_t v = f->has_response ? 1 : 0; v < f->nvars; v++) {
    const csvreg__fvar *fv = &f->vars[v];
    if (fv->kind == CSVREG__VAR_COLUMN || fv->kind == CSVREG__VAR_FACTOR)
      need[s->fin_input[fv->input]] = 1;
    for (size_t q = 0; fv->expr && q < fv->expr->n; q++)
      if (fv->expr->ins[q].op == CSVREG__EXPR_INPUT)
        need[s->fin_input[fv->expr->ins[q].arg]] = 1;
  }
  size_t kept = 0;
  for (size_t k = 0; k < n; k++) {
    to[k] = kept;
    if (!need[k]) {
      free(s->input_names[k]);
      continue;
    }
    const char *role = (ptrdiff_t)k == s->weights_input  ? "weights"
                       : (ptrdiff_t)k == s->target_input ? "target"
                                                         : "feature";
    int resp_only = 1;
    for (size_t v = 1; v < f->nvars && resp_only; v++)
      for (size_t q = 0; f->vars[v].expr && q < f->vars[v].expr->n; q++)
        resp_only &= !(f->vars[v].expr->ins[q].op == CSVREG__EXPR_INPUT &&
                       s->fin_input[f->vars[v].expr->ins[q].arg] == k);
    for (size_t v = 1; v < f->nvars && resp_only; v++)
      resp_only =
          !((f->vars[v].kind == CSVREG__VAR_COLUMN || f->vars[v].kind == CSVREG__VAR_FACTOR) &&
            s->fin_input[f->vars[v].input] == k);
    if (resp_only && (ptrdiff_t)k != s->weights_input)
      role = "target";
    if ((st = find(names, ncolumns, s->input_names[k], role, &s->input_cols[kept], err))) {
      for (size_t j = k; j < n; j++) /* not moved yet */
        free(s->input_names[j]);
      s->ninputs = kept;
      goto done;
    }
    s->input_names[kept] = s->input_names[k];
    if (s->input_text)
      s->input_text[kept] = s->input_text[k];
    kept++;
  }
  s->ninputs = kept;
  for (size_t k = 0; k < f->ninputs; k++)
    s->fin_input[k] = need[s->fin_input[k]] ? to[s->fin_input[k]] : 0;
  if (bind_target) {
    if (s->target_input >= 0)
      s->target_input = (ptrdiff_t)to[s->target_input];
    if (s->weights_input >= 0)
      s->weights_input = no_weights ? -1 : (ptrdiff_t)to[s->weights_input];
    s->target_optional = (flags & CSVREG_MODEL_BIND_TARGET_OPTIONAL) != 0;
  } else {
    s->target_input = -1;
    s->weights_input = -1;
    free(s->target_expr);
    s->target_expr = NULL;
  }
  /* the header is now the new input's (the frame of a state, accum_chunk.c) */
  if (s->column_names) {
    char **cn = calloc(ncolumns ? ncolumns : 1, sizeof *cn);
    for (size_t j = 0; cn && j < ncolumns; j++)
      if (!(cn[j] = csvreg__xstrdup(names[j]))) {
        for (size_t i = 0; i < j; i++)
          free(cn[i]);
        free(cn);
        cn = NULL;
      }
    if (!cn) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    for (size_t j = 0; j < s->ncolumn_names; j++)
      free(s->column_names[j]);
    free(s->column_names);
    s->column_names = cn;
    s->ncolumn_names = ncolumns;
  }
  s->ncolumns = ncolumns;
done:
  free(need);
  free(to);
  if (st) {
    csvreg_spec_free(s);
    return st;
  }
  *out = s;
  return CSVREG_OK;
}

csvreg_status csvreg_model_spec_new(csvreg_spec **out, const csvreg_model *m,
                                    const char *const *names, size_t ncolumns, unsigned flags,
                                    csvreg_error *err) {
  if (!out || !m || (!names && ncolumns))
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_spec_new: NULL argument");
  *out = NULL;
  if (m->fm)
    return formula_spec_new(out, m, names, ncolumns, flags, err);
  const model_spec *ms = &m->spec;
  const int bind_target = (flags & CSVREG_MODEL_BIND_TARGET) != 0;
  /* Inputs in the model's order, which puts the terms' inputs first, then
   * the target and the weights: without the target, only the first ones. */
  size_t ninputs = bind_target ? ms->ninputs : ms->target;
  /* the weights are last: without them, one input fewer */
  const int no_weights = bind_target && (flags & CSVREG_MODEL_BIND_NO_WEIGHTS) != 0;
  if (no_weights && ms->weights >= 0)
    ninputs = ms->target + 1;
  csvreg_spec *s = calloc(1, sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  s->ncolumns = ncolumns;
  s->intercept = csvreg__accum_intercept(m->accum);
  s->skip_bad = (flags & CSVREG_MODEL_BIND_SKIP_BAD) != 0;
  s->nterms = ms->nterms;
  s->target_input = bind_target ? (ptrdiff_t)ms->target : -1;
  s->weights_input = bind_target && !no_weights ? ms->weights : -1;
  s->target_optional = bind_target && (flags & CSVREG_MODEL_BIND_TARGET_OPTIONAL) != 0;
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
