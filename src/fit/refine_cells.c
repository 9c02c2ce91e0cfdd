/*
 * refine_cells.c - the refinement pass's view of a chunk as double-double
 * values of the cells as written (issue 13: Wampler2). The main pass rounds
 * every decimal to binary64; the refinement's residuals are computed from
 * the text instead (numparse_dd.c: hi the double, lo the rest), so that the
 * refined coefficients are the least-squares solution of the file and not
 * of its rounding. The cells needed (the response, the weights and every
 * numeric input of the terms) are kept as the chunk's key cells
 * (csvreg__spec_add_keys), so the chunk's row filtering is untouched.
 *
 * Formula terms are recomputed in double-double: a bare column, a power of
 * it (I(x^2), poly(x, k, raw = TRUE)), sums, products and quotients of
 * columns and constants, interactions and indicators. A term with any other
 * function (log, exp, ...) keeps the main pass's double value, as does a
 * row where an integer power is not: those values are the data as computed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "formula.h"
#include "ddouble.h"
#include "internal.h"
#include "numparse_dd.h"
#include "refine.h"
#include "spec.h"

static dd dd_div(dd a, dd b) {
  double q1 = a.hi / b.hi;
  dd p = dd_mul((dd){q1, 0}, b);
  dd r = dd_add(a, (dd){-p.hi, -p.lo});
  double q2 = r.hi / b.hi;
  return dd_quick_two_sum(q1, q2);
}

/* x^k for an integer k (|k| <= 64): repeated squaring. */
static int dd_powi(dd x, double k, dd *out) {
  if (!(k == floor(k)) || fabs(k) > 64)
    return -1;
  unsigned n = (unsigned)fabs(k);
  dd r = {1, 0}, b = x;
  while (n) {
    if (n & 1)
      r = dd_mul(r, b);
    n >>= 1;
    if (n)
      b = dd_mul(b, b);
  }
  if (k < 0) {
    if (r.hi == 0)
      return -1;
    r = dd_div((dd){1, 0}, r);
  }
  *out = r;
  return 0;
}

struct csvreg__refine_cells {
  const csvreg_spec *s;
  size_t nkeys;          /* the spec's key inputs: key q is input key_input[q] */
  size_t *key_of;        /* [ninputs] its key, or (size_t)-1 */
  size_t nterms;         /* design columns */
  int y_key;             /* the response: 1 from its key cell (plain), 2 from vars[0]'s program */
  unsigned char *var_ok; /* formula: [nvars] the variable can be read in double-double */
  unsigned char *col_ok; /* [nterms] the design column can be */
  int as_written;        /* every column can be (rows may still fall back) */
  size_t cap;
  double *kh, *kl; /* [nkeys x cap] the key cells */
  double *xh, *xl; /* [nterms x cap] the design */
  double *yl, *wl;
  dd *vals;  /* formula: [nvars] one row's variables */
  dd *stack; /* formula: the programs' stack */
};

void csvreg__refine_cells_free(csvreg__refine_cells *rc) {
  if (!rc)
    return;
  free(rc->key_of);
  free(rc->var_ok);
  free(rc->col_ok);
  free(rc->kh);
  free(rc->kl);
  free(rc->xh);
  free(rc->xl);
  free(rc->yl);
  free(rc->wl);
  free(rc->vals);
  free(rc->stack);
  free(rc);
}

/* Can program e be evaluated in double-double? */
static int expr_ok(const csvreg__expr *e, const csvreg_spec *s) {
  for (size_t p = 0; p < e->n; p++) {
    switch (e->ins[p].op) {
    case CSVREG__EXPR_INPUT:
      if (s->input_text && s->input_text[s->fin_input[e->ins[p].arg]])
        return 0;
      break;
    case CSVREG__EXPR_CONST:
    case CSVREG__EXPR_NEG:
    case CSVREG__EXPR_ADD:
    case CSVREG__EXPR_SUB:
    case CSVREG__EXPR_MUL:
    case CSVREG__EXPR_DIV:
    case CSVREG__EXPR_POW: break;
    default: return 0;
    }
  }
  return 1;
}

/* The spec inputs the refinement reads as text: need[k] = 1. */
static void inputs_needed(const csvreg_spec *s, unsigned char *need) {
  if (s->target_input >= 0)
    need[s->target_input] = 1;
  if (s->weights_input >= 0)
    need[s->weights_input] = 1;
  if (!s->formula) {
    for (size_t t = 0; t < s->nterms; t++)
      need[s->term_input[t]] = 1;
    return;
  }
  const csvreg__formula *f = s->formula;
  for (size_t v = 0; v < f->nvars; v++) {
    const csvreg__fvar *fv = &f->vars[v];
    if (s->var_factor && s->var_factor[v] != (size_t)-1)
      continue;
    if (fv->kind == CSVREG__VAR_COLUMN) {
      size_t k = s->fin_input[fv->input];
      if (!s->input_text || !s->input_text[k])
        need[k] = 1;
    } else if (fv->expr && expr_ok(fv->expr, s)) {
      for (size_t p = 0; p < fv->expr->n; p++)
        if (fv->expr->ins[p].op == CSVREG__EXPR_INPUT)
          need[s->fin_input[fv->expr->ins[p].arg]] = 1;
    }
  }
}

csvreg_status csvreg__refine_cells_keys(csvreg_spec *s, csvreg_error *err) {
  if (s->nkeys) /* keyed already: the refinement reads the doubles */
    return CSVREG_OK;
  unsigned char *need = calloc(s->ninputs ? s->ninputs : 1, 1);
  size_t *cols = malloc((s->ninputs ? s->ninputs : 1) * sizeof *cols);
  const char **names = malloc((s->ninputs ? s->ninputs : 1) * sizeof *names);
  csvreg_status st = CSVREG_OK;
  if (!need || !cols || !names)
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  size_t n = 0;
  if (!st) {
    inputs_needed(s, need);
    for (size_t k = 0; k < s->ninputs; k++)
      if (need[k]) {
        cols[n] = s->input_cols[k];
        names[n++] = s->input_names[k];
      }
    if (n)
      st = csvreg__spec_add_keys(s, cols, names, n, err);
  }
  free(need);
  free(cols);
  free(names);
  return st;
}

csvreg_status csvreg__refine_cells_new(csvreg__refine_cells **out, const csvreg_spec *s,
                                       csvreg_error *err) {
  *out = NULL;
  csvreg__refine_cells *rc = calloc(1, sizeof *rc);
  if (!rc)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  rc->s = s;
  rc->nkeys = s->nkeys;
  rc->nterms = s->nterms;
  const csvreg__formula *f = s->formula;
  size_t nv = f ? f->nvars : 0, depth = 1;
  for (size_t v = 0; v < nv; v++)
    if (f->vars[v].expr && f->vars[v].expr->depth > depth)
      depth = f->vars[v].expr->depth;
  rc->key_of = malloc((s->ninputs ? s->ninputs : 1) * sizeof *rc->key_of);
  rc->col_ok = calloc(s->nterms ? s->nterms : 1, 1);
  rc->var_ok = calloc(nv ? nv : 1, 1);
  rc->vals = calloc(nv ? nv : 1, sizeof *rc->vals);
  rc->stack = calloc(depth, sizeof *rc->stack);
  if (!rc->key_of || !rc->col_ok || !rc->var_ok || !rc->vals || !rc->stack) {
    csvreg__refine_cells_free(rc);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  for (size_t k = 0; k < s->ninputs; k++)
    rc->key_of[k] = (size_t)-1;
  for (size_t q = 0; q < s->nkeys; q++)
    rc->key_of[s->key_input[q]] = q;
  const size_t none = (size_t)-1;
  if (!f) {
    for (size_t t = 0; t < s->nterms; t++)
      rc->col_ok[t] = rc->key_of[s->term_input[t]] != none;
  } else {
    for (size_t v = 0; v < nv; v++) {
      const csvreg__fvar *fv = &f->vars[v];
      if (s->var_factor && s->var_factor[v] != none)
        continue;
      if (fv->kind == CSVREG__VAR_COLUMN) {
        rc->var_ok[v] = rc->key_of[s->fin_input[fv->input]] != none;
      } else if (fv->expr && expr_ok(fv->expr, s)) {
        int ok = 1;
        for (size_t p = 0; p < fv->expr->n; p++)
          if (fv->expr->ins[p].op == CSVREG__EXPR_INPUT &&
              rc->key_of[s->fin_input[fv->expr->ins[p].arg]] == none)
            ok = 0;
        rc->var_ok[v] = (unsigned char)ok;
      }
    }
    /* a saved or bound spec's columns are fixed: s->dcols */
    for (size_t t = 0; s->dcols && t < s->nterms && t < s->dcols->ncols; t++) {
      const csvreg__dcol *c = &s->dcols->cols[t];
      int ok = 1;
      for (size_t q = 0; q < c->nfac; q++) {
        size_t v = c->fac[q].var;
        int factor = s->var_factor && s->var_factor[v] != none;
        if (!factor && !rc->var_ok[v])
          ok = 0;
        if (factor && !s->fixed)
          ok = 0;
      }
      rc->col_ok[t] = (unsigned char)ok;
    }
  }
  if (s->target_input >= 0 && rc->key_of[s->target_input] != none)
    rc->y_key = 1;
  else if (f && s->target_expr && f->has_response && rc->var_ok[0])
    rc->y_key = 2;
  int all = rc->y_key != 0 && (s->weights_input < 0 || rc->key_of[s->weights_input] != none);
  for (size_t t = 0; t < s->nterms; t++)
    all &= rc->col_ok[t];
  rc->as_written = all;
  *out = rc;
  return CSVREG_OK;
}

static csvreg_status grow(csvreg__refine_cells *rc, size_t n, csvreg_error *err) {
  if (n <= rc->cap)
    return CSVREG_OK;
  size_t nk = rc->nkeys ? rc->nkeys : 1, nt = rc->nterms ? rc->nterms : 1;
  double **bufs[] = {&rc->kh, &rc->kl, &rc->xh, &rc->xl, &rc->yl, &rc->wl};
  size_t mult[] = {nk, nk, nt, nt, 1, 1};
  for (size_t b = 0; b < sizeof mult / sizeof *mult; b++) {
    if (mult[b] > SIZE_MAX / sizeof(double) / n)
      return csvreg__err_set(err, CSVREG_E_LIMIT, "refinement: chunk too large");
    double *p = realloc(*bufs[b], mult[b] * n * sizeof *p);
    if (!p)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    *bufs[b] = p;
  }
  rc->cap = n;
  return CSVREG_OK;
}

/* Variable v of row i in double-double; -1 when it cannot be (then the
 * main pass's value stands). */
static int var_dd(const csvreg__refine_cells *rc, size_t v, size_t i, dd *out) {
  const csvreg_spec *s = rc->s;
  const csvreg__fvar *fv = &s->formula->vars[v];
  const size_t cap = rc->cap;
  if (fv->kind == CSVREG__VAR_COLUMN) {
    size_t q = rc->key_of[s->fin_input[fv->input]];
    *out = (dd){rc->kh[q * cap + i], rc->kl[q * cap + i]};
    return 0;
  }
  const csvreg__expr *e = fv->expr;
  dd *st = rc->stack;
  size_t h = 0;
  for (size_t p = 0; p < e->n; p++) {
    const csvreg__expr_ins *in = &e->ins[p];
    switch (in->op) {
    case CSVREG__EXPR_INPUT: {
      size_t q = rc->key_of[s->fin_input[in->arg]];
      st[h++] = (dd){rc->kh[q * cap + i], rc->kl[q * cap + i]};
      break;
    }
    case CSVREG__EXPR_CONST: st[h++] = (dd){in->value, 0}; break;
    case CSVREG__EXPR_NEG: st[h - 1] = (dd){-st[h - 1].hi, -st[h - 1].lo}; break;
    case CSVREG__EXPR_ADD:
      h--;
      st[h - 1] = dd_add(st[h - 1], st[h]);
      break;
    case CSVREG__EXPR_SUB:
      h--;
      st[h - 1] = dd_add(st[h - 1], (dd){-st[h].hi, -st[h].lo});
      break;
    case CSVREG__EXPR_MUL:
      h--;
      st[h - 1] = dd_mul(st[h - 1], st[h]);
      break;
    case CSVREG__EXPR_DIV:
      h--;
      if (st[h].hi == 0)
        return -1;
      st[h - 1] = dd_div(st[h - 1], st[h]);
      break;
    case CSVREG__EXPR_POW:
      h--;
      if (st[h].lo != 0 || dd_powi(st[h - 1], st[h].hi, &st[h - 1]))
        return -1;
      break;
    default: return -1;
    }
  }
  if (h != 1 || !isfinite(st[0].hi) || !isfinite(st[0].lo))
    return -1;
  *out = st[0];
  return 0;
}

/* Design column t of row i from the variables (rc->vals, ok[v]). */
static int col_dd(const csvreg__refine_cells *rc, const csvreg_chunk *c, size_t t, size_t i,
                  const unsigned char *vok, dd *out) {
  const csvreg_spec *s = rc->s;
  const csvreg__dcol *col = &s->dcols->cols[t];
  dd x = {1, 0};
  for (size_t q = 0; q < col->nfac; q++) {
    const csvreg__dfac *fc = &col->fac[q];
    size_t slot = s->var_factor ? s->var_factor[fc->var] : (size_t)-1;
    if (slot != (size_t)-1) {
      if (csvreg__chunk_row_levels(c, slot)[i] != (uint32_t)fc->index)
        x = (dd){0, 0};
      continue;
    }
    if (!vok[fc->var])
      return -1;
    dd u = rc->vals[fc->var];
    if (s->formula->vars[fc->var].kind == CSVREG__VAR_POLY &&
        dd_powi(u, (double)(fc->index + 1), &u))
      return -1;
    x = dd_mul(x, u);
  }
  if (!isfinite(x.hi) || !isfinite(x.lo))
    return -1;
  *out = x;
  return 0;
}

int csvreg__refine_cells_as_written(const csvreg__refine_cells *rc) { return rc && rc->as_written; }

csvreg_status csvreg__refine_cells_read(csvreg__refine_cells *rc, const csvreg_chunk *c,
                                        refine_view *out, csvreg_error *err) {
  const csvreg_spec *s = rc->s;
  const size_t n = csvreg_chunk_rows(c);
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  csvreg_status st = grow(rc, n > ldx ? n : (ldx ? ldx : 1), err);
  if (st)
    return st;
  const size_t cap = rc->cap, none = (size_t)-1;
  /* the key cells, a column at a time; a cell that does not read (a
   * missing value token of a response, not used) keeps the chunk's NaN */
  for (size_t q = 0; q < rc->nkeys; q++)
    for (size_t i = 0; i < n; i++) {
      size_t len;
      const char *p = csvreg__chunk_key(c, q, i, &len);
      double *h = &rc->kh[q * cap + i], *l = &rc->kl[q * cap + i];
      if (csvreg__parse_dd(p, len, h, l))
        *h = NAN, *l = 0;
    }
  /* the response and the weights: the chunk's values, the rests here */
  memset(rc->yl, 0, n * sizeof *rc->yl);
  if (rc->y_key == 1) {
    size_t q = rc->key_of[s->target_input];
    for (size_t i = 0; i < n; i++)
      if (rc->kh[q * cap + i] == y[i])
        rc->yl[i] = rc->kl[q * cap + i];
  }
  out->y = y;
  out->w = w;
  out->wl = NULL;
  if (w) {
    memset(rc->wl, 0, n * sizeof *rc->wl);
    size_t q = rc->key_of[s->weights_input];
    for (size_t i = 0; q != none && i < n; i++)
      if (rc->kh[q * cap + i] == w[i])
        rc->wl[i] = rc->kl[q * cap + i];
    out->wl = rc->wl;
  }
  /* the design: a plain spec's is the chunk's, with rests of the same
   * leading dimension; a formula's is recomputed in our buffer */
  out->x = s->formula ? rc->xh : x;
  out->ld = s->formula ? cap : ldx;
  const size_t ld = out->ld;
  for (size_t t = 0; t < rc->nterms; t++) {
    if (s->formula)
      memcpy(rc->xh + t * cap, x + t * ldx, n * sizeof *x);
    memset(rc->xl + t * ld, 0, n * sizeof *rc->xl);
  }
  if (!s->formula) {
    for (size_t t = 0; t < rc->nterms; t++) {
      size_t q = rc->key_of[s->term_input[t]];
      if (q == none)
        continue;
      const double *xh = x + t * ldx;
      double *xl = rc->xl + t * ldx;
      const double *kh = rc->kh + q * cap, *kl = rc->kl + q * cap;
      for (size_t i = 0; i < n; i++)
        if (kh[i] == xh[i])
          xl[i] = kl[i];
    }
  } else if (s->dcols) {
    const size_t nv = s->formula->nvars;
    unsigned char vok[64], *vk = nv <= 64 ? vok : malloc(nv);
    if (!vk)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
      for (size_t v = 0; v < nv; v++)
        vk[v] = rc->var_ok[v] && !var_dd(rc, v, i, &rc->vals[v]);
      for (size_t t = 0; t < rc->nterms && t < s->dcols->ncols; t++) {
        dd d;
        if (rc->col_ok[t] && !col_dd(rc, c, t, i, vk, &d)) {
          /* hi the main pass's value where R's arithmetic agrees to the
           * last bit (so the fallback rows and the others share hi) */
          double *xh = rc->xh + t * cap + i;
          dd r = dd_add(d, (dd){-*xh, 0});
          if (fabs(r.hi) <= 0x1p-50 * fabs(*xh))
            rc->xl[t * cap + i] = r.hi;
          else
            *xh = d.hi, rc->xl[t * cap + i] = d.lo;
        }
      }
      if (rc->y_key == 2 && vk[0]) {
        dd r = dd_add(rc->vals[0], (dd){-y[i], 0});
        if (fabs(r.hi) <= 0x1p-50 * fabs(y[i]))
          rc->yl[i] = r.hi;
      }
    }
    if (vk != vok)
      free(vk);
  }
  out->n = n;
  out->xl = rc->xl;
  out->yl = rc->yl;
  return CSVREG_OK;
}
