/*
 * plot_model.c - the figure of a model scored on rows, shared by `eval --plot`
 * (a saved model on new rows) and `fit --plot` (the fit on its own training
 * rows, in a second pass): the option's parsing (the module that draws is
 * loaded then, so a missing one is said before the pass), the scoring pass
 * with the plot summaries, and the figure drawn from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

int plot_format_of(const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot || strchr(dot, '/'))
    return -1;
  static const char *const ext[3] = {".png", ".svg", ".pdf"};
  for (int k = 0; k < 3; k++) {
    size_t i = 0;
    while (dot[i] && ext[k][i] && (dot[i] | 0x20) == ext[k][i])
      i++;
    if (!dot[i] && !ext[k][i])
      return k;
  }
  return -1;
}

int plot_option(const char *command, const char *arg, const char **path, plot_format *fmt) {
  int f = plot_format_of(arg);
  if (f < 0)
    return cli_usage_error(command,
                           "--plot: expected a file name ending in .png, .svg or .pdf, "
                           "got '%s'",
                           arg);
  char msg[1024];
  if (plot_load(msg, sizeof msg))
    return cli_usage_error(command, "--plot: %s", msg);
  *path = arg;
  *fmt = (plot_format)f;
  return 0;
}

int plot_model_scoring(const char *path, plot_format fmt, const csvreg_model *model,
                       const csvreg_scoring *sc, const csvreg_metrics *m, const char *source) {
  plot_data d;
  memset(&d, 0, sizeof d);
  char title[1024];
  const char *formula = csvreg_model_formula(model);
  if (formula) {
    snprintf(title, sizeof title, "%s", formula);
  } else {
    size_t len = (size_t)snprintf(title, sizeof title, "%s ~", csvreg_model_target(model));
    for (size_t j = 0; j < csvreg_model_nfeatures(model) && len < sizeof title; j++)
      len += (size_t)snprintf(title + len, sizeof title - len, "%s %s", j ? " +" : "",
                              csvreg_model_feature(model, j));
  }
  d.title = title;
  d.source = source;
  d.m = *m;
  for (int i = 0; i < 3; i++)
    csvreg_scoring_grid(sc, i, &d.grid[i]);
  d.nsample = csvreg_scoring_sample(sc, NULL);
  double *sample = malloc((d.nsample ? d.nsample : 1) * sizeof *sample);
  if (!sample) {
    cli_errorf("out of memory");
    return CLI_EXIT_INTERNAL;
  }
  csvreg_scoring_sample(sc, sample);
  d.sample = sample;
  char msg[1024];
  int rc = plot_write(path, fmt, &d, msg, sizeof msg);
  free(sample);
  if (rc)
    cli_errorf("%s", msg);
  return rc;
}
