/*
 * validate.h - the report of fit's --holdout / --cv scores (validate.c); the
 * split and the scores are the library's (csvreg_sink_split).
 */
#ifndef CSVREG_VALIDATE_H
#define CSVREG_VALIDATE_H

#include <stdio.h>

#include "cli.h"

typedef struct validation {
  int mode; /* 0 none, 1 holdout, 2 cv */
  double fraction;
  size_t k;
  unsigned long long seed;
  csvreg_score *scores; /* holdout: [0] the held-out rows; cv: each fold */
  size_t nscores;
} validation;

/* Writes the scores after the fit report (text, csv) or as the report's
 * "holdout"/"cv" member (json: writes the whole report). */
csvreg_status validation_write(FILE *out, const validation *v, const csvreg_fit *fit,
                               report_format format, csvreg_error *err);

#endif
