/*
 * design.h - from a chunk's input columns to the design block (terms, target,
 * weights). Kept apart from chunk.c so that new kinds of terms touch only
 * design.c.
 */
#ifndef CSVREG_DESIGN_H
#define CSVREG_DESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

typedef struct design_block {
  const double *x; /* rows x nterms, column-major, leading dimension ld */
  size_t ld;
  const double *y;
  const double *w; /* NULL: unweighted */
} design_block;

/* Buffers of a computed design (a spec with s->formula), `cap` rows each. */
typedef struct design_work {
  size_t cap;
  double *x;          /* cap x nterms: the design */
  double *vars;       /* cap x nvars: each numeric variable's values */
  double *scratch;    /* the expression programs' stack */
  unsigned char *bad; /* [cap] 1: a non-finite value on the row */
  size_t xcols;       /* columns x holds */
} design_work;

/* The live columns of a spec with categorical variables (chunk.c): column
 * j of the design is d->cols[order[j]] (order NULL: cols[j]); lev[f * cap +
 * i] the level index of factor slot f on row i. Column index `index` of a
 * factor means level index - base: base 1 for live columns (index 0 is the
 * sentinel, csvreg__spec_live_columns), 0 for a model's fixed levels. */
typedef struct design_live {
  const struct csvreg__dcols *d;
  const size_t *order;
  size_t ncols;
  const uint32_t *lev;
  size_t base;
  const size_t *xpos; /* NULL: column j is block column j; else xpos[j], (size_t)-1 left out */
  size_t nx;          /* block columns made */
} design_live;

/* Makes work->x hold `ncols` columns of work->cap rows (doubling as it
 * grows; given back when `ncols` is under a quarter of the room). */
csvreg_status csvreg__design_work_fit(design_work *work, size_t ncols, csvreg_error *err);

/* Builds the design view of `vals` (input columns, column-major with leading
 * dimension `ld`). Plain column terms are views, not copies; a computed
 * spec's design is `work`'s (filled by csvreg__design_compute). */
void csvreg__design_build(const csvreg_spec *s, const double *vals, size_t ld,
                          const design_work *work, design_block *out);

/* Allocates `work` for a computed spec (zeroed first; nothing for others). */
csvreg_status csvreg__design_work_init(design_work *work, const csvreg_spec *s, size_t cap,
                                       csvreg_error *err);
void csvreg__design_work_free(design_work *work);

/* Computes a computed spec's design over rows [0, n) of vals into `work`
 * with R's arithmetic; returns how many rows hold a non-finite value in a
 * term or the response (flagged in work->bad). */
size_t csvreg__design_compute(const csvreg_spec *s, const design_live *live, const double *vals,
                              size_t ld, size_t n, design_work *work);

/* For row i flagged bad: the spec input to blame (the first input of the
 * first non-finite variable) and a message such as "log(x) is -Inf where
 * x = 0". */
size_t csvreg__design_explain(const csvreg_spec *s, const double *vals, size_t ld,
                              const design_work *work, size_t i, char *msg, size_t size);

#endif
