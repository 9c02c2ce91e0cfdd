/*
 * options.c - parsing option values strictly: the whole text must be the
 * value (strtoull/strtod with end checks), so that `--chunk-rows 10k` or
 * `--tol 1e-8x` are usage errors instead of silently meaning something else.
 * strtod runs in the C locale (the program never calls setlocale).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <getopt.h>
#include <string.h>

#include "cli.h"

int opt_positive_size(const char *command, const char *option, const char *arg, size_t *out) {
  const char *p = arg;
  while (isspace((unsigned char)*p))
    p++;
  /* strtoull accepts "-1" and wraps it; refuse any sign. */
  if (!isdigit((unsigned char)*p))
    return cli_usage_error(command, "%s: expected a positive integer, got '%s'", option, arg);
  char *end;
  errno = 0;
  unsigned long long v = strtoull(p, &end, 10);
  if (*end != '\0')
    return cli_usage_error(command, "%s: expected a positive integer, got '%s'", option, arg);
  if (errno == ERANGE || v > (unsigned long long)SIZE_MAX)
    return cli_usage_error(command, "%s: value too large: '%s'", option, arg);
  if (v == 0)
    return cli_usage_error(command, "%s: must be greater than 0, got '%s'", option, arg);
  *out = (size_t)v;
  return 0;
}

int opt_open_unit(const char *command, const char *option, const char *arg, double *out) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (end == arg || *end != '\0')
    return cli_usage_error(command, "%s: expected a number, got '%s'", option, arg);
  /* Written so that NaN fails too. */
  if (!(v > 0.0 && v < 1.0))
    return cli_usage_error(command, "%s: must be between 0 and 1 (exclusive), got '%s'", option,
                           arg);
  *out = v;
  return 0;
}

int opt_delimiter(const char *command, const char *option, const char *arg, char *out) {
  /* Typing a TAB on a command line is awkward: accept the two spellings. */
  if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0) {
    *out = '\t';
    return 0;
  }
  if (strlen(arg) != 1)
    return cli_usage_error(command, "%s: expected one character (or '\\t' or 'tab'), got '%s'",
                           option, arg);
  /* These would make every record ambiguous with the line structure or quoting. */
  if (arg[0] == '"' || arg[0] == '\n' || arg[0] == '\r')
    return cli_usage_error(command, "%s: cannot be a quote or a line break", option);
  *out = arg[0];
  return 0;
}

int opt_error(const char *command, int c, const char *opt) {
  int is_long = strncmp(opt, "--", 2) == 0;
  size_t n = strcspn(opt, "=");
  if (c == ':') {
    if (is_long)
      return cli_usage_error(command, "option '%.*s' requires an argument", (int)n, opt);
    return cli_usage_error(command, "option '-%c' requires an argument", optopt);
  }
  /* getopt_long leaves optopt 0 for an unknown long option, the option's
   * value for a known one given an argument it does not take, and the letter
   * for a bad short option. */
  if (is_long) {
    if (optopt)
      return cli_usage_error(command, "option '%.*s' does not take an argument", (int)n, opt);
    return cli_usage_error(command, "unrecognized option '%.*s'", (int)n, opt);
  }
  return cli_usage_error(command, "invalid option '-%c'", optopt);
}

int opt_one_file(const char *command, int argc, char **argv, const char **path) {
  if (optind < argc)
    *path = argv[optind++];
  if (optind < argc)
    return cli_usage_error(command, "too many arguments: '%s' (one FILE at most)", argv[optind]);
  return 0;
}

int opt_threads(const char *command, const char *arg, size_t *out) {
  if (opt_positive_size(command, "--threads", arg, out))
    return -1;
  if (*out > 256) {
    cli_usage_error(command, "--threads: at most 256, got '%s'", arg);
    return -1;
  }
  return 0;
}
