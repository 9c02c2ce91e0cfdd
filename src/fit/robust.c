/*
 * robust.c - robust (sandwich) covariances of a solved fit, as R's sandwich
 * package computes them for lm: vcovHC(type = "HC0" .. "HC3") and
 * vcovCL(cluster = ~ a [+ b], type = "HC1") with its defaults (cadjust,
 * multi0 = FALSE). The meat needs each row's residual, so it needs the
 * coefficients first: a second pass over the input, whose sink (the meat
 * sink, src/engine/sink.c) folds chunks here.
 *
 * The formulas are sandwich's, written out for lm(weights = w) with N rows
 * in the model frame (rows of weight 0 included, as model.matrix has them),
 * n of them with weight > 0, k kept coefficients, C = (X'WX)^-1 over the
 * kept columns (the fit's unscaled covariance) and u_i = w_i e_i:
 *   bread = n C, meat = M / N, V = bread meat bread / N = (n/N)^2 C M C,
 *   HC0: M = sum u_i^2 x_i x_i'          HC1: HC0's M times N / (N - k)
 *   HC2: u_i^2 / (1 - h_i)               HC3: u_i^2 / (1 - h_i)^2
 *   h_i = w_i x_i' C x_i (hatvalues), from the kept triangular factor of
 *   the shifted design (|U^-T (1, x - K)|^2, as predict.c's intervals);
 *   cluster: M = (N - 1) / (N - k) sum_d sign_d G_d / (G_d - 1) sum_g s_g s_g',
 *   s_g = sum_{i in g} u_i x_i, one sum per cluster d (two-way: a, b with
 *   sign +1 and their intersection with -1: Cameron, Gelbach and Miller).
 * Clusters are keyed by their cell's text; the intersection by the exact
 * pair of texts (R pastes them with "_", which can merge distinct pairs).
 *
 * Coordinates. Written as above on the raw columns, V = C M C cancels: with
 * columns 1e6 from zero, C's and M's entries are ~1e12 apart and sandwich's
 * own HC1 standard errors keep 4-5 digits (R on the same data centred
 * agrees with itself to 15). So where the intercept is kept (or there is
 * none) the meat is summed on the shifted columns x - K (the accumulator's
 * shift: its first row), V_K = U^-1 U^-T M_K U^-1 U^-T from the kept factor
 * U of the shifted design, and V = L V_K L' with L the map from shifted to
 * raw coefficients (b0 = b0_K - sum_j K_j b_j; the slopes unchanged). An
 * aliased intercept, or a factor the normal equations cannot give, keeps
 * the raw formula.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <Rmath.h>

#include "fit_impl.h"
#include "internal.h"
#include "linalg.h"
#include "robust.h"
#include "spec.h"

static const char *const vcov_names[] = {"classical", "HC0", "HC1", "HC2", "HC3", "cluster"};

const char *csvreg_vcov_name(csvreg_vcov_type t) {
  return (unsigned)t < sizeof vcov_names / sizeof *vcov_names ? vcov_names[t] : "?";
}

csvreg_status csvreg_vcov_parse(const char *name, csvreg_vcov_type *out) {
  for (size_t i = 0; name && i < sizeof vcov_names / sizeof *vcov_names; i++)
    if (strcmp(name, vcov_names[i]) == 0) {
      *out = (csvreg_vcov_type)i;
      return CSVREG_OK;
    }
  return CSVREG_E_USAGE;
}

void csvreg_robust_options_init(csvreg_robust_options *o) {
  memset(o, 0, sizeof *o);
  o->type = CSVREG_VCOV_HC1;
  o->max_clusters = CSVREG_DEFAULT_MAX_CLUSTERS;
}

void csvreg_robust_free(csvreg_robust *r) {
  if (!r)
    return;
  free(r->cl_names[0]);
  free(r->cl_names[1]);
  free(r->kept);
  free(r->b);
  free(r->shift);
  free(r->u);
  free(r->mshift);
  free(r);
}

csvreg_status csvreg_robust_new(csvreg_robust **out, const csvreg_fit *fit, const csvreg_accum *a,
                                const csvreg_robust_options *o, csvreg_error *err) {
  if (!out || !fit || !a || !o)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_robust_new: NULL argument");
  *out = NULL;
  if (o->type <= CSVREG_VCOV_CLASSICAL || o->type > CSVREG_VCOV_CLUSTER)
    return csvreg__err_set(err, CSVREG_E_USAGE, "robust covariance: type HC0 to HC3 or cluster");
  if ((o->type == CSVREG_VCOV_CLUSTER) != (o->clusters && *o->clusters))
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           o->clusters && *o->clusters
                               ? "cluster columns are given only with the cluster covariance"
                               : "the cluster covariance needs one or two cluster columns");
  if (o->max_clusters < 1)
    return csvreg__err_set(err, CSVREG_E_USAGE, "max_clusters must be at least 1");
  const size_t p = csvreg__accum_nterms(a), ic = (size_t)csvreg__accum_intercept(a);
  if (fit->s.nterms != p + ic)
    return csvreg__err_set(err, CSVREG_E_USAGE, "robust covariance: the fit is not the state's");
  csvreg_robust *r = calloc(1, sizeof *r);
  if (!r)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  r->type = o->type;
  r->max_clusters = o->max_clusters;
  r->fit = fit;
  r->p = p;
  r->ic = ic;
  r->nc = p + ic;
  csvreg_status st = CSVREG_OK;
  if (o->type == CSVREG_VCOV_CLUSTER) {
    const char *s = o->clusters;
    while (*s && st == CSVREG_OK) {
      size_t len = strcspn(s, ",");
      if (!len || r->ndims == 2) {
        st = csvreg__err_set(err, CSVREG_E_USAGE,
                             "cluster columns: one or two names, comma-separated, got '%s'",
                             o->clusters);
        break;
      }
      if (!(r->cl_names[r->ndims] = malloc(len + 1))) {
        st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        break;
      }
      memcpy(r->cl_names[r->ndims], s, len);
      r->cl_names[r->ndims++][len] = '\0';
      s += len;
      if (*s == ',' && !*++s)
        st = csvreg__err_set(err, CSVREG_E_USAGE,
                             "cluster columns: one or two names, comma-separated, got '%s'",
                             o->clusters);
    }
    if (!st && r->ndims == 2 && strcmp(r->cl_names[0], r->cl_names[1]) == 0)
      st =
          csvreg__err_set(err, CSVREG_E_USAGE, "cluster columns: '%s' given twice", r->cl_names[0]);
  }
  r->kept = malloc(r->nc * sizeof *r->kept);
  r->b = calloc(r->nc, sizeof *r->b);
  r->shift = malloc((p ? p : 1) * sizeof *r->shift);
  if (!st && (!r->kept || !r->b || !r->shift))
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; !st && j < r->nc; j++)
    if (!fit->terms[j].aliased) {
      r->kept[r->rank++] = j;
      r->b[j] = fit->terms[j].estimate;
    }
  if (!st && p)
    memcpy(r->shift, csvreg__accum_shift(a), p * sizeof *r->shift);
  if (!st) {
    /* The model's identity for meat states (a sharded second pass): its
     * coefficients, the slots kept and the shift, bit for bit. */
    size_t nb = (r->nc + p) * sizeof(double) + r->rank * sizeof(uint64_t);
    unsigned char *buf = malloc(nb ? nb : 1);
    if (!buf) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    } else {
      memcpy(buf, r->b, r->nc * sizeof(double));
      if (p)
        memcpy(buf + r->nc * sizeof(double), r->shift, p * sizeof(double));
      for (size_t k = 0; k < r->rank; k++) {
        uint64_t v = r->kept[k];
        memcpy(buf + (r->nc + p) * sizeof(double) + k * sizeof v, &v, sizeof v);
      }
      csvreg_digest_hex(buf, nb, r->digest);
      free(buf);
    }
  }
  const int leverages = o->type == CSVREG_VCOV_HC2 || o->type == CSVREG_VCOV_HC3;
  /* shifted coordinates need the intercept kept first, or no intercept
   * (then the shift is 0 and the coordinates are the raw ones) */
  const int can_shift = !ic || (r->rank && r->kept[0] == 0);
  if (!st && r->rank && (leverages || can_shift)) {
    int info = 0;
    if (!(r->u = calloc(r->rank * r->rank, sizeof *r->u)) ||
        !(r->mshift = calloc(r->rank, sizeof *r->mshift)))
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    else
      st = csvreg__accum_design_factor(a, r->kept, r->rank, r->u, &info, err);
    if (!st && info && leverages)
      st = csvreg__err_set(err, CSVREG_E_NUMERIC,
                           "the design's factor is singular: no leverages for %s (try --solver qr)",
                           csvreg_vcov_name(o->type));
    r->shifted = !st && !info && can_shift;
    for (size_t k = 0; !st && r->shifted && k < r->rank; k++)
      r->mshift[k] = ic && r->kept[k] == 0 ? 0.0 : r->shift[r->kept[k] - ic];
  }
  if (st) {
    csvreg_robust_free(r);
    return st;
  }
  *out = r;
  return CSVREG_OK;
}

/* A spec made as the first pass's, bound to the fit's design columns: a
 * formula's categorical variables get the fit's levels, and the terms must
 * be the fit's (shared by the second passes: robust errors, refinement). */
csvreg_status csvreg__spec_bind_fit(csvreg_spec *s, const csvreg_fit *f, csvreg_error *err) {
  const size_t ic = f->s.intercept ? 1 : 0;
  csvreg_status st;
  if (s->nfactors && !s->fixed) {
    /* the fit's columns, not those the second pass's levels would give */
    if (f->nfactors != s->nfactors)
      return csvreg__err_set(err, CSVREG_E_USAGE, "second pass: the spec is not the fit's");
    if ((st = csvreg__spec_fix_levels(s, f->factor_nlev,
                                      (const char *const *const *)f->factor_levels, err)))
      return st;
  }
  if (s->nterms + ic != f->s.nterms)
    return csvreg__err_set(err, CSVREG_E_USAGE, "second pass: the spec is not the fit's");
  for (size_t j = 0; j < s->nterms; j++)
    if (strcmp(csvreg_spec_term_name(s, j), f->terms[ic + j].name) != 0)
      return csvreg__err_set(err, CSVREG_E_USAGE,
                             "second pass: the spec's term '%s' is not the fit's '%s'",
                             csvreg_spec_term_name(s, j), f->terms[ic + j].name);
  return CSVREG_OK;
}

csvreg_status csvreg_spec_second_pass(csvreg_spec *s, const csvreg_robust *r,
                                      const char *const *names, size_t ncolumns,
                                      csvreg_error *err) {
  if (!s || !r || (r->ndims && !names))
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spec_second_pass: NULL argument");
  csvreg_status st = csvreg__spec_bind_fit(s, r->fit, err);
  if (st)
    return st;
  size_t cols[2];
  for (size_t d = 0; d < r->ndims; d++) {
    size_t j = 0, count = 0;
    for (size_t i = 0; i < ncolumns; i++)
      if (strcmp(names[i], r->cl_names[d]) == 0 && count++ == 0)
        j = i;
    if (count > 1)
      return csvreg__err_set(err, CSVREG_E_COLUMN,
                             "cluster column '%s' is ambiguous: two columns share the name",
                             r->cl_names[d]);
    if (!count)
      return csvreg__spec_no_column(err, "cluster", r->cl_names[d], strlen(r->cl_names[d]), names,
                                    ncolumns);
    cols[d] = j;
  }
  return csvreg__spec_add_keys(s, cols, (const char *const *)r->cl_names, r->ndims, err);
}

/* ---- clusters: one sum of u_i x_i per key ---- */

void csvreg__cl_free(cl_table *t) {
  free(t->keys);
  free(t->koff);
  free(t->kn);
  free(t->s);
  free(t->hash);
}

/* FNV-1a */
static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 1099511628211u;
  return h;
}

static int cl_rehash(cl_table *t, size_t hc) {
  size_t *h = calloc(hc, sizeof *h);
  if (!h)
    return -1;
  for (size_t i = 0; i < t->n; i++) {
    size_t j = (size_t)hash_bytes(t->keys + t->koff[i], t->kn[i]) & (hc - 1);
    while (h[j])
      j = (j + 1) & (hc - 1);
    h[j] = i + 1;
  }
  free(t->hash);
  t->hash = h;
  t->hcap = hc;
  return 0;
}

/* The sum of the cluster keyed [p, p + n), added (zero) when new: NULL
 * with *st set when out of memory or past max clusters. */
double *csvreg__cl_find_add(cl_table *t, const char *p, size_t n, size_t rank, size_t max,
                            const char *what, csvreg_status *st, csvreg_error *err) {
  if (!t->hcap && cl_rehash(t, 64))
    goto nomem;
  size_t j = (size_t)hash_bytes(p, n) & (t->hcap - 1);
  while (t->hash[j]) {
    size_t i = t->hash[j] - 1;
    if (t->kn[i] == n && memcmp(t->keys + t->koff[i], p, n) == 0)
      return t->s + i * rank;
    j = (j + 1) & (t->hcap - 1);
  }
  if (t->n == max) {
    *st = csvreg__err_set(err, CSVREG_E_LIMIT,
                          "more than %zu clusters in %s (raise --max-clusters)", max, what);
    return NULL;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    size_t *ko = realloc(t->koff, cap * sizeof *ko);
    if (ko)
      t->koff = ko;
    size_t *kn = ko ? realloc(t->kn, cap * sizeof *kn) : NULL;
    if (kn)
      t->kn = kn;
    double *s = kn ? realloc(t->s, cap * (rank ? rank : 1) * sizeof *s) : NULL;
    if (!s)
      goto nomem;
    t->s = s;
    t->cap = cap;
  }
  if (n > t->kcap - t->klen) {
    size_t cap = t->kcap ? 2 * t->kcap : 4096;
    while (cap - t->klen < n)
      cap *= 2;
    char *k = realloc(t->keys, cap);
    if (!k)
      goto nomem;
    t->keys = k;
    t->kcap = cap;
  }
  if (n)
    memcpy(t->keys + t->klen, p, n);
  t->koff[t->n] = t->klen;
  t->kn[t->n] = n;
  t->klen += n;
  double *s = t->s + t->n * rank;
  memset(s, 0, rank * sizeof *s);
  t->hash[j] = ++t->n;
  if (2 * t->n > t->hcap && cl_rehash(t, 2 * t->hcap))
    goto nomem;
  return s;
nomem:
  *st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the clusters");
  return NULL;
}

/* ---- the meat sink ---- */

/* Rows per triangular solve for the leverages. */
#define LEV_BLOCK 512

void csvreg_meat_free(csvreg_meat *m) {
  if (!m)
    return;
  free(m->m);
  for (size_t t = 0; t < 3; t++)
    csvreg__cl_free(&m->tab[t]);
  free(m->z);
  free(m->u);
  free(m->v);
  free(m->pair);
  csvreg_robust_free(m->own_r);
  free(m->cl_text);
  free(m);
}

csvreg_status csvreg__meat_create(void **out, const csvreg_spec *spec, const void *arg,
                                  csvreg_error *err) {
  *out = NULL;
  const csvreg_robust *r = arg;
  if (!r || !spec)
    return csvreg__err_set(err, CSVREG_E_USAGE, "meat sink: no robust options");
  if (spec->nkeys != r->ndims || spec->nterms != r->p)
    return csvreg__err_set(
        err, CSVREG_E_USAGE,
        "meat sink: the spec is not the second pass's (csvreg_spec_second_pass)");
  csvreg_meat *m = calloc(1, sizeof *m);
  if (!m)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  m->r = r;
  m->spec = spec;
  m->ntab = r->ndims == 2 ? 3 : r->ndims;
  if (!(m->m = calloc(r->rank ? r->rank * r->rank : 1, sizeof *m->m))) {
    csvreg_meat_free(m);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  *out = m;
  return CSVREG_OK;
}

static const double *kept_col(const csvreg_robust *r, size_t k, const double *x, size_t ldx) {
  return r->ic && r->kept[k] == 0 ? NULL : x + (r->kept[k] - r->ic) * ldx;
}

csvreg_status csvreg__meat_add_chunk(void *sink, const csvreg_chunk *c, csvreg_error *err) {
  csvreg_meat *m = sink;
  const csvreg_robust *r = m->r;
  const size_t n = csvreg_chunk_rows(c), rank = r->rank;
  csvreg_counts_add(&m->counts, csvreg_chunk_counts(c));
  if (!n)
    return CSVREG_OK;
  if (n > m->cap) {
    free(m->z);
    free(m->u);
    m->z = malloc(n * (rank ? rank : 1) * sizeof *m->z);
    m->u = malloc(n * sizeof *m->u);
    m->cap = m->z && m->u ? n : 0;
    if (!m->cap)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for a block of %zu rows", n);
  }
  m->rows += n;
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  /* u_i = w_i e_i, e = y - X b (predict.lm's order of terms) */
  double *u = m->u;
  const double b0 = r->ic ? r->b[0] : 0.0;
  for (size_t i = 0; i < n; i++)
    u[i] = b0;
  for (size_t j = 0; j < r->p; j++) {
    double bj = r->b[r->ic + j];
    if (bj == 0.0)
      continue;
    const double *xj = x + j * ldx;
    for (size_t i = 0; i < n; i++)
      u[i] += bj * xj[i];
  }
  for (size_t i = 0; i < n; i++)
    u[i] = (y[i] - u[i]) * (w ? w[i] : 1.0);

  if (r->type != CSVREG_VCOV_CLUSTER) {
    /* z = sqrt(omega_i) x_i, as sandwich's meatHC, then M += z'z */
    double *om = m->z; /* omega in the first column's place, overwritten last */
    double *z = m->z;
    if (r->type == CSVREG_VCOV_HC2 || r->type == CSVREG_VCOV_HC3) {
      if (!m->v && !(m->v = malloc((rank ? rank : 1) * LEV_BLOCK * sizeof *m->v)))
        return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      double *v = m->v;
      for (size_t i0 = 0; i0 < n; i0 += LEV_BLOCK) {
        size_t nb = n - i0 < LEV_BLOCK ? n - i0 : LEV_BLOCK;
        for (size_t k = 0; k < rank; k++) {
          const double *xk = kept_col(r, k, x, ldx);
          double kj = xk ? r->shift[r->kept[k] - r->ic] : 0.0;
          for (size_t i = 0; i < nb; i++)
            v[i * rank + k] = xk ? xk[i0 + i] - kj : 1.0;
        }
        cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, (int)rank,
                    (int)nb, 1.0, r->u, (int)rank, v, (int)rank);
        for (size_t i = 0; i < nb; i++) {
          double h = 0;
          for (size_t k = 0; k < rank; k++)
            h += v[i * rank + k] * v[i * rank + k];
          h *= w ? w[i0 + i] : 1.0;
          double ui = u[i0 + i];
          om[i0 + i] =
              r->type == CSVREG_VCOV_HC2 ? ui * ui / (1.0 - h) : ui * ui / ((1.0 - h) * (1.0 - h));
        }
      }
    } else {
      for (size_t i = 0; i < n; i++)
        om[i] = u[i] * u[i];
    }
    for (size_t i = 0; i < n; i++)
      u[i] = sqrt(om[i]);
    for (size_t k = rank; k-- > 0;) {
      const double *xk = kept_col(r, k, x, ldx);
      const double kk = r->mshift ? r->mshift[k] : 0.0;
      double *zk = z + k * n;
      for (size_t i = 0; i < n; i++)
        zk[i] = xk ? u[i] * (xk[i] - kk) : u[i];
    }
    if (rank)
      cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)rank, (int)n, 1.0, z, (int)n, 1.0,
                  m->m, (int)rank);
    return CSVREG_OK;
  }

  /* clusters: s_g += u_i x_i */
  const uint64_t *rec = csvreg_chunk_record_numbers(c);
  const csvreg_spec *s = m->spec;
  csvreg_status st = CSVREG_OK;
  for (size_t i = 0; i < n; i++) {
    const char *kp[2];
    size_t kl[2];
    for (size_t d = 0; d < r->ndims; d++) {
      kp[d] = csvreg__chunk_key(c, d, i, &kl[d]);
      if (csvreg_na_match(s->na, kp[d], kl[d])) {
        size_t k = s->key_input[d];
        csvreg__err_at(err, NULL, 0, rec[i], s->input_cols[k] + 1, s->input_names[k]);
        return csvreg__err_set(err, CSVREG_E_VALUE,
                               "record %llu: missing value in the cluster column '%s' (as "
                               "sandwich::vcovCL, clusters cannot be NA)",
                               (unsigned long long)rec[i], r->cl_names[d]);
      }
    }
    double *sg[3] = {NULL, NULL, NULL};
    for (size_t d = 0; d < r->ndims; d++)
      if (!(sg[d] = csvreg__cl_find_add(&m->tab[d], kp[d], kl[d], rank, r->max_clusters,
                                        r->cl_names[d], &st, err)))
        return st;
    if (r->ndims == 2) {
      /* the exact pair: the first key's length as 8 little-endian bytes
       * (the same bytes on every platform: the key is written into meat
       * states, and those of one machine merge with another's), then both
       * keys */
      size_t need = 8 + kl[0] + kl[1];
      if (need > m->pair_cap) {
        char *t = realloc(m->pair, 2 * need);
        if (!t)
          return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        m->pair = t;
        m->pair_cap = 2 * need;
      }
      for (int b = 0; b < 8; b++)
        m->pair[b] = (char)(unsigned char)((uint64_t)kl[0] >> (8 * b));
      memcpy(m->pair + 8, kp[0], kl[0]);
      memcpy(m->pair + 8 + kl[0], kp[1], kl[1]);
      if (!(sg[2] = csvreg__cl_find_add(&m->tab[2], m->pair, need, rank, r->max_clusters,
                                        "the intersection of the cluster columns", &st, err)))
        return st;
    }
    for (size_t k = 0; k < rank; k++) {
      const double *xk = kept_col(r, k, x, ldx);
      double v = xk ? u[i] * (xk[i] - (r->mshift ? r->mshift[k] : 0.0)) : u[i];
      for (size_t t = 0; t < m->ntab; t++)
        sg[t][k] += v;
    }
  }
  return CSVREG_OK;
}

csvreg_status csvreg__meat_merge(void *into, const void *from, csvreg_error *err) {
  csvreg_meat *a = into;
  const csvreg_meat *b = from;
  const csvreg_robust *r = a->r;
  const size_t rank = r->rank;
  csvreg_counts_add(&a->counts, &b->counts);
  a->rows += b->rows;
  for (size_t i = 0; i < rank * rank; i++)
    a->m[i] += b->m[i];
  csvreg_status st = CSVREG_OK;
  for (size_t t = 0; t < a->ntab; t++) {
    const cl_table *bt = &b->tab[t];
    for (size_t g = 0; g < bt->n; g++) {
      double *s =
          csvreg__cl_find_add(&a->tab[t], bt->keys + bt->koff[g], bt->kn[g], rank, r->max_clusters,
                              t < r->ndims ? r->cl_names[t]
                                           : "the intersection of the cluster "
                                             "columns",
                              &st, err);
      if (!s)
        return st;
      for (size_t k = 0; k < rank; k++)
        s[k] += bt->s[g * rank + k];
    }
  }
  return CSVREG_OK;
}

/* ---- the sandwich ---- */

csvreg_status csvreg_fit_apply_meat(csvreg_fit *f, const csvreg_robust *r, const csvreg_meat *m,
                                    csvreg_error *err) {
  if (!f || !r || !m || m->r != r || r->fit != f)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_fit_apply_meat: not this fit's meat");
  const csvreg_counts *k1 = &f->s.counts, *k2 = &m->counts;
  if (k1->records != k2->records || k1->used != k2->used || k1->zero_weight != k2->zero_weight ||
      m->rows != k1->used + k1->zero_weight)
    return csvreg__err_set(err, CSVREG_E_VALUE,
                           "the second pass read other rows than the first (%llu records, %llu "
                           "used, against %llu and %llu): did the input change?",
                           (unsigned long long)k2->records, (unsigned long long)k2->used,
                           (unsigned long long)k1->records, (unsigned long long)k1->used);
  const size_t rank = r->rank, nc = r->nc;
  const double N = (double)m->rows, nu = (double)k1->used, kk = (double)rank;
  if (!(N > kk))
    return csvreg__err_set(err, CSVREG_E_NUMERIC,
                           "no residual degrees of freedom: no robust covariance");
  double *S = calloc(rank ? rank * rank : 1, sizeof *S);
  double *T = calloc(rank ? rank * rank : 1, sizeof *T);
  double *C = calloc(rank ? rank * rank : 1, sizeof *C);
  double *V = calloc(nc ? nc * nc : 1, sizeof *V);
  csvreg_status st = CSVREG_OK;
  if (!S || !T || !C || !V) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  if (r->type != CSVREG_VCOV_CLUSTER) {
    memcpy(S, m->m, rank * rank * sizeof *S);
    if (r->type == CSVREG_VCOV_HC1)
      for (size_t i = 0; i < rank * rank; i++)
        S[i] *= N / (N - kk);
  } else {
    for (size_t t = 0; t < m->ntab; t++) {
      double G = (double)m->tab[t].n;
      if (t < r->ndims && !(G > 1)) {
        st = csvreg__err_set(err, CSVREG_E_NUMERIC,
                             "one cluster in '%s': the cluster covariance needs two or more",
                             r->cl_names[t]);
        goto done;
      }
      /* the intersection of two one-cluster columns cannot occur here */
      double adj = (t == 2 ? -1.0 : 1.0) * G / (G - 1.0);
      if (rank && m->tab[t].n)
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)rank, (int)m->tab[t].n, adj,
                    m->tab[t].s, (int)rank, 1.0, S, (int)rank);
    }
    for (size_t i = 0; i < rank * rank; i++)
      S[i] *= (N - 1.0) / (N - kk);
  }
  for (size_t j = 0; j < rank; j++)
    for (size_t i = j + 1; i < rank; i++)
      S[j * rank + i] = S[i * rank + j];
  /* V = (n/N)^2 C S C */
  const double scale = (nu / N) * (nu / N);
  if (rank && r->shifted) {
    /* V_K = U^-1 (U^-T S U^-1) U^-T, then V = L V_K L' (the header) */
    const int k = (int)rank;
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, k, k, 1.0, r->u,
                k, S, k);
    cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, k, k, 1.0, r->u,
                k, S, k);
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, k, k, 1.0, r->u,
                k, S, k);
    cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, k, k, scale, r->u,
                k, S, k);
    if (r->ic) {
      /* row and column 0 of L V_K L': L's first row is (1, -K) */
      for (size_t j = 0; j < rank; j++) {
        double a = S[j * rank];
        for (size_t i = 1; i < rank; i++)
          a -= r->mshift[i] * S[j * rank + i];
        T[j] = a; /* (L V_K)[0][j] */
      }
      double a00 = T[0];
      for (size_t i = 1; i < rank; i++)
        a00 -= r->mshift[i] * T[i];
      for (size_t j = 1; j < rank; j++)
        S[j * rank] = S[j] = T[j];
      S[0] = a00;
    }
  } else if (rank) {
    for (size_t j = 0; j < rank; j++)
      for (size_t i = 0; i < rank; i++)
        C[j * rank + i] = f->xtx_inv[r->kept[j] * nc + r->kept[i]];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)rank, (int)rank, (int)rank, 1.0, C,
                (int)rank, S, (int)rank, 0.0, T, (int)rank);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)rank, (int)rank, (int)rank, scale,
                T, (int)rank, C, (int)rank, 0.0, S, (int)rank);
  }
  for (size_t i = 0; i < nc * nc; i++)
    V[i] = NAN;
  for (size_t j = 0; j < rank; j++)
    for (size_t i = 0; i < rank; i++) /* symmetric, as R's up to rounding */
      V[r->kept[j] * nc + r->kept[i]] = 0.5 * (S[j * rank + i] + S[i * rank + j]);
  /* the table, as lmtest::coeftest / coefci with the t distribution on the
   * residual degrees of freedom */
  const double df = f->s.df_residual;
  const double alpha = (1.0 - f->s.level) / 2.0;
  const double qlo = df > 0 ? qt(alpha, df, 1, 0) : NAN,
               qhi = df > 0 ? qt(1.0 - alpha, df, 1, 0) : NAN;
  for (size_t j = 0; j < nc; j++) {
    csvreg_term *t = &f->terms[j];
    if (t->aliased)
      continue;
    t->std_error = sqrt(V[j * nc + j]);
    t->t_value = t->estimate / t->std_error;
    t->p_value = df > 0 && !isnan(t->t_value) ? 2.0 * pt(fabs(t->t_value), df, 0, 0) : NAN;
    t->ci_lower = t->estimate + t->std_error * qlo;
    t->ci_upper = t->estimate + t->std_error * qhi;
  }
  /* The Wald F test of every kept coefficient but the intercept, as
   * lmtest::waldtest(fit, vcov = V) (test = "F"): b' V^-1 b / q on q and
   * the residual degrees of freedom. */
  size_t q = 0;
  for (size_t k = 0; k < rank; k++)
    q += !(r->ic && r->kept[k] == 0);
  f->s.f_statistic = f->s.f_p_value = NAN;
  f->s.f_df1 = (double)q;
  f->s.f_df2 = df;
  if (q > 0 && df > 0) {
    size_t o = rank - q; /* the intercept is the first kept slot when kept */
    for (size_t j = 0; j < q; j++) {
      T[j] = r->b[r->kept[o + j]];
      for (size_t i = 0; i < q; i++)
        C[j * q + i] = V[r->kept[o + j] * nc + r->kept[o + i]];
    }
    memcpy(T + q, T, q * sizeof *T);
    lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', (lapack_int)q, 1, C, (lapack_int)q,
                                    T + q, (lapack_int)q);
    if (info == 0) {
      double w = 0;
      for (size_t j = 0; j < q; j++)
        w += T[j] * T[q + j];
      f->s.f_statistic = w / (double)q;
      f->s.f_p_value = pf(f->s.f_statistic, (double)q, df, 0, 0);
    }
  }
  free(f->rcov);
  f->rcov = V;
  V = NULL;
  f->vcov_type = r->type;
  f->ncl = r->ndims;
  for (size_t d = 0; d < 2; d++) {
    free(f->cl_names[d]);
    f->cl_names[d] = NULL;
  }
  for (size_t d = 0; d < r->ndims; d++)
    if (!(f->cl_names[d] = csvreg__xstrdup(r->cl_names[d]))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto done;
    }
  for (size_t t = 0; t < 3; t++)
    f->cl_count[t] = t < m->ntab ? m->tab[t].n : 0;
done:
  free(S);
  free(T);
  free(C);
  free(V);
  return st;
}

csvreg_vcov_type csvreg_fit_vcov_type(const csvreg_fit *f) {
  return (csvreg_vcov_type)f->vcov_type;
}

size_t csvreg_fit_clusters(const csvreg_fit *f, size_t d, const char **name) {
  if (d >= 3 || (d < 2 && d >= f->ncl) || (d == 2 && f->ncl < 2))
    return 0;
  if (name)
    *name = d < 2 ? f->cl_names[d] : NULL;
  return (size_t)f->cl_count[d];
}
