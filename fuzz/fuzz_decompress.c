/*
 * fuzz_decompress.c - libFuzzer target for compressed input: arbitrary
 * bytes through the sniffer and the decompressing source, then the reader.
 * Byte 0 picks the decoder when the bytes show no magic (bits 0-1: gzip,
 * zstd, xz, bzip2), whether it runs on its own thread (bit 2), zlib for
 * gzip (bit 3) and the read size (bits 4-7); the rest is the archive. The
 * source must end or fail with CSVREG_E_IO (a damaged archive) or
 * CSVREG_E_LIMIT (a window or dictionary past the decoders' 128 MiB,
 * docs/limits.md), never crash, leak or run away
 * (output stops at 8 MiB: a small archive may inflate a lot).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"
#include "decompress.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const unsigned mode = data[0];
  data++;
  size--;
  int format = csvreg__sniff_compression(data, size);
  if (!format)
    format = CSVREG__COMP_GZIP + (int)(mode & 3);
  (void)csvreg__sniff_not_text(data, size);
  if (mode & 8)
    setenv("CSVREG_GZIP", "zlib", 1);
  else
    unsetenv("CSVREG_GZIP");
  csvreg_source *mem = NULL, *s = NULL;
  csvreg_error err;
  if (csvreg_source_new_mem(&mem, data, size, &err) ||
      csvreg__source_new_decompress(&s, mem, format, (mode & 4) != 0, &err))
    return 0;        /* a format built without its library */
  if (mode & 0x80) { /* through the reader, as a pass would */
    csvreg_reader_options ro;
    csvreg_reader_options_init(&ro);
    ro.buffer_bytes = ((mode >> 4) & 7) * 64 + 1;
    csvreg_reader *r = NULL;
    if (csvreg__reader_open_source(&r, s, "fuzz", &ro, NULL, &err) == CSVREG_OK) {
      csvreg_record rec;
      for (size_t k = 0; k < 100000 && csvreg_reader_next(r, &rec, &err) == CSVREG_OK; k++)
        ;
      csvreg_reader_free(r);
    }
    return 0;
  }
  static unsigned char buf[4096];
  size_t step = ((mode >> 4) & 7) * 512 + 1, total = 0, got = 0;
  csvreg_status st;
  while (!(st = csvreg_source_read(s, buf, step, &got, &err)) && got && total < (8u << 20))
    total += got;
  if (st && st != CSVREG_E_IO && st != CSVREG_E_LIMIT && st != CSVREG_E_NOMEM)
    abort();
  csvreg_source_free(s);
  return 0;
}
