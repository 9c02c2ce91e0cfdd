/*
 * atomic_file.h - output files that appear whole or not at all.
 *
 * The data go to a temporary file in the target's directory; commit flushes,
 * fsyncs, renames it over the target and fsyncs the directory. A failure, a
 * full disk, or a terminating signal before the rename removes the temporary
 * file and leaves the old target as it was. A symlink is followed; a target
 * that is not a regular file (a device, a FIFO) is written directly
 * (atomic_file.c says why).
 */
#ifndef CSVREG_ATOMIC_FILE_H
#define CSVREG_ATOMIC_FILE_H

#include <stdio.h>

typedef struct atomic_file {
  char *path;     /* the target */
  char *tmp_path; /* the temporary file beside it */
  FILE *fp;       /* write here between open and commit */
  int direct;     /* the target is not a regular file: written in place */
} atomic_file;

/* Creates the temporary file for `path`. Returns 0, or the exit status with
 * a message in msg: CLI_EXIT_INTERNAL for out of memory, CLI_EXIT_IO for
 * "cannot create ...: <strerror>". */
int atomic_open(atomic_file *af, const char *path, char *msg, size_t msgsize);

/* Flushes, fsyncs and renames into place. Returns 0, or -1 with a message;
 * on failure the temporary file is removed and the target untouched. */
int atomic_commit(atomic_file *af, char *msg, size_t msgsize);

/* Closes and removes the temporary file (after an error). Safe to call twice
 * and on a file that was never opened (zeroed). */
void atomic_abort(atomic_file *af);

/* A temporary file that is not an output (fit --spill's copy of standard
 * input): removed by the same handlers if a terminating signal comes before
 * atomic_unguard_spill; one at a time. */
void atomic_guard_spill(const char *path);
/* mkstemp(3) with the terminating signals held until `path` is registered
 * (spill: 1 as atomic_guard_spill, 0 as an -o temporary file), so no signal
 * between the file's creation and its registration leaves it behind. */
int atomic_mkstemp(char *path, int spill);
void atomic_unguard_spill(void);

#endif
