/*
 * robust.h - the meat of the sandwich (robust.c), for the second pass's
 * sink in src/engine/sink.c.
 */
#ifndef CSVREG_ROBUST_H
#define CSVREG_ROBUST_H

#include "csvreg.h"

/* The meat sink's operations (csvreg_sink_type): `arg` is the const
 * csvreg_robust *, which outlives the sink. */
csvreg_status csvreg__meat_create(void **out, const csvreg_spec *spec, const void *arg,
                                  csvreg_error *err);
csvreg_status csvreg__meat_add_chunk(void *sink, const csvreg_chunk *c, csvreg_error *err);
csvreg_status csvreg__meat_merge(void *into, const void *from, csvreg_error *err);

/* ---- the objects, shared with meat_state.c (meat states: the sharded
 * second pass) ---- */

struct csvreg_robust {
  csvreg_vcov_type type;
  size_t max_clusters;
  size_t ndims;      /* cluster columns: 0 (HC), 1 or 2 */
  char *cl_names[2]; /* owned */
  const csvreg_fit *fit;
  size_t p, ic, nc, rank;
  size_t *kept;                   /* [rank] coefficient slots kept */
  double *b;                      /* [nc] estimates, 0 where aliased */
  double *shift;                  /* [p] the accumulator's shift of each term */
  double *u;                      /* [rank x rank] the shifted design's factor (HC2/HC3 always;
                                     the others when the meat is in shifted coordinates) */
  double *mshift; /* [rank] what the meat subtracts from each kept column: the shift where
                     the meat is in shifted coordinates (the intercept kept first, or none),
                     else 0 (the raw columns, as sandwich) */
  int shifted;    /* the meat in shifted coordinates: V from u, then back to the raw columns */
  char digest[CSVREG_DIGEST_HEX]; /* the model's: coefficients, kept slots, shift */
};

typedef struct cl_table {
  char *keys; /* the keys' bytes, one after another */
  size_t klen, kcap;
  size_t *koff, *kn; /* [cap] each cluster's key */
  double *s;         /* [cap x rank] each cluster's sum, one after another */
  size_t n, cap;
  size_t *hash; /* [hcap] cluster + 1, 0: empty */
  size_t hcap;
} cl_table;

/* The sum of the cluster keyed [p, p + n), added (zero) when new: NULL
 * with *st set when out of memory or past max clusters. */
double *csvreg__cl_find_add(cl_table *t, const char *p, size_t n, size_t rank, size_t max,
                            const char *what, csvreg_status *st, csvreg_error *err);
void csvreg__cl_free(cl_table *t);

struct csvreg_meat {
  const csvreg_robust *r;
  const csvreg_spec *spec;
  double *m; /* [rank x rank] HC: sum omega_i x_i x_i' (upper triangle) */
  csvreg_counts counts;
  uint64_t rows; /* N: the chunks' complete rows, weight 0 included */
  size_t ntab;   /* cluster: 1, or 3 (a, b, a and b) */
  cl_table tab[3];
  double *z, *u, *v; /* scratch: [cap x rank], [cap], [rank x LEV_BLOCK] */
  size_t cap;
  char *pair; /* scratch: the intersection's key */
  size_t pair_cap;
  csvreg_robust *own_r; /* a loaded meat state: its description (no fit), owned */
  char *cl_text;        /* a loaded meat state: its cluster columns "a[,b]" */
};

#endif
