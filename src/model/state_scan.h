/*
 * state_scan.h - a state's or model's big arrays read without a JSON tree
 * (state_scan.c).
 */
#ifndef CSVREG_STATE_SCAN_H
#define CSVREG_STATE_SCAN_H

#include <stddef.h>

#include <jansson.h>

#include "json_write.h"

enum { JSCAN_TOP, JSCAN_STATE, JSCAN_FIT };
#define JSCAN_MAX 4 /* "r", or "mean" and "com"; and a model's "vcov" */

typedef struct csvreg__jscan {
  char *reduced; /* the text with the big arrays as "[]" (malloc'd) */
  size_t reduced_len;
  int model;
  size_t nbig;
  csvreg__jbig big[JSCAN_MAX]; /* JBIG_CRC: numbers (not vcov's), CRC of the canonical text */
  double *nums[JSCAN_MAX];     /* owned */
  int where[JSCAN_MAX];
  char name[JSCAN_MAX][8];
} csvreg__jscan;

/* Scans `text` (a state line's JSON, or a model file's when `model`): 1
 * with the big arrays read and o->reduced the rest for jansson; 0 when the
 * text must go to jansson whole (no big array, or anything unusual); -1
 * out of memory. */
int csvreg__jscan_text(const char *text, size_t len, int model, csvreg__jscan *o);

/* The same with the text read from `feed`, a block at a time: next()
 * hands the next block (valid until the next call) and its length, 0 at the
 * end of the text; the text is never held whole (model_read.c). */
typedef struct csvreg__jfeed {
  size_t (*next)(void *ctx, const char **block);
  void *ctx;
} csvreg__jfeed;
int csvreg__jscan_feed(const csvreg__jfeed *feed, int model, csvreg__jscan *o);

/* Frees the numbers once the state is built from them (the checksum needs
 * only the CRCs): a model's triangle is not held while it is solved. */
void csvreg__jscan_drop_numbers(csvreg__jscan *o);

/* Points each big array at its stand-in ("[]") in the tree jansson made of
 * o->reduced; -1 when one is not there. */
int csvreg__jscan_link(csvreg__jscan *o, json_t *root);

/* The tree of o->reduced (freed) with the big arrays linked; NULL, with o
 * freed, when jansson refuses it or a stand-in is missing: the caller
 * parses the whole text then, for jansson's message. */
json_t *csvreg__jscan_tree(csvreg__jscan *o);

/* Frees what o owns; zeroes it (safe twice). */
void csvreg__jscan_free(csvreg__jscan *o);

#endif
