/*
 * options.c - parsing option values strictly: the whole text must be the
 * value (strtoull/strtod with end checks), so that `--chunk-rows 10k` or
 * `--tol 1e-8x` are usage errors instead of silently meaning something else.
 * strtod runs in the C locale (the program never calls setlocale).
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int opt_count(const char *command, const char *option, const char *arg, uint64_t *out) {
  /* digits only: no sign, space or suffix ("5e3", "10k", "-1" are errors) */
  const char *p = arg;
  while (*p >= '0' && *p <= '9')
    p++;
  if (p == arg || *p)
    return cli_usage_error(command, "%s: expected a count, got '%s'", option, arg);
  char *end;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno == ERANGE || v > UINT64_MAX)
    return cli_usage_error(command, "%s: value too large: '%s'", option, arg);
  *out = (uint64_t)v;
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

int opt_chunk_rows(const char *command, const char *arg, size_t *out) {
  if (opt_positive_size(command, "--chunk-rows", arg, out))
    return CLI_EXIT_USAGE;
  /* A chunk is rows x columns doubles held at once: past a million rows it
   * buys no speed and only risks memory. */
  if (*out > (1u << 20))
    return cli_usage_error(command, "--chunk-rows: at most %u, got '%s'", 1u << 20, arg);
  return 0;
}

/* --threads 0 (issue 14): every core this process may run on (its CPU
 * affinity mask: taskset, cgroup cpusets and batch schedulers narrow it),
 * not every core of the machine; 1 when the mask cannot be read. */
static size_t usable_cores(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return (size_t)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
}

/* "0": 0 after skipping blanks, as opt_positive_size reads a number. */
static int is_zero(const char *arg) {
  while (isspace((unsigned char)*arg))
    arg++;
  if (*arg != '0')
    return 0;
  while (*arg == '0')
    arg++;
  return *arg == '\0';
}

int opt_threads(const char *command, const char *arg, size_t *out) {
  if (is_zero(arg)) {
    *out = usable_cores();
    if (*out > 256)
      *out = 256;
    return 0;
  }
  if (opt_positive_size(command, "--threads", arg, out))
    return -1;
  if (*out > 256) {
    cli_usage_error(command, "--threads: at most 256, got '%s'", arg);
    return -1;
  }
  return 0;
}

size_t cli_stdin_block_bytes(void) { return cli_env_bytes("CSVREG_STDIN_BLOCK"); }

size_t cli_env_bytes(const char *name) {
  const char *e = getenv(name);
  if (e && *e) {
    char *end;
    unsigned long long v = strtoull(e, &end, 10);
    if (!*end && v > 0 && v <= ((size_t)1 << 30))
      return (size_t)v;
  }
  return 0;
}

int opt_decompress(const char *command, const char *arg, int *out) {
  if (strcmp(arg, "auto") == 0)
    *out = CSVREG_DECOMPRESS_AUTO;
  else if (strcmp(arg, "none") == 0)
    *out = CSVREG_DECOMPRESS_NONE;
  else
    return cli_usage_error(command, "--decompress: expected 'auto' or 'none', got '%s'", arg);
  return 0;
}

/* ---- the whole command line, before getopt_long ----
 * getopt_long accepts any unambiguous prefix of a long option (`--se` is
 * `--seed`) and lets a repeated option silently replace the first. Both give
 * a model other than the one asked for without a word, so every option word
 * is checked here first: long names must be exact, and no option may be given
 * twice with different values. The walk follows getopt's own rules (GNU permutation: operands may
 * stand between options; `--` ends the options; an option's separate value is
 * never itself read as an option). */

/* The closest long option to an unknown name (the library's "did you mean"
 * rule, as for columns: an abbreviation or a few edits). */
static const char *closest_option(const char *name, size_t n, const struct option *longopts) {
  const char *names[128];
  size_t k = 0;
  for (const struct option *o = longopts; o->name && k < 128; o++)
    names[k++] = o->name;
  size_t near = csvreg_closest_name(name, n, names, k);
  return near < k ? names[near] : NULL;
}

/* The name an option is known by in messages: its long name when it has one
 * (`-y` and `--target` are one option), else its letter. */
static void option_label(int val, const char *shortopts, const struct option *longopts, char *buf,
                         size_t size) {
  int has_letter = val > 0 && val < 128 && val != ':' && strchr(shortopts, val);
  for (const struct option *o = longopts; o->name; o++)
    if (o->val == val) {
      if (has_letter)
        snprintf(buf, size, "-%c/--%s", val, o->name);
      else
        snprintf(buf, size, "--%s", o->name);
      return;
    }
  snprintf(buf, size, "-%c", val);
}

typedef struct seen_option {
  int val;
  const char *value; /* NULL for a flag */
} seen_option;

static int note_option(const char *command, seen_option *seen, size_t *nseen, int val,
                       const char *value, const char *shortopts, const struct option *longopts) {
  for (size_t k = 0; k < *nseen; k++)
    if (seen[k].val == val) {
      /* The same value again changes nothing: a script's defaults followed
       * by the same choice is no surprise. */
      if (!value || (seen[k].value && strcmp(seen[k].value, value) == 0))
        return 0;
      char label[64];
      option_label(val, shortopts, longopts, label, sizeof label);
      return cli_usage_error(command, "%s given twice ('%s', then '%s'): give it once", label,
                             seen[k].value, value);
    }
  seen[*nseen].val = val;
  seen[*nseen].value = value;
  (*nseen)++;
  return 0;
}

int opt_check_words(const char *command, int argc, char **argv, const char *shortopts,
                    const struct option *longopts) {
  if (cli_option_capture) { /* `csvreg completion` asking (completion.c) */
    cli_option_capture->shortopts = shortopts;
    cli_option_capture->longopts = longopts;
    return CLI_EXIT_USAGE;
  }
  seen_option *seen = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *seen);
  if (!seen)
    return 0; /* getopt_long still parses; only the extra checks are lost */
  size_t nseen = 0;
  int rc = 0;
  for (int i = 1; i < argc && !rc; i++) {
    const char *w = argv[i];
    if (strcmp(w, "--") == 0)
      break;
    if (w[0] != '-' || w[1] == '\0')
      continue; /* an operand ("-" is standard input) */
    if (w[1] == '-') {
      const char *name = w + 2;
      size_t n = strcspn(name, "=");
      const struct option *o = longopts;
      while (o->name && !(strlen(o->name) == n && strncmp(o->name, name, n) == 0))
        o++;
      if (!o->name) {
        const char *near = closest_option(name, n, longopts);
        if (near)
          rc = cli_usage_error(command, "unrecognized option '--%.*s' (did you mean '--%s'?)",
                               (int)n, name, near);
        else
          rc = cli_usage_error(command, "unrecognized option '--%.*s'", (int)n, name);
        break;
      }
      const char *value = NULL;
      if (o->has_arg == required_argument) {
        if (name[n] == '=')
          value = name + n + 1;
        else if (i + 1 < argc)
          value = argv[++i];
        else
          break; /* getopt_long reports the missing value */
      }
      rc = note_option(command, seen, &nseen, o->val, value, shortopts, longopts);
      continue;
    }
    /* A cluster of short options: `-qy y` or `-yy`. */
    for (const char *p = w + 1; *p && !rc; p++) {
      const char *s = *p == ':' ? NULL : strchr(shortopts, *p);
      if (!s)
        break; /* getopt_long reports the unknown letter */
      if (s[1] == ':') {
        const char *value = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (value)
          rc = note_option(command, seen, &nseen, *p, value, shortopts, longopts);
        break;
      }
      rc = note_option(command, seen, &nseen, *p, NULL, shortopts, longopts);
    }
  }
  free(seen);
  return rc;
}
