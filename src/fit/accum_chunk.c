/*
 * accum_chunk.c - where the design stage meets the accumulator: an
 * accumulator made for a spec (its term, target and input names) and the
 * fold of a chunk's design block with its counts. It lives in the fit stage
 * so that src/linalg knows nothing of chunks or specs.
 */
#include <stdlib.h>
#include <string.h>

#include "accum_spec.h"
#include "formula.h"
#include "internal.h"
#include "linalg.h"
#include "spec.h"

/* The formula's frame (linalg.h): what a state file needs to rebuild the
 * spec without the data (src/model/state_levels.c). The columns read as
 * text are the inputs of bare-column categorical variables. */
static csvreg_status set_frame(csvreg_accum *a, const csvreg_spec *s, csvreg_error *err) {
  const csvreg__formula *f = s->formula;
  const char **text = malloc((s->nfactors ? s->nfactors : 1) * sizeof *text);
  const char **vars = malloc((s->nfactors ? s->nfactors : 1) * sizeof *vars);
  if (!text || !vars) {
    free(text);
    free(vars);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  size_t nt = 0;
  for (size_t k = 0; k < s->nfactors; k++) {
    const csvreg__fvar *fv = &f->vars[s->factor_var[k]];
    vars[k] = fv->name;
    if (fv->kind != CSVREG__VAR_COLUMN)
      continue;
    const char *name = f->inputs[fv->input];
    size_t i = 0;
    while (i < nt && strcmp(text[i], name) != 0)
      i++;
    if (i == nt)
      text[nt++] = name;
  }
  /* Without categorical variables the columns are the formula's from the
   * start: chosen already (nothing for csvreg_accum_finish to do). */
  accum_frame fr = {f->text,
                    s->weights_input >= 0 ? s->input_names[s->weights_input] : NULL,
                    s->ncolumn_names,
                    (const char *const *)s->column_names,
                    nt,
                    text,
                    vars,
                    s->nfactors == 0};
  csvreg_status st = csvreg__accum_frame_set(a, &fr, err);
  free(text);
  free(vars);
  return st;
}

csvreg_status csvreg_accum_new_for_spec(csvreg_accum **out, const csvreg_spec *s,
                                        csvreg_solver solver, csvreg_error *err) {
  const char **terms = malloc((s->nterms ? s->nterms : 1) * sizeof *terms);
  if (!terms)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < s->nterms; j++)
    terms[j] = csvreg_spec_term_name(s, j);
  csvreg_status st = (s->nfactors ? csvreg__accum_new_open : csvreg__accum_new_named)(
      out, solver, s->nterms, s->intercept, terms, csvreg_spec_target_name(s), s->ninputs,
      (const char *const *)s->input_names, err);
  free(terms);
  /* Every spec that keeps a formula (transforms, factors) gives its state
   * the frame, so that a state alone rebuilds the spec (solve -o, solve's
   * report): a formula of transforms only has level lists of 0 variables. */
  if (st == CSVREG_OK && s->formula &&
      ((st = csvreg__accum_levels_init(*out, s->nfactors, err)) ||
       (st = set_frame(*out, s, err)))) {
    csvreg_accum_free(*out);
    *out = NULL;
  }
  return st;
}

/* The chunk's levels join the accumulator's lists. */
static csvreg_status join_levels(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const csvreg_spec *s = csvreg__chunk_spec(c);
  csvreg_status st = csvreg__accum_levels_init(a, s->nfactors, err);
  for (size_t f = 0; !st && f < s->nfactors; f++) {
    size_t n, na;
    const char *const *lv = csvreg__chunk_levels(c, f, &n);
    csvreg__accum_levels(a, f, &na);
    /* a chunk's table only grows: what the accumulator has is a prefix
     * when it was fed by this chunk alone, and level_add ignores repeats */
    for (size_t i = na < n ? na : 0; !st && i < n; i++)
      st = csvreg__accum_level_add(a, f, lv[i], strlen(lv[i]), err);
  }
  return st;
}

csvreg_status csvreg__accum_chunk_join(csvreg_accum *a, const csvreg_chunk *c, size_t *at,
                                       int *identity, csvreg_error *err) {
  csvreg_status st = join_levels(a, c, err);
  if (st)
    return st;
  const size_t nc = csvreg__chunk_ncolumns(c);
  const char **add = malloc((nc ? nc : 1) * sizeof *add);
  if (!add)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  size_t nadd = 0, p = csvreg__accum_nterms(a);
  int id = 1;
  for (size_t j = 0; j < nc; j++) {
    const char *name = csvreg__chunk_column_name(c, j);
    if (j < p && strcmp(csvreg__accum_term_name(a, j), name) == 0) {
      at[j] = j;
      continue;
    }
    at[j] = csvreg__accum_term_index(a, name);
    if (at[j] == (size_t)-1) {
      at[j] = p + nadd;
      add[nadd++] = name;
    }
    id = id && at[j] == j;
  }
  if (nadd)
    st = csvreg__accum_add_columns(a, nadd, add, err);
  free(add);
  *identity = id && csvreg__accum_nterms(a) == nc;
  return st;
}

/* A chunk of a spec with categorical variables: its new levels and design
 * columns join the accumulator (columns of zeros for the rows folded so
 * far: exact), then its rows are folded in the accumulator's column order. */
static csvreg_status add_factor_chunk(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const size_t nc = csvreg__chunk_ncolumns(c);
  size_t *at = malloc((nc ? nc : 1) * sizeof *at);
  double *copy = NULL;
  int identity;
  if (!at)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg_status st = csvreg__accum_chunk_join(a, c, at, &identity, err);
  if (st)
    goto done;
  size_t p = csvreg__accum_nterms(a);
  const double *x, *y, *w;
  size_t ldx, n = csvreg_chunk_rows(c);
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  /* a chunk that left a head's columns out (an accumulator that cannot
   * take the head: one given its columns by a merge) gives them from its
   * levels here */
  if ((!identity || csvreg__chunk_omitted(c) != (size_t)-1) && n) {
    copy = calloc(n * (p ? p : 1), sizeof *copy);
    if (!copy) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    for (size_t j = 0; j < nc; j++)
      csvreg__chunk_column_values(c, j, copy + at[j] * n);
    x = copy;
    ldx = n;
  }
  st = csvreg__accum_fold(a, NULL, n, x, ldx, y, w, err);
done:
  free(at);
  free(copy);
  return st;
}

/* ---- the level head (head12; src/linalg/accum_head.c says why) ----
 * A factor whose main effect is a term of the formula has one live column
 * per level (baseline included), each row 1 in exactly one of them: those
 * columns go to the accumulator's head, the rest (the tail) to its dense
 * state. */

/* The factor slot whose columns a chunk leaves out for the level head, or
 * (size_t)-1: of the factors with a main effect, the one with most levels
 * in the chunk's first fill (ties: the first), the one whose dense columns
 * would cost most. */
#define HEAD_MIN_LEVELS 64

static size_t head_factor(const csvreg_spec *s, const csvreg_chunk *c, int forced) {
  const csvreg__formula *f = s->formula;
  size_t best = (size_t)-1, most = 0, nmain = 0;
  for (size_t k = 0; k < s->nfactors; k++) {
    size_t v = s->factor_var[k], n;
    int main = 0;
    for (size_t t = 0; t < f->nterms && !main; t++)
      main = f->terms[t].nvars == 1 && f->terms[t].vars[0] == v;
    csvreg__chunk_levels(c, k, &n);
    nmain += main;
    if (main && (best == (size_t)-1 || n > most)) {
      best = k;
      most = n;
    }
  }
  /* head12c: the head costs ~14 instructions per tail column a row (its
   * rotation, the per-level shift, the residual row) and saves the dense
   * fold of its k columns, ~0.23 k a tail column (AVX2 Givens): it pays
   * from some 60 levels. With several factors, one of few levels is left
   * dense (the 10/100-level bench file put c10 in the head: +15%
   * instructions); a formula's only factor keeps it at any count (the
   * head's accuracy case, formula_level_head_shift; its cost there is
   * not measured). CSVREG_LEVEL_HEAD=1 forces it. */
  if (best != (size_t)-1 && nmain > 1 && most < HEAD_MIN_LEVELS && !forced)
    return (size_t)-1;
  return best;
}

void csvreg__sink_plan_chunk(const csvreg_sink_type *type, const void *arg, csvreg_chunk *c) {
  if (csvreg__chunk_head_set(c))
    return;
  const csvreg_spec *s = csvreg__chunk_spec(c);
  size_t k = (size_t)-1;
  /* Only the pass's accumulator folds a head, and only the QR kernel has
   * one: any other consumer gets every column (no copies). The switch is a
   * test and diagnostic knob (docs/limits.md): 0 off, 1 whatever the
   * level count, unset the rule above. */
  const char *e = getenv("CSVREG_LEVEL_HEAD");
  const int off = e && strcmp(e, "0") == 0, forced = e && strcmp(e, "1") == 0;
  const csvreg_solver solver = arg ? *(const csvreg_solver *)arg : CSVREG_SOLVER_QR;
  if (type == csvreg_sink_accum() && solver == CSVREG_SOLVER_QR && !off && s->formula &&
      s->nfactors && !s->fixed)
    k = head_factor(s, c, forced);
  csvreg__chunk_set_head(c, k);
}

/* Starts a head on a fresh accumulator for the factor whose columns the
 * chunk leaves out (csvreg__chunk_head): the chunk says which, the
 * accumulator only whether it can take it. */
static csvreg_status head_maybe_start(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const csvreg_spec *s = csvreg__chunk_spec(c);
  size_t k = csvreg__chunk_head(c);
  if (k == (size_t)-1 || s->fixed || !s->formula || !csvreg__accum_head_may_start(a))
    return CSVREG_OK;
  /* None of its columns may be in the dense state already (an empty
   * accumulator given them by a merge, say). */
  const size_t nc = csvreg__chunk_ncolumns(c);
  for (size_t j = 0; j < nc; j++)
    if (csvreg__chunk_main_effect(c, j, k) &&
        csvreg__accum_term_index(a, csvreg__chunk_column_name(c, j)) != (size_t)-1)
      return CSVREG_OK;
  return csvreg__accum_head_start(a, k, err);
}

/* add_factor_chunk with a head: levels join as there; the head factor's
 * columns become head rows (a new level: a row of zeros), the others join
 * the dense state as there; the tail block is copied in the state's order
 * and each row's head row comes from the chunk's level index. */
static csvreg_status add_head_chunk(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const size_t hk = csvreg__accum_head_tag(a);
  const size_t nc = csvreg__chunk_ncolumns(c), n = csvreg_chunk_rows(c);
  size_t nlev;
  csvreg__chunk_levels(c, hk, &nlev);
  csvreg_status st = join_levels(a, c, err);
  if (st)
    return st;
  size_t *at = malloc((nc ? nc : 1) * sizeof *at);
  size_t *lrow = malloc((nlev ? nlev : 1) * sizeof *lrow);
  size_t *hrow = malloc((n ? n : 1) * sizeof *hrow);
  const char **add = malloc((nc ? nc : 1) * sizeof *add);
  size_t *xcol = NULL;
  double *copy = NULL;
  if (!at || !lrow || !hrow || !add) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t l = 0; l < nlev; l++)
    lrow[l] = (size_t)-1;
  size_t p = csvreg__accum_nterms(a), nadd = 0, jt = 0;
  for (size_t j = 0; !st && j < nc; j++) {
    const csvreg__dcol *d = csvreg__chunk_column(c, j);
    const char *name = csvreg__chunk_column_name(c, j);
    if (csvreg__chunk_main_effect(c, j, hk)) {
      at[j] = (size_t)-1;
      size_t l = d->fac[0].index - 1; /* past the sentinel */
      if (l < nlev)
        st = csvreg__accum_head_row(a, name, &lrow[l], err);
      continue;
    }
    /* tail columns keep their order in the chunk: usually position jt */
    if (jt < p && strcmp(csvreg__accum_term_name(a, jt), name) == 0)
      at[j] = jt;
    else if ((at[j] = csvreg__accum_term_index(a, name)) == (size_t)-1) {
      at[j] = p + nadd;
      add[nadd++] = name;
    }
    jt++;
  }
  if (!st && nadd)
    st = csvreg__accum_head_add_terms(a, nadd, add, err);
  if (st)
    goto done;
  p = csvreg__accum_nterms(a);
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  const uint32_t *lev = csvreg__chunk_row_levels(c, hk);
  for (size_t i = 0; i < n; i++) {
    if (lev[i] >= nlev || (hrow[i] = lrow[lev[i]]) == (size_t)-1) {
      st = csvreg__err_set(err, CSVREG_E_INTERNAL, "a row's level has no column");
      goto done;
    }
  }
  /* the state's tail term j is the chunk's column xcol[j] (no copy) */
  if (!(xcol = malloc((p ? p : 1) * sizeof *xcol))) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t j = 0; j < p; j++)
    xcol[j] = (size_t)-1;
  /* The head's columns are read from the levels, never from the block: the
   * chunk whose head factor this is leaves them out. One that left out
   * another factor's (a lane fed by two threads' chunks that chose
   * differently) gives its tail columns in a copy. */
  const size_t om = csvreg__chunk_omitted(c);
  if (om != (size_t)-1 && om != hk && n) {
    if (!(copy = malloc(n * (nc ? nc : 1) * sizeof *copy))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    for (size_t j = 0; j < nc; j++)
      if (at[j] != (size_t)-1)
        csvreg__chunk_column_values(c, j, copy + j * n);
    x = copy;
    ldx = n;
  }
  for (size_t j = 0; j < nc; j++)
    if (at[j] != (size_t)-1)
      xcol[at[j]] = copy ? j : csvreg__chunk_column_pos(c, j);
  st = csvreg__accum_head_fold(a, n, x, ldx, xcol, y, w, hrow, err);
done:
  free(copy);
  free(at);
  free(lrow);
  free(hrow);
  free(add);
  free(xcol);
  return st;
}

csvreg_status csvreg__sink_settle(const csvreg_sink_type *type, void *sink, csvreg_error *err) {
  return type == csvreg_sink_accum() ? csvreg__accum_head_flush(sink, err) : CSVREG_OK;
}

/* R's order of factor slot k's n levels l (csvreg__spec_order_levels, the
 * one rule the fit and a saved model share): o[i] = l[perm[i]]. */
static csvreg_status r_order(const csvreg_spec *s, size_t k, const char *const *l, size_t n,
                             size_t *perm, csvreg_error *err) {
  const char **o = malloc((n ? n : 1) * sizeof *o);
  if (!o)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  if (n)
    memcpy(o, l, n * sizeof *o);
  csvreg_status st = csvreg__spec_order_levels(s, k, o, n, err);
  /* back to positions in l (levels are distinct) */
  for (size_t i = 0; !st && i < n; i++)
    for (size_t j = 0; j < n; j++)
      if (o[i] == l[j] || strcmp(o[i], l[j]) == 0) {
        perm[i] = j;
        break;
      }
  free(o);
  return st;
}

csvreg_status csvreg__factor_columns(const csvreg_spec *s, const size_t *nlev,
                                     const char *const *const *levs, int r_columns,
                                     csvreg__dcols **out, size_t **perm_out, csvreg_error *err) {
  *out = NULL;
  if (perm_out)
    *perm_out = NULL;
  if (!r_columns)
    return csvreg__spec_live_columns(s, nlev, levs, out, err);
  const csvreg__formula *f = s->formula;
  size_t total = 0;
  for (size_t k = 0; k < s->nfactors; k++)
    total += nlev[k];
  size_t *n = calloc(f->nvars, sizeof *n), *perm = malloc((total ? total : 1) * sizeof *perm);
  const char ***l = calloc(f->nvars, sizeof *l);
  const char **all = malloc((total ? total : 1) * sizeof *all);
  int *cat = calloc(f->nvars, sizeof *cat);
  csvreg_status st = !n || !perm || !l || !all || !cat
                         ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory")
                         : CSVREG_OK;
  for (size_t k = 0, o = 0; !st && k < s->nfactors; o += nlev[k], k++) {
    size_t v = s->factor_var[k];
    if (nlev[k] == 1) {
      /* R's model.matrix codes every factor by contrasts first, wherever
       * it stands in the formula (also g - 1, x:g, g:h) */
      const char *name = f->vars[v].name, *col = f->inputs[f->vars[v].input];
      int same = strcmp(name, col) == 0;
      st = csvreg__err_set(err, CSVREG_E_VALUE,
                           "%s%s%s%s has one level, \"%s\": a categorical term needs 2 or more "
                           "(R: contrasts can be applied only to factors with 2 or more levels)",
                           name, same ? "" : " (column ", same ? "" : col, same ? "" : ")",
                           levs[k][0]);
      break;
    }
    if (!(st = r_order(s, k, levs[k], nlev[k], perm + o, err))) {
      for (size_t i = 0; i < nlev[k]; i++)
        all[o + i] = levs[k][perm[o + i]];
      l[v] = all + o;
      n[v] = nlev[k];
    }
  }
  for (size_t v = 0; !st && v < f->nvars; v++)
    cat[v] = s->var_factor[v] != (size_t)-1;
  if (!st)
    st = csvreg__formula_columns(f, cat, n, (const char *const *const *)l, out, err);
  if (!st && perm_out) {
    *perm_out = perm;
    perm = NULL;
  }
  free(n);
  free(l);
  free(all);
  free(cat);
  free(perm);
  return st;
}

csvreg_status csvreg__accum_finish_factors(csvreg_accum *a, const csvreg_spec *s,
                                           csvreg_error *err) {
  if (!s->nfactors)
    return CSVREG_OK;
  csvreg_status hst = csvreg__accum_head_flush(a, err); /* head12 */
  if (hst)
    return hst;
  size_t *nlev = calloc(s->nfactors, sizeof *nlev);
  const char *const **levs = calloc(s->nfactors, sizeof *levs);
  csvreg__dcols *d = NULL;
  const char **names = NULL;
  size_t *perm = NULL;
  csvreg_status st = CSVREG_OK;
  if (!nlev || !levs) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < s->nfactors; k++)
    levs[k] = csvreg__accum_levels(a, k, &nlev[k]);
  st = csvreg__factor_columns(s, nlev, (const char *const *const *)levs, 1, &d, &perm, err);
  if (st)
    goto done;
  names = malloc((d->ncols ? d->ncols : 1) * sizeof *names);
  if (!names) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  /* A column of R's that the state lacks is 0 on every row it holds: pieces
   * (threads, shards) make the columns of the level pairs they saw, so a
   * pair of levels never seen together in one piece has none after the
   * merge. It is added as zeros (exact), then aliased as R's empty cell. */
  size_t nmiss = 0;
  for (size_t j = 0; j < d->ncols; j++)
    if (csvreg__accum_term_index(a, d->cols[j].name) == (size_t)-1)
      names[nmiss++] = d->cols[j].name;
  if (nmiss && (st = csvreg__accum_add_columns(a, nmiss, names, err)))
    goto done;
  for (size_t j = 0; j < d->ncols; j++)
    names[j] = d->cols[j].name;
  st = csvreg__accum_select(a, names, d->ncols, err);
  /* The level lists in R's order too (baseline first), as a state or a
   * model of chosen columns shows them. */
  for (size_t k = 0, o = 0; !st && k < s->nfactors; o += nlev[k], k++)
    st = csvreg__accum_levels_permute(a, k, perm + o, err);
  if (!st)
    csvreg__accum_set_selected(a, 1);
done:
  free(levs);
  free(nlev);
  free(names);
  free(perm);
  csvreg__dcols_free(d);
  return st;
}

csvreg_status csvreg_accum_add_chunk(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  /* The chunk's values came through the number parser, which admits only
   * finite numbers, and its weights were checked to be >= 0. */
  csvreg_status st = CSVREG_OK;
  if (csvreg__chunk_spec(c)->nfactors && (st = head_maybe_start(a, c, err)))
    return st;
  st = csvreg__accum_head_active(a)        ? add_head_chunk(a, c, err)
       : csvreg__chunk_spec(c)->nfactors ? add_factor_chunk(a, c, err)
                                         : csvreg__accum_fold(a, NULL, csvreg_chunk_rows(c), x, ldx, y, w, err);
  if (st)
    return st;
  const csvreg_counts *cc = csvreg_chunk_counts(c);
  csvreg__accum_add_counts(a, cc->records, cc->dropped_na, cc->dropped_bad,
                           csvreg_chunk_na_counts(c));
  return CSVREG_OK;
}

csvreg_status csvreg__accum_merge_finished(csvreg_accum *dst, const csvreg_accum *src,
                                           csvreg_error *err) {
  if (!csvreg__accum_levels_nvars(src))
    return csvreg_accum_merge(dst, src, err);
  const size_t p = csvreg__accum_nterms(src);
  const char **names = malloc((p ? p : 1) * sizeof *names);
  const char **add = malloc((p ? p : 1) * sizeof *add);
  csvreg_status st = CSVREG_OK;
  if (!names || !add) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  size_t nadd = 0;
  for (size_t j = 0; j < p; j++) {
    names[j] = csvreg__accum_term_name(src, j);
    if (csvreg__accum_term_index(dst, names[j]) == (size_t)-1)
      add[nadd++] = names[j];
  }
  if ((nadd && (st = csvreg__accum_add_columns(dst, nadd, add, err))) ||
      (st = csvreg__accum_select(dst, names, p, err)) ||
      (st = csvreg__accum_levels_init(dst, csvreg__accum_levels_nvars(src), err)) ||
      (st = csvreg_accum_merge(dst, src, err)))
    goto done;
  /* finished parts make a finished whole: R's columns, chosen (a model saved
   * from it is checked as such when loaded) */
  if (!(st = csvreg__accum_levels_union(dst, src, err)))
    csvreg__accum_set_selected(dst, 1);
done:
  free(names);
  free(add);
  return st;
}
