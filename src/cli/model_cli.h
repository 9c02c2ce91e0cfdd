/*
 * model_cli.h - the program's side of kept models: reading and writing model
 * files and opening an input with the model's spec (model_io.c).
 */
#ifndef CSVREG_MODEL_CLI_H
#define CSVREG_MODEL_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* Reads and checks a model file; on failure prints "csvreg: FILE: message"
 * and returns the exit status (0 on success). */
int cli_model_read(const char *path, csvreg_model **out);
/* cli_model_read with csvreg_model_read_fd_with's flags */
int cli_model_read_with(const char *path, unsigned flags, csvreg_model **out);

/* Writes the model atomically (atomic_file.h); on failure prints why and
 * returns the exit status (0 on success). */
int cli_model_write(const char *path, const csvreg_model *m);

/* The input options that predict and eval share (one parser for both). */
typedef struct model_read_opts {
  int skip_bad, quiet, stats, delimiter_set, no_header;
  char delimiter;
  size_t chunk_rows;
  int decompress; /* --decompress: CSVREG_DECOMPRESS_AUTO (0) or _NONE */
} model_read_opts;

enum { MR_SKIP_BAD = 512, MR_NO_HEADER, MR_CHUNK_ROWS, MR_QUIET, MR_STATS, MR_DECOMPRESS };

/* Their entries for a getopt_long table. */
#define MODEL_READ_LONG_OPTIONS                                                                    \
  {"skip-bad", no_argument, NULL, MR_SKIP_BAD}, {"delimiter", required_argument, NULL, 'd'},       \
      {"no-header", no_argument, NULL, MR_NO_HEADER},                                              \
      {"chunk-rows", required_argument, NULL, MR_CHUNK_ROWS},                                      \
      {"quiet", no_argument, NULL, MR_QUIET}, {"stats", no_argument, NULL, MR_STATS}, {            \
    "decompress", required_argument, NULL, MR_DECOMPRESS                                           \
  }

/* Handles option `c` (`opt` is argv[optind - 1]) if it is one of them and
 * returns -1 to go on; otherwise, or when its argument is wrong, prints the
 * usage error and returns CLI_EXIT_USAGE. */
int model_read_option(const char *command, int c, const char *arg, const char *opt,
                      model_read_opts *o);

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

/* As cli_fit_model_write, without copying the state or solving it again
 * (csvreg_model_new_from_fit; issue 12): the model takes *state, *fitted
 * (NULL: the fit is *state's) and *fit, which are NULL afterwards, and is
 * left in *out (also on a failed write; NULL when it could not be made) for
 * the caller to read them through and free. `fit` must be the classical,
 * unrefined solve. */
int cli_fit_model_write_fit(const char *path, csvreg_accum **state, csvreg_accum **fitted,
                            csvreg_fit **fit, const csvreg_spec *spec,
                            const csvreg_spec_options *so, const csvreg_reader_options *ro,
                            const csvreg_solve_options *solve, csvreg_model **out);

/* --update (issue 15): the next cli_fit_model_write also keeps `from`'s
 * records of folded inputs and adds `r` (both borrowed until then). */
void cli_fit_model_fold(const csvreg_model *from, const csvreg_fold_record *r);

/* fit --vcov TYPE or --refine with -o: the next cli_fit_model_write keeps
 * `fit`'s robust covariance, for predict's intervals, and its refined
 * coefficients (borrowed until then; issue 13). */
void cli_fit_model_keep(const csvreg_fit *fit);

/* Opens the input of predict or eval (`path` NULL: standard input) with the
 * model's delimiter and header unless the options override them, and binds
 * the model's spec to its header (csvreg_model_spec_new with `flags`; a
 * missing column is an error naming the input, before any output). */
csvreg_status model_input_open(const model_read_opts *o, const csvreg_model *m, const char *path,
                               unsigned flags, csvreg_reader **reader, csvreg_spec **spec,
                               csvreg_error *err);

/* The rows of predict: the input read through the model's spec by the
 * library's pass engine (model_rows.c), on one thread or `threads`, with the
 * progress line and --stats. */
typedef struct model_rows {
  csvreg_pass *pass;
  csvreg_spec *spec;
  progress prog;
  double t0;
} model_rows;

/* Opens the input (the model's delimiter and header unless the options
 * override them; `co` borrowed until model_rows_close; on_bad: the rows
 * --skip-bad drops, in input order) and binds the model's spec to its
 * header (csvreg_model_spec_new with `flags`; a missing column is an error
 * naming the input, before any output). model_rows_close frees what was
 * made, also after a failure. */
csvreg_status model_rows_open(model_rows *r, const model_read_opts *o, const csvreg_model *m,
                              const char *path, unsigned flags, size_t threads,
                              const csvreg_chunk_options *co, csvreg_bad_row_fn on_bad,
                              void *on_bad_ctx, csvreg_error *err);

/* The input's name ("<stdin>"). */
const char *model_rows_source(const model_rows *r);

/* The bytes of a piece of a file read with threads (the pass's piece_bytes;
 * CSVREG_PIECE_BYTES overrides the default). */
size_t model_rows_piece_bytes(void);

/* Reads every record into a sink of `type` (csvreg_pass_run). */
csvreg_status model_rows_run(model_rows *r, const csvreg_sink_type *type, const void *arg,
                             void **out, csvreg_error *err);

/* Ends the progress line and flushes standard output (the rows before an
 * error are out before its message); with `stats`, after a run that
 * succeeded, prints the run's statistics with `counts`. */
void model_rows_finish(model_rows *r, const csvreg_counts *counts, int stats);
void model_rows_close(model_rows *r);

#endif
