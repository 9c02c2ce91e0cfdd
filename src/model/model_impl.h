/*
 * model_impl.h - the model object, shared by model.c (files) and predict.c
 * (predictions and their intervals).
 */
#ifndef CSVREG_MODEL_IMPL_H
#define CSVREG_MODEL_IMPL_H

#include "csvreg.h"

struct csvreg_model {
  csvreg_accum *accum;
  csvreg_fit *fit;
  csvreg_model_options opt; /* strings point at weights and na below */
  char *weights, *na;
  /* For intervals: the kept coefficient slots (intercept first) and the
   * upper-triangular U (rank x rank) with U'U = A'A over those columns of
   * the shifted design, so the unscaled variance of a fitted value at the
   * shifted row v is |U^-T v|^2. Built on first use. */
  size_t rank;
  size_t *kept;
  double *u;
};

/* Builds kept and u (predict.c). */
csvreg_status model_prepare_factor(csvreg_model *m, csvreg_error *err);

#endif
