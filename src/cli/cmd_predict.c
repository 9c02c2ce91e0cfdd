/*
 * cmd_predict.c - `csvreg predict -m MODEL [FILE]`: every input row with the
 * model's prediction appended (or the predictions alone), streamed in chunks
 * of records through the library's pass engine: the model's spec is bound
 * to the input, the library's chunk keeps every record in order with its
 * status and its re-quoted text, the complete rows are predicted with one
 * library call, and the chunk is written out. Memory is a chunk per thread,
 * whatever the input's length.
 *
 * --threads N (issue 14): the pass reads pieces of the input (byte ranges
 * of a file, about 2 MiB each, handed out in order; blocks of a stream) on
 * N threads into one sink each (this file's predict sink), and merges the
 * sinks in input order. The first piece writes straight to the output, as
 * one thread does; a later piece formats its rows into a spool
 * (csvreg_spool: memory, then a temporary file) that its merge hands to the
 * output when every row before it is out. Pieces are small so that a spool
 * stays in memory: with one piece per thread, the second half of the output
 * went through the temporary file. The output is the same bytes as with one
 * thread.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_POPULATE */
#include <getopt.h>
#include <stdatomic.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "atomic_file.h"
#include "bad_rows.h"
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
          "  -o, --output FILE     write to FILE (default: standard output), atomically:\n"
          "                        FILE appears whole when all went well, and after an\n"
          "                        error it is not made and an old FILE is kept\n"
          "      --only            write the prediction columns alone\n"
          "      --column NAME     name of the prediction column (default 'prediction')\n"
          "      --interval TYPE   add 'lower' and 'upper' columns: 'confidence' (for the\n"
          "                        mean response) or 'prediction' (for a new observation),\n"
          "                        as R's predict.lm(interval=)\n"
          "      --level X         level of the interval, 0 < X < 1 (default 0.95)\n"
          "  -w, --weights COL     with --interval prediction: the new rows' weights, from\n"
          "                        the input's column COL (R's predict.lm(weights=)); a\n"
          "                        weighted model without it assumes weight 1, with R's\n"
          "                        warning\n"
          "      --residuals       add 'residual', the target minus the prediction (the\n"
          "                        target column must be in the input)\n"
          "      --leverage        add 'leverage', the row's hat value in the training fit\n"
          "                        (R's hatvalues)\n"
          "      --rstandard       add 'rstandard', the standardized residual (R's\n"
          "                        rstandard)\n"
          "      --cooks           add 'cooks', Cook's distance (R's cooks.distance)\n"
          "      --na-policy P     a row with a missing feature (an NA token of the model)\n"
          "                        or a level the model never saw gets an empty\n"
          "                        prediction ('empty', default; new levels are counted\n"
          "                        on standard error) or is an error ('error')\n"
          "      --skip-bad        a row with a feature that is not a number, or the wrong\n"
          "                        number of fields, gets an empty prediction instead of\n"
          "                        failing; the first %d such rows are named on standard\n"
          "                        error (FILE:LINE: column NAME: reason)\n"
          "      --bad-rows FILE   with --skip-bad: every such row in FILE, a CSV with the\n"
          "                        columns line,column,reason,text (written atomically)\n"
          "  -d, --delimiter C     field delimiter of the input and the output (default:\n"
          "                        the model's, as given to fit)\n"
          "      --no-header       the input has no header (columns are V1, V2, ...)\n"
          "      --chunk-rows N    rows per block (default %d)\n"
          "      --threads N       read FILE in ~2 MiB pieces (a stream in blocks) on N\n"
          "                        threads (0: every core this process may use); the\n"
          "                        rows are written in input order, the same bytes as\n"
          "                        with one thread\n"
          "      --decompress M    auto (default): read gzip, zstd, xz or bzip2 input,\n"
          "                        known by its first bytes; none: the bytes as they are\n"
          "      --quiet           no progress line\n"
          "      --stats           print rows, chunks, bytes, time, throughput and peak\n"
          "                        memory on standard error\n"
          "  -h, --help            show this help and exit\n"
          "\n",
          cli_program, cli_program, BAD_ROWS_SHOWN, PREDICT_ROWS);
  /* two strings: C99 promises 4095 characters in one */
  fprintf(out,
          "The row statistics are those of the training fit: on the training rows they\n"
          "equal R's for the lm; a weighted model uses its weights column when the\n"
          "input has it, else weight 1 (with a warning). A row whose target (or\n"
          "weight) is missing gets its prediction and empty statistics.\n"
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
          "  %s predict -m model.json --interval prediction --level 0.9 new.csv\n"
          "  %s predict -m model.json --residuals --cooks -o scored.csv train.csv\n",
          cli_program, cli_program, cli_program);
}

typedef struct predict_args {
  const char *model, *column, *path;
  const char *output;   /* -o: NULL for standard output */
  const char *wname;    /* -w: the new rows' weights column */
  const char *bad_path; /* --bad-rows */
  size_t wcol;          /* its 0-based column in the input */
  int only, na_error;
  int resid, lev, rstd, cooks; /* the row statistics asked for */
  csvreg_interval interval;
  double level;
  size_t threads; /* --threads: 1 by default */
  model_read_opts rd;
} predict_args;

enum { OPT_ONLY = 256, OPT_COLUMN, OPT_INTERVAL, OPT_LEVEL, OPT_NA_POLICY };
enum { OPT_RESIDUALS = 300, OPT_LEVERAGE, OPT_RSTANDARD, OPT_COOKS, OPT_BAD_ROWS, OPT_THREADS };

static const struct option long_options[] = {{"model", required_argument, NULL, 'm'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"weights", required_argument, NULL, 'w'},
                                             {"only", no_argument, NULL, OPT_ONLY},
                                             {"column", required_argument, NULL, OPT_COLUMN},
                                             {"interval", required_argument, NULL, OPT_INTERVAL},
                                             {"level", required_argument, NULL, OPT_LEVEL},
                                             {"na-policy", required_argument, NULL, OPT_NA_POLICY},
                                             {"residuals", no_argument, NULL, OPT_RESIDUALS},
                                             {"leverage", no_argument, NULL, OPT_LEVERAGE},
                                             {"rstandard", no_argument, NULL, OPT_RSTANDARD},
                                             {"cooks", no_argument, NULL, OPT_COOKS},
                                             {"bad-rows", required_argument, NULL, OPT_BAD_ROWS},
                                             {"threads", required_argument, NULL, OPT_THREADS},
                                             MODEL_READ_LONG_OPTIONS,
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

static int parse_args(int argc, char **argv, predict_args *a) {
  memset(a, 0, sizeof *a);
  a->column = "prediction";
  a->level = 0.95;
  a->rd.chunk_rows = PREDICT_ROWS;
  a->threads = 1;
  if (opt_check_words(CMD, argc, argv, ":m:o:w:d:h", long_options))
    return CLI_EXIT_USAGE;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":m:o:w:d:h", long_options, NULL)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'm': a->model = optarg; break;
    case 'w':
      if (!optarg[0])
        return cli_usage_error(CMD, "--weights: the column name cannot be empty");
      a->wname = optarg;
      break;
    case 'o':
      if (!optarg[0])
        return cli_usage_error(CMD, "--output: the file name cannot be empty");
      a->output = optarg;
      break;
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
    case OPT_RESIDUALS: a->resid = 1; break;
    case OPT_LEVERAGE: a->lev = 1; break;
    case OPT_RSTANDARD: a->rstd = 1; break;
    case OPT_COOKS: a->cooks = 1; break;
    case OPT_BAD_ROWS:
      if (!optarg[0])
        return cli_usage_error(CMD, "--bad-rows: the file name cannot be empty");
      a->bad_path = optarg;
      break;
    case OPT_THREADS:
      if (opt_threads(CMD, optarg, &a->threads))
        return CLI_EXIT_USAGE;
      break;
    case 'h': cmd_predict_usage(stdout); return CLI_EXIT_OK;
    default: {
      int r = model_read_option(CMD, c, optarg, opt, &a->rd);
      if (r >= 0)
        return r;
    }
    }
  }
  if (a->bad_path && !a->rd.skip_bad)
    return cli_usage_error(CMD, "--bad-rows lists the rows --skip-bad skips: give --skip-bad");
  if (a->wname && a->interval != CSVREG_INTERVAL_PREDICTION)
    return cli_usage_error(CMD, "--weights: the new rows' weights only change --interval "
                                "prediction");
  return model_args_done(CMD, argc, argv, &a->path, a->model);
}

/* The output of one chunk, put together in a buffer and written with one
 * fwrite (per-row stdio calls cost as much as the formatting). */
typedef struct block {
  size_t cap;
  double *yhat, *lo, *hi; /* [cap] for the chunk's complete rows */
  double *st[4];          /* [cap] residual, leverage, rstandard, Cook's */
  double *w;              /* [cap] -w: the complete rows' weights */
  csvreg_na *na;          /* -w: the model's NA tokens */
  char *out;              /* OUT_BYTES (out_buf_new) */
  size_t used;            /* bytes of out kept between chunks (keep: a spooled piece) */
} block;

/* Where a block's text goes: the output, or the piece's spool. */
typedef csvreg_status (*emit_fn)(void *ctx, const void *p, size_t n, csvreg_error *err);

#define NSTATS 4

#define OUT_BYTES ((size_t)1 << 18)

/* An output buffer, mapped with its pages populated: a threaded pass keeps
 * a piece's buffers until its merge (the predict sink, below) and fresh
 * pages faulted one at a time cost ~13 us each on the project's VM (as
 * pass.c found for its stream blocks); populated in one call, far less. */
static char *out_buf_new(void) {
  void *b = mmap(NULL, OUT_BYTES, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS
#ifdef MAP_POPULATE
                     | MAP_POPULATE
#endif
                 ,
                 -1, 0);
  return b == MAP_FAILED ? NULL : b;
}

static void out_buf_free(char *b) {
  if (b)
    munmap(b, OUT_BYTES);
}

static void block_free(block *b) {
  free(b->yhat);
  free(b->lo);
  free(b->hi);
  for (int j = 0; j < NSTATS; j++)
    free(b->st[j]);
  free(b->w);
  csvreg_na_free(b->na);
  out_buf_free(b->out);
}

static int block_alloc(block *b, size_t cap) {
  memset(b, 0, sizeof *b);
  b->cap = cap;
  b->yhat = malloc(cap * sizeof *b->yhat);
  b->lo = malloc(cap * sizeof *b->lo);
  b->hi = malloc(cap * sizeof *b->hi);
  b->out = out_buf_new();
  b->w = malloc(cap * sizeof *b->w);
  int ok = b->yhat && b->lo && b->hi && b->out && b->w;
  for (int j = 0; j < NSTATS; j++)
    ok &= (b->st[j] = malloc(cap * sizeof *b->st[j])) != NULL;
  return ok ? 0 : -1;
}

/* The shortest text that reads back to the same bits (printf's %.17g costs
 * ~0.5 us a number); -0 is written as 0. Needs CSVREG_FORMAT_DOUBLE_MAX bytes. */
static char *put_num(char *d, double v) { return d + csvreg_format_double(v == 0 ? 0.0 : v, d); }

/* -w: the weight in field `col` of a record's re-quoted text (its quotes
 * taken off; a quoted number has no quote inside). NaN for an empty cell or
 * an NA token of the model; -1 for text that is not a number. */
static double text_weight(const char *p, size_t len, char delim, size_t col, const csvreg_na *na) {
  size_t i = 0;
  for (size_t j = 0; j < col && i <= len; j++) {
    int q = 0;
    while (i < len && (q || p[i] != delim))
      q ^= p[i++] == '"';
    i++;
  }
  if (i > len)
    return -1;
  size_t e = i;
  int q = 0;
  while (e < len && (q || p[e] != delim))
    q ^= p[e++] == '"';
  if (e - i >= 2 && p[i] == '"')
    i++, e--;
  double v;
  if (e == i || (na && csvreg_na_match(na, p + i, e - i)))
    return NAN;
  return csvreg_parse_double(p + i, e - i, &v) == CSVREG_OK ? v : -1;
}

/* Which of the row statistics are asked for, in column order. */
static void stats_wanted(const predict_args *a, int want[NSTATS]) {
  want[0] = a->resid, want[1] = a->lev, want[2] = a->rstd, want[3] = a->cooks;
}

static int any_stats(const predict_args *a) { return a->resid || a->lev || a->rstd || a->cooks; }

/* Predicts the chunk's complete rows and writes every record: its text (not
 * with --only), then the prediction columns, empty for a row that is not
 * complete. The buffer is written (emit) whenever the next row would not
 * fit; a row longer than the buffer is written straight from the chunk.
 * With keep, what is left in the buffer at the end stays there (b->used)
 * for the next chunk: a spooled piece hands whole buffers over (hold). */
static csvreg_status block_write(block *b, const csvreg_chunk *c, const csvreg_model *m,
                                 const predict_args *a, char delim, emit_fn emit, void *ectx,
                                 int keep, csvreg_error *err) {
  const size_t nrec = csvreg_chunk_nrecords(c), nok = csvreg_chunk_rows(c);
  if (nrec == 0)
    return CSVREG_OK;
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  const unsigned char *status = csvreg_chunk_row_status(c);
  const char *text = NULL;
  const size_t *ends = NULL;
  csvreg_chunk_text(c, &text, &ends);
  if (a->wname) {
    /* a weight that is not a number > 0 is an error; a missing one leaves
     * the row's interval empty */
    const uint64_t *recno = csvreg_chunk_record_numbers(c);
    for (size_t i = 0, k = 0; i < nrec; i++) {
      if (status[i] != CSVREG_ROW_OK)
        continue;
      size_t s0 = i ? ends[i - 1] : 0;
      double v = text_weight(text + s0, ends[i] - s0, delim, a->wcol, b->na);
      if (!(v > 0) && !isnan(v)) {
        err->status = CSVREG_E_VALUE;
        snprintf(err->message, sizeof err->message,
                 "record %llu: column '%s': expected a weight > 0 (-w)",
                 (unsigned long long)recno[k], a->wname);
        return CSVREG_E_VALUE;
      }
      b->w[k++] = v;
    }
  }
  csvreg_status st = csvreg_model_predict_weighted(
      m, nok, x, ldx, a->wname ? b->w : NULL, a->interval, a->level, b->yhat, b->lo, b->hi, err);
  if (st)
    return st;
  int want[NSTATS];
  stats_wanted(a, want);
  if (any_stats(a) &&
      (st = csvreg_model_influence(m, nok, x, ldx, y, w, b->yhat, want[0] ? b->st[0] : NULL,
                                   want[1] ? b->st[1] : NULL, want[2] ? b->st[2] : NULL,
                                   want[3] ? b->st[3] : NULL, err)))
    return st;
  /* After a row's text: up to three numbers, each after a delimiter, and
   * the line end. */
  const size_t numbers = (3 + NSTATS) * (CSVREG_FORMAT_DOUBLE_MAX + 1) + 1;
  size_t used = b->used, start = 0, k = 0;
  for (size_t i = 0; i < nrec; i++) {
    size_t len = a->only ? 0 : ends[i] - start;
    if (used + len + numbers > OUT_BYTES) {
      if ((st = emit(ectx, b->out, used, err)))
        return st;
      used = 0;
    }
    char *d = b->out + used;
    if (!a->only) {
      if (len + numbers > OUT_BYTES) {
        if ((st = emit(ectx, text + start, len, err)))
          return st;
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
      for (int j = 0; j < NSTATS; j++)
        if (want[j])
          *d++ = delim;
    } else {
      d = put_num(d, b->yhat[k]);
      if (a->interval && a->wname && isnan(b->w[k])) {
        *d++ = delim, *d++ = delim; /* no weight, no interval */
      } else if (a->interval) {
        *d++ = delim;
        d = put_num(d, b->lo[k]);
        *d++ = delim;
        d = put_num(d, b->hi[k]);
      }
      /* a missing target or weight: an empty cell, as an empty prediction */
      for (int j = 0; j < NSTATS; j++)
        if (want[j]) {
          *d++ = delim;
          if (isfinite(b->st[j][k]))
            d = put_num(d, b->st[j][k]);
        }
      k++;
    }
    *d++ = '\n';
    used = (size_t)(d - b->out);
  }
  b->used = keep ? used : 0;
  return keep ? CSVREG_OK : emit(ectx, b->out, used, err);
}

static csvreg_status write_header(FILE *fp, const char *const *names, size_t ncolumns,
                                  const predict_args *a, char delim, csvreg_error *err) {
  const char *extra[3 + NSTATS] = {a->column, "lower", "upper"};
  const char *stat_names[NSTATS] = {"residual", "leverage", "rstandard", "cooks"};
  int want[NSTATS];
  stats_wanted(a, want);
  size_t nextra = a->interval ? 3 : 1;
  if (!a->interval)
    extra[1] = extra[2] = NULL;
  for (int j = 0; j < NSTATS; j++)
    if (want[j])
      extra[nextra++] = stat_names[j];
  const size_t ncol = a->only ? 0 : ncolumns;
  csvreg_field *f = malloc((ncol + nextra) * sizeof *f);
  if (!f) {
    err->status = CSVREG_E_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return CSVREG_E_NOMEM;
  }
  for (size_t j = 0; j < ncol + nextra; j++) {
    f[j].ptr = j < ncol ? names[j] : extra[j - ncol];
    f[j].len = strlen(f[j].ptr);
  }
  char *t = NULL;
  size_t len = 0, cap = 0;
  csvreg_status st = csvreg_csv_append(&t, &len, &cap, f, ncol + nextra, delim, err);
  if (!st)
    fwrite(t, 1, len, fp), fputc('\n', fp);
  free(t);
  free(f);
  return st;
}

/* ---- the predict sink: the pass's pieces, written in input order ----
 * One sink per piece of the pass (csvreg_sink_type), and one for the total,
 * made first. On one thread the total gets every chunk and writes it to the
 * output. With threads the total gets the pieces' sinks in input order
 * (merge) and writes what each spooled; piece 0, which starts at the first
 * data record, writes straight to the output instead (nothing is before it).
 * Record numbers are used only in error messages (CSVREG_SINK_SPECULATE: a
 * piece of a file may start at a guessed record boundary, checked when it is
 * merged). */

#define SPARE_SINKS 8
/* Output buffers a piece holds until its merge, and free ones kept. */
#define HELD_MAX 64
#define FREE_BUFS 64

typedef struct predict_out {
  const csvreg_model *model;
  const predict_args *a;
  char delim;
  FILE *fp;                   /* standard output, or -o's temporary file */
  size_t rows;                /* the chunks' capacity */
  size_t spool_mem;           /* a piece's text kept in memory, then on disk */
  atomic_int stopped;         /* standard output went away: the pass stops */
  struct predict_sink *total; /* the pass's (it keeps it after a failure) */
  /* Sinks of pieces merged, kept for the next pieces with their buffers: a
   * stream's 512 KiB blocks each make a sink, and fresh buffers for each cost
   * page faults (~0.2 s of system time on 186 MB on the project's VM, as
   * pass.c found for its blocks). */
  pthread_mutex_t mu;
  struct predict_sink *spare[SPARE_SINKS];
  size_t nspare;
  char *free_buf[FREE_BUFS]; /* output buffers merged pieces gave back, under mu */
  size_t nfree;
} predict_out;

typedef struct predict_sink {
  predict_out *o;
  block b;             /* allocated at the first chunk */
  int direct;          /* 1 to the output, 0 to the spool */
  csvreg_spool *spool; /* direct == 0: after held, or beyond its room */
  /* direct == 0: full output buffers handed over whole (hold), in order,
   * then the spool's bytes, then b.out's b.used. Copying a piece's text
   * into its spool was ~14% of the CPU samples of predict --threads 2 (and
   * its growing buffer's page faults ~6% more). */
  char *held[HELD_MAX];
  size_t held_len[HELD_MAX], nheld, held_bytes;
  int spilled;          /* something went to the spool: the rest goes there too */
  csvreg_counts counts; /* the rows of the chunks (and merged pieces) */
} predict_sink;

/* The status that stops a pass when standard output is gone (a closed pipe,
 * a full disk): cmd_predict_run ends as one thread did, quietly, and
 * close_stdout in main says which. */
#define STOPPED CSVREG_E_IO

static csvreg_status fail_with(csvreg_error *err, csvreg_status st, const char *fmt, ...)
    CLI_PRINTF(3, 4);
static csvreg_status fail_with(csvreg_error *err, csvreg_status st, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->status = st;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return st;
}

static csvreg_status emit_out(void *ctx, const void *p, size_t n, csvreg_error *err) {
  (void)err;
  fwrite(p, 1, n, ((predict_sink *)ctx)->o->fp);
  return CSVREG_OK;
}

static char *buf_take(predict_out *o) {
  char *b = NULL;
  pthread_mutex_lock(&o->mu);
  if (o->nfree)
    b = o->free_buf[--o->nfree];
  pthread_mutex_unlock(&o->mu);
  return b ? b : out_buf_new();
}

static void buf_give(predict_out *o, char *b) {
  if (!b)
    return;
  pthread_mutex_lock(&o->mu);
  if (o->nfree < FREE_BUFS) {
    o->free_buf[o->nfree++] = b;
    b = NULL;
  }
  pthread_mutex_unlock(&o->mu);
  out_buf_free(b);
}

/* A spooled piece's text: its full output buffer handed over whole, a fresh
 * one in its place, while the piece holds less than its room; else (and
 * for a row written straight from the chunk, and all after it, to keep the
 * order) copied into the spool. */
static csvreg_status emit_spool(void *ctx, const void *p, size_t n, csvreg_error *err) {
  predict_sink *s = ctx;
  if (!n)
    return CSVREG_OK;
  if (!s->spilled && p == s->b.out && s->nheld < HELD_MAX && s->held_bytes + n <= s->o->spool_mem) {
    char *fresh = buf_take(s->o);
    if (!fresh)
      return fail_with(err, CSVREG_E_NOMEM, "out of memory");
    s->held[s->nheld] = s->b.out;
    s->held_len[s->nheld++] = n;
    s->held_bytes += n;
    s->b.out = fresh;
    return CSVREG_OK;
  }
  s->spilled = 1;
  return csvreg_spool_write(s->spool, p, n, err);
}

/* A piece's held buffers back to the free ones (its text written or not). */
static void held_release(predict_sink *s) {
  for (size_t i = 0; i < s->nheld; i++)
    buf_give(s->o, s->held[i]);
  s->nheld = s->held_bytes = 0;
  s->spilled = 0;
  s->b.used = 0;
}

static int drain_out(void *ctx, const void *p, size_t n) {
  fwrite(p, 1, n, ctx);
  return 0; /* write errors: ferror, checked at the end as on one thread */
}

/* After text went to standard output: flushed (the rows before an error
 * are out before its message), and the pass stopped once stdout is gone. */
static csvreg_status out_flushed(predict_out *o, csvreg_error *err) {
  if (o->fp != stdout)
    return CSVREG_OK;
  if (cli_flush_stdout() || cli_stdout_closed()) {
    atomic_store(&o->stopped, 1);
    return fail_with(err, STOPPED, "standard output is closed");
  }
  return CSVREG_OK;
}

static void psink_destroy(predict_sink *s) {
  if (!s)
    return;
  held_release(s);
  block_free(&s->b);
  csvreg_spool_free(s->spool);
  free(s);
}

/* A piece's sink back to the spares (its spool, drained by its merge, keeps
 * its buffer); the total, a piece that failed and the overflow are freed. */
static void psink_free(void *sp) {
  predict_sink *s = sp;
  if (!s)
    return;
  predict_out *o = s->o;
  held_release(s); /* a piece that failed: its text is dropped */
  if (s->direct == 1 || (s->spool && csvreg_spool_bytes(s->spool))) {
    psink_destroy(s);
    return;
  }
  pthread_mutex_lock(&o->mu);
  if (o->nspare < SPARE_SINKS) {
    o->spare[o->nspare++] = s;
    s = NULL;
  }
  pthread_mutex_unlock(&o->mu);
  psink_destroy(s);
}

static void spares_free(predict_out *o) {
  while (o->nspare)
    psink_destroy(o->spare[--o->nspare]);
  while (o->nfree)
    out_buf_free(o->free_buf[--o->nfree]);
}

/* A sink: a spare when one is there (a piece's; its spool kept), else new. */
static csvreg_status psink_make(predict_sink **out, predict_out *o, int spare, csvreg_error *err) {
  predict_sink *s = NULL;
  pthread_mutex_lock(&o->mu);
  if (spare && o->nspare)
    s = o->spare[--o->nspare];
  pthread_mutex_unlock(&o->mu);
  if (s) {
    memset(&s->counts, 0, sizeof s->counts);
  } else if (!(s = calloc(1, sizeof *s))) {
    return fail_with(err, CSVREG_E_NOMEM, "out of memory");
  }
  s->o = o;
  *out = s;
  return CSVREG_OK;
}

/* The total: made before any piece; on one thread it gets the chunks. */
static csvreg_status psink_create(void **out, const csvreg_spec *spec, const void *arg,
                                  csvreg_error *err) {
  (void)spec;
  predict_out *o = (predict_out *)arg; /* shared: spares under mu */
  predict_sink *s = NULL;
  csvreg_status st = psink_make(&s, o, 0, err);
  if (st)
    return st;
  s->direct = 1;
  o->total = s;
  *out = s;
  return CSVREG_OK;
}

/* A piece: piece 0 writes straight out (no piece is before it), a later
 * one to its spool until its merge. */
static csvreg_status psink_create_piece(void **out, const csvreg_spec *spec, const void *arg,
                                        uint64_t piece, csvreg_error *err) {
  (void)spec;
  predict_out *o = (predict_out *)arg;
  predict_sink *s = NULL;
  csvreg_status st = psink_make(&s, o, 1, err);
  if (st)
    return st;
  s->direct = piece == 0;
  if (!s->direct && !s->spool && (st = csvreg_spool_new(&s->spool, o->spool_mem, err))) {
    psink_destroy(s);
    return st;
  }
  *out = s;
  return CSVREG_OK;
}

static csvreg_status psink_add(void *sp, const csvreg_chunk *c, csvreg_error *err) {
  predict_sink *s = sp;
  const csvreg_counts *k = csvreg_chunk_counts(c);
  csvreg_counts_add(&s->counts, k);
  if (!k->records)
    return CSVREG_OK;
  csvreg_status st;
  if (!s->b.out) {
    if (block_alloc(&s->b, s->o->rows)) {
      return fail_with(err, CSVREG_E_NOMEM, "out of memory for a block of %zu rows", s->o->rows);
    }
    if (s->o->a->wname &&
        (st = csvreg_na_new(&s->b.na, csvreg_model_get_options(s->o->model)->na, err)))
      return st;
  }
  if ((st = block_write(&s->b, c, s->o->model, s->o->a, s->o->delim,
                        s->direct ? emit_out : emit_spool, s, !s->direct, err)))
    return st;
  return s->direct ? out_flushed(s->o, err) : CSVREG_OK;
}

/* into (the total) := into followed by from: from's spooled text out. */
static csvreg_status psink_merge(void *ip, const void *fp, csvreg_error *err) {
  predict_sink *into = ip;
  /* the spool is from's to empty: it is released right after its merge */
  predict_sink *from = (predict_sink *)fp;
  csvreg_counts_add(&into->counts, &from->counts);
  if (!from->spool)
    return CSVREG_OK; /* it wrote straight out, or had no records */
  FILE *out = into->o->fp;
  for (size_t i = 0; i < from->nheld; i++)
    fwrite(from->held[i], 1, from->held_len[i], out);
  csvreg_status st = csvreg_spool_drain(from->spool, drain_out, out, err);
  if (!st && from->b.used)
    fwrite(from->b.out, 1, from->b.used, out);
  held_release(from); /* its buffers to the next pieces */
  return st ? st : out_flushed(into->o, err);
}

static const csvreg_sink_type predict_sink_type = {
    "predict",  psink_create,          psink_add,         psink_merge,
    psink_free, CSVREG_SINK_SPECULATE, psink_create_piece};
/* ---- end the predict sink ---- */

int cmd_predict_run(int argc, char **argv) {
  predict_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  csvreg_model *model = NULL;
  /* Point predictions alone need neither the state --update folds into
   * nor the design factor of intervals and leverages (issue 12). */
  const unsigned rflags = a.interval || any_stats(&a) ? 0 : CSVREG_MODEL_READ_PREDICT;
  if ((rc = cli_model_read_with(a.model, rflags, &model)))
    return rc;
  csvreg_error err;
  csvreg_error_clear(&err);
  model_rows rows;
  memset(&rows, 0, sizeof rows);
  atomic_file af;
  memset(&af, 0, sizeof af);
  bad_rows bad;
  memset(&bad, 0, sizeof bad);
  predict_sink *total = NULL;
  predict_out po;
  memset(&po, 0, sizeof po);
  pthread_mutex_init(&po.mu, NULL);
  const csvreg_model_options *mo = csvreg_model_get_options(model);
  const char delim = a.rd.delimiter_set ? a.rd.delimiter : mo->delimiter;
  csvreg_chunk_options co;
  csvreg_chunk_options_init(&co);
  co.rows = a.rd.chunk_rows;
  co.keep_rows = 1;
  co.keep_text = !a.only || a.wname; /* -w reads its column from the text */
  co.delimiter = delim;
  co.na_error = a.na_error;
  csvreg_status st = CSVREG_OK;
  /* The row statistics read the target, and the weights where the input
   * has them (model_rows_open); a row without them is still predicted. */
  const unsigned bind =
      any_stats(&a) ? CSVREG_MODEL_BIND_TARGET | CSVREG_MODEL_BIND_TARGET_OPTIONAL : 0;
  if ((st = model_rows_open(&rows, &a.rd, model, a.path, bind, a.threads, &co,
                            a.rd.skip_bad ? bad_rows_add : NULL, &bad, &err)))
    goto fail;
  if (a.rd.skip_bad && (rc = bad_rows_open(&bad, a.bad_path, delim)) != 0)
    goto done;
  const char *const *names = csvreg_pass_column_names(rows.pass);
  const size_t ncolumns = csvreg_pass_ncolumns(rows.pass);
  if (a.wname) {
    for (a.wcol = 0; a.wcol < ncolumns && strcmp(names[a.wcol], a.wname) != 0; a.wcol++)
      ;
    if (a.wcol == ncolumns) {
      st = err.status = CSVREG_E_COLUMN;
      snprintf(err.source, sizeof err.source, "%s", model_rows_source(&rows));
      err.line = 1;
      snprintf(err.message, sizeof err.message, "no weights column named '%s' in the header",
               a.wname);
      goto fail;
    }
  } else if (a.interval == CSVREG_INTERVAL_PREDICTION && mo->weights) {
    /* predict.lm's words: the new rows' weights are taken as 1 */
    cli_warnf("Assuming constant prediction variance even though model fit is weighted "
              "(give the new rows' weights with -w COL)");
  }
  FILE *fp = stdout;
  if (a.output) {
    /* after the input's header is bound: a missing column leaves no file */
    char msg[1024];
    if ((rc = atomic_open(&af, a.output, msg, sizeof msg)) != 0) {
      cli_errorf("%s", msg);
      goto done;
    }
    fp = af.fp;
  }
  if (any_stats(&a) && mo->weights && !csvreg_spec_weights_name(rows.spec))
    cli_warnf("the model was fitted with weights '%s' and the input has no such column: "
              "the row statistics take weight 1",
              mo->weights);
  double z[3];
  /* Leverages need the factor: say so before any output. */
  if ((a.lev || a.rstd || a.cooks) &&
      (st = csvreg_model_influence(model, 0, NULL, 1, z, NULL, z, NULL, z + 1, NULL, NULL, &err)))
    goto fail;
  /* Intervals need residual degrees of freedom: say so before any output. */
  if (a.interval &&
      (st = csvreg_model_predict(model, 0, NULL, 1, a.interval, a.level, z, z + 1, z + 2, &err)))
    goto fail;
  if (!a.rd.no_header && mo->header && (st = write_header(fp, names, ncolumns, &a, delim, &err)))
    goto fail;
  po.model = model;
  po.a = &a;
  po.delim = delim;
  po.fp = fp;
  po.rows = co.rows;
  /* a piece's text (about 1.2 times its bytes for the input's columns and
   * one prediction) stays in memory; more (many statistics on short rows)
   * goes on to the spool's file */
  po.spool_mem = 4 * model_rows_piece_bytes();
  if (po.spool_mem < CSVREG_SPOOL_MEM)
    po.spool_mem = CSVREG_SPOOL_MEM;
  void *sink = NULL;
  st = model_rows_run(&rows, &predict_sink_type, &po, &sink, &err);
  total = sink;
  /* the counts of the rows read; a stopped pass still holds its total */
  const csvreg_counts *counts = po.total ? &po.total->counts : NULL;
  if (st && atomic_load(&po.stopped)) {
    st = CSVREG_OK; /* as one thread: stop reading, end as main says */
    csvreg_error_clear(&err);
  }
  if (st) {
    /* The library names the row and column; the policy is ours to name. */
    if (st == CSVREG_E_VALUE && a.na_error &&
        (strncmp(err.message, "missing value", 13) == 0 ||
         strncmp(err.message, "level \"", 7) == 0))
      snprintf(err.message + strlen(err.message), sizeof err.message - strlen(err.message),
               " (--na-policy error)");
    goto fail;
  }
  model_rows_finish(&rows, counts, a.rd.stats);
  if ((rc = bad_rows_close(&bad, 1)) != 0)
    goto done;
  if (a.output) {
    char msg[1024];
    if (atomic_commit(&af, msg, sizeof msg) != 0) {
      cli_errorf("%s", msg);
      rc = CLI_EXIT_IO;
      goto done;
    }
  }
  if (counts->new_level)
    cli_warnf("%llu row%s with a level the model never saw got no prediction (as R's \"factor "
              "has new levels\"; --na-policy error stops at the first)",
              (unsigned long long)counts->new_level, counts->new_level == 1 ? "" : "s");
  rc = CLI_EXIT_OK;
  goto done;
fail:
  /* The rows before the error are already out: flushed before the message. */
  model_rows_finish(&rows, NULL, 0);
  if (!err.message[0])
    snprintf(err.message, sizeof err.message, "%s", csvreg_status_str(st));
  err.status = st;
  rc = cli_report_error(&err);
done:
  bad_rows_close(&bad, 0);
  atomic_abort(&af);       /* nothing after a commit; the temporary file after an error */
  model_rows_close(&rows); /* a pass that failed frees its sinks here: first */
  psink_destroy(total);
  spares_free(&po);
  pthread_mutex_destroy(&po.mu);
  csvreg_model_free(model);
  return rc;
}
