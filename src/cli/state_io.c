/*
 * state_io.c - state lines in files and pipes: writing one (stdout or an
 * atomic file) and feeding the lines of a file or stdin to a library state
 * set (csvreg_stateset), which parses, checks, orders and merges them.
 *
 * Pipes: a state line is often longer than PIPE_BUF (4 KiB), so writers that
 * share one pipe can interleave their lines. Each engine must keep lines
 * whole (GNU parallel buffers each job's output; Hadoop and `sort` move whole
 * lines); the library reports a damaged line with its file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "state_cli.h"

int state_line_write(const char *path, const char *text) {
  int rc = CLI_EXIT_OK;
  if (!path || strcmp(path, "-") == 0) {
    /* One fwrite of the whole line: stdio hands it to the kernel in as few
     * writes as it can; whole-line delivery is the engine's job (above). */
    fputs(text, stdout);
    fputc('\n', stdout);
    if (cli_flush_stdout() != 0)
      rc = CLI_EXIT_IO; /* main reports it when closing stdout */
  } else {
    atomic_file af;
    char msg[1024];
    if ((rc = atomic_open(&af, path, msg, sizeof msg)) != 0) {
      cli_errorf("%s", msg);
    } else {
      fputs(text, af.fp);
      fputc('\n', af.fp);
      if (atomic_commit(&af, msg, sizeof msg) != 0) {
        cli_errorf("%s", msg);
        rc = CLI_EXIT_IO;
      }
    }
  }
  return rc;
}

/* The line is written as it is made (csvreg_accum_write: neither its text
 * nor a JSON tree of its O(terms^2) numbers is held). A failed write is
 * reported as state_line_write's: by cli_flush_stdout (quiet on EPIPE) or
 * atomic_commit, from the FILE's error. */
int state_write(const char *path, const csvreg_accum *acc, const char *meta) {
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_status st;
  int rc = CLI_EXIT_OK;
  if (!path || strcmp(path, "-") == 0) {
    st = csvreg_accum_write(acc, meta, stdout, &err);
    if (st && st != CSVREG_E_IO)
      return cli_report_error(&err);
    if (!st)
      fputc('\n', stdout);
    if (cli_flush_stdout() != 0)
      rc = CLI_EXIT_IO; /* main reports it when closing stdout */
    return rc;
  }
  atomic_file af;
  char msg[1024];
  if ((rc = atomic_open(&af, path, msg, sizeof msg)) != 0) {
    cli_errorf("%s", msg);
    return rc;
  }
  st = csvreg_accum_write(acc, meta, af.fp, &err);
  if (st && st != CSVREG_E_IO) {
    atomic_abort(&af);
    return cli_report_error(&err);
  }
  if (!st)
    fputc('\n', af.fp);
  if (atomic_commit(&af, msg, sizeof msg) != 0) {
    cli_errorf("%s", msg);
    rc = CLI_EXIT_IO;
  }
  return rc;
}

int state_read(csvreg_stateset *set, const char *path) {
  int stdin_ = strcmp(path, "-") == 0;
  int fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY);
  if (fd < 0) {
    cli_errorf("cannot open state %s: %s", path, strerror(errno));
    return CLI_EXIT_IO;
  }
  csvreg_error err;
  csvreg_error_clear(&err);
  int rc = 0;
  if (csvreg_stateset_read_fd(set, fd, stdin_ ? "<stdin>" : path, &err))
    rc = cli_report_error(&err);
  if (!stdin_)
    close(fd);
  return rc;
}

int state_read_all(csvreg_stateset **out, int argc, char **argv, int first) {
  csvreg_error err;
  csvreg_error_clear(&err);
  if (csvreg_stateset_new(out, &err))
    return cli_report_error(&err);
  int rc = first == argc ? state_read(*out, "-") : 0;
  for (int i = first; !rc && i < argc; i++)
    rc = state_read(*out, argv[i]);
  return rc;
}
