/*
 * decompress.h - compressed input (private to the library): recognising an
 * input by its first bytes, and a source (source.h) that yields the
 * decompressed bytes of another source.
 *
 * Formats are recognised by magic bytes, never by name: gzip (one or more
 * members, bgzip's blocks are members), zstd (one or more frames, skippable
 * frames too), xz (concatenated streams) and bzip2 (concatenated streams).
 * gzip goes through ISA-L when it was found at build time (5x zlib's speed
 * here), else zlib; CSVREG_GZIP=zlib picks zlib anyway (tests, measuring).
 * A format whose library was missing at build time is CSVREG_E_IO "built
 * without zstd support" when met.
 *
 * The decompressing source runs the decoder on a thread of its own, which
 * fills a small ring of blocks ahead of the reader (bounded memory: the
 * ring, one input buffer and the decoder's window); CSVREG_DECOMPRESS_THREAD=0
 * decodes on the reading thread instead (measuring, fuzzing).
 */
#ifndef CSVREG_DECOMPRESS_H
#define CSVREG_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "csvreg.h"
#include "source.h"

enum {
  CSVREG__COMP_NONE = 0,
  CSVREG__COMP_GZIP,
  CSVREG__COMP_ZSTD,
  CSVREG__COMP_XZ,
  CSVREG__COMP_BZIP2
};

/* Bytes csvreg__sniff_* want to see (fewer at the end of a short input):
 * enough for a tar header's "ustar" at offset 257. */
#define CSVREG__SNIFF_BYTES ((size_t)512)

/* The compression format the first `n` bytes of an input show, or
 * CSVREG__COMP_NONE. */
int csvreg__sniff_compression(const unsigned char *b, size_t n);

/* "gzip", "zstd", "xz", "bzip2" (NULL for CSVREG__COMP_NONE). */
const char *csvreg__compression_name(int format);

/* When the first `n` bytes of an input are not CSV text, what they look
 * like ("a zip archive", "binary data (NUL bytes)", ...); else NULL. */
const char *csvreg__sniff_not_text(const unsigned char *b, size_t n);

/* Wraps `inner` (taken over: freed with the new source, or here on
 * failure) in a source that yields its decompressed bytes. `threaded`: the
 * decoder runs on a thread of its own (unless CSVREG_DECOMPRESS_THREAD=0).
 * A corrupt or truncated archive is CSVREG_E_IO from csvreg_source_read,
 * naming the format and the compressed byte offset, after every byte
 * decoded before it. */
csvreg_status csvreg__source_new_decompress(csvreg_source **out, csvreg_source *inner, int format,
                                            int threaded, csvreg_error *err);

/* Compressed bytes the decoder of `s` (a decompressing source) has taken
 * in so far; the whole archive once the source has ended. */
uint64_t csvreg__source_compressed_bytes(const csvreg_source *s);

/* `st`, a data error met in the decompressed bytes of `s`, or the archive's
 * own error when the archive is at fault: a flipped byte in deflate (or
 * bzip2, zstd) data decodes to wrong text before the member's check value
 * says so, so the rest is decoded and dropped to its end. A corrupt or
 * truncated archive then replaces `st` (CSVREG_E_IO naming the compressed
 * byte offset, at the line the text reached); otherwise `st` and `err`
 * stand. Costs one decode of the rest, on the error path only. */
csvreg_status csvreg__source_blame_archive(csvreg_source *s, csvreg_status st, csvreg_error *err);

/* csvreg__source_blame_archive for a failure met on the header, before
 * the pass (csvreg_pass_blame_input): a column not found in garbled names
 * (CSVREG_E_COLUMN) too. `s` may be NULL (not compressed): `st`. */
csvreg_status csvreg__source_blame_header(csvreg_source *s, csvreg_status st, csvreg_error *err);

/* The input behind descriptor `fd` as a source, decompressed when its first
 * bytes say so (`mode` CSVREG_DECOMPRESS_AUTO; CSVREG_DECOMPRESS_NONE reads
 * the bytes as they are and checks nothing). `at_start` (a regular file the
 * caller opened): the first bytes are read with pread and the descriptor's
 * offset is kept; else they are read and given back (csvreg_source_prepend).
 * *out is NULL when the input is an uncompressed regular file read with
 * pread (`at_start`): the caller reads `fd` as before. `own`: the source
 * closes fd. *format gets the compression found (CSVREG__COMP_*).
 * CSVREG_E_CSV "not a CSV text file (looks like ...)" for an archive of a
 * kind not read, or binary data, compressed or not. */
csvreg_status csvreg__source_open_input(csvreg_source **out, int fd, int own, int at_start,
                                        int mode, int *format, csvreg_error *err);

#endif
