/*
 * model_cli.h - the program's side of kept models: reading and writing model
 * files (model_io.c), finding and parsing the model's columns in an input
 * (model_rows.c).
 */
#ifndef CSVREG_MODEL_CLI_H
#define CSVREG_MODEL_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* Reads and checks a model file; on failure prints "csvreg: FILE: message"
 * and returns the exit status (0 on success). */
int cli_model_read(const char *path, csvreg_model **out);

/* Writes the model atomically (atomic_file.h); on failure prints why and
 * returns the exit status (0 on success). */
int cli_model_write(const char *path, const csvreg_model *m);

/* The input options that predict and eval share (one parser for both). */
typedef struct model_read_opts {
  int skip_bad, quiet, stats, delimiter_set, no_header;
  char delimiter;
  size_t chunk_rows;
} model_read_opts;

enum { MR_SKIP_BAD = 512, MR_NO_HEADER, MR_CHUNK_ROWS, MR_QUIET, MR_STATS };

/* Their entries for a getopt_long table. */
#define MODEL_READ_LONG_OPTIONS                                                                    \
  {"skip-bad", no_argument, NULL, MR_SKIP_BAD}, {"delimiter", required_argument, NULL, 'd'},       \
      {"no-header", no_argument, NULL, MR_NO_HEADER},                                              \
      {"chunk-rows", required_argument, NULL, MR_CHUNK_ROWS},                                      \
      {"quiet", no_argument, NULL, MR_QUIET}, {                                                    \
    "stats", no_argument, NULL, MR_STATS                                                           \
  }

/* Handles option `c` if it is one of them: returns 1 (handled), 0 (not one
 * of them) or -1 after printing a usage error. */
int model_read_option(const char *command, int c, const char *arg, model_read_opts *o);

/* The end of predict's and eval's parsing: the FILE operand and the required
 * --model. Returns -1 to go on, or CLI_EXIT_USAGE after a usage error. */
int model_args_done(const char *command, int argc, char **argv, const char **path,
                    const char *model);

/* Builds the model of a fit (the accumulator and the reading options that
 * predict and eval need) and writes it to `path` with cli_model_write.
 * Returns 0 or the exit status after reporting the error. */
int cli_fit_model_write(const char *path, const csvreg_accum *acc, const csvreg_spec *spec,
                        const csvreg_spec_options *so, const csvreg_reader_options *ro,
                        const csvreg_solve_options *solve);

/* The model's columns in one input. */
typedef struct model_cols {
  size_t ncolumns; /* the input's width */
  size_t p;        /* features */
  size_t *feat;    /* [p] 0-based input column of each feature */
  size_t target;   /* input column of the target (need_target) */
  int has_weights;
  size_t weights; /* input column of the weights */
  csvreg_na *na;  /* the model's missing-value tokens */
} model_cols;

/* Finds the model's features (and, with need_target, its target and weights
 * column) by exact header name, in any order. CSVREG_E_COLUMN naming the
 * first missing or ambiguous column. */
csvreg_status model_cols_bind(model_cols *mc, const csvreg_model *m, const csvreg_reader *r,
                              int need_target, csvreg_error *err);
void model_cols_free(model_cols *mc);

typedef enum row_status {
  ROW_OK = 0,      /* every used cell is a number */
  ROW_MISSING = 1, /* some used cell is an NA token; *col is its input column */
  ROW_BAD = 2,     /* a ragged row or a non-number (error filled in) */
  ROW_FATAL = 3    /* a negative weight: never skipped, as in fit (error filled in) */
} row_status;

/* Parses the record's features into x[j * ld] (j < p) and, with y/w not
 * NULL, the target and weights. A negative weight is ROW_FATAL. On ROW_BAD the
 * error names source, line, column and text. */
row_status model_cols_parse(const model_cols *mc, const csvreg_reader *r, const csvreg_record *rec,
                            double *x, size_t ld, double *y, double *w, size_t *col,
                            csvreg_error *err);

#endif
