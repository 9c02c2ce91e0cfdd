/*
 * cmd_predict.c - `csvreg predict -m MODEL [FILE]`: every input row with the
 * model's prediction appended (or the predictions alone), streamed in blocks
 * of rows: a block's rows are re-quoted into a buffer while their features
 * are parsed, then predicted with one library call and written out. Memory
 * is the block, whatever the input's length.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_cli.h"

#if defined(__SSE2__) && defined(__x86_64__) && !defined(CSVREG_NO_SIMD)
#include <emmintrin.h>
#define PREDICT_SSE2 1
#endif

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
          "                        gets an empty prediction ('empty', default) or is an\n"
          "                        error ('error')\n"
          "      --skip-bad        a row with a feature that is not a number, or the wrong\n"
          "                        number of fields, gets an empty prediction instead of\n"
          "                        failing\n"
          "  -d, --delimiter C     field delimiter of the input and the output (default:\n"
          "                        the model's, as given to fit)\n"
          "      --no-header       the input has no header (columns are V1, V2, ...)\n"
          "      --chunk-rows N    rows per block (default %d)\n"
          "      --quiet           no progress line\n"
          "      --stats           print rows, chunks, bytes, time, throughput and peak\n"
          "                        memory on standard error\n"
          "  -h, --help            show this help and exit\n"
          "\n"
          "A missing feature column is an error before any output. Predictions are\n"
          "written as the shortest text that reads back to the same double.\n"
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
      int r = model_read_option(CMD, c, optarg, &a->rd);
      if (r < 0)
        return CLI_EXIT_USAGE;
      if (r == 0)
        return opt_error(CMD, c, opt);
    }
    }
  }
  return model_args_done(CMD, argc, argv, &a->path, a->model);
}

/* A growing text buffer for one block of output rows. */
typedef struct textbuf {
  char *p;
  size_t len, cap;
} textbuf;

static int tb_reserve(textbuf *t, size_t more) {
  if (t->len + more <= t->cap)
    return 0;
  size_t cap = t->cap ? t->cap : 1 << 16;
  while (cap < t->len + more)
    cap *= 2;
  char *q = realloc(t->p, cap);
  if (!q)
    return -1;
  t->p = q;
  t->cap = cap;
  return 0;
}

/* Copies `len` bytes from s to d and counts the delimiters among them; sets
 * *special when one is a quote, CR or LF. With SSE2, 16 bytes a step (the
 * last step reloads the final 16 and counts only the bytes not seen yet);
 * below 16 bytes, or without SSE2, one byte at a time. */
static size_t scan_copy(char *d, const char *s, size_t len, char delim, int *special) {
  size_t i = 0, delims = 0;
  unsigned sp = 0;
#ifdef PREDICT_SSE2
  if (len >= 16) {
    static const unsigned char tail_mask[32] = {0,    0,    0,    0,    0,    0,    0,    0,
                                                0,    0,    0,    0,    0,    0,    0,    0,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const __m128i vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8('"'), vcr = _mm_set1_epi8('\r'),
                  vlf = _mm_set1_epi8('\n'), one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
    __m128i count = zero, any = zero;
    for (;; i += 16) {
      __m128i mask = _mm_set1_epi8(-1);
      if (i + 16 > len) { /* the last 16 bytes, of which len - i are new */
        mask = _mm_loadu_si128((const __m128i *)(tail_mask + (len - i)));
        i = len - 16;
      }
      __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
      _mm_storeu_si128((__m128i *)(d + i), v);
      __m128i hits = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(v, vd), mask), one);
      count = _mm_add_epi64(count, _mm_sad_epu8(hits, zero)); /* two sums of 8 bytes */
      any = _mm_or_si128(
          any, _mm_or_si128(_mm_cmpeq_epi8(v, vq),
                            _mm_or_si128(_mm_cmpeq_epi8(v, vcr), _mm_cmpeq_epi8(v, vlf))));
      if (i + 16 == len)
        break;
    }
    delims = (size_t)_mm_cvtsi128_si64(count) +
             (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(count, count));
    sp = (unsigned)_mm_movemask_epi8(any);
    i = len;
  }
#endif
  for (; i < len; i++) {
    char c = s[i];
    d[i] = c;
    delims += c == delim;
    sp |= (unsigned)(c == '"') | (unsigned)(c == '\r') | (unsigned)(c == '\n');
  }
  *special = sp != 0;
  return delims;
}

/* RFC 4180: a field holding the delimiter, a quote, CR or LF is quoted and
 * its quotes doubled; others are copied as they are. */
static int tb_field(textbuf *t, const char *s, size_t len, char delim) {
  if (tb_reserve(t, len))
    return -1;
  int special;
  if (scan_copy(t->p + t->len, s, len, delim, &special) == 0 && !special) {
    t->len += len;
    return 0;
  }
  size_t quotes = 0;
  for (size_t i = 0; i < len; i++)
    quotes += s[i] == '"';
  if (tb_reserve(t, len + quotes + 2))
    return -1;
  char *d = t->p + t->len;
  *d++ = '"';
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"')
      *d++ = '"';
    *d++ = s[i];
  }
  *d++ = '"';
  t->len = (size_t)(d - t->p);
  return 0;
}

/* A record's fields, delimited. Fields the reader left back to back in its
 * buffer, one delimiter byte apart (a plain line, or the plain stretches of a
 * line with quoted fields), are copied as one span when the span holds no
 * quote, CR or LF and no delimiter but those between the fields: that is
 * exactly the text the fields would give one by one, at the cost of one
 * scan. */
static int tb_record(textbuf *t, const csvreg_field *f, size_t n, char delim) {
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && (uintptr_t)f[j].ptr == (uintptr_t)f[j - 1].ptr + f[j - 1].len + 1 &&
           f[j - 1].ptr[f[j - 1].len] == delim)
      j++;
    size_t span = (size_t)((uintptr_t)f[j - 1].ptr + f[j - 1].len - (uintptr_t)f[i].ptr);
    if (tb_reserve(t, span + 1))
      return -1;
    if (i)
      t->p[t->len++] = delim;
    int special;
    if (j - i > 1 && scan_copy(t->p + t->len, f[i].ptr, span, delim, &special) == j - i - 1 &&
        !special) {
      t->len += span;
    } else {
      for (size_t k = i; k < j; k++) {
        if (k > i) {
          if (tb_reserve(t, 1))
            return -1;
          t->p[t->len++] = delim;
        }
        if (tb_field(t, f[k].ptr, f[k].len, delim))
          return -1;
      }
    }
    i = j;
  }
  return 0;
}

typedef struct block {
  size_t cap, rows, nok;
  size_t *end; /* [cap] end of each row's text in buf */
  size_t *ok;  /* [cap] index into x of the row's features, or SIZE_MAX */
  double *x;   /* cap x p, column-major */
  double *yhat, *lo, *hi;
  textbuf buf; /* the rows' text, re-quoted */
  textbuf out; /* the block's output, written with one fwrite */
} block;

static void block_free(block *b) {
  free(b->end);
  free(b->ok);
  free(b->x);
  free(b->yhat);
  free(b->lo);
  free(b->hi);
  free(b->buf.p);
  free(b->out.p);
}

static int block_alloc(block *b, size_t cap, size_t p) {
  memset(b, 0, sizeof *b);
  b->cap = cap;
  b->end = malloc(cap * sizeof *b->end);
  b->ok = malloc(cap * sizeof *b->ok);
  b->x = malloc(cap * (p ? p : 1) * sizeof *b->x);
  b->yhat = malloc(cap * sizeof *b->yhat);
  b->lo = malloc(cap * sizeof *b->lo);
  b->hi = malloc(cap * sizeof *b->hi);
  return b->end && b->ok && b->x && b->yhat && b->lo && b->hi ? 0 : -1;
}

/* The shortest text that reads back to the same bits (printf's %.17g costs
 * ~0.5 us a number); -0 is written as 0. Needs CSVREG_FORMAT_DOUBLE_MAX bytes. */
static char *put_num(char *d, double v) { return d + csvreg_format_double(v == 0 ? 0.0 : v, d); }

/* Predicts the block's complete rows and writes every row. The output is put
 * together in a buffer of at most OUT_BYTES and written whenever the next row
 * would not fit (per-row stdio calls cost as much as the formatting); a row
 * longer than that is written straight from the block. */
#define OUT_BYTES ((size_t)1 << 18)
static csvreg_status block_flush(block *b, const csvreg_model *m, const predict_args *a, char delim,
                                 csvreg_error *err) {
  if (b->rows == 0)
    return CSVREG_OK;
  csvreg_status st = csvreg_model_predict(m, b->nok, b->x, b->cap, a->interval, a->level, b->yhat,
                                          b->lo, b->hi, err);
  if (st)
    return st;
  /* After a row's text: up to three numbers, each after a delimiter, and
   * the line end. */
  const size_t numbers = 3 * (CSVREG_FORMAT_DOUBLE_MAX + 1) + 1;
  size_t want = (a->only ? 0 : b->buf.len) + b->rows * numbers;
  textbuf *o = &b->out;
  if (tb_reserve(o, want < OUT_BYTES ? want : OUT_BYTES)) {
    err->status = CSVREG_E_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return CSVREG_E_NOMEM;
  }
  size_t used = 0, start = 0;
  for (size_t i = 0; i < b->rows; i++) {
    size_t len = a->only ? 0 : b->end[i] - start;
    if (used + len + numbers > o->cap) {
      fwrite(o->p, 1, used, stdout);
      used = 0;
    }
    char *d = o->p + used;
    if (!a->only) {
      if (len + numbers > o->cap) {
        fwrite(b->buf.p + start, 1, len, stdout);
      } else {
        memcpy(d, b->buf.p + start, len);
        d += len;
      }
      *d++ = delim;
    }
    start = b->end[i];
    size_t k = b->ok[i];
    if (k == SIZE_MAX) {
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
    }
    *d++ = '\n';
    used = (size_t)(d - o->p);
  }
  fwrite(o->p, 1, used, stdout);
  b->rows = b->nok = 0;
  b->buf.len = 0;
  return CSVREG_OK;
}

static csvreg_status write_header(const csvreg_reader *r, const predict_args *a, char delim,
                                  csvreg_error *err) {
  textbuf t = {0};
  const char *const *names = csvreg_reader_column_names(r);
  int bad = 0;
  if (!a->only)
    for (size_t j = 0; !bad && j < csvreg_reader_ncolumns(r); j++) {
      bad = tb_field(&t, names[j], strlen(names[j]), delim) || tb_reserve(&t, 1);
      if (!bad)
        t.p[t.len++] = delim;
    }
  const char *extra[3] = {a->column, "lower", "upper"};
  for (int j = 0; !bad && j < (a->interval ? 3 : 1); j++) {
    if (j && !(bad = tb_reserve(&t, 1)))
      t.p[t.len++] = delim;
    if (!bad)
      bad = tb_field(&t, extra[j], strlen(extra[j]), delim);
  }
  if (!bad)
    fwrite(t.p, 1, t.len, stdout), fputc('\n', stdout);
  free(t.p);
  if (bad) {
    err->status = CSVREG_E_NOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return CSVREG_E_NOMEM;
  }
  return CSVREG_OK;
}

int cmd_predict_run(int argc, char **argv) {
  predict_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  csvreg_model *model = NULL;
  if ((rc = cli_model_read(a.model, &model)))
    return rc;
  const csvreg_model_options *mo = csvreg_model_get_options(model);
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_reader *reader = NULL;
  model_cols mc;
  memset(&mc, 0, sizeof mc);
  block b;
  memset(&b, 0, sizeof b);
  csvreg_counts counts;
  memset(&counts, 0, sizeof counts);
  uint64_t chunks = 0;
  double t0 = progress_now();
  progress prog;
  progress_init(&prog, !a.rd.quiet && isatty(STDERR_FILENO));
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  ro.delimiter = a.rd.delimiter_set ? a.rd.delimiter : mo->delimiter;
  ro.header = a.rd.no_header ? 0 : mo->header;
  const char delim = ro.delimiter;
  csvreg_status st = csvreg_reader_open(&reader, a.path ? a.path : "-", &ro, &err);
  if (st)
    goto fail;
  if ((st = model_cols_bind(&mc, model, reader, 0, &err)))
    goto fail;
  if (block_alloc(&b, a.rd.chunk_rows, mc.p)) {
    st = err.status = CSVREG_E_NOMEM;
    snprintf(err.message, sizeof err.message, "out of memory for a block of %zu rows",
             a.rd.chunk_rows);
    goto fail;
  }
  /* Intervals need residual degrees of freedom: say so before any output. */
  if (a.interval && (st = csvreg_model_predict(model, 0, b.x, b.cap, a.interval, a.level, b.yhat,
                                               b.lo, b.hi, &err)))
    goto fail;
  if (ro.header && (st = write_header(reader, &a, delim, &err)))
    goto fail;
  int64_t size = csvreg_reader_size(reader);
  for (;;) {
    csvreg_record rec;
    st = csvreg_reader_next(reader, &rec, &err);
    if (st == CSVREG_END)
      break;
    if (st)
      goto fail;
    counts.records++;
    size_t col = 0;
    row_status rs = model_cols_parse(&mc, reader, &rec, b.x + b.nok, b.cap, NULL, NULL, &col, &err);
    if (rs == ROW_BAD) {
      if (!a.rd.skip_bad) {
        st = err.status;
        goto fail;
      }
      counts.dropped_bad++;
      csvreg_error_clear(&err);
    } else if (rs == ROW_MISSING) {
      if (a.na_error) {
        st = err.status = CSVREG_E_VALUE;
        snprintf(err.source, sizeof err.source, "%s", csvreg_reader_source(reader));
        err.line = rec.line;
        err.record = rec.number;
        err.column = col + 1;
        snprintf(err.column_name, sizeof err.column_name, "%s",
                 csvreg_reader_column_names(reader)[col]);
        snprintf(err.message, sizeof err.message,
                 "missing value in a feature column (--na-policy error)");
        goto fail;
      }
      counts.dropped_na++;
    }
    if (!a.only && tb_record(&b.buf, rec.fields, rec.nfields, delim)) {
      st = err.status = CSVREG_E_NOMEM;
      snprintf(err.message, sizeof err.message, "out of memory");
      goto fail;
    }
    b.end[b.rows] = b.buf.len;
    b.ok[b.rows++] = rs == ROW_OK ? b.nok++ : SIZE_MAX;
    if (rs == ROW_OK)
      counts.used++;
    if (b.rows == b.cap) {
      chunks++;
      if ((st = block_flush(&b, model, &a, delim, &err)))
        goto fail;
      progress_update(&prog, csvreg_reader_bytes(reader), counts.records, size);
    }
  }
  if (b.rows)
    chunks++;
  if ((st = block_flush(&b, model, &a, delim, &err)))
    goto fail;
  progress_done(&prog);
  cli_flush_stdout();
  if (a.rd.stats)
    cli_print_stats(&counts, chunks, csvreg_reader_bytes(reader), progress_now() - t0);
  rc = CLI_EXIT_OK;
  goto done;
fail:
  progress_done(&prog);
  /* The rows before the error are already out: flush them before the message. */
  cli_flush_stdout();
  if (!err.message[0])
    snprintf(err.message, sizeof err.message, "%s", csvreg_status_str(st));
  err.status = st;
  rc = cli_report_error(&err);
done:
  block_free(&b);
  model_cols_free(&mc);
  csvreg_reader_free(reader);
  csvreg_model_free(model);
  return rc;
}
