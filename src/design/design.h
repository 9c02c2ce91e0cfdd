/*
 * design.h - from a chunk's input columns to the design block (terms, target,
 * weights). Kept apart from chunk.c so that new kinds of terms touch only
 * design.c.
 */
#ifndef CSVREG_DESIGN_H
#define CSVREG_DESIGN_H

#include <stddef.h>

#include "spec.h"

typedef struct design_block {
  const double *x; /* rows x nterms, column-major, leading dimension ld */
  size_t ld;
  const double *y;
  const double *w; /* NULL: unweighted */
} design_block;

/* Builds the design view of `vals` (input columns, column-major with leading
 * dimension `ld`). Plain column terms are views, not copies. */
void design_build(const csvreg_spec *s, const double *vals, size_t ld, design_block *out);

#endif
