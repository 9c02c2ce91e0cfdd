/*
 * expr.c - the numeric expressions of a formula as postfix programs run a
 * column at a time: one pass of a tight loop per instruction over a chunk's
 * rows, instead of a tree walk per cell.
 *
 * The arithmetic is R's, so that a transformed column equals R's
 * model.matrix bit for bit: `x^2` is x * x (R_POW), other powers go through
 * R_pow's special cases and then the C library's pow (R uses powl only on
 * 64-bit Windows), log of zero is -Inf and of a negative number NaN (R_log),
 * log2/log10 and log(x, 2)/log(x, 10) call log2/log10 (R's logbase).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "internal.h"

csvreg_status csvreg__expr_new(csvreg__expr **out, csvreg_error *err) {
  *out = calloc(1, sizeof **out);
  return *out ? CSVREG_OK : csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
}

void csvreg__expr_free(csvreg__expr *e) {
  if (!e)
    return;
  free(e->ins);
  free(e);
}

csvreg_status csvreg__expr_copy(csvreg__expr **out, const csvreg__expr *e, csvreg_error *err) {
  *out = NULL;
  csvreg__expr *c = malloc(sizeof *c);
  if (!c)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  *c = *e;
  c->ins = NULL;
  c->cap = c->n;
  if (e->n) {
    c->ins = malloc(e->n * sizeof *c->ins);
    if (!c->ins) {
      free(c);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    memcpy(c->ins, e->ins, e->n * sizeof *c->ins);
  }
  *out = c;
  return CSVREG_OK;
}

/* Operands each operator takes from the stack. */
static size_t arity(csvreg__expr_op op) {
  switch (op) {
  case CSVREG__EXPR_INPUT:
  case CSVREG__EXPR_CONST: return 0;
  case CSVREG__EXPR_ADD:
  case CSVREG__EXPR_SUB:
  case CSVREG__EXPR_MUL:
  case CSVREG__EXPR_DIV:
  case CSVREG__EXPR_POW:
  case CSVREG__EXPR_LOGB: return 2;
  default: return 1;
  }
}

csvreg_status csvreg__expr_push(csvreg__expr *e, csvreg__expr_op op, size_t arg, double value,
                                csvreg_error *err) {
  size_t k = arity(op);
  if (e->height < k)
    return csvreg__err_set(err, CSVREG_E_INTERNAL, "expression: operator without operands");
  if (e->n == e->cap) {
    size_t cap = e->cap ? 2 * e->cap : 8;
    csvreg__expr_ins *ins = realloc(e->ins, cap * sizeof *ins);
    if (!ins)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    e->ins = ins;
    e->cap = cap;
  }
  e->ins[e->n++] = (csvreg__expr_ins){op, arg, value};
  e->height = e->height - k + 1;
  if (e->height > e->depth)
    e->depth = e->height;
  if (op == CSVREG__EXPR_INPUT && arg + 1 > e->ninputs)
    e->ninputs = arg + 1;
  return CSVREG_OK;
}

size_t csvreg__expr_scratch(const csvreg__expr *e, size_t n) {
  return e->depth > 1 ? (e->depth - 1) * n : 0;
}

/* R_pow (src/main/arithmetic.c) for y != 2. */
static double r_pow_general(double x, double y) {
  if (x == 1. || y == 0.)
    return 1.;
  if (x == 0.) {
    if (y > 0.)
      return 0.;
    else if (y < 0)
      return INFINITY;
    else
      return y; /* NaN */
  }
  if (isfinite(x) && isfinite(y))
    return pow(x, y);
  if (isnan(x) || isnan(y))
    return x + y;
  if (!isfinite(x)) {
    if (x > 0) /* Inf ^ y */
      return (y < 0.) ? 0. : INFINITY;
    else { /* (-Inf) ^ y */
      if (isfinite(y) && y == floor(y))
        return (y < 0.) ? 0. : (fmod(y, 2.) != 0 ? x : -x);
    }
  }
  if (!isfinite(y)) {
    if (x >= 0) {
      if (y > 0) /* y == +Inf */
        return (x >= 1) ? INFINITY : 0.;
      else /* y == -Inf */
        return (x < 1) ? INFINITY : 0.;
    }
  }
  return NAN;
}

double csvreg__r_pow(double x, double y) { return y == 2.0 ? x * x : r_pow_general(x, y); }

static double r_log(double x) { return x > 0 ? log(x) : x == 0 ? -INFINITY : NAN; }

static double r_logbase(double x, double base) {
  if (base == 10)
    return x > 0 ? log10(x) : x < 0 ? NAN : -INFINITY;
  if (base == 2)
    return x > 0 ? log2(x) : x < 0 ? NAN : -INFINITY;
  return r_log(x) / r_log(base);
}

void csvreg__expr_eval(const csvreg__expr *e, size_t n, const double *vals, size_t ld,
                       const size_t *map, double *out, double *scratch) {
  size_t h = 0; /* stack height; slot 0 is `out`, slot i > 0 scratch */
#define SLOT(i) ((i) == 0 ? out : scratch + ((i)-1) * n)
  for (size_t p = 0; p < e->n; p++) {
    const csvreg__expr_ins *in = &e->ins[p];
    if (in->op == CSVREG__EXPR_INPUT) {
      const double *src = vals + (map ? map[in->arg] : in->arg) * ld;
      memcpy(SLOT(h), src, n * sizeof *src);
      h++;
      continue;
    }
    if (in->op == CSVREG__EXPR_CONST) {
      double *d = SLOT(h), v = in->value;
      for (size_t i = 0; i < n; i++)
        d[i] = v;
      h++;
      continue;
    }
    if (arity(in->op) == 2) {
      double *a = SLOT(h - 2);
      const double *b = SLOT(h - 1);
      switch (in->op) {
      case CSVREG__EXPR_ADD:
        for (size_t i = 0; i < n; i++)
          a[i] = a[i] + b[i];
        break;
      case CSVREG__EXPR_SUB:
        for (size_t i = 0; i < n; i++)
          a[i] = a[i] - b[i];
        break;
      case CSVREG__EXPR_MUL:
        for (size_t i = 0; i < n; i++)
          a[i] = a[i] * b[i];
        break;
      case CSVREG__EXPR_DIV:
        for (size_t i = 0; i < n; i++)
          a[i] = a[i] / b[i];
        break;
      case CSVREG__EXPR_POW:
        for (size_t i = 0; i < n; i++)
          a[i] = csvreg__r_pow(a[i], b[i]);
        break;
      default: /* LOGB */
        for (size_t i = 0; i < n; i++)
          a[i] = r_logbase(a[i], b[i]);
        break;
      }
      h--;
      continue;
    }
    double *a = SLOT(h - 1);
    switch (in->op) {
    case CSVREG__EXPR_NEG:
      for (size_t i = 0; i < n; i++)
        a[i] = -a[i];
      break;
    case CSVREG__EXPR_LOG:
      for (size_t i = 0; i < n; i++)
        a[i] = r_log(a[i]);
      break;
    case CSVREG__EXPR_LOG2:
      for (size_t i = 0; i < n; i++)
        a[i] = r_logbase(a[i], 2);
      break;
    case CSVREG__EXPR_LOG10:
      for (size_t i = 0; i < n; i++)
        a[i] = r_logbase(a[i], 10);
      break;
    case CSVREG__EXPR_LOG1P:
      for (size_t i = 0; i < n; i++)
        a[i] = log1p(a[i]);
      break;
    case CSVREG__EXPR_EXP:
      for (size_t i = 0; i < n; i++)
        a[i] = exp(a[i]);
      break;
    case CSVREG__EXPR_SQRT:
      for (size_t i = 0; i < n; i++)
        a[i] = sqrt(a[i]);
      break;
    default: /* ABS */
      for (size_t i = 0; i < n; i++)
        a[i] = fabs(a[i]);
      break;
    }
  }
#undef SLOT
}

size_t csvreg__expr_flag_bad(const double *out, size_t n, unsigned char *bad) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(out[i])) {
      bad[i] = 1;
      count++;
    }
  return count;
}
