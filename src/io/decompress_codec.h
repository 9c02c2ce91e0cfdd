/*
 * decompress_codec.h - the decoders behind the decompressing source
 * (decompress.c), one per library, all with the same streaming call: take
 * what input they can, write what output fits, say when a member, frame or
 * stream ended (the driver then resets for the next one, or ends cleanly at
 * the end of the input).
 */
#ifndef CSVREG_DECOMPRESS_CODEC_H
#define CSVREG_DECOMPRESS_CODEC_H

#include <stddef.h>

typedef struct codec_io {
  const unsigned char *in; /* input ... */
  size_t in_len, in_used;  /* ... its length, and how much run took */
  unsigned char *out;      /* output ... */
  size_t out_cap, out_made;
  int eof;          /* no input follows `in` */
  int end;          /* set by run: a member/frame/stream ended at in_used */
  const char *what; /* set by run on failure: why (a static string) */
  int limit;        /* set by run with a failure: the data is sound but needs more
                       memory than DECODER_MEMORY_MAX (a limit, not damage) */
  unsigned long long base; /* the compressed offset of in[0] (set by the driver) */
  /* Set by run with a failure when it knows where the fault is better than
   * "the end of the input it was given": the compressed offset (the start
   * of the part at fault, or where the decoder stopped) and, when `where`
   * is not empty, what that offset is ("the start of block 3 of the frame
   * at byte 0"); else the driver names the member `at` lies in. */
  unsigned long long at;
  int at_set;
  char where[96];
} codec_io;

/* What one decoder may allocate (its window or dictionary): as libzstd's
 * default window limit (2^27), and above xz -9's 64 MiB dictionary (65 MiB
 * to decode). An archive that needs more is refused with a message, before
 * the allocation, rather than risking the bounded-memory promise (an xz
 * header may ask for a 1.5 GiB dictionary). */
#define DECODER_MEMORY_MAX ((unsigned long long)128 << 20)

typedef struct codec {
  const char *name;
  void *(*create)(void);              /* NULL: out of memory */
  int (*run)(void *st, codec_io *io); /* 0, or -1: corrupt data (io->what) */
  int (*reset)(void *st);             /* for the next member; -1: out of memory */
  void (*destroy)(void *st);          /* NULL-safe */
  /* Zero bytes after the last member end the input cleanly, as the tool
   * reads them (tar and block devices pad with zeros): gzip, bzip2. xz
   * reads its own stream padding (multiples of 4 zero bytes), zstd none. */
  int zero_pad;
  /* One decoder reads every stream (xz's LZMA_CONCATENATED): the driver
   * cannot tell where a later stream starts, so messages name none. */
  int joined;
} codec;

extern const codec csvreg__codec_gzip_zlib;
#ifdef CSVREG_HAVE_ISAL
extern const codec csvreg__codec_gzip_isal;
#endif
#ifdef CSVREG_HAVE_ZSTD
extern const codec csvreg__codec_zstd;
#endif
#ifdef CSVREG_HAVE_LZMA
extern const codec csvreg__codec_xz;
#endif
#ifdef CSVREG_HAVE_BZIP2
extern const codec csvreg__codec_bzip2;
#endif

#endif
