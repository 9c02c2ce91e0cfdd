/*
 * cmd_solve.c - `csvreg solve`: a state (or several, merged as `merge`
 * does) solved and reported as `fit` reports, optionally kept as a model.
 * The state's meta carries the input options (delimiter, header, NA tokens,
 * weights column) that predict and eval need, so the model is complete.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "meat_cli.h"
#include "model_cli.h"
#include "state_cli.h"

#define CMD "solve"

void cmd_solve_usage(FILE *out) {
  fprintf(out,
          "Usage: %s solve [OPTION]... [STATE]...\n"
          "Solve an accumulator state (from 'fit --emit-state' or 'merge') and print the\n"
          "same report as 'fit'. Several states, or several lines, are merged first as\n"
          "'merge' does. With no STATE, or when STATE is -, read standard input.\n"
          "\n"
          "      --format FMT      text (default), json or csv, as fit\n"
          "      --tol X           aliasing tolerance, 0 < X < 1 (default %g)\n"
          "      --level X         confidence level of the intervals (default 0.95)\n"
          "  -o, --output FILE     also save the model for predict and eval (atomically)\n"
          "  -m, --model MODEL     STATE holds meat states (fit --emit-state --vcov TYPE\n"
          "                        -m MODEL, merged or not): report MODEL with their\n"
          "                        robust covariance, as 'fit --vcov TYPE' would; -o then\n"
          "                        saves MODEL with it, as 'fit --vcov TYPE -o' does\n"
          "      --quiet           no warnings on standard error\n"
          "  -h, --help            show this help and exit\n"
          "\n"
          "Exit status: 0 success, 2 usage, 4 I/O error, 5 numerical failure, 6 a state\n"
          "that cannot be used.\n"
          "\n"
          "Example:\n"
          "  %s merge part.* | %s solve --format json -o model.json\n",
          cli_program, CSVREG_DEFAULT_TOL, cli_program, cli_program);
}

enum { OPT_FORMAT = 256, OPT_TOL, OPT_LEVEL, OPT_QUIET, OPT_MODEL };

static const struct option long_options[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                             {"tol", required_argument, NULL, OPT_TOL},
                                             {"level", required_argument, NULL, OPT_LEVEL},
                                             {"quiet", no_argument, NULL, OPT_QUIET},
                                             {"output", required_argument, NULL, 'o'},
                                             {"model", required_argument, NULL, 'm'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

/* The report of `fit` built in memory (report_buf in cli.h says why): 0, or
 * the exit status after printing the error. */
static int report_build(report_buf *report, const csvreg_fit *fit, report_format format,
                        csvreg_error *err) {
  csvreg_status st = report_buf_open(report);
  if (st == CSVREG_OK && (st = report_write(report->fp, fit, format, err)) == CSVREG_OK)
    st = report_buf_close(report);
  if (!st)
    return 0;
  if (!err->message[0]) /* report_buf sets no message */
    err->status = st;
  return cli_report_error(err);
}

/* After a success (rc 0): the fit's warnings and the report; in any case
 * the buffer released. */
static void report_show(report_buf *report, const csvreg_fit *fit, int rc, int quiet) {
  if (!rc) {
    if (!quiet)
      report_warnings(fit);
    report_buf_print(report, stdout);
  }
  report_buf_print(report, NULL);
}

/* solve -m MODEL MEAT...: the model's fit with the merged meat's robust
 * covariance (with -o, MODEL saved with it); an exit status. */
static int solve_meat(csvreg_meatset *set, const char *path, const csvreg_solve_options *so0,
                      int level_given, int tol_given, const char *output, report_format format,
                      int quiet) {
  if (tol_given)
    return cli_usage_error(CMD, "--tol with -m: the model's coefficients are given");
  if (!csvreg_meatset_count(set))
    return cli_usage_error(CMD,
                           "-m %s: no meat state given (fit --emit-state --vcov TYPE -m "
                           "MODEL)",
                           path);
  csvreg_model *model = NULL;
  csvreg_meat *meat = NULL;
  csvreg_fit *fit = NULL;
  csvreg_robust *rob = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  int rc = cli_model_read(path, &model);
  csvreg_solve_options so;
  if (!rc) {
    /* the model's own options: the same solve gives the same coefficients */
    so = csvreg_model_get_options(model)->solve;
    if (level_given)
      so.level = so0->level;
  }
  csvreg_robust_options ro;
  if (!rc && csvreg_meatset_merge(set, NULL, &meat, NULL, &err))
    rc = cli_report_error(&err);
  if (!rc)
    csvreg_meat_options(meat, &ro);
  if (!rc && (csvreg_model_solve(model, &so, &fit, &err) ||
              csvreg_robust_new(&rob, fit, csvreg_model_accum(model), &ro, &err) ||
              csvreg_meat_bind(meat, rob, &err) || csvreg_fit_apply_meat(fit, rob, meat, &err)))
    rc = cli_report_error(&err);
  report_buf report = {0};
  if (!rc)
    rc = report_build(&report, fit, format, &err);
  /* -o: the model given, now with the robust covariance, as fit --vcov
   * TYPE -o keeps it (predict's intervals use it); committed before the
   * report is shown, as solve's other -o */
  if (!rc && output) {
    if (csvreg_model_set_vcov(model, fit, &err))
      rc = cli_report_error(&err);
    else
      rc = cli_model_write(output, model);
  }
  report_show(&report, fit, rc, quiet);
  csvreg_meat_free(meat);
  csvreg_robust_free(rob);
  csvreg_fit_free(fit);
  csvreg_model_free(model);
  return rc;
}

int cmd_solve_run(int argc, char **argv) {
  csvreg_solve_options so;
  csvreg_solve_options_init(&so);
  report_format format = REPORT_TEXT;
  const char *output = NULL;
  int quiet = 0;
  const char *meat_model = NULL; /* -m: the model of the meat states */
  int level_given = 0, tol_given = 0;
  if (opt_check_words(CMD, argc, argv, ":o:m:h", long_options))
    return CLI_EXIT_USAGE;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:m:h", long_options, NULL)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case OPT_FORMAT:
      if (report_format_parse(optarg, &format))
        return cli_usage_error(CMD, "--format: expected 'text', 'json' or 'csv', got '%s'", optarg);
      break;
    case OPT_TOL:
      if (opt_open_unit(CMD, "--tol", optarg, &so.tol))
        return CLI_EXIT_USAGE;
      tol_given = 1;
      break;
    case OPT_LEVEL:
      if (opt_open_unit(CMD, "--level", optarg, &so.level))
        return CLI_EXIT_USAGE;
      level_given = 1;
      break;
    case OPT_QUIET: quiet = 1; break;
    case 'o': output = optarg; break;
    case 'm': meat_model = optarg; break;
    case 'h': cmd_solve_usage(stdout); return CLI_EXIT_OK;
    default: return opt_error(CMD, c, opt);
    }
  }
  csvreg_stateset *set = NULL;
  csvreg_accum *acc = NULL;
  csvreg_fit *fit = NULL;
  csvreg_model *model = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  /* Meat states (the second pass of robust errors, issue 13) with -m. */
  csvreg_meatset *meat = NULL;
  int rc = inputs_read_all(&set, &meat, argc, argv, optind);
  if (!rc && (meat_model || csvreg_meatset_count(meat))) {
    rc = meat_model
             ? solve_meat(meat, meat_model, &so, level_given, tol_given, output, format, quiet)
             : cli_usage_error(CMD, "meat states (of 'fit --emit-state --vcov') need "
                                    "-m MODEL, the model of their second pass");
    csvreg_meatset_free(meat);
    csvreg_stateset_free(set);
    return rc;
  }
  csvreg_meatset_free(meat);
  if (!rc && csvreg_stateset_merge(set, NULL, &acc, NULL, &err))
    rc = cli_report_error(&err);
  /* shards' states of categorical variables: R's columns now */
  if (!rc && csvreg_accum_finish(acc, &err))
    rc = cli_report_error(&err);
  if (!rc && csvreg_accum_solve(acc, &so, &fit, &err))
    rc = cli_report_error(&err);
  /* a formula's state: the formula and levels in the report, as fit's */
  if (!rc && csvreg_fit_set_state_spec(fit, acc, &err))
    rc = cli_report_error(&err);
  /* The report is built in memory, then the -o model committed, then the
   * report shown (report_buf in cli.h says why). */
  report_buf report = {0};
  if (!rc)
    rc = report_build(&report, fit, format, &err);
  if (!rc && output) {
    csvreg_model_options mo;
    csvreg_model_options_init(&mo);
    csvreg_stateset_model_options(set, &mo);
    mo.solve = so;
    if (csvreg_model_new(&model, acc, &mo, &err))
      rc = cli_report_error(&err);
    else
      rc = cli_model_write(output, model);
  }
  report_show(&report, fit, rc, quiet);
  csvreg_model_free(model);
  csvreg_fit_free(fit);
  csvreg_accum_free(acc);
  csvreg_stateset_free(set);
  return rc;
}
