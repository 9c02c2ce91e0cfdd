/*
 * design.c - maps input columns to model terms. A spec of plain columns has
 * its inputs ordered [terms..., target, weights] (spec.c), so its design is a
 * view of the chunk with no copy. A formula spec with transforms or
 * interactions (spec_formula.c) computes its design here, a chunk at a time:
 * each numeric variable's program (expr.c) runs once over the rows, then
 * each design column is the product of its factors in R's order (model.c's
 * addvar multiplies left to right), so the values equal R's model.matrix.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "expr.h"
#include "formula.h"
#include "internal.h"

void csvreg__design_build(const csvreg_spec *s, const double *vals, size_t ld,
                          const design_work *work, design_block *out) {
  out->x = s->formula ? work->x : vals;
  out->ld = ld;
  out->y = s->target_input < 0 ? (s->formula && s->target_expr ? work->vars : NULL)
                               : vals + (size_t)s->target_input * ld;
  out->w = s->weights_input < 0 ? NULL : vals + (size_t)s->weights_input * ld;
}

csvreg_status csvreg__design_work_init(design_work *work, const csvreg_spec *s, size_t cap,
                                       csvreg_error *err) {
  memset(work, 0, sizeof *work);
  if (!s->formula)
    return CSVREG_OK;
  const csvreg__formula *f = s->formula;
  size_t depth = 1;
  for (size_t v = 0; v < f->nvars; v++)
    if (f->vars[v].expr && f->vars[v].expr->depth > depth)
      depth = f->vars[v].expr->depth;
  size_t nx = s->nterms ? s->nterms : 1;
  if (nx > SIZE_MAX / sizeof(double) / cap || f->nvars > SIZE_MAX / sizeof(double) / cap ||
      depth > SIZE_MAX / sizeof(double) / cap)
    return csvreg__err_set(err, CSVREG_E_LIMIT, "design of %zu rows x %zu columns is too large",
                           cap, nx);
  work->cap = cap;
  work->x = malloc(cap * nx * sizeof *work->x);
  work->vars = malloc(cap * (f->nvars ? f->nvars : 1) * sizeof *work->vars);
  work->scratch = malloc(cap * depth * sizeof *work->scratch);
  work->bad = calloc(cap, 1);
  work->xcols = nx;
  if (!work->x || !work->vars || !work->scratch || !work->bad) {
    csvreg__design_work_free(work);
    return csvreg__err_set(err, CSVREG_E_NOMEM,
                           "out of memory for the design of a chunk of %zu rows", cap);
  }
  return CSVREG_OK;
}

void csvreg__design_work_free(design_work *work) {
  free(work->x);
  free(work->vars);
  free(work->scratch);
  free(work->bad);
  memset(work, 0, sizeof *work);
}

/* The values of variable v on the chunk: its input column or its program's. */
static const double *var_values(const csvreg_spec *s, const double *vals, size_t ld,
                                const design_work *work, size_t v) {
  const csvreg__fvar *fv = &s->formula->vars[v];
  if (fv->kind == CSVREG__VAR_COLUMN)
    return vals + s->fin_input[fv->input] * ld;
  return work->vars + v * work->cap;
}

csvreg_status csvreg__design_work_fit(design_work *work, size_t ncols, csvreg_error *err) {
  if (ncols <= work->xcols && (ncols >= work->xcols / 4 || work->xcols <= 16))
    return CSVREG_OK;
  /* shrinking (a level head took most columns): to twice what is made */
  size_t c = ncols <= work->xcols ? 2 * ncols
             : work->xcols * 2 > ncols ? work->xcols * 2
                                       : ncols;
  if (c == 0)
    c = 1;
  if (c > SIZE_MAX / sizeof(double) / work->cap)
    return csvreg__err_set(err, CSVREG_E_LIMIT, "design of %zu rows x %zu columns is too large",
                           work->cap, c);
  double *x = realloc(work->x, work->cap * c * sizeof *x);
  if (!x)
    return csvreg__err_set(err, CSVREG_E_NOMEM,
                           "out of memory for the design of a chunk of %zu columns", c);
  work->x = x;
  work->xcols = c;
  return CSVREG_OK;
}

size_t csvreg__design_compute(const csvreg_spec *s, const design_live *live, const double *vals,
                              size_t ld, size_t n, design_work *work) {
  const csvreg__formula *f = s->formula;
  const size_t cap = work->cap;
  /* a model's spec for predicting binds no response: nothing to compute */
  const size_t v0 = f->has_response && !s->target_expr && s->target_input < 0 ? 1 : 0;
  for (size_t v = v0; v < f->nvars; v++)
    if (f->vars[v].expr)
      csvreg__expr_eval(f->vars[v].expr, n, vals, ld, s->fin_input, work->vars + v * cap,
                        work->scratch);
  const csvreg__dcols *d = live ? live->d : s->dcols;
  const size_t ncols = live ? live->ncols : d->ncols;
  for (size_t t = 0; t < ncols; t++) {
    const size_t xt = live && live->xpos ? live->xpos[t] : t;
    if (xt == (size_t)-1)
      continue; /* left out: an indicator the level head folds (always finite) */
    const csvreg__dcol *c = &d->cols[live && live->order ? live->order[t] : t];
    double *x = work->x + xt * cap;
    for (size_t q = 0; q < c->nfac; q++) {
      const csvreg__dfac *fc = &c->fac[q];
      size_t slot = s->var_factor ? s->var_factor[fc->var] : (size_t)-1;
      if (slot != (size_t)-1) {
        /* an indicator: the row's level is this column's */
        const uint32_t *lv = live->lev + slot * cap;
        const uint32_t want = (uint32_t)(fc->index - live->base);
        if (q == 0)
          for (size_t i = 0; i < n; i++)
            x[i] = lv[i] == want ? 1.0 : 0.0;
        else
          for (size_t i = 0; i < n; i++)
            x[i] = lv[i] == want ? x[i] : 0.0;
        continue;
      }
      const double *u = var_values(s, vals, ld, work, fc->var);
      if (f->vars[fc->var].kind == CSVREG__VAR_POLY) {
        double p = (double)(fc->index + 1);
        if (q == 0)
          for (size_t i = 0; i < n; i++)
            x[i] = csvreg__r_pow(u[i], p);
        else
          for (size_t i = 0; i < n; i++)
            x[i] = x[i] * csvreg__r_pow(u[i], p);
      } else if (q == 0) {
        memcpy(x, u, n * sizeof *x);
      } else {
        for (size_t i = 0; i < n; i++)
          x[i] = x[i] * u[i];
      }
    }
  }
  memset(work->bad, 0, n);
  size_t nbad = 0;
  const size_t nx = live && live->xpos ? live->nx : ncols;
  for (size_t t = 0; t < nx; t++)
    csvreg__expr_flag_bad(work->x + t * cap, n, work->bad);
  if (s->target_expr && !s->target_optional)
    csvreg__expr_flag_bad(work->vars, n, work->bad);
  for (size_t i = 0; i < n; i++)
    nbad += work->bad[i];
  return nbad;
}

size_t csvreg__design_explain(const csvreg_spec *s, const double *vals, size_t ld,
                              const design_work *work, size_t i, char *msg, size_t size) {
  const csvreg__formula *f = s->formula;
  /* the response first, then the variables of the terms */
  size_t v = 0;
  for (; v < f->nvars; v++) {
    const csvreg__fvar *fv = &f->vars[v];
    if (!fv->expr || (v == 0 && !s->target_expr))
      continue;
    double u = var_values(s, vals, ld, work, v)[i];
    if (fv->kind == CSVREG__VAR_POLY) {
      for (unsigned p = 1; p <= fv->degree && isfinite(u); p++)
        if (!isfinite(csvreg__r_pow(u, p)))
          u = csvreg__r_pow(u, p);
    }
    if (!isfinite(u))
      break;
  }
  size_t blame = 0;
  int len = 0;
  if (v < f->nvars) {
    const csvreg__expr *e = f->vars[v].expr;
    double u = var_values(s, vals, ld, work, v)[i];
    len = snprintf(msg, size, "%s is %s where", f->vars[v].name,
                   isnan(u)      ? "NaN"
                   : isfinite(u) ? "not finite"
                   : u > 0       ? "Inf"
                                 : "-Inf");
    int first = 1;
    for (size_t p = 0; p < e->n; p++) {
      if (e->ins[p].op != CSVREG__EXPR_INPUT)
        continue;
      size_t k = e->ins[p].arg, seen = 0;
      for (size_t q = 0; q < p; q++)
        seen |= e->ins[q].op == CSVREG__EXPR_INPUT && e->ins[q].arg == k;
      if (seen)
        continue;
      if (first)
        blame = s->fin_input[k];
      /* the shortest text that reads back to the value: the cell as
       * written ("3.1", not %.17g's "3.1000000000000001") */
      char num[CSVREG_FORMAT_DOUBLE_MAX];
      csvreg_format_double(vals[s->fin_input[k] * ld + i], num);
      if (len >= 0 && (size_t)len < size)
        len += snprintf(msg + len, size - (size_t)len, "%s %s = %s", first ? "" : ",",
                        f->inputs[k], num);
      first = 0;
    }
  } else {
    /* a product of finite values overflowed */
    snprintf(msg, size, "a product of the terms is not finite");
  }
  return blame;
}
