/*
 * spec.h - the resolved model specification, shared by chunk.c and design.c.
 */
#ifndef CSVREG_SPEC_H
#define CSVREG_SPEC_H

#include <stddef.h>

#include "csvreg.h"

struct csvreg_spec {
  size_t ncolumns;         /* width of the input */
  size_t ninputs;          /* input columns the model reads */
  size_t *input_cols;      /* [ninputs] 0-based column of each input */
  char **input_names;      /* [ninputs] */
  size_t nterms;           /* model terms, intercept excluded */
  size_t *term_input;      /* [nterms] the input each term reads */
  ptrdiff_t target_input;  /* input index of the target, -1: none (predict) */
  ptrdiff_t weights_input; /* input index of the weights, -1: none */
  int intercept;
  int skip_bad;
  csvreg_na *na; /* missing-value tokens */
  /* A formula spec whose design is computed (csvreg_spec_new_formula with a
   * term or response that is not a plain column); NULL/0 otherwise, and a
   * formula of plain columns gives the same spec as the options would. */
  struct csvreg__formula *formula; /* owned */
  struct csvreg__dcols *dcols;     /* owned: design column t is term t */
  size_t *fin_input;               /* [formula->ninputs] formula input -> spec input */
  char **term_names;               /* [nterms] R's column names */
  char *target_expr;               /* the response as written when it is an expression */
};

/* Frees the formula fields (spec_formula.c); the rest is csvreg_spec_free's. */
void csvreg__spec_free_formula(csvreg_spec *s);

#endif
