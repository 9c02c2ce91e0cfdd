/*
 * accum_columns.c - changing the design columns of a live state: terms added
 * mid-stream (a factor level first seen after many rows: its column was 0 on
 * every row folded so far), terms reordered and removed (R's baseline and
 * level order are known only at the end of the data), and states whose term
 * sets differ merged by aligning the terms by name (shards and threads that
 * saw different levels).
 *
 * All of it is exact algebra on the small state, no data: the kernels hold
 * the numbers (kernel_ops.add_columns, .permute, .drop_column: accum_qr.c
 * and accum_normal.c explain each), this file the frame: names, the shift,
 * the sizes p, m, q. Every operation builds the new arrays first and swaps
 * them in last, so a failure (out of memory) leaves the state as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

/* ---- names ---- */

/* The term names sorted, for lookups by name in O(log p) (a factor may
 * bring thousands of terms). */
typedef struct name_entry {
  const char *name; /* borrowed from the state */
  size_t pos;
} name_entry;

typedef struct name_index {
  name_entry *e;
  size_t n;
} name_index;

static int cmp_entry(const void *x, const void *y) {
  const name_entry *a = x, *b = y;
  int c = strcmp(a->name, b->name);
  return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

/* Builds the index; *dup is set when two terms share a name. */
static csvreg_status index_build(name_index *ix, char *const *names, size_t n, int *dup,
                                 csvreg_error *err) {
  ix->n = n;
  ix->e = malloc((n ? n : 1) * sizeof *ix->e);
  if (!ix->e)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    ix->e[i] = (name_entry){names[i], i};
  qsort(ix->e, n, sizeof *ix->e, cmp_entry);
  *dup = 0;
  for (size_t i = 1; i < n; i++)
    if (strcmp(ix->e[i - 1].name, ix->e[i].name) == 0)
      *dup = 1;
  return CSVREG_OK;
}

/* The position of `name`, or (size_t)-1. */
static size_t index_find(const name_index *ix, const char *name) {
  size_t lo = 0, hi = ix->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(ix->e[mid].name, name);
    if (c == 0)
      return ix->e[mid].pos;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return (size_t)-1;
}

size_t csvreg__accum_term_index(const csvreg_accum *a, const char *name) {
  for (size_t j = 0; a && name && j < a->p; j++)
    if (strcmp(a->term_names[j], name) == 0)
      return j;
  return (size_t)-1;
}

/* ---- the frame ---- */

/* Moves b's contents into a and frees what a held (b is consumed). */
static void take(csvreg_accum *a, csvreg_accum *b) {
  csvreg_accum old = *a;
  *a = *b;
  a->levels = old.levels; /* the level lists stay with `a` */
  old.levels = b->levels;
  *b = old;
  csvreg_accum_free(b);
}

csvreg_status csvreg__accum_clone(csvreg_accum **out, const csvreg_accum *a, csvreg_error *err) {
  if (a && a->released)
    return csvreg__accum_check_live(a, err);
  *out = NULL;
  if (!a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "clone: missing accumulator");
  csvreg_accum *c;
  /* head12: a copy of the dense state alone would lose the head's rows */
  csvreg_status st = csvreg__accum_head_flush((csvreg_accum *)a, err);
  if (st)
    return st;
  st = csvreg__accum_new_named(&c, a->ops->solver, a->p, a->intercept,
                                             (const char *const *)a->term_names, a->target_name,
                                             a->ninputs, (const char *const *)a->input_names, err);
  if (st)
    return st;
  c->counts = a->counts;
  c->weighted = a->weighted;
  c->shifted = a->shifted;
  c->sum_w = a->sum_w;
  c->sum_log_w = a->sum_log_w;
  memcpy(c->na_by_input, a->na_by_input, a->ninputs * sizeof *a->na_by_input);
  memcpy(c->shift, a->shift, a->m * sizeof *a->shift);
  memcpy(c->k, a->k, a->ops->state_len(a->m, a->q) * sizeof *a->k);
  *out = c;
  return CSVREG_OK;
}

/* New arrays for a state of p2 terms: names (pointers only), shift, numbers
 * (zeroed). Freed by the caller on failure. */
typedef struct reshaped {
  char **names;
  double *shift;
  double *k;
  size_t p, m, q;
} reshaped;

static csvreg_status reshape_alloc(const csvreg_accum *a, size_t p2, reshaped *r,
                                   csvreg_error *err) {
  r->p = p2;
  r->m = p2 + a->nresp;
  r->q = r->m + (size_t)a->intercept;
  r->names = calloc(p2 ? p2 : 1, sizeof *r->names);
  r->shift = calloc(r->m, sizeof *r->shift);
  r->k = calloc(a->ops->state_len(r->m, r->q), sizeof *r->k);
  if (!r->names || !r->shift || !r->k) {
    free(r->names);
    free(r->shift);
    free(r->k);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for %zu terms", p2);
  }
  return CSVREG_OK;
}

/* Swaps the new arrays in (the names array owns the same strings, moved). */
static void reshape_commit(csvreg_accum *a, reshaped *r) {
  free(a->term_names);
  free(a->shift);
  if (a->k != r->k)
    free(a->k);
  a->term_names = r->names;
  a->shift = r->shift;
  a->k = r->k;
  a->p = r->p;
  a->m = r->m;
  a->q = r->q;
}

static void reshape_abort(reshaped *r) {
  free(r->names);
  free(r->shift);
  free(r->k);
}

static csvreg_status no_kernel(const csvreg_accum *a, csvreg_error *err) {
  return csvreg__err_set(err, CSVREG_E_USAGE,
                         "changing the columns of a state is not supported by the %s kernel",
                         a->ops->name);
}

/* ---- the operations ---- */

/* Appends k terms named names[k] (see linalg.h) whose values on the folded
 * rows are 0 (comb NULL) or the combinations comb (kernel_ops.add_columns)
 * with the shifts kshift[k]. */
static csvreg_status add_impl(csvreg_accum *a, size_t k, const char *const *names,
                              const double *comb, const double *kshift, csvreg_error *err) {
  if (a && a->released)
    return csvreg__accum_check_live(a, err);
  if (!a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "add_columns: missing accumulator");
  if (!a->ops->add_columns)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "adding columns to a state is not supported by the %s kernel",
                           a->ops->name);
  if (k == 0)
    return CSVREG_OK;
  if (k > CSVREG_MAX_TERMS || a->p + k > CSVREG_MAX_TERMS)
    return csvreg__err_set(err, CSVREG_E_LIMIT, "%zu + %zu terms: at most %d are supported", a->p,
                           k, CSVREG_MAX_TERMS);
  char **nn = calloc(k, sizeof *nn);
  if (!nn)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg_status st = CSVREG_OK;
  for (size_t i = 0; !st && i < k; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "x%zu", a->p + i + 1);
    const char *nm = names && names[i] ? names[i] : buf;
    if (csvreg__accum_term_index(a, nm) != (size_t)-1)
      st = csvreg__err_set(err, CSVREG_E_USAGE, "add_columns: the state already has a term '%s'",
                           nm);
    for (size_t l = 0; !st && l < i; l++)
      if (strcmp(nn[l], nm) == 0)
        st = csvreg__err_set(err, CSVREG_E_USAGE, "add_columns: term '%s' given twice", nm);
    if (!st && !(nn[i] = csvreg__xstrdup(nm)))
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  /* Names and shift first, then the numbers grown in place by realloc (for
   * large states mremap, no second copy): after that nothing can fail. */
  reshaped r = {0};
  r.p = a->p + k;
  r.m = r.p + a->nresp;
  r.q = r.m + (size_t)a->intercept;
  if (!st) {
    r.names = malloc(r.p * sizeof *r.names);
    r.shift = calloc(r.m, sizeof *r.shift);
    if (!r.names || !r.shift)
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for %zu terms", r.p);
  }
  if (!st) {
    double *grown = realloc(a->k, a->ops->state_len(r.m, r.q) * sizeof *grown);
    if (grown)
      a->k = grown;
    else
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for %zu terms", r.p);
  }
  if (st) {
    for (size_t i = 0; i < k; i++)
      free(nn[i]);
    free(nn);
    reshape_abort(&r);
    return st;
  }
  a->ops->add_columns(a, k, comb);
  r.k = a->k;
  memcpy(r.names, a->term_names, a->p * sizeof *r.names);
  memcpy(r.names + a->p, nn, k * sizeof *nn);
  free(nn);
  /* The new columns were 0 on every folded row: shift 0 keeps them 0 in
   * the shifted data the kernels hold. Before the first fold the shift is
   * not set yet (the first row sets every column's). */
  memcpy(r.shift, a->shift, a->p * sizeof *r.shift);
  if (kshift)
    memcpy(r.shift + a->p, kshift, k * sizeof *r.shift);
  memcpy(r.shift + a->p + k, a->shift + a->p, a->nresp * sizeof *r.shift);
  reshape_commit(a, &r);
  return CSVREG_OK;
}

csvreg_status csvreg__accum_add_columns(csvreg_accum *a, size_t k, const char *const *names,
                                        csvreg_error *err) {
  return add_impl(a, k, names, NULL, NULL, err);
}

/* The combination in the shifted coordinates the kernels hold: x_new =
 * c0 + sum c_j x_j is, with the shift K_new = c0 + sum c_j K_j (the value
 * the first folded row would have given it), x_new - K_new =
 * sum c_j (x_j - K_j): no intercept part. (K_new is rounded; for the 0/1
 * and +-1 of dummy columns it is exact.) Without an intercept nothing is
 * shifted and c0 must be 0. */
csvreg_status csvreg__accum_add_combination(csvreg_accum *a, const char *name, const double *c,
                                            csvreg_error *err) {
  if (!a || !c)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "add_combination: missing accumulator or coefficients");
  if (!a->intercept && c[0] != 0)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "add_combination: a constant part in a model without an intercept");
  const size_t ic = (size_t)a->intercept, t = ic + a->p;
  double *e = malloc(t * sizeof *e);
  if (!e)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  double kn = a->shifted && ic ? c[0] : 0;
  for (size_t j = 0; j < a->p; j++) {
    e[ic + j] = c[1 + j];
    if (a->shifted && ic)
      kn += c[1 + j] * a->shift[j];
  }
  if (ic)
    e[0] = 0;
  const char *nm[1] = {name};
  csvreg_status st = add_impl(a, 1, name ? nm : NULL, e, &kn, err);
  free(e);
  return st;
}

csvreg_status csvreg__accum_permute(csvreg_accum *a, const size_t *perm, csvreg_error *err) {
  if (a && a->released)
    return csvreg__accum_check_live(a, err);
  if (!a || (a->p && !perm))
    return csvreg__err_set(err, CSVREG_E_USAGE, "permute: missing accumulator or order");
  if (!a->ops->permute)
    return no_kernel(a, err);
  unsigned char *seen = calloc(a->p ? a->p : 1, 1);
  if (!seen)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  int ok = 1, identity = 1;
  for (size_t j = 0; ok && j < a->p; j++) {
    ok = perm[j] < a->p && !seen[perm[j]];
    if (ok)
      seen[perm[j]] = 1;
    identity &= perm[j] == j;
  }
  free(seen);
  if (!ok)
    return csvreg__err_set(err, CSVREG_E_USAGE, "permute: not a permutation of the %zu terms",
                           a->p);
  if (identity)
    return CSVREG_OK;
  reshaped r;
  csvreg_status st = reshape_alloc(a, a->p, &r, err);
  if (st)
    return st;
  if ((st = a->ops->permute(a, perm, r.k, err))) {
    reshape_abort(&r);
    return st;
  }
  for (size_t j = 0; j < a->p; j++) {
    r.names[j] = a->term_names[perm[j]];
    r.shift[j] = a->shift[perm[j]];
  }
  memcpy(r.shift + a->p, a->shift + a->p, a->nresp * sizeof *r.shift);
  reshape_commit(a, &r);
  return CSVREG_OK;
}

csvreg_status csvreg__accum_drop_column(csvreg_accum *a, size_t j, csvreg_error *err) {
  if (a && a->released)
    return csvreg__accum_check_live(a, err);
  if (!a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "drop_column: missing accumulator");
  if (!a->ops->drop_column)
    return no_kernel(a, err);
  if (j >= a->p)
    return csvreg__err_set(err, CSVREG_E_USAGE, "drop_column: term %zu of %zu", j + 1, a->p);
  if (a->p == 1 && !a->intercept)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "drop_column: a model with no terms and no intercept would remain");
  reshaped r;
  csvreg_status st = reshape_alloc(a, a->p - 1, &r, err);
  if (st)
    return st;
  if ((st = a->ops->drop_column(a, j, r.k, err))) {
    reshape_abort(&r);
    return st;
  }
  char *gone = a->term_names[j];
  for (size_t i = 0, o = 0; i < a->p; i++)
    if (i != j)
      r.names[o++] = a->term_names[i];
  for (size_t i = 0, o = 0; i < a->m; i++)
    if (i != j)
      r.shift[o++] = a->shift[i];
  reshape_commit(a, &r);
  free(gone);
  return CSVREG_OK;
}

/* Positions in `a` of names[0..n), each a term of `a` and none twice. */
static csvreg_status positions(const csvreg_accum *a, const char *const *names, size_t n,
                               size_t *pos, csvreg_error *err) {
  name_index ix;
  int dup;
  csvreg_status st = index_build(&ix, a->term_names, a->p, &dup, err);
  if (st)
    return st;
  unsigned char *seen = calloc(a->p ? a->p : 1, 1);
  if (!seen)
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  else if (dup)
    st = csvreg__err_set(err, CSVREG_E_USAGE, "the state has two terms of the same name");
  for (size_t i = 0; !st && i < n; i++) {
    pos[i] = names[i] ? index_find(&ix, names[i]) : (size_t)-1;
    if (pos[i] == (size_t)-1)
      st = csvreg__err_set(err, CSVREG_E_USAGE, "the state has no term '%s'",
                           names[i] ? names[i] : "(null)");
    else if (seen[pos[i]])
      st = csvreg__err_set(err, CSVREG_E_USAGE, "term '%s' named twice", names[i]);
    else
      seen[pos[i]] = 1;
  }
  free(seen);
  free(ix.e);
  return st;
}

/* The kernel's in-place select (kernel_ops.select): the names and shift
 * arrays are made first, so that nothing fails after the numbers move. */
static csvreg_status select_in_place(csvreg_accum *a, const size_t *perm, size_t n,
                                     csvreg_error *err) {
  char **names = malloc((n ? n : 1) * sizeof *names);
  double *shift = malloc((n + a->nresp) * sizeof *shift);
  csvreg_status st =
      !names || !shift ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory") : CSVREG_OK;
  if (!st)
    st = a->ops->select(a, perm, n, err);
  if (st) {
    free(names);
    free(shift);
    return st;
  }
  for (size_t j = 0; j < n; j++) {
    names[j] = a->term_names[perm[j]];
    shift[j] = a->shift[perm[j]];
  }
  memcpy(shift + n, a->shift + a->p, a->nresp * sizeof *shift);
  for (size_t j = n; j < a->p; j++)
    free(a->term_names[perm[j]]);
  free(a->term_names);
  free(a->shift);
  a->term_names = names;
  a->shift = shift;
  a->p = n;
  a->m = n + a->nresp;
  a->q = a->m + (size_t)a->intercept;
  return CSVREG_OK;
}

/* The terms not in pos[0..n) follow them in their present order, then the
 * state is permuted and the trailing ones dropped: a dropped term is last
 * among the terms, so its removal rotates only the response rows. */
csvreg_status csvreg__accum_select(csvreg_accum *a, const char *const *names, size_t n,
                                   csvreg_error *err) {
  if (a && a->released)
    return csvreg__accum_check_live(a, err);
  if (!a || (n && !names))
    return csvreg__err_set(err, CSVREG_E_USAGE, "select: missing accumulator or names");
  if (!a->ops->permute || !a->ops->drop_column)
    return no_kernel(a, err);
  if (n == 0 && !a->intercept)
    return csvreg__err_set(err, CSVREG_E_USAGE, "select: a model with no terms and no intercept");
  size_t *perm = malloc((a->p ? a->p : 1) * sizeof *perm);
  unsigned char *in = calloc(a->p ? a->p : 1, 1);
  csvreg_accum *c = NULL;
  csvreg_status st =
      !perm || !in ? csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory") : CSVREG_OK;
  if (!st && n > a->p)
    st = csvreg__err_set(err, CSVREG_E_USAGE, "select: %zu names for %zu terms", n, a->p);
  if (!st)
    st = positions(a, names, n, perm, err);
  if (!st) {
    size_t o = n;
    for (size_t i = 0; i < n; i++)
      in[perm[i]] = 1;
    for (size_t j = 0; j < a->p; j++)
      if (!in[j])
        perm[o++] = j;
    int identity = n == a->p;
    for (size_t j = 0; identity && j < n; j++)
      identity = perm[j] == j;
    if (identity)
      goto done;
    if (a->ops->select) {
      st = select_in_place(a, perm, n, err);
      goto done;
    }
    /* On a copy, so that a failure half way leaves `a` as it was. */
    st = csvreg__accum_clone(&c, a, err);
  }
  if (!st)
    st = csvreg__accum_permute(c, perm, err);
  while (!st && c->p > n)
    st = csvreg__accum_drop_column(c, c->p - 1, err);
  if (!st) {
    c->ws = a->ws; /* the workspace stays with `a` */
    a->ws = NULL;
    take(a, c);
  } else {
    csvreg_accum_free(c);
  }
done:
  free(perm);
  free(in);
  return st;
}

/* ---- merging states whose terms differ ---- */

/* The merged order: dst's terms in dst's order, then src's terms that dst
 * lacks in src's order. Memory: a copy of src (src is not changed) next to
 * dst, which grows in place. So merging shards one after another in a fixed
 * order gives one column order; another merge order may give another, and
 * the caller puts the terms in the model's order at the end (select). */
csvreg_status csvreg__accum_merge_aligned(csvreg_accum *dst, const csvreg_accum *src, accum_ws *ws,
                                          csvreg_error *err) {
  if (src && src->released)
    return csvreg__accum_check_live(src, err);
  if (dst && dst->released)
    return csvreg__accum_check_live(dst, err);
  if (!dst || !src)
    return csvreg__err_set(err, CSVREG_E_USAGE, "merge: missing accumulator");
  if (dst->ops != src->ops || dst->nresp != src->nresp || dst->intercept != src->intercept ||
      strcmp(dst->target_name, src->target_name) != 0)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "merge: the accumulators differ in solver, intercept or response");
  csvreg_status cst = csvreg__accum_counts_check(dst, src, err);
  /* head12: level heads join the dense states first (src: see
   * csvreg__accum_merge_ws) */
  if (!cst)
    cst = csvreg__accum_head_flush(dst, err);
  if (!cst)
    cst = csvreg__accum_head_flush((csvreg_accum *)src, err);
  if (cst)
    return cst;
  if (!dst->ops->add_columns || !dst->ops->permute)
    return no_kernel(dst, err);
  name_index ixd = {0}, ixs = {0};
  int dupd = 0, dups = 0;
  size_t *src_new = NULL, *dst_new = NULL, *perm = NULL;
  const char **names = NULL;
  csvreg_accum *s2 = NULL;
  size_t nsn = 0, ndn = 0; /* src's terms dst lacks, dst's terms src lacks */
  csvreg_status st = index_build(&ixd, dst->term_names, dst->p, &dupd, err);
  if (!st)
    st = index_build(&ixs, src->term_names, src->p, &dups, err);
  if (!st && (dupd || dups))
    st = csvreg__err_set(err, CSVREG_E_USAGE,
                         "merge: a state has two terms of the same name: they cannot be aligned");
  size_t pu = dst->p + src->p;
  if (!st) {
    src_new = malloc((src->p ? src->p : 1) * sizeof *src_new);
    dst_new = malloc((dst->p ? dst->p : 1) * sizeof *dst_new);
    perm = malloc((pu ? pu : 1) * sizeof *perm);
    names = malloc((pu ? pu : 1) * sizeof *names);
    if (!src_new || !dst_new || !perm || !names)
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  int same = !st && dst->p == src->p;
  for (size_t j = 0; !st && j < src->p; j++) {
    if (index_find(&ixd, src->term_names[j]) == (size_t)-1)
      src_new[nsn++] = j;
    same = same && strcmp(src->term_names[j], dst->term_names[j]) == 0;
  }
  for (size_t j = 0; !st && j < dst->p; j++)
    if (index_find(&ixs, dst->term_names[j]) == (size_t)-1)
      dst_new[ndn++] = j;
  if (!st && same) {
    /* The same terms in the same order: the plain merge. */
    st = csvreg__accum_merge_ws(dst, src, ws, err);
    goto done;
  }
  /* src's copy: dst's missing terms added (zeros: src never saw them), then
   * put in the merged order. */
  if (!st)
    st = csvreg__accum_clone(&s2, src, err);
  for (size_t i = 0; !st && i < ndn; i++)
    names[i] = dst->term_names[dst_new[i]];
  if (!st)
    st = csvreg__accum_add_columns(s2, ndn, names, err);
  size_t pm = dst->p + nsn;
  for (size_t j = 0; !st && j < pm; j++)
    names[j] = j < dst->p ? dst->term_names[j] : src->term_names[src_new[j - dst->p]];
  if (!st)
    st = positions(s2, names, pm, perm, err);
  if (!st)
    st = csvreg__accum_permute(s2, perm, err);
  /* dst gains src's new terms at its end, in place (no copy of dst: a
   * thread's state may be large). Should the merge itself fail after that,
   * dst keeps them as zero columns: the same rows, a valid state. */
  if (!st && nsn) {
    st = add_impl(dst, nsn, names + dst->p, NULL, NULL, err);
  }
  if (!st)
    st = csvreg__accum_merge_ws(dst, s2, ws, err);
done:
  csvreg_accum_free(s2);
  free(ixd.e);
  free(ixs.e);
  free(src_new);
  free(dst_new);
  free(perm);
  free(names);
  return st;
}
