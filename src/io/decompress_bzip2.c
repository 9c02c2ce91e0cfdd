/*
 * decompress_bzip2.c - the bzip2 decoder (libbz2). A file may hold several
 * streams (pbzip2 writes one per block, `cat a.bz2 b.bz2` two): each ends
 * with BZ_STREAM_END, and the decoder is started again for the next. Each
 * block's and the stream's CRC are verified.
 */
#include <bzlib.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "decompress_codec.h"

static void *bz_create(void) {
  bz_stream *z = calloc(1, sizeof *z);
  if (z && BZ2_bzDecompressInit(z, 0, 0) != BZ_OK) {
    free(z);
    z = NULL;
  }
  return z;
}

static int bz_run(void *st, codec_io *io) {
  bz_stream *z = st;
  size_t in = io->in_len < UINT_MAX ? io->in_len : UINT_MAX;
  size_t out = io->out_cap < UINT_MAX ? io->out_cap : UINT_MAX;
  z->next_in = (char *)(uintptr_t)io->in;
  z->avail_in = (unsigned)in;
  z->next_out = (char *)io->out;
  z->avail_out = (unsigned)out;
  int r = BZ2_bzDecompress(z);
  io->in_used = in - z->avail_in;
  io->out_made = out - z->avail_out;
  /* where it stopped, should it fail: libbz2 moves next_in as it reads */
  io->at = io->base + io->in_used;
  io->at_set = 1;
  switch (r) {
  case BZ_OK: return 0;
  case BZ_STREAM_END: io->end = 1; return 0;
  case BZ_MEM_ERROR: io->what = "out of memory"; return -1;
  case BZ_DATA_ERROR_MAGIC: io->what = "not bzip2 data"; return -1;
  default: io->what = "corrupt bzip2 data"; return -1;
  }
}

static int bz_reset(void *st) {
  bz_stream *z = st;
  BZ2_bzDecompressEnd(z);
  *z = (bz_stream){0};
  return BZ2_bzDecompressInit(z, 0, 0) == BZ_OK ? 0 : -1;
}

static void bz_destroy(void *st) {
  if (st) {
    BZ2_bzDecompressEnd(st);
    free(st);
  }
}

const codec csvreg__codec_bzip2 = {"bzip2", bz_create, bz_run, bz_reset, bz_destroy, 1, 0};
