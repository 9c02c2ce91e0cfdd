/*
 * metrics.c - evaluation metrics in one pass and bounded memory, agreeing
 * with sklearn.metrics (which sums with numpy's pairwise summation) to about
 * 1e-13 relative. Plain sums are compensated (Neumaier); the variances of y
 * and of the error, which R^2 and the explained variance need about the
 * set's own means, are computed per block with two passes (exact centring of
 * rows in cache) and combined with Chan, Golub and LeVeque's update, so no
 * sum of squares about zero is ever differenced.
 *
 * Values near the top of the double range (|y| ~ 1e308) would overflow the
 * sums, and even y - yhat, though MAE, RMSE, R^2 and the maximum error are
 * finite. So every value is taken times 2^-scale, a power of two chosen from
 * the largest value seen so far (0 until some value passes 2^500): sums of
 * values carry the factor 2^-scale, sums of squares 2^-2scale, and raising
 * the scale multiplies the state by exact powers of two. Results are scaled
 * back at the end; a metric that is truly past DBL_MAX (the MSE of values
 * near 1e308) is +inf, reported as NA. With scale 0 nothing changes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evaluator.h"
#include "internal.h"

typedef struct ksum {
  double s, c;
} ksum;

/* Neumaier's improvement of Kahan summation: exact to about one rounding
 * whatever the order of magnitudes. */
static void kadd(ksum *k, double v) {
  double t = k->s + v;
  if (fabs(k->s) >= fabs(v))
    k->c += (k->s - t) + v;
  else
    k->c += (v - t) + k->s;
  k->s = t;
}
static double kval(const ksum *k) { return k->s + k->c; }

typedef struct moments {
  double w, mean, m2; /* weight, weighted mean, sum w (v - mean)^2 */
} moments;

static void chan(moments *a, const moments *b) {
  if (b->w == 0)
    return;
  if (a->w == 0) {
    *a = *b;
    return;
  }
  double w = a->w + b->w, d = b->mean - a->mean;
  a->m2 += b->m2 + d * d * (a->w * b->w / w);
  a->mean += d * (b->w / w);
  a->w = w;
}

struct csvreg_evaluator {
  uint64_t n, n_zero_y;
  ksum w, sq, abs, ape, w_ape;
  double max_abs;
  moments y, e;
  int scale; /* values are held times 2^-scale (see above) */
};

/* Values stay below 2^SCALE_TOP after scaling, so squares times weights stay
 * far from overflow. */
#define SCALE_TOP 500

static void kscale(ksum *k, int by) {
  k->s = ldexp(k->s, by);
  k->c = ldexp(k->c, by);
}

/* Raises e's scale to `to`: values' sums times 2^-(to - scale), squares' sums
 * times 2^-2(to - scale); weights and the relative errors do not change. */
static void rescale(csvreg_evaluator *e, int to) {
  int by = e->scale - to;
  if (by == 0)
    return;
  kscale(&e->sq, 2 * by);
  kscale(&e->abs, by);
  e->max_abs = ldexp(e->max_abs, by);
  e->y.mean = ldexp(e->y.mean, by);
  e->y.m2 = ldexp(e->y.m2, 2 * by);
  e->e.mean = ldexp(e->e.mean, by);
  e->e.m2 = ldexp(e->e.m2, 2 * by);
  e->scale = to;
}

/* The scale a block needs: its largest |y| or |yhat| below 2^SCALE_TOP. */
static int block_scale(size_t n, const double *y, const double *yhat) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double a = fabs(y[i]), b = fabs(yhat[i]);
    if (a > m)
      m = a;
    if (b > m)
      m = b;
  }
  int ex;
  frexp(m, &ex); /* m < 2^ex */
  return ex > SCALE_TOP ? ex - SCALE_TOP : 0;
}

csvreg_status csvreg_evaluator_new(csvreg_evaluator **out, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "evaluator_new: NULL argument");
  if (!(*out = calloc(1, sizeof **out)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return CSVREG_OK;
}

void csvreg_evaluator_free(csvreg_evaluator *e) { free(e); }

void csvreg__evaluator_reset(csvreg_evaluator *e) { memset(e, 0, sizeof *e); }

#define EVAL_BLOCK CSVREG__EVAL_BLOCK

/* Two-pass moments of one block of v = y (which = 0) or y - yhat (which = 1). */
static void block_moments(size_t n, const double *y, const double *yhat, const double *w, int which,
                          moments *out) {
  ksum sw = {0, 0}, sv = {0, 0};
  for (size_t i = 0; i < n; i++) {
    double wi = w ? w[i] : 1.0;
    if (!(wi > 0))
      continue;
    double v = which ? y[i] - yhat[i] : y[i];
    kadd(&sw, wi);
    kadd(&sv, wi * v);
  }
  out->w = kval(&sw);
  out->mean = out->w > 0 ? kval(&sv) / out->w : 0.0;
  ksum m2 = {0, 0};
  for (size_t i = 0; i < n; i++) {
    double wi = w ? w[i] : 1.0;
    if (!(wi > 0))
      continue;
    double d = (which ? y[i] - yhat[i] : y[i]) - out->mean;
    kadd(&m2, wi * d * d);
  }
  out->m2 = kval(&m2);
}

csvreg_status csvreg_evaluator_add(csvreg_evaluator *e, size_t n, const double *y,
                                   const double *yhat, const double *w, csvreg_error *err) {
  if (!e || (n && (!y || !yhat)))
    return csvreg__err_set(err, CSVREG_E_USAGE, "evaluator_add: NULL argument");
  for (size_t i = 0; i < n; i++)
    if ((w && !(isfinite(w[i]) && w[i] >= 0)) || !isfinite(y[i]) || !isfinite(yhat[i]))
      return csvreg__err_set(err, CSVREG_E_VALUE,
                             "row %zu: a value or weight is not finite (or < 0)", i + 1);
  double ys[EVAL_BLOCK], ps[EVAL_BLOCK];
  for (size_t i0 = 0; i0 < n; i0 += EVAL_BLOCK) {
    size_t nb = n - i0 < EVAL_BLOCK ? n - i0 : EVAL_BLOCK;
    const double *yb = y + i0, *pb = yhat + i0, *wb = w ? w + i0 : NULL;
    int need = block_scale(nb, yb, pb);
    if (need > e->scale)
      rescale(e, need);
    if (e->scale) {
      for (size_t i = 0; i < nb; i++) {
        ys[i] = ldexp(yb[i], -e->scale);
        ps[i] = ldexp(pb[i], -e->scale);
      }
      yb = ys;
      pb = ps;
    }
    for (size_t i = 0; i < nb; i++) {
      double wi = wb ? wb[i] : 1.0;
      if (!(wi > 0))
        continue;
      double d = yb[i] - pb[i], ad = fabs(d);
      e->n++;
      kadd(&e->w, wi);
      kadd(&e->sq, wi * d * d);
      kadd(&e->abs, wi * ad);
      if (ad > e->max_abs)
        e->max_abs = ad;
      if (yb[i] == 0) {
        e->n_zero_y++;
      } else {
        kadd(&e->ape, wi * (ad / fabs(yb[i])));
        kadd(&e->w_ape, wi);
      }
    }
    moments m;
    block_moments(nb, yb, pb, wb, 0, &m);
    chan(&e->y, &m);
    block_moments(nb, yb, pb, wb, 1, &m);
    chan(&e->e, &m);
  }
  return CSVREG_OK;
}

void csvreg_evaluator_result(const csvreg_evaluator *e, csvreg_metrics *out) {
  memset(out, 0, sizeof *out);
  out->n = e->n;
  out->n_zero_y = e->n_zero_y;
  double w = kval(&e->w);
  out->sum_w = w;
  if (e->n == 0) {
    out->mse = out->rmse = out->mae = out->mape = out->max_error = out->mean_error = NAN;
    out->r_squared = out->explained_variance = NAN;
    return;
  }
  double sse = kval(&e->sq), mse = sse / w;
  out->mse = ldexp(mse, 2 * e->scale); /* +inf when truly past DBL_MAX */
  out->rmse = ldexp(sqrt(mse), e->scale);
  out->mae = ldexp(kval(&e->abs) / w, e->scale);
  double wa = kval(&e->w_ape);
  out->mape = wa > 0 ? kval(&e->ape) / wa : NAN;
  out->max_error = ldexp(e->max_abs, e->scale);
  out->mean_error = ldexp(e->e.mean, e->scale);
  out->r_squared = e->y.m2 > 0 ? 1.0 - sse / e->y.m2 : NAN;
  out->explained_variance = e->y.m2 > 0 ? 1.0 - e->e.m2 / e->y.m2 : NAN;
}

static void kmerge(ksum *a, const ksum *b) {
  kadd(a, b->s);
  kadd(a, b->c);
}

void csvreg__evaluator_merge(csvreg_evaluator *dst, const csvreg_evaluator *src) {
  if (src->scale != dst->scale) {
    csvreg_evaluator tmp = *src;
    int to = src->scale > dst->scale ? src->scale : dst->scale;
    rescale(dst, to);
    rescale(&tmp, to);
    csvreg__evaluator_merge(dst, &tmp);
    return;
  }
  dst->n += src->n;
  dst->n_zero_y += src->n_zero_y;
  kmerge(&dst->w, &src->w);
  kmerge(&dst->sq, &src->sq);
  kmerge(&dst->abs, &src->abs);
  kmerge(&dst->ape, &src->ape);
  kmerge(&dst->w_ape, &src->w_ape);
  if (src->max_abs > dst->max_abs)
    dst->max_abs = src->max_abs;
  chan(&dst->y, &src->y);
  chan(&dst->e, &src->e);
}
