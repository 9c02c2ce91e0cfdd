/*
 * meat_io.c - meat state lines (the sharded second pass of robust errors,
 * issue 13) in files and pipes. `merge` and `solve` read inputs that hold
 * accumulator states or meat states: each line goes to the library set of
 * its kind (csvreg_stateset, csvreg_meatset), which parse, check and merge
 * them; a meat line starts with "format": "csvreg-meat", so one look at its
 * first bytes tells them apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meat_cli.h"
#include "state_cli.h"

/* The longest meat line held: a million clusters of 100 coefficients as
 * hex floats is about 2.5 GB. */
#define MEAT_MAX_LINE ((size_t)1 << 32)
#define READ_BLOCK ((size_t)1 << 16)

static int add_line(csvreg_stateset *set, csvreg_meatset *meat, const char *text, size_t len,
                    const char *source, uint64_t line, int *kinds) {
  csvreg_error err;
  csvreg_error_clear(&err);
  int is_meat = csvreg_meat_line(text, len);
  csvreg_status st = is_meat ? csvreg_meatset_add_text(meat, text, len, source, line, &err)
                             : csvreg_stateset_add_text(set, text, len, source, line, &err);
  if (st)
    return cli_report_error(&err);
  size_t before = (kinds[0] ? 1 : 0) + (kinds[1] ? 1 : 0);
  if (is_meat)
    kinds[1] = kinds[1] || csvreg_meatset_count(meat) > 0;
  else
    kinds[0] = kinds[0] || csvreg_stateset_count(set) > 0;
  if (before < 2 && kinds[0] && kinds[1]) {
    cli_errorf("%s:%llu: the input mixes accumulator states (of 'fit --emit-state') and meat "
               "states (of 'fit --emit-state --vcov ... -m MODEL'): merge each kind on its own",
               source, (unsigned long long)line);
    return CLI_EXIT_FORMAT;
  }
  return 0;
}

/* A pretty-printed model file: "{" alone on its first line and the model's
 * format tag in the first block read. */
static int is_model(const char *buf, size_t len) {
  static const char tag[] = "\"format\": \"csvreg-model\"";
  const size_t n = sizeof tag - 1;
  if (len < 2 || buf[0] != '{' || (buf[1] != '\n' && buf[1] != '\r'))
    return 0;
  for (size_t i = 0; i + n <= len; i++)
    if (!memcmp(buf + i, tag, n))
      return 1;
  return 0;
}

static int read_one(csvreg_stateset *set, csvreg_meatset *meat, const char *path, int *kinds) {
  int stdin_ = strcmp(path, "-") == 0;
  int fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY);
  if (fd < 0) {
    cli_errorf("cannot open state %s: %s", path, strerror(errno));
    return CLI_EXIT_IO;
  }
  const char *source = stdin_ ? "<stdin>" : path;
  char *buf = NULL;
  size_t cap = 0, len = 0, scanned = 0;
  uint64_t line = 0;
  int rc = 0;
  for (int eof = 0; !rc && !eof;) {
    if (cap - len < READ_BLOCK) {
      size_t ncap = cap ? cap * 2 : 2 * READ_BLOCK;
      char *t = realloc(buf, ncap);
      if (!t) {
        cli_errorf("out of memory");
        rc = CLI_EXIT_INTERNAL;
        break;
      }
      buf = t;
      cap = ncap;
    }
    ssize_t got = read(fd, buf + len, cap - len);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      cli_errorf("cannot read %s: %s", source, strerror(errno));
      rc = CLI_EXIT_IO;
      break;
    }
    eof = got == 0;
    len += (size_t)got;
    if (line == 0 && is_model(buf, len)) {
      /* a model fails as a state on line 1: say what it is (as the
       * state reader does) rather than blame concurrent writers */
      cli_errorf("%s: this is a csvreg model file, not a state: merge and solve read the state "
                 "lines of 'fit --emit-state'; predict -m reads a model",
                 source);
      rc = CLI_EXIT_FORMAT;
      break;
    }
    size_t from = 0;
    char *nl;
    while (!rc && (nl = memchr(buf + scanned, '\n', len - scanned))) {
      size_t end = (size_t)(nl - buf) + 1;
      rc = add_line(set, meat, buf + from, end - from, source, ++line, kinds);
      from = scanned = end;
    }
    if (rc)
      break;
    if (from) {
      memmove(buf, buf + from, len - from);
      len -= from;
    }
    scanned = len;
    /* a line past its kind's limit: the set says so (an accumulator
     * state's message names its limit) */
    size_t limit = csvreg_meat_line(buf, len) ? MEAT_MAX_LINE : CSVREG_STATE_MAX_LINE;
    if (len > limit || (eof && len))
      rc = add_line(set, meat, buf, len, source, ++line, kinds);
    if (!rc && len > limit) {
      cli_errorf("%s:%llu: a line longer than %zu bytes", source, (unsigned long long)line, limit);
      rc = CLI_EXIT_FORMAT;
    }
  }
  free(buf);
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
  int kinds[2] = {0, 0};
  int rc = first == argc ? read_one(*set, *meat, "-", kinds) : 0;
  for (int i = first; !rc && i < argc; i++)
    rc = read_one(*set, *meat, argv[i], kinds);
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
