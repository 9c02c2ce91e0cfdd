/*
 * fit_spec.c - what a formula's fit reports besides its numbers: the
 * formula as given and each categorical variable's final levels, baseline
 * first, so that a reader of the JSON knows what each dummy column means
 * (the baseline has none). The levels come from the accumulator's lists
 * (order of appearance) put in R's order by the spec's rule.
 */
#include <stdlib.h>
#include <string.h>

#include "fit_impl.h"
#include "formula.h"
#include "internal.h"
#include "linalg.h"
#include "spec.h"

void csvreg__fit_free_formula(csvreg_fit *f) {
  for (size_t k = 0; f->factor_levels && k < f->nfactors; k++) {
    for (size_t i = 0; f->factor_levels[k] && i < f->factor_nlev[k]; i++)
      free(f->factor_levels[k][i]);
    free(f->factor_levels[k]);
  }
  for (size_t k = 0; f->factor_names && k < f->nfactors; k++)
    free(f->factor_names[k]);
  free(f->factor_levels);
  free(f->factor_names);
  free(f->factor_nlev);
  free(f->formula);
  f->formula = NULL;
  f->factor_levels = NULL;
  f->factor_names = NULL;
  f->factor_nlev = NULL;
  f->nfactors = 0;
}

csvreg_status csvreg__fit_set_formula(csvreg_fit *f, const char *formula, size_t nfactors,
                                      const char *const *names, const size_t *nlev,
                                      const char *const *const *levels, csvreg_error *err) {
  csvreg__fit_free_formula(f);
  f->nfactors = nfactors;
  f->formula = csvreg__xstrdup(formula);
  f->factor_names = calloc(nfactors ? nfactors : 1, sizeof *f->factor_names);
  f->factor_nlev = calloc(nfactors ? nfactors : 1, sizeof *f->factor_nlev);
  f->factor_levels = calloc(nfactors ? nfactors : 1, sizeof *f->factor_levels);
  int bad = !f->formula || !f->factor_names || !f->factor_nlev || !f->factor_levels;
  for (size_t k = 0; !bad && k < nfactors; k++) {
    f->factor_names[k] = csvreg__xstrdup(names[k]);
    f->factor_levels[k] = calloc(nlev[k] ? nlev[k] : 1, sizeof **f->factor_levels);
    bad = !f->factor_names[k] || !f->factor_levels[k];
    for (size_t i = 0; !bad && i < nlev[k]; i++) {
      bad = !(f->factor_levels[k][i] = csvreg__xstrdup(levels[k][i]));
      f->factor_nlev[k] = i + 1;
    }
  }
  if (bad) {
    csvreg__fit_free_formula(f);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  return CSVREG_OK;
}

csvreg_status csvreg_fit_set_spec(csvreg_fit *f, const csvreg_spec *s, const csvreg_accum *a,
                                  csvreg_error *err) {
  if (!f || !s || !a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "fit_set_spec: NULL argument");
  if (!s->formula)
    return CSVREG_OK;
  const csvreg__formula *fm = s->formula;
  const size_t nf = s->nfactors;
  const char **names = calloc(nf ? nf : 1, sizeof *names);
  size_t *nlev = calloc(nf ? nf : 1, sizeof *nlev);
  const char ***levs = calloc(nf ? nf : 1, sizeof *levs);
  csvreg_status st = CSVREG_OK;
  if (!names || !nlev || !levs) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t k = 0; k < nf; k++) {
    names[k] = fm->vars[s->factor_var[k]].name;
    if (s->fixed) {
      nlev[k] = s->fixed_nlev[k];
      levs[k] = (const char **)s->fixed_levels[k];
      continue;
    }
    const char *const *l = csvreg__accum_levels(a, k, &nlev[k]);
    if (!(levs[k] = malloc((nlev[k] ? nlev[k] : 1) * sizeof **levs))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
    if (nlev[k])
      memcpy(levs[k], l, nlev[k] * sizeof **levs);
    if ((st = csvreg__spec_order_levels(s, k, levs[k], nlev[k], err)))
      goto done;
  }
  st = csvreg__fit_set_formula(f, fm->text, nf, names, nlev, (const char *const *const *)levs, err);
done:
  for (size_t k = 0; levs && !s->fixed && k < nf; k++)
    free(levs[k]);
  free(levs);
  free(nlev);
  free(names);
  return st;
}
