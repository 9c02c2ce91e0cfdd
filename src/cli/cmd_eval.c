/*
 * cmd_eval.c - `csvreg eval -m MODEL [FILE]`: the model's predictions scored
 * against the target column in one pass of the library's pass engine with
 * its evaluation sink: the model's spec is bound to the input by name,
 * chunks of rows are filled as fit fills them (rows of weight 0 left out:
 * they score nothing), predicted with one library call and folded into the
 * evaluator (compensated sums, per-block two-pass variances), so memory is
 * one chunk per thread.
 *
 * --every N adds metrics per window of N records, --plot FILE draws the
 * figure of plot.c from the sink's binned counts and residual sample, and
 * --fail-if EXPR (condition.c, parsed before the data are read) turns a
 * drift check into an exit status for cron and CI: CLI_EXIT_CONDITION.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bad_rows.h"
#include "condition.h"
#include "model_cli.h"
#include "plot.h"

#define CMD "eval"
#define EVAL_ROWS 4096
/* --fail-if's status when the condition holds: not used by any failure. */
#define CLI_EXIT_CONDITION 8

void cmd_eval_usage(FILE *out) {
  fprintf(out,
          "Usage: %s eval -m MODEL [OPTION]... [FILE]\n"
          "Score a model saved by '%s fit -o MODEL' on a CSV file holding its features\n"
          "and its target, in one pass: n, MSE, RMSE, MAE, MAPE, maximum absolute error,\n"
          "mean error (bias, y - prediction), R-squared and explained variance about this\n"
          "file's own mean, as sklearn.metrics computes them; weighted by the model's\n"
          "weights column when it has one. With no FILE, or when FILE is -, read\n"
          "standard input.\n"
          "\n"
          "  -m, --model FILE      the model file (required)\n"
          "      --format FMT      text (default), json or csv\n"
          "      --skip-bad        drop and count rows with a cell that is not a number or\n"
          "                        the wrong number of fields, instead of failing; the\n"
          "                        first %d such rows are named on standard error\n"
          "                        (FILE:LINE: column NAME: reason)\n"
          "      --bad-rows FILE   with --skip-bad: every such row in FILE, a CSV with the\n"
          "                        columns line,column,reason,text (written atomically)\n"
          "  -d, --delimiter C     field delimiter (default: the model's)\n"
          "      --no-header       the input has no header (columns are V1, V2, ...)\n"
          "      --chunk-rows N    rows per block (default %d)\n"
          "      --threads N       read FILE in N byte ranges (a stream in blocks) on N\n"
          "                        threads (0: every core the process may use); the\n"
          "                        metrics equal one thread's to rounding\n"
          "      --decompress M    auto (default): read gzip, zstd, xz or bzip2 input,\n"
          "                        known by its first bytes; none: the bytes as they are\n"
          "      --quiet           no progress line\n"
          "      --stats           print rows, chunks, bytes, time, throughput and peak\n"
          "                        memory on standard error\n"
          "      --every N         also the metrics of each window of N records (data\n"
          "                        records 1..N, N+1..2N, ...; shown by record number,\n"
          "                        the header being record 1): a table after the text\n"
          "                        report, a \"windows\" array in JSON, one CSV row per\n"
          "                        window (the CSV has the windows only); past 256 KiB\n"
          "                        the finished windows wait in an unnamed temporary\n"
          "                        file in $TMPDIR (88 bytes a window), not in memory\n"
          "      --plot FILE       draw predicted vs actual and residuals vs fitted (binned\n"
          "                        densities), a residual histogram and a normal Q-Q plot\n"
          "                        (a sample of %d rows) into FILE.png, .svg or .pdf;\n"
          "                        with --format json the bins too\n"
          "      --fail-if EXPR    after the report, exit %d when EXPR holds for the\n"
          "                        metrics, e.g. 'rmse > 1.2 or r_squared < 0.8' (metric\n"
          "                        names as printed, < <= > >= == !=, a number, and/or;\n"
          "                        'and' binds tighter; parentheses); with --every, when\n"
          "                        it holds for any window with rows (not the total)\n"
          "  -h, --help            show this help and exit"
          "\n"
          "Rows with a missing value (the model's NA tokens) are dropped and counted;\n"
          "rows with y = 0 are left out of the MAPE (a fraction, not a percentage)\n"
          "and counted. Rows with weight 0 do not count.\n"
          "Exit status: 0 success, 1 internal error, 2 usage, 3 bad input data,\n"
          "4 input/output error, 5 no rows to score, 6 unusable model file,\n"
          "%d the --fail-if condition holds.\n"
          "\n"
          "Example:\n"
          "  %s eval -m model.json test.csv --format json\n"
          "  %s eval -m model.json new.csv --every 10000 --fail-if 'rmse > 1.2'\n",
          cli_program, cli_program, BAD_ROWS_SHOWN, EVAL_ROWS, CSVREG_EVAL_SAMPLE,
          CLI_EXIT_CONDITION, CLI_EXIT_CONDITION, cli_program, cli_program);
}

typedef struct eval_args {
  const char *model, *path;
  size_t threads;
  report_format format;
  model_read_opts rd;
  uint64_t every;   /* --every N, 0 without */
  const char *plot; /* --plot FILE */
  plot_format plot_fmt;
  const char *fail_if;  /* --fail-if EXPR, parsed into cond */
  const char *bad_path; /* --bad-rows FILE */
  condition *cond;
} eval_args;

enum { OPT_FORMAT = 256, OPT_THREADS, OPT_EVERY, OPT_PLOT, OPT_FAIL_IF, OPT_BAD_ROWS };

static const struct option long_options[] = {{"model", required_argument, NULL, 'm'},
                                             {"format", required_argument, NULL, OPT_FORMAT},
                                             {"threads", required_argument, NULL, OPT_THREADS},
                                             {"every", required_argument, NULL, OPT_EVERY},
                                             {"plot", required_argument, NULL, OPT_PLOT},
                                             {"fail-if", required_argument, NULL, OPT_FAIL_IF},
                                             {"bad-rows", required_argument, NULL, OPT_BAD_ROWS},
                                             MODEL_READ_LONG_OPTIONS,
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

static int parse_args(int argc, char **argv, eval_args *a) {
  memset(a, 0, sizeof *a);
  a->format = REPORT_TEXT;
  a->rd.chunk_rows = EVAL_ROWS;
  if (opt_check_words(CMD, argc, argv, ":m:d:h", long_options))
    return CLI_EXIT_USAGE;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":m:d:h", long_options, NULL)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'm': a->model = optarg; break;
    case OPT_FORMAT:
      if (report_format_parse(optarg, &a->format))
        return cli_usage_error(CMD, "--format: expected 'text', 'json' or 'csv', got '%s'", optarg);
      break;
    case OPT_THREADS:
      if (opt_threads(CMD, optarg, &a->threads))
        return CLI_EXIT_USAGE;
      break;
    case OPT_EVERY:
      if (opt_count(CMD, "--every", optarg, &a->every))
        return CLI_EXIT_USAGE;
      if (a->every == 0)
        return cli_usage_error(CMD, "--every: expected a positive count of records, got '%s'",
                               optarg);
      break;
    case OPT_PLOT:
      if (plot_option(CMD, optarg, &a->plot, &a->plot_fmt))
        return CLI_EXIT_USAGE;
      break;
    case OPT_FAIL_IF: a->fail_if = optarg; break;
    case OPT_BAD_ROWS:
      if (!optarg[0])
        return cli_usage_error(CMD, "--bad-rows: the file name cannot be empty");
      a->bad_path = optarg;
      break;
    case 'h': cmd_eval_usage(stdout); return CLI_EXIT_OK;
    default: {
      int r = model_read_option(CMD, c, optarg, opt, &a->rd);
      if (r >= 0)
        return r;
    }
    }
  }
  int rc = model_args_done(CMD, argc, argv, &a->path, a->model);
  if (rc < 0 && a->bad_path && !a->rd.skip_bad)
    return cli_usage_error(CMD, "--bad-rows lists the rows --skip-bad skips: give --skip-bad");
  if (rc >= 0 || !a->fail_if)
    return rc;
  /* the condition before any data: a typo fails now, with a caret */
  char msg[512];
  size_t where = 0;
  if (!(a->cond = condition_parse(a->fail_if, msg, sizeof msg, &where))) {
    if (where == SIZE_MAX) {
      cli_errorf("%s", msg);
      return CLI_EXIT_INTERNAL;
    }
    cli_errorf("--fail-if: %s at character %zu:", msg, where + 1);
    fprintf(stderr, "  %s\n  %*s^\n", a->fail_if, (int)where, "");
    fprintf(stderr, "Try '%s %s --help'.\n", cli_program, CMD);
    return CLI_EXIT_USAGE;
  }
  return -1;
}

typedef struct metric_row {
  const char *name;
  double value;
} metric_row;

enum { NMETRICS = 9 };

static void metric_rows(const csvreg_metrics *m, metric_row r[NMETRICS]) {
  const metric_row v[NMETRICS] = {{"mse", m->mse},
                                  {"rmse", m->rmse},
                                  {"mae", m->mae},
                                  {"mape", m->mape},
                                  {"max_error", m->max_error},
                                  {"mean_error", m->mean_error},
                                  {"r_squared", m->r_squared},
                                  {"explained_variance", m->explained_variance},
                                  {"sum_w", m->sum_w}};
  memcpy(r, v, sizeof v);
}

static csvreg_status write_metrics(FILE *out, const csvreg_metrics *m, const csvreg_counts *k,
                                   const char *target, int weighted, report_format format,
                                   csvreg_error *err) {
  metric_row r[NMETRICS];
  metric_rows(m, r);
  char b[64];
  if (format == REPORT_TEXT) {
    fprintf(out, "Evaluation of the model of %s on %llu row%s%s\n\n", target,
            (unsigned long long)m->n, CLI_PLURAL(m->n), weighted ? ", weighted" : "");
    for (int i = 0; i < NMETRICS; i++)
      if (i != NMETRICS - 1 || weighted)
        fprintf(out, "%-20s %s\n", r[i].name, report_num(b, sizeof b, r[i].value, 7));
    fprintf(out,
            "\nRows: %llu read, %llu scored, %llu dropped as missing, %llu bad skipped, "
            "%llu with weight 0\n",
            (unsigned long long)k->records, (unsigned long long)m->n,
            (unsigned long long)k->dropped_na, (unsigned long long)k->dropped_bad,
            (unsigned long long)k->zero_weight);
    if (k->new_level)
      fprintf(out, "%llu row%s with a level the model never saw %s not scored\n",
              (unsigned long long)k->new_level, CLI_PLURAL(k->new_level),
              k->new_level == 1 ? "was" : "were");
    if (m->n_zero_y)
      fprintf(out, "MAPE leaves out %llu row%s with %s = 0\n", (unsigned long long)m->n_zero_y,
              CLI_PLURAL(m->n_zero_y), target);
    return CSVREG_OK;
  }
  if (format == REPORT_CSV) {
    fputs("n", out);
    for (int i = 0; i < NMETRICS; i++)
      fprintf(out, ",%s", r[i].name);
    fputs(",n_zero_y,n_read,n_missing,n_bad,n_zero_weight\n", out);
    fprintf(out, "%llu", (unsigned long long)m->n);
    for (int i = 0; i < NMETRICS; i++) {
      if (isfinite(r[i].value))
        fprintf(out, ",%.17g", r[i].value);
      else
        fputs(",NA", out);
    }
    fprintf(out, ",%llu,%llu,%llu,%llu,%llu\n", (unsigned long long)m->n_zero_y,
            (unsigned long long)k->records, (unsigned long long)k->dropped_na,
            (unsigned long long)k->dropped_bad, (unsigned long long)k->zero_weight);
    return CSVREG_OK;
  }
  char *text = NULL;
  csvreg_status st = csvreg_metrics_to_json(m, k, target, weighted, &text, err);
  return report_put_text(out, st, text);
}

/* --every: the windows after the text report, or as the CSV, read back
 * one at a time (they may be in a temporary file). Stops when the reader of
 * standard output went away. */
static csvreg_status write_windows(FILE *out, const csvreg_scoring *sc, report_format format,
                                   csvreg_error *err) {
  uint64_t nw = csvreg_scoring_nwindows(sc);
  char b[8][64];
  if (format == REPORT_TEXT) {
    fprintf(out, "\nWindows (%llu):\n%6s %12s %12s %10s %14s %14s %14s %14s\n",
            (unsigned long long)nw, "window", "first_record", "last_record", "n", "rmse", "mae",
            "mean_error", "r_squared");
  } else {
    fputs("window,first_record,last_record,n,mse,rmse,mae,mape,max_error,mean_error,r_squared,"
          "explained_variance,sum_w,n_zero_y\n",
          out);
  }
  for (uint64_t k = 0; k < nw && !ferror(out); k++) {
    uint64_t first, last;
    csvreg_metrics m;
    csvreg_scoring_window(sc, k, &first, &last, NULL);
    csvreg_status st = csvreg_scoring_window_get(sc, k, &m, err);
    if (st)
      return st;
    if (format == REPORT_TEXT) {
      fprintf(out, "%6llu %12llu %12llu %10llu %14s %14s %14s %14s\n", (unsigned long long)k + 1,
              (unsigned long long)first, (unsigned long long)last, (unsigned long long)m.n,
              report_num(b[0], sizeof b[0], m.rmse, 7), report_num(b[1], sizeof b[1], m.mae, 7),
              report_num(b[2], sizeof b[2], m.mean_error, 7),
              report_num(b[3], sizeof b[3], m.r_squared, 7));
      continue;
    }
    metric_row r[NMETRICS];
    metric_rows(&m, r);
    fprintf(out, "%llu,%llu,%llu,%llu", (unsigned long long)k + 1, (unsigned long long)first,
            (unsigned long long)last, (unsigned long long)m.n);
    for (int i = 0; i < NMETRICS; i++) {
      if (isfinite(r[i].value))
        fprintf(out, ",%.17g", r[i].value);
      else
        fputs(",NA", out);
    }
    fprintf(out, ",%llu\n", (unsigned long long)m.n_zero_y);
  }
  return CSVREG_OK;
}

/* csvreg_scoring_write_json's pieces to standard output; a write error
 * (the reader went away: EPIPE) stops it. */
static int put_stdout(void *ctx, const char *text, size_t len) {
  (void)ctx;
  return fwrite(text, 1, len, stdout) != len || ferror(stdout);
}

/* --fail-if: the total, or with --every each window that has rows. 0 or
 * CLI_EXIT_CONDITION in *rc; a failure reading the windows back. */
static csvreg_status check_condition(const eval_args *a, const csvreg_scoring *sc,
                                     const csvreg_metrics *m, int *rc, csvreg_error *err) {
  *rc = CLI_EXIT_OK;
  if (!a->every) {
    if (!condition_holds(a->cond, m))
      return CSVREG_OK;
    cli_errorf("--fail-if '%s' holds", a->fail_if);
    *rc = CLI_EXIT_CONDITION;
    return CSVREG_OK;
  }
  uint64_t hits = 0, first_hit = 0, nw = csvreg_scoring_nwindows(sc), f0 = 0, l0 = 0;
  for (uint64_t k = 0; k < nw; k++) {
    csvreg_metrics w;
    uint64_t f, l;
    csvreg_scoring_window(sc, k, &f, &l, NULL);
    csvreg_status st = csvreg_scoring_window_get(sc, k, &w, err);
    if (st)
      return st;
    if (w.n == 0 || !condition_holds(a->cond, &w))
      continue;
    if (!hits++) {
      first_hit = k + 1;
      f0 = f;
      l0 = l;
    }
  }
  if (!hits)
    return CSVREG_OK;
  cli_errorf("--fail-if '%s' holds for %llu of %llu windows, first window %llu (records %llu-%llu)",
             a->fail_if, (unsigned long long)hits, (unsigned long long)nw,
             (unsigned long long)first_hit, (unsigned long long)f0, (unsigned long long)l0);
  *rc = CLI_EXIT_CONDITION;
  return CSVREG_OK;
}

static void on_progress(void *ctx, uint64_t bytes, uint64_t records, int64_t size) {
  progress_update(ctx, bytes, records, size);
}

int cmd_eval_run(int argc, char **argv) {
  eval_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  csvreg_model *model = NULL;
  /* eval makes point predictions only (issue 12: the built model's one
   * q x q array, no update state or interval factor) */
  if ((rc = cli_model_read_with(a.model, CSVREG_MODEL_READ_PREDICT, &model))) {
    condition_free(a.cond);
    return rc;
  }
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_pass *pass = NULL;
  csvreg_spec *spec = NULL;
  csvreg_scoring *sc = NULL;
  progress prog;
  bad_rows bad;
  memset(&bad, 0, sizeof bad);
  double t0 = progress_now();
  progress_init(&prog, !a.rd.quiet && isatty(STDERR_FILENO));
  const csvreg_model_options *mo = csvreg_model_get_options(model);
  csvreg_chunk_options co;
  csvreg_chunk_options_init(&co);
  co.rows = a.rd.chunk_rows;
  co.drop_zero_weight = 1;
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = a.path;
  po.reader.delimiter = a.rd.delimiter_set ? a.rd.delimiter : mo->delimiter;
  po.reader.header = a.rd.no_header ? 0 : mo->header;
  po.reader.decompress = a.rd.decompress;
  po.threads = a.threads;
  po.block_bytes = cli_stdin_block_bytes();
  po.chunk = &co;
  po.progress = on_progress;
  po.progress_ctx = &prog;
  /* --skip-bad reports, as fit's: the first rows on stderr, all in FILE */
  if (a.rd.skip_bad) {
    if ((rc = bad_rows_open(&bad, a.bad_path, po.reader.delimiter)) != 0)
      goto done;
    po.on_bad = bad_rows_add;
    po.on_bad_ctx = &bad;
  }
  csvreg_status st = csvreg_pass_open(&pass, &po, &err);
  if (st)
    goto fail;
  const unsigned bind = CSVREG_MODEL_BIND_TARGET | (a.rd.skip_bad ? CSVREG_MODEL_BIND_SKIP_BAD : 0);
  if ((st = csvreg_model_spec_new(&spec, model, csvreg_pass_column_names(pass),
                                  csvreg_pass_ncolumns(pass), bind, &err))) {
    if (st == CSVREG_E_COLUMN) {
      snprintf(err.source, sizeof err.source, "%s", csvreg_pass_get_info(pass)->source);
      err.line = 1;
    }
    goto fail;
  }
  void *sink = NULL;
  csvreg_eval_options eo = {
      model, a.every, po.reader.header ? 2 : 1, a.plot != NULL, CSVREG_EVAL_SAMPLE, PLOT_SEED};
  if (a.every || a.plot) /* the plain sink otherwise: results as they were */
    st = csvreg_pass_run(pass, spec, csvreg_sink_eval_with(), &eo, &sink, &err);
  else
    st = csvreg_pass_run(pass, spec, csvreg_sink_eval(), model, &sink, &err);
  sc = sink;
  progress_done(&prog);
  if (st)
    goto fail;
  csvreg_metrics m;
  csvreg_counts counts;
  csvreg_scoring_result(sc, &m, &counts);
  if (m.n == 0) {
    st = err.status = CSVREG_E_NUMERIC;
    snprintf(err.message, sizeof err.message,
             "no rows to score: %llu read, %llu dropped as missing, %llu bad, %llu with weight 0",
             (unsigned long long)counts.records, (unsigned long long)counts.dropped_na,
             (unsigned long long)counts.dropped_bad, (unsigned long long)counts.zero_weight);
    snprintf(err.source, sizeof err.source, "%s", csvreg_pass_get_info(pass)->source);
    goto fail;
  }
  int weighted = csvreg_spec_weights_name(spec) != NULL;
  if (a.format == REPORT_JSON && (a.every || a.plot)) {
    /* a window at a time: the text of millions of windows is never held */
    st = csvreg_scoring_write_json(sc, csvreg_model_target(model), weighted, a.plot != NULL,
                                   put_stdout, NULL, &err);
    if (st == CSVREG_E_IO && ferror(stdout))
      st = CSVREG_OK; /* a write error: reported (or, EPIPE, not) as every command's */
    if (st)
      goto fail;
    fputc('\n', stdout);
  } else if (a.format == REPORT_CSV && a.every) {
    if ((st = write_windows(stdout, sc, REPORT_CSV, &err)))
      goto fail;
  } else {
    if ((st = write_metrics(stdout, &m, &counts, csvreg_model_target(model), weighted, a.format,
                            &err)))
      goto fail;
    if (a.every && (st = write_windows(stdout, sc, REPORT_TEXT, &err)))
      goto fail;
  }
  cli_flush_stdout();
  if ((rc = bad_rows_close(&bad, 1)) != 0)
    goto done;
  if (counts.new_level)
    cli_warnf("%llu row%s with a level the model never saw %s not scored (no coefficient: "
              "as R's \"factor has new levels\")",
              (unsigned long long)counts.new_level, counts.new_level == 1 ? "" : "s",
              counts.new_level == 1 ? "was" : "were");
  if (a.rd.stats) {
    const csvreg_pass_info *info = csvreg_pass_get_info(pass);
    cli_print_stats(&counts, info->chunks, info->bytes + info->header_bytes, progress_now() - t0);
  }
  rc = CLI_EXIT_OK;
  if (a.plot && (rc = plot_model_scoring(a.plot, a.plot_fmt, model, sc, &m,
                                         csvreg_pass_get_info(pass)->source)))
    goto done;
  if (a.cond && (st = check_condition(&a, sc, &m, &rc, &err)))
    goto fail;
  goto done;
fail:
  progress_done(&prog);
  st = csvreg_pass_blame_input(pass, st, &err); /* a header garbled by a damaged archive */
  if (!err.message[0])
    snprintf(err.message, sizeof err.message, "%s", csvreg_status_str(st));
  err.status = st;
  rc = cli_report_error(&err);
done:
  bad_rows_close(&bad, 0);
  condition_free(a.cond);
  csvreg_scoring_free(sc);
  csvreg_spec_free(spec);
  csvreg_pass_free(pass);
  csvreg_model_free(model);
  return rc;
}
