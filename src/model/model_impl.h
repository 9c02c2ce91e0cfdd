/*
 * model_impl.h - the model object, shared by model.c (files) and predict.c
 * (predictions and their intervals).
 */
#ifndef CSVREG_MODEL_IMPL_H
#define CSVREG_MODEL_IMPL_H

#include <stddef.h>

#include "csvreg.h"

typedef struct json_t json_t;

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

/* A formula's model (file version 3): what rebuilds its spec. The input
 * columns the formula reads (and the weights), in the training header's
 * order, with their text flag (bare uses categorical), are the "header" the
 * formula is expanded against again, so `.` means what it meant. */
typedef struct model_formula {
  char *text;
  size_t ncols;
  char **cols;
  unsigned char *text_cols; /* [ncols] */
  int intercept;
  size_t nfactors;
  char **fnames;  /* [nfactors] variable names ("factor(cyl)", "cut") */
  size_t *nlev;   /* [nfactors] */
  char ***levels; /* [nfactors][nlev[k]] final order, baseline first */
} model_formula;

struct csvreg_model {
  csvreg_accum *accum;
  /* A formula model with categorical variables: the state saved, pre-select
   * (every level's column; accum is it finished), which --update merges
   * with new rows that bring new levels exactly. NULL: accum is the state
   * saved (older version 3 files too: they cannot take new levels). */
  csvreg_accum *pre;
  model_formula *fm; /* NULL: a model of input columns (versions 1, 2) */
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
  /* Made by csvreg_model_new_from_fit: kept and u are never built (the
   * finished state may have given its numbers to the fit). */
  int for_saving;
  /* Read with CSVREG_MODEL_READ_PREDICT: no pre-select state, no factor,
   * and the finished state's numbers given to the fit. */
  int predict_only;
  /* Read with CSVREG_MODEL_READ_PREDICT or _UPDATE: no design factor. */
  int no_factor;
  /* What fit --update folded in (csvreg_fold_record as JSON objects), or
   * NULL: saved as "folded" only when there is one (issue 15). */
  json_t *folded;
  /* A robust covariance from fit --vcov TYPE -o (model_vcov.c, issue 13):
   * its type and V [nterms * nterms], column-major, NaN where aliased;
   * rcov NULL (classical) otherwise. Saved as "robust". */
  int vcov_type;
  double *rcov;
};

/* csvreg_model_load that takes `text` (malloc'd) and frees it once the JSON
 * is read, before the model is built (model_read.c). */
csvreg_status csvreg__model_load_owned(csvreg_model **out, char *text, size_t len,
                                       unsigned flags, csvreg_error *err);

/* A model file streamed by model_read.c: its big arrays read into *scan
 * (state_scan.c, csvreg__jscan_feed), which this takes and frees. *whole
 * set (and CSVREG_OK) when jansson refuses the rest: the caller loads the
 * whole text instead, for the messages of before. */
struct csvreg__jscan;
csvreg_status csvreg__model_load_scanned(csvreg_model **out, struct csvreg__jscan *scan,
                                         int *whole, unsigned flags, csvreg_error *err);

/* model_vcov.c: the "robust" member (a new reference), and reading it back
 * (absent: classical) once m->fit is made. */
json_t *csvreg__model_vcov_json(const csvreg_model *m);
csvreg_status csvreg__model_vcov_from_json(csvreg_model *m, const json_t *r, csvreg_error *err);

/* CSVREG_E_USAGE (naming function `fn`) unless `fit` has the terms of
 * m's fit, by name and aliasing (model_vcov.c). */
csvreg_status csvreg__model_same_terms(const csvreg_model *m, const csvreg_fit *fit,
                                      const char *fn, csvreg_error *err);

/* model_refined.c: the "refined" member of a model whose fit was refined
 * (fit --refine -o; a new reference), and reading it back onto m->fit
 * (absent: not refined) once m->fit is made. */
json_t *csvreg__model_refined_json(const csvreg_model *m);
csvreg_status csvreg__model_refined_from_json(csvreg_model *m, const json_t *r,
                                              csvreg_error *err);

/* The spec of a formula model against its own training columns, levels
 * fixed (csvreg__spec_fix_levels) unless `open` (levels found as the rows
 * come, for --update); model_spec.c binds it to a new header. */
csvreg_status csvreg__model_formula_spec(const csvreg_model *m, int skip_bad, int open,
                                         csvreg_spec **out, csvreg_error *err);

/* Builds kept and u (predict.c). */
csvreg_status csvreg__model_prepare_factor(csvreg_model *m, csvreg_error *err);

#endif
