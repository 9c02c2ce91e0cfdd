/*
 * model_rows.c - the input of predict: the library's pass engine
 * (csvreg_pass_open / csvreg_pass_run, as fit and eval read) bound to the
 * model's spec, with the progress line and --stats. One thread reads chunk
 * after chunk into the command's sink; with --threads the pass cuts a file
 * in byte ranges (a stream in blocks) and merges the pieces' sinks in input
 * order, so the command's sink decides what a piece keeps until its turn.
 */
#include <string.h>
#include <unistd.h>

#include "model_cli.h"

/* predict --threads on a file: pieces of this many bytes (csvreg_pass_options
 * piece_bytes), so that a piece's rows wait for their turn in memory (its
 * spool, cmd_predict.c) rather than half the output in a temporary file.
 * Measured on the clean 2M x 10 file, 2 threads: see bench/README.md.
 * CSVREG_PIECE_BYTES overrides it (tests: many small pieces). */
#define PIECE_BYTES ((size_t)2 << 20)

size_t model_rows_piece_bytes(void) {
  size_t n = cli_env_bytes("CSVREG_PIECE_BYTES");
  return n ? n : PIECE_BYTES;
}

static void on_progress(void *ctx, uint64_t bytes, uint64_t records, int64_t size) {
  progress_update(ctx, bytes, records, size);
}

csvreg_status model_rows_open(model_rows *r, const model_read_opts *o, const csvreg_model *m,
                              const char *path, unsigned flags, size_t threads,
                              const csvreg_chunk_options *co, csvreg_bad_row_fn on_bad,
                              void *on_bad_ctx, csvreg_error *err) {
  memset(r, 0, sizeof *r);
  r->t0 = progress_now();
  progress_init(&r->prog, !o->quiet && isatty(STDERR_FILENO));
  const csvreg_model_options *mo = csvreg_model_get_options(m);
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = path;
  po.reader.delimiter = o->delimiter_set ? o->delimiter : mo->delimiter;
  po.reader.header = o->no_header ? 0 : mo->header;
  po.reader.decompress = o->decompress;
  po.threads = threads;
  po.block_bytes = cli_stdin_block_bytes(); /* tests: many small blocks */
  po.piece_bytes = model_rows_piece_bytes();
  po.chunk = co; /* borrowed until the pass is freed */
  po.progress = on_progress;
  po.progress_ctx = &r->prog;
  po.on_bad = on_bad;
  po.on_bad_ctx = on_bad_ctx;
  if (o->skip_bad)
    flags |= CSVREG_MODEL_BIND_SKIP_BAD;
  csvreg_status st = csvreg_pass_open(&r->pass, &po, err);
  if (st)
    return st;
  const char *const *names = csvreg_pass_column_names(r->pass);
  const size_t nc = csvreg_pass_ncolumns(r->pass);
  if ((flags & CSVREG_MODEL_BIND_TARGET_OPTIONAL) && mo->weights) {
    /* predict's row statistics: the weights when the input has them */
    size_t j = 0;
    while (j < nc && strcmp(names[j], mo->weights) != 0)
      j++;
    if (j == nc)
      flags |= CSVREG_MODEL_BIND_NO_WEIGHTS;
  }
  st = csvreg_model_spec_new(&r->spec, m, names, nc, flags, err);
  if (st == CSVREG_E_COLUMN) {
    snprintf(err->source, sizeof err->source, "%s", model_rows_source(r));
    err->line = 1;
  }
  return csvreg_pass_blame_input(r->pass, st, err); /* garbled by a damaged archive? */
}

const char *model_rows_source(const model_rows *r) { return csvreg_pass_get_info(r->pass)->source; }

csvreg_status model_rows_run(model_rows *r, const csvreg_sink_type *type, const void *arg,
                             void **out, csvreg_error *err) {
  csvreg_status st = csvreg_pass_run(r->pass, r->spec, type, arg, out, err);
  progress_done(&r->prog);
  return st;
}

void model_rows_finish(model_rows *r, const csvreg_counts *counts, int stats) {
  progress_done(&r->prog);
  cli_flush_stdout();
  if (stats) {
    const csvreg_pass_info *info = csvreg_pass_get_info(r->pass);
    cli_print_stats(counts, info->chunks, info->bytes + info->header_bytes, progress_now() - r->t0);
  }
}

void model_rows_close(model_rows *r) {
  progress_done(&r->prog);
  csvreg_spec_free(r->spec);
  csvreg_pass_free(r->pass);
  memset(r, 0, sizeof *r);
}
