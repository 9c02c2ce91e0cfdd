/*
 * refine.c - iterative refinement of a solved fit by further passes over
 * its rows (issue 13, fit --refine): the corrected semi-normal equations of
 * Björck. The one-pass solve leaves the triangular factor U of the shifted,
 * weighted design A = [1 | X - K] (U'U = A'WA, the kept columns only). A
 * refinement pass recomputes every residual r = y - X b of the current
 * coefficients and sums g = A'W r; the correction solves U'U d = g, and
 * b += d. The error contracts by about u times the (scaled) condition number
 * per step, so one or two steps reach the exact least-squares solution of
 * the values as read, as far as the accuracy of g allows: which is why g is
 * computed without rounding where it matters. Each product is split exactly
 * (fma: TwoProduct), residuals and sums are double-double (TwoSum), and the
 * iterate b itself is double-double, so that each coefficient is rounded
 * once at the end (a coefficient rounded to double and then corrected
 * against the others would drag them by its rounding: an intercept far from
 * the data by K times a slope's half ulp).
 *
 * The sums are unshifted (x as read; shifting in the pass would round): the
 * shifted g_j = sum w r (x_j - K_j) is G_j - K_j g_0, formed in double-double
 * after the pass. A step is kept only while the correction's size ||U d||
 * (the change of the fitted values; its square is the RSS it removes)
 * shrinks and the RSS measured at the new coefficients is not larger than
 * at the old (a diverging step, e.g. from the normal equations' factor on a
 * design too ill-conditioned for it, is undone).
 *
 * The RSS is recomputed in each pass from the double-double residuals, and
 * after the last step lowered by ||U^-T g||^2 (what that step removes), so
 * near-perfect fits keep their standard errors' digits; the sinks of
 * several threads or ranges merge in input order (src/engine), so a given
 * thread count always gives the same result.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit_impl.h"
#include "ddouble.h"
#include "internal.h"
#include "linalg.h"
#include "refine.h"
#include "spec.h"

/* ---- double-double arithmetic (Dekker, Knuth; exact with round-to-nearest) ---- */

static dd dd_neg(dd a) { return (dd){-a.hi, -a.lo}; }

/* a * (b.hi + b.lo): the leading product exact (fma), the small one rounded. */
static dd dd_mul_d(dd b, double a) {
  double p = a * b.hi;
  return dd_quick_two_sum(p, fma(a, b.hi, -p) + a * b.lo);
}

/* ---- the refinement ---- */

void csvreg_refine_free(csvreg_refine *r) {
  if (!r)
    return;
  free(r->kept);
  free(r->b);
  free(r->b_prev);
  free(r->d);
  free(r->shift);
  free(r->u);
  free(r);
}

csvreg_status csvreg_refine_new(csvreg_refine **out, const csvreg_fit *fit, const csvreg_accum *a,
                                size_t max_steps, csvreg_error *err) {
  if (!out || !fit || !a)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_refine_new: NULL argument");
  *out = NULL;
  if (max_steps < 1 || max_steps > CSVREG_MAX_REFINE_STEPS)
    return csvreg__err_set(err, CSVREG_E_USAGE, "refinement: 1 to %d steps, not %zu",
                           CSVREG_MAX_REFINE_STEPS, max_steps);
  const size_t p = csvreg__accum_nterms(a), ic = (size_t)csvreg__accum_intercept(a);
  if (fit->s.nterms != p + ic)
    return csvreg__err_set(err, CSVREG_E_USAGE, "refinement: the fit is not the state's");
  if (fit->rcov)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "refinement: refine before applying a robust covariance");
  csvreg_status st = csvreg__blas_ready(err);
  if (st)
    return st;
  csvreg_refine *r = calloc(1, sizeof *r);
  if (!r)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  r->fit = fit;
  r->p = p;
  r->ic = ic;
  r->nc = p + ic;
  r->max_steps = max_steps;
  r->rss_prev = NAN;
  accum_totals tot;
  csvreg__accum_totals_get(a, &tot);
  r->used = tot.counts.used;
  r->sum_log_w = tot.sum_log_w;
  r->kept = malloc(r->nc * sizeof *r->kept);
  r->b = calloc(2 * r->nc, sizeof *r->b);
  r->b_prev = calloc(2 * r->nc, sizeof *r->b_prev);
  r->d = calloc(2 * r->nc, sizeof *r->d);
  r->shift = calloc(p ? p : 1, sizeof *r->shift);
  if (!r->kept || !r->b || !r->b_prev || !r->d || !r->shift) {
    csvreg_refine_free(r);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  for (size_t j = 0; j < r->nc; j++)
    if (!fit->terms[j].aliased) {
      r->kept[r->rank++] = j;
      r->b[2 * j] = fit->terms[j].estimate;
    }
  if (p)
    memcpy(r->shift, csvreg__accum_shift(a), p * sizeof *r->shift);
  if (ic && (!r->rank || r->kept[0] != 0))
    st = csvreg__err_set(err, CSVREG_E_NUMERIC, "refinement: the intercept is aliased");
  int info = 0;
  if (!st && !(r->u = calloc(r->rank ? r->rank * r->rank : 1, sizeof *r->u)))
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  if (!st)
    st = csvreg__accum_design_factor(a, r->kept, r->rank, r->u, &info, err);
  if (!st && info)
    st = csvreg__err_set(err, CSVREG_E_NUMERIC,
                         "the design's factor is singular: the fit cannot be refined");
  if (st) {
    csvreg_refine_free(r);
    return st;
  }
  *out = r;
  return CSVREG_OK;
}

csvreg_status csvreg_spec_refine_pass(csvreg_spec *s, const csvreg_refine *r, csvreg_error *err) {
  if (!s || !r)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_spec_refine_pass: NULL argument");
  csvreg_status st = csvreg__spec_bind_fit(s, r->fit, err);
  return st ? st : csvreg__refine_cells_keys(s, err);
}

int csvreg_refine_more(const csvreg_refine *r) { return r && !r->done; }

/* ---- the sums of one pass (the refine sink) ---- */

struct csvreg_refine_sums {
  const csvreg_refine *r;
  double *g; /* [2 * (1 + p)] sum w r, then sum w r x_j: double-double pairs */
  dd rss;    /* sum w r^2 */
  uint64_t used, zero_weight;
  csvreg__refine_cells *cells; /* the sink's: cells read as written */
  int as_written;              /* 1: this sink and those merged into it read them all so */
  size_t cap;                  /* rows of the scratch below */
  double *eh, *el, *weh, *wel; /* [cap] residuals and weighted residuals */
};

void csvreg_refine_sums_free(csvreg_refine_sums *s) {
  if (!s)
    return;
  free(s->g);
  csvreg__refine_cells_free(s->cells);
  free(s->eh);
  free(s->el);
  free(s->weh);
  free(s->wel);
  free(s);
}

csvreg_status csvreg_refine_sums_new(csvreg_refine_sums **out, const csvreg_refine *r,
                                     csvreg_error *err) {
  if (!out || !r)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_refine_sums_new: NULL argument");
  csvreg_refine_sums *s = calloc(1, sizeof *s);
  if (s)
    s->g = calloc(2 * (1 + r->p), sizeof *s->g);
  if (!s || !s->g) {
    csvreg_refine_sums_free(s);
    *out = NULL;
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  s->r = r;
  *out = s;
  return CSVREG_OK;
}

static csvreg_status sums_grow(csvreg_refine_sums *s, size_t n, csvreg_error *err) {
  if (n <= s->cap)
    return CSVREG_OK;
  double **b[] = {&s->eh, &s->el, &s->weh, &s->wel};
  for (size_t k = 0; k < 4; k++) {
    double *p = realloc(*b[k], n * sizeof *p);
    if (!p)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    *b[k] = p;
  }
  s->cap = n;
  return CSVREG_OK;
}

/* Four running compensated sums (Ogita, Rump and Oishi's Sum2/Dot2: the
 * rounding of each addition, exact by TwoSum, and each product's, exact by
 * fma, collected in a second sum), so that a block's sum is as if taken in
 * twice the precision; four lanes keep the additions independent. */
typedef struct lanes {
  double s[4], c[4];
} lanes;

#define LANE_ADD(L, k, v, extra)                                                                   \
  do {                                                                                             \
    double a_ = (L).s[k], x_ = (v), t_ = a_ + x_, z_ = t_ - a_;                                    \
    (L).c[k] += ((a_ - (t_ - z_)) + (x_ - z_)) + (extra);                                          \
    (L).s[k] = t_;                                                                                 \
  } while (0)

static dd lanes_sum(const lanes *L) {
  dd t = {0, 0};
  for (int k = 0; k < 4; k++)
    t = dd_add(t, dd_two_sum(L->s[k], L->c[k]));
  return t;
}

/* One block of rows: the residuals e = y - X b in double-double (each
 * product b_j x_ij split exactly by fma, the sums' roundings collected),
 * then sum w e^2, sum w e and sum w e x_j as compensated sums. A column at
 * a time over the block, so the loops are tight (no call, no branch). The
 * same code is compiled twice (AVX2 + FMA and plain x86-64, below); fma is
 * exact either way, so both give the same bits. */
static inline __attribute__((always_inline)) void
block_core(csvreg_refine_sums *s, const refine_view *v, double *restrict eh, double *restrict el,
           double *restrict weh, double *restrict wel) {
  const csvreg_refine *r = s->r;
  const size_t n = v->n, ld = v->ld, p = r->p, ic = r->ic;
  const double *b = r->b;
  for (size_t i = 0; i < n; i++) {
    eh[i] = v->y[i];
    el[i] = v->yl ? v->yl[i] : 0.0;
  }
  if (ic) {
    const double bh = -b[0], bl = b[1];
    for (size_t i = 0; i < n; i++) {
      double a = eh[i], t = a + bh, z = t - a;
      el[i] += ((a - (t - z)) + (bh - z)) - bl;
      eh[i] = t;
    }
  }
  for (size_t j = 0; j < p; j++) {
    const double bh = b[2 * (ic + j)], bl = b[2 * (ic + j) + 1];
    if (bh == 0.0 && bl == 0.0)
      continue;
    const double *restrict x = v->x + j * ld;
    const double *restrict xl = v->xl ? v->xl + j * ld : NULL;
    if (xl)
      for (size_t i = 0; i < n; i++) {
        double q = bh * x[i], qe = fma(bh, x[i], -q);
        double a = eh[i], t = a - q, z = t - a;
        el[i] += (((a - (t - z)) + (-q - z)) - qe) - (bh * xl[i] + bl * x[i]);
        eh[i] = t;
      }
    else
      for (size_t i = 0; i < n; i++) {
        double q = bh * x[i], qe = fma(bh, x[i], -q);
        double a = eh[i], t = a - q, z = t - a;
        el[i] += (((a - (t - z)) + (-q - z)) - qe) - bl * x[i];
        eh[i] = t;
      }
  }
  for (size_t i = 0; i < n; i++) {
    double a = eh[i], c = el[i], t = a + c, z = t - a;
    eh[i] = t;
    el[i] = (a - (t - z)) + (c - z);
  }
  if (v->w) {
    for (size_t i = 0; i < n; i++) {
      double w = v->w[i] > 0 ? v->w[i] : 0.0, wl = v->w[i] > 0 && v->wl ? v->wl[i] : 0.0;
      double q = w * eh[i];
      weh[i] = q;
      wel[i] = fma(w, eh[i], -q) + (w * el[i] + wl * eh[i]);
    }
  } else {
    memcpy(weh, eh, n * sizeof *eh);
    memcpy(wel, el, n * sizeof *el);
  }
  lanes rss, g0;
  memset(&rss, 0, sizeof rss);
  memset(&g0, 0, sizeof g0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; k++) {
      double q = weh[i + k] * eh[i + k];
      LANE_ADD(rss, k, q,
               fma(weh[i + k], eh[i + k], -q) + (weh[i + k] * el[i + k] + wel[i + k] * eh[i + k]));
      LANE_ADD(g0, k, weh[i + k], wel[i + k]);
    }
  for (; i < n; i++) {
    double q = weh[i] * eh[i];
    LANE_ADD(rss, 0, q, fma(weh[i], eh[i], -q) + (weh[i] * el[i] + wel[i] * eh[i]));
    LANE_ADD(g0, 0, weh[i], wel[i]);
  }
  dd *g = (dd *)(void *)s->g;
  s->rss = dd_add(s->rss, lanes_sum(&rss));
  g[0] = dd_add(g[0], lanes_sum(&g0));
  for (size_t j = 0; j < p; j++) {
    const double *restrict x = v->x + j * ld;
    const double *restrict xl = v->xl ? v->xl + j * ld : NULL;
    lanes gj;
    memset(&gj, 0, sizeof gj);
    i = 0;
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; k++) {
        double q = weh[i + k] * x[i + k];
        double lo = weh[i + k] * (xl ? xl[i + k] : 0.0) + wel[i + k] * x[i + k];
        LANE_ADD(gj, k, q, fma(weh[i + k], x[i + k], -q) + lo);
      }
    for (; i < n; i++) {
      double q = weh[i] * x[i];
      double lo = weh[i] * (xl ? xl[i] : 0.0) + wel[i] * x[i];
      LANE_ADD(gj, 0, q, fma(weh[i], x[i], -q) + lo);
    }
    g[1 + j] = dd_add(g[1 + j], lanes_sum(&gj));
  }
}

static void block_plain(csvreg_refine_sums *s, const refine_view *v) {
  block_core(s, v, s->eh, s->el, s->weh, s->wel);
}

#if defined(__x86_64__) && defined(__GNUC__)
static __attribute__((target("avx2,fma"))) void block_fma(csvreg_refine_sums *s,
                                                          const refine_view *v) {
  block_core(s, v, s->eh, s->el, s->weh, s->wel);
}
#define HAVE_BLOCK_FMA 1
#else
#define HAVE_BLOCK_FMA 0
#endif

static csvreg_status add_view(csvreg_refine_sums *s, const refine_view *v, csvreg_error *err) {
  csvreg_status st = sums_grow(s, v->n, err);
  if (st)
    return st;
  if (v->w) {
    for (size_t i = 0; i < v->n; i++)
      if (v->w[i] > 0)
        s->used++;
      else
        s->zero_weight++;
  } else {
    s->used += v->n;
  }
#if HAVE_BLOCK_FMA
  if (csvreg__simd_avx2()) {
    block_fma(s, v);
    return CSVREG_OK;
  }
#endif
  block_plain(s, v);
  return CSVREG_OK;
}

csvreg_status csvreg_refine_add_rows(csvreg_refine_sums *s, size_t n, const double *x, size_t ldx,
                                     const double *y, const double *w, csvreg_error *err) {
  if (!s || (n && (!y || (s->r->p && !x))))
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_refine_add_rows: NULL argument");
  refine_view v = {n, ldx, x, NULL, y, NULL, w, NULL};
  return add_view(s, &v, err);
}

static csvreg_status sums_create(void **out, const csvreg_spec *spec, const void *arg,
                                 csvreg_error *err) {
  *out = NULL;
  const csvreg_refine *r = arg;
  if (!r || !spec)
    return csvreg__err_set(err, CSVREG_E_USAGE, "refine sink: no refinement");
  if (spec->nterms != r->p)
    return csvreg__err_set(err, CSVREG_E_USAGE,
                           "refine sink: the spec is not the fit's (csvreg_spec_refine_pass)");
  csvreg_refine_sums *sums = NULL;
  csvreg_status st = csvreg_refine_sums_new(&sums, r, err);
  if (!st && spec->nkeys)
    st = csvreg__refine_cells_new(&sums->cells, spec, err);
  if (!st)
    sums->as_written = csvreg__refine_cells_as_written(sums->cells);
  if (st) {
    csvreg_refine_sums_free(sums);
    return st;
  }
  *out = sums;
  return CSVREG_OK;
}

static csvreg_status sums_add_chunk(void *sink, const csvreg_chunk *c, csvreg_error *err) {
  csvreg_refine_sums *s = sink;
  if (s->cells) {
    refine_view v;
    csvreg_status st = csvreg__refine_cells_read(s->cells, c, &v, err);
    return st ? st : add_view(s, &v, err);
  }
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  return csvreg_refine_add_rows(sink, csvreg_chunk_rows(c), x, ldx, y, w, err);
}

static csvreg_status sums_merge(void *into, const void *from, csvreg_error *err) {
  (void)err;
  csvreg_refine_sums *a = into;
  const csvreg_refine_sums *b = from;
  dd *ga = (dd *)(void *)a->g;
  const dd *gb = (const dd *)(const void *)b->g;
  for (size_t j = 0; j <= a->r->p; j++)
    ga[j] = dd_add(ga[j], gb[j]);
  a->rss = dd_add(a->rss, b->rss);
  a->used += b->used;
  a->zero_weight += b->zero_weight;
  a->as_written &= b->as_written;
  return CSVREG_OK;
}

static void sums_free(void *sink) { csvreg_refine_sums_free(sink); }

static const csvreg_sink_type refine_type = {
    "refine", sums_create, sums_add_chunk, sums_merge, sums_free, 0, NULL};

const csvreg_sink_type *csvreg_sink_refine(void) { return &refine_type; }

/* ---- a step ---- */

csvreg_status csvreg_refine_step(csvreg_refine *r, const csvreg_refine_sums *s, csvreg_error *err) {
  if (!r || !s || s->r != r)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_refine_step: not this refinement's sums");
  if (r->done)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_refine_step: the refinement is done");
  if (s->used != r->used)
    return csvreg__err_set(err, CSVREG_E_VALUE,
                           "the refinement pass read other rows than the fit (%llu used, "
                           "against %llu): did the input change?",
                           (unsigned long long)s->used, (unsigned long long)r->used);
  const size_t rank = r->rank, ic = r->ic, nc = r->nc;
  const dd *g = (const dd *)(const void *)s->g;
  const double rss = s->rss.hi + s->rss.lo;
  r->as_written = r->passes ? r->as_written && s->as_written : s->as_written;
  r->passes++;
  if (r->steps > 0 && rss > r->rss_prev) {
    /* the last step made the fit worse: undo it */
    memcpy(r->b, r->b_prev, 2 * nc * sizeof *r->b);
    r->steps--;
    r->rss = r->rss_prev;
    r->stop = CSVREG_REFINE_DIVERGED;
    r->done = 1;
    return CSVREG_OK;
  }
  /* the shifted design's g over the kept slots: G_j - K_j g_0 */
  double *z = calloc(rank ? rank : 1, sizeof *z);
  if (!z)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t k = 0; k < rank; k++) {
    size_t slot = r->kept[k];
    if (ic && slot == 0) {
      z[k] = g[0].hi + g[0].lo;
      continue;
    }
    size_t j = slot - ic;
    dd v = g[1 + j];
    if (ic)
      v = dd_add(v, dd_neg(dd_mul_d(g[0], r->shift[j])));
    z[k] = v.hi + v.lo;
  }
  /* U'U d = g: U' z = g, then U d = z; ||z|| = ||U d|| */
  cblas_dtrsv(CblasColMajor, CblasUpper, CblasTrans, CblasNonUnit, (int)rank, r->u, (int)rank, z,
              1);
  double delta = cblas_dnrm2((int)rank, z, 1);
  cblas_dtrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)rank, r->u, (int)rank, z,
              1);
  if (!isfinite(delta)) {
    free(z);
    return csvreg__err_set(err, CSVREG_E_NUMERIC, "refinement: the correction is not finite");
  }
  if (r->steps > 0 && !(delta < r->delta)) {
    /* not shrinking: at the accuracy of the sums; the rejected correction
     * is the size of what is left */
    for (size_t k = 0; k < rank; k++)
      r->d[2 * r->kept[k]] = z[k];
    r->rss = rss;
    r->stop = CSVREG_REFINE_STALLED;
    r->done = 1;
    r->rejected = 1;
    free(z);
    return CSVREG_OK;
  }
  /* the correction in the original coordinates: slopes as they are, the
   * intercept d0' - sum K_j d_j (double-double: K may be large) */
  memcpy(r->b_prev, r->b, 2 * nc * sizeof *r->b);
  memset(r->d, 0, 2 * nc * sizeof *r->d);
  dd d0 = {0, 0};
  for (size_t k = 0; k < rank; k++) {
    size_t slot = r->kept[k];
    if (ic && slot == 0)
      d0 = dd_add(d0, (dd){z[k], 0});
    else {
      r->d[2 * slot] = z[k];
      if (ic)
        d0 = dd_add(d0, dd_neg(dd_mul_d((dd){z[k], 0}, r->shift[slot - ic])));
    }
  }
  if (ic) {
    r->d[0] = d0.hi;
    r->d[1] = d0.lo;
  }
  double tiny = 1;
  for (size_t k = 0; k < rank; k++) {
    size_t slot = r->kept[k];
    dd v =
        dd_add((dd){r->b[2 * slot], r->b[2 * slot + 1]}, (dd){r->d[2 * slot], r->d[2 * slot + 1]});
    r->b[2 * slot] = v.hi;
    r->b[2 * slot + 1] = v.lo;
    /* below 2^-60 of every coefficient: no digit of a double left to gain */
    if (!(fabs(r->d[2 * slot]) <= 0x1p-60 * fabs(v.hi)))
      tiny = 0;
  }
  free(z);
  r->steps++;
  r->delta_prev = r->delta;
  r->delta = delta;
  r->rss_prev = rss;
  /* what the step removes from the RSS: ||U d||^2 (to first order exact) */
  r->rss = rss - delta * delta > 0 ? rss - delta * delta : 0;
  if (tiny || delta == 0)
    r->stop = CSVREG_REFINE_CONVERGED;
  else if (r->steps >= r->max_steps)
    r->stop = CSVREG_REFINE_MAX_STEPS;
  else
    return CSVREG_OK;
  r->done = 1;
  return CSVREG_OK;
}

/* ---- the refined fit ---- */

/* Digits of the coefficients as the exact least-squares solution of the
 * values as read: what is left of the iteration is about the last
 * correction times the contraction seen (the ratio of the last two
 * corrections' sizes; 1 after one step: no better than that step), or a
 * rejected correction's size, plus each coefficient's own rounding. */
static double digits_as_read(const csvreg_refine *r) {
  double rho = 1;
  if (r->rejected)
    rho = 1;
  else if (r->steps >= 2 && r->delta_prev > 0)
    rho = r->delta / r->delta_prev;
  if (r->stop == CSVREG_REFINE_CONVERGED)
    rho = rho < 1 ? rho : 1;
  double worst = 0;
  for (size_t k = 0; k < r->rank; k++) {
    size_t slot = r->kept[k];
    double b = r->b[2 * slot], e = fabs(r->d[2 * slot]) * rho;
    double rel = b != 0 ? e / fabs(b) : (e > 0 ? 1 : 0);
    if (rel > worst)
      worst = rel;
  }
  worst += 1.1102230246251565e-16;
  double dg = -log10(worst);
  return dg > 15.9 ? 15.9 : (dg < 0 ? 0 : dg);
}

csvreg_status csvreg_fit_apply_refine(csvreg_fit *f, const csvreg_refine *r, csvreg_error *err) {
  if (!f || !r || r->fit != f)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_fit_apply_refine: not this fit's");
  if (!r->passes)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_fit_apply_refine: no pass was made");
  const size_t nc = r->nc, rank = r->rank, ic = r->ic;
  double *coef = malloc(nc * sizeof *coef);
  double *cn = malloc(2 * (rank ? rank : 1) * sizeof *cn);
  const size_t s0 = ic, ns = rank - ic;
  double *sl = malloc((ns ? ns : 1) * sizeof *sl);
  if (!coef || !cn || !sl) {
    free(coef);
    free(cn);
    free(sl);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  for (size_t j = 0; j < nc; j++)
    coef[j] = f->terms[j].aliased ? NAN : r->b[2 * j] + r->b[2 * j + 1];
  /* Against the input as written the coefficients still carry the rounding
   * of the input to binary64 (half an ulp of each value), whose effect the
   * first-order estimate of the solve bounds (kernel.c: u times the
   * condition number, the slopes' column norms and the intercept's means
   * from U as the QR solve takes them from R); refinement removes the
   * solve's own error. The two are added. */
  double *xb = cn + rank;
  for (size_t j = 0; j < ns; j++) {
    double s = 0;
    for (size_t i = s0; i <= s0 + j; i++)
      s += r->u[(s0 + j) * rank + i] * r->u[(s0 + j) * rank + i];
    cn[j] = sqrt(s);
    sl[j] = coef[r->kept[s0 + j]];
    if (ic)
      xb[j] = r->shift[r->kept[s0 + j] - 1] + r->u[(s0 + j) * rank] / r->u[0];
  }
  double d_in = csvreg__digits_estimate(ns, sl, cn, f->s.condition_number, 0,
                                        ic ? &coef[0] : NULL, ic ? xb : NULL);
  double d_read = digits_as_read(r);
  free(sl);
  free(cn);
  fit_refinement rec = {r->steps, r->passes, d_read, (int)r->stop,
                        /* cells read as written (refine_cells.c): no rounding of the input left */
                        r->as_written ? d_read : -log10(pow(10, -d_in) + pow(10, -d_read))};
  csvreg_status st = csvreg__fit_set_refined(f, coef, r->rss, r->sum_log_w, &rec, err);
  free(coef);
  return st;
}

csvreg_status csvreg__fit_set_refined(csvreg_fit *f, const double *coef, double rss,
                                      double sum_log_w, const fit_refinement *rec,
                                      csvreg_error *err) {
  const size_t nc = f->s.nterms;
  int *aliased = malloc((nc ? nc : 1) * sizeof *aliased);
  double *c = malloc((nc ? nc : 1) * sizeof *c);
  if (!aliased || !c) {
    free(aliased);
    free(c);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  size_t rank = 0;
  for (size_t j = 0; j < nc; j++) {
    aliased[j] = f->terms[j].aliased;
    rank += !aliased[j];
    c[j] = aliased[j] ? NAN : coef[j];
  }
  solved sv;
  memset(&sv, 0, sizeof sv);
  sv.q = nc;
  sv.aliased = aliased;
  sv.rank = rank;
  sv.coef = c;
  sv.cov = f->xtx_inv;
  sv.rss = rss;
  sv.mss = f->s.tss - rss > 0 ? f->s.tss - rss : 0;
  sv.cond = f->s.condition_number;
  sv.digits = rec->digits;
  accum_totals tot;
  memset(&tot, 0, sizeof tot);
  tot.counts = f->s.counts;
  tot.sum_log_w = sum_log_w;
  csvreg__fit_fill_stats(f, &tot, &sv);
  f->refined = 1;
  f->refine_steps = rec->steps;
  f->refine_passes = rec->passes;
  f->refine_digits = rec->digits_as_read;
  f->refine_stop = rec->stop;
  free(aliased);
  free(c);
  return CSVREG_OK;
}

static const char *const stop_names[] = {"", "converged", "steps", "stalled", "diverged"};

const char *csvreg__refine_stop_name(int stop) {
  return stop >= 0 && stop < (int)(sizeof stop_names / sizeof *stop_names) ? stop_names[stop] : "";
}

int csvreg__refine_stop_parse(const char *name) {
  for (int k = 1; name && k < (int)(sizeof stop_names / sizeof *stop_names); k++)
    if (strcmp(name, stop_names[k]) == 0)
      return k;
  return -1;
}

size_t csvreg_fit_refined(const csvreg_fit *f, size_t *passes, double *digits_as_read,
                          const char **stop) {
  if (passes)
    *passes = f->refined ? f->refine_passes : 0;
  if (digits_as_read)
    *digits_as_read = f->refined ? f->refine_digits : NAN;
  if (stop)
    *stop = f->refined ? csvreg__refine_stop_name(f->refine_stop) : "";
  return f->refined ? f->refine_steps : 0;
}
