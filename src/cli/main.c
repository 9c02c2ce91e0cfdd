/*
 * main.c - the csvreg program: a table of subcommands (as Miller's mappers),
 * the mapping from library status to exit status, and the final check that
 * standard output was really written.
 *
 * The program never calls setlocale(): it stays in the C locale so that
 * every number it prints uses '.' as the decimal point and parses back the
 * same way, whatever LANG/LC_ALL say. (The library's number parser is
 * locale-independent anyway; printf and strtod here are not.)
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "plot.h"
#include "state_cli.h"

const char *cli_program = "csvreg";

/* New commands (predict, eval, merge, solve) are a file and one row here. */
static const cli_command commands[] = {
    {"fit", "fit a linear regression to a CSV file in one streaming pass", cmd_fit_usage,
     cmd_fit_run},
    {"predict", "append a saved model's predictions to the rows of a CSV file", cmd_predict_usage,
     cmd_predict_run},
    {"eval", "score a saved model on a CSV file: RMSE, MAE, R-squared, ...", cmd_eval_usage,
     cmd_eval_run},
    {"merge", "merge accumulator states of shards into one state", cmd_merge_usage, cmd_merge_run},
    {"solve", "solve an accumulator state and report it as fit does", cmd_solve_usage,
     cmd_solve_run},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_exit_codes(FILE *out) {
  fputs("Exit status:\n"
        "  0  success\n"
        "  1  internal error or out of memory\n"
        "  2  usage error: unknown command, bad option or option value\n"
        "  3  bad input data: malformed CSV, unknown column, a cell that is not a number,\n"
        "     a negative weight, a limit exceeded, an input that is not CSV text\n"
        "  4  input/output error: cannot open or read the input, cannot write the output;\n"
        "     a truncated or corrupt compressed input\n"
        "  5  numerical failure: no usable rows, every term aliased\n"
        "  6  a model or state file that cannot be used\n"
        "  8  eval --fail-if: the condition holds\n",
        out);
}

static void usage(FILE *out) {
  fprintf(out,
          "Usage: %s COMMAND [OPTION]... [FILE]\n"
          "Streaming least-squares regression on CSV data, in bounded memory.\n"
          "FILE is a CSV file; with no FILE, or when FILE is -, read standard input.\n\n"
          "Commands:\n",
          cli_program);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\nOptions:\n"
          "  -h, --help     show this help and exit\n"
          "      --version  show the version and build (BLAS, SIMD path, decompressors)\n\n"
          "Run '%s COMMAND --help' for a command's options; 'csvreg completion bash|zsh'\n"
          "prints the shell completion script (installed by cmake --install).\n\n",
          cli_program);
  print_exit_codes(out);
  fprintf(out, "\nExample:\n  %s fit -y Employed data/longley.csv\n", cli_program);
}

int cli_exit_code(csvreg_status st) {
  switch (st) {
  case CSVREG_OK:
  case CSVREG_END: return CLI_EXIT_OK;
  case CSVREG_E_USAGE: return CLI_EXIT_USAGE;
  case CSVREG_E_NOMEM: return CLI_EXIT_INTERNAL;
  case CSVREG_E_IO: return CLI_EXIT_IO;
  case CSVREG_E_CSV:
  case CSVREG_E_COLUMN:
  case CSVREG_E_VALUE:
  case CSVREG_E_LIMIT: return CLI_EXIT_DATA;
  case CSVREG_E_NUMERIC: return CLI_EXIT_NUMERIC;
  case CSVREG_E_FORMAT: return CLI_EXIT_FORMAT;
  case CSVREG_E_INTERNAL: return CLI_EXIT_INTERNAL;
  }
  return CLI_EXIT_INTERNAL;
}

int cli_report_error(const csvreg_error *err) {
  char buf[2048];
  csvreg_error e = *err;
  /* A function that failed without a message (but perhaps with a source)
   * still says what failed: "out of memory", not "<stdin>:". */
  if (!e.message[0])
    snprintf(e.message, sizeof e.message, "%s", csvreg_status_str(e.status));
  csvreg_error_format(&e, buf, sizeof buf);
  fprintf(stderr, "%s: %s\n", cli_program, buf);
  return cli_exit_code(err->status);
}

static void say(const char *kind, const char *fmt, va_list ap) {
  fprintf(stderr, "%s: %s", cli_program, kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void cli_errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  say("", fmt, ap);
  va_end(ap);
}

void cli_warnf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  say("warning: ", fmt, ap);
  va_end(ap);
}

int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", cli_program);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (command)
    fprintf(stderr, "\nTry '%s %s --help'.\n", cli_program, command);
  else
    fprintf(stderr, "\nTry '%s --help'.\n", cli_program);
  return CLI_EXIT_USAGE;
}

/* errno of the first failed write to stdout: by the time main closes it,
 * a later successful call may have reset errno. */
static int stdout_errno;

int cli_flush_stdout(void) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    if (!stdout_errno)
      stdout_errno = errno;
    /* A reader that went away is not a failure of the command. */
    return stdout_errno == EPIPE ? 0 : -1;
  }
  return 0;
}

int cli_stdout_closed(void) { return stdout_errno == EPIPE; }

/* A write error may surface only when the buffer is flushed, so fclose is
 * checked too (as gnulib's close_stdout). A reader that went away (EPIPE:
 * `csvreg predict ... | head`) is not an error: the command ends quietly with
 * the status it had, 0 when all went well, so `set -o pipefail` scripts do
 * not fail on it (SIGPIPE is ignored in main for this). */
static int close_stdout(int status) {
  int had_error = ferror(stdout);
  errno = 0;
  int close_failed = fclose(stdout) != 0;
  if (had_error || close_failed) {
    int e = stdout_errno ? stdout_errno : errno;
    if (e == EPIPE)
      return status;
    if (e)
      cli_errorf("error writing standard output: %s", strerror(e));
    else
      cli_errorf("error writing standard output");
    if (status == CLI_EXIT_OK)
      status = CLI_EXIT_IO;
  }
  return status;
}

/* The plot line: cairo's version as built against and the module that
 * draws with it, found but not loaded (loading cairo would cost --version
 * the time the module saves it). */
static void print_plot_info(void) {
  const char *path = plot_module_path();
#ifdef CSVREG_PLOT_CAIRO
  if (path && access(path, F_OK) == 0) {
    printf("plot: cairo %s (module %s)\n", CSVREG_PLOT_CAIRO, path);
    return;
  }
#endif
  if (path)
    printf("plot: none (no plot module %s)\n", path);
  else
    printf("plot: none (built without cairo)\n");
}

/* The lines after "csvreg VERSION" (GNU style: the first line alone is the
 * version, for scripts): the library's build information, csvreg.h. */
static void print_build_info(void) {
  char small[1024];
  size_t n = csvreg_build_info(small, sizeof small);
  if (n < sizeof small) {
    fputs(small, stdout);
  } else {
    char *big = malloc(n + 1);
    if (big) {
      csvreg_build_info(big, n + 1);
      fputs(big, stdout);
      free(big);
    } else
      fputs(small, stdout);
  }
  print_plot_info();
}

static int dispatch(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error(NULL, "missing command");
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    printf("%s %s\n", cli_program, csvreg_version());
    print_build_info();
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "completion") == 0)
    return cli_completion_run(argc - 1, argv + 1, commands, NCOMMANDS);
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  if (cmd[0] == '-')
    return cli_usage_error(NULL, "unrecognized option '%s' (expected a command first)", cmd);
  return cli_usage_error(NULL, "unknown command '%s'", cmd);
}

/* The BLAS thread policy is the library's (csvreg.h): nothing to set here. */
int main(int argc, char **argv) {
  /* A closed stdout then shows as EPIPE on a write (see close_stdout). An
   * inherited SIG_IGN stays, and so does any handler the caller installed. */
  struct sigaction old;
  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
    signal(SIGPIPE, SIG_IGN);
  /* Past `ulimit -f` a write fails with EFBIG instead of killing us: the
   * -o temporary file is removed and the error reported (exit 4). */
  if (sigaction(SIGXFSZ, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
    signal(SIGXFSZ, SIG_IGN);
  return close_stdout(dispatch(argc, argv));
}
