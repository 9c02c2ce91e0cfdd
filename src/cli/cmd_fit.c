/*
 * cmd_fit.c - `csvreg fit`, the one fit driver: options -> pass -> (state
 * line | solve -> report, model). Where the rows come from (a file, stdin, a
 * byte range, threads over ranges or stream blocks, names given for a
 * Hadoop split) is the pass engine's (csvreg_pass_*); what they go into is a
 * sink: the accumulator, or the holdout/CV split. So every input option
 * combines with validation, progress and --update, and the report is one
 * code path (report.c, validate.c). Every object is freed on every path (one
 * exit label; the _free functions accept NULL).
 */
#include <errno.h>
#include <ctype.h>
#include <getopt.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "bad_rows.h"
#include "meat_cli.h"
#include "model_cli.h"
#include "plot.h"
#include "state_cli.h"
#include "validate.h"

#define CMD "fit"

static void shard_usage(FILE *out);

void cmd_fit_usage(FILE *out) {
  fprintf(out,
          "Usage: %s fit -y COL [OPTION]... [FILE]\n"
          "  or:  %s fit 'FORMULA' [OPTION]... [FILE]\n"
          "Fit a linear regression of COL on the other columns of a CSV file, in one\n"
          "streaming pass and bounded memory, and print an R summary.lm-style report.\n"
          "With no FILE, or when FILE is -, read standard input.\n"
          "\n"
          "Model:\n"
          "  FORMULA, -f, --formula FORMULA\n"
          "                        an R model formula (the first argument when it holds\n"
          "                        a '~'): 'log(y) ~ x1 + I(x1^2) + x2:x3', 'y ~ (a + b)^2',\n"
          "                        'y ~ . - z', 'y ~ poly(x, 3, raw = TRUE) - 1'; terms are\n"
          "                        named and ordered as R's lm names them; factor(x) and\n"
          "                        relevel(x, ref = \"b\") read x as categorical (levels in\n"
          "                        byte order, treatment contrasts, as R with LC_COLLATE=C);\n"
          "                        so does a column whose first 512 records are mostly\n"
          "                        text (also with -y/-x: they mean y ~ a + b + ...)\n"
          "      --factor LIST     columns categorical in the formula or among -x, as text\n"
          "      --max-levels N    levels per categorical term (default 1000)\n"
          "  -y, --target COL      the column to predict (name or 1-based position)\n"
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
          "      --decompress M    auto (default): read gzip, zstd, xz or bzip2 input,\n"
          "                        known by its first bytes; none: the bytes as they are\n"
          "      --na LIST         comma-separated tokens that mean a missing value\n"
          "                        (default 'NA,': NA and the empty cell); a row with a\n"
          "                        missing used cell is dropped and counted\n"
          "      --skip-bad        drop and count rows with a cell that is not a number or\n"
          "                        the wrong number of fields, instead of failing; the\n"
          "                        first 5 are named on standard error (FILE:LINE: column\n"
          "                        NAME: reason; in input order with any --threads)\n"
          "      --bad-rows FILE   with --skip-bad: every skipped row in FILE, a CSV with\n"
          "                        the columns line,column,reason,text (written atomically)\n"
          "      --chunk-rows N    rows per block folded into the accumulator (1 to\n"
          "                        1048576; default %d)\n"
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
          "\n",
          cli_program, cli_program, CSVREG_DEFAULT_CHUNK_ROWS, CSVREG_DEFAULT_TOL);
  fputs("      --vcov TYPE       the coefficients' covariance: classical (default),\n"
        "                        HC0, HC1, HC2, HC3 (R's sandwich::vcovHC) or cluster\n"
        "                        (sandwich::vcovCL, type HC1); every type but classical\n"
        "                        reads FILE twice (not standard input); standard errors,\n"
        "                        t, p, intervals and a Wald F test use it\n"
        "      --cluster A[,B]   with --vcov cluster: the column(s) whose text names each\n"
        "                        row's cluster (two: Cameron-Gelbach-Miller two-way)\n"
        "      --max-clusters N  clusters held per column (default 1000000); more is a\n"
        "                        data error\n"
        "      --spill DIR       with --vcov, --plot or --refine and standard input: copy\n"
        "                        it to a temporary file in DIR for the further passes\n"
        "                        (zstd-compressed when csvreg has zstd; removed at\n"
        "                        exit, also on an error or a signal)\n"
        "      --refine          after the fit, one or two further passes over the input\n"
        "                        refine the coefficients and the residual sum of squares\n"
        "                        (iterative refinement against the kept triangular\n"
        "                        factor, residuals summed in double-double) until the\n"
        "                        correction stops shrinking; the report says the steps\n"
        "                        taken; -o saves the refined coefficients; standard\n"
        "                        input needs --spill; not with --update, --holdout, --cv\n"
        "      --refine-steps N  with --refine: at most N steps, one pass each (1 to\n"
        "                        10, default 2)\n"
        "      --plot FILE       after the fit, a second pass draws its training rows as\n"
        "                        eval --plot does (.png, .svg or .pdf): predicted vs\n"
        "                        actual, residuals vs fitted, histogram, normal Q-Q\n"
        "  -m, --model MODEL     with --emit-state and --vcov: the second pass alone, on\n"
        "                        this input (a shard: --range, --bytes, a block on\n"
        "                        standard input), with MODEL's coefficients: write a\n"
        "                        meat state for 'merge' and 'solve -m MODEL'\n"
        "\n",
        out);
  fputs("Output:\n"
        "      --format FMT      text (default): an R-like summary; json: every statistic\n"
        "                        at round-trip precision; csv: the coefficient table\n"
        "      --quiet           no progress line and no warnings on standard error\n"
        "      --stats           print rows, chunks, bytes, time, throughput and peak\n"
        "                        memory on standard error after the report\n"
        "  -o, --output FILE     also save the model (options, report and accumulator\n"
        "                        state) to FILE for predict and eval; written atomically\n"
        "                        (a temporary file renamed into place); the report is\n"
        "                        still printed; a formula's model keeps the formula\n"
        "                        and each factor's levels (predict rebuilds the terms)\n"
        "\n",
        out);
  fprintf(out, "Validation (exact, in the same pass):\n"
               "      --holdout F       hold out each row with probability F (0 < F < 1), fit on\n"
               "                        the others and report the held-out n, MSE, RMSE and R^2\n"
               "      --cv K            K-fold cross-validation (2 <= K <= 1000): per-fold and\n"
               "                        mean MSE, RMSE and R^2; the report is the fit on all rows\n"
               "      --seed S          seed of the row assignment (default 0): a row's part is a\n"
               "                        hash (splitmix64) of its record number and S; a\n"
               "                        held-out level unseen in training is warned about\n"
               "  -h, --help            show this help and exit\n");
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
          "  %s fit 'log(wage) ~ experience + I(experience^2) + education + ethnicity' cps.csv\n"
          "  %s fit -y y big.csv.gz\n",
          cli_program, cli_program, cli_program, cli_program, cli_program);
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
  const char *formula; /* an R formula, or NULL: -y and -x */
  const char *factors; /* --factor: comma-separated column names */
  const char *output;  /* -o: the model file (the state file with --emit-state) */
  /* --holdout / --cv */
  int val_mode; /* 0 none, 1 holdout, 2 cv */
  double fraction;
  size_t folds;
  unsigned long long seed;
  /* shards and refits */
  int emit_state;
  int format_given; /* --format: refused with --emit-state, which writes no report */
  int has_range;    /* --range I/N (1-based I) */
  uint64_t range_i, range_n;
  int has_bytes; /* --bytes START:END */
  uint64_t bytes_start, bytes_end;
  size_t threads;          /* 0: not given (one) */
  const char *update;      /* --update MODEL */
  double decay;            /* 0: not given */
  const char *columns;     /* --columns A,B,C */
  const char *header_line; /* --header-line TEXT */
  const char *bad_path;    /* --bad-rows FILE */
  const char *shard_id;    /* --shard-id ID (provenance only) */
  int allow_repeat;        /* --allow-repeat: --update may fold an input again */
  /* --vcov, --cluster, --max-clusters: robust errors by a second pass */
  csvreg_vcov_type vcov;
  const char *cluster;
  size_t max_clusters;
  const char *spill;      /* --spill DIR: standard input copied there for the two passes */
  const char *meat_model; /* -m MODEL with --emit-state --vcov: a meat state (issue 13) */
  const char *plot;       /* --plot FILE: the training rows scored by the fit (issue 16) */
  plot_format plot_fmt;
  size_t refine;       /* --refine: at most this many steps (0: not refined) */
  size_t refine_steps; /* --refine-steps N (0: not given) */
} fit_args;

enum {
  OPT_NO_INTERCEPT = 256,
  OPT_NA,
  OPT_SKIP_BAD,
  OPT_NO_HEADER,
  OPT_CHUNK_ROWS,
  OPT_MAX_LEVELS,
  OPT_FACTOR,
  OPT_SOLVER,
  OPT_TOL,
  OPT_LEVEL,
  OPT_FORMAT,
  OPT_QUIET,
  OPT_STATS,
  OPT_HOLDOUT,
  OPT_CV,
  OPT_SEED,
  OPT_EMIT_STATE,
  OPT_RANGE,
  OPT_BYTES,
  OPT_THREADS,
  OPT_UPDATE,
  OPT_DECAY,
  OPT_COLUMNS,
  OPT_HEADER_LINE,
  OPT_SHARD_ID,
  OPT_ALLOW_REPEAT,
  OPT_DECOMPRESS,
  OPT_VCOV,
  OPT_CLUSTER,
  OPT_MAX_CLUSTERS,
  OPT_BAD_ROWS,
  OPT_SPILL,
  OPT_PLOT,
  OPT_REFINE,
  OPT_REFINE_STEPS
};

static const struct option long_options[] = {
    {"target", required_argument, NULL, 'y'},
    {"formula", required_argument, NULL, 'f'},
    {"features", required_argument, NULL, 'x'},
    {"weights", required_argument, NULL, 'w'},
    {"no-intercept", no_argument, NULL, OPT_NO_INTERCEPT},
    {"na", required_argument, NULL, OPT_NA},
    {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
    {"bad-rows", required_argument, NULL, OPT_BAD_ROWS},
    {"delimiter", required_argument, NULL, 'd'},
    {"no-header", no_argument, NULL, OPT_NO_HEADER},
    {"chunk-rows", required_argument, NULL, OPT_CHUNK_ROWS},
    {"max-levels", required_argument, NULL, OPT_MAX_LEVELS},
    {"factor", required_argument, NULL, OPT_FACTOR},
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
    {"emit-state", no_argument, NULL, OPT_EMIT_STATE},
    {"range", required_argument, NULL, OPT_RANGE},
    {"bytes", required_argument, NULL, OPT_BYTES},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"update", required_argument, NULL, OPT_UPDATE},
    {"decay", required_argument, NULL, OPT_DECAY},
    {"columns", required_argument, NULL, OPT_COLUMNS},
    {"header-line", required_argument, NULL, OPT_HEADER_LINE},
    {"shard-id", required_argument, NULL, OPT_SHARD_ID},
    {"allow-repeat", no_argument, NULL, OPT_ALLOW_REPEAT},
    {"decompress", required_argument, NULL, OPT_DECOMPRESS},
    {"vcov", required_argument, NULL, OPT_VCOV},
    {"cluster", required_argument, NULL, OPT_CLUSTER},
    {"max-clusters", required_argument, NULL, OPT_MAX_CLUSTERS},
    {"spill", required_argument, NULL, OPT_SPILL},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"refine", no_argument, NULL, OPT_REFINE},
    {"refine-steps", required_argument, NULL, OPT_REFINE_STEPS},
    {"model", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s)
    return -1;
  *out = v;
  return (int)(end - s);
}

/* -1, or the usage error of `what`, an option that reads the input again
 * (`why`: how often and why, `why2` shorter): standard input needs --spill,
 * a pipe cannot be read twice, and --spill is for standard input. */
static int check_reread(const fit_args *a, int stream, const char *what, const char *why,
                        const char *why2) {
  struct stat sb;
  if (stream && !a->spill)
    return cli_usage_error(CMD,
                           "%s reads the input %s, and standard input cannot be read twice: "
                           "give a FILE, or --spill DIR to copy standard input to a temporary "
                           "file in DIR (removed at exit)",
                           what, why);
  if (!stream && stat(a->path, &sb) == 0 && !S_ISREG(sb.st_mode))
    return cli_usage_error(CMD,
                           "%s reads the input %s: %s is not a regular file (a pipe cannot be "
                           "read twice): give a FILE",
                           what, why2, a->path);
  if (a->spill && !stream)
    return cli_usage_error(CMD, "--spill is for standard input: %s is read twice as it is",
                           a->path);
  return -1;
}

/* Returns -1 to go on, or an exit status (help shown, or a usage error). */
static int parse_args(int argc, char **argv, fit_args *a) {
  memset(a, 0, sizeof *a);
  csvreg_reader_options_init(&a->reader);
  csvreg_spec_options_init(&a->spec);
  csvreg_solve_options_init(&a->solve);
  a->solver = CSVREG_SOLVER_QR;
  a->format = REPORT_TEXT;

  /* We print our own messages (opterr = 0; ':' reports a missing argument). */
  if (opt_check_words(CMD, argc, argv, ":y:x:w:f:d:o:m:h", long_options))
    return CLI_EXIT_USAGE;
  opterr = 0;
  optind = 1;
  int c, n;
  while ((c = getopt_long(argc, argv, ":y:x:w:f:d:o:m:h", long_options, NULL)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'y': a->spec.target = optarg; break;
    case 'f':
      if (a->formula)
        return cli_usage_error(CMD, "--formula given twice");
      a->formula = optarg;
      break;
    case 'x': a->spec.features = optarg; break;
    case 'w': a->spec.weights = optarg; break;
    case OPT_NO_INTERCEPT: a->spec.intercept = 0; break;
    case OPT_NA: a->spec.na = optarg; break;
    case OPT_SKIP_BAD: a->spec.skip_bad = 1; break;
    case OPT_BAD_ROWS:
      if (!optarg[0])
        return cli_usage_error(CMD, "--bad-rows: the file name cannot be empty");
      a->bad_path = optarg;
      break;
    case 'd':
      if (opt_delimiter(CMD, "--delimiter", optarg, &a->reader.delimiter))
        return CLI_EXIT_USAGE;
      break;
    case OPT_NO_HEADER: a->reader.header = 0; break;
    case OPT_DECOMPRESS:
      if (opt_decompress(CMD, optarg, &a->reader.decompress))
        return CLI_EXIT_USAGE;
      break;
    case OPT_CHUNK_ROWS:
      if (opt_chunk_rows(CMD, optarg, &a->chunk_rows))
        return CLI_EXIT_USAGE;
      break;
    case OPT_FACTOR: a->factors = optarg; break;
    case OPT_MAX_LEVELS:
      if (opt_positive_size(CMD, "--max-levels", optarg, &a->spec.max_levels))
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
      a->format_given = 1;
      if (report_format_parse(optarg, &a->format))
        return cli_usage_error(CMD, "--format: expected 'text', 'json' or 'csv', got '%s'", optarg);
      break;
    case OPT_QUIET: a->quiet = 1; break;
    case OPT_STATS: a->stats = 1; break;
    case 'o': a->output = optarg; break;
    case OPT_HOLDOUT:
      if (opt_open_unit(CMD, "--holdout", optarg, &a->fraction))
        return CLI_EXIT_USAGE;
      a->val_mode |= 1;
      break;
    case OPT_CV:
      if (opt_positive_size(CMD, "--cv", optarg, &a->folds))
        return CLI_EXIT_USAGE;
      if (a->folds < 2 || a->folds > 1000)
        return cli_usage_error(CMD, "--cv: expected 2 to 1000 folds, got '%s'", optarg);
      a->val_mode |= 2;
      break;
    case OPT_SEED: {
      char *end;
      errno = 0;
      if (optarg[0] < '0' || optarg[0] > '9' || (a->seed = strtoull(optarg, &end, 10), *end))
        return cli_usage_error(CMD, "--seed: expected an unsigned integer, got '%s'", optarg);
      if (errno == ERANGE)
        return cli_usage_error(CMD, "--seed: at most 18446744073709551615, got '%s'", optarg);
      break;
    }
    case OPT_EMIT_STATE: a->emit_state = 1; break;
    case OPT_RANGE:
      if ((n = parse_u64(optarg, &a->range_i)) < 0 || optarg[n] != '/' ||
          parse_u64(optarg + n + 1, &a->range_n) < 0 ||
          optarg[n + 1 + parse_u64(optarg + n + 1, &a->range_n)] != '\0' || a->range_i < 1 ||
          a->range_n < 1 || a->range_i > a->range_n)
        return cli_usage_error(CMD, "--range: expected I/N with 1 <= I <= N, got '%s'", optarg);
      a->has_range = 1;
      break;
    case OPT_BYTES:
      if ((n = parse_u64(optarg, &a->bytes_start)) < 0 || optarg[n] != ':' ||
          parse_u64(optarg + n + 1, &a->bytes_end) < 0 ||
          optarg[n + 1 + parse_u64(optarg + n + 1, &a->bytes_end)] != '\0' ||
          a->bytes_start > a->bytes_end)
        return cli_usage_error(CMD, "--bytes: expected START:END with START <= END, got '%s'",
                               optarg);
      a->has_bytes = 1;
      break;
    case OPT_THREADS:
      if (opt_threads(CMD, optarg, &a->threads))
        return CLI_EXIT_USAGE;
      break;
    case OPT_UPDATE: a->update = optarg; break;
    case OPT_DECAY: {
      char *end;
      a->decay = strtod(optarg, &end);
      if (end == optarg || *end || !(a->decay > 0 && a->decay <= 1))
        return cli_usage_error(CMD, "--decay: expected a number in (0, 1], got '%s'", optarg);
      break;
    }
    case OPT_COLUMNS:
      if (!optarg[0])
        return cli_usage_error(CMD, "--columns: expected comma-separated names");
      a->columns = optarg;
      break;
    case OPT_HEADER_LINE:
      if (!optarg[0])
        return cli_usage_error(CMD, "--header-line: expected the header record's text");
      a->header_line = optarg;
      break;
    case OPT_SHARD_ID: a->shard_id = optarg; break;
    case OPT_ALLOW_REPEAT: a->allow_repeat = 1; break;
    case OPT_VCOV:
      if (csvreg_vcov_parse(optarg, &a->vcov) != CSVREG_OK)
        return cli_usage_error(
            CMD, "--vcov: expected classical, HC0, HC1, HC2, HC3 or cluster, got '%s'", optarg);
      break;
    case OPT_CLUSTER:
      if (!optarg[0])
        return cli_usage_error(CMD, "--cluster: expected one or two column names");
      a->cluster = optarg;
      break;
    case OPT_PLOT:
      if (plot_option(CMD, optarg, &a->plot, &a->plot_fmt))
        return CLI_EXIT_USAGE;
      break;
    case OPT_SPILL:
      if (!optarg[0])
        return cli_usage_error(CMD, "--spill: expected a directory");
      a->spill = optarg;
      break;
    case OPT_MAX_CLUSTERS:
      if (opt_positive_size(CMD, "--max-clusters", optarg, &a->max_clusters))
        return CLI_EXIT_USAGE;
      break;
    case OPT_REFINE: a->refine = CSVREG_DEFAULT_REFINE_STEPS; break;
    case OPT_REFINE_STEPS:
      if (opt_positive_size(CMD, "--refine-steps", optarg, &a->refine_steps))
        return CLI_EXIT_USAGE;
      if (a->refine_steps > CSVREG_MAX_REFINE_STEPS)
        return cli_usage_error(CMD, "--refine-steps: expected 1 to %d, got '%s'",
                               CSVREG_MAX_REFINE_STEPS, optarg);
      break;
    case 'm': a->meat_model = optarg; break;
    case 'h': cmd_fit_usage(stdout); return CLI_EXIT_OK;
    default: return opt_error(CMD, c, opt);
    }
  }
  /* A formula is the first argument when it holds a '~' (few file names
   * do; './a~b.csv' or '/path/a~b.csv' reads such a file: no formula starts
   * with '/' or '.' and a slash). */
  const char *first = optind < argc ? argv[optind] : NULL;
  int formula_arg = first && strchr(first, '~') && first[0] != '/' &&
                    strncmp(first, "./", 2) != 0 && strncmp(first, "../", 3) != 0;
  if (formula_arg) {
    if (a->formula)
      return cli_usage_error(CMD, "two formulas: '%s' and '%s'", a->formula, argv[optind]);
    a->formula = argv[optind++];
  }
  if (opt_one_file(CMD, argc, argv, &a->path))
    return CLI_EXIT_USAGE;
  if (a->bad_path && !a->spec.skip_bad)
    return cli_usage_error(CMD, "--bad-rows lists the rows --skip-bad skips: give --skip-bad");
  if (a->formula && (a->spec.target || a->spec.features))
    return cli_usage_error(CMD, "a formula names the target and the terms: not with -y or -x%s",
                           formula_arg ? " (a file whose name holds a '~': write ./NAME)" : "");
  if (a->formula && a->update)
    return cli_usage_error(CMD, "--update takes the model's terms; do not give a formula");
  if (a->factors && a->update)
    return cli_usage_error(CMD, "--update takes the model's terms; do not give --factor");
  if (a->val_mode == 3)
    return cli_usage_error(CMD, "--holdout and --cv cannot be used together");
  if (a->val_mode && a->emit_state)
    return cli_usage_error(CMD, "--holdout and --cv report scores: not with --emit-state");
  if (a->emit_state && a->format_given)
    return cli_usage_error(CMD, "--format chooses the report; --emit-state writes a state (one "
                                "line of JSON), not a report");
  if (a->has_range && a->has_bytes)
    return cli_usage_error(CMD, "--range and --bytes cannot be used together");
  if (a->columns && a->header_line)
    return cli_usage_error(CMD, "--columns and --header-line cannot be used together");
  int stream = !a->path || strcmp(a->path, "-") == 0;
  if (stream && (a->has_range || a->has_bytes))
    return cli_usage_error(CMD, "--range and --bytes need a FILE, not standard input");
  if (a->decay > 0 && !a->update)
    return cli_usage_error(CMD, "--decay needs --update MODEL");
  if (a->allow_repeat && !a->update)
    return cli_usage_error(CMD, "--allow-repeat needs --update MODEL");
  if (a->update && (a->columns || a->header_line))
    return cli_usage_error(CMD, "--update takes the columns from the model");
  if (a->update && (a->spec.target || a->spec.features || a->spec.weights))
    return cli_usage_error(CMD, "--update takes -y, -x and -w from the model; do not give them");
  if (a->cluster && a->vcov != CSVREG_VCOV_CLUSTER)
    return cli_usage_error(CMD, "--cluster needs --vcov cluster");
  if (a->vcov == CSVREG_VCOV_CLUSTER && !a->cluster)
    return cli_usage_error(CMD, "--vcov cluster needs --cluster COL[,COL2]");
  if (a->max_clusters && a->vcov != CSVREG_VCOV_CLUSTER)
    return cli_usage_error(CMD, "--max-clusters needs --vcov cluster");
  if (a->meat_model) {
    /* the sharded second pass: one pass over a shard, the residuals of a
     * solved model (issue 13) */
    if (!a->emit_state || a->vcov == CSVREG_VCOV_CLASSICAL)
      return cli_usage_error(CMD, "-m MODEL is the second pass of robust errors: it needs "
                                  "--emit-state and --vcov TYPE");
    if (a->formula || a->spec.target || a->spec.features || a->spec.weights || a->factors ||
        !a->spec.intercept || a->spec.na)
      return cli_usage_error(CMD, "-m MODEL takes the terms, weights and NA tokens from the "
                                  "model; do not give them");
    if (a->update || a->val_mode || a->spill)
      return cli_usage_error(CMD, "-m MODEL: not with %s",
                             a->update     ? "--update"
                             : a->val_mode ? "--holdout or --cv"
                                           : "--spill (each pass reads its input once)");
    return -1;
  }
  if (a->vcov != CSVREG_VCOV_CLASSICAL) {
    struct stat sb;
    if (a->emit_state || a->update || a->val_mode)
      return cli_usage_error(CMD,
                             "--vcov %s: not with %s (robust errors are a second pass over "
                             "one input)",
                             csvreg_vcov_name(a->vcov),
                             a->emit_state      ? "--emit-state"
                             : a->update        ? "--update"
                             : a->val_mode == 1 ? "--holdout"
                                                : "--cv");
    if (stream && !a->spill)
      return cli_usage_error(CMD,
                             "--vcov %s reads the input twice (residuals need the "
                             "coefficients first), and standard input cannot be read twice: "
                             "give a FILE, or --spill DIR to copy standard input to a "
                             "temporary file in DIR (removed at exit)",
                             csvreg_vcov_name(a->vcov));
    if (a->spill && !stream)
      return cli_usage_error(CMD, "--spill is for standard input: %s is read twice as it is",
                             a->path);
    if (!stream && stat(a->path, &sb) == 0 && !S_ISREG(sb.st_mode))
      return cli_usage_error(CMD,
                             "--vcov %s reads the input twice: %s is not a regular file "
                             "(a pipe cannot be read twice): give a FILE",
                             csvreg_vcov_name(a->vcov), a->path);
  }
  if (a->plot) {
    /* the fit's own rows, scored by it: a second pass, as --vcov's */
    if (a->emit_state || a->update || a->val_mode)
      return cli_usage_error(CMD,
                             "--plot draws the fitted rows: not with %s (eval --plot draws a "
                             "saved model on any rows)",
                             a->emit_state ? "--emit-state"
                             : a->update   ? "--update"
                                           : "--holdout or --cv");
    int rc = check_reread(a, stream, "--plot", "twice (the residuals need the coefficients first)",
                          "twice");
    if (rc >= 0)
      return rc;
  }
  if (a->refine_steps && !a->refine)
    return cli_usage_error(CMD, "--refine-steps N needs --refine");
  if (a->refine_steps)
    a->refine = a->refine_steps;
  if (a->refine) {
    /* the fit's own rows again, one pass a step, as --vcov's second pass */
    if (a->meat_model || a->emit_state || a->update || a->val_mode)
      return cli_usage_error(CMD, "--refine refines the fit reported from one input: not with %s",
                             a->meat_model   ? "-m MODEL"
                             : a->emit_state ? "--emit-state (a state is refined by no pass)"
                             : a->update     ? "--update (the model's old rows cannot be read again)"
                                             : "--holdout or --cv");
    int rc = check_reread(a, stream, "--refine", "again for each step", "again");
    if (rc >= 0)
      return rc;
  }
  if (a->spill && a->vcov == CSVREG_VCOV_CLASSICAL && !a->plot && !a->refine)
    return cli_usage_error(CMD, "--spill DIR: only with --vcov or --plot (or --refine: a "
                                "classical fit reads standard input once)");
  if (!a->update && !a->spec.target && !a->formula)
    return cli_usage_error(CMD, "missing a formula ('y ~ x1 + x2') or --target (-y): the column "
                                "to predict");
  return -1;
}

static void shard_usage(FILE *out) {
  fputs("\n"
        "Shards and refits (see csvreg merge, csvreg solve):\n"
        "      --emit-state      write the accumulator state (one line of JSON with a\n"
        "                        checksum and provenance) instead of a report; with -o,\n"
        "                        to that file (atomically)\n"
        "      --range I/N       only the records that start in the I-th of N equal byte\n"
        "                        ranges of FILE (a regular file); the header is read from\n"
        "                        the file's start; quoted newlines never split a record\n"
        "      --bytes S:E       only the records that start in bytes [S, E) of FILE\n"
        "      --threads N       read FILE (a regular file) in N byte ranges on N threads\n"
        "                        and merge them; standard input in record-aligned\n"
        "                        blocks parsed on N threads; 0: every core the process\n"
        "                        may use (its CPU affinity)\n"
        "      --update MODEL    fold the rows into MODEL's saved state (the columns and\n"
        "                        options are the model's): equal to refitting on the old\n"
        "                        and new rows, new levels of a formula's categorical\n"
        "                        columns included; use -o MODEL to replace it atomically\n"
        "      --decay L         with --update: scale the old rows' weights by L\n"
        "                        (0 < L <= 1) first (exponential forgetting)\n"
        "      --allow-repeat    with --update: fold an input the model records as\n"
        "                        read already, by fit -o or an update (same size and\n"
        "                        digests of its first and last MiB, or of every byte of a\n"
        "                        stream); without it that is an error (exit 3): its rows\n"
        "                        would count twice\n"
        "      --columns LIST    the column names (comma-separated) of an input whose\n"
        "                        first line may not be the header (a Hadoop split): a\n"
        "                        first line equal to the names is skipped, any other is data\n"
        "      --header-line T   as --columns, the names given as a CSV header record\n"
        "      --shard-id ID     a name for this shard in the state's provenance\n",
        out);
}

/* --update: the model's options replace the defaults; options given that
 * disagree with the model are an error. */
static int take_model_options(fit_args *j, const csvreg_model *m) {
  const csvreg_model_options *mo = csvreg_model_get_options(m);
  const csvreg_fit_summary *f = csvreg_fit_get_summary(csvreg_model_fit(m));
  if (!j->spec.intercept != !f->intercept && !j->spec.intercept)
    return cli_usage_error(CMD, "--no-intercept: the model %s has an intercept", j->update);
  if (j->spec.na && (!mo->na || strcmp(j->spec.na, mo->na) != 0))
    return cli_usage_error(CMD, "--na differs from the model's NA tokens");
  if (j->reader.delimiter != ',' && j->reader.delimiter != mo->delimiter)
    return cli_usage_error(CMD, "--delimiter differs from the model's");
  if (!j->reader.header && mo->header)
    return cli_usage_error(CMD, "--no-header: the model was fitted on input with a header");
  if (j->solver != CSVREG_SOLVER_QR && j->solver != f->solver)
    return cli_usage_error(CMD, "--solver differs from the model's");
  j->spec.weights = mo->weights;
  j->spec.intercept = f->intercept;
  j->spec.na = mo->na;
  j->reader.delimiter = mo->delimiter;
  j->reader.header = mo->header;
  j->solver = f->solver;
  j->solve = mo->solve;
  return -1;
}

/* --update (issue 15): the input as the model records it, so that a cron
 * job run twice, or a file given again, does not count its rows twice. A
 * regular file is known before reading it (size, first and last MiB); a
 * stream only after (every byte, digested by the pass). */
#define FOLD_PROBE ((size_t)1 << 20)

typedef struct fold_id {
  csvreg_fold_record r;
  char head[CSVREG_DIGEST_HEX], tail[CSVREG_DIGEST_HEX], digest[CSVREG_DIGEST_HEX];
} fold_id;

/* The digest of FOLD_PROBE bytes from `off` into out; -1 on a read error. */
static int probe(int fd, uint64_t off, uint64_t size, unsigned char *buf, char *out) {
  size_t want = size - off < FOLD_PROBE ? (size_t)(size - off) : FOLD_PROBE, got = 0;
  while (got < want) {
    ssize_t n = pread(fd, buf + got, want - got, (off_t)(off + got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  csvreg_digest_hex(buf, want, out);
  return 0;
}

/* A regular file's record (1), or 0: not a regular file (known after the
 * pass), or unreadable (the pass says why). With --range/--bytes the
 * record is of the bytes of that range (clamped to the file), so that
 * another range of the same file is other rows. */
static int fold_file(const char *path, const csvreg_pass_options *po, fold_id *f) {
  memset(f, 0, sizeof *f);
  if (!path || strcmp(path, "-") == 0)
    return 0;
  int fd = open(path, O_RDONLY);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    if (fd >= 0)
      close(fd);
    return 0; /* the pass says why it cannot read it, or reads the stream */
  }
  unsigned char *buf = malloc(FOLD_PROBE);
  uint64_t size = (uint64_t)sb.st_size, start = 0;
  if (po->has_range) {
    size = po->range_end < size ? po->range_end : size;
    start = po->range_start < size ? po->range_start : size;
  }
  int ok =
      buf && probe(fd, start, size, buf, f->head) == 0 &&
      probe(fd, size - start > FOLD_PROBE ? size - FOLD_PROBE : start, size, buf, f->tail) == 0;
  size -= start;
  free(buf);
  close(fd);
  if (!ok)
    return 0;
  f->r.name = path;
  f->r.size = size;
  f->r.head = f->head;
  f->r.tail = f->tail;
  return 1;
}

/* -1 to go on, or CLI_EXIT_DATA when the model has folded this input. */
static int refuse_repeat(const fit_args *a, const csvreg_model *m, const csvreg_fold_record *r) {
  long i = csvreg_model_find_folded(m, r);
  if (i < 0 || a->allow_repeat)
    return -1;
  csvreg_fold_record e;
  csvreg_model_get_folded(m, (size_t)i, &e);
  cli_errorf("--update: %s was folded into %s already (update %ld of %zu, from %s: %llu bytes, "
             "%llu records, the same %s): folding it again would count its rows twice; give "
             "--allow-repeat if these are new rows",
             r->name, a->update, i + 1, csvreg_model_nfolded(m), e.name, (unsigned long long)e.size,
             (unsigned long long)e.records,
             e.digest ? "digest of every byte" : "digests of its first and last MiB");
  return CLI_EXIT_DATA;
}

/* The state's provenance: what the pass read. */
static char *meta_text(const fit_args *j, const csvreg_spec *spec, const csvreg_accum *acc,
                       const csvreg_pass_info *pv) {
  char shard[64];
  csvreg_provenance p = {0};
  p.pass = pv;
  p.shard = j->shard_id;
  if (!j->shard_id && j->has_range) {
    snprintf(shard, sizeof shard, "%llu/%llu", (unsigned long long)j->range_i,
             (unsigned long long)j->range_n);
    p.shard = shard;
  }
  p.updated_from = j->update;
  p.delimiter = j->reader.delimiter;
  p.header = j->reader.header;
  p.na = j->spec.na;
  p.weights = csvreg_spec_weights_name(spec);
  char *t = NULL;
  return csvreg_provenance_to_json(&p, acc, &t, NULL) ? NULL : t;
}

static void on_progress(void *ctx, uint64_t bytes, uint64_t records, int64_t size) {
  progress_update(ctx, bytes, records, size);
}

/* --range I/N and --bytes S:E as a byte range of the file; -1 to go on or
 * an exit status. */
static int byte_range(const fit_args *a, csvreg_pass_options *po) {
  if (!a->has_range && !a->has_bytes)
    return -1;
  struct stat sb;
  if (stat(a->path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    cli_errorf("%s: --range and --bytes need a regular file", a->path);
    return stat(a->path, &sb) != 0 ? CLI_EXIT_IO : CLI_EXIT_USAGE;
  }
  po->has_range = 1;
  if (a->has_bytes) {
    po->range_start = a->bytes_start;
    po->range_end = a->bytes_end;
    return -1;
  }
  uint64_t size = (uint64_t)sb.st_size, n = a->range_n, i = a->range_i;
  po->range_start = size / n * (i - 1) + size % n * (i - 1) / n;
  po->range_end = size / n * i + size % n * i / n;
  return -1;
}

/* A feature given by -x that looked numeric in its first records and holds
 * text further on fails as "expected a number"; the fix is --factor, which
 * the user may not know exists. Said only for words (a value that starts with
 * a letter and is not a spelling of NaN or infinity) after the first line,
 * where a category is the likely meaning; "1,5" or "0x10" are numbers in the
 * wrong form, and text on line 1 is more likely a header than a category. */
static void hint_factor(const csvreg_error *err, const csvreg_spec *spec) {
  if (!spec || err->status != CSVREG_E_VALUE || !err->column_name[0] || err->line <= 1 ||
      !strstr(err->message, "expected a number, found \""))
    return;
  const char *t = csvreg_spec_target_name(spec), *w = csvreg_spec_weights_name(spec);
  if ((t && !strcmp(t, err->column_name)) || (w && !strcmp(w, err->column_name)))
    return;
  const char *v = strstr(err->message, "found \"") + 7;
  /* A word: starts with a letter ("1e999", "0x10", "12abc" are numbers gone wrong). */
  int letter = isalpha((unsigned char)*v) != 0;
  static const char *const numberish[] = {"nan", "inf", "infinity", "na"};
  for (size_t i = 0; i < sizeof numberish / sizeof *numberish; i++) {
    size_t n = strlen(numberish[i]);
    if (!strncasecmp(v, numberish[i], n) && v[n] == '"')
      return;
  }
  if (letter)
    fprintf(stderr,
            "%s: hint: column '%s' held numbers in its first records; to treat it as "
            "categorical give --factor %s\n",
            cli_program, err->column_name, err->column_name);
}

/* --factor with -y/-x: each column named must be a feature (the target
 * and the weights are numbers); -1 to go on or an exit status. */
static int factors_are_features(const char *list, const csvreg_spec *spec,
                                const char *const *names) {
  const char *tw[2] = {csvreg_spec_target_name(spec), csvreg_spec_weights_name(spec)};
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ","), k = 0, n = csvreg_spec_ninputs(spec);
    for (int r = 0; r < 2; r++)
      if (tw[r] && strlen(tw[r]) == len && memcmp(tw[r], p, len) == 0)
        return cli_usage_error(CMD, "--factor: '%.*s' is the %s: it must be a number", (int)len, p,
                               r ? "weights" : "target");
    while (k < n && !(strlen(names[csvreg_spec_input_column(spec, k)]) == len &&
                      memcmp(names[csvreg_spec_input_column(spec, k)], p, len) == 0))
      k++;
    if (k == n)
      return cli_usage_error(CMD, "--factor: '%.*s' is not among the features (-x)", (int)len, p);
    p += len + (p[len] == ',');
  }
  return -1;
}

/* ---- further passes over the fit's input (--vcov, --plot, --refine; -m) ---- */

/* The pass's freed blocks (fold workspaces, chunk buffers) back to the
 * system before the solve and the report, the peak of a wide fit (issue 12,
 * mem12d): glibc keeps freed pages of its heap resident until the top of
 * the heap is free or malloc_trim asks. */
static void trim_heap(void) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

/* A failed library call reported: its status put in the error record (the
 * returned status is trusted over a record a module forgot to fill); the
 * exit status. */
static int report_status(csvreg_error *err, csvreg_status st) {
  if (err->status != st) {
    err->status = st;
    if (!err->message[0])
      snprintf(err->message, sizeof err->message, "%s", csvreg_status_str(st));
  }
  return cli_report_error(err);
}

/* The options of a pass after the fit's: the same input (a file, a range,
 * threads, --skip-bad, the spilled standard input) with nothing said twice
 * (bad rows, the text sample, progress) and nothing a state needs. */
static csvreg_pass_options further_options(const csvreg_pass_options *po1) {
  csvreg_pass_options po = *po1;
  po.on_bad = NULL; /* told in the first pass */
  po.sample_text = 0;
  po.progress = NULL;
  po.open_levels = 0;
  po.digest = 0;
  return po;
}

/* One further pass: its input, its spec (made as the first pass's: from
 * `model`, or the formula, or -y/-x; then bound by `bind`, e.g. to the
 * fit's levels) and the sink it filled, freed by further_free. */
typedef struct further {
  const csvreg_sink_type *type;
  csvreg_pass *pass;
  csvreg_spec *spec;
  void *sink;
} further;

typedef csvreg_status (*further_bind)(csvreg_spec *spec, const char *const *names, size_t nc,
                                      const void *ctx, csvreg_error *err);

static csvreg_status further_run(further *f, const fit_args *a, const csvreg_pass_options *po,
                                 const csvreg_model *model, further_bind bind, const void *ctx,
                                 const csvreg_sink_type *type, const void *arg, csvreg_error *err) {
  memset(f, 0, sizeof *f);
  f->type = type;
  csvreg_status st = csvreg_pass_open(&f->pass, po, err);
  if (st)
    return st;
  const char *const *names = csvreg_pass_column_names(f->pass);
  size_t nc = csvreg_pass_ncolumns(f->pass);
  const unsigned flags =
      CSVREG_MODEL_BIND_TARGET | (a->spec.skip_bad ? CSVREG_MODEL_BIND_SKIP_BAD : 0);
  if (model)
    st = csvreg_model_spec_new(&f->spec, model, names, nc, flags, err);
  else if (a->formula)
    st = csvreg_spec_new_formula(&f->spec, names, nc, a->formula, &a->spec, NULL, err);
  else
    st = csvreg_spec_new(&f->spec, names, nc, &a->spec, err);
  if (!st && bind)
    st = bind(f->spec, names, nc, ctx, err);
  if (st) {
    st = csvreg_pass_blame_input(f->pass, st, err);
    /* the columns a further pass needs are checked against the header */
    if (!err->source[0]) {
      snprintf(err->source, sizeof err->source, "%s", csvreg_pass_get_info(f->pass)->source);
      err->line = po->reader.header ? 1 : 0;
    }
    return st;
  }
  return csvreg_pass_run(f->pass, f->spec, type, arg, &f->sink, err);
}

static void further_free(further *f) {
  if (f->type && f->sink)
    f->type->free(f->sink);
  csvreg_spec_free(f->spec);
  csvreg_pass_free(f->pass);
  memset(f, 0, sizeof *f);
}

static csvreg_status bind_robust(csvreg_spec *spec, const char *const *names, size_t nc,
                                 const void *rob, csvreg_error *err) {
  return csvreg_spec_second_pass(spec, rob, names, nc, err);
}

/* The robust covariance's options from --vcov, --cluster, --max-clusters. */
static void robust_options(const fit_args *a, csvreg_robust_options *ro) {
  csvreg_robust_options_init(ro);
  ro->type = a->vcov;
  ro->clusters = a->cluster;
  if (a->max_clusters)
    ro->max_clusters = a->max_clusters;
}

/* --vcov: the second pass over the same input, with the same spec (the
 * fit's levels, the cluster columns as keys), into the meat sink; the
 * fit's covariance becomes the sandwich. -1 to go on or an exit status. */
static int second_pass(const fit_args *a, const csvreg_pass_options *po1, const csvreg_accum *acc,
                       csvreg_fit *fit) {
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_robust_options ro;
  robust_options(a, &ro);
  csvreg_pass_options po = further_options(po1);
  csvreg_robust *rob = NULL;
  further f = {0};
  csvreg_status st = csvreg_robust_new(&rob, fit, acc, &ro, &err);
  if (!st)
    st = further_run(&f, a, &po, NULL, bind_robust, rob, csvreg_sink_meat(), rob, &err);
  if (!st)
    st = csvreg_fit_apply_meat(fit, rob, f.sink, &err);
  int rc = st ? report_status(&err, st) : -1;
  further_free(&f);
  csvreg_robust_free(rob);
  return rc;
}

/* --plot FILE: the fit as a model, scored on its own rows by a second pass
 * over the same input and options (threads, ranges, NA, --skip-bad) into the
 * evaluation sink's plot summaries, then drawn as eval --plot draws (its
 * exit status when that fails). An exit status on failure, else -1. */
static int plot_pass(const fit_args *a, const csvreg_pass_options *po1, const csvreg_accum *acc,
                     const csvreg_spec *spec1) {
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_model_options mo;
  csvreg_model_options_init(&mo);
  mo.weights = csvreg_spec_weights_name(spec1);
  mo.na = a->spec.na;
  mo.delimiter = a->reader.delimiter;
  mo.header = a->reader.header;
  mo.solve = a->solve;
  mo.spec = spec1;
  csvreg_pass_options po = further_options(po1);
  csvreg_chunk_options co;
  if (po1->chunk)
    co = *po1->chunk;
  else
    csvreg_chunk_options_init(&co);
  co.drop_zero_weight = 1; /* as eval: a row of weight 0 is not scored */
  po.chunk = &co;
  csvreg_model *model = NULL;
  further f = {0};
  csvreg_status st = csvreg_model_new(&model, acc, &mo, &err);
  csvreg_eval_options eo = {model, 0, a->reader.header ? 2 : 1, 1, CSVREG_EVAL_SAMPLE, PLOT_SEED};
  if (!st)
    st = further_run(&f, a, &po, model, NULL, NULL, csvreg_sink_eval_with(), &eo, &err);
  int rc = -1;
  if (st) {
    rc = report_status(&err, st);
  } else {
    csvreg_metrics m;
    csvreg_scoring_result(f.sink, &m, NULL);
    rc = plot_model_scoring(a->plot, a->plot_fmt, model, f.sink, &m,
                            csvreg_pass_get_info(f.pass)->source);
    if (rc == 0)
      rc = -1;
  }
  further_free(&f);
  csvreg_model_free(model);
  return rc;
}

static csvreg_status bind_refine(csvreg_spec *spec, const char *const *names, size_t nc,
                                 const void *ref, csvreg_error *err) {
  (void)names;
  (void)nc;
  return csvreg_spec_refine_pass(spec, ref, err);
}

/* --refine[=N]: passes over the same input, each one step of iterative
 * refinement (src/fit/refine.c) of the fit's coefficients and RSS, until
 * the corrections stop shrinking or N steps. -1 to go on or an exit
 * status. */
static int refine_passes(const fit_args *a, const csvreg_pass_options *po1, const csvreg_accum *acc,
                         csvreg_fit *fit) {
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_pass_options po = further_options(po1);
  csvreg_refine *ref = NULL;
  further f = {0};
  csvreg_status st = csvreg_refine_new(&ref, fit, acc, a->refine, &err);
  while (!st && csvreg_refine_more(ref)) {
    st = further_run(&f, a, &po, NULL, bind_refine, ref, csvreg_sink_refine(), ref, &err);
    if (!st)
      st = csvreg_refine_step(ref, f.sink, &err);
    further_free(&f);
  }
  if (!st)
    st = csvreg_fit_apply_refine(fit, ref, &err);
  int rc = st ? report_status(&err, st) : -1;
  further_free(&f);
  csvreg_refine_free(ref);
  return rc;
}

/* --spill DIR: standard input copied to a new file in DIR (its name in
 * *out, malloc'd), guarded so that a terminating signal removes it; the
 * caller removes it at exit. The library compresses the copy with zstd
 * when it can (csvreg_spill_copy; the reader decompresses it as it reads).
 * An exit status on failure, else -1. */
static int spill_stdin(const char *dir, int decompress, char **out, csvreg_spill_info *info) {
  size_t n = strlen(dir) + 32;
  char *path = malloc(n);
  if (!path) {
    cli_errorf("out of memory");
    return CLI_EXIT_INTERNAL;
  }
  snprintf(path, n, "%s/csvreg-spill-XXXXXX", dir);
  int fd = atomic_mkstemp(path, 1);
  if (fd < 0) {
    cli_errorf("--spill: cannot create a file in %s: %s", dir, strerror(errno));
    free(path);
    return CLI_EXIT_IO;
  }
  *out = path;
  csvreg_error err;
  csvreg_error_clear(&err);
  if (csvreg_spill_copy(STDIN_FILENO, "<stdin>", fd, path, decompress, info, &err)) {
    close(fd);
    if (err.source[0]) /* reading standard input */
      return cli_report_error(&err);
    cli_errorf("--spill: %s", err.message);
    return cli_exit_code(err.status);
  }
  if (close(fd) != 0) {
    cli_errorf("--spill: cannot write %s: %s", path, strerror(errno));
    return CLI_EXIT_IO;
  }
  return -1;
}

/* -m MODEL --emit-state --vcov TYPE: the second pass over one shard with
 * the model's coefficients (and factor, for HC2/HC3), written as a meat
 * state (issue 13). The model gives the terms and the input options. */
static int emit_meat(const fit_args *a) {
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_model *model = NULL;
  csvreg_robust *rob = NULL;
  further f = {0};
  char *meta = NULL;
  csvreg_status st = CSVREG_OK;
  int rc = cli_model_read(a->meat_model, &model);
  if (rc)
    return rc;
  const csvreg_model_options *mo = csvreg_model_get_options(model);
  if ((a->reader.delimiter != ',' && a->reader.delimiter != mo->delimiter) ||
      (!a->reader.header && mo->header)) {
    rc = cli_usage_error(CMD, "-m %s: --delimiter and --no-header come from the model",
                         a->meat_model);
    goto done;
  }
  csvreg_robust_options ro;
  robust_options(a, &ro);
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = a->path;
  po.reader = a->reader;
  po.reader.delimiter = mo->delimiter;
  po.reader.header = mo->header;
  po.columns = a->columns;
  po.header_line = a->header_line;
  po.threads = a->threads;
  po.chunk_rows = a->chunk_rows;
  po.block_bytes = cli_stdin_block_bytes();
  po.digest = 1; /* a streamed block is known by its digest (merge) */
  if ((rc = byte_range(a, &po)) >= 0)
    goto done;
  rc = 0;
  if ((st = csvreg_robust_new(&rob, csvreg_model_fit(model), csvreg_model_accum(model), &ro,
                              &err)) ||
      (st = further_run(&f, a, &po, model, bind_robust, rob, csvreg_sink_meat(), rob, &err)))
    goto fail;
  char shard[64];
  const char *sid = a->shard_id;
  if (!sid && a->has_range) {
    snprintf(shard, sizeof shard, "%llu/%llu", (unsigned long long)a->range_i,
             (unsigned long long)a->range_n);
    sid = shard;
  }
  if ((st = csvreg_meat_meta(f.sink, csvreg_pass_get_info(f.pass), sid, &meta, &err)))
    goto fail;
  rc = meat_write(a->output, f.sink, meta);
  goto done;
fail:
  rc = report_status(&err, st);
done:
  free(meta);
  further_free(&f);
  csvreg_robust_free(rob);
  csvreg_model_free(model);
  return rc;
}

int cmd_fit_run(int argc, char **argv) {
  fit_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  if (a.meat_model)
    return emit_meat(&a);

  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_model *model = NULL, *saved = NULL; /* --update's input; the -o model */
  csvreg_pass *pass = NULL;
  csvreg_spec *spec = NULL;
  csvreg_accum *acc = NULL, *pre = NULL;
  int pre_update = 0;
  csvreg_split *split = NULL;
  csvreg_fit *fit = NULL;
  char *meta = NULL;
  unsigned char *factor_cols = NULL;
  report_buf report = {0};
  bad_rows bad;
  memset(&bad, 0, sizeof bad);
  validation val = {a.val_mode, a.fraction, a.folds, a.seed, NULL, 0};
  csvreg_status st = CSVREG_OK;
  progress prog;
  double t0 = progress_now();
  progress_init(&prog, !a.quiet && isatty(STDERR_FILENO));
  char *spilled = NULL;
  csvreg_spill_info spill_info;
  if (a.spill) {
    if ((rc = spill_stdin(a.spill, a.reader.decompress, &spilled, &spill_info)) >= 0)
      goto done;
    a.path = spilled;
  }

  if (a.update) {
    /* no design factor; a pre-select state's finished copy given to the
     * model's fit (issue 12, mem12e: two q x q arrays, not four) */
    if ((rc = cli_model_read_with(a.update, CSVREG_MODEL_READ_UPDATE, &model)) != 0)
      goto done;
    /* A formula model with categorical variables keeps a pre-select state
     * (a column for every level), which takes rows with new levels exactly;
     * one whose state is R's columns only (fitted with --holdout or --cv,
     * or by an older csvreg) cannot. A formula of numeric terms has fixed
     * columns: its state takes new rows as a model of input columns does. */
    pre_update = csvreg_model_state(model) != csvreg_model_accum(model);
    if (csvreg_model_nfactors(model) && !pre_update) {
      rc = cli_usage_error(CMD,
                           "--update: the model %s keeps only R's columns of its categorical "
                           "variables (it was fitted with --holdout or --cv, or by an older "
                           "csvreg), so rows with a new level cannot be folded in: refit with "
                           "the formula",
                           a.update);
      goto done;
    }
    if (pre_update && a.val_mode) {
      rc = cli_usage_error(CMD, "--update of a model with categorical variables takes no "
                                "--holdout or --cv");
      goto done;
    }
    if ((rc = take_model_options(&a, model)) >= 0)
      goto done;
  }
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = a.path;
  po.reader = a.reader;
  po.columns = a.columns;
  po.header_line = a.header_line;
  po.threads = a.threads;
  po.chunk_rows = a.chunk_rows;
  po.block_bytes = cli_stdin_block_bytes();
  po.progress = on_progress;
  po.progress_ctx = &prog;
  if (a.spec.skip_bad) {
    /* the delimiter of the text in --bad-rows: the input's */
    if ((rc = bad_rows_open(&bad, a.bad_path, a.reader.delimiter)) != 0)
      goto done;
    po.on_bad = bad_rows_add;
    po.on_bad_ctx = &bad;
  }
  if (!model) {
    /* text columns (bare in a formula, or -x features) are categorical:
     * decided on a sample */
    po.sample_text = CSVREG_DEFAULT_CHUNK_ROWS;
    po.sample_na = a.spec.na;
  }
  /* A state to merge keeps every level's column: shards' level sets and
   * baselines differ, and `solve` chooses R's columns once all are in. */
  po.open_levels = (a.emit_state && !model) || pre_update;
  /* a streamed block or update is known by its digest (merge, --update) */
  po.digest = a.emit_state || a.update;
  /* fit -o records the input it read as --update does (issue 15), so that
   * `fit --update` with the model's own training rows is refused too */
  const int record_fold = model || (a.output && !a.emit_state);
  po.digest |= record_fold;
  /* a formula model saved with -o keeps the pre-select state, finished
   * below for the report */
  const int finish_here = (pre_update || (a.output && a.formula && !a.val_mode)) && !a.emit_state;
  po.open_levels |= finish_here;
  if ((rc = byte_range(&a, &po)) >= 0)
    goto done;
  fold_id fid;
  int fid_file = record_fold ? fold_file(a.path, &po, &fid) : 0;
  if (fid_file && (rc = refuse_repeat(&a, model, &fid.r)) >= 0)
    goto done;
  if ((st = csvreg_pass_open(&pass, &po, &err)))
    goto fail;
  /* --update reads the new rows through the model's own spec, its inputs
   * found by name. */
  const unsigned bind =
      CSVREG_MODEL_BIND_TARGET | (a.spec.skip_bad ? CSVREG_MODEL_BIND_SKIP_BAD : 0);
  size_t where = CSVREG_NO_OFFSET;
  a.spec.text_columns = csvreg_pass_text_columns(pass);
  if (a.factors && a.spec.text_columns) {
    /* --factor: those columns as if they held text */
    size_t nc = csvreg_pass_ncolumns(pass);
    const char *const *names = csvreg_pass_column_names(pass);
    if (!(factor_cols = malloc(nc ? nc : 1))) {
      st = CSVREG_E_NOMEM;
      goto fail;
    }
    memcpy(factor_cols, a.spec.text_columns, nc);
    for (const char *p = a.factors; *p;) {
      size_t len = strcspn(p, ",");
      size_t j = 0;
      while (j < nc && !(strlen(names[j]) == len && memcmp(names[j], p, len) == 0))
        j++;
      if (j == nc) {
        rc = cli_usage_error(CMD, "--factor: no column named '%.*s' in the header", (int)len, p);
        goto done;
      }
      factor_cols[j] = 1;
      p += len + (p[len] == ',');
    }
    a.spec.text_columns = factor_cols;
  }
  if (model)
    st = csvreg_model_spec_new(&spec, model, csvreg_pass_column_names(pass),
                               csvreg_pass_ncolumns(pass),
                               bind | (pre_update ? CSVREG_MODEL_BIND_OPEN_LEVELS : 0), &err);
  else if (a.formula)
    st = csvreg_spec_new_formula(&spec, csvreg_pass_column_names(pass), csvreg_pass_ncolumns(pass),
                                 a.formula, &a.spec, &where, &err);
  else
    st = csvreg_spec_new(&spec, csvreg_pass_column_names(pass), csvreg_pass_ncolumns(pass), &a.spec,
                         &err);
  if (!st && !a.formula && a.factors &&
      (rc = factors_are_features(a.factors, spec, csvreg_pass_column_names(pass))) >= 0)
    goto done;
  if (st && !(a.formula && st == CSVREG_E_USAGE) && !err.source[0]) {
    /* A column choice is checked against the header: name the header's line. */
    int given = a.columns || a.header_line;
    snprintf(err.source, sizeof err.source, "%s",
             given ? "--columns" : csvreg_pass_get_info(pass)->source);
    err.line = !given && a.reader.header ? 1 : 0;
  }
  if (st && a.formula && (st == CSVREG_E_USAGE || where != CSVREG_NO_OFFSET)) {
    /* The formula's own fault: point at it. */
    rc = cli_report_error(&err);
    if (where != CSVREG_NO_OFFSET) {
      char caret[2048];
      csvreg_formula_caret(a.formula, where, caret, sizeof caret);
      fprintf(stderr, "%s\n", caret);
    }
    goto done;
  }
  if (st)
    goto fail;

  csvreg_split_options so = {a.val_mode == 2 ? (int)a.folds : 0, a.fraction, a.seed, a.solver};
  void *sink = NULL;
  st = a.val_mode ? csvreg_pass_run(pass, spec, csvreg_sink_split(), &so, &sink, &err)
                  : csvreg_pass_run(pass, spec, csvreg_sink_accum(), &a.solver, &sink, &err);
  progress_done(&prog);
  if (st)
    goto fail;
  if (a.val_mode)
    split = sink;
  else
    acc = sink;
  const csvreg_pass_info *info = csvreg_pass_get_info(pass);
  if (record_fold) {
    /* the record of what was folded: a stream is known now */
    if (!fid_file) {
      fid.r.name = info->source;
      fid.r.size = info->header_bytes + info->bytes;
      if (info->has_digest) {
        csvreg_digest_format(info->digest, fid.digest);
        fid.r.digest = fid.digest;
      }
      if (model && fid.r.digest && (rc = refuse_repeat(&a, model, &fid.r)) >= 0)
        goto done;
    }
    fid.r.records = info->records;
    if (fid.r.digest || fid.r.head)
      cli_fit_model_fold(model, &fid.r);
  }

  /* The rows fitted: with --update the model's rows first, then the new:
   * the order of a refit on both. */
  csvreg_accum *old = NULL;
  if (model) {
    /* a formula model's state of every level's column is taken, not copied
     * (the model keeps what binding and the fold records need) */
    if ((st = pre_update ? csvreg_model_take_state(model, &old, &err)
                         : csvreg_accum_copy(csvreg_model_state(model), &old, &err)) ||
        (a.decay > 0 && (st = csvreg_accum_scale(old, a.decay, &err)))) {
      csvreg_accum_free(old);
      goto fail;
    }
  }
  if (split) {
    /* The fit's rows: the training part or every fold, after the old rows;
     * CV folds are scored by fits that include the old rows too. */
    if (!old && (st = csvreg_accum_new_for_spec(&old, spec, a.solver, &err)))
      goto fail;
    acc = old;
    if ((st = csvreg_split_merge_fit_rows(split, acc, &err)))
      goto fail;
  } else if (old) {
    st = csvreg_accum_merge(old, acc, &err);
    csvreg_accum_free(acc);
    acc = old;
    if (st) {
      /* the model's state is what cannot take the rows (e.g. its counters
       * would pass 2^63 - 1): named as other model-file errors are */
      if (!err.source[0])
        snprintf(err.source, sizeof err.source, "%s", a.update);
      goto fail;
    }
  }

  if (finish_here) {
    /* acc keeps every level's column (the model's state); R's columns are
     * chosen on a copy, as `solve` does for a state */
    pre = acc;
    acc = NULL;
    if ((st = csvreg_accum_copy(pre, &acc, &err)) || (st = csvreg_accum_finish(acc, &err)))
      goto fail;
  }
  if (a.emit_state) {
    if (!(meta = meta_text(&a, spec, acc, info))) {
      st = CSVREG_E_NOMEM;
      goto fail;
    }
    rc = state_write(a.output, acc, meta);
    goto done;
  }
  /* Nothing after the solve reads acc's numbers unless a second pass, a
   * split or a model of acc itself (-o without a pre-select state) follows:
   * then the fit takes them (issue 12: one q x q array for a wide fit, not
   * the state and the fit's copy). */
  const int release = !a.refine && a.vcov == CSVREG_VCOV_CLASSICAL && !a.plot && !split &&
                      (!a.output || pre);
  trim_heap();
  if ((st = release ? csvreg_accum_solve_release(acc, &a.solve, &fit, &err)
                    : csvreg_accum_solve(acc, &a.solve, &fit, &err)) ||
      (st = csvreg_fit_set_spec(fit, spec, acc, &err)))
    goto fail;
  if (a.refine && (rc = refine_passes(&a, &po, acc, fit)) >= 0)
    goto done;
  if (a.vcov != CSVREG_VCOV_CLASSICAL && (rc = second_pass(&a, &po, acc, fit)) >= 0)
    goto done;
  if (a.plot && (rc = plot_pass(&a, &po, acc, spec)) >= 0)
    goto done;
  if (split) {
    csvreg_accum *base = NULL;
    if (model && a.val_mode == 2) { /* CV trains on the old rows plus the other folds */
      if ((st = csvreg_accum_copy(csvreg_model_accum(model), &base, &err)) ||
          (a.decay > 0 && (st = csvreg_accum_scale(base, a.decay, &err)))) {
        csvreg_accum_free(base);
        goto fail;
      }
    }
    val.nscores = csvreg_split_nscores(split);
    val.scores = calloc(val.nscores, sizeof *val.scores);
    st = val.scores ? csvreg_split_score(split, fit, base, &a.solve, val.scores, &err)
                    : CSVREG_E_NOMEM;
    csvreg_accum_free(base);
    if (st)
      goto fail;
  }
  /* The report is built in memory, then the -o model committed, then the
   * report shown (report_buf in cli.h says why). */
  if (a.output)
    st = report_buf_open(&report);
  else
    report_buf_direct(&report, stdout);
  if (st)
    goto fail;
  st = split ? validation_write(report.fp, &val, fit, a.format, &err)
             : report_write(report.fp, fit, a.format, &err);
  if (st || (st = report_buf_close(&report)))
    goto fail;
  /* predict's intervals use the robust covariance, and its predictions the
   * refined coefficients */
  if (a.output && (a.vcov != CSVREG_VCOV_CLASSICAL || a.refine))
    cli_fit_model_keep(fit);
  /* A classical fit's model takes the state and the fit made here (issue
   * 12: no copy of the state, no second solve); a robust or refined fit's
   * model solves its classical fit again from a copy, as before. */
  const csvreg_fit *shown = fit;
  const csvreg_accum *counted = acc;
  if (a.output && a.vcov == CSVREG_VCOV_CLASSICAL && !a.refine) {
    csvreg_accum **state = pre ? &pre : &acc, **fitted = pre ? &acc : &pre;
    rc = cli_fit_model_write_fit(a.output, state, fitted, &fit, spec, &a.spec, &a.reader, &a.solve,
                                 &saved);
    if (rc != CLI_EXIT_OK)
      goto done;
  } else if (a.output && (rc = cli_fit_model_write(a.output, pre ? pre : acc, spec, &a.spec,
                                                   &a.reader, &a.solve)) != CLI_EXIT_OK)
    goto done;
  if (!a.quiet)
    report_warnings(shown);
  for (size_t i = 0; split && !a.quiet && i < val.nscores; i++) {
    uint64_t u = csvreg_split_unseen(split, i);
    char what[64] = "holdout";
    if (a.val_mode == 2)
      snprintf(what, sizeof what, "cross-validation fold %zu", i + 1);
    if (u)
      cli_warnf("%s: %llu held-out row(s) with a level the training rows never saw (R's "
                "predict fails on them); scored with that level's effect as 0",
                what, (unsigned long long)u);
  }
  report_buf_print(&report, stdout);
  /* Flush now so that the stats follow the report on a shared terminal; a
   * write error is reported by main when it closes stdout. */
  cli_flush_stdout();
  if (a.stats)
    cli_print_stats(csvreg_accum_counts(counted), info->chunks, info->bytes + info->header_bytes,
                    progress_now() - t0);
  if (a.stats && spilled)
    fprintf(stderr, "%s: stats: spilled %llu byte%s of standard input as %llu (%s)\n",
            cli_program, (unsigned long long)spill_info.bytes_in, CLI_PLURAL(spill_info.bytes_in),
            (unsigned long long)spill_info.bytes_out,
            spill_info.compression ? spill_info.compression : "as they are");
  if ((rc = bad_rows_close(&bad, 1)) != 0)
    goto done;
  rc = CLI_EXIT_OK;
  goto done;

fail:
  progress_done(&prog);
  st = csvreg_pass_blame_input(pass, st, &err); /* a header garbled by a damaged archive */
  rc = report_status(&err, st);
  if (!a.formula && !a.update)
    hint_factor(&err, spec);
done:
  bad_rows_close(&bad, 0);
  if (spilled) {
    unlink(spilled);
    atomic_unguard_spill();
    free(spilled);
  }
  free(factor_cols);
  report_buf_print(&report, NULL);
  free(val.scores);
  free(meta);
  csvreg_fit_free(fit);
  csvreg_split_free(split);
  csvreg_accum_free(acc);
  csvreg_accum_free(pre);
  csvreg_spec_free(spec);
  csvreg_pass_free(pass);
  csvreg_model_free(model);
  csvreg_model_free(saved);
  return rc;
}
