/*
 * json_write.h - JSON text of a jansson tree whose big numeric arrays are not
 * in the tree (json_write.c): model files and state lines written straight
 * to a FILE, a buffer or a CRC-32, byte for byte as json_dumps wrote them.
 */
#ifndef CSVREG_JSON_WRITE_H
#define CSVREG_JSON_WRITE_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "csvreg.h"

/* Where the text goes: a FILE, a growing malloc'd buffer, or only a CRC-32
 * and a length (the checksum of a state or model is over text nobody
 * keeps). */
enum { JSINK_FILE, JSINK_BUF, JSINK_CRC };

typedef struct csvreg__jsink {
  int mode;
  FILE *fp;        /* JSINK_FILE */
  char *buf;       /* JSINK_BUF: malloc'd, NUL-terminated at the end */
  size_t len, cap; /* JSINK_BUF */
  unsigned long crc;
  uint64_t total; /* bytes written */
  int failed;     /* 1: out of memory; 2: the FILE failed (errno in err_no) */
  int err_no;
  size_t used; /* staged bytes */
  char stage[1 << 15];
} csvreg__jsink;

void csvreg__jsink_init(csvreg__jsink *s, int mode, FILE *fp);
/* Hands the staged bytes on; returns s->failed. */
int csvreg__jsink_flush(csvreg__jsink *s);
void csvreg__jsink_put(csvreg__jsink *s, const char *p, size_t n);

/* A big array stands in the tree as an empty array (`node`) and is written
 * from here:
 * - JBIG_HEX: v[0, n) as hex-float strings;
 * - JBIG_UPPER: the upper triangle of the n x n column-major v, column by
 *   column, as hex-float strings (a state's "r" and "com");
 * - JBIG_VCOV: n rows of n reals, v[j * n + i] (times `scale` when scaled),
 *   null when not finite (a fit's "vcov");
 * - JBIG_CRC: an array read from a file (the loaders), known only by the
 *   CRC-32 and length of its compact text: it can be checksummed, not
 *   written. */
/* JBIG_EACH (mem12d): an array of n elements made one at a time by
 * each(ctx, i), written and freed before the next (a fit's terms: about
 * 1 KB of tree nodes each); each returns NULL when out of memory. */
enum { JBIG_HEX, JBIG_UPPER, JBIG_VCOV, JBIG_CRC, JBIG_EACH };

typedef struct csvreg__jbig {
  const json_t *node;
  int kind;
  size_t n;
  const double *v;
  double scale;
  int scaled;
  unsigned long crc; /* JBIG_CRC */
  uint64_t len;      /* JBIG_CRC */
  int bad;           /* JBIG_CRC: an element that was not a hex float */
  json_t *(*each)(const void *ctx, size_t i); /* JBIG_EACH */
  const void *ctx;                            /* JBIG_EACH */
} csvreg__jbig;

/* Writes `v` as json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(17))
 * (pretty) or json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) (the canonical
 * text of checksums) would, the arrays of `bigs` included. Returns s->failed
 * (an allocation failed, or the FILE did). */
int csvreg__jwrite(csvreg__jsink *s, const json_t *v, int pretty, const csvreg__jbig *bigs,
                   size_t nbigs);

/* fit_json.c: the fit report of a model file (csvreg_fit_to_json's object)
 * with the covariance described in *vcov, an empty array in the tree; NULL
 * when out of memory. */
json_t *csvreg__fit_model_json(const csvreg_fit *f, csvreg__jbig *vcov);

/* A double as jansson writes a real ("%.17g", ".0" added to an integral
 * value, the exponent without '+' or leading zeros); buf holds 40 bytes. */
size_t csvreg__jreal(double v, char *buf);

#endif
