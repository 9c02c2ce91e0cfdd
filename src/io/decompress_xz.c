/*
 * decompress_xz.c - the xz decoder (liblzma). LZMA_CONCATENATED reads
 * stream after stream (and stream padding) in one decoder, so the end is
 * known only at the end of the input: there the driver passes eof and the
 * decoder finishes (LZMA_FINISH) or says the input was cut short. The
 * integrity check of each stream (CRC-64 by default) is verified. The
 * dictionary is the decoder's memory: 8 MiB at the default level (-6), 64
 * MiB at -9 and -e; the memory limit (DECODER_MEMORY_MAX) refuses a larger
 * one with a message instead of allocating it.
 */
#include <lzma.h>
#include <stdlib.h>

#include "decompress_codec.h"

static void *xz_create(void) {
  lzma_stream *z = malloc(sizeof *z);
  if (!z)
    return NULL;
  *z = (lzma_stream)LZMA_STREAM_INIT;
  if (lzma_stream_decoder(z, DECODER_MEMORY_MAX, LZMA_CONCATENATED) != LZMA_OK) {
    free(z);
    return NULL;
  }
  return z;
}

static int xz_run(void *st, codec_io *io) {
  lzma_stream *z = st;
  z->next_in = io->in;
  z->avail_in = io->in_len;
  z->next_out = io->out;
  z->avail_out = io->out_cap;
  lzma_ret r = lzma_code(z, io->eof ? LZMA_FINISH : LZMA_RUN);
  io->in_used = io->in_len - z->avail_in;
  io->out_made = io->out_cap - z->avail_out;
  /* where it stopped, should it fail: liblzma moves next_in on failure too */
  io->at = io->base + io->in_used;
  io->at_set = 1;
  switch (r) {
  case LZMA_OK: return 0;
  case LZMA_STREAM_END: io->end = 1; return 0;
  case LZMA_BUF_ERROR: /* no progress: at the end of input, a truncated stream */ return 0;
  case LZMA_MEM_ERROR: io->what = "out of memory"; return -1;
  case LZMA_MEMLIMIT_ERROR:
    io->limit = 1;
    io->what = "its dictionary needs more than the 128 MiB of memory csvreg gives a decoder "
               "(xz -9 needs 65 MiB); decompress it first (xz -dc FILE | csvreg ... -)";
    return -1;
  case LZMA_FORMAT_ERROR: io->what = "not xz data"; return -1;
  case LZMA_OPTIONS_ERROR: io->what = "unsupported xz options"; return -1;
  case LZMA_DATA_ERROR: io->what = "corrupt xz data"; return -1;
  default: io->what = "xz decoder error"; return -1;
  }
}

static int xz_reset(void *st) {
  lzma_stream *z = st;
  lzma_end(z);
  *z = (lzma_stream)LZMA_STREAM_INIT;
  return lzma_stream_decoder(z, DECODER_MEMORY_MAX, LZMA_CONCATENATED) == LZMA_OK ? 0 : -1;
}

static void xz_destroy(void *st) {
  if (st) {
    lzma_end(st);
    free(st);
  }
}

const codec csvreg__codec_xz = {"xz", xz_create, xz_run, xz_reset, xz_destroy, 0, 1};
