/*
 * cmd_fit.c - `csvreg fit`: options, then one streaming pass
 * reader -> chunk -> accumulator -> solve -> report, with every object freed
 * on every path (one exit label, the _free functions accept NULL).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model_cli.h"
#include "shard.h"

#define CMD "fit"

void cmd_fit_usage(FILE *out) {
  fprintf(out,
          "Usage: %s fit -y COL [OPTION]... [FILE]\n"
          "Fit a linear regression of COL on the other columns of a CSV file, in one\n"
          "streaming pass and bounded memory, and print an R summary.lm-style report.\n"
          "With no FILE, or when FILE is -, read standard input.\n"
          "\n"
          "Model:\n"
          "  -y, --target COL      the column to predict (name or 1-based position); required\n"
          "  -x, --features LIST   comma-separated feature columns (names or positions);\n"
          "                        default: every column but the target and the weights\n"
          "  -w, --weights COL     weighted least squares with the weights in COL, as R's\n"
          "                        lm(weights=); zero weights are counted and not fitted,\n"
          "                        a negative weight is an error\n"
          "      --no-intercept    fit without an intercept\n"
          "\n"
          "Input:\n"
          "  -d, --delimiter C     field delimiter, one character; '\\t' or 'tab' for TAB\n"
          "                        (default ',')\n"
          "      --no-header       the first row is data; columns are named V1, V2, ...\n"
          "      --na LIST         comma-separated tokens that mean a missing value\n"
          "                        (default 'NA,': NA and the empty cell); a row with a\n"
          "                        missing used cell is dropped and counted\n"
          "      --skip-bad        drop and count rows with a cell that is not a number or\n"
          "                        the wrong number of fields, instead of failing\n"
          "      --chunk-rows N    rows per block folded into the accumulator (N > 0;\n"
          "                        default %d)\n"
          "\n"
          "Numerics:\n"
          "      --solver NAME     qr (default): streamed QR of the shifted data, accurate\n"
          "                        on ill-conditioned designs; normal: centred co-moments\n"
          "                        and Cholesky, faster on wide designs\n"
          "      --tol X           aliasing tolerance, 0 < X < 1 (default %g); a term whose\n"
          "                        part not explained by earlier terms is below X times its\n"
          "                        norm is reported as aliased (NA)\n"
          "      --level X         confidence level of the intervals, 0 < X < 1\n"
          "                        (default 0.95)\n"
          "\n"
          "Output:\n"
          "      --format FMT      text (default): an R-like summary; json: every statistic\n"
          "                        at round-trip precision; csv: the coefficient table\n"
          "      --quiet           no progress line and no warnings on standard error\n"
          "      --stats           print rows, chunks, bytes, time, throughput and peak\n"
          "                        memory on standard error after the report\n"
          "  -o, --output FILE     also save the model (options, report and accumulator\n"
          "                        state) to FILE for predict and eval; written atomically\n"
          "                        (a temporary file renamed into place); the report is\n"
          "                        still printed\n"
          "\n"
          "Validation (exact, in the same pass):\n"
          "      --holdout F       hold out each row with probability F (0 < F < 1), fit on\n"
          "                        the others and report the held-out n, MSE, RMSE and R^2\n"
          "      --cv K            K-fold cross-validation (2 <= K <= 1000): per-fold and\n"
          "                        mean MSE, RMSE and R^2; the report is the fit on all rows\n"
          "      --seed S          seed of the row assignment (default 0): a row's part is a\n"
          "                        hash (splitmix64) of its record number and S\n"
          "  -h, --help            show this help and exit\n",
          cli_program, CSVREG_DEFAULT_CHUNK_ROWS, CSVREG_DEFAULT_TOL);
  shard_usage(out);
  fprintf(out,
          "\n"
          "A progress line is shown while reading when standard error is a terminal.\n"
          "Exit status: 0 success, 1 internal error, 2 usage, 3 bad input data,\n"
          "4 input/output error, 5 numerical failure (see '%s --help').\n"
          "\n"
          "Examples:\n"
          "  %s fit -y Employed data/longley.csv\n"
          "  %s fit -y price -x sqft,rooms,age -w weight houses.csv --format json\n"
          "  zcat big.csv.gz | %s fit -y y -\n",
          cli_program, cli_program, cli_program, cli_program);
}

typedef struct fit_args {
  csvreg_reader_options reader;
  csvreg_spec_options spec;
  csvreg_solve_options solve;
  csvreg_solver solver;
  size_t chunk_rows;
  report_format format;
  int quiet, stats;
  const char *path;
  const char *output; /* -o: the model file */
  validation val;     /* --holdout / --cv */
  shard_args sh;      /* --emit-state, --range, --threads, --update, ... (fit_shard.c) */
} fit_args;

enum {
  OPT_NO_INTERCEPT = 256,
  OPT_NA,
  OPT_SKIP_BAD,
  OPT_NO_HEADER,
  OPT_CHUNK_ROWS,
  OPT_SOLVER,
  OPT_TOL,
  OPT_LEVEL,
  OPT_FORMAT,
  OPT_QUIET,
  OPT_STATS,
  OPT_HOLDOUT,
  OPT_CV,
  OPT_SEED
};

static const struct option long_options[] = {
    {"target", required_argument, NULL, 'y'},
    {"features", required_argument, NULL, 'x'},
    {"weights", required_argument, NULL, 'w'},
    {"no-intercept", no_argument, NULL, OPT_NO_INTERCEPT},
    {"na", required_argument, NULL, OPT_NA},
    {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
    {"delimiter", required_argument, NULL, 'd'},
    {"no-header", no_argument, NULL, OPT_NO_HEADER},
    {"chunk-rows", required_argument, NULL, OPT_CHUNK_ROWS},
    {"solver", required_argument, NULL, OPT_SOLVER},
    {"tol", required_argument, NULL, OPT_TOL},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"stats", no_argument, NULL, OPT_STATS},
    {"output", required_argument, NULL, 'o'},
    {"holdout", required_argument, NULL, OPT_HOLDOUT},
    {"cv", required_argument, NULL, OPT_CV},
    {"seed", required_argument, NULL, OPT_SEED},
    SHARD_LONG_OPTIONS{"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* Returns -1 to go on, or an exit status (help shown, or a usage error). */
static int parse_args(int argc, char **argv, fit_args *a) {
  memset(a, 0, sizeof *a);
  csvreg_reader_options_init(&a->reader);
  csvreg_spec_options_init(&a->spec);
  csvreg_solve_options_init(&a->solve);
  a->solver = CSVREG_SOLVER_QR;
  a->format = REPORT_TEXT;

  /* We print our own messages (opterr = 0; ':' reports a missing argument). */
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":y:x:w:d:o:h", long_options, NULL)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'y': a->spec.target = optarg; break;
    case 'x': a->spec.features = optarg; break;
    case 'w': a->spec.weights = optarg; break;
    case OPT_NO_INTERCEPT: a->spec.intercept = 0; break;
    case OPT_NA: a->spec.na = optarg; break;
    case OPT_SKIP_BAD: a->spec.skip_bad = 1; break;
    case 'd':
      if (opt_delimiter(CMD, "--delimiter", optarg, &a->reader.delimiter))
        return CLI_EXIT_USAGE;
      break;
    case OPT_NO_HEADER: a->reader.header = 0; break;
    case OPT_CHUNK_ROWS:
      if (opt_positive_size(CMD, "--chunk-rows", optarg, &a->chunk_rows))
        return CLI_EXIT_USAGE;
      break;
    case OPT_SOLVER:
      if (csvreg_solver_parse(optarg, &a->solver) != CSVREG_OK)
        return cli_usage_error(CMD, "--solver: expected 'qr' or 'normal', got '%s'", optarg);
      break;
    case OPT_TOL:
      if (opt_open_unit(CMD, "--tol", optarg, &a->solve.tol))
        return CLI_EXIT_USAGE;
      break;
    case OPT_LEVEL:
      if (opt_open_unit(CMD, "--level", optarg, &a->solve.level))
        return CLI_EXIT_USAGE;
      break;
    case OPT_FORMAT:
      if (report_format_parse(optarg, &a->format))
        return cli_usage_error(CMD, "--format: expected 'text', 'json' or 'csv', got '%s'", optarg);
      break;
    case OPT_QUIET: a->quiet = 1; break;
    case OPT_STATS: a->stats = 1; break;
    case 'o': a->output = optarg; break;
    case OPT_HOLDOUT:
      if (opt_open_unit(CMD, "--holdout", optarg, &a->val.fraction))
        return CLI_EXIT_USAGE;
      a->val.mode |= 1;
      break;
    case OPT_CV:
      if (opt_positive_size(CMD, "--cv", optarg, &a->val.k))
        return CLI_EXIT_USAGE;
      if (a->val.k < 2 || a->val.k > 1000)
        return cli_usage_error(CMD, "--cv: expected 2 to 1000 folds, got '%s'", optarg);
      a->val.mode |= 2;
      break;
    case OPT_SEED: {
      char *end;
      if (optarg[0] < '0' || optarg[0] > '9' || (a->val.seed = strtoull(optarg, &end, 10), *end))
        return cli_usage_error(CMD, "--seed: expected an unsigned integer, got '%s'", optarg);
      break;
    }
    case 'h': cmd_fit_usage(stdout); return CLI_EXIT_OK;
    default:
      if (shard_is_opt(c)) {
        if (shard_parse_opt(&a->sh, c, optarg))
          return CLI_EXIT_USAGE;
        break;
      }
      return opt_error(CMD, c, opt);
    }
  }
  if (opt_one_file(CMD, argc, argv, &a->path))
    return CLI_EXIT_USAGE;
  if (!a->spec.target && !a->sh.update)
    return cli_usage_error(CMD, "missing --target (-y): the column to predict");
  if (a->val.mode == 3)
    return cli_usage_error(CMD, "--holdout and --cv cannot be used together");
  return -1;
}

int cmd_fit_run(int argc, char **argv) {
  fit_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  if (shard_active(&a.sh)) { /* the shard flow: fit_shard.c */
    fit_job j = {a.sh,     a.reader, a.spec,  a.solve,    a.solver, a.chunk_rows,
                 a.format, a.quiet,  a.stats, a.val.mode, a.path,   a.output};
    if ((rc = fit_shard_check(&j)) >= 0)
      return rc;
    return fit_shard_run(&j);
  }

  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_reader *reader = NULL;
  csvreg_spec *spec = NULL;
  csvreg_chunk *chunk = NULL;
  csvreg_accum *accum = NULL;
  csvreg_fit *fit = NULL;
  csvreg_status st;
  progress prog;
  uint64_t chunks = 0;
  double t0 = progress_now();

  progress_init(&prog, !a.quiet && isatty(STDERR_FILENO));
  st = csvreg_reader_open(&reader, a.path ? a.path : "-", &a.reader, &err);
  if (st != CSVREG_OK)
    goto fail;
  st = csvreg_spec_new(&spec, csvreg_reader_column_names(reader), csvreg_reader_ncolumns(reader),
                       &a.spec, &err);
  if (st != CSVREG_OK) {
    /* A column choice is checked against the header: point at it. */
    if (!err.source[0]) {
      snprintf(err.source, sizeof err.source, "%s", csvreg_reader_source(reader));
      err.line = a.reader.header ? 1 : 0;
    }
    goto fail;
  }
  st = csvreg_chunk_new(&chunk, spec, a.chunk_rows, &err);
  if (st != CSVREG_OK)
    goto fail;
  st = csvreg_accum_new_for_spec(&accum, spec, a.solver, &err);
  if (st != CSVREG_OK)
    goto fail;
  if (a.val.mode && (st = validation_start(&a.val, spec, a.solver, a.chunk_rows, &err)))
    goto fail;

  int64_t size = csvreg_reader_size(reader);
  do {
    st = csvreg_chunk_fill(chunk, reader, &err);
    if (csvreg_is_error(st))
      goto fail;
    if (csvreg_chunk_counts(chunk)->records > 0)
      chunks++;
    csvreg_status st2 = a.val.mode ? validation_add_chunk(&a.val, chunk, &err)
                                   : csvreg_accum_add_chunk(accum, chunk, &err);
    if (st2 != CSVREG_OK) {
      st = st2;
      goto fail;
    }
    progress_update(&prog, csvreg_reader_bytes(reader), csvreg_accum_counts(accum)->records, size);
  } while (st != CSVREG_END);
  progress_done(&prog);

  if (a.val.mode && (st = validation_merge(&a.val, accum, &err)))
    goto fail;
  st = csvreg_accum_solve(accum, &a.solve, &fit, &err);
  if (st != CSVREG_OK)
    goto fail;
  if (a.val.mode && (st = validation_score(&a.val, fit, &a.solve, spec, a.solver, &err)))
    goto fail;
  /* -o: written before the report, so a report on stdout means the model is in place. */
  if (a.output && (rc = cli_fit_model_write(a.output, accum, spec, &a.spec, &a.reader, &a.solve)) !=
                      CLI_EXIT_OK)
    goto done;
  if (!a.quiet)
    report_warnings(fit);
  st = a.val.mode ? validation_write(stdout, &a.val, fit, a.format, &err)
                  : report_write(stdout, fit, a.format, &err);
  if (st != CSVREG_OK)
    goto fail;
  /* Flush now so that the stats follow the report on a shared terminal; a
   * write error is reported by main when it closes stdout. */
  cli_flush_stdout();
  if (a.stats)
    cli_print_stats(csvreg_accum_counts(accum), chunks, csvreg_reader_bytes(reader),
                    progress_now() - t0);
  rc = CLI_EXIT_OK;
  goto done;

fail:
  progress_done(&prog);
  /* Trust the returned status over a record a module forgot to fill. */
  if (err.status != st) {
    err.status = st;
    if (!err.message[0])
      snprintf(err.message, sizeof err.message, "%s", csvreg_status_str(st));
  }
  rc = cli_report_error(&err);
done:
  validation_free(&a.val);
  csvreg_fit_free(fit);
  csvreg_accum_free(accum);
  csvreg_chunk_free(chunk);
  csvreg_spec_free(spec);
  csvreg_reader_free(reader);
  return rc;
}
