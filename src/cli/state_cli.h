/*
 * state_cli.h - the program's side of state lines: writing one (fit
 * --emit-state, merge), reading a file of them into a library state set,
 * and the merge and solve commands. Checking, ordering and merging states
 * is the library's (csvreg_stateset in csvreg.h).
 */
#ifndef CSVREG_STATE_CLI_H
#define CSVREG_STATE_CLI_H

#include "cli.h"

/* Writes one line of text and a newline to `path` (atomically) or, for NULL
 * or "-", to standard output; an exit status. Shared by both state kinds. */
int state_line_write(const char *path, const char *text);
/* The state with `meta` (a JSON object text, may be NULL) as one line, on
 * stdout (path NULL or "-") or atomically in a file. Returns the exit
 * status, having printed why on failure. */
int state_write(const char *path, const csvreg_accum *acc, const char *meta);

/* Adds every state line of `path` ("-": stdin, named "<stdin>") to `set`.
 * Returns 0 or the exit status, having printed "csvreg: FILE:LINE: why". */
int state_read(csvreg_stateset *set, const char *path);

/* A new set (*out, freed by the caller even on failure) holding the states
 * of argv[first..argc) ("-": stdin), or of stdin when there are none.
 * Returns 0 or the exit status, having printed why. */
int state_read_all(csvreg_stateset **out, int argc, char **argv, int first);

/* merge, solve */
void cmd_merge_usage(FILE *out);
int cmd_merge_run(int argc, char **argv);
void cmd_solve_usage(FILE *out);
int cmd_solve_run(int argc, char **argv);

#endif
