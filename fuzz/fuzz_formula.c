/*
 * fuzz_formula.c - libFuzzer target: the formula module (src/design/formula.c,
 * expr.c) on arbitrary text. Parsing either succeeds or reports an offset
 * within the text; a parsed formula expands against a small header, its
 * design columns are built (one categorical column, factors with two levels)
 * and every numeric variable is evaluated over a few rows. Nothing may crash,
 * leak or break the invariants checked here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "formula.h"

static const char *const header[] = {"y", "a", "b", "g", "sale price", "w"};
static const char *const excl[] = {"w"};
static const char *const glev[] = {"a", "b", "c"};
static const char *const flev[] = {"1", "2"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  size_t len = strlen(text);
  csvreg__formula *f = NULL;
  csvreg_error err;
  size_t where;
  char caret[256];
  if (csvreg__formula_parse(&f, text, &where, &err) != CSVREG_OK) {
    if (f || (where != CSVREG__NO_OFFSET && where > len))
      abort();
    csvreg__formula_caret(text, where, 2, caret, sizeof caret);
    free(text);
    return 0;
  }
  if (csvreg__formula_expand(f, header, 6, excl, 1, &where, &err) == CSVREG_OK) {
    int cat[64] = {0};
    size_t nlev[64] = {0};
    const char *const *lev[64] = {0};
    for (size_t v = 0; v < f->nvars && v < 64; v++) {
      const csvreg__fvar *fv = &f->vars[v];
      if (fv->kind == CSVREG__VAR_FACTOR) {
        nlev[v] = 2;
        lev[v] = flev;
      } else if (fv->kind == CSVREG__VAR_COLUMN && strcmp(f->inputs[fv->input], "g") == 0) {
        cat[v] = 1;
        nlev[v] = 3;
        lev[v] = glev;
      }
      if (fv->input != (size_t)-1 && fv->input >= f->ninputs)
        abort();
      if (!fv->name || !*fv->name)
        abort();
    }
    for (size_t k = 0; k < f->nterms; k++)
      if (!f->terms[k].nvars || !f->terms[k].label)
        abort();
    csvreg__dcols *d = NULL;
    if (f->nvars <= 64 && f->nterms <= 4096 &&
        csvreg__formula_columns(f, cat, nlev, lev, &d, &err) == CSVREG_OK) {
      for (size_t j = 0; j < d->ncols; j++)
        if (!d->cols[j].nfac || d->cols[j].term >= f->nterms)
          abort();
      csvreg__dcols_free(d);
    }
    /* every program over 5 rows of made-up inputs */
    enum { N = 5 };
    double *vals = calloc(f->ninputs ? f->ninputs * N : 1, sizeof *vals);
    for (size_t i = 0; vals && i < f->ninputs * N; i++)
      vals[i] = (double)i - 7.5;
    for (size_t v = 0; vals && v < f->nvars; v++) {
      const csvreg__expr *e = f->vars[v].expr;
      if (!e)
        continue;
      if (e->height != 1 || e->ninputs > f->ninputs)
        abort();
      double out[N];
      unsigned char flag[N] = {0};
      double *scratch = malloc((csvreg__expr_scratch(e, N) + 1) * sizeof *scratch);
      if (scratch) {
        csvreg__expr_eval(e, N, vals, N, NULL, out, scratch);
        csvreg__expr_flag_bad(out, N, flag);
      }
      free(scratch);
    }
    free(vals);
  } else if (where != CSVREG__NO_OFFSET && where > len) {
    abort();
  }
  csvreg__formula_free(f);
  free(text);
  return 0;
}
