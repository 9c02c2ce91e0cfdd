/*
 * shard.h - the program's side of mergeable states: state lines on disk and
 * in pipes (state_io.c), and the merge and solve commands. (Fit's shard
 * options are cmd_fit.c's; the rows are read by the library's pass engine.)
 */
#ifndef CSVREG_SHARD_H
#define CSVREG_SHARD_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* ---- state_io.c ---- */

/* The state with `meta` (a JSON object text, may be NULL) as one line, on
 * stdout (path NULL or "-") or atomically in a file. Returns the exit
 * status, having printed why on failure. */
int state_write(const char *path, const csvreg_accum *acc, const char *meta);

/* merge, solve */
void cmd_merge_usage(FILE *out);
int cmd_merge_run(int argc, char **argv);
void cmd_solve_usage(FILE *out);
int cmd_solve_run(int argc, char **argv);

/* States read from files or stdin, for merge and solve. */
typedef struct state_entry {
  char *source;  /* file name ("<stdin>") */
  uint64_t line; /* line in it */
  csvreg_accum *acc;
  json_t *obj; /* the parsed line, for the compatibility checks */
  const char *checksum;
  int has_range;
  uint64_t start, end; /* first range, the sort key */
} state_entry;

typedef struct state_set {
  state_entry *v;
  size_t n, cap;
} state_set;

/* Reads every state line of `path` ("-": stdin): blank lines are skipped, a
 * `key<TAB>` prefix is dropped. Returns 0 or the exit status, having printed
 * "csvreg: FILE:LINE: why". */
int state_set_read(state_set *s, const char *path);

/* Coverage checks of merge (0: not checked). */
typedef struct merge_checks {
  int expect_rows, expect_bytes;
  uint64_t rows, bytes;
} merge_checks;

/* Checks that the states agree (solver, columns, options), sorts them by
 * provenance (byte range, then checksum), checks coverage, and merges them in
 * that order into *out with the merged provenance in *meta (JSON text,
 * malloc'd). Returns 0 or the exit status, having printed why. */
int state_set_merge(state_set *s, const merge_checks *chk, csvreg_accum **out, char **meta);

/* The "options" object of a merged meta text (NULL when absent), as
 * model options: strings borrowed from `holder`, which the caller frees
 * with json_decref. */
void state_meta_model_options(const char *meta, csvreg_model_options *mo, json_t **holder);

void state_set_free(state_set *s);

#endif
