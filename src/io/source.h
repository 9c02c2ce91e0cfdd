/*
 * source.h - where the reader's bytes come from (private to the library).
 *
 * A csvreg_source is a "read the next bytes" interface: a descriptor (a file
 * or a pipe), memory, or a byte range of a regular file read with pread
 * (several ranges of one file may share a descriptor, one per thread). Any
 * source can be given bytes to yield first (csvreg_source_prepend): what the
 * pass engine read ahead to find the header goes back in front of the rest
 * of a stream. A compressed source (decompress.h: gzip, zstd, xz, bzip2)
 * is one more kind behind the same read function: a custom source, whose
 * reads and end belong to another module.
 */
#ifndef CSVREG_SOURCE_H
#define CSVREG_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "csvreg.h"

typedef struct csvreg_source csvreg_source;

/* Reads descriptor `fd` from its current offset; closes it on free when
 * `own` is set. A regular file is read up to its size now (bytes appended
 * later are not read); one that ends before it fails with
 * CSVREG__CHANGED_MSG (csvreg__source_changed). */
csvreg_status csvreg_source_new_fd(csvreg_source **out, int fd, int own, csvreg_error *err);

/* Yields `len` bytes of memory, which must outlive the source. */
csvreg_status csvreg_source_new_mem(csvreg_source **out, const void *data, size_t len,
                                    csvreg_error *err);

/* Yields bytes [start, end) of the regular file open as `fd` (borrowed: it
 * must outlive the source; its offset is not used), read with pread. A file
 * that shrank fails (csvreg__source_changed). No mmap: mapping costs more per call than a read
 * on small ranges, and a file truncated under a mapping raises SIGBUS. */
csvreg_status csvreg_source_new_file_range(csvreg_source **out, int fd, uint64_t start,
                                           uint64_t end, csvreg_error *err);

/* Makes the source yield `data` (malloc'd, `len` bytes; owned by the source
 * from here on, also on failure) before what it had left. */
csvreg_status csvreg_source_prepend(csvreg_source *s, void *data, size_t len, csvreg_error *err);

/* Reads up to `want` bytes into `buf`; *got = 0 means the end. CSVREG_E_IO
 * with the message "read failed: ..." when the descriptor fails. */
csvreg_status csvreg_source_read(csvreg_source *s, void *buf, size_t want, size_t *got,
                                 csvreg_error *err);

/* Size in bytes when known (a regular file, memory, a range), else -1. */
int64_t csvreg_source_size(const csvreg_source *s);

/* A source whose bytes come from another module (decompress.c): `read`
 * on `ctx` yields them (*got = 0: the end), `free_ctx` (may be NULL) ends
 * `ctx` when the source is freed, also here on failure. Size unknown. */
typedef csvreg_status (*csvreg__source_fn)(void *ctx, void *buf, size_t want, size_t *got,
                                           csvreg_error *err);
csvreg_status csvreg__source_new_custom(csvreg_source **out, csvreg__source_fn read,
                                        void (*free_ctx)(void *), void *ctx, csvreg_error *err);

/* The `ctx` of a custom source made with `read`, else NULL. */
void *csvreg__source_custom_ctx(const csvreg_source *s, csvreg__source_fn read);

void csvreg_source_free(csvreg_source *s);

/* Issue 17: an input file truncated while it is read. Every read path
 * reads a regular file up to its size at open (growth is not read); a read
 * that ends before that size, or a size below it at the end, is this error:
 * CSVREG_E_IO "file changed while reading (N bytes at open, M now)", never
 * a short input folded as if whole (nor SIGBUS: nothing is mapped). */
#define CSVREG__CHANGED_MSG "file changed while reading"
csvreg_status csvreg__source_changed(int fd, uint64_t at_open, csvreg_error *err);
/* 1 when `fd` is a regular file now smaller than `at_open` bytes. */
int csvreg__source_shrank(int fd, uint64_t at_open);
/* 1 when `e` is that error (readers leave its line out: it is no line's). */
int csvreg__error_is_change(const csvreg_error *e);

/* Every byte the source yields from here on (bytes given to prepend
 * included) is also fed to `d` (borrowed; NULL: none), in order: the pass
 * engine's digest of a stream (issue 15). */
struct csvreg__digest;
void csvreg__source_set_digest(csvreg_source *s, struct csvreg__digest *d);

/* Where a reader over a source starts in the whole input: the lines and
 * records (the header counts as one) before its first byte, and whether it
 * is the input's start (where a UTF-8 BOM is skipped). Messages and record
 * numbers of a reader that starts mid-input then match a reader of the
 * whole input. */
typedef struct reader_origin {
  uint64_t lines, records;
  int mid_input;
} reader_origin;

/* Opens a reader over `src` (taken over: freed with the reader, or here on
 * failure), as csvreg_reader_open does; `origin` may be NULL (the start). */
csvreg_status csvreg__reader_open_source(csvreg_reader **out, csvreg_source *src, const char *name,
                                         const csvreg_reader_options *o,
                                         const reader_origin *origin, csvreg_error *err);

/* Opens a reader over the `len` bytes at `buf`, read in place (no copy into
 * a buffer of its own): `buf` has `cap` >= len + 64 writable bytes, stays
 * the caller's (not freed) and must outlive the reader, which writes only
 * the 64 bytes after `len` (zeros). For a stream's blocks. */
csvreg_status csvreg__reader_open_block(csvreg_reader **out, char *buf, size_t len, size_t cap,
                                        const char *name, const csvreg_reader_options *o,
                                        const reader_origin *origin, csvreg_error *err);

/* The lines and records `r` has read to, counted as its origin counts them
 * (those before its start included): after the last record of a block, the
 * origin of the block after it. */
void csvreg__reader_counted(const csvreg_reader *r, reader_origin *at);

#endif
