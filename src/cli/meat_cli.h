/*
 * meat_cli.h - the program's side of meat states (the sharded second pass
 * of robust errors, issue 13): reading inputs that may hold accumulator
 * states or meat states, writing a meat state, and the meat half of merge
 * and solve.
 */
#ifndef CSVREG_MEAT_CLI_H
#define CSVREG_MEAT_CLI_H

#include "cli.h"

/* Reads the state lines of argv[first..argc) ("-": stdin; none: stdin)
 * into two new sets (*set and *meat, freed by the caller even on failure):
 * each line goes to the set of its kind. Inputs that mix both kinds are an
 * error. Returns 0 or the exit status, having printed why. */
int inputs_read_all(csvreg_stateset **set, csvreg_meatset **meat, int argc, char **argv, int first);

/* The meat state line on stdout (path NULL or "-") or atomically in a file. */
int meat_write(const char *path, const csvreg_meat *m, const char *meta);

/* merge of meat states: checks, merge, one line out. */
int meat_merge(csvreg_meatset *meat, const csvreg_stateset_checks *chk, const char *subtract,
               const char *output);

#endif
