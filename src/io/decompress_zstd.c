/*
 * decompress_zstd.c - the zstd decoder (libzstd's streaming API). One
 * context reads frame after frame (skippable frames too): a frame ends
 * where ZSTD_decompressStream returns 0, which the driver needs only to
 * tell a clean end of input from a truncated frame.
 */
#include <zstd.h>
#include <zstd_errors.h>

#include "decompress_codec.h"

static void *zstd_create(void) { return ZSTD_createDCtx(); }

static int zstd_run(void *st, codec_io *io) {
  ZSTD_inBuffer in = {io->in, io->in_len, 0};
  ZSTD_outBuffer out = {io->out, io->out_cap, 0};
  size_t r = ZSTD_decompressStream(st, &out, &in);
  io->in_used = in.pos;
  io->out_made = out.pos;
  if (ZSTD_isError(r)) {
    if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
      io->limit = 1;
      io->what = "its window needs more than the 128 MiB of memory csvreg gives a decoder "
                 "(written with zstd --long=28 or more); decompress it first (zstd -dc "
                 "--long=31 FILE | csvreg ... -)";
      return -1;
    }
    io->what = ZSTD_getErrorName(r);
    return -1;
  }
  io->end = r == 0;
  return 0;
}

static int zstd_reset(void *st) {
  return ZSTD_isError(ZSTD_DCtx_reset(st, ZSTD_reset_session_only)) ? -1 : 0;
}

static void zstd_destroy(void *st) { ZSTD_freeDCtx(st); }

const codec csvreg__codec_zstd = {"zstd", zstd_create, zstd_run, zstd_reset, zstd_destroy, 0};
