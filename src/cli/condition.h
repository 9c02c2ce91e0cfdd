/*
 * condition.h - `eval --fail-if EXPR` (condition.c): a condition on the
 * metrics, parsed before any data is read and tested on the results.
 */
#ifndef CSVREG_CONDITION_H
#define CSVREG_CONDITION_H

#include <stddef.h>

#include "csvreg.h"

typedef struct condition condition;

/* Parses `text`; NULL on a syntax error, with a message and the offset of
 * the fault in text (for a caret), or on running out of memory (*where =
 * SIZE_MAX). */
condition *condition_parse(const char *text, char *msg, size_t msgsize, size_t *where);
void condition_free(condition *c);

/* 1 when the condition holds for m (a comparison with an NA metric is false). */
int condition_holds(const condition *c, const csvreg_metrics *m);

/* The metric names a condition may use, comma-separated, for messages and help. */
extern const char condition_metric_names[];

#endif
