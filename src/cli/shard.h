/*
 * shard.h - the program's side of mergeable states: fit's shard options
 * (--emit-state, --range, --bytes, --threads, --update, --decay, --columns,
 * --header-line) and their run (fit_shard.c, shard_input.c); state lines
 * and the merge and solve commands are in state_cli.h.
 */
#ifndef CSVREG_SHARD_H
#define CSVREG_SHARD_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* getopt values of fit's shard options (above cmd_fit.c's own). */
enum {
  SHARD_OPT_EMIT_STATE = 512,
  SHARD_OPT_RANGE,
  SHARD_OPT_BYTES,
  SHARD_OPT_THREADS,
  SHARD_OPT_UPDATE,
  SHARD_OPT_DECAY,
  SHARD_OPT_COLUMNS,
  SHARD_OPT_HEADER_LINE,
  SHARD_OPT_SHARD_ID,
  SHARD_OPT_END
};

/* Entries for fit's long option table. */
#define SHARD_LONG_OPTIONS                                                                         \
  {"emit-state", no_argument, NULL, SHARD_OPT_EMIT_STATE},                                         \
      {"range", required_argument, NULL, SHARD_OPT_RANGE},                                         \
      {"bytes", required_argument, NULL, SHARD_OPT_BYTES},                                         \
      {"threads", required_argument, NULL, SHARD_OPT_THREADS},                                     \
      {"update", required_argument, NULL, SHARD_OPT_UPDATE},                                       \
      {"decay", required_argument, NULL, SHARD_OPT_DECAY},                                         \
      {"columns", required_argument, NULL, SHARD_OPT_COLUMNS},                                     \
      {"header-line", required_argument, NULL, SHARD_OPT_HEADER_LINE},                             \
      {"shard-id", required_argument, NULL, SHARD_OPT_SHARD_ID},

typedef struct shard_args {
  int emit_state;
  int has_range; /* --range I/N (1-based I) */
  uint64_t range_i, range_n;
  int has_bytes; /* --bytes START:END */
  uint64_t bytes_start, bytes_end;
  size_t threads;          /* 0: not given (one) */
  const char *update;      /* --update MODEL */
  double decay;            /* 0: not given */
  const char *columns;     /* --columns A,B,C */
  const char *header_line; /* --header-line TEXT */
  const char *shard_id;    /* --shard-id ID (provenance only) */
} shard_args;

/* Is `opt` one of the values above? */
int shard_is_opt(int opt);

/* Takes one shard option; 0, or a usage error printed and CLI_EXIT_USAGE. */
int shard_parse_opt(shard_args *s, int opt, const char *arg);

/* Help lines for fit's usage. */
void shard_usage(FILE *out);

/* Any shard option given (fit then runs fit_shard_run)? */
int shard_active(const shard_args *s);

/* What fit's options say, for fit_shard_run. */
typedef struct fit_job {
  shard_args sh;
  csvreg_reader_options reader;
  csvreg_spec_options spec;
  csvreg_solve_options solve;
  csvreg_solver solver;
  size_t chunk_rows;
  report_format format;
  int quiet, stats, validation;
  const char *path;
  const char *output;
} fit_job;

/* Checks the combination of options; -1 to go on or an exit status. */
int fit_shard_check(const fit_job *j);

/* Runs fit with shard options; returns the exit status. */
int fit_shard_run(fit_job *j);

/* ---- shard_input.c: rows into an accumulator ---- */

/* Provenance of the rows folded. */
typedef struct shard_prov {
  const char *source; /* the input's name */
  int has_range;
  uint64_t range_start, range_end; /* requested, clamped to the file */
  uint64_t aligned_start, aligned_end;
  uint64_t header_bytes; /* bytes of the header line read (0: none) */
  uint64_t bytes;        /* data bytes read (header excluded) */
  uint64_t file_size;    /* -1 when unknown */
  uint64_t chunks;
} shard_prov;

/* Column names and width of the job's input, from --columns,
 * --header-line, or the file's first record. */
typedef struct shard_names {
  size_t n;
  char **names;
  int given; /* from --columns or --header-line */
} shard_names;
void shard_names_free(shard_names *nm);

/* Names for a regular file read by ranges: the file's header (or V1.. from
 * its first record). */
csvreg_status shard_names_from_file(shard_names *nm, const char *path,
                                    const csvreg_reader_options *ro, csvreg_error *err);
/* Names from --columns (comma-separated) or --header-line (a CSV record). */
csvreg_status shard_names_given(shard_names *nm, const char *columns, const char *header_line,
                                char delimiter, csvreg_error *err);

/* Folds the records of `path` that start in [start, end) (a regular file)
 * into `acc` on `threads` threads (byte sub-ranges, merged in order). */
csvreg_status shard_fold_range(const char *path, const csvreg_reader_options *ro,
                               const csvreg_spec *spec, csvreg_solver solver, size_t chunk_rows,
                               uint64_t start, uint64_t end, size_t threads, csvreg_accum *acc,
                               shard_prov *prov, csvreg_error *err);

/* Folds a stream (path, or "-" / NULL for stdin) read once: the first line
 * is read by hand to learn its length; with `nm->given` it is skipped when
 * it equals the names, else it is data. Without a header option the first
 * record is data. `*spec` is made here from the names. With `threads` > 1
 * the rest is parsed in blocks on that many threads (shard_fold_blocks). */
csvreg_status shard_fold_stream(const char *path, const csvreg_reader_options *ro,
                                const csvreg_spec_options *so, shard_names *nm,
                                csvreg_solver solver, size_t chunk_rows, size_t threads,
                                csvreg_spec **spec, csvreg_accum **acc, shard_prov *prov,
                                csvreg_error *err);

/* Every record of `r` into `acc` through `chunk`, counting chunks. */
csvreg_status shard_fold_reader(csvreg_reader *r, csvreg_chunk *chunk, csvreg_accum *acc,
                                uint64_t *chunks, csvreg_error *err);

/* ---- stdin_blocks.c ---- */

/* Folds the rest of stream `fd` into `acc` on `threads` threads: blocks cut
 * after the last line feed outside quotes, parsed by memory readers with `ro`
 * (header 0), merged in stream order. `lead` (may be NULL) holds bytes
 * already read that start the data; `lines_before` is the number of lines
 * before it. Adds the chunks folded to *chunks and the bytes read from `fd`
 * to *bytes. Errors name the stream's line. */
csvreg_status shard_fold_blocks(int fd, const char *source, const void *lead, size_t lead_len,
                                uint64_t lines_before, const csvreg_reader_options *ro,
                                const csvreg_spec *spec, csvreg_solver solver, size_t chunk_rows,
                                size_t threads, csvreg_accum *acc, uint64_t *chunks,
                                uint64_t *bytes, csvreg_error *err);

/* state_write, merge and solve (state_io.c, cmd_merge.c, cmd_solve.c) */
#include "state_cli.h"

#endif
