/*
 * model_rows.c - the row loop of predict and eval: the input read through
 * the model's spec chunk by chunk, the counts summed, the progress line and
 * --stats. Each command says what to do with a chunk.
 */
#include <string.h>
#include <unistd.h>

#include "model_cli.h"

csvreg_status model_rows_open(model_rows *r, const model_read_opts *o, const csvreg_model *m,
                              const char *path, unsigned flags, const csvreg_chunk_options *co,
                              csvreg_error *err) {
  memset(r, 0, sizeof *r);
  r->t0 = progress_now();
  progress_init(&r->prog, !o->quiet && isatty(STDERR_FILENO));
  csvreg_status st = model_input_open(o, m, path, flags, &r->reader, &r->spec, err);
  if (!st)
    st = csvreg_chunk_new_with(&r->chunk, r->spec, co, err);
  return st;
}

csvreg_status model_rows_run(model_rows *r, model_rows_fn each, void *ctx, csvreg_error *err) {
  const int64_t size = csvreg_reader_size(r->reader);
  csvreg_status st;
  do {
    st = csvreg_chunk_fill(r->chunk, r->reader, err);
    if (csvreg_is_error(st))
      return st;
    const csvreg_counts *k = csvreg_chunk_counts(r->chunk);
    csvreg_counts_add(&r->counts, k);
    if (k->records) {
      r->chunks++;
      csvreg_status est = each(ctx, r->chunk, err);
      if (est)
        return est;
      progress_update(&r->prog, csvreg_reader_bytes(r->reader), r->counts.records, size);
      /* Stop reading once stdout is gone (a closed pipe, a full disk):
       * close_stdout in main says which, and how the command ends. */
      if (cli_flush_stdout() || cli_stdout_closed())
        return CSVREG_OK;
    }
  } while (st != CSVREG_END);
  return CSVREG_OK;
}

void model_rows_finish(model_rows *r, int stats) {
  progress_done(&r->prog);
  cli_flush_stdout();
  if (stats)
    cli_print_stats(&r->counts, r->chunks, csvreg_reader_bytes(r->reader), progress_now() - r->t0);
}

void model_rows_close(model_rows *r) {
  progress_done(&r->prog);
  csvreg_chunk_free(r->chunk);
  csvreg_spec_free(r->spec);
  csvreg_reader_free(r->reader);
  memset(r, 0, sizeof *r);
}
