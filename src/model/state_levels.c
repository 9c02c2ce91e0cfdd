/*
 * state_levels.c - the categorical part of a state file (version 2): the
 * formula's frame and each categorical variable's levels, written, checked
 * on load, and used to choose R's columns on a state alone
 * (csvreg_accum_finish).
 *
 * Why a shard's state keeps a column for every level (pre-select) rather
 * than R's columns: the column of a level a shard never saw is exactly 0 on
 * every one of its rows, so states that saw different level sets align by
 * name with columns of zeros and merge with the same exact algebra as
 * threads (csvreg__accum_merge_aligned); R's baseline and level order,
 * known only once every shard is in, are then a permutation and the drop
 * of trailing columns (csvreg__accum_finish_factors), as at the end of a
 * single pass. A post-select state would need each shard's dropped baseline
 * re-added as a combination (1 - the other indicators, x - the other x:level
 * columns, ...) before aligning: more algebra, rounding in the combination,
 * and rules for every coding of model.matrix. The cost of pre-select is one
 * column per factor (its baseline) in the saved state.
 *
 * The frame (formula text, header, columns read as text, weights) is the
 * spec's identity: a state is checked against the spec it rebuilds (the
 * variables the levels belong to, the target, the inputs, and the terms the
 * levels give), and only states of the same frame merge (stateset.c).
 */
#include <stdlib.h>
#include <string.h>

#include "accum_spec.h"
#include "formula.h"
#include "internal.h"
#include "linalg.h"
#include "spec.h"
#include "state.h"

static json_t *string_array(const char *const *v, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    if (json_array_append_new(arr, json_string(v[i]))) {
      json_decref(arr);
      return NULL;
    }
  return arr;
}

int csvreg__state_levels_put(json_t *o, const csvreg_accum *a) {
  accum_frame fr;
  if (!csvreg__accum_frame_get(a, &fr))
    return -1;
  json_t *factors = json_array();
  for (size_t k = 0; factors && k < csvreg__accum_levels_nvars(a); k++) {
    size_t n;
    const char *const *l = csvreg__accum_levels(a, k, &n);
    if (json_array_append_new(factors, json_pack("{s:s, s:o}", "variable", fr.vars[k], "levels",
                                                 string_array(l, n)))) {
      json_decref(factors);
      factors = NULL;
    }
  }
  json_t *formula = json_pack("{s:s, s:o, s:o, s:o}", "text", fr.formula, "columns",
                              string_array(fr.columns, fr.ncolumns), "text_columns",
                              string_array(fr.text, fr.ntext), "weights",
                              fr.weights ? json_string(fr.weights) : json_null());
  if (!factors || !formula || json_object_set_new(o, "factors", factors) ||
      json_object_set_new(o, "formula", formula) ||
      json_object_set_new(o, "selected", json_boolean(fr.selected)))
    return -1;
  return 0;
}

static csvreg_status bad(csvreg_error *err, const char *what) {
  return csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg state: %s", what);
}

/* The spec the frame rebuilds; its errors are the caller's to word. */
static csvreg_status frame_spec(const accum_frame *fr, int intercept, csvreg_spec **out,
                                csvreg_error *err) {
  unsigned char *text = calloc(fr->ncolumns ? fr->ncolumns : 1, 1);
  if (!text)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg_status st = CSVREG_OK;
  for (size_t t = 0; !st && t < fr->ntext; t++) {
    size_t j = 0;
    while (j < fr->ncolumns && strcmp(fr->columns[j], fr->text[t]) != 0)
      j++;
    if (j == fr->ncolumns)
      st = csvreg__err_set(err, CSVREG_E_FORMAT, "text column '%s' is not in the columns",
                           fr->text[t]);
    else
      text[j] = 1;
  }
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.intercept = intercept;
  so.weights = fr->weights;
  if (!st)
    st = csvreg__spec_new_formula_text(out, fr->columns, fr->ncolumns, text, fr->formula, &so, NULL,
                                       err);
  free(text);
  return st;
}

static int cmp_str(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* 1 when the n strings v are distinct (sorted copy; -1: out of memory). */
static int distinct(const char *const *v, size_t n) {
  const char **c = malloc((n ? n : 1) * sizeof *c);
  if (!c)
    return -1;
  if (n)
    memcpy(c, v, n * sizeof *c);
  qsort(c, n, sizeof *c, cmp_str);
  int ok = 1;
  for (size_t i = 1; ok && i < n; i++)
    ok = strcmp(c[i - 1], c[i]) != 0;
  free(c);
  return ok;
}

/* A JSON array of strings as borrowed pointers (NULL: not one; *nomem). */
static const char **strings(const json_t *arr, size_t *n, int *nomem) {
  if (!json_is_array(arr))
    return NULL;
  *n = json_array_size(arr);
  const char **v = calloc(*n ? *n : 1, sizeof *v);
  if (!v) {
    *nomem = 1;
    return NULL;
  }
  for (size_t i = 0; i < *n; i++)
    if (!(v[i] = json_string_value(json_array_get(arr, i)))) {
      free(v);
      return NULL;
    }
  return v;
}

/* The spec's checks of a loaded state: its variables, target, inputs and
 * the terms its levels give. */
static csvreg_status check_against_spec(const csvreg_spec *s, const csvreg_accum *a,
                                        const accum_frame *fr, size_t nf, const size_t *nlev,
                                        const char *const *const *levs, csvreg_error *err) {
  if (s->nfactors != nf) {
    char why[256];
    snprintf(why, sizeof why,
             "it holds levels of %zu variables, but its formula has %zu categorical variables", nf,
             s->nfactors);
    return bad(err, why);
  }
  const csvreg__formula *f = s->formula;
  for (size_t k = 0; k < nf; k++)
    if (strcmp(f->vars[s->factor_var[k]].name, fr->vars[k]) != 0) {
      char why[512];
      snprintf(why, sizeof why,
               "levels for '%.100s', which is not the categorical variable '%.100s'", fr->vars[k],
               f->vars[s->factor_var[k]].name);
      return bad(err, why);
    }
  const char *target = csvreg_spec_target_name(s);
  if (!target || strcmp(target, csvreg__accum_target_name(a)) != 0)
    return bad(err, "its target is not its formula's response");
  int same = s->ninputs == csvreg__accum_ninputs(a);
  for (size_t k = 0; same && k < s->ninputs; k++)
    same = strcmp(s->input_names[k], csvreg__accum_input_name(a, k)) == 0;
  if (!same)
    return bad(err, "its inputs are not its formula's");
  csvreg__dcols *d = NULL;
  csvreg_status st = csvreg__factor_columns(s, nlev, levs, fr->selected, &d, NULL, err);
  if (st == CSVREG_E_VALUE)
    return bad(err, err ? err->message : "relevel's ref is not a level");
  if (st)
    return st;
  const size_t p = csvreg__accum_nterms(a);
  const char **want = malloc((d->ncols ? d->ncols : 1) * sizeof *want);
  const char **have = malloc((p ? p : 1) * sizeof *have);
  /* A shard's state may lack the columns of level pairs none of its pieces
   * saw together (zeros, added when R's columns are chosen): its terms are
   * a subset of the live columns. Chosen columns are all there, in order. */
  if (!want || !have)
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  else if (fr->selected ? d->ncols != p : p > d->ncols)
    st = bad(err, "its terms do not match its levels");
  if (!st) {
    for (size_t j = 0; j < d->ncols; j++)
      want[j] = d->cols[j].name;
    for (size_t j = 0; j < p; j++)
      have[j] = csvreg__accum_term_name(a, j);
    if (fr->selected) {
      for (size_t j = 0; !st && j < p; j++)
        if (strcmp(want[j], have[j]) != 0)
          st = bad(err, "its terms do not match its levels");
    } else {
      /* every term one of the live columns, and every level in one of the
       * terms (the piece that saw a level made the columns of its terms) */
      qsort(have, p, sizeof *have, cmp_str);
      for (size_t j = 1; !st && j < p; j++)
        if (strcmp(have[j - 1], have[j]) == 0)
          st = bad(err, "two of its terms have the same name");
      size_t total = 0, found = 0;
      for (size_t k = 0; k < nf; k++)
        total += nlev[k];
      unsigned char *seen = calloc(total ? total : 1, 1);
      if (!st && !seen)
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      for (size_t j = 0; !st && j < d->ncols; j++) {
        if (!bsearch(&want[j], have, p, sizeof *have, cmp_str))
          continue;
        found++;
        for (size_t q = 0; q < d->cols[j].nfac; q++) {
          size_t k = s->var_factor[d->cols[j].fac[q].var], o = 0;
          if (k == (size_t)-1 || d->cols[j].fac[q].index == 0)
            continue;
          for (size_t t = 0; t < k; t++)
            o += nlev[t];
          seen[o + d->cols[j].fac[q].index - 1] = 1; /* index 0: the sentinel */
        }
      }
      if (!st && found != p)
        st = bad(err, "its terms do not match its levels");
      for (size_t k = 0, o = 0; !st && k < nf; o += nlev[k], k++)
        for (size_t i = 0; !st && i < nlev[k]; i++)
          if (!seen[o + i]) {
            char why[512];
            snprintf(why, sizeof why, "level '%.100s' of '%.100s' has no column", levs[k][i],
                     fr->vars[k]);
            st = bad(err, why);
          }
      free(seen);
    }
  }
  free(want);
  free(have);
  csvreg__dcols_free(d);
  return st;
}

csvreg_status csvreg__state_levels_get(const json_t *o, csvreg_accum *a, csvreg_error *err) {
  json_t *fo = json_object_get(o, "formula"), *fa = json_object_get(o, "factors");
  json_t *sel = json_object_get(o, "selected");
  if (!json_is_object(fo) || !json_is_array(fa) || !json_is_boolean(sel))
    return bad(err, "a state of a formula (version 2, or 3 with any of them) needs "
                    "\"formula\", \"factors\" and \"selected\"");
  accum_frame fr = {0};
  fr.formula = json_string_value(json_object_get(fo, "text"));
  json_t *w = json_object_get(fo, "weights");
  fr.weights = json_string_value(w);
  fr.selected = json_is_true(sel);
  const size_t nf = json_array_size(fa);
  int nomem = 0;
  const char **cols = strings(json_object_get(fo, "columns"), &fr.ncolumns, &nomem);
  const char **text = strings(json_object_get(fo, "text_columns"), &fr.ntext, &nomem);
  const char **vars = calloc(nf ? nf : 1, sizeof *vars);
  size_t *nlev = calloc(nf ? nf : 1, sizeof *nlev);
  const char ***levs = calloc(nf ? nf : 1, sizeof *levs);
  csvreg_spec *spec = NULL;
  csvreg_status st = CSVREG_OK;
  if (nomem || !vars || !nlev || !levs)
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  else if (!fr.formula || !cols || !text || !(json_is_null(w) || fr.weights) || fr.ncolumns == 0)
    st = bad(err, "\"formula\" needs \"text\", \"columns\", \"text_columns\" and \"weights\"");
  fr.columns = cols;
  fr.text = text;
  fr.vars = vars;
  /* A formula without categorical variables (transforms only) has its
   * columns from the start: no levels, chosen. */
  if (!st && nf == 0 && !fr.selected)
    st = bad(err, "a version 2 state without levels must have its columns \"selected\"");
  for (size_t k = 0; !st && k < nf; k++) {
    json_t *e = json_array_get(fa, k);
    vars[k] = json_string_value(json_object_get(e, "variable"));
    levs[k] = strings(json_object_get(e, "levels"), &nlev[k], &nomem);
    int ok = vars[k] && levs[k] ? distinct(levs[k], nlev[k]) : 0;
    if (nomem || ok < 0)
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    else if (!vars[k] || !levs[k])
      st = bad(err, "each of \"factors\" needs a \"variable\" and its \"levels\"");
    else if (!ok) {
      char why[256];
      snprintf(why, sizeof why, "a level of '%.100s' is listed twice", vars[k]);
      st = bad(err, why);
    }
  }
  if (!st && (fr.ncolumns > 1 && distinct(cols, fr.ncolumns) == 0))
    st = bad(err, "two of its \"columns\" have the same name");
  if (!st && (st = frame_spec(&fr, csvreg__accum_intercept(a), &spec, err)) &&
      st != CSVREG_E_NOMEM) {
    char why[sizeof err->message + 64];
    snprintf(why, sizeof why, "its formula does not resolve against its columns: %s",
             err ? err->message : "");
    st = bad(err, why);
  }
  if (!st)
    st = check_against_spec(spec, a, &fr, nf, nlev, (const char *const *const *)levs, err);
  if (!st)
    st = csvreg__accum_levels_init(a, nf, err);
  for (size_t k = 0; !st && k < nf; k++)
    for (size_t i = 0; !st && i < nlev[k]; i++)
      st = csvreg__accum_level_add(a, k, levs[k][i], strlen(levs[k][i]), err);
  if (!st)
    st = csvreg__accum_frame_set(a, &fr, err);
  csvreg_spec_free(spec);
  for (size_t k = 0; levs && k < nf; k++)
    free((void *)levs[k]);
  free(levs);
  free(nlev);
  free(vars);
  free(cols);
  free(text);
  return st;
}

csvreg_status csvreg_accum_finish(csvreg_accum *a, csvreg_error *err) {
  if (!a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_accum_finish: NULL argument");
  accum_frame fr;
  if (!csvreg__accum_frame_get(a, &fr) || fr.selected)
    return CSVREG_OK;
  csvreg_spec *spec = NULL;
  csvreg_status st = frame_spec(&fr, csvreg__accum_intercept(a), &spec, err);
  if (!st)
    st = csvreg__accum_finish_factors(a, spec, err);
  csvreg_spec_free(spec);
  return st;
}

csvreg_status csvreg__state_frame_spec(const csvreg_accum *a, csvreg_spec **out,
                                       csvreg_error *err) {
  *out = NULL;
  accum_frame fr;
  if (!csvreg__accum_frame_get(a, &fr))
    return CSVREG_OK;
  return frame_spec(&fr, csvreg__accum_intercept(a), out, err);
}

csvreg_status csvreg_fit_set_state_spec(csvreg_fit *f, const csvreg_accum *a, csvreg_error *err) {
  if (!f || !a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_fit_set_state_spec: NULL argument");
  csvreg_spec *spec = NULL;
  csvreg_status st = csvreg__state_frame_spec(a, &spec, err);
  if (!st && spec)
    st = csvreg_fit_set_spec(f, spec, a, err);
  csvreg_spec_free(spec);
  return st;
}
