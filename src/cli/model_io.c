/*
 * model_io.c - model files on disk: read and checked by the library (a
 * model is small: its size is set by the number of terms, not rows);
 * written through atomic_file so that a crash, a full disk or a signal
 * leaves the old model or the new one, never a piece.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "model_cli.h"

/* The library reads the model with its size bounded as it arrives
 * (csvreg_model_read_fd): a regular file past CSVREG_MODEL_MAX_BYTES by its
 * size, before a byte is read; a pipe by what a model of its terms takes,
 * not after 1 GiB (issue 17 item 9). */
int cli_model_read(const char *path, csvreg_model **out) {
  return cli_model_read_with(path, 0, out);
}

/* flags: csvreg_model_read_fd_with's (CSVREG_MODEL_READ_PREDICT: predict
 * without intervals and eval hold the built model's one q x q array) */
int cli_model_read_with(const char *path, unsigned flags, csvreg_model **out) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    cli_errorf("cannot open model %s: %s", path, e == ENOMEM ? "out of memory" : strerror(e));
    /* no memory (reached now that cairo is not loaded at start,
     * faults.ulimit at 30 MiB) is out of memory, not I/O */
    return e == ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_IO;
  }
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_status st = csvreg_model_read_fd_with(out, fd, flags, &err);
  close(fd);
  if (!st)
    return 0;
  if (st == CSVREG_E_IO) {
    /* the reason after the library's "read: " (a copy: snprintf's source
     * must not overlap its destination) */
    char why[sizeof err.message];
    const char *colon = strchr(err.message, ':');
    snprintf(why, sizeof why, "%s", colon && colon[1] ? colon + 2 : err.message);
    snprintf(err.message, sizeof err.message, "cannot read model %.200s: %.250s", path, why);
  } else
    snprintf(err.source, sizeof err.source, "%s", path);
  return cli_report_error(&err);
}

/* The model is written as it is made (csvreg_model_write: neither its text
 * nor a JSON tree of its O(terms^2) numbers is held); a failed write is
 * reported by atomic_commit, from the FILE's error, as before. */
int cli_model_write(const char *path, const csvreg_model *m) {
  csvreg_error err;
  csvreg_error_clear(&err);
  atomic_file af;
  char msg[1024];
  int rc = CLI_EXIT_OK;
  if ((rc = atomic_open(&af, path, msg, sizeof msg)) != 0) {
    cli_errorf("%s", msg);
    return rc;
  }
  csvreg_status st = csvreg_model_write(m, af.fp, &err);
  if (st && st != CSVREG_E_IO) {
    atomic_abort(&af);
    return cli_report_error(&err);
  }
  if (atomic_commit(&af, msg, sizeof msg) != 0) {
    cli_errorf("%s", msg);
    rc = CLI_EXIT_IO;
  }
  return rc;
}

static const csvreg_model *fold_from;
static const csvreg_fold_record *fold_rec;

void cli_fit_model_fold(const csvreg_model *from, const csvreg_fold_record *r) {
  fold_from = from;
  fold_rec = r;
}

/* fit --vcov TYPE or --refine with -o: the fit whose robust covariance
 * and refinement the model keeps (issue 13), borrowed until the model is
 * written. */
static const csvreg_fit *kept_fit;

void cli_fit_model_keep(const csvreg_fit *fit) { kept_fit = fit; }

static void model_options(csvreg_model_options *mo, const csvreg_spec *spec,
                          const csvreg_spec_options *so, const csvreg_reader_options *ro,
                          const csvreg_solve_options *solve) {
  csvreg_model_options_init(mo);
  mo->weights = csvreg_spec_weights_name(spec);
  mo->na = so->na;
  mo->delimiter = ro->delimiter;
  mo->header = ro->header;
  mo->solve = *solve;
  mo->spec = spec; /* a formula's model keeps the formula and its levels */
}

/* The folded records and the kept fit's robust covariance and refinement
 * onto `m`, then `m` written to `path`; `m` stays the caller's. */
static int finish_and_write(const char *path, csvreg_model *m) {
  csvreg_error err;
  csvreg_error_clear(&err);
  if (((fold_from || fold_rec) && csvreg_model_add_folded(m, fold_from, fold_rec, &err)) ||
      (kept_fit && (csvreg_model_set_refined(m, kept_fit, &err) ||
                    csvreg_model_set_vcov(m, kept_fit, &err))))
    return cli_report_error(&err);
  return cli_model_write(path, m);
}

int cli_fit_model_write(const char *path, const csvreg_accum *acc, const csvreg_spec *spec,
                        const csvreg_spec_options *so, const csvreg_reader_options *ro,
                        const csvreg_solve_options *solve) {
  csvreg_model_options mo;
  model_options(&mo, spec, so, ro, solve);
  csvreg_model *m = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  if (csvreg_model_new(&m, acc, &mo, &err) != CSVREG_OK)
    return cli_report_error(&err);
  int rc = finish_and_write(path, m);
  csvreg_model_free(m);
  return rc;
}

int cli_fit_model_write_fit(const char *path, csvreg_accum **state, csvreg_accum **fitted,
                            csvreg_fit **fit, const csvreg_spec *spec,
                            const csvreg_spec_options *so, const csvreg_reader_options *ro,
                            const csvreg_solve_options *solve, csvreg_model **out) {
  csvreg_model_options mo;
  model_options(&mo, spec, so, ro, solve);
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_status st = csvreg_model_new_from_fit(out, *state, *fitted, *fit, &mo, &err);
  *state = *fitted = NULL;
  *fit = NULL;
  return st ? cli_report_error(&err) : finish_and_write(path, *out);
}

csvreg_status model_input_open(const model_read_opts *o, const csvreg_model *m, const char *path,
                               unsigned flags, csvreg_reader **reader, csvreg_spec **spec,
                               csvreg_error *err) {
  const csvreg_model_options *mo = csvreg_model_get_options(m);
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  ro.delimiter = o->delimiter_set ? o->delimiter : mo->delimiter;
  ro.header = o->no_header ? 0 : mo->header;
  ro.decompress = o->decompress;
  if (o->skip_bad)
    flags |= CSVREG_MODEL_BIND_SKIP_BAD;
  csvreg_status st = csvreg_reader_open(reader, path ? path : "-", &ro, err);
  if (st)
    return st;
  if ((flags & CSVREG_MODEL_BIND_TARGET_OPTIONAL) && mo->weights) {
    /* predict's row statistics: the weights when the input has them */
    const char *const *names = csvreg_reader_column_names(*reader);
    size_t j = 0, nc = csvreg_reader_ncolumns(*reader);
    while (j < nc && strcmp(names[j], mo->weights) != 0)
      j++;
    if (j == nc)
      flags |= CSVREG_MODEL_BIND_NO_WEIGHTS;
  }
  st = csvreg_model_spec_new(spec, m, csvreg_reader_column_names(*reader),
                             csvreg_reader_ncolumns(*reader), flags, err);
  if (st == CSVREG_E_COLUMN) {
    snprintf(err->source, sizeof err->source, "%s", csvreg_reader_source(*reader));
    err->line = 1;
  }
  return st;
}

static int read_option(const char *command, int c, const char *arg, model_read_opts *o) {
  switch (c) {
  case MR_SKIP_BAD: o->skip_bad = 1; return 1;
  case 'd':
    if (opt_delimiter(command, "--delimiter", arg, &o->delimiter))
      return -1;
    o->delimiter_set = 1;
    return 1;
  case MR_NO_HEADER: o->no_header = 1; return 1;
  case MR_CHUNK_ROWS: return opt_chunk_rows(command, arg, &o->chunk_rows) ? -1 : 1;
  case MR_QUIET: o->quiet = 1; return 1;
  case MR_STATS: o->stats = 1; return 1;
  case MR_DECOMPRESS: return opt_decompress(command, arg, &o->decompress) ? -1 : 1;
  default: return 0;
  }
}

int model_read_option(const char *command, int c, const char *arg, const char *opt,
                      model_read_opts *o) {
  int r = read_option(command, c, arg, o);
  return r > 0 ? -1 : r < 0 ? CLI_EXIT_USAGE : opt_error(command, c, opt);
}

int model_args_done(const char *command, int argc, char **argv, const char **path,
                    const char *model) {
  if (opt_one_file(command, argc, argv, path))
    return CLI_EXIT_USAGE;
  if (!model)
    return cli_usage_error(command, "missing --model (-m): the model file written by 'fit -o'");
  return -1;
}
