/*
 * design.c - maps input columns to model terms. Every term today is one
 * numeric input column, and spec.c orders the inputs as [terms..., target,
 * weights], so the design is a view of the chunk with no copy. Terms that
 * compute (interactions, powers, dummy columns) will write into a buffer here.
 */
#include "design.h"

void design_build(const csvreg_spec *s, const double *vals, size_t ld, design_block *out) {
  out->x = vals;
  out->ld = ld;
  out->y = s->target_input < 0 ? NULL : vals + (size_t)s->target_input * ld;
  out->w = s->weights_input < 0 ? NULL : vals + (size_t)s->weights_input * ld;
}
