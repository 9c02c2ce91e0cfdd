/*
 * formula.h - R's model formulas (the subset of issue 12): parsing, term
 * expansion as R's terms(), and the design columns of model.matrix.
 *
 * Three steps, each usable alone:
 *   csvreg__formula_parse    text -> syntax tree (syntax and function checks)
 *   csvreg__formula_expand   tree + the header's names -> inputs, variables,
 *                            terms, term labels, intercept (R's terms())
 *   csvreg__formula_columns  + which variables are categorical and their
 *                            levels -> the design columns (R's model.matrix),
 *                            recomputed whenever a level appears mid-stream
 * Errors are CSVREG_E_USAGE with `*where` set to the byte offset in the
 * formula text of the offending position (csvreg__formula_caret draws it).
 */
#ifndef CSVREG_FORMULA_H
#define CSVREG_FORMULA_H

#include <stddef.h>

#include "csvreg.h"
#include "expr.h"

/* Offset meaning "no position in the text" (for errors not tied to one). */
#define CSVREG__NO_OFFSET ((size_t)-1)

typedef enum csvreg__var_kind {
  CSVREG__VAR_COLUMN, /* a bare column: numeric or categorical, as the data say */
  CSVREG__VAR_EXPR,   /* a numeric expression: log(x), I(x^2), ... */
  CSVREG__VAR_POLY,   /* poly(expr, k, raw = TRUE): columns expr^1 .. expr^k */
  CSVREG__VAR_FACTOR  /* factor(x), relevel(x, ref = "b"): always categorical */
} csvreg__var_kind;

/* A variable: one distinct expression of the formula (R's "variables"). */
typedef struct csvreg__fvar {
  char *name; /* as R deparses it: "log(carat)", "factor(cyl)" */
  csvreg__var_kind kind;
  size_t input;       /* COLUMN, FACTOR: the input column it reads */
  char *ref;          /* FACTOR from relevel: the baseline level; else NULL */
  unsigned degree;    /* POLY: k; 1 otherwise */
  csvreg__expr *expr; /* EXPR, POLY (the x): program over the inputs; else NULL */
  size_t offset;      /* where it first appears in the text */
} csvreg__fvar;

/* A term: a set of variables (indices in increasing order). */
typedef struct csvreg__fterm {
  size_t nvars;
  size_t *vars;
  unsigned char *code; /* [nvars] R's factors attribute: 1 contrasts, 2 all levels */
  char *label;         /* as attr(terms(f), "term.labels") */
} csvreg__fterm;

typedef struct csvreg__formula {
  char *text; /* the formula as given */
  void *tree; /* the syntax tree (formula.c) */
  /* Filled by csvreg__formula_expand: */
  int expanded;
  size_t ninputs;
  char **inputs;        /* [ninputs] input column names, in order of appearance */
  size_t *input_offset; /* [ninputs] where each first appears (NO_OFFSET: from `.`) */
  size_t nvars;
  csvreg__fvar *vars; /* [nvars] in R's order: the response first */
  int has_response;   /* 1: vars[0] is the response */
  size_t nterms;
  csvreg__fterm *terms; /* [nterms] sorted by order as terms() does */
  int intercept;
} csvreg__formula;

/* Parses `text`. On error *out is NULL and *where (if not NULL) the byte
 * offset of the offending position. */
csvreg_status csvreg__formula_parse(csvreg__formula **out, const char *text, size_t *where,
                                    csvreg_error *err);
void csvreg__formula_free(csvreg__formula *f);

/* Expands the parsed formula as R's terms(): `.` stands for every name of
 * `names` (the header; may be NULL when no `.` is used) except the columns
 * the response reads and those in `exclude` (the weights column). Fills the
 * expansion fields of `f`. May be called once. */
csvreg_status csvreg__formula_expand(csvreg__formula *f, const char *const *names, size_t nnames,
                                     const char *const *exclude, size_t nexclude, size_t *where,
                                     csvreg_error *err);

/* One factor of a design column's product. */
typedef struct csvreg__dfac {
  size_t var;   /* variable index */
  size_t index; /* categorical: the level (indicator var == levels[index]);
                   POLY: power - 1; other numeric variables: 0 */
} csvreg__dfac;

/* A design column: the product, in this order, of its factors' values. */
typedef struct csvreg__dcol {
  char *name;  /* as colnames(model.matrix(...)) */
  size_t term; /* the term it belongs to (R's "assign" - 1) */
  size_t nfac;
  csvreg__dfac *fac;
} csvreg__dcol;

typedef struct csvreg__dcols {
  int intercept; /* 1: an "(Intercept)" column comes before cols[0] */
  size_t ncols;
  csvreg__dcol *cols;
} csvreg__dcols;

/* The design columns of an expanded formula as R's model.matrix with
 * treatment contrasts. categorical[v] says whether variable v (of kind
 * COLUMN) is categorical (NULL: none); FACTOR variables always are, others
 * never. levels[v][0 .. nlevels[v]) are a categorical variable's levels in
 * order, baseline first. A factor coded by contrasts gets a column for each
 * level but the first; by indicators, one for each level. Which of the two
 * does not depend on how many levels are known yet, so columns only get added
 * as levels appear. Limit: CSVREG_E_LIMIT past 2^20 columns. */
csvreg_status csvreg__formula_columns(const csvreg__formula *f, const int *categorical,
                                      const size_t *nlevels, const char *const *const *levels,
                                      csvreg__dcols **out, csvreg_error *err);
void csvreg__dcols_free(csvreg__dcols *d);

/* Writes the formula and below it a caret under byte `offset` into buf
 * (size `size`), each line after `indent` spaces:
 *     "  y ~ lg(x)\n        ^"
 * Control bytes show as spaces; the caret counts UTF-8 characters. Returns
 * the length the text would have (as snprintf). */
size_t csvreg__formula_caret(const char *text, size_t offset, size_t indent, char *buf,
                             size_t size);

/* The whole formula as R's deparse prints it (the "Call:" line of
 * summary.lm): `log(y)~x+I(x^2)` -> "log(y) ~ x + I(x^2)". malloc'd; NULL
 * when out of memory. */
char *csvreg__formula_deparse(const csvreg__formula *f);

/* R's deparse of a number (15 significant digits, fixed or scientific
 * notation by R's width rule): 2 -> "2", 1e5 -> "1e+05", 1e-4 -> "1e-04".
 * buf holds at least 32 bytes. */
void csvreg__formula_num(double v, char *buf, size_t size);

#endif
