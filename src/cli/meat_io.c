/*
 * meat_io.c - meat state lines (the sharded second pass of robust errors,
 * issue 13) in files and pipes. `merge` and `solve` read inputs that hold
 * accumulator states or meat states: each line goes to the library set of
 * its kind (csvreg_stateset, csvreg_meatset), which parse, check and merge
 * them; a meat line starts with "format": "csvreg-meat", so one look at its
 * first bytes tells them apart. The library cuts the lines
 * (csvreg_stateset_read_any_fd); this file opens the files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meat_cli.h"
#include "state_cli.h"

static int read_one(csvreg_stateset *set, csvreg_meatset *meat, const char *path) {
  int stdin_ = strcmp(path, "-") == 0;
  int fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY);
  if (fd < 0) {
    cli_errorf("cannot open state %s: %s", path, strerror(errno));
    return CLI_EXIT_IO;
  }
  csvreg_error err;
  csvreg_error_clear(&err);
  int rc = 0;
  if (csvreg_stateset_read_any_fd(set, meat, fd, stdin_ ? "<stdin>" : path, &err))
    rc = cli_report_error(&err);
  if (!stdin_)
    close(fd);
  return rc;
}

int inputs_read_all(csvreg_stateset **set, csvreg_meatset **meat, int argc, char **argv,
                    int first) {
  csvreg_error err;
  csvreg_error_clear(&err);
  *meat = NULL;
  if (csvreg_stateset_new(set, &err) || csvreg_meatset_new(meat, &err))
    return cli_report_error(&err);
  int rc = first == argc ? read_one(*set, *meat, "-") : 0;
  for (int i = first; !rc && i < argc; i++)
    rc = read_one(*set, *meat, argv[i]);
  return rc;
}

int meat_write(const char *path, const csvreg_meat *m, const char *meta) {
  csvreg_error err;
  csvreg_error_clear(&err);
  char *text = NULL;
  if (csvreg_meat_save(m, meta, &text, &err))
    return cli_report_error(&err);
  int rc = state_line_write(path, text);
  free(text);
  return rc;
}

int meat_merge(csvreg_meatset *meat, const csvreg_stateset_checks *chk, const char *subtract,
               const char *output) {
  if (subtract)
    return cli_usage_error("merge", "--subtract: not for meat states (the second pass)");
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_meat *m = NULL;
  char *meta = NULL;
  int rc = 0;
  if (csvreg_meatset_merge(meat, chk, &m, &meta, &err))
    rc = cli_report_error(&err);
  if (!rc)
    rc = meat_write(output, m, meta);
  free(meta);
  csvreg_meat_free(m);
  return rc;
}
