/*
 * cli.h - declarations shared by the csvreg program's files (not the library).
 *
 * The program is a table of subcommands (main.c), one file per subcommand
 * (cmd_*.c), option-value parsing (options.c), the report writers (report.c)
 * and the terminal progress line (progress.c). It uses only include/csvreg.h.
 */
#ifndef CSVREG_CLI_H
#define CSVREG_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "csvreg.h"

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)

#endif

/* Exit statuses, documented in `csvreg --help` and csvreg(1). */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_INTERNAL = 1, /* internal error or out of memory */
  CLI_EXIT_USAGE = 2,    /* bad command, option or option value */
  CLI_EXIT_DATA = 3,     /* bad input data: CSV, column, value, limit */
  CLI_EXIT_IO = 4,       /* cannot read the input or write the output */
  CLI_EXIT_NUMERIC = 5,  /* nothing to fit: no usable rows, every term aliased */
  CLI_EXIT_FORMAT = 6    /* a model or state file that cannot be used */
};

/* One subcommand (Miller's mapper table): `usage` prints the full --help text;
 * `run` gets argv with argv[0] the command's name and returns an exit status. */
typedef struct cli_command {
  const char *name;
  const char *summary;
  void (*usage)(FILE *out);
  int (*run)(int argc, char **argv);
} cli_command;

/* main.c */
extern const char *cli_program; /* "csvreg" */

/* The exit status for a library status (the one place that maps them). */
int cli_exit_code(csvreg_status st);

/* "csvreg: <source:line: column N (name): message>" on stderr; returns the
 * exit status for err->status. */
int cli_report_error(const csvreg_error *err);

/* Flushes stdout, remembering errno of a failed write for the final message
 * (main checks ferror and fclose before exiting). Returns 0 or -1; a closed
 * pipe (EPIPE) returns 0: the command ends normally, see cli_stdout_closed. */
int cli_flush_stdout(void);

/* 1 once a write to stdout found the reader gone: stop producing output. */
int cli_stdout_closed(void);

/* "csvreg: <message>" on stderr. */
void cli_errorf(const char *fmt, ...) CLI_PRINTF(1, 2);

/* "csvreg: warning: <message>" on stderr. */
void cli_warnf(const char *fmt, ...) CLI_PRINTF(1, 2);

/* "csvreg: <message>" and "Try 'csvreg <command> --help'." on stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...) CLI_PRINTF(2, 3);

/* options.c: option values. Each returns 0, or prints a usage error naming the
 * option and returns CLI_EXIT_USAGE. */
int opt_positive_size(const char *command, const char *option, const char *arg, size_t *out);
/* --chunk-rows N: 1 to 2^20. */
int opt_chunk_rows(const char *command, const char *arg, size_t *out);
/* --threads N: 1 to 256; 0: every core the process may use (its CPU
 * affinity, at most 256). */
int opt_threads(const char *command, const char *arg, size_t *out);
/* CSVREG_STDIN_BLOCK=BYTES (tests only): the stream block size with
 * --threads (0: the library's default), so small inputs make many blocks
 * and records that straddle them. */
size_t cli_stdin_block_bytes(void);
/* A byte count from the environment variable `name` (1 .. 1 GiB; else 0). */
size_t cli_env_bytes(const char *name);

/* --decompress auto|none (issue 14): CSVREG_DECOMPRESS_AUTO or _NONE into
 * *out; 0, or the usage error printed and CLI_EXIT_USAGE. */
int opt_decompress(const char *command, const char *arg, int *out);
int opt_open_unit(const char *command, const char *option, const char *arg, double *out);
int opt_delimiter(const char *command, const char *option, const char *arg, char *out);
/* A count (0 or more, digits only, at most 2^64 - 1): --expect-records and
 * the other --expect-* options of merge. */
int opt_count(const char *command, const char *option, const char *arg, uint64_t *out);

/* The getopt_long error cases, ':' (missing argument) and anything else
 * (unknown option, or an argument to one that takes none), as a usage error
 * naming the option; `opt` is argv[optind - 1]. Returns CLI_EXIT_USAGE. */
int opt_error(const char *command, int c, const char *opt);

/* Checks every option word of a command line before getopt_long runs: a long
 * option must be named exactly (no prefixes; a near miss gets "did you mean"),
 * and no option may be given twice with different values (one rule for all
 * options, lists included: `-x a -x b` is an error, `-x a,b` the way). Prints a usage error and
 * returns CLI_EXIT_USAGE, else 0. */
struct option;
int opt_check_words(const char *command, int argc, char **argv, const char *shortopts,
                    const struct option *longopts);

/* The optional FILE operand after the options: sets *path when there is one;
 * more than one is a usage error (returns CLI_EXIT_USAGE, else 0). */
int opt_one_file(const char *command, int argc, char **argv, const char **path);

/* report.c */
typedef enum report_format { REPORT_TEXT = 0, REPORT_JSON, REPORT_CSV } report_format;

/* "text" / "json" / "csv"; returns -1 for others. */
int report_format_parse(const char *name, report_format *out);

/* Writes the fit to `out` in `format`. Returns CSVREG_OK, or an error (out of
 * memory building JSON) in `err`. Write errors are left in ferror(out). */
/* Writes a text the library made (a JSON report) and a newline when `st` is
 * CSVREG_OK, frees it, and returns `st`. */
csvreg_status report_put_text(FILE *out, csvreg_status st, char *text);

csvreg_status report_write(FILE *out, const csvreg_fit *fit, report_format format,
                           csvreg_error *err);

/* A report rendered in memory, for commands that also write a model with -o:
 * the report is built first, so that a failure building it (out of memory in
 * the JSON) leaves the -o file as it was; then the model is committed; then
 * report_buf_print shows the report, so that a report on stdout still means
 * the model is in place. */
typedef struct report_buf {
  FILE *fp; /* write the report here (open_memstream, or the direct stream) */
  char *text;
  size_t len;
  int direct; /* report_buf_direct: fp is the output itself */
} report_buf;

/* CSVREG_OK, or CSVREG_E_NOMEM when the memory stream cannot be made. */
csvreg_status report_buf_open(report_buf *b);

/* No model to commit first: the report goes straight to `out` (issue 12: a
 * JSON report of 1000 terms is 27 MB of text, held whole in a buffer, three
 * times the state); close and print then only forget it. */
void report_buf_direct(report_buf *b, FILE *out);

/* Closes fp: CSVREG_OK with the text in b, or CSVREG_E_NOMEM (text freed)
 * when a write to it could not grow the buffer. */
csvreg_status report_buf_close(report_buf *b);

/* Writes the text to `out` (NULL: discards it) and frees it, and fp if still
 * open. Safe on a zeroed or failed buffer. */
void report_buf_print(report_buf *b, FILE *out);

/* Prints the fit's warnings (few correct digits, no residual degrees of
 * freedom) on stderr. */
void report_warnings(const csvreg_fit *fit);

/* The number as the text report shows it: `%.*g` with `digits` significant
 * digits, or "NA" when not finite. Returns buf. */
const char *report_num(char *buf, size_t size, double v, int digits);

/* progress.c: the `\r` progress line on a terminal. */
typedef struct progress {
  int enabled;
  double start; /* monotonic seconds at progress_init */
  double last;  /* when the line was last drawn */
  size_t drawn; /* characters of the line on screen (0: none) */
} progress;

/* Monotonic clock in seconds (CLOCK_MONOTONIC). */
double progress_now(void);

/* Draws only when `enabled` (stderr a terminal and not --quiet). */
void progress_init(progress *p, int enabled);

/* Redraws at most every 0.5 s: bytes, rows, rows/s; percent and ETA when the
 * input's size is known (size >= 0). */
void progress_update(progress *p, uint64_t bytes, uint64_t rows, int64_t size);

/* Erases the line, if one was drawn. */
void progress_done(progress *p);

/* cmd_fit.c */
void cmd_fit_usage(FILE *out);
int cmd_fit_run(int argc, char **argv);

/* cmd_predict.c, cmd_eval.c */
void cmd_predict_usage(FILE *out);
int cmd_predict_run(int argc, char **argv);
void cmd_eval_usage(FILE *out);
int cmd_eval_run(int argc, char **argv);

/* completion.c: `csvreg completion bash|zsh` prints a completion script made
 * from each command's getopt_long tables (the ones opt_check_words checks)
 * and --help text, so an option added to a command completes without more. */
int cli_completion_run(int argc, char **argv, const cli_command *commands, size_t ncommands);

/* While completion.c asks a command for its options, this points at where
 * opt_check_words stores the command's tables (it then returns
 * CLI_EXIT_USAGE at once, printing nothing, so the command does nothing). */
typedef struct cli_option_tables {
  const char *shortopts;
  const struct option *longopts;
} cli_option_tables;
extern cli_option_tables *cli_option_capture;

/* stats.c: the --stats line of every command on stderr (rows, chunks, bytes,
 * seconds, rows/s, MB/s, peak RSS). */
void cli_print_stats(const csvreg_counts *k, uint64_t chunks, uint64_t bytes, double secs);

/* "s" unless n is 1: "1 row", "2 rows" (issue 16). */
#define CLI_PLURAL(n) ((n) == 1 ? "" : "s")

#endif
