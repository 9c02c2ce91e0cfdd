/*
 * model.c - model files: the fit kept for predict and eval, and the
 * accumulator state kept for updates, in one versioned JSON object with a
 * CRC-32 (see csvreg.h). Loading trusts nothing: format, version, checksum,
 * then the state is solved again and must agree with the stored report,
 * which catches a file whose parts were put together from different fits.
 */
#include <jansson.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "fit_impl.h"
#include "internal.h"
#include "json_mem.h"
#include "model_impl.h"
#include "formula.h"
#include "spec.h"
#include "state.h"
#include "state_scan.h"

void csvreg_model_options_init(csvreg_model_options *o) {
  memset(o, 0, sizeof *o);
  o->delimiter = ',';
  o->header = 1;
  csvreg_solve_options_init(&o->solve);
}

static void fm_free(model_formula *fm) {
  if (!fm)
    return;
  for (size_t j = 0; fm->cols && j < fm->ncols; j++)
    free(fm->cols[j]);
  for (size_t k = 0; k < fm->nfactors; k++) {
    for (size_t i = 0; fm->levels && fm->levels[k] && i < fm->nlev[k]; i++)
      free(fm->levels[k][i]);
    if (fm->levels)
      free(fm->levels[k]);
    if (fm->fnames)
      free(fm->fnames[k]);
  }
  free(fm->levels);
  free(fm->fnames);
  free(fm->nlev);
  free(fm->cols);
  free(fm->text_cols);
  free(fm->text);
  free(fm);
}

/* An empty formula record for ncols columns and nfactors factors. */
static model_formula *fm_alloc(size_t ncols, size_t nfactors) {
  model_formula *fm = calloc(1, sizeof *fm);
  if (!fm)
    return NULL;
  fm->ncols = ncols;
  fm->nfactors = nfactors;
  fm->cols = calloc(ncols ? ncols : 1, sizeof *fm->cols);
  fm->text_cols = calloc(ncols ? ncols : 1, 1);
  fm->fnames = calloc(nfactors ? nfactors : 1, sizeof *fm->fnames);
  fm->nlev = calloc(nfactors ? nfactors : 1, sizeof *fm->nlev);
  fm->levels = calloc(nfactors ? nfactors : 1, sizeof *fm->levels);
  if (!fm->cols || !fm->text_cols || !fm->fnames || !fm->nlev || !fm->levels) {
    fm_free(fm);
    return NULL;
  }
  return fm;
}

static csvreg_status nomem(csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
}

/* The formula record of a fit's spec: its input columns in the training
 * header's order, a column's text flag set when a bare use of it is
 * categorical (that is all the flag decides), and the final levels. */
static csvreg_status fm_from_spec(const csvreg_spec *s, const csvreg_accum *a, model_formula **out,
                                  csvreg_error *err) {
  *out = NULL;
  const csvreg__formula *f = s->formula;
  model_formula *fm = fm_alloc(s->ninputs, s->nfactors);
  size_t *order = malloc((s->ninputs ? s->ninputs : 1) * sizeof *order);
  if (!fm || !order || !(fm->text = csvreg__xstrdup(f->text))) {
    free(order);
    fm_free(fm);
    return nomem(err);
  }
  fm->intercept = s->intercept;
  /* The columns in the order of the state's frame (the first training
   * header) when it has one: an --update's input may order its columns
   * otherwise, and `.` must expand as it did. */
  size_t *key = malloc((s->ninputs ? s->ninputs : 1) * sizeof *key);
  if (!key) {
    free(order);
    fm_free(fm);
    return nomem(err);
  }
  accum_frame fr;
  const int framed = csvreg__accum_frame_get(a, &fr);
  for (size_t k = 0; k < s->ninputs; k++) {
    key[k] = s->input_cols[k];
    for (size_t j = 0; framed && j < fr.ncolumns; j++)
      if (strcmp(fr.columns[j], s->input_names[k]) == 0) {
        key[k] = j;
        break;
      }
  }
  size_t n = 0;
  for (size_t k = 0; k < s->ninputs; k++) {
    size_t i = n++;
    while (i > 0 && key[order[i - 1]] > key[k]) {
      order[i] = order[i - 1];
      i--;
    }
    order[i] = k;
  }
  free(key);
  csvreg_status st = CSVREG_OK;
  for (size_t j = 0; !st && j < s->ninputs; j++) {
    size_t k = order[j];
    if (!(fm->cols[j] = csvreg__xstrdup(s->input_names[k])))
      st = nomem(err);
    for (size_t v = 0; v < f->nvars; v++)
      if (f->vars[v].kind == CSVREG__VAR_COLUMN && s->var_factor[v] != (size_t)-1 &&
          s->fin_input[f->vars[v].input] == k)
        fm->text_cols[j] = 1;
  }
  for (size_t k = 0; !st && k < s->nfactors; k++) {
    size_t nl;
    const char *const *seen =
        s->fixed ? (const char *const *)s->fixed_levels[k] : csvreg__accum_levels(a, k, &nl);
    if (s->fixed)
      nl = s->fixed_nlev[k];
    const char **o = malloc((nl ? nl : 1) * sizeof *o);
    if (!o || !(fm->fnames[k] = csvreg__xstrdup(f->vars[s->factor_var[k]].name)) ||
        !(fm->levels[k] = calloc(nl ? nl : 1, sizeof **fm->levels))) {
      free(o);
      st = nomem(err);
      break;
    }
    if (nl)
      memcpy(o, seen, nl * sizeof *o);
    if (!s->fixed)
      st = csvreg__spec_order_levels(s, k, o, nl, err);
    for (size_t i = 0; !st && i < nl; i++) {
      if (!(fm->levels[k][i] = csvreg__xstrdup(o[i])))
        st = nomem(err);
      fm->nlev[k] = i + 1;
    }
    free(o);
  }
  free(order);
  if (st) {
    fm_free(fm);
    return st;
  }
  *out = fm;
  return CSVREG_OK;
}

csvreg_status csvreg__model_formula_spec(const csvreg_model *m, int skip_bad, int open,
                                         csvreg_spec **out, csvreg_error *err) {
  const model_formula *fm = m->fm;
  *out = NULL;
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.weights = m->weights;
  so.na = m->na;
  so.intercept = fm->intercept;
  so.skip_bad = skip_bad;
  csvreg_spec *s = NULL;
  csvreg_status st = csvreg__spec_new_formula_text(&s, (const char *const *)fm->cols, fm->ncols,
                                                   fm->text_cols, fm->text, &so, NULL, err);
  if (!st && !s->formula)
    st = csvreg__err_set(err, CSVREG_E_FORMAT, "the formula has no computed term");
  if (!st && s->nfactors != fm->nfactors)
    st = csvreg__err_set(err, CSVREG_E_FORMAT,
                         "the formula has %zu categorical variables, \"factors\" %zu", s->nfactors,
                         fm->nfactors);
  /* the stored factors by name (a JSON object's order is not the slots') */
  const size_t nf = s ? s->nfactors : 0;
  size_t *nlev = calloc(nf ? nf : 1, sizeof *nlev);
  const char *const **levs = calloc(nf ? nf : 1, sizeof *levs);
  if (!st && (!nlev || !levs))
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t k = 0; !st && k < nf; k++) {
    const char *name = s->formula->vars[s->factor_var[k]].name;
    size_t j = 0;
    while (j < fm->nfactors && strcmp(fm->fnames[j], name) != 0)
      j++;
    if (j == fm->nfactors) {
      st = csvreg__err_set(err, CSVREG_E_FORMAT,
                           "the formula's categorical variable %s has no "
                           "levels in \"factors\"",
                           name);
      break;
    }
    nlev[k] = fm->nlev[j];
    levs[k] = (const char *const *)fm->levels[j];
  }
  if (!st && nf && !open)
    st = csvreg__spec_fix_levels(s, nlev, (const char *const *const *)levs, err);
  free(nlev);
  free((void *)levs);
  if (st) {
    csvreg_spec_free(s);
    return st;
  }
  *out = s;
  return CSVREG_OK;
}

/* A formula model's parts must agree: the formula rebuilds a spec whose
 * factors are the stored ones, each list of levels has no repeat and is in
 * R's order (baseline first), and the columns of those levels are the
 * state's terms, name by name. Any disagreement is a bad model file. */
static csvreg_status fm_check(const csvreg_model *m, csvreg_error *err) {
  const csvreg_accum *a = m->accum;
  csvreg_spec *s = NULL;
  csvreg_status st = csvreg__model_formula_spec(m, 0, 0, &s, err);
  if (st == CSVREG_E_NOMEM)
    return st;
  if (st) {
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", err ? err->message : "the formula does not rebuild");
    return csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg model: \"spec\": %s", why);
  }
  for (size_t k = 0; !st && k < s->nfactors; k++) {
    const size_t n = s->fixed_nlev[k];
    const char *fname = s->formula->vars[s->factor_var[k]].name;
    const char **o = malloc((n ? n : 1) * sizeof *o);
    if (!o) {
      st = nomem(err);
      break;
    }
    if (n)
      memcpy(o, s->fixed_levels[k], n * sizeof *o);
    for (size_t i = 0; !st && i < n; i++)
      for (size_t j = i + 1; !st && j < n; j++)
        if (strcmp(o[i], o[j]) == 0)
          st = csvreg__err_set(err, CSVREG_E_FORMAT,
                               "not a valid csvreg model: level \"%s\" of %s is listed twice", o[i],
                               fname);
    if (!st && csvreg__spec_order_levels(s, k, o, n, NULL) != CSVREG_OK)
      st = csvreg__err_set(err, CSVREG_E_FORMAT,
                           "not a valid csvreg model: the levels of %s do not hold its baseline",
                           fname);
    for (size_t i = 0; !st && i < n; i++)
      if (o[i] != s->fixed_levels[k][i])
        st = csvreg__err_set(
            err, CSVREG_E_FORMAT,
            "not a valid csvreg model: the levels of %s are not in R's order (baseline \"%s\" "
            "first)",
            fname, o[0]);
    free(o);
  }
  if (!st && (s->nterms != csvreg__accum_nterms(a) || s->intercept != csvreg__accum_intercept(a)))
    st = csvreg__err_set(err, CSVREG_E_FORMAT,
                         "not a valid csvreg model: the formula and levels give %zu terms, the "
                         "state has %zu",
                         s->nterms, csvreg__accum_nterms(a));
  for (size_t t = 0; !st && t < s->nterms; t++)
    if (strcmp(csvreg_spec_term_name(s, t), csvreg__accum_term_name(a, t)) != 0)
      st = csvreg__err_set(err, CSVREG_E_FORMAT,
                           "not a valid csvreg model: the formula and levels give term '%s' where "
                           "the state has '%s'",
                           csvreg_spec_term_name(s, t), csvreg__accum_term_name(a, t));
  csvreg_spec_free(s);
  return st;
}

void csvreg_model_free(csvreg_model *m) {
  if (!m)
    return;
  fm_free(m->fm);
  csvreg_accum_free(m->accum);
  csvreg_accum_free(m->pre);
  csvreg_fit_free(m->fit);
  free(m->weights);
  free(m->na);
  free(m->kept);
  free(m->u);
  free(m->spec.inputs);
  free(m->spec.term_input);
  json_decref(m->folded);
  free(m->rcov);
  free(m);
}

/* The spec of today's models: each term reads the input of its own name,
 * then the target, then the weights (the order csvreg_spec_new gives). */
static csvreg_status spec_derive(csvreg_model *m, csvreg_error *err) {
  const csvreg_accum *a = m->accum;
  model_spec *sp = &m->spec;
  /* A formula's terms and response may be computed from the inputs (log(x),
   * a:b): such a model must store its formula (version 3, from the fit's
   * spec). An accumulator alone (a state given to solve) does not keep it:
   * refuse rather than write a spec that names no column. */
  const size_t ni = csvreg__accum_ninputs(a);
  for (size_t j = 0; ni && j <= csvreg__accum_nterms(a); j++) {
    const char *name =
        j < csvreg__accum_nterms(a) ? csvreg__accum_term_name(a, j) : csvreg__accum_target_name(a);
    size_t k = 0;
    while (k < ni && strcmp(csvreg__accum_input_name(a, k), name) != 0)
      k++;
    if (k == ni)
      return csvreg__err_set(err, CSVREG_E_USAGE,
                             "'%s' is computed from the input columns: a state does not keep its "
                             "formula, so a model made from it could not rebuild the term (fit -o "
                             "with the formula saves a formula's model)",
                             name);
  }
  sp->nterms = csvreg__accum_nterms(a);
  sp->ninputs = csvreg__accum_nterms(a) + 1 + (m->weights != NULL);
  sp->inputs = malloc(sp->ninputs * sizeof *sp->inputs);
  sp->term_input =
      malloc((csvreg__accum_nterms(a) ? csvreg__accum_nterms(a) : 1) * sizeof *sp->term_input);
  if (!sp->inputs || !sp->term_input)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < csvreg__accum_nterms(a); j++) {
    sp->inputs[j] = csvreg__accum_term_name(a, j);
    sp->term_input[j] = j;
  }
  sp->target = csvreg__accum_nterms(a);
  sp->inputs[csvreg__accum_nterms(a)] = csvreg__accum_target_name(a);
  sp->weights = -1;
  if (m->weights) {
    sp->weights = (ptrdiff_t)csvreg__accum_nterms(a) + 1;
    sp->inputs[csvreg__accum_nterms(a) + 1] = m->weights;
  }
  return CSVREG_OK;
}

/* model_make's flag beside csvreg_model_read_fd_with's: the fit takes a's
 * numbers (csvreg_accum_solve_release) */
#define MODEL_MAKE_RELEASE 0x100u

/* Takes ownership of `a`, `fm` (a formula model's record, or NULL) and
 * `fit` (NULL: solves a; otherwise a's fit, and the model is for saving:
 * no prediction factor, see csvreg_model_new_from_fit); copies the option
 * strings. */
static csvreg_status model_make(csvreg_model **out, csvreg_accum *a, model_formula *fm,
                                const csvreg_model_options *o, csvreg_fit *fit, unsigned flags,
                                csvreg_error *err) {
  *out = NULL;
  csvreg_model *m = calloc(1, sizeof *m);
  if (!m) {
    csvreg_accum_free(a);
    fm_free(fm);
    csvreg_fit_free(fit);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  m->accum = a;
  m->fit = fit;
  m->for_saving = fit != NULL;
  m->predict_only = (flags & CSVREG_MODEL_READ_PREDICT) != 0;
  m->no_factor = (flags & (CSVREG_MODEL_READ_PREDICT | CSVREG_MODEL_READ_UPDATE)) != 0;
  const int release = m->predict_only || (flags & MODEL_MAKE_RELEASE);
  m->fm = fm;
  m->opt = *o;
  m->opt.spec = NULL;
  if ((o->weights && !(m->weights = csvreg__xstrdup(o->weights))) ||
      (o->na && !(m->na = csvreg__xstrdup(o->na)))) {
    csvreg_model_free(m);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  m->opt.weights = m->weights;
  m->opt.na = m->na;
  csvreg_status st = fm ? fm_check(m, err) : spec_derive(m, err);
  /* read for predictions only, or for --update with a pre-select state
   * beside: the fit takes the (finished) state's array for its covariance
   * (nothing else reads its numbers then) */
  if (!st && !m->fit)
    st = release ? csvreg_accum_solve_release(a, &o->solve, &m->fit, err)
                         : csvreg_accum_solve(a, &o->solve, &m->fit, err);
  if (!st && fm)
    st = csvreg__fit_set_formula(m->fit, fm->text, fm->nfactors, (const char *const *)fm->fnames,
                                 fm->nlev, (const char *const *const *)fm->levels, err);
  if (!st && !m->for_saving && !m->no_factor)
    st = csvreg__model_prepare_factor(m, err);
  if (st) {
    csvreg_model_free(m);
    return st;
  }
  *out = m;
  return CSVREG_OK;
}

/* The formula a model keeps (*fm NULL for a model of plain columns): the
 * caller's spec, or else the state's own frame (solve -o of shards' merged
 * states), whose formula rebuilds the spec, so the model keeps the formula
 * and levels as fit -o's does. */
static csvreg_status model_formula_of(const csvreg_model_options *o, const csvreg_accum *a,
                                      model_formula **fm, csvreg_error *err) {
  if (o->spec)
    return o->spec->formula ? fm_from_spec(o->spec, a, fm, err) : CSVREG_OK;
  csvreg_spec *own = NULL;
  csvreg_status st = csvreg__state_frame_spec(a, &own, err);
  if (st == CSVREG_OK && own && own->formula)
    st = fm_from_spec(own, a, fm, err);
  csvreg_spec_free(own);
  return st;
}

csvreg_status csvreg_model_new(csvreg_model **out, const csvreg_accum *a,
                               const csvreg_model_options *o, csvreg_error *err) {
  if (!out || !a || !o)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_new: NULL argument");
  *out = NULL;
  model_formula *fm = NULL;
  csvreg_accum *copy = NULL, *pre = NULL;
  csvreg_status st = csvreg_accum_copy(a, &copy, err);
  accum_frame fr;
  if (!st && csvreg__accum_frame_get(a, &fr) && !fr.selected) {
    /* a pre-select state: kept as it is (--update folds new levels into
     * it), the model's terms are it finished */
    pre = copy;
    if (!(st = csvreg_accum_copy(pre, &copy, err)))
      st = csvreg_accum_finish(copy, err);
  }
  if (!st)
    st = model_formula_of(o, copy, &fm, err);
  if (st) {
    csvreg_accum_free(copy);
    csvreg_accum_free(pre);
    return st;
  }
  st = model_make(out, copy, fm, o, NULL, 0, err);
  if (st)
    csvreg_accum_free(pre);
  else
    (*out)->pre = pre;
  return st;
}

/* csvreg_model_new without the copies and the second solve: the model takes
 * the caller's state, its finished copy and the fit of it (issue 12: a wide
 * fit's -o held two more states, a second fit and the prediction factor). */
csvreg_status csvreg_model_new_from_fit(csvreg_model **out, csvreg_accum *state,
                                        csvreg_accum *fitted, csvreg_fit *fit,
                                        const csvreg_model_options *o, csvreg_error *err) {
  if (out)
    *out = NULL;
  csvreg_status st = CSVREG_OK;
  accum_frame fr;
  const int open = state && csvreg__accum_frame_get(state, &fr) && !fr.selected;
  /* a state of fixed columns is its own finished copy: the model keeps it
   * alone, as csvreg_model_new does */
  csvreg_accum *pre = open ? state : NULL, *a = open ? fitted : state;
  if (!out || !state || !fit || !o || fitted == state)
    st = csvreg__err_set(err, CSVREG_E_USAGE, "model_new_from_fit: NULL or repeated argument");
  else if (open && !fitted)
    st = csvreg__err_set(err, CSVREG_E_USAGE,
                         "model_new_from_fit: the state keeps every level's column: give its "
                         "finished copy as `fitted`");
  else if (csvreg__accum_check_live(state, err))
    st = CSVREG_E_USAGE; /* the state saved must hold its numbers */
  else if ((st = csvreg__state_check_names(state, err)))
    ; /* as csvreg_model_new's copy: names a file cannot hold, before any file */
  else if (fitted && csvreg_accum_solver(fitted) != csvreg_accum_solver(state))
    st = csvreg__err_set(err, CSVREG_E_USAGE,
                         "model_new_from_fit: `fitted` is not the state's finished copy");
  else if (fit->s.intercept != csvreg__accum_intercept(a) ||
           fit->s.nterms != csvreg__accum_nterms(a) + (size_t)fit->s.intercept ||
           fit->s.solver != csvreg_accum_solver(a))
    st = csvreg__err_set(err, CSVREG_E_USAGE,
                         "model_new_from_fit: the fit is not the solve of the accumulator");
  const size_t ic = !st && fit->s.intercept ? 1 : 0;
  for (size_t j = 0; !st && j < csvreg__accum_nterms(a); j++)
    if (strcmp(fit->terms[ic + j].name, csvreg__accum_term_name(a, j)) != 0)
      st = csvreg__err_set(err, CSVREG_E_USAGE,
                           "model_new_from_fit: the fit's term '%s' is the accumulator's '%s'",
                           fit->terms[ic + j].name, csvreg__accum_term_name(a, j));
  model_formula *fm = NULL;
  if (!st)
    st = model_formula_of(o, a, &fm, err);
  if (st) {
    if (state != fitted)
      csvreg_accum_free(state);
    csvreg_accum_free(fitted);
    csvreg_fit_free(fit);
    fm_free(fm);
    return st;
  }
  if (!open)
    csvreg_accum_free(fitted);
  st = model_make(out, a, fm, o, fit, 0, err);
  if (st)
    csvreg_accum_free(pre);
  else
    (*out)->pre = pre;
  return st;
}

csvreg_status csvreg_model_take_state(csvreg_model *m, csvreg_accum **out, csvreg_error *err) {
  if (out)
    *out = NULL;
  if (!m || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_take_state: NULL argument");
  if (!m->pre)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "model_take_state: the model keeps no state of every level's column");
  *out = m->pre;
  m->pre = NULL;
  /* what only predictions' intervals and a second solve read (issue 12:
   * --update held them beside the state and the new rows) */
  if (csvreg__accum_check_live(m->accum, NULL) == CSVREG_OK)
    free(csvreg__accum_release_numbers(m->accum));
  free(m->u);
  free(m->kept);
  m->u = NULL;
  m->kept = NULL;
  m->for_saving = 1;
  return CSVREG_OK;
}

static json_t *delimiter_json(char d) {
  char s[2] = {d, '\0'};
  return json_string(s);
}

static json_t *json_string_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static const char *input_role(const model_spec *sp, size_t k) {
  if (k == sp->target)
    return "target";
  return (ptrdiff_t)k == sp->weights ? "weights" : "feature";
}

/* "spec": what the model reads (model_spec). */
static json_t *spec_json(const csvreg_model *m) {
  const model_spec *sp = &m->spec;
  json_t *inputs = json_array(), *terms = json_array();
  int bad = !inputs || !terms;
  for (size_t k = 0; !bad && k < sp->ninputs; k++)
    bad = json_array_append_new(
        inputs, json_pack("{s:s, s:s}", "name", sp->inputs[k], "role", input_role(sp, k)));
  for (size_t t = 0; !bad && t < sp->nterms; t++)
    bad = json_array_append_new(terms, json_pack("{s:s, s:[s]}", "name",
                                                 csvreg__accum_term_name(m->accum, t), "inputs",
                                                 sp->inputs[sp->term_input[t]]));
  if (bad) {
    json_decref(inputs);
    json_decref(terms);
    return NULL;
  }
  return json_pack("{s:o, s:s, s:o, s:b, s:o}", "inputs", inputs, "target", sp->inputs[sp->target],
                   "weights", json_string_or_null(m->weights), "intercept",
                   csvreg__accum_intercept(m->accum), "terms", terms);
}

/* "spec" of version 3: the formula and what rebuilds it (model_formula). */
static json_t *spec_json_v3(const csvreg_model *m) {
  const model_formula *fm = m->fm;
  json_t *cols = json_array(), *factors = json_object(), *terms = json_array();
  int bad = !cols || !factors || !terms;
  for (size_t j = 0; !bad && j < fm->ncols; j++)
    bad = json_array_append_new(
        cols, json_pack("{s:s, s:b}", "name", fm->cols[j], "text", fm->text_cols[j]));
  for (size_t k = 0; !bad && k < fm->nfactors; k++) {
    json_t *l = json_array();
    bad = !l;
    for (size_t i = 0; !bad && i < fm->nlev[k]; i++)
      bad = json_array_append_new(l, json_string(fm->levels[k][i]));
    bad = bad || json_object_set_new(factors, fm->fnames[k], l);
  }
  for (size_t t = 0; !bad && t < csvreg__accum_nterms(m->accum); t++)
    bad = json_array_append_new(terms, json_string(csvreg__accum_term_name(m->accum, t)));
  if (bad) {
    json_decref(cols);
    json_decref(factors);
    json_decref(terms);
    return NULL;
  }
  return json_pack("{s:s, s:o, s:s, s:o, s:b, s:o, s:o}", "formula", fm->text, "columns", cols,
                   "target", csvreg__accum_target_name(m->accum), "weights",
                   json_string_or_null(m->weights), "intercept", fm->intercept, "factors", factors,
                   "terms", terms);
}

/* "reader": how the training input was read, which predict and eval follow. */
static json_t *reader_json(const csvreg_model *m) {
  return json_pack("{s:o, s:b, s:o}", "delimiter", delimiter_json(m->opt.delimiter), "header",
                   m->opt.header, "na", json_string_or_null(m->na));
}

/* "options": the fit's own settings. */
static json_t *options_json(const csvreg_model *m) {
  return json_pack("{s:s, s:f, s:f}", "solver", csvreg__accum_solver_name(m->accum), "tol",
                   m->opt.solve.tol, "level", m->opt.solve.level);
}

/* The model file into `sink`: the tree of the small members with the big
 * arrays (the fit's covariance, the state's kernel numbers) as stand-ins
 * written from the numbers (json_write.c); the checksum first, over the
 * canonical text streamed into a CRC-32, then the pretty text. Nothing goes
 * to the sink before the checksum is made. The bytes are what json_dumps of
 * the whole tree wrote before. */
static csvreg_status model_write(const csvreg_model *m, csvreg__jsink *sink, csvreg_error *err) {
  /* a model whose state was taken (csvreg_model_take_state) has none to save */
  csvreg_status st = csvreg__accum_check_live(m->pre ? m->pre : m->accum, err);
  if (st)
    return st;
  st = csvreg__state_check_names(m->accum, err);
  if (st)
    return st;
  csvreg__jbig bigs[KERNEL_MAX_FIELDS + 1];
  size_t nstate = 0;
  memset(&bigs[0], 0, sizeof bigs[0]);
  json_t *fit = csvreg__fit_model_json(m->fit, &bigs[0]);
  json_t *state = csvreg__state_to_json_big(m->pre ? m->pre : m->accum, bigs + 1, &nstate);
  size_t nbigs = 1 + nstate;
  /* Version 2 stays the format of a model of input columns, byte for byte
   * as before (older csvreg reads it); a formula needs version 3. */
  json_t *o = json_pack("{s:s, s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "format", CSVREG_MODEL_FORMAT,
                        "version", m->fm ? 3 : 2, "tool", "csvreg " CSVREG_VERSION, "spec",
                        m->fm ? spec_json_v3(m) : spec_json(m), "reader", reader_json(m), "options",
                        options_json(m), "fit", fit, "state", state);
  char sum[32];
  if (!o)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  /* only a model fit -o or --update wrote has "folded" (not solve -o's) */
  if (m->folded && json_array_size(m->folded) && json_object_set(o, "folded", m->folded)) {
    json_decref(o);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  }
  /* only a model of a --vcov fit has "robust" (model_vcov.c) */
  if (m->rcov && json_object_set_new(o, "robust", csvreg__model_vcov_json(m))) {
    json_decref(o);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  }
  /* only a model of a --refine fit has "refined" (model_refined.c) */
  if (m->fit->refined && json_object_set_new(o, "refined", csvreg__model_refined_json(m))) {
    json_decref(o);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  }
  if (!(st = csvreg__state_checksum_big(o, bigs, nbigs, sum, err))) {
    int failed = json_object_set_new(o, "checksum", json_string(sum));
    if (!failed) {
      failed = csvreg__jwrite(sink, o, 1, bigs, nbigs);
      if (!failed) {
        csvreg__jsink_put(sink, "\n", 1);
        failed = csvreg__jsink_flush(sink);
      }
    }
    if (failed == 2)
      st = csvreg__err_set(err, CSVREG_E_IO, "error writing the model: %s", strerror(sink->err_no));
    else if (failed)
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  }
  json_decref(o);
  return st;
}

static csvreg_status bad(csvreg_error *err, const char *what) {
  return csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg model: %s", what);
}

/* Two doubles that should be the same computation: the stored report was
 * written from the same state, so they agree to the last bits on one machine;
 * the slack allows another BLAS. */
static int close_enough(double a, double b) {
  if (isnan(a) || isnan(b))
    return isnan(a) && isnan(b);
  return fabs(a - b) <= 1e-8 * fmax(fabs(a), fabs(b)) + 1e-300;
}

/* The stored report must describe the state's fit. */
static csvreg_status check_fit(const csvreg_model *m, const json_t *fit, csvreg_error *err) {
  const csvreg_fit *f = m->fit;
  json_t *terms = json_object_get(fit, "terms");
  json_t *n = json_object_get(fit, "n");
  if (!json_is_array(terms) || json_array_size(terms) != f->s.nterms || !json_is_integer(n) ||
      (uint64_t)json_integer_value(n) != f->s.counts.used)
    return bad(err, "the fit report does not match the state (terms or n)");
  for (size_t j = 0; j < f->s.nterms; j++) {
    json_t *t = json_array_get(terms, j);
    const char *name = json_string_value(json_object_get(t, "name"));
    json_t *est = json_object_get(t, "estimate");
    double e = json_is_number(est) ? json_number_value(est) : NAN;
    if (!name || strcmp(name, f->terms[j].name) != 0 ||
        json_is_true(json_object_get(t, "aliased")) != f->terms[j].aliased ||
        (!f->terms[j].aliased && !close_enough(e, f->terms[j].estimate)))
      return csvreg__err_set(
          err, CSVREG_E_FORMAT,
          "not a valid csvreg model: the report's coefficient of '%s' does not match "
          "the state's fit",
          f->terms[j].name);
  }
  return CSVREG_OK;
}

static csvreg_status check_solver(const csvreg_model *m, const json_t *opts, csvreg_error *err) {
  const char *solver = json_string_value(json_object_get(opts, "solver"));
  if (!solver || strcmp(solver, csvreg__accum_solver_name(m->accum)) != 0)
    return bad(err, "\"options\" solver does not match the state");
  return CSVREG_OK;
}

/* Version 1: "options" names the target and the features (the terms). */
static csvreg_status check_options_v1(const csvreg_model *m, const json_t *opts,
                                      csvreg_error *err) {
  const csvreg_accum *a = m->accum;
  const char *target = json_string_value(json_object_get(opts, "target"));
  json_t *feats = json_object_get(opts, "features");
  if (!target || strcmp(target, csvreg__accum_target_name(a)) != 0 || !json_is_array(feats) ||
      json_array_size(feats) != csvreg__accum_nterms(a))
    return bad(err, "\"options\" target or features do not match the state");
  for (size_t j = 0; j < csvreg__accum_nterms(a); j++) {
    const char *s = json_string_value(json_array_get(feats, j));
    if (!s || strcmp(s, csvreg__accum_term_name(a, j)) != 0)
      return bad(err, "\"options\" features do not match the state");
  }
  if (json_is_true(json_object_get(opts, "intercept")) != csvreg__accum_intercept(a))
    return bad(err, "\"options\" intercept does not match the state");
  return check_solver(m, opts, err);
}

/* Version 2: "spec" must be the spec of the state's terms (model_spec),
 * input by input and term by term. A term that reads other inputs than the
 * one of its name is a later version's model. */
static csvreg_status check_spec_v2(const csvreg_model *m, const json_t *spec, const json_t *opts,
                                   csvreg_error *err) {
  const model_spec *sp = &m->spec;
  const csvreg_accum *a = m->accum;
  json_t *inputs = json_object_get(spec, "inputs"), *terms = json_object_get(spec, "terms");
  const char *target = json_string_value(json_object_get(spec, "target"));
  if (!json_is_object(spec) || !json_is_array(inputs) || !json_is_array(terms) ||
      !json_is_boolean(json_object_get(spec, "intercept")))
    return bad(err, "\"spec\" needs inputs, target, weights, intercept and terms");
  if (!target || strcmp(target, csvreg__accum_target_name(a)) != 0)
    return bad(err, "\"spec\" target does not match the state");
  if (json_is_true(json_object_get(spec, "intercept")) != csvreg__accum_intercept(a))
    return bad(err, "\"spec\" intercept does not match the state");
  if (json_array_size(inputs) != sp->ninputs)
    return bad(err, "\"spec\" inputs do not match the state's terms, target and weights");
  for (size_t k = 0; k < sp->ninputs; k++) {
    json_t *in = json_array_get(inputs, k);
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *role = json_string_value(json_object_get(in, "role"));
    if (!name || !role || strcmp(name, sp->inputs[k]) != 0 || strcmp(role, input_role(sp, k)) != 0)
      return bad(err, "\"spec\" inputs do not match the state's terms, target and weights");
  }
  if (json_array_size(terms) != sp->nterms)
    return bad(err, "\"spec\" terms do not match the state");
  for (size_t t = 0; t < sp->nterms; t++) {
    json_t *term = json_array_get(terms, t), *ins = json_object_get(term, "inputs");
    const char *name = json_string_value(json_object_get(term, "name"));
    if (!name || strcmp(name, csvreg__accum_term_name(a, t)) != 0 || !json_is_array(ins))
      return bad(err, "\"spec\" terms do not match the state");
    const char *in0 = json_string_value(json_array_get(ins, 0));
    if (json_array_size(ins) != 1 || !in0 || strcmp(in0, sp->inputs[sp->term_input[t]]) != 0)
      return csvreg__err_set(
          err, CSVREG_E_FORMAT,
          "model term '%s' is not one input column of its name: it needs a newer "
          "csvreg",
          name);
  }
  return check_solver(m, opts, err);
}

static csvreg_status tol_level(const json_t *opts, csvreg_model_options *o, csvreg_error *err) {
  json_t *tol = json_object_get(opts, "tol"), *lev = json_object_get(opts, "level");
  if (!json_is_number(tol) || !json_is_number(lev))
    return bad(err, "\"options\" needs tol and level");
  o->solve.tol = json_number_value(tol);
  o->solve.level = json_number_value(lev);
  if (!(o->solve.tol > 0 && o->solve.tol < 1) || !(o->solve.level > 0 && o->solve.level < 1))
    return bad(err, "\"options\" tol and level must be in (0, 1)");
  return CSVREG_OK;
}

/* The model options of a file: version 1 keeps them all under "options";
 * version 2 splits them into "spec" (weights), "reader" (delimiter, header,
 * na) and "options" (tol, level). Strings point into the JSON. */
static csvreg_status read_options(const json_t *o, int version, csvreg_model_options *mo,
                                  csvreg_error *err) {
  csvreg_model_options_init(mo);
  const json_t *opts = json_object_get(o, "options");
  const json_t *rd = version >= 2 ? json_object_get(o, "reader") : opts;
  const json_t *sp = version >= 2 ? json_object_get(o, "spec") : opts;
  if (!json_is_object(opts))
    return bad(err, "no \"options\" object");
  if (version >= 2 && (!json_is_object(rd) || !json_is_object(sp)))
    return bad(err, "no \"spec\" or \"reader\" object");
  json_t *w = json_object_get(sp, "weights"), *na = json_object_get(rd, "na");
  json_t *d = json_object_get(rd, "delimiter"), *h = json_object_get(rd, "header");
  if (!(json_is_null(w) || json_is_string(w)) || !(json_is_null(na) || json_is_string(na)) ||
      !json_is_string(d) || json_string_length(d) != 1 || !json_is_boolean(h))
    return version >= 2 ? bad(err, "\"reader\" needs delimiter, header and na, \"spec\" weights")
                        : bad(err, "\"options\" needs weights, na, delimiter, header, tol and "
                                   "level");
  /* A delimiter the CLI refuses (a quote, a line break, NUL) would make
   * every record ambiguous: the file is bad, not the CSV read with it. */
  char dc = json_string_value(d)[0];
  if (dc == '"' || dc == '\n' || dc == '\r' || dc == '\0')
    return bad(err, "the delimiter cannot be a quote, a line break or NUL");
  mo->weights = json_string_value(w);
  mo->na = json_string_value(na);
  mo->delimiter = dc;
  mo->header = json_is_true(h);
  return tol_level(opts, mo, err);
}

/* The formula record of a version 3 "spec": types only here; fm_check
 * judges whether the parts agree once the state is read. */
static csvreg_status fm_from_json(const json_t *spec, const csvreg_accum *a, model_formula **out,
                                  csvreg_error *err) {
  *out = NULL;
  const char *text = json_string_value(json_object_get(spec, "formula"));
  const char *target = json_string_value(json_object_get(spec, "target"));
  json_t *cols = json_object_get(spec, "columns"), *factors = json_object_get(spec, "factors");
  json_t *terms = json_object_get(spec, "terms"), *ic = json_object_get(spec, "intercept");
  if (!text || !target || !json_is_array(cols) || !json_is_object(factors) ||
      !json_is_array(terms) || !json_is_boolean(ic))
    return bad(err, "\"spec\" needs formula, columns, target, weights, intercept, factors and "
                    "terms");
  if (strcmp(target, csvreg__accum_target_name(a)) != 0)
    return bad(err, "\"spec\" target does not match the state");
  if (json_array_size(terms) != csvreg__accum_nterms(a))
    return bad(err, "\"spec\" terms do not match the state");
  for (size_t t = 0; t < json_array_size(terms); t++) {
    const char *name = json_string_value(json_array_get(terms, t));
    if (!name || strcmp(name, csvreg__accum_term_name(a, t)) != 0)
      return bad(err, "\"spec\" terms do not match the state");
  }
  model_formula *fm = fm_alloc(json_array_size(cols), json_object_size(factors));
  if (!fm || !(fm->text = csvreg__xstrdup(text))) {
    fm_free(fm);
    return nomem(err);
  }
  fm->intercept = json_is_true(ic);
  csvreg_status st = CSVREG_OK;
  for (size_t j = 0; !st && j < fm->ncols; j++) {
    json_t *c = json_array_get(cols, j), *t = json_object_get(c, "text");
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!name || !json_is_boolean(t))
      st = bad(err, "\"spec\" columns need a name and a text flag");
    else if (!(fm->cols[j] = csvreg__xstrdup(name)))
      st = nomem(err);
    else
      fm->text_cols[j] = json_is_true(t);
  }
  size_t k = 0;
  const char *key;
  json_t *l;
  json_object_foreach(factors, key, l) {
    if (st)
      break;
    if (!json_is_array(l)) {
      st = bad(err, "\"spec\" factors map a name to its levels");
      break;
    }
    if (!(fm->fnames[k] = csvreg__xstrdup(key)) ||
        !(fm->levels[k] =
              calloc(json_array_size(l) ? json_array_size(l) : 1, sizeof **fm->levels))) {
      st = nomem(err);
      break;
    }
    for (size_t i = 0; !st && i < json_array_size(l); i++) {
      const char *v = json_string_value(json_array_get(l, i));
      if (!v)
        st = bad(err, "\"spec\" factors: a level is not a string");
      else if (!(fm->levels[k][i] = csvreg__xstrdup(v)))
        st = nomem(err);
      else
        fm->nlev[k] = i + 1;
    }
    k++;
  }
  if (st) {
    fm_free(fm);
    return st;
  }
  *out = fm;
  return CSVREG_OK;
}

/* "folded" (absent, or fit --update's records): an array of objects with
 * a name, a size, a record count and either head and tail (a file) or a
 * digest (a stream). */
static int is_count(const json_t *v) { return json_is_integer(v) && json_integer_value(v) >= 0; }

static csvreg_status folded_check(const json_t *f, csvreg_error *err) {
  if (!f)
    return CSVREG_OK;
  size_t i;
  json_t *r;
  if (!json_is_array(f))
    return bad(err, "\"folded\" is not an array");
  json_array_foreach(f, i, r) {
    int file =
        json_is_string(json_object_get(r, "head")) && json_is_string(json_object_get(r, "tail"));
    if (!json_is_object(r) || !json_is_string(json_object_get(r, "name")) ||
        !is_count(json_object_get(r, "size")) || !is_count(json_object_get(r, "records")) ||
        !(file || json_is_string(json_object_get(r, "digest"))))
      return bad(err, "a \"folded\" record without name, size, records and digests");
  }
  return CSVREG_OK;
}

static csvreg_status model_from_tree(csvreg_model **out, json_t *o, csvreg__jscan *scan,
                                     unsigned flags, csvreg_error *err);

/* `owned`: the caller's copy of `text` (or NULL), freed as soon as the JSON
 * is read (the numbers and the tree of the rest), before the state is built
 * and solved: predict's peak was the text (30 T^2 bytes) plus all of that. */
static csvreg_status model_load(csvreg_model **out, const char *text, size_t len, char *owned,
                                unsigned flags, csvreg_error *err) {
  json_error_t je;
  json_t *o = NULL;
  /* The big arrays (the fit's covariance, the state's numbers) are read
   * without a tree (state_scan.c); text that path does not take, or that
   * jansson refuses, is parsed whole, for the same errors. */
  csvreg__jscan scan;
  int fast = text ? csvreg__jscan_text(text, len, 1, &scan) : 0;
  if (fast < 0) {
    free(owned);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  if (!fast)
    memset(&scan, 0, sizeof scan);
  if (fast)
    o = csvreg__jscan_tree(&scan);
  if (!o)
    o = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &je);
  free(owned);
  text = NULL;
  if (!o && len == 0)
    return csvreg__err_set(err, CSVREG_E_FORMAT, "not a csvreg model: the file is empty");
  if (!o && je.position >= (int)len)
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "not a csvreg model: the JSON ends early at line %d (truncated?)",
                           je.line);
  if (!o)
    return csvreg__err_set(err, CSVREG_E_FORMAT,
                           "not a csvreg model: invalid JSON at line %d, column %d: %s", je.line,
                           je.column, je.text);
  return model_from_tree(out, o, &scan, flags, err);
}

/* The model of a parsed file: `o` (its big arrays described in `scan`, if
 * any) checked and built; both are freed here. */
static csvreg_status model_from_tree(csvreg_model **out, json_t *o, csvreg__jscan *scan,
                                     unsigned flags, csvreg_error *err) {
  csvreg_status st = CSVREG_OK;
  csvreg_accum *a = NULL;
  const char *format = json_string_value(json_object_get(o, "format"));
  json_t *ver = json_object_get(o, "version");
  const char *have = json_string_value(json_object_get(o, "checksum"));
  char want[32];
  csvreg_model_options mo;
  if (!json_is_object(o) || !format) {
    st = bad(err, "a JSON value without \"format\": \"" CSVREG_MODEL_FORMAT "\"");
  } else if (strcmp(format, "csvreg-state") == 0) {
    st = csvreg__err_set(err, CSVREG_E_FORMAT,
                         "this is a csvreg state file, not a model: fit a model with 'fit -o'");
  } else if (strcmp(format, CSVREG_MODEL_FORMAT) != 0) {
    st = csvreg__err_set(err, CSVREG_E_FORMAT,
                         "not a csvreg model: format is \"%s\", expected \"%s\"", format,
                         CSVREG_MODEL_FORMAT);
  } else if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
    st = bad(err, "no valid \"version\"");
  } else if (json_integer_value(ver) > CSVREG_MODEL_VERSION) {
    st = csvreg__err_set(
        err, CSVREG_E_FORMAT,
        "model format version %lld is newer than this csvreg reads (%d): upgrade csvreg",
        (long long)json_integer_value(ver), CSVREG_MODEL_VERSION);
  } else if (!have) {
    st = bad(err, "no \"checksum\" member");
  } else if (!(st = csvreg__state_checksum_big(o, scan->big, scan->nbig, want, err)) &&
             strcmp(have, want) != 0) {
    st = csvreg__err_set(
        err, CSVREG_E_FORMAT,
        "model checksum mismatch (%s, computed %s): the file was edited or damaged", have, want);
  } else if (!st && !(st = read_options(o, (int)json_integer_value(ver), &mo, err)) &&
             !(st = csvreg__state_from_json_big(json_object_get(o, "state"), scan->big, scan->nbig,
                                                &a, err))) {
    csvreg__jscan_drop_numbers(scan); /* in the state now: not held while it is solved */
    csvreg_model *m = NULL;
    json_t *opts = json_object_get(o, "options");
    const json_int_t v = json_integer_value(ver);
    model_formula *fm = NULL;
    csvreg_accum *pre = NULL;
    accum_frame fr;
    if (v >= 3 && csvreg__accum_frame_get(a, &fr) && !fr.selected &&
        (flags & CSVREG_MODEL_READ_PREDICT)) {
      /* read for predictions only: no --update, so no pre-select state
       * kept; the state is finished in place (issue 12: one q x q array
       * fewer) */
      if ((st = csvreg_accum_finish(a, err)) && st != CSVREG_E_NOMEM) {
        st = CSVREG_E_FORMAT;
        if (err)
          err->status = st;
      }
    } else if (v >= 3 && csvreg__accum_frame_get(a, &fr) && !fr.selected) {
      /* a pre-select state: the model's terms are a finished copy, which
       * fm_check below holds to the stored levels and terms */
      pre = a;
      a = NULL;
      if (!(st = csvreg_accum_copy(pre, &a, err)) && (st = csvreg_accum_finish(a, err)) &&
          st != CSVREG_E_NOMEM) {
        st = CSVREG_E_FORMAT;
        if (err)
          err->status = st;
      }
    }
    if (st) {
      csvreg_accum_free(a);
      csvreg_accum_free(pre);
    } else if (v >= 3 && (st = fm_from_json(json_object_get(o, "spec"), a, &fm, err))) {
      csvreg_accum_free(a);
      csvreg_accum_free(pre);
    } else if ((st = folded_check(json_object_get(o, "folded"), err))) {
      csvreg_accum_free(a);
      csvreg_accum_free(pre);
      fm_free(fm);
    } else if (!(st = model_make(&m, a, fm, &mo, NULL,
                                 flags | (pre && (flags & CSVREG_MODEL_READ_UPDATE)
                                              ? MODEL_MAKE_RELEASE
                                              : 0u),
                                 err))) {
      m->pre = pre;
      m->folded = json_incref(json_object_get(o, "folded"));
      /* model_make copies the option strings, which live in `o` until here. */
      /* a refined model's report is of its refined fit (model_refined.c) */
      if ((st = csvreg__model_refined_from_json(m, json_object_get(o, "refined"), err)) ||
          (st = check_fit(m, json_object_get(o, "fit"), err)) ||
          (st = csvreg__model_vcov_from_json(m, json_object_get(o, "robust"), err)) ||
          (st = v >= 3   ? check_solver(m, opts, err)
                : v == 2 ? check_spec_v2(m, json_object_get(o, "spec"), opts, err)
                         : check_options_v1(m, opts, err)))
        csvreg_model_free(m);
      else
        *out = m;
    } else if (csvreg_accum_free(pre), st != CSVREG_E_NOMEM) {
      /* A state that cannot be solved did not come from fit -o. */
      st = CSVREG_E_FORMAT;
      if (err)
        err->status = st;
    }
  }
  json_decref(o);
  csvreg__jscan_free(scan);
  return st;
}

/* The two below tell out of memory in jansson from a bad model file or a bad
 * column name, and never return a document jansson left incomplete. */
csvreg_status csvreg_model_save(const csvreg_model *m, char **out, csvreg_error *err) {
  if (!m || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_save: NULL argument");
  *out = NULL;
  unsigned long mark = csvreg__json_mem_failures();
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  csvreg__jsink_init(s, JSINK_BUF, NULL);
  csvreg_status st = csvreg__json_mem_check(mark, model_write(m, s, err), err);
  if (st)
    free(s->buf);
  else
    *out = s->buf;
  free(s);
  return st;
}

csvreg_status csvreg_model_write(const csvreg_model *m, FILE *fp, csvreg_error *err) {
  if (!m || !fp)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_write: NULL argument");
  unsigned long mark = csvreg__json_mem_failures();
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  csvreg__jsink_init(s, JSINK_FILE, fp);
  csvreg_status st = model_write(m, s, err);
  if (st != CSVREG_E_IO)
    st = csvreg__json_mem_check(mark, st, err);
  int e = s->err_no;
  free(s);
  if (st == CSVREG_E_IO)
    errno = e; /* the caller's ferror check reports the write's error */
  return st;
}

static csvreg_status load_checked(csvreg_model **out, const char *text, size_t len, char *owned,
                                  unsigned flags, csvreg_error *err) {
  if (!out || (!text && len)) {
    free(owned);
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_load: NULL argument");
  }
  *out = NULL;
  /* predict solves with the BLAS: fail here, with a status, if it cannot run. */
  csvreg_status ready = csvreg__blas_ready(err);
  if (ready) {
    free(owned);
    return ready;
  }
  unsigned long mark = csvreg__json_mem_failures();
  csvreg_status st = csvreg__json_mem_check(mark, model_load(out, text, len, owned, flags, err), err);
  if (st) {
    csvreg_model_free(*out);
    *out = NULL;
  }
  return st;
}

csvreg_status csvreg_model_load(csvreg_model **out, const char *text, size_t len,
                                csvreg_error *err) {
  return load_checked(out, text, len, NULL, 0, err);
}

csvreg_status csvreg__model_load_owned(csvreg_model **out, char *text, size_t len,
                                       unsigned flags, csvreg_error *err) {
  return load_checked(out, text, len, text, flags, err);
}

csvreg_status csvreg__model_load_scanned(csvreg_model **out, csvreg__jscan *scan, int *whole,
                                         unsigned flags, csvreg_error *err) {
  *out = NULL;
  *whole = 0;
  csvreg_status ready = csvreg__blas_ready(err);
  if (ready) {
    csvreg__jscan_free(scan);
    return ready;
  }
  unsigned long mark = csvreg__json_mem_failures();
  json_t *o = csvreg__jscan_tree(scan);
  if (!o) {
    *whole = 1;
    return CSVREG_OK;
  }
  csvreg_status st = csvreg__json_mem_check(mark, model_from_tree(out, o, scan, flags, err), err);
  if (st) {
    csvreg_model_free(*out);
    *out = NULL;
  }
  return st;
}

const csvreg_fit *csvreg_model_fit(const csvreg_model *m) { return m->fit; }
const csvreg_accum *csvreg_model_accum(const csvreg_model *m) { return m->accum; }
const csvreg_accum *csvreg_model_state(const csvreg_model *m) { return m->pre ? m->pre : m->accum; }
const csvreg_model_options *csvreg_model_get_options(const csvreg_model *m) { return &m->opt; }
size_t csvreg_model_nfeatures(const csvreg_model *m) { return csvreg__accum_nterms(m->accum); }
const char *csvreg_model_feature(const csvreg_model *m, size_t j) {
  return j < csvreg__accum_nterms(m->accum) ? csvreg__accum_term_name(m->accum, j) : NULL;
}
const char *csvreg_model_target(const csvreg_model *m) {
  return csvreg__accum_target_name(m->accum);
}
const char *csvreg_model_formula(const csvreg_model *m) { return m->fm ? m->fm->text : NULL; }
size_t csvreg_model_nfactors(const csvreg_model *m) { return m && m->fm ? m->fm->nfactors : 0; }

/* ---- what fit --update folded in (issue 15) ---- */

size_t csvreg_model_nfolded(const csvreg_model *m) {
  return m && m->folded ? json_array_size(m->folded) : 0;
}

void csvreg_model_get_folded(const csvreg_model *m, size_t i, csvreg_fold_record *out) {
  memset(out, 0, sizeof *out);
  json_t *r = m && m->folded ? json_array_get(m->folded, i) : NULL;
  if (!r)
    return;
  out->name = json_string_value(json_object_get(r, "name"));
  out->size = (uint64_t)json_integer_value(json_object_get(r, "size"));
  out->records = (uint64_t)json_integer_value(json_object_get(r, "records"));
  out->head = json_string_value(json_object_get(r, "head"));
  out->tail = json_string_value(json_object_get(r, "tail"));
  out->digest = json_string_value(json_object_get(r, "digest"));
}

static int same_text(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

long csvreg_model_find_folded(const csvreg_model *m, const csvreg_fold_record *r) {
  for (size_t i = 0; r && i < csvreg_model_nfolded(m); i++) {
    csvreg_fold_record e;
    csvreg_model_get_folded(m, i, &e);
    /* a file of at most 1 MiB: its head digest is every byte's, as a
     * stream of it would have (cat file | fit --update) */
    int whole = e.size <= ((uint64_t)1 << 20);
    if (e.size == r->size &&
        ((same_text(e.head, r->head) && same_text(e.tail, r->tail)) ||
         same_text(e.digest, r->digest) ||
         (whole && (same_text(e.head, r->digest) || same_text(e.digest, r->head)))))
      return (long)i;
  }
  return -1;
}

static json_t *record_json(const csvreg_fold_record *r) {
  json_t *o = json_pack("{s:s, s:I, s:I}", "name", r->name ? r->name : "", "size",
                        (json_int_t)r->size, "records", (json_int_t)r->records);
  if (o && r->head && r->tail &&
      (json_object_set_new(o, "head", json_string(r->head)) ||
       json_object_set_new(o, "tail", json_string(r->tail)))) {
    json_decref(o);
    return NULL;
  }
  if (o && r->digest && json_object_set_new(o, "digest", json_string(r->digest))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

csvreg_status csvreg_model_add_folded(csvreg_model *m, const csvreg_model *from,
                                      const csvreg_fold_record *r, csvreg_error *err) {
  if (!m)
    return csvreg__err_set(err, CSVREG_E_USAGE, "model_add_folded: NULL argument");
  if (r && !(r->head && r->tail) && !r->digest)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "model_add_folded: a record needs head and tail, or a digest");
  /* built aside, so that a failure leaves m as it was */
  json_t *v = m->folded ? json_copy(m->folded) : json_array();
  int bad_ = !v;
  for (size_t i = 0; !bad_ && i < csvreg_model_nfolded(from); i++)
    bad_ = json_array_append(v, json_array_get(from->folded, i)) != 0;
  if (!bad_ && r)
    bad_ = json_array_append_new(v, record_json(r)) != 0;
  if (bad_) {
    json_decref(v);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  json_decref(m->folded);
  m->folded = v;
  return CSVREG_OK;
}
