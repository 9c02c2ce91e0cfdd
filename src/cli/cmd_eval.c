/*
 * cmd_eval.c - `csvreg eval -m MODEL [FILE]`: the model's predictions scored
 * against the target column in one pass: the model's spec is bound to the
 * input, chunks of rows are filled as fit fills them (rows of weight 0 left
 * out: they score nothing), predicted with one library call and folded into
 * the library's evaluator (compensated sums, per-block two-pass variances),
 * so memory is one chunk.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_cli.h"

#define CMD "eval"
#define EVAL_ROWS 4096

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
          "                        the wrong number of fields, instead of failing\n"
          "  -d, --delimiter C     field delimiter (default: the model's)\n"
          "      --no-header       the input has no header (columns are V1, V2, ...)\n"
          "      --chunk-rows N    rows per block (default %d)\n"
          "      --quiet           no progress line\n"
          "      --stats           print rows, chunks, bytes, time, throughput and peak\n"
          "                        memory on standard error\n"
          "  -h, --help            show this help and exit\n"
          "\n"
          "Rows with a missing value (the model's NA tokens) are dropped and counted;\n"
          "rows with y = 0 are left out of the MAPE (a fraction, not a percentage)\n"
          "and counted. Rows with weight 0 do not count.\n"
          "Exit status: 0 success, 1 internal error, 2 usage, 3 bad input data,\n"
          "4 input/output error, 5 no rows to score, 6 unusable model file.\n"
          "\n"
          "Example:\n"
          "  %s eval -m model.json test.csv --format json\n",
          cli_program, cli_program, EVAL_ROWS, cli_program);
}

typedef struct eval_args {
  const char *model, *path;
  report_format format;
  model_read_opts rd;
} eval_args;

enum { OPT_FORMAT = 256 };

static const struct option long_options[] = {{"model", required_argument, NULL, 'm'},
                                             {"format", required_argument, NULL, OPT_FORMAT},
                                             MODEL_READ_LONG_OPTIONS,
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

static int parse_args(int argc, char **argv, eval_args *a) {
  memset(a, 0, sizeof *a);
  a->format = REPORT_TEXT;
  a->rd.chunk_rows = EVAL_ROWS;
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
    case 'h': cmd_eval_usage(stdout); return CLI_EXIT_OK;
    default: {
      int r = model_read_option(CMD, c, optarg, opt, &a->rd);
      if (r >= 0)
        return r;
    }
    }
  }
  return model_args_done(CMD, argc, argv, &a->path, a->model);
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
    fprintf(out, "Evaluation of the model of %s on %llu rows%s\n\n", target,
            (unsigned long long)m->n, weighted ? ", weighted" : "");
    for (int i = 0; i < NMETRICS; i++)
      if (i != NMETRICS - 1 || weighted)
        fprintf(out, "%-20s %s\n", r[i].name, report_num(b, sizeof b, r[i].value, 7));
    fprintf(out,
            "\nRows: %llu read, %llu scored, %llu dropped as missing, %llu bad skipped, "
            "%llu with weight 0\n",
            (unsigned long long)k->records, (unsigned long long)m->n,
            (unsigned long long)k->dropped_na, (unsigned long long)k->dropped_bad,
            (unsigned long long)k->zero_weight);
    if (m->n_zero_y)
      fprintf(out, "MAPE leaves out %llu rows with %s = 0\n", (unsigned long long)m->n_zero_y,
              target);
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

typedef struct eval_ctx {
  const csvreg_model *model;
  csvreg_evaluator *ev;
  double *yhat; /* a chunk's predictions */
} eval_ctx;

static csvreg_status eval_chunk(void *ctx, const csvreg_chunk *c, csvreg_error *err) {
  eval_ctx *e = ctx;
  size_t n = csvreg_chunk_rows(c), ldx;
  const double *x, *y, *w;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  if (!n)
    return CSVREG_OK;
  csvreg_status st = csvreg_model_predict(e->model, n, x, ldx, CSVREG_INTERVAL_NONE, 0.95, e->yhat,
                                          NULL, NULL, err);
  return st ? st : csvreg_evaluator_add(e->ev, n, y, e->yhat, w, err);
}

int cmd_eval_run(int argc, char **argv) {
  eval_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  csvreg_model *model = NULL;
  if ((rc = cli_model_read(a.model, &model)))
    return rc;
  csvreg_error err;
  csvreg_error_clear(&err);
  model_rows rows;
  eval_ctx e = {model, NULL, NULL};
  csvreg_chunk_options co;
  csvreg_chunk_options_init(&co);
  co.rows = a.rd.chunk_rows;
  co.drop_zero_weight = 1;
  csvreg_status st =
      model_rows_open(&rows, &a.rd, model, a.path, CSVREG_MODEL_BIND_TARGET, &co, &err);
  if (st || (st = csvreg_evaluator_new(&e.ev, &err)))
    goto fail;
  if (!(e.yhat = malloc(co.rows * sizeof *e.yhat))) {
    st = err.status = CSVREG_E_NOMEM;
    snprintf(err.message, sizeof err.message, "out of memory for a block of %zu rows", co.rows);
    goto fail;
  }
  if ((st = model_rows_run(&rows, eval_chunk, &e, &err)))
    goto fail;
  const csvreg_counts *counts = &rows.counts;
  csvreg_metrics m;
  csvreg_evaluator_result(e.ev, &m);
  if (m.n == 0) {
    st = err.status = CSVREG_E_NUMERIC;
    snprintf(err.message, sizeof err.message,
             "no rows to score: %llu read, %llu dropped as missing, %llu bad, %llu with weight 0",
             (unsigned long long)counts->records, (unsigned long long)counts->dropped_na,
             (unsigned long long)counts->dropped_bad, (unsigned long long)counts->zero_weight);
    snprintf(err.source, sizeof err.source, "%s", csvreg_reader_source(rows.reader));
    goto fail;
  }
  progress_done(&rows.prog);
  if ((st = write_metrics(stdout, &m, counts, csvreg_model_target(model),
                          csvreg_spec_weights_name(rows.spec) != NULL, a.format, &err)))
    goto fail;
  model_rows_finish(&rows, a.rd.stats);
  rc = CLI_EXIT_OK;
  goto done;
fail:
  model_rows_finish(&rows, 0);
  if (!err.message[0])
    snprintf(err.message, sizeof err.message, "%s", csvreg_status_str(st));
  err.status = st;
  rc = cli_report_error(&err);
done:
  free(e.yhat);
  csvreg_evaluator_free(e.ev);
  model_rows_close(&rows);
  csvreg_model_free(model);
  return rc;
}
