/*
 * eval_plot.c - what `eval --plot` draws, gathered in the same single pass
 * and bounded memory as the metrics: three grids of exact counts and a
 * sample of the residuals. The program renders them (src/cli/plot.c); the
 * library only counts, so it needs no graphics library.
 *
 * Grids. The ranges are not known before the data are read, so each axis
 * has bins of width 2^e aligned to multiples of 2^e: bin j holds
 * j 2^e <= v < (j + 1) 2^e, and the grid keeps GRID_BINS consecutive bins
 * from j0. A value outside them re-lays the grid: the bins in use and the
 * new value must fit in half of the grid (else the width doubles, e + 1,
 * and bin j becomes floor(j / 2): two bins merge exactly into one), and
 * the span is centred. Counts are integers moved whole, so every grid sums
 * to the rows scored, whatever the order of the rows. Centring with a
 * quarter of the grid free on each side makes re-layouts rare (a few per
 * doubling), and after the pass the data span between a quarter and a half
 * of the bins per axis (64 to 128 of 256). Merging two grids brings both to
 * the coarser width and lays out the union the same way. A first value sets
 * bins of 2^-24 of its magnitude; identical values stay in one bin.
 *
 * Sample. The Q-Q plot needs quantiles; it takes them from a sample of at
 * most `sample` residuals: the rows whose key, splitmix64 of the record
 * number and the seed, is smallest (a bottom-k sample: uniform without
 * replacement, and the same rows on every path, threads included, because
 * a row's key does not depend on the order rows arrive in).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_plot.h"
#include "internal.h"

#define GRID_BINS 256
#define HIST_BINS 1024
#define INITIAL_BITS 24 /* a first value's bins: 2^-24 of its magnitude */
#define SPAN_BITS 60    /* |v| / 2^e stays below 2^60: bins fit an int64_t */

typedef struct axis {
  int e;          /* bins of width 2^e */
  int64_t j0;     /* the first bin kept */
  int64_t lo, hi; /* the bins in use (when the grid has counts) */
  size_t bins;    /* bins kept; 1: the axis is unused (a histogram's y) */
} axis;

typedef struct grid {
  axis ax, ay;
  uint64_t *c; /* ay.bins rows of ax.bins */
  uint64_t total;
} grid;

typedef struct sample_entry {
  uint64_t key, rec;
  double r;
} sample_entry;

struct csvreg__eval_plot {
  grid g[3];          /* CSVREG_GRID_ACTUAL, _RESIDUAL, _HISTOGRAM */
  sample_entry *heap; /* max-heap on (key, rec) of the kept rows */
  size_t n, cap;
  uint64_t seed;
};

/* floor(j / 2^k) */
static int64_t fdiv(int64_t j, int k) {
  if (k <= 0)
    return j;
  if (k >= 63)
    return j < 0 ? -1 : 0;
  return j >= 0 ? j >> k : -(((-(j + 1)) >> k) + 1);
}

static int64_t bin_of(double v, int e) { return (int64_t)floor(ldexp(v, -e)); }

/* The smallest e for which v's bin fits SPAN_BITS. */
static int min_e(double v) {
  if (v == 0)
    return INT_MIN;
  int ex;
  frexp(v, &ex); /* |v| < 2^ex */
  return ex - SPAN_BITS;
}

static int first_e(double v) {
  if (v == 0)
    return -SPAN_BITS;
  int ex;
  frexp(v, &ex);
  return ex - INITIAL_BITS;
}

static csvreg_status grid_init(grid *g, size_t nx, size_t ny, csvreg_error *err) {
  memset(g, 0, sizeof *g);
  g->ax.bins = nx;
  g->ay.bins = ny;
  if (!(g->c = calloc(nx * ny, sizeof *g->c)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the plot's bins");
  return CSVREG_OK;
}

/* Widens axis `a` to exponent *e (>= a->e) so that its bins in use and
 * [lo, hi] (bins at *e) fit half of it: returns the new span in *lo, *hi. */
static void axis_plan(const axis *a, int *e, int64_t *lo, int64_t *hi) {
  int64_t ulo = fdiv(a->lo, *e - a->e), uhi = fdiv(a->hi, *e - a->e);
  if (*lo < ulo)
    ulo = *lo;
  if (*hi > uhi)
    uhi = *hi;
  while ((uint64_t)(uhi - ulo + 1) * 2 > a->bins) {
    ++*e;
    ulo = fdiv(ulo, 1);
    uhi = fdiv(uhi, 1);
  }
  *lo = ulo;
  *hi = uhi;
}

/* Re-lays g for new exponents and spans (bins at those exponents; y ignored
 * for a histogram), moving every count whole. */
static csvreg_status grid_relayout(grid *g, int ex, int64_t xlo, int64_t xhi, int ey, int64_t ylo,
                                   int64_t yhi, csvreg_error *err) {
  axis nx = g->ax, ny = g->ay;
  axis_plan(&g->ax, &ex, &xlo, &xhi);
  nx.e = ex;
  nx.lo = xlo;
  nx.hi = xhi;
  nx.j0 = xlo - (int64_t)(nx.bins - (size_t)(xhi - xlo + 1)) / 2;
  if (g->ay.bins > 1) {
    axis_plan(&g->ay, &ey, &ylo, &yhi);
    ny.e = ey;
    ny.lo = ylo;
    ny.hi = yhi;
    ny.j0 = ylo - (int64_t)(ny.bins - (size_t)(yhi - ylo + 1)) / 2;
  }
  uint64_t *c = calloc(nx.bins * ny.bins, sizeof *c);
  if (!c)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the plot's bins");
  for (size_t k = 0; k < g->ay.bins; k++)
    for (size_t i = 0; i < g->ax.bins; i++) {
      uint64_t v = g->c[k * g->ax.bins + i];
      if (!v)
        continue;
      int64_t ni = fdiv(g->ax.j0 + (int64_t)i, nx.e - g->ax.e) - nx.j0;
      int64_t nk = ny.bins > 1 ? fdiv(g->ay.j0 + (int64_t)k, ny.e - g->ay.e) - ny.j0 : 0;
      c[(size_t)nk * nx.bins + (size_t)ni] += v;
    }
  free(g->c);
  g->c = c;
  g->ax = nx;
  g->ay = ny;
  return CSVREG_OK;
}

static void axis_first(axis *a, double v) {
  a->e = first_e(v);
  a->lo = a->hi = bin_of(v, a->e);
  a->j0 = a->lo - (int64_t)a->bins / 2;
}

static csvreg_status grid_add(grid *g, double x, double y, uint64_t count, csvreg_error *err) {
  int two = g->ay.bins > 1;
  if (g->total == 0) {
    axis_first(&g->ax, x);
    if (two)
      axis_first(&g->ay, y);
  }
  int ex = g->ax.e, ey = g->ay.e;
  if (min_e(x) > ex)
    ex = min_e(x);
  if (two && min_e(y) > ey)
    ey = min_e(y);
  int64_t jx = bin_of(x, ex), jy = two ? bin_of(y, ey) : 0;
  if (ex != g->ax.e || ey != g->ay.e || jx < g->ax.j0 || jx >= g->ax.j0 + (int64_t)g->ax.bins ||
      (two && (jy < g->ay.j0 || jy >= g->ay.j0 + (int64_t)g->ay.bins))) {
    csvreg_status st = grid_relayout(g, ex, jx, jx, ey, jy, jy, err);
    if (st)
      return st;
    jx = bin_of(x, g->ax.e);
    jy = two ? bin_of(y, g->ay.e) : 0;
  }
  size_t i = (size_t)(jx - g->ax.j0), k = two ? (size_t)(jy - g->ay.j0) : 0;
  g->c[k * g->ax.bins + i] += count;
  g->total += count;
  if (jx < g->ax.lo)
    g->ax.lo = jx;
  if (jx > g->ax.hi)
    g->ax.hi = jx;
  if (two && jy < g->ay.lo)
    g->ay.lo = jy;
  if (two && jy > g->ay.hi)
    g->ay.hi = jy;
  return CSVREG_OK;
}

static csvreg_status grid_merge(grid *d, const grid *s, csvreg_error *err) {
  if (s->total == 0)
    return CSVREG_OK;
  int two = d->ay.bins > 1;
  if (d->total == 0) {
    memcpy(d->c, s->c, d->ax.bins * d->ay.bins * sizeof *d->c);
    d->ax = s->ax;
    d->ay = s->ay;
    d->total = s->total;
    return CSVREG_OK;
  }
  int ex = d->ax.e > s->ax.e ? d->ax.e : s->ax.e, ey = d->ay.e > s->ay.e ? d->ay.e : s->ay.e;
  csvreg_status st = grid_relayout(
      d, ex, fdiv(s->ax.lo, ex - s->ax.e), fdiv(s->ax.hi, ex - s->ax.e), ey,
      two ? fdiv(s->ay.lo, ey - s->ay.e) : 0, two ? fdiv(s->ay.hi, ey - s->ay.e) : 0, err);
  if (st)
    return st;
  for (size_t k = 0; k < s->ay.bins; k++)
    for (size_t i = 0; i < s->ax.bins; i++) {
      uint64_t v = s->c[k * s->ax.bins + i];
      if (!v)
        continue;
      int64_t jx = fdiv(s->ax.j0 + (int64_t)i, d->ax.e - s->ax.e);
      int64_t jy = two ? fdiv(s->ay.j0 + (int64_t)k, d->ay.e - s->ay.e) : 0;
      d->c[(size_t)(two ? jy - d->ay.j0 : 0) * d->ax.bins + (size_t)(jx - d->ax.j0)] += v;
    }
  d->total += s->total;
  return CSVREG_OK;
}

/* ---- the sample ---- */

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static int entry_less(const sample_entry *a, const sample_entry *b) {
  return a->key < b->key || (a->key == b->key && a->rec < b->rec);
}

static void sample_offer(csvreg__eval_plot *p, const sample_entry *e) {
  sample_entry *h = p->heap;
  size_t i;
  if (p->n < p->cap) {
    i = p->n++;
    while (i > 0 && entry_less(&h[(i - 1) / 2], e)) {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    h[i] = *e;
    return;
  }
  if (p->cap == 0 || !entry_less(e, &h[0]))
    return;
  i = 0; /* replace the largest key and sift down */
  for (;;) {
    size_t l = 2 * i + 1, big = i;
    const sample_entry *bv = e;
    if (l < p->n && entry_less(bv, &h[l])) {
      big = l;
      bv = &h[l];
    }
    if (l + 1 < p->n && entry_less(bv, &h[l + 1]))
      big = l + 1;
    if (big == i)
      break;
    h[i] = h[big];
    i = big;
  }
  h[i] = *e;
}

/* ---- the summary ---- */

csvreg_status csvreg__eval_plot_new(csvreg__eval_plot **out, size_t sample, uint64_t seed,
                                    csvreg_error *err) {
  *out = NULL;
  csvreg__eval_plot *p = calloc(1, sizeof *p);
  if (!p)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  p->cap = sample;
  p->seed = seed;
  csvreg_status st = grid_init(&p->g[CSVREG_GRID_ACTUAL], GRID_BINS, GRID_BINS, err);
  if (!st)
    st = grid_init(&p->g[CSVREG_GRID_RESIDUAL], GRID_BINS, GRID_BINS, err);
  if (!st)
    st = grid_init(&p->g[CSVREG_GRID_HISTOGRAM], HIST_BINS, 1, err);
  if (!st && sample && !(p->heap = malloc(sample * sizeof *p->heap)))
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for the plot's sample");
  if (st) {
    csvreg__eval_plot_free(p);
    return st;
  }
  *out = p;
  return CSVREG_OK;
}

void csvreg__eval_plot_free(csvreg__eval_plot *p) {
  if (!p)
    return;
  for (int i = 0; i < 3; i++)
    free(p->g[i].c);
  free(p->heap);
  free(p);
}

csvreg_status csvreg__eval_plot_add(csvreg__eval_plot *p, size_t n, const double *y,
                                    const double *yhat, const uint64_t *rec, csvreg_error *err) {
  csvreg_status st = CSVREG_OK;
  for (size_t i = 0; i < n && !st; i++) {
    /* y - yhat may overflow with values near DBL_MAX: such a row is binned
     * at the largest double so that the counts still sum to n */
    double r = y[i] - yhat[i];
    if (isinf(r))
      r = r > 0 ? DBL_MAX : -DBL_MAX;
    st = grid_add(&p->g[CSVREG_GRID_ACTUAL], yhat[i], y[i], 1, err);
    if (!st)
      st = grid_add(&p->g[CSVREG_GRID_RESIDUAL], yhat[i], r, 1, err);
    if (!st)
      st = grid_add(&p->g[CSVREG_GRID_HISTOGRAM], r, 0, 1, err);
    sample_entry e = {splitmix64(rec[i] ^ splitmix64(p->seed)), rec[i], r};
    sample_offer(p, &e);
  }
  return st;
}

csvreg_status csvreg__eval_plot_merge(csvreg__eval_plot *into, const csvreg__eval_plot *from,
                                      csvreg_error *err) {
  csvreg_status st = CSVREG_OK;
  for (int i = 0; i < 3 && !st; i++)
    st = grid_merge(&into->g[i], &from->g[i], err);
  for (size_t i = 0; i < from->n; i++)
    sample_offer(into, &from->heap[i]);
  return st;
}

int csvreg__eval_plot_grid(const csvreg__eval_plot *p, int which, csvreg_grid *out) {
  memset(out, 0, sizeof *out);
  if (which < 0 || which > 2 || p->g[which].total == 0)
    return 0;
  const grid *g = &p->g[which];
  out->nx = (size_t)(g->ax.hi - g->ax.lo + 1);
  out->stride = g->ax.bins;
  out->x0 = ldexp((double)g->ax.lo, g->ax.e);
  out->dx = ldexp(1.0, g->ax.e);
  size_t row0 = 0;
  if (g->ay.bins > 1) {
    out->ny = (size_t)(g->ay.hi - g->ay.lo + 1);
    out->y0 = ldexp((double)g->ay.lo, g->ay.e);
    out->dy = ldexp(1.0, g->ay.e);
    row0 = (size_t)(g->ay.lo - g->ay.j0);
  } else {
    out->ny = 1;
  }
  out->counts = g->c + row0 * g->ax.bins + (size_t)(g->ax.lo - g->ax.j0);
  out->total = g->total;
  return 1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

size_t csvreg__eval_plot_sample(const csvreg__eval_plot *p, double *out) {
  size_t n = p->n;
  if (!out)
    return n;
  for (size_t i = 0; i < n; i++)
    out[i] = p->heap[i].r;
  qsort(out, n, sizeof *out, cmp_double);
  return n;
}
