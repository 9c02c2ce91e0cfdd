/*
 * plot.h - `eval --plot FILE`: the 2x2 figure drawn with cairo (plot.c) from
 * the library's binned counts and residual sample. plot.c is built as the
 * module csvreg-plot.so, which the program loads (plot_module.c) only when
 * --plot is given: the program itself does not link cairo, so every other
 * command starts without loading cairo's ~20 shared libraries.
 */
#ifndef CSVREG_PLOT_H
#define CSVREG_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "csvreg.h"

typedef enum plot_format { PLOT_PNG = 0, PLOT_SVG, PLOT_PDF } plot_format;

/* The format named by the path's extension (.png, .svg, .pdf, any case);
 * -1 for another. */
int plot_format_of(const char *path);

typedef struct plot_data {
  const char *title;    /* the model, e.g. its formula */
  const char *source;   /* the input's name */
  csvreg_grid grid[3];  /* CSVREG_GRID_ACTUAL, _RESIDUAL, _HISTOGRAM */
  const double *sample; /* sorted residuals for the Q-Q plot */
  size_t nsample;
  csvreg_metrics m;
} plot_data;

/* The module's one entry point (plot.c), found by dlsym under
 * PLOT_DRAW_SYMBOL: draws the figure into fp (`path` names it in messages).
 * 0, or an exit status (CLI_EXIT_INTERNAL, CLI_EXIT_IO) with a message in
 * msg. The suffix is bumped whenever plot_data or this signature changes, so
 * a module from another build is refused rather than misread. */
#define PLOT_DRAW_SYMBOL "csvreg_plot_draw_v1"
typedef int plot_draw_fn(FILE *fp, const char *path, plot_format fmt, const plot_data *d, char *msg,
                         size_t msgsize);

/* plot_module.c: loads the module (once); 0, or CLI_EXIT_USAGE with the
 * reason in msg (built without cairo, module not found, cairo missing).
 * plot_module_path: where the module is or would be looked for, without
 * loading it (for --version); NULL when built without cairo. */
int plot_load(char *msg, size_t msgsize);
const char *plot_module_path(void);

/* Draws the figure into `path` (atomically) through the loaded module. 0, or
 * an exit status with a message in msg. */
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
