/*
 * fit_impl.h - the layout of a solved fit, private to the library (solve.c
 * makes it; score, model, predict and the JSON writer read it; white-box
 * tests may too). The public view is csvreg_fit_summary plus accessors.
 */
#ifndef CSVREG_FIT_IMPL_H
#define CSVREG_FIT_IMPL_H

#include "csvreg.h"

struct csvreg_fit {
  csvreg_fit_summary s;
  char *target;
  csvreg_term *terms; /* [s.nterms]; each name points into term_names */
  char **term_names;  /* [s.nterms], owned */
  char **input_names; /* [s.ninputs], owned */
  uint64_t *na_by_input;
  double *xtx_inv; /* [nterms * nterms], column-major */
};

#endif
