/*
 * spec_formula.c - a spec from an R formula (csvreg_spec_new_formula). The
 * formula module expands the text as R's terms() does; here its inputs are
 * found in the header and its design columns become the spec's terms.
 *
 * Two shapes of spec come out. A formula of plain columns (`y ~ a + b`)
 * gives exactly the spec the target/features options would, so the design
 * stays a view of the chunk and the numbers stay bit-identical. Any
 * transform, interaction or power makes a computed spec: the chunk then
 * evaluates the formula's programs into a design buffer of its own
 * (design.c). Categorical variables (factor(), relevel()) read their
 * input as text; their levels and design columns are found by the chunks
 * (chunk.c) and put in R's order at the end (accum_chunk.c). Bare text
 * columns are not detected yet.
 */
#include <stdlib.h>
#include <string.h>

#include "formula.h"
#include "internal.h"
#include "spec.h"

void csvreg__spec_free_formula(csvreg_spec *s) {
  if (s->term_names)
    for (size_t t = 0; t < s->nterms; t++)
      free(s->term_names[t]);
  free(s->term_names);
  free(s->target_expr);
  free(s->fin_input);
  free(s->factor_var);
  free(s->var_factor);
  free(s->input_text);
  for (size_t j = 0; s->column_names && j < s->ncolumn_names; j++)
    free(s->column_names[j]);
  free(s->column_names);
  csvreg__dcols_free(s->dcols);
  csvreg__formula_free(s->formula);
  for (size_t k = 0; s->fixed_levels && k < s->nfactors; k++) {
    for (size_t i = 0; s->fixed_levels[k] && i < s->fixed_nlev[k]; i++)
      free(s->fixed_levels[k][i]);
    free(s->fixed_levels[k]);
  }
  free(s->fixed_levels);
  free(s->fixed_nlev);
}

size_t csvreg_formula_caret(const char *formula, size_t offset, char *buf, size_t size) {
  return csvreg__formula_caret(formula, offset, 2, buf, size);
}

/* The one column named `name`. */
static csvreg_status find_column(const char *const *names, size_t ncols, const char *name,
                                 const char *role, size_t *out, csvreg_error *err) {
  size_t found = ncols;
  for (size_t j = 0; j < ncols; j++)
    if (strcmp(names[j], name) == 0) {
      if (found < ncols)
        return csvreg__err_set(err, CSVREG_E_COLUMN,
                               "duplicate column name '%s' (columns %zu and %zu): rename one", name,
                               found + 1, j + 1);
      found = j;
    }
  if (found == ncols)
    return csvreg__spec_no_column(err, role, name, strlen(name), names, ncols);
  *out = found;
  return CSVREG_OK;
}

static size_t add_input(csvreg_spec *s, size_t j) {
  for (size_t k = 0; k < s->ninputs; k++)
    if (s->input_cols[k] == j)
      return k;
  s->input_cols[s->ninputs] = j;
  return s->ninputs++;
}

csvreg_status csvreg_spec_new_formula(csvreg_spec **out, const char *const *names, size_t ncols,
                                      const char *formula, const csvreg_spec_options *o,
                                      size_t *where, csvreg_error *err) {
  return csvreg__spec_new_formula_text(out, names, ncols, o ? o->text_columns : NULL, formula, o,
                                       where, err);
}

csvreg_status csvreg__spec_new_formula_text(csvreg_spec **out, const char *const *names,
                                            size_t ncols, const unsigned char *text,
                                            const char *formula, const csvreg_spec_options *o,
                                            size_t *where, csvreg_error *err) {
  if (where)
    *where = CSVREG_NO_OFFSET;
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "spec_new_formula: NULL argument");
  *out = NULL;
  if (!o || !names || ncols == 0)
    return csvreg__err_set(err, CSVREG_E_USAGE, "no columns to choose from");
  if (!formula)
    return csvreg__err_set(err, CSVREG_E_USAGE, "no formula given");
  if (o->target || o->features)
    return csvreg__err_set(
        err, CSVREG_E_USAGE,
        "a formula names the target and the terms: leave target and features unset");
  size_t weights = ncols;
  csvreg_status st;
  if (o->weights && (st = find_column(names, ncols, o->weights, "weights", &weights, err)))
    return st;
  csvreg__formula *f = NULL;
  if ((st = csvreg__formula_parse(&f, formula, where, err)))
    return st;
  const char *const excl[1] = {weights < ncols ? names[weights] : NULL};
  csvreg_spec *s = calloc(1, sizeof *s);
  if (!s) {
    csvreg__formula_free(f);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  s->formula = f;
  if ((st = csvreg__formula_expand(f, names, ncols, excl, weights < ncols, where, err)))
    goto fail;
  if (!f->has_response) {
    st = csvreg__err_set(err, CSVREG_E_USAGE, "formula: the response is missing: write y ~ terms");
    if (where)
      *where = 0;
    goto fail;
  }
  s->max_levels = o->max_levels ? o->max_levels : CSVREG__DEFAULT_MAX_LEVELS;
  s->from_formula = 1;
  s->var_factor = malloc((f->nvars ? f->nvars : 1) * sizeof *s->var_factor);
  s->factor_var = malloc((f->nvars ? f->nvars : 1) * sizeof *s->factor_var);
  if (!s->var_factor || !s->factor_var) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto fail;
  }
  for (size_t v = 0; v < f->nvars; v++) {
    s->var_factor[v] = (size_t)-1;
    int text_column = 0;
    if (text && f->vars[v].kind == CSVREG__VAR_COLUMN) {
      size_t j = 0;
      csvreg_error e2;
      text_column =
          find_column(names, ncols, f->inputs[f->vars[v].input], "formula", &j, &e2) == CSVREG_OK &&
          text[j];
    }
    if (f->vars[v].kind == CSVREG__VAR_FACTOR || text_column) {
      if (v == 0 && f->has_response) {
        st = csvreg__err_set(err, CSVREG_E_USAGE, "formula: the response cannot be categorical");
        if (where)
          *where = f->vars[v].offset;
        goto fail;
      }
      s->var_factor[v] = s->nfactors;
      s->factor_var[s->nfactors++] = v;
    }
  }
  /* the formula's inputs in the header */
  size_t *fcol = malloc((f->ninputs ? f->ninputs : 1) * sizeof *fcol);
  if (!fcol) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto fail;
  }
  s->fin_input = fcol;
  for (size_t k = 0; k < f->ninputs; k++) {
    if ((st = find_column(names, ncols, f->inputs[k], "formula", &fcol[k], err))) {
      if (where)
        *where = f->input_offset[k];
      goto fail;
    }
    if (fcol[k] == weights) {
      st = csvreg__err_set(err, CSVREG_E_COLUMN,
                           "column '%s' is the weights and cannot be in the formula",
                           names[weights]);
      if (where)
        *where = f->input_offset[k];
      goto fail;
    }
  }
  if (!o->intercept)
    f->intercept = 0; /* as `- 1`: before the columns, whose coding depends on it */
  if ((st = csvreg__spec_live_columns(s, NULL, NULL, &s->dcols, err)))
    goto fail;
  const csvreg__dcols *d = s->dcols;
  if (d->ncols > CSVREG_MAX_TERMS) {
    st = csvreg__err_set(err, CSVREG_E_LIMIT, "%zu terms: at most %d are supported", d->ncols,
                         CSVREG_MAX_TERMS);
    goto fail;
  }
  s->ncolumns = ncols;
  s->intercept = d->intercept;
  s->skip_bad = o->skip_bad ? 1 : 0;
  s->nterms = d->ncols;
  /* plain: the response and every term one column, no term twice */
  const csvreg__fvar *resp = &f->vars[0];
  int plain = resp->kind == CSVREG__VAR_COLUMN && s->nfactors == 0;
  for (size_t t = 0; t < d->ncols && plain; t++) {
    const csvreg__dcol *c = &d->cols[t];
    plain = c->nfac == 1 && f->vars[c->fac[0].var].kind == CSVREG__VAR_COLUMN;
  }
  s->input_cols = malloc((f->ninputs + 2 + d->ncols) * sizeof *s->input_cols);
  s->term_input = calloc(d->ncols ? d->ncols : 1, sizeof *s->term_input);
  if (!s->input_cols || !s->term_input) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto fail;
  }
  if (plain) {
    /* inputs as csvreg_spec_new orders them: [terms..., target, weights] */
    for (size_t t = 0; t < d->ncols; t++)
      s->term_input[t] = add_input(s, fcol[f->vars[d->cols[t].fac[0].var].input]);
    s->target_input = (ptrdiff_t)add_input(s, fcol[resp->input]);
    s->weights_input = weights < ncols ? (ptrdiff_t)add_input(s, weights) : -1;
    /* the spec of the options: no formula kept */
    csvreg__formula_free(f);
    s->formula = NULL;
    free(s->fin_input);
    s->fin_input = NULL;
    csvreg__dcols_free(s->dcols);
    s->dcols = NULL;
  } else {
    for (size_t k = 0; k < f->ninputs; k++)
      fcol[k] = add_input(s, fcol[k]); /* formula input k is spec input k */
    s->target_input =
        resp->kind == CSVREG__VAR_COLUMN ? (ptrdiff_t)fcol[resp->input] : (ptrdiff_t)-1;
    s->weights_input = weights < ncols ? (ptrdiff_t)add_input(s, weights) : -1;
    s->term_names = calloc(d->ncols ? d->ncols : 1, sizeof *s->term_names);
    if (!s->term_names) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto fail;
    }
    for (size_t t = 0; t < d->ncols; t++)
      if (!(s->term_names[t] = csvreg__xstrdup(d->cols[t].name))) {
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        goto fail;
      }
    if (resp->kind != CSVREG__VAR_COLUMN && !(s->target_expr = csvreg__xstrdup(resp->name))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto fail;
    }
  }
  if (s->nfactors) {
    /* an input read only by factor() is text: its cells are not parsed */
    s->input_text = malloc(s->ninputs ? s->ninputs : 1);
    if (!s->input_text) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto fail;
    }
    memset(s->input_text, 1, s->ninputs);
    if (s->weights_input >= 0)
      s->input_text[s->weights_input] = 0;
    for (size_t v = 0; v < f->nvars; v++) {
      const csvreg__fvar *fv = &f->vars[v];
      if (fv->kind == CSVREG__VAR_FACTOR || s->var_factor[v] != (size_t)-1)
        continue;
      if (fv->kind == CSVREG__VAR_COLUMN)
        s->input_text[fcol[fv->input]] = 0;
      for (size_t q = 0; fv->expr && q < fv->expr->n; q++)
        if (fv->expr->ins[q].op == CSVREG__EXPR_INPUT)
          s->input_text[fcol[fv->expr->ins[q].arg]] = 0;
    }
  }
  /* the header, for the frame of a state (accum_chunk.c) of every formula
   * kept: factors or transforms */
  if (s->formula) {
    if (!(s->column_names = calloc(ncols ? ncols : 1, sizeof *s->column_names))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto fail;
    }
    s->ncolumn_names = ncols;
    for (size_t j = 0; j < ncols; j++)
      if (!(s->column_names[j] = csvreg__xstrdup(names[j]))) {
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        goto fail;
      }
  }
  s->input_names = calloc(s->ninputs ? s->ninputs : 1, sizeof *s->input_names);
  if (!s->input_names) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto fail;
  }
  for (size_t k = 0; k < s->ninputs; k++)
    if (!(s->input_names[k] = csvreg__xstrdup(names[s->input_cols[k]]))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto fail;
    }
  if ((st = csvreg_na_new(&s->na, o->na, err)))
    goto fail;
  *out = s;
  return CSVREG_OK;
fail:
  csvreg_spec_free(s);
  return st;
}

csvreg_status csvreg__spec_live_columns(const csvreg_spec *s, const size_t *nlev,
                                        const char *const *const *levs, csvreg__dcols **out,
                                        csvreg_error *err) {
  const csvreg__formula *f = s->formula;
  *out = NULL;
  if (s->nfactors == 0)
    return csvreg__formula_columns(f, NULL, NULL, NULL, out, err);
  /* Each factor's levels behind a sentinel that coding by contrasts skips:
   * then every level seen has its own column; the sentinel's columns (coding
   * by indicators) are dropped below. */
  size_t *n = calloc(f->nvars, sizeof *n);
  const char ***l = calloc(f->nvars, sizeof *l);
  size_t total = 0;
  for (size_t k = 0; k < s->nfactors; k++)
    total += 1 + (nlev ? nlev[k] : 0);
  const char **all = malloc(total * sizeof *all);
  csvreg_status st = CSVREG_OK;
  if (!n || !l || !all) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  size_t o = 0;
  for (size_t k = 0; k < s->nfactors; k++) {
    size_t v = s->factor_var[k];
    l[v] = all + o;
    n[v] = 1 + (nlev ? nlev[k] : 0);
    all[o++] = CSVREG__LEVEL_SENTINEL;
    for (size_t i = 0; nlev && i < nlev[k]; i++)
      all[o++] = levs[k][i];
  }
  csvreg__dcols *d = NULL;
  int *cat = calloc(f->nvars, sizeof *cat);
  if (!cat) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t v = 0; v < f->nvars; v++)
    cat[v] = s->var_factor[v] != (size_t)-1;
  st = csvreg__formula_columns(f, cat, n, (const char *const *const *)l, &d, err);
  free(cat);
  if (st)
    goto done;
  size_t kept = 0;
  for (size_t j = 0; j < d->ncols; j++) {
    csvreg__dcol *c = &d->cols[j];
    int sentinel = 0;
    for (size_t q = 0; q < c->nfac; q++)
      sentinel |= s->var_factor[c->fac[q].var] != (size_t)-1 && c->fac[q].index == 0;
    if (sentinel) {
      free(c->name);
      free(c->fac);
    } else {
      d->cols[kept++] = *c;
    }
  }
  d->ncols = kept;
  *out = d;
done:
  free(n);
  free(l);
  free(all);
  return st;
}

/* R's numeric order for levels that all read as numbers (factor() of a
 * numeric column), else byte order (C collation). */
static int all_numbers(const char *const *l, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double v;
    if (csvreg_parse_double(l[i], strlen(l[i]), &v) != CSVREG_OK)
      return 0;
  }
  return 1;
}

static int cmp_bytes(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_numbers(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  double u, v;
  csvreg_parse_double(x, strlen(x), &u);
  csvreg_parse_double(y, strlen(y), &v);
  return u < v ? -1 : u > v ? 1 : 0;
}

csvreg_status csvreg__spec_order_levels(const csvreg_spec *s, size_t k, const char **o, size_t n,
                                        csvreg_error *err) {
  const csvreg__formula *f = s->formula;
  const size_t v = s->factor_var[k];
  qsort(o, n, sizeof *o, all_numbers(o, n) ? cmp_numbers : cmp_bytes);
  const char *ref = f->vars[v].ref;
  if (ref) {
    size_t i = 0;
    while (i < n && strcmp(o[i], ref) != 0)
      i++;
    if (i == n)
      return csvreg__err_set(err, CSVREG_E_VALUE, "%s: ref = \"%s\" is not a level of %s",
                             f->vars[v].name, ref, f->inputs[f->vars[v].input]);
    const char *r = o[i];
    memmove(o + 1, o, i * sizeof *o);
    o[0] = r;
  }
  return CSVREG_OK;
}

csvreg_status csvreg__spec_fix_levels(csvreg_spec *s, const size_t *nlev,
                                      const char *const *const *levels, csvreg_error *err) {
  const csvreg__formula *f = s->formula;
  if (!f || !s->nfactors || s->fixed)
    return csvreg__err_set(err, CSVREG_E_USAGE, "fix_levels: not a formula spec with factors");
  size_t *n = calloc(f->nvars, sizeof *n);
  const char *const **l = calloc(f->nvars, sizeof *l);
  int *cat = calloc(f->nvars, sizeof *cat);
  csvreg__dcols *d = NULL;
  char **names = NULL;
  csvreg_status st = CSVREG_OK;
  s->fixed_nlev = calloc(s->nfactors, sizeof *s->fixed_nlev);
  s->fixed_levels = calloc(s->nfactors, sizeof *s->fixed_levels);
  if (!n || !l || !cat || !s->fixed_nlev || !s->fixed_levels) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < s->nfactors; k++) {
    if (!(s->fixed_levels[k] = calloc(nlev[k] ? nlev[k] : 1, sizeof **s->fixed_levels))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    for (size_t i = 0; i < nlev[k]; i++) {
      if (!(s->fixed_levels[k][i] = csvreg__xstrdup(levels[k][i]))) {
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        goto done;
      }
      s->fixed_nlev[k] = i + 1;
    }
    n[s->factor_var[k]] = nlev[k];
    l[s->factor_var[k]] = levels[k];
  }
  for (size_t v = 0; v < f->nvars; v++)
    cat[v] = s->var_factor[v] != (size_t)-1;
  if ((st = csvreg__formula_columns(f, cat, n, (const char *const *const *)l, &d, err)))
    goto done;
  if (d->ncols > CSVREG_MAX_TERMS) {
    st = csvreg__err_set(err, CSVREG_E_LIMIT, "%zu terms: at most %d are supported", d->ncols,
                         CSVREG_MAX_TERMS);
    goto done;
  }
  if (!(names = calloc(d->ncols ? d->ncols : 1, sizeof *names))) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t t = 0; t < d->ncols; t++)
    if (!(names[t] = csvreg__xstrdup(d->cols[t].name))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
  /* the terms become the final columns */
  if (s->term_names)
    for (size_t t = 0; t < s->nterms; t++)
      free(s->term_names[t]);
  free(s->term_names);
  s->term_names = names;
  names = NULL;
  csvreg__dcols_free(s->dcols);
  s->dcols = d;
  s->nterms = d->ncols;
  s->intercept = d->intercept;
  d = NULL;
  s->fixed = 1;
done:
  if (names)
    for (size_t t = 0; d && t < d->ncols; t++)
      free(names[t]);
  free(names);
  csvreg__dcols_free(d);
  free(n);
  free(l);
  free(cat);
  return st;
}
