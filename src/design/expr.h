/*
 * expr.h - numeric expressions of a formula (`log(wage)`, `I(experience^2)`,
 * the x of `poly(x, 3, raw = TRUE)`) compiled to a small postfix program and
 * evaluated a column at a time over a chunk, with R's arithmetic.
 */
#ifndef CSVREG_EXPR_H
#define CSVREG_EXPR_H

#include <stddef.h>

#include "csvreg.h"

typedef enum csvreg__expr_op {
  CSVREG__EXPR_INPUT, /* push input slot `arg` */
  CSVREG__EXPR_CONST, /* push `value` */
  CSVREG__EXPR_NEG,
  CSVREG__EXPR_ADD,
  CSVREG__EXPR_SUB,
  CSVREG__EXPR_MUL,
  CSVREG__EXPR_DIV,
  CSVREG__EXPR_POW,  /* R's x ^ y: x * x when y == 2, else R_pow */
  CSVREG__EXPR_LOG,  /* one argument: R_log */
  CSVREG__EXPR_LOGB, /* log(x, base): R's logbase */
  CSVREG__EXPR_LOG2,
  CSVREG__EXPR_LOG10,
  CSVREG__EXPR_LOG1P,
  CSVREG__EXPR_EXP,
  CSVREG__EXPR_SQRT,
  CSVREG__EXPR_ABS
} csvreg__expr_op;

typedef struct csvreg__expr_ins {
  csvreg__expr_op op;
  size_t arg;   /* INPUT: the input slot */
  double value; /* CONST */
} csvreg__expr_ins;

/* A program. Owned by whoever made it with csvreg__expr_new. */
typedef struct csvreg__expr {
  size_t n, cap;
  csvreg__expr_ins *ins;
  size_t depth;   /* largest stack the program needs */
  size_t height;  /* stack height after the last instruction (1 when complete) */
  size_t ninputs; /* 1 + the largest input slot read (0: none) */
} csvreg__expr;

csvreg_status csvreg__expr_new(csvreg__expr **out, csvreg_error *err);
void csvreg__expr_free(csvreg__expr *e);
csvreg_status csvreg__expr_copy(csvreg__expr **out, const csvreg__expr *e, csvreg_error *err);

/* Appends one instruction (CSVREG_E_NOMEM, or CSVREG_E_INTERNAL when an
 * operator finds too few operands on the stack). */
csvreg_status csvreg__expr_push(csvreg__expr *e, csvreg__expr_op op, size_t arg, double value,
                                csvreg_error *err);

/* Doubles of scratch csvreg__expr_eval needs for `n` rows: (depth - 1) * n. */
size_t csvreg__expr_scratch(const csvreg__expr *e, size_t n);

/* Evaluates `e` over `n` rows. Input slot k is the column
 * vals + map[k] * ld (map NULL: slot k is column k). Writes `out[n]`; scratch
 * holds csvreg__expr_scratch(e, n) doubles. Never fails: non-finite results
 * are left in `out` for csvreg__expr_flag_bad. */
void csvreg__expr_eval(const csvreg__expr *e, size_t n, const double *vals, size_t ld,
                       const size_t *map, double *out, double *scratch);

/* Sets bad[i] = 1 for every non-finite out[i] (others untouched, so several
 * variables can share one flag array); returns how many were non-finite. */
size_t csvreg__expr_flag_bad(const double *out, size_t n, unsigned char *bad);

/* R's `x ^ y` (arithmetic.c: R_POW and R_pow; pow on this platform). */
double csvreg__r_pow(double x, double y);

#endif
