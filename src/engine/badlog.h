/*
 * badlog.h - the rows --skip-bad drops in one piece of a threaded pass
 * (private to the library), kept until the piece's turn to be merged so the
 * caller's csvreg_bad_row_fn sees them in input order, as on one thread.
 * Beneath it, the spool: bytes kept in memory up to a cap, then in an
 * unnamed temporary file, which eval --every's windows use too.
 */
#ifndef CSVREG_BADLOG_H
#define CSVREG_BADLOG_H

#include "csvreg.h"

typedef struct badlog badlog;

/* A new, empty log; NULL when out of memory. csvreg__badlog_free(NULL) is
 * safe. */
badlog *csvreg__badlog_new(void);
void csvreg__badlog_free(badlog *b);

/* A csvreg_bad_row_fn (ctx: the badlog): copies the row. A failure (memory,
 * the spill file) is kept and returned by csvreg__badlog_replay. */
void csvreg__badlog_add(void *ctx, const csvreg_bad_row *r);

/* Adds `lines` to the line of every row replayed (a speculative piece
 * numbers its lines from its own start until its place is known). NULL:
 * nothing. */
void csvreg__badlog_shift(badlog *b, uint64_t lines);

/* fn(ctx, row) for every row added, in the order added; `source` names the
 * input in each row. Empties the log. */
csvreg_status csvreg__badlog_replay(badlog *b, const char *source, csvreg_bad_row_fn fn, void *ctx,
                                    csvreg_error *err);

/* ---- the spool (eval --every, issue 16) ----
 * An append-only byte store read back at any offset: its first bytes in an
 * unnamed temporary file (in $TMPDIR, else /tmp; O_TMPFILE where the file
 * system has it, else created and unlinked at once with the terminating
 * signals held), the last ones (at most `mem` bytes, then moved to the file)
 * in memory. A file without a name is gone when the process ends, however
 * it ends: nothing is left behind by an error or a signal. Not thread-safe:
 * one owner at a time. */
typedef struct csvreg__spool csvreg__spool;
#define CSVREG__SPOOL_MEM ((size_t)256 << 10)

/* NULL when out of memory; mem 0: CSVREG__SPOOL_MEM. _free(NULL) is safe. */
csvreg__spool *csvreg__spool_new(size_t mem);
void csvreg__spool_free(csvreg__spool *s);
/* Appends n bytes: CSVREG_OK, CSVREG_E_NOMEM or CSVREG_E_IO (the file); a
 * failure sticks (later writes fail the same way). */
csvreg_status csvreg__spool_write(csvreg__spool *s, const void *p, size_t n);
/* Bytes written so far. */
uint64_t csvreg__spool_size(const csvreg__spool *s);
/* The last bytes written, those still in memory (after the file's
 * csvreg__spool_file_bytes): *len of them at the pointer, valid until the
 * next write or clear. */
const unsigned char *csvreg__spool_tail(const csvreg__spool *s, size_t *len);
/* n bytes at `off` into p: CSVREG_OK, or CSVREG_E_IO (past the end, a read
 * failure). */
csvreg_status csvreg__spool_read(csvreg__spool *s, uint64_t off, void *p, size_t n);
/* Appends src's bytes [off, off + n) to dst. */
csvreg_status csvreg__spool_copy(csvreg__spool *dst, csvreg__spool *src, uint64_t off, uint64_t n);
/* Empties it (the file is closed). */
void csvreg__spool_clear(csvreg__spool *s);
/* 1 when some of it is in the temporary file (tests, --stats). */
int csvreg__spool_spilled(const csvreg__spool *s);
/* Bytes in the temporary file (the public csvreg_spool_spilled). */
uint64_t csvreg__spool_file_bytes(const csvreg__spool *s);
/* ---- end spool ---- */

#endif
