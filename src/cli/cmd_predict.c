/*
 * cmd_predict.c - `csvreg predict -m MODEL [FILE]`: every input row with the
 * model's prediction appended (or the predictions alone), streamed in chunks
 * of records: the model's spec is bound to the input, the library's chunk
 * keeps every record in order with its status and its re-quoted text, the
 * complete rows are predicted with one library call, and the chunk is
 * written out. Memory is the chunk, whatever the input's length.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_cli.h"

#define CMD "predict"
#define PREDICT_ROWS 1024

void cmd_predict_usage(FILE *out) {
  fprintf(out,
          "Usage: %s predict -m MODEL [OPTION]... [FILE]\n"
          "Write every row of a CSV file with the prediction of a model saved by\n"
          "'%s fit -o MODEL' appended as a last column. The model's feature columns are\n"
          "found by header name, in any order; other columns are copied as they are\n"
          "(re-quoted as RFC 4180 requires). With no FILE, or when FILE is -, read\n"
          "standard input.\n"
          "\n"
          "  -m, --model FILE      the model file (required)\n"
          "      --only            write the prediction columns alone\n"
          "      --column NAME     name of the prediction column (default 'prediction')\n"
          "      --interval TYPE   add 'lower' and 'upper' columns: 'confidence' (for the\n"
          "                        mean response) or 'prediction' (for a new observation),\n"
          "                        as R's predict.lm(interval=)\n"
          "      --level X         level of the interval, 0 < X < 1 (default 0.95)\n"
          "      --na-policy P     a row with a missing feature (an NA token of the model)\n"
          "                        or a level the model never saw gets an empty\n"
          "                        prediction ('empty', default; new levels are counted\n"
          "                        on standard error) or is an error ('error')\n"
          "      --skip-bad        a row with a feature that is not a number, or the wrong\n"
          "                        number of fields, gets an empty prediction instead of\n"
          "                        failing\n"
          "  -d, --delimiter C     field delimiter of the input and the output (default:\n"
          "                        the model's, as given to fit)\n"
          "      --no-header       the input has no header (columns are V1, V2, ...)\n"
          "      --chunk-rows N    rows per block (default %d)\n"
          "      --decompress M    auto (default): read gzip, zstd, xz or bzip2 input,\n"
          "                        known by its first bytes; none: the bytes as they are\n"
          "      --quiet           no progress line\n"
          "      --stats           print rows, chunks, bytes, time, throughput and peak\n"
          "                        memory on standard error\n"
          "  -h, --help            show this help and exit\n"
          "\n"
          "A missing feature column is an error before any output. Predictions are\n"
          "written as the shortest text that reads back to the same double.\n"
          "A formula's model rebuilds its design on every row from the formula and the\n"
          "levels saved with it (transforms, interactions, factor dummies), and predicts\n"
          "on the response's scale as written: for 'log(y) ~ ...' the prediction is of\n"
          "log(y), as R's predict.lm. A transform that is not finite on a row (log(0))\n"
          "is an error naming the line and column, or with --skip-bad an empty\n"
          "prediction.\n"
          "Exit status: 0 success, 1 internal error, 2 usage, 3 bad input data,\n"
          "4 input/output error, 5 numerical failure, 6 unusable model file.\n"
          "\n"
          "Examples:\n"
          "  %s predict -m model.json new.csv > scored.csv\n"
          "  %s predict -m model.json --interval prediction --level 0.9 new.csv\n",
          cli_program, cli_program, PREDICT_ROWS, cli_program, cli_program);
}

typedef struct predict_args {
  const char *model, *column, *path;
  int only, na_error;
  csvreg_interval interval;
  double level;
  model_read_opts rd;
} predict_args;

enum { OPT_ONLY = 256, OPT_COLUMN, OPT_INTERVAL, OPT_LEVEL, OPT_NA_POLICY };

static const struct option long_options[] = {{"model", required_argument, NULL, 'm'},
                                             {"only", no_argument, NULL, OPT_ONLY},
                                             {"column", required_argument, NULL, OPT_COLUMN},
                                             {"interval", required_argument, NULL, OPT_INTERVAL},
                                             {"level", required_argument, NULL, OPT_LEVEL},
                                             {"na-policy", required_argument, NULL, OPT_NA_POLICY},
                                             MODEL_READ_LONG_OPTIONS,
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

static int parse_args(int argc, char **argv, predict_args *a) {
  memset(a, 0, sizeof *a);
  a->column = "prediction";
  a->level = 0.95;
  a->rd.chunk_rows = PREDICT_ROWS;
  if (opt_check_words(CMD, argc, argv, ":m:d:h", long_options))
    return CLI_EXIT_USAGE;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":m:d:h", long_options, NULL)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'm': a->model = optarg; break;
    case OPT_ONLY: a->only = 1; break;
    case OPT_COLUMN:
      if (!optarg[0])
        return cli_usage_error(CMD, "--column: the name cannot be empty");
      a->column = optarg;
      break;
    case OPT_INTERVAL:
      if (strcmp(optarg, "confidence") == 0)
        a->interval = CSVREG_INTERVAL_CONFIDENCE;
      else if (strcmp(optarg, "prediction") == 0)
        a->interval = CSVREG_INTERVAL_PREDICTION;
      else
        return cli_usage_error(CMD, "--interval: expected 'confidence' or 'prediction', got '%s'",
                               optarg);
      break;
    case OPT_LEVEL:
      if (opt_open_unit(CMD, "--level", optarg, &a->level))
        return CLI_EXIT_USAGE;
      break;
    case OPT_NA_POLICY:
      if (strcmp(optarg, "empty") == 0)
        a->na_error = 0;
      else if (strcmp(optarg, "error") == 0)
        a->na_error = 1;
      else
        return cli_usage_error(CMD, "--na-policy: expected 'empty' or 'error', got '%s'", optarg);
      break;
    case 'h': cmd_predict_usage(stdout); return CLI_EXIT_OK;
    default: {
      int r = model_read_option(CMD, c, optarg, opt, &a->rd);
      if (r >= 0)
        return r;
    }
    }
  }
  return model_args_done(CMD, argc, argv, &a->path, a->model);
}

/* The output of one chunk, put together in a buffer and written with one
 * fwrite (per-row stdio calls cost as much as the formatting). */
typedef struct block {
  size_t cap;
  double *yhat, *lo, *hi; /* [cap] for the chunk's complete rows */
  char *out;              /* OUT_BYTES */
} block;

#define OUT_BYTES ((size_t)1 << 18)

static void block_free(block *b) {
  free(b->yhat);
  free(b->lo);
  free(b->hi);
  free(b->out);
}

static int block_alloc(block *b, size_t cap) {
  memset(b, 0, sizeof *b);
  b->cap = cap;
  b->yhat = malloc(cap * sizeof *b->yhat);
  b->lo = malloc(cap * sizeof *b->lo);
  b->hi = malloc(cap * sizeof *b->hi);
  b->out = malloc(OUT_BYTES);
  return b->yhat && b->lo && b->hi && b->out ? 0 : -1;
}

/* The shortest text that reads back to the same bits (printf's %.17g costs
 * ~0.5 us a number); -0 is written as 0. Needs CSVREG_FORMAT_DOUBLE_MAX bytes. */
static char *put_num(char *d, double v) { return d + csvreg_format_double(v == 0 ? 0.0 : v, d); }

/* Predicts the chunk's complete rows and writes every record: its text (not
 * with --only), then the prediction columns, empty for a row that is not
 * complete. The buffer is written whenever the next row would not fit; a
 * row longer than the buffer is written straight from the chunk. */
static csvreg_status block_write(block *b, const csvreg_chunk *c, const csvreg_model *m,
                                 const predict_args *a, char delim, csvreg_error *err) {
  const size_t nrec = csvreg_chunk_nrecords(c), nok = csvreg_chunk_rows(c);
  if (nrec == 0)
    return CSVREG_OK;
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  csvreg_status st =
      csvreg_model_predict(m, nok, x, ldx, a->interval, a->level, b->yhat, b->lo, b->hi, err);
  if (st)
    return st;
  const unsigned char *status = csvreg_chunk_row_status(c);
  const char *text = NULL;
  const size_t *ends = NULL;
  csvreg_chunk_text(c, &text, &ends);
  /* After a row's text: up to three numbers, each after a delimiter, and
   * the line end. */
  const size_t numbers = 3 * (CSVREG_FORMAT_DOUBLE_MAX + 1) + 1;
  size_t used = 0, start = 0, k = 0;
  for (size_t i = 0; i < nrec; i++) {
    size_t len = a->only ? 0 : ends[i] - start;
    if (used + len + numbers > OUT_BYTES) {
      fwrite(b->out, 1, used, stdout);
      used = 0;
    }
    char *d = b->out + used;
    if (!a->only) {
      if (len + numbers > OUT_BYTES) {
        fwrite(text + start, 1, len, stdout);
      } else {
        memcpy(d, text + start, len);
        d += len;
      }
      *d++ = delim;
      start = ends[i];
    }
    if (status[i] != CSVREG_ROW_OK) {
      if (a->interval)
        *d++ = delim, *d++ = delim;
    } else {
      d = put_num(d, b->yhat[k]);
      if (a->interval) {
        *d++ = delim;
        d = put_num(d, b->lo[k]);
        *d++ = delim;
        d = put_num(d, b->hi[k]);
      }
      k++;
    }
    *d++ = '\n';
    used = (size_t)(d - b->out);
  }
  fwrite(b->out, 1, used, stdout);
  return CSVREG_OK;
}

static csvreg_status write_header(const csvreg_reader *r, const predict_args *a, char delim,
                                  csvreg_error *err) {
  const char *const *names = csvreg_reader_column_names(r);
  const size_t ncol = a->only ? 0 : csvreg_reader_ncolumns(r), nextra = a->interval ? 3 : 1;
  csvreg_field *f = malloc((ncol + nextra) * sizeof *f);
  if (!f) {
    err->status = CSVREG_E_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return CSVREG_E_NOMEM;
  }
  const char *extra[3] = {a->column, "lower", "upper"};
  for (size_t j = 0; j < ncol + nextra; j++) {
    f[j].ptr = j < ncol ? names[j] : extra[j - ncol];
    f[j].len = strlen(f[j].ptr);
  }
  char *t = NULL;
  size_t len = 0, cap = 0;
  csvreg_status st = csvreg_csv_append(&t, &len, &cap, f, ncol + nextra, delim, err);
  if (!st)
    fwrite(t, 1, len, stdout), fputc('\n', stdout);
  free(t);
  free(f);
  return st;
}

typedef struct predict_ctx {
  block *b;
  const csvreg_model *model;
  const predict_args *a;
  char delim;
} predict_ctx;

static csvreg_status predict_chunk(void *ctx, const csvreg_chunk *c, csvreg_error *err) {
  const predict_ctx *p = ctx;
  return block_write(p->b, c, p->model, p->a, p->delim, err);
}

int cmd_predict_run(int argc, char **argv) {
  predict_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  csvreg_model *model = NULL;
  if ((rc = cli_model_read(a.model, &model)))
    return rc;
  csvreg_error err;
  csvreg_error_clear(&err);
  model_rows rows;
  block b;
  memset(&b, 0, sizeof b);
  const csvreg_model_options *mo = csvreg_model_get_options(model);
  const char delim = a.rd.delimiter_set ? a.rd.delimiter : mo->delimiter;
  csvreg_chunk_options co;
  csvreg_chunk_options_init(&co);
  co.rows = a.rd.chunk_rows;
  co.keep_rows = 1;
  co.keep_text = !a.only;
  co.delimiter = delim;
  co.na_error = a.na_error;
  csvreg_status st = model_rows_open(&rows, &a.rd, model, a.path, 0, &co, &err);
  if (st)
    goto fail;
  if (block_alloc(&b, co.rows)) {
    st = err.status = CSVREG_E_NOMEM;
    snprintf(err.message, sizeof err.message, "out of memory for a block of %zu rows", co.rows);
    goto fail;
  }
  /* Intervals need residual degrees of freedom: say so before any output. */
  if (a.interval &&
      (st = csvreg_model_predict(model, 0, NULL, 1, a.interval, a.level, b.yhat, b.lo, b.hi, &err)))
    goto fail;
  if (!a.rd.no_header && mo->header && (st = write_header(rows.reader, &a, delim, &err)))
    goto fail;
  predict_ctx pc = {&b, model, &a, delim};
  if ((st = model_rows_run(&rows, predict_chunk, &pc, &err))) {
    /* The library names the row and column; the policy is ours to name. */
    if (st == CSVREG_E_VALUE && a.na_error &&
        (strncmp(err.message, "missing value", 13) == 0 ||
         strncmp(err.message, "level \"", 7) == 0))
      snprintf(err.message + strlen(err.message), sizeof err.message - strlen(err.message),
               " (--na-policy error)");
    goto fail;
  }
  model_rows_finish(&rows, a.rd.stats);
  if (rows.counts.new_level)
    cli_warnf("%llu row%s with a level the model never saw got no prediction (as R's \"factor "
              "has new levels\"; --na-policy error stops at the first)",
              (unsigned long long)rows.counts.new_level, rows.counts.new_level == 1 ? "" : "s");
  rc = CLI_EXIT_OK;
  goto done;
fail:
  /* The rows before the error are already out: flushed before the message. */
  model_rows_finish(&rows, 0);
  if (!err.message[0])
    snprintf(err.message, sizeof err.message, "%s", csvreg_status_str(st));
  err.status = st;
  rc = cli_report_error(&err);
done:
  block_free(&b);
  model_rows_close(&rows);
  csvreg_model_free(model);
  return rc;
}
