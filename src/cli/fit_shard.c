/*
 * fit_shard.c - `csvreg fit` with shard options: --emit-state (the state as
 * one line instead of a report), --range/--bytes (the records that start in
 * a byte range), --threads, --update/--decay (fold new rows into a saved
 * model), --columns/--header-line (splits without a header line).
 *
 * The flow is fit's: rows -> accumulator -> (state line | solve -> report,
 * model). Only where the rows come from and what happens to the state
 * differ, so the report is the same code (report.c) and the model the same
 * file (model_io.c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model_cli.h"
#include "shard.h"

#define CMD "fit"

int shard_is_opt(int opt) { return opt >= SHARD_OPT_EMIT_STATE && opt < SHARD_OPT_END; }

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

int shard_parse_opt(shard_args *s, int opt, const char *arg) {
  int n;
  switch (opt) {
  case SHARD_OPT_EMIT_STATE: s->emit_state = 1; break;
  case SHARD_OPT_RANGE:
    if ((n = parse_u64(arg, &s->range_i)) < 0 || arg[n] != '/' ||
        parse_u64(arg + n + 1, &s->range_n) < 0 ||
        arg[n + 1 + parse_u64(arg + n + 1, &s->range_n)] != '\0' || s->range_i < 1 ||
        s->range_n < 1 || s->range_i > s->range_n)
      return cli_usage_error(CMD, "--range: expected I/N with 1 <= I <= N, got '%s'", arg);
    s->has_range = 1;
    break;
  case SHARD_OPT_BYTES:
    if ((n = parse_u64(arg, &s->bytes_start)) < 0 || arg[n] != ':' ||
        parse_u64(arg + n + 1, &s->bytes_end) < 0 ||
        arg[n + 1 + parse_u64(arg + n + 1, &s->bytes_end)] != '\0' || s->bytes_start > s->bytes_end)
      return cli_usage_error(CMD, "--bytes: expected START:END with START <= END, got '%s'", arg);
    s->has_bytes = 1;
    break;
  case SHARD_OPT_THREADS:
    if (opt_positive_size(CMD, "--threads", arg, &s->threads))
      return CLI_EXIT_USAGE;
    if (s->threads > 256)
      return cli_usage_error(CMD, "--threads: at most 256, got '%s'", arg);
    break;
  case SHARD_OPT_UPDATE: s->update = arg; break;
  case SHARD_OPT_DECAY: {
    char *end;
    s->decay = strtod(arg, &end);
    if (end == arg || *end || !(s->decay > 0 && s->decay <= 1))
      return cli_usage_error(CMD, "--decay: expected a number in (0, 1], got '%s'", arg);
    break;
  }
  case SHARD_OPT_COLUMNS:
    if (!arg[0])
      return cli_usage_error(CMD, "--columns: expected comma-separated names");
    s->columns = arg;
    break;
  case SHARD_OPT_HEADER_LINE:
    if (!arg[0])
      return cli_usage_error(CMD, "--header-line: expected the header record's text");
    s->header_line = arg;
    break;
  case SHARD_OPT_SHARD_ID: s->shard_id = arg; break;
  default: return cli_usage_error(CMD, "internal: unknown shard option");
  }
  return 0;
}

void shard_usage(FILE *out) {
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
        "                        blocks parsed on N threads\n"
        "      --update MODEL    fold the rows into MODEL's saved state (the columns and\n"
        "                        options are the model's): equal to refitting on the old\n"
        "                        and new rows; use -o MODEL to replace it atomically\n"
        "      --decay L         with --update: scale the old rows' weights by L\n"
        "                        (0 < L <= 1) first (exponential forgetting)\n"
        "      --columns LIST    the column names (comma-separated) of an input whose\n"
        "                        first line may not be the header (a Hadoop split): a\n"
        "                        first line equal to the names is skipped, any other is data\n"
        "      --header-line T   as --columns, the names given as a CSV header record\n"
        "      --shard-id ID     a name for this shard in the state's provenance\n",
        out);
}

int shard_active(const shard_args *s) {
  return s->emit_state || s->has_range || s->has_bytes || s->threads > 1 || s->update ||
         s->columns || s->header_line || s->decay > 0 || s->shard_id;
}

int fit_shard_check(const fit_job *j) {
  const shard_args *s = &j->sh;
  if (!shard_active(s))
    return -1;
  if (j->validation)
    return cli_usage_error(CMD, "--holdout and --cv cannot be used with shard options");
  if (s->has_range && s->has_bytes)
    return cli_usage_error(CMD, "--range and --bytes cannot be used together");
  if (s->columns && s->header_line)
    return cli_usage_error(CMD, "--columns and --header-line cannot be used together");
  if ((s->columns || s->header_line) && (s->has_range || s->has_bytes || s->threads > 1))
    return cli_usage_error(CMD, "--columns and --header-line are for streams: not with --range, "
                                "--bytes or --threads");
  int stream = !j->path || strcmp(j->path, "-") == 0;
  if (stream && (s->has_range || s->has_bytes))
    return cli_usage_error(CMD, "--range and --bytes need a FILE, not standard input");
  if (s->decay > 0 && !s->update)
    return cli_usage_error(CMD, "--decay needs --update MODEL");
  if (s->update && (s->columns || s->header_line))
    return cli_usage_error(CMD, "--update takes the columns from the model");
  if (s->update && (j->spec.target || j->spec.features || j->spec.weights))
    return cli_usage_error(CMD, "--update takes -y, -x and -w from the model; do not give them");
  if (!s->update && !j->spec.target)
    return cli_usage_error(CMD, "missing --target (-y): the column to predict");
  return -1;
}

/* --update: the model's options replace the defaults; options given that
 * disagree with the model are an error. */
static int take_model_options(fit_job *j, const csvreg_model *m, char **features) {
  const csvreg_model_options *mo = csvreg_model_get_options(m);
  const csvreg_fit *f = csvreg_model_fit(m);
  if (!j->spec.intercept != !f->intercept && !j->spec.intercept)
    return cli_usage_error(CMD, "--no-intercept: the model %s has an intercept", j->sh.update);
  if (j->spec.na && (!mo->na || strcmp(j->spec.na, mo->na) != 0))
    return cli_usage_error(CMD, "--na differs from the model's NA tokens");
  if (j->reader.delimiter != ',' && j->reader.delimiter != mo->delimiter)
    return cli_usage_error(CMD, "--delimiter differs from the model's");
  if (!j->reader.header && mo->header)
    return cli_usage_error(CMD, "--no-header: the model was fitted on input with a header");
  if (j->solver != CSVREG_SOLVER_QR && j->solver != f->solver)
    return cli_usage_error(CMD, "--solver differs from the model's");
  size_t p = csvreg_model_nfeatures(m), len = 1;
  for (size_t i = 0; i < p; i++)
    len += strlen(csvreg_model_feature(m, i)) + 1;
  *features = malloc(len);
  if (!*features) {
    cli_errorf("out of memory");
    return CLI_EXIT_INTERNAL;
  }
  (*features)[0] = '\0';
  for (size_t i = 0; i < p; i++) {
    if (i)
      strcat(*features, ",");
    strcat(*features, csvreg_model_feature(m, i));
  }
  j->spec.target = csvreg_model_target(m);
  j->spec.features = p ? *features : NULL;
  j->spec.weights = mo->weights;
  j->spec.intercept = f->intercept;
  j->spec.na = mo->na;
  j->reader.delimiter = mo->delimiter;
  j->reader.header = mo->header;
  j->solver = f->solver;
  j->solve = mo->solve;
  return -1;
}

/* The spec must name the model's terms, target and weights, in order. */
static int check_model_columns(const fit_job *j, const csvreg_model *m, const csvreg_spec *s) {
  size_t p = csvreg_model_nfeatures(m);
  int ok =
      csvreg_spec_nterms(s) == p && strcmp(csvreg_spec_target_name(s), csvreg_model_target(m)) == 0;
  for (size_t i = 0; ok && i < p; i++)
    ok = strcmp(csvreg_spec_term_name(s, i), csvreg_model_feature(m, i)) == 0;
  if (ok)
    return -1;
  cli_errorf("%s: the input's columns do not match the model %s (its terms are named by "
             "position or differ)",
             j->path ? j->path : "<stdin>", j->sh.update);
  return CLI_EXIT_DATA;
}

static json_t *options_json(const fit_job *j, const csvreg_spec *spec) {
  char d[2] = {j->reader.delimiter, '\0'};
  const char *w = csvreg_spec_weights_name(spec);
  return json_pack("{s:s, s:b, s:o, s:o}", "delimiter", d, "header", j->reader.header, "na",
                   j->spec.na ? json_string(j->spec.na) : json_null(), "weights",
                   w ? json_string(w) : json_null());
}

static char *meta_text(const fit_job *j, const csvreg_spec *spec, const csvreg_accum *acc,
                       const shard_prov *pv) {
  json_t *o = json_object();
  if (!o)
    return NULL;
  int bad = 0; /* a member that could not be made or added: out of memory */
  bad |= json_object_set_new(o, "source", json_string(pv->source ? pv->source : "<stdin>"));
  if (j->sh.shard_id)
    bad |= json_object_set_new(o, "shard", json_string(j->sh.shard_id));
  else if (j->sh.has_range) {
    char buf[64];
    snprintf(buf, sizeof buf, "%llu/%llu", (unsigned long long)j->sh.range_i,
             (unsigned long long)j->sh.range_n);
    bad |= json_object_set_new(o, "shard", json_string(buf));
  }
  if (pv->has_range && !j->sh.update) {
    bad |= json_object_set_new(
        o, "range", json_pack("[I, I]", (json_int_t)pv->range_start, (json_int_t)pv->range_end));
    bad |= json_object_set_new(
        o, "aligned",
        json_pack("[I, I]", (json_int_t)pv->aligned_start, (json_int_t)pv->aligned_end));
    bad |= json_object_set_new(o, "file_size", json_integer((json_int_t)pv->file_size));
  }
  if (!j->sh.update) {
    bad |= json_object_set_new(o, "header_bytes", json_integer((json_int_t)pv->header_bytes));
    bad |= json_object_set_new(o, "bytes", json_integer((json_int_t)pv->bytes));
  } else {
    bad |= json_object_set_new(o, "updated_from", json_string(j->sh.update));
  }
  bad |= json_object_set_new(o, "records",
                             json_integer((json_int_t)csvreg_accum_counts(acc)->records));
  bad |= json_object_set_new(o, "options", options_json(j, spec));
  char *t = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  return t;
}

/* A deep copy of the model's state, through its exact text. */
static csvreg_status copy_state(const csvreg_accum *a, csvreg_accum **out, csvreg_error *err) {
  char *text = NULL;
  csvreg_status st = csvreg_accum_save(a, NULL, &text, err);
  if (!st)
    st = csvreg_accum_load(out, text, strlen(text), NULL, err);
  free(text);
  return st;
}

int fit_shard_run(fit_job *j) {
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_model *model = NULL;
  csvreg_spec *spec = NULL;
  csvreg_accum *acc = NULL, *old = NULL;
  csvreg_fit *fit = NULL;
  char *features = NULL, *meta = NULL;
  shard_names nm = {0, NULL, 0};
  shard_prov pv;
  memset(&pv, 0, sizeof pv);
  csvreg_status st = CSVREG_OK;
  int rc = -1;
  double t0 = progress_now();

  if (j->sh.update) {
    if ((rc = cli_model_read(j->sh.update, &model)) != 0)
      goto done;
    rc = take_model_options(j, model, &features);
    if (rc >= 0)
      goto done;
  }
  int stream = !j->path || strcmp(j->path, "-") == 0 || j->sh.columns || j->sh.header_line;
  struct stat sb;
  if (!stream && (stat(j->path, &sb) != 0 || !S_ISREG(sb.st_mode))) {
    if (j->sh.has_range || j->sh.has_bytes || j->sh.threads > 1) {
      cli_errorf("%s: --range, --bytes and --threads need a regular file", j->path);
      rc = stat(j->path, &sb) != 0 ? CLI_EXIT_IO : CLI_EXIT_USAGE;
      goto done;
    }
    stream = 1; /* a FIFO or a device: read it once */
  }
  if (stream) {
    if ((j->sh.columns || j->sh.header_line) &&
        (st = shard_names_given(&nm, j->sh.columns, j->sh.header_line, j->reader.delimiter, &err)))
      goto fail;
    st = shard_fold_stream(j->path, &j->reader, &j->spec, &nm, j->solver, j->chunk_rows,
                           j->sh.threads, &spec, &acc, &pv, &err);
    if (st)
      goto fail;
  } else {
    if ((st = shard_names_from_file(&nm, j->path, &j->reader, &err)))
      goto fail;
    if ((st = csvreg_spec_new(&spec, (const char *const *)nm.names, nm.n, &j->spec, &err))) {
      if (!err.source[0]) {
        snprintf(err.source, sizeof err.source, "%s", j->path);
        err.line = j->reader.header ? 1 : 0;
      }
      goto fail;
    }
    if ((st = csvreg_accum_new_for_spec(&acc, spec, j->solver, &err)))
      goto fail;
    uint64_t size = (uint64_t)sb.st_size, start = 0, end = size;
    if (j->sh.has_range) {
      start = size / j->sh.range_n * (j->sh.range_i - 1) +
              size % j->sh.range_n * (j->sh.range_i - 1) / j->sh.range_n;
      end = size / j->sh.range_n * j->sh.range_i +
            size % j->sh.range_n * j->sh.range_i / j->sh.range_n;
    } else if (j->sh.has_bytes) {
      start = j->sh.bytes_start;
      end = j->sh.bytes_end;
    }
    st = shard_fold_range(j->path, &j->reader, spec, j->solver, j->chunk_rows, start, end,
                          j->sh.threads, acc, &pv, &err);
    if (st)
      goto fail;
  }
  if (model) {
    if ((rc = check_model_columns(j, model, spec)) >= 0)
      goto done;
    /* The old rows first, then the new: the order of a refit on both. */
    if ((st = copy_state(csvreg_model_accum(model), &old, &err)) ||
        (j->sh.decay > 0 && (st = csvreg_accum_scale(old, j->sh.decay, &err))) ||
        (st = csvreg_accum_merge(old, acc, &err)))
      goto fail;
    csvreg_accum_free(acc);
    acc = old;
    old = NULL;
  }
  if (j->sh.emit_state) {
    if (!(meta = meta_text(j, spec, acc, &pv))) {
      st = CSVREG_E_NOMEM;
      goto fail;
    }
    rc = state_write(j->output, acc, meta);
    goto done;
  }
  if ((st = csvreg_accum_solve(acc, &j->solve, &fit, &err)))
    goto fail;
  if (j->output && (rc = cli_fit_model_write(j->output, acc, spec, &j->spec, &j->reader,
                                             &j->solve)) != CLI_EXIT_OK)
    goto done;
  if (!j->quiet)
    report_warnings(fit);
  if ((st = report_write(stdout, fit, j->format, &err)))
    goto fail;
  cli_flush_stdout();
  if (j->stats)
    cli_print_stats(csvreg_accum_counts(acc), pv.chunks, pv.bytes + pv.header_bytes,
                    progress_now() - t0);
  rc = CLI_EXIT_OK;
  goto done;
fail:
  if (err.status != st) {
    err.status = st;
    if (!err.message[0])
      snprintf(err.message, sizeof err.message, "%s", csvreg_status_str(st));
  }
  rc = cli_report_error(&err);
done:
  free(meta);
  free(features);
  shard_names_free(&nm);
  csvreg_fit_free(fit);
  csvreg_accum_free(acc);
  csvreg_accum_free(old);
  csvreg_spec_free(spec);
  csvreg_model_free(model);
  return rc;
}
