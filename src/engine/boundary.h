/*
 * boundary.h - the one record-boundary (quote-parity) scanner, used by byte
 * ranges, stream blocks and threads (private to the library).
 *
 * The reader (RFC 4180 through libcsv, plus a fast path) ends a line at LF,
 * CRLF or a lone CR, quoted or not, and a record at such a line end outside
 * quotes; empty lines are skipped. Outside quotes means after an even number
 * of '"' bytes since the input's start: every quote opens or closes a quoted
 * field or is half of a doubled quote. (A stray quote inside an unquoted
 * field, which libcsv reads as a literal, is not RFC 4180 and throws the
 * parity off; no scanner that does not parse can tell.)
 *
 * A record boundary is the input's start, or the position right after an LF
 * outside quotes, or right after a CR outside quotes that is not followed by
 * an LF (so a CRLF is never split: a reader that starts at a boundary counts
 * lines as a reader of the whole input does). Cutting an input at any
 * boundaries and reading the pieces gives the records of the whole input, in
 * order, with the same lines when each piece's reader starts from the lines
 * and records the scanner counted before it (reader_origin).
 *
 * A UTF-8 BOM at the input's start is three ordinary bytes here: it belongs
 * to the first record, so boundaries and counts agree with the reader, except
 * that a BOM followed at once by a line end counts as a record of its own
 * (the reader sees an empty line), which shifts record numbers by one.
 */
#ifndef CSVREG_BOUNDARY_H
#define CSVREG_BOUNDARY_H

#include <stddef.h>
#include <stdint.h>

#include "csvreg.h"

#define BOUNDARY_NONE SIZE_MAX

/* The scanner's state at a position of the input. */
typedef struct boundary_state {
  unsigned odd;     /* quotes before the position, mod 2 */
  int cr;           /* the byte before is a CR (an LF now ends no new line) */
  int at_end;       /* the byte before is a line end outside quotes (or the
                       position is the input's start): a record may start */
  uint64_t lines;   /* line ends before: CR, and LF not right after a CR */
  uint64_t records; /* records started before (the header counts) */
} boundary_state;

/* The state at the input's start. */
void csvreg__boundary_init(boundary_state *s);

/* Advances `s` over b[0, n), counting lines and records, 64 bytes at a time
 * by bit masks. */
void csvreg__boundary_count(boundary_state *s, const unsigned char *b, size_t n);

/* Advances `s` over b[0, n) as csvreg__boundary_count does, except that
 * lines and records are not counted (they keep their values): only the
 * quote parity and the last byte, which is all that finding the next
 * boundary needs. A quote count (one mask, not three, no prefix XOR): byte
 * ranges whose line numbers are needed only when an error message names one
 * skim their bytes and count lines again only then (pass.c). Returns the
 * number of quotes in b[0, n) (a lone range's start is proven by their
 * absence: pass.c, lone_proven). */
uint64_t csvreg__boundary_skim(boundary_state *s, const unsigned char *b, size_t n);

/* With `s` the state at b[0]: the first boundary p in [0, n] at which at
 * least `min_records` records have started, `s` advanced to p. With eof set,
 * b[n] is the input's end, which is a boundary. Returns BOUNDARY_NONE when
 * there is none yet (s advanced over all n bytes; call again with the bytes
 * that follow). */
size_t csvreg__boundary_next(boundary_state *s, const unsigned char *b, size_t n, int eof,
                             uint64_t min_records);

/* With `s` the state at b[0] (not advanced): the last boundary p in (0, n]
 * that these bytes alone make certain (after an LF, or after a CR followed
 * by a byte other than LF; a CR at b[n-1] may be half a CRLF), or 0 when
 * there is none. */
size_t csvreg__boundary_last(const boundary_state *s, const unsigned char *b, size_t n);

/* csvreg__boundary_last's cut, found from the end: the quotes of b[0, n)
 * are counted once (the parity at n), then the bytes are walked back from
 * the end to the first line end outside quotes, which is most often within
 * the block's last record. csvreg__boundary_last's memchr from quote to
 * quote and its memrchr for a CR read every byte of a block that has none:
 * the stream reader's thread did that, and counted lines and records, for
 * every 1 MiB block (pass.c, read_blocks). *at := the state at the cut
 * without lines and records (those of `s`, not advanced), when there is a
 * cut. */
size_t csvreg__boundary_last_skim(const boundary_state *s, const unsigned char *b, size_t n,
                                  boundary_state *at);

/* A regular file scanned from its start with pread (a 128 KiB buffer), for
 * byte ranges: the position only moves forward. */
typedef struct boundary_file {
  int fd;
  uint64_t size;
  uint64_t pos; /* the state is the state at pos */
  boundary_state st;
  unsigned char *buf;
  uint64_t buf_pos;
  size_t buf_len;
  int skim; /* set after open: seek skims (csvreg__boundary_skim) */
} boundary_file;

csvreg_status csvreg__boundary_file_open(boundary_file *f, int fd, uint64_t size,
                                         csvreg_error *err);
void csvreg__boundary_file_close(boundary_file *f);

/* Moves to the first boundary at or after `at` (at most the file's size) at
 * which at least `min_records` records have started. */
csvreg_status csvreg__boundary_file_seek(boundary_file *f, uint64_t at, uint64_t min_records,
                                         csvreg_error *err);

/* The bytes of a regular file from a boundary `off` (with `st` the scanner's
 * state there) to the first boundary at or after `cut` (or the file's end),
 * read with pread: a byte range's piece whose end is found while it is read,
 * so a piece costs no scan of its own bytes before it is parsed. Every byte
 * handed out is counted (in the reader's buffer, warm in cache); past `cut`
 * the reads stop at the boundary. `off` then is the end reached. */
typedef struct boundary_range {
  int fd;
  uint64_t off, cut, size;
  boundary_state st;
  int done;
  int skim; /* the bytes before the cut are skimmed, not counted: st's lines
               and records mean nothing at the end */
  uint64_t quotes; /* with skim: the quotes skimmed (the bytes before the cut) */
} boundary_range;

/* *found := whether a '"' is in the bytes [from, end) of a regular file of
 * `size` bytes (pread in 128 KiB blocks, stopping at the first). */
csvreg_status csvreg__boundary_file_has_quote(int fd, uint64_t size, uint64_t from, uint64_t end,
                                              int *found, csvreg_error *err);

/* A csvreg_source_read_fn over a boundary_range. */
csvreg_status csvreg__boundary_range_read(void *ctx, void *buf, size_t want, size_t *got,
                                          csvreg_error *err);

#endif
