/*
 * decompress_zstd.c - the zstd decoder (libzstd's streaming API). One
 * context reads frame after frame (skippable frames too): a frame ends
 * where ZSTD_decompressStream returns 0, which the driver needs only to
 * tell a clean end of input from a truncated frame.
 *
 * Where a failure is: ZSTD_decompressStream reports an error without
 * moving in.pos, so the offset of its input says nothing of the part at
 * fault (it was the end of the 64 KiB the call was given). The codec walks
 * the frame format (RFC 8878: magic, frame header, 3-byte block headers
 * with their sizes, the optional 4-byte checksum; a skippable frame's
 * length) beside the decoder and hands the decoder one part at a time, at
 * most to the part's end; a failure is then in the part just handed over,
 * and the message names its start: the frame header, block K of a frame,
 * or the frame's checksum. Walking costs a few calls per 128 KiB block.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "decompress_codec.h"

enum { W_MAGIC, W_FHD, W_HDR, W_BHDR, W_BODY, W_CSUM, W_SKIPLEN, W_SKIP, W_LOST };

typedef struct zst {
  ZSTD_DCtx *dc;
  int step;            /* W_*: the part the decoder is handed next */
  uint64_t need;       /* bytes left in that step */
  unsigned char hb[4]; /* the bytes of a field being read (magic, sizes) */
  size_t hn;
  int begun;                   /* some of the step was taken */
  int checksum, last;          /* the frame's checksum flag; the block is its last */
  uint64_t frame_at, block_at, step_at; /* compressed offsets of frame, block, step */
  unsigned long long blocks;  /* blocks of the frame begun */
} zst;

static void walk_frame(zst *z) {
  z->step = W_MAGIC;
  z->need = 4;
  z->hn = 0;
  z->begun = 0;
  z->blocks = 0;
}

static void *zstd_create(void) {
  zst *z = calloc(1, sizeof *z);
  if (z && !(z->dc = ZSTD_createDCtx())) {
    free(z);
    return NULL;
  }
  if (z)
    walk_frame(z);
  return z;
}

static uint32_t le32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The step after the current one, whose `need` bytes were all taken. */
static void walk_next(zst *z) {
  static const unsigned did[4] = {0, 1, 2, 4}, fcs[4] = {0, 2, 4, 8};
  z->hn = 0;
  z->begun = 0;
  switch (z->step) {
  case W_MAGIC: {
    uint32_t m = le32(z->hb);
    if (m == ZSTD_MAGICNUMBER) {
      z->step = W_FHD;
      z->need = 1;
    } else if ((m & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START) {
      z->step = W_SKIPLEN;
      z->need = 4;
    } else { /* the decoder refuses it; should it not, stop walking */
      z->step = W_LOST;
    }
    return;
  }
  case W_FHD: {
    unsigned f = z->hb[0], single = (f >> 5) & 1;
    z->checksum = (f >> 2) & 1;
    z->need = (single ? 0 : 1) + did[f & 3] + ((f >> 6) ? fcs[f >> 6] : single);
    z->step = z->need ? W_HDR : W_BHDR;
    if (!z->need)
      z->need = 3;
    return;
  }
  case W_HDR: z->step = W_BHDR; z->need = 3; return;
  case W_BHDR: {
    uint32_t h = (uint32_t)z->hb[0] | (uint32_t)z->hb[1] << 8 | (uint32_t)z->hb[2] << 16;
    unsigned type = (h >> 1) & 3;
    z->last = h & 1;
    z->need = type == 1 ? 1 : h >> 3; /* RLE: one byte; type 3 the decoder refuses */
    z->step = W_BODY;
    if (z->need)
      return;
  } /* fall through: an empty block */
  /* FALLTHROUGH */
  case W_BODY:
    if (!z->last) {
      z->step = W_BHDR;
      z->need = 3;
    } else if (z->checksum) {
      z->step = W_CSUM;
      z->need = 4;
    } else {
      walk_frame(z);
    }
    return;
  case W_CSUM: walk_frame(z); return;
  case W_SKIPLEN:
    z->need = le32(z->hb);
    z->step = W_SKIP;
    if (z->need)
      return;
    walk_frame(z);
    return;
  case W_SKIP: walk_frame(z); return;
  default: return;
  }
}

/* The step begins at compressed offset `at`. */
static void begin(zst *z, uint64_t at) {
  z->begun = 1;
  z->step_at = at;
  if (z->step == W_MAGIC)
    z->frame_at = at;
  if (z->step == W_BHDR) {
    z->block_at = at;
    z->blocks++;
  }
}

/* Walks `n` bytes the decoder took, at compressed offset `at`. */
static void walk(zst *z, const unsigned char *b, size_t n, uint64_t at) {
  while (n && z->step != W_LOST) {
    if (!z->begun)
      begin(z, at);
    size_t k = n < z->need ? n : (size_t)z->need;
    if (z->step != W_HDR && z->step != W_BODY && z->step != W_SKIP)
      for (size_t i = 0; i < k && z->hn < sizeof z->hb; i++)
        z->hb[z->hn++] = b[i];
    b += k;
    n -= k;
    at += k;
    z->need -= k;
    if (!z->need)
      walk_next(z);
  }
}

/* The part a failure is in, for the message: io->at and io->where. */
static void blame(zst *z, codec_io *io) {
  if (z->step == W_LOST)
    return; /* the driver's offset */
  if (!z->begun) /* the step began with this call */
    begin(z, io->base);
  io->at_set = 1;
  switch (z->step) {
  case W_MAGIC:
    io->at = z->frame_at;
    snprintf(io->where, sizeof io->where, "the start of a frame");
    break;
  case W_FHD:
  case W_HDR:
    io->at = z->frame_at;
    snprintf(io->where, sizeof io->where, "the header of the frame starting there");
    break;
  case W_BHDR:
  case W_BODY:
    io->at = z->block_at;
    snprintf(io->where, sizeof io->where, "the start of block %llu of the frame at byte %" PRIu64,
             z->blocks, z->frame_at);
    break;
  case W_CSUM:
    io->at = z->step_at;
    snprintf(io->where, sizeof io->where, "the checksum of the frame at byte %" PRIu64,
             z->frame_at);
    break;
  default: /* a skippable frame */
    io->at = z->frame_at;
    snprintf(io->where, sizeof io->where, "the skippable frame starting there");
    break;
  }
}

static int zstd_run(void *st, codec_io *io) {
  zst *z = st;
  size_t len = io->in_len;
  if (z->step != W_LOST && len > z->need)
    len = (size_t)z->need;
  ZSTD_inBuffer in = {io->in, len, 0};
  ZSTD_outBuffer out = {io->out, io->out_cap, 0};
  size_t r = ZSTD_decompressStream(z->dc, &out, &in);
  io->in_used = in.pos;
  io->out_made = out.pos;
  if (ZSTD_isError(r)) {
    blame(z, io);
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
  walk(z, io->in, in.pos, io->base);
  io->end = r == 0;
  if (io->end && z->step != W_MAGIC) /* the decoder knows best: follow it */
    walk_frame(z);
  return 0;
}

static int zstd_reset(void *st) {
  zst *z = st;
  walk_frame(z);
  return ZSTD_isError(ZSTD_DCtx_reset(z->dc, ZSTD_reset_session_only)) ? -1 : 0;
}

static void zstd_destroy(void *st) {
  zst *z = st;
  if (z) {
    ZSTD_freeDCtx(z->dc);
    free(z);
  }
}

const codec csvreg__codec_zstd = {"zstd", zstd_create, zstd_run, zstd_reset, zstd_destroy, 0, 0};
