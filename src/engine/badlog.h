/*
 * badlog.h - the rows --skip-bad drops in one piece of a threaded pass
 * (private to the library), kept until the piece's turn to be merged so the
 * caller's csvreg_bad_row_fn sees them in input order, as on one thread.
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

#endif
