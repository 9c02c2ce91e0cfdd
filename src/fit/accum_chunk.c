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
  if (st == CSVREG_OK && s->nfactors && (st = csvreg__accum_levels_init(*out, s->nfactors, err))) {
    csvreg_accum_free(*out);
    *out = NULL;
  }
  return st;
}

csvreg_status csvreg__accum_chunk_join(csvreg_accum *a, const csvreg_chunk *c, size_t *at,
                                       int *identity, csvreg_error *err) {
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
  if (!identity && n) {
    copy = calloc(n * (p ? p : 1), sizeof *copy);
    if (!copy) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    for (size_t j = 0; j < nc; j++)
      memcpy(copy + at[j] * n, x + j * ldx, n * sizeof *copy);
    x = copy;
    ldx = n;
  }
  st = csvreg__accum_fold(a, NULL, n, x, ldx, y, w, err);
done:
  free(at);
  free(copy);
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

csvreg_status csvreg__accum_finish_factors(csvreg_accum *a, const csvreg_spec *s,
                                           csvreg_error *err) {
  if (!s->nfactors)
    return CSVREG_OK;
  const csvreg__formula *f = s->formula;
  size_t *nlev = calloc(f->nvars, sizeof *nlev);
  const char ***levs = calloc(f->nvars, sizeof *levs);
  csvreg__dcols *d = NULL;
  const char **names = NULL;
  csvreg_status st = CSVREG_OK;
  if (!nlev || !levs) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < s->nfactors; k++) {
    size_t v = s->factor_var[k], n;
    const char *const *l = csvreg__accum_levels(a, k, &n);
    const char **o = malloc((n ? n : 1) * sizeof *o);
    if (!o) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    if (n)
      memcpy(o, l, n * sizeof *o);
    levs[v] = o;
    nlev[v] = n;
    if (n == 1) {
      /* R's model.matrix codes every factor by contrasts first, wherever
       * it stands in the formula (also g - 1, x:g, g:h) */
      const char *name = f->vars[v].name, *col = f->inputs[f->vars[v].input];
      int same = strcmp(name, col) == 0;
      st = csvreg__err_set(err, CSVREG_E_VALUE,
                           "%s%s%s%s has one level, \"%s\": a categorical term needs 2 or more "
                           "(R: contrasts can be applied only to factors with 2 or more levels)",
                           name, same ? "" : " (column ", same ? "" : col, same ? "" : ")", o[0]);
      goto done;
    }
    qsort(o, n, sizeof *o, all_numbers(o, n) ? cmp_numbers : cmp_bytes);
    const char *ref = f->vars[v].ref;
    if (ref) {
      size_t i = 0;
      while (i < n && strcmp(o[i], ref) != 0)
        i++;
      if (i == n) {
        st = csvreg__err_set(err, CSVREG_E_VALUE, "%s: ref = \"%s\" is not a level of %s",
                             f->vars[v].name, ref, f->inputs[f->vars[v].input]);
        goto done;
      }
      memmove(o + 1, o, i * sizeof *o);
      o[0] = ref;
    }
  }
  int *cat = calloc(f->nvars, sizeof *cat);
  if (!cat) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t v = 0; v < f->nvars; v++)
    cat[v] = s->var_factor[v] != (size_t)-1;
  st = csvreg__formula_columns(f, cat, nlev, (const char *const *const *)levs, &d, err);
  free(cat);
  if (st)
    goto done;
  names = malloc((d->ncols ? d->ncols : 1) * sizeof *names);
  if (!names) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t j = 0; j < d->ncols; j++)
    names[j] = d->cols[j].name;
  st = csvreg__accum_select(a, names, d->ncols, err);
done:
  for (size_t v = 0; levs && v < f->nvars; v++)
    free((void *)levs[v]);
  free(levs);
  free(nlev);
  free(names);
  csvreg__dcols_free(d);
  return st;
}

csvreg_status csvreg_accum_add_chunk(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  /* The chunk's values came through the number parser, which admits only
   * finite numbers, and its weights were checked to be >= 0. */
  csvreg_status st = csvreg__chunk_spec(c)->nfactors
                         ? add_factor_chunk(a, c, err)
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
  st = csvreg__accum_levels_union(dst, src, err);
done:
  free(names);
  free(add);
  return st;
}
