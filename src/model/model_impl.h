/*
 * model_impl.h - the model object, shared by model.c (files) and predict.c
 * (predictions and their intervals).
 */
#ifndef CSVREG_MODEL_IMPL_H
#define CSVREG_MODEL_IMPL_H

#include <stddef.h>

#include "csvreg.h"

/* What the model reads: its input columns (names, in the order [inputs of
 * the terms..., target, weights]) and, per term, the inputs it reads. Today
 * a term is one input of its own name, so the spec follows from the state's
 * term names and the weights column; the file stores it whole ("spec") so
 * that terms built from several inputs (formulas, factor levels,
 * transforms) have a place to go. */
typedef struct model_spec {
  size_t ninputs;
  const char **inputs; /* [ninputs] borrowed from the accumulator and `weights` */
  size_t nterms;
  size_t *term_input; /* [nterms] the one input each term reads */
  size_t target;      /* index into inputs */
  ptrdiff_t weights;  /* index into inputs, -1: unweighted */
} model_spec;

struct csvreg_model {
  csvreg_accum *accum;
  csvreg_fit *fit;
  csvreg_model_options opt; /* strings point at weights and na below */
  char *weights, *na;
  model_spec spec;
  /* For intervals: the kept coefficient slots (intercept first) and the
   * upper-triangular U (rank x rank) with U'U = A'A over those columns of
   * the shifted design, so the unscaled variance of a fitted value at the
   * shifted row v is |U^-T v|^2. Built on first use. */
  size_t rank;
  size_t *kept;
  double *u;
};

/* Builds kept and u (predict.c). */
csvreg_status csvreg__model_prepare_factor(csvreg_model *m, csvreg_error *err);

#endif
