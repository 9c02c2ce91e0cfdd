/*
 * accum_levels.c - level lists carried with an accumulator: for each
 * categorical variable of a formula, the levels its rows have shown, in
 * order of appearance. The design stage decides what they mean and the
 * final order (R's); here they are only kept, merged by name and freed, so
 * that a state passed through a sink (one csvreg_accum) knows its levels.
 */
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

struct accum_levels {
  size_t nvars;
  size_t *n, *cap;
  char ***names;
};

void csvreg__accum_levels_free(csvreg_accum *a) {
  struct accum_levels *l = a ? a->levels : NULL;
  if (!l)
    return;
  for (size_t v = 0; v < l->nvars; v++) {
    for (size_t i = 0; l->names && l->names[v] && i < l->n[v]; i++)
      free(l->names[v][i]);
    if (l->names)
      free(l->names[v]);
  }
  free(l->names);
  free(l->n);
  free(l->cap);
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
  a->levels = l;
  if (!l->n || !l->cap || !l->names) {
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

csvreg_status csvreg__accum_level_add(csvreg_accum *a, size_t v, const char *name, size_t len,
                                      csvreg_error *err) {
  struct accum_levels *l = a->levels;
  if (!l || v >= l->nvars)
    return csvreg__err_set(err, CSVREG_E_USAGE, "levels: no categorical variable %zu", v);
  for (size_t i = 0; i < l->n[v]; i++)
    if (strlen(l->names[v][i]) == len && memcmp(l->names[v][i], name, len) == 0)
      return CSVREG_OK;
  if (l->n[v] == l->cap[v]) {
    size_t c = l->cap[v] ? 2 * l->cap[v] : 8;
    char **t = realloc(l->names[v], c * sizeof *t);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    l->names[v] = t;
    l->cap[v] = c;
  }
  char *s = malloc(len + 1);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  memcpy(s, name, len);
  s[len] = '\0';
  l->names[v][l->n[v]++] = s;
  return CSVREG_OK;
}

csvreg_status csvreg__accum_levels_union(csvreg_accum *dst, const csvreg_accum *src,
                                         csvreg_error *err) {
  size_t nv = csvreg__accum_levels_nvars(src);
  if (nv == 0)
    return CSVREG_OK;
  csvreg_status st = csvreg__accum_levels_init(dst, nv, err);
  for (size_t v = 0; !st && v < nv; v++)
    for (size_t i = 0; !st && i < src->levels->n[v]; i++)
      st = csvreg__accum_level_add(dst, v, src->levels->names[v][i],
                                   strlen(src->levels->names[v][i]), err);
  return st;
}
