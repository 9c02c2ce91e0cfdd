/*
 * eval_windows.h - eval --every's windows in bounded memory (eval_windows.c),
 * private to the library: the evaluation sink (sink.c) feeds its rows here
 * and merges its pieces' windows in input order.
 */
#ifndef CSVREG_EVAL_WINDOWS_H
#define CSVREG_EVAL_WINDOWS_H

#include "csvreg.h"

typedef struct csvreg__eval_windows csvreg__eval_windows;

/* Windows of `every` records, window k holding records first_record +
 * k * every onwards. _free(NULL) is safe. */
csvreg_status csvreg__eval_windows_new(csvreg__eval_windows **out, uint64_t every,
                                       uint64_t first_record, csvreg_error *err);
void csvreg__eval_windows_free(csvreg__eval_windows *w);
/* n scored rows of a chunk, in record order (rec: their record numbers; wt
 * NULL: weight 1), after every row added before. */
csvreg_status csvreg__eval_windows_add(csvreg__eval_windows *w, size_t n, const uint64_t *rec,
                                       const double *y, const double *yhat, const double *wt,
                                       csvreg_error *err);
/* dst := dst followed by src, whose rows all come after dst's (the next
 * piece). src is left empty. */
csvreg_status csvreg__eval_windows_merge(csvreg__eval_windows *dst, csvreg__eval_windows *src,
                                         csvreg_error *err);
/* Window k's metrics (n 0 and NaN when no row of it was scored). The first
 * call ends the adding. */
csvreg_status csvreg__eval_windows_get(csvreg__eval_windows *w, uint64_t k, csvreg_metrics *m,
                                       csvreg_error *err);
/* 1 when some windows went to the temporary file (tests). */
int csvreg__eval_windows_spilled(const csvreg__eval_windows *w);

#endif
