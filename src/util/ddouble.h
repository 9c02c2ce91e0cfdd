/*
 * ddouble.h - double-double arithmetic (Dekker, Knuth), private to the
 * library: a value is hi + lo with |lo| <= ulp(hi) / 2, about 32 digits.
 * The refinement passes (src/fit/refine*.c) and the exact reading of
 * decimal cells (src/parse/numparse_dd.c) share these; each step is exact
 * under round-to-nearest, and fma() is exact with or without FMA hardware,
 * so every build gives the same bits.
 */
#ifndef CSVREG_DDOUBLE_H
#define CSVREG_DDOUBLE_H

#include <math.h>

typedef struct dd {
  double hi, lo;
} dd;

/* a + b exactly, for any a and b. */
static inline dd dd_two_sum(double a, double b) {
  double s = a + b, bb = s - a;
  return (dd){s, (a - (s - bb)) + (b - bb)};
}

/* a + b exactly, when |a| >= |b| (or a is 0). */
static inline dd dd_quick_two_sum(double a, double b) {
  double s = a + b;
  return (dd){s, b - (s - a)};
}

static inline dd dd_add(dd a, dd b) {
  dd s = dd_two_sum(a.hi, b.hi);
  return dd_quick_two_sum(s.hi, s.lo + a.lo + b.lo);
}

static inline dd dd_mul(dd a, dd b) {
  double p = a.hi * b.hi;
  return dd_quick_two_sum(p, fma(a.hi, b.hi, -p) + (a.hi * b.lo + a.lo * b.hi));
}

#endif
