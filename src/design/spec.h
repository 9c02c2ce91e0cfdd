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
};

#endif
