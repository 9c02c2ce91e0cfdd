/*
 * plot.h - `eval --plot FILE`: the 2x2 figure drawn with cairo (plot.c) from
 * the library's binned counts and residual sample; without cairo the
 * program is built with plot_none.c, which says so.
 */
#ifndef CSVREG_PLOT_H
#define CSVREG_PLOT_H

#include <stddef.h>

#include "csvreg.h"

typedef enum plot_format { PLOT_PNG = 0, PLOT_SVG, PLOT_PDF } plot_format;

/* The format named by the path's extension (.png, .svg, .pdf, any case);
 * -1 for another. */
int plot_format_of(const char *path);

/* 1 when the program was built with cairo. */
int plot_available(void);

typedef struct plot_data {
  const char *title;    /* the model, e.g. its formula */
  const char *source;   /* the input's name */
  csvreg_grid grid[3];  /* CSVREG_GRID_ACTUAL, _RESIDUAL, _HISTOGRAM */
  const double *sample; /* sorted residuals for the Q-Q plot */
  size_t nsample;
  csvreg_metrics m;
} plot_data;

/* Draws the figure into `path`. 0, or -1 with a message in msg. */
int plot_write(const char *path, plot_format fmt, const plot_data *d, char *msg, size_t msgsize);

/* plot_model.c: --plot's Q-Q sample seed (the rows' keys); --plot ARG
 * parsed for `command` (0, or the usage error's exit status); the figure of
 * `model` scored into `sc` (csvreg_sink_eval_with with plot = 1) drawn into
 * `path` (0, or an exit status having said why). */
#define PLOT_SEED 20240601u
int plot_option(const char *command, const char *arg, const char **path, plot_format *fmt);
int plot_model_scoring(const char *path, plot_format fmt, const csvreg_model *model,
                       const csvreg_scoring *sc, const csvreg_metrics *m, const char *source);

#endif
