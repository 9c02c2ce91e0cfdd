/*
 * accum_levels.c - level lists carried with an accumulator: for each
 * categorical variable of a formula, the levels its rows have shown, in
 * order of appearance. The design stage decides what they mean and the
 * final order (R's); here they are only kept, merged by name and freed, so
 * that a state passed through a sink (one csvreg_accum) knows its levels.
 * With them goes the formula's frame (its text, the header it was resolved
 * against, the columns read as text, the weights): opaque strings here, the
 * identity a state file needs to be checked, merged and finished alone.
 * Each list has a hash of its levels: every chunk joins its whole level
 * table to the accumulator (csvreg__accum_chunk_join), so a linear search
 * would cost levels^2 per chunk (10000 levels: 5e7 comparisons a chunk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

struct accum_levels {
  size_t nvars;
  size_t *n, *cap;
  char ***names;
  size_t **len;   /* [nvars][cap] each level's length */
  uint32_t **tab; /* [nvars][hcap[v]] index + 1 of a level, 0: empty */
  size_t *hcap;   /* a power of two, at least twice n[v] (0: no table yet) */
  /* the frame (csvreg__accum_frame_set): what the formula was, so that a
   * saved state can be checked and its columns chosen without the data */
  int has_frame, selected;
  char *formula, *weights;
  size_t ncols, ntext;
  char **cols, **text;
  char **vars; /* [nvars] the categorical variables' names */
};

static void frame_clear(struct accum_levels *l);

void csvreg__accum_levels_free(csvreg_accum *a) {
  struct accum_levels *l = a ? a->levels : NULL;
  if (!l)
    return;
  for (size_t v = 0; v < l->nvars; v++) {
    for (size_t i = 0; l->names && l->names[v] && i < l->n[v]; i++)
      free(l->names[v][i]);
    if (l->names)
      free(l->names[v]);
    if (l->len)
      free(l->len[v]);
    if (l->tab)
      free(l->tab[v]);
  }
  free(l->names);
  free(l->len);
  free(l->tab);
  free(l->hcap);
  free(l->n);
  free(l->cap);
  frame_clear(l);
  free(l);
  a->levels = NULL;
}

csvreg_status csvreg__accum_levels_init(csvreg_accum *a, size_t nvars, csvreg_error *err) {
  if (a->levels) {
    if (a->levels->nvars == nvars)
      return CSVREG_OK;
    return csvreg__err_set(err, CSVREG_E_USAGE, "levels: %zu categorical variables against %zu",
                           a->levels->nvars, nvars);
  }
  struct accum_levels *l = calloc(1, sizeof *l);
  if (!l)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  l->nvars = nvars;
  l->n = calloc(nvars ? nvars : 1, sizeof *l->n);
  l->cap = calloc(nvars ? nvars : 1, sizeof *l->cap);
  l->names = calloc(nvars ? nvars : 1, sizeof *l->names);
  l->len = calloc(nvars ? nvars : 1, sizeof *l->len);
  l->tab = calloc(nvars ? nvars : 1, sizeof *l->tab);
  l->hcap = calloc(nvars ? nvars : 1, sizeof *l->hcap);
  a->levels = l;
  if (!l->n || !l->cap || !l->names || !l->len || !l->tab || !l->hcap) {
    csvreg__accum_levels_free(a);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  return CSVREG_OK;
}

size_t csvreg__accum_levels_nvars(const csvreg_accum *a) {
  return a && a->levels ? a->levels->nvars : 0;
}

const char *const *csvreg__accum_levels(const csvreg_accum *a, size_t v, size_t *n) {
  if (!a || !a->levels || v >= a->levels->nvars) {
    *n = 0;
    return NULL;
  }
  *n = a->levels->n[v];
  return (const char *const *)a->levels->names[v];
}

/* FNV-1a */
static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 14695981039346656037u;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211u;
  }
  return h;
}

/* The slot of [name, name + len) in list v's table (hcap[v] > 0): where its
 * index is, or the empty slot it would take. */
static size_t probe(const struct accum_levels *l, size_t v, const char *name, size_t len) {
  const size_t mask = l->hcap[v] - 1;
  size_t j = (size_t)hash_bytes(name, len) & mask;
  for (; l->tab[v][j]; j = (j + 1) & mask) {
    size_t i = l->tab[v][j] - 1;
    if (l->len[v][i] == len && memcmp(l->names[v][i], name, len) == 0)
      break;
  }
  return j;
}

/* List v's table at hcap slots, filled from its levels. */
static int rehash(struct accum_levels *l, size_t v, size_t hcap) {
  uint32_t *t = calloc(hcap, sizeof *t);
  if (!t)
    return -1;
  free(l->tab[v]);
  l->tab[v] = t;
  l->hcap[v] = hcap;
  for (size_t i = 0; i < l->n[v]; i++)
    t[probe(l, v, l->names[v][i], l->len[v][i])] = (uint32_t)(i + 1);
  return 0;
}

csvreg_status csvreg__accum_level_add(csvreg_accum *a, size_t v, const char *name, size_t len,
                                      csvreg_error *err) {
  struct accum_levels *l = a->levels;
  if (!l || v >= l->nvars)
    return csvreg__err_set(err, CSVREG_E_USAGE, "levels: no categorical variable %zu", v);
  if (l->n[v] >= UINT32_MAX - 1)
    return csvreg__err_set(err, CSVREG_E_USAGE, "levels: too many levels");
  /* at most half full, so probes stay short (and a table, once the levels
   * moved, rebuilt: csvreg__accum_levels_permute) */
  if (2 * (l->n[v] + 1) > l->hcap[v]) {
    size_t h = l->hcap[v] ? 2 * l->hcap[v] : 16;
    while (h < 2 * (l->n[v] + 1))
      h *= 2;
    if (rehash(l, v, h))
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  if (l->tab[v][probe(l, v, name, len)])
    return CSVREG_OK;
  if (l->n[v] == l->cap[v]) {
    size_t c = l->cap[v] ? 2 * l->cap[v] : 8;
    char **t = realloc(l->names[v], c * sizeof *t);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    l->names[v] = t;
    size_t *ln = realloc(l->len[v], c * sizeof *ln);
    if (!ln)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    l->len[v] = ln;
    l->cap[v] = c;
  }
  char *s = malloc(len + 1);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  memcpy(s, name, len);
  s[len] = '\0';
  size_t j = probe(l, v, s, len);
  l->names[v][l->n[v]] = s;
  l->len[v][l->n[v]] = len;
  l->n[v]++;
  l->tab[v][j] = (uint32_t)l->n[v];
  return CSVREG_OK;
}

csvreg_status csvreg__accum_levels_union(csvreg_accum *dst, const csvreg_accum *src,
                                         csvreg_error *err) {
  size_t nv = csvreg__accum_levels_nvars(src);
  /* a formula without categorical variables has lists of 0 variables but
   * a frame, which must travel too */
  if (!src || !src->levels)
    return CSVREG_OK;
  csvreg_status st = csvreg__accum_levels_init(dst, nv, err);
  accum_frame f;
  if (!st && !dst->levels->has_frame && csvreg__accum_frame_get(src, &f))
    st = csvreg__accum_frame_set(dst, &f, err);
  for (size_t v = 0; !st && v < nv; v++)
    for (size_t i = 0; !st && i < src->levels->n[v]; i++)
      st = csvreg__accum_level_add(dst, v, src->levels->names[v][i],
                                   strlen(src->levels->names[v][i]), err);
  return st;
}

/* ---- the formula's frame ---- */

static void frame_clear(struct accum_levels *l) {
  free(l->formula);
  free(l->weights);
  for (size_t i = 0; l->cols && i < l->ncols; i++)
    free(l->cols[i]);
  free(l->cols);
  for (size_t i = 0; l->text && i < l->ntext; i++)
    free(l->text[i]);
  free(l->text);
  for (size_t i = 0; l->vars && i < l->nvars; i++)
    free(l->vars[i]);
  free(l->vars);
  l->formula = l->weights = NULL;
  l->cols = l->text = l->vars = NULL;
  l->ncols = l->ntext = 0;
  l->has_frame = 0;
  l->selected = 0;
}

static char **copy_names(const char *const *v, size_t n, int *nomem) {
  char **c = calloc(n ? n : 1, sizeof *c);
  for (size_t i = 0; c && i < n; i++)
    if (!(c[i] = csvreg__xstrdup(v[i]))) {
      for (size_t k = 0; k < i; k++)
        free(c[k]);
      free(c);
      c = NULL;
    }
  if (!c)
    *nomem = 1;
  return c;
}

csvreg_status csvreg__accum_frame_set(csvreg_accum *a, const accum_frame *f, csvreg_error *err) {
  struct accum_levels *l = a ? a->levels : NULL;
  if (!l || !f || !f->formula || (f->ncolumns && !f->columns) || (f->ntext && !f->text) ||
      (l->nvars && !f->vars))
    return csvreg__err_set(err, CSVREG_E_USAGE, "frame: no level lists or no formula");
  struct accum_levels n = {0};
  int nomem = 0;
  n.nvars = l->nvars;
  n.vars = copy_names(f->vars, l->nvars, &nomem);
  n.formula = csvreg__xstrdup(f->formula);
  n.weights = f->weights ? csvreg__xstrdup(f->weights) : NULL;
  n.cols = copy_names(f->columns, f->ncolumns, &nomem);
  n.text = copy_names(f->text, f->ntext, &nomem);
  n.ncols = n.cols ? f->ncolumns : 0;
  n.ntext = n.text ? f->ntext : 0;
  if (nomem || !n.formula || (f->weights && !n.weights)) {
    frame_clear(&n);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  frame_clear(l);
  l->formula = n.formula;
  l->weights = n.weights;
  l->cols = n.cols;
  l->ncols = n.ncols;
  l->text = n.text;
  l->ntext = n.ntext;
  l->vars = n.vars;
  l->has_frame = 1;
  l->selected = f->selected ? 1 : 0;
  return CSVREG_OK;
}

int csvreg__accum_frame_get(const csvreg_accum *a, accum_frame *f) {
  const struct accum_levels *l = a ? a->levels : NULL;
  if (!l || !l->has_frame)
    return 0;
  f->formula = l->formula;
  f->weights = l->weights;
  f->ncolumns = l->ncols;
  f->columns = (const char *const *)l->cols;
  f->ntext = l->ntext;
  f->text = (const char *const *)l->text;
  f->vars = (const char *const *)l->vars;
  f->selected = l->selected;
  return 1;
}

void csvreg__accum_set_selected(csvreg_accum *a, int selected) {
  if (a && a->levels)
    a->levels->selected = selected ? 1 : 0;
}

csvreg_status csvreg__accum_levels_permute(csvreg_accum *a, size_t v, const size_t *perm,
                                           csvreg_error *err) {
  struct accum_levels *l = a ? a->levels : NULL;
  if (!l || v >= l->nvars)
    return csvreg__err_set(err, CSVREG_E_USAGE, "levels: no categorical variable %zu", v);
  size_t n = l->n[v];
  char **t = malloc((n ? n : 1) * sizeof *t);
  unsigned char *seen = calloc(n ? n : 1, 1);
  csvreg_status st =
      !t || !seen ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory") : CSVREG_OK;
  for (size_t i = 0; !st && i < n; i++) {
    if (perm[i] >= n || seen[perm[i]])
      st = csvreg__err_set(err, CSVREG_E_USAGE, "levels: not a permutation");
    else {
      seen[perm[i]] = 1;
      t[i] = l->names[v][perm[i]];
    }
  }
  if (!st && n) {
    memcpy(l->names[v], t, n * sizeof *t);
    for (size_t i = 0; i < n; i++)
      l->len[v][i] = strlen(l->names[v][i]);
    /* the indices moved: the table again, at its size */
    if (rehash(l, v, l->hcap[v])) {
      free(l->tab[v]); /* stale: the next level_add builds it again */
      l->tab[v] = NULL;
      l->hcap[v] = 0;
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
  }
  free(t);
  free(seen);
  return st;
}
