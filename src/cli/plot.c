/*
 * plot.c - `eval --plot FILE.png|.svg|.pdf`: a 2x2 figure drawn with cairo
 * (PNG, SVG and PDF surfaces, text through cairo's own "toy" font API in
 * DejaVu Sans, so no other graphics library is needed):
 *
 *   predicted vs actual   a 2-D density of the binned counts, log colour
 *                         scale (viridis), the y = x line, equal axes;
 *                         RMSE, R^2 and n in the upper left corner
 *   residuals vs fitted   the same, with the line y = 0
 *   residual histogram    with the normal curve of the residuals' mean and
 *                         standard deviation
 *   normal Q-Q            the sampled residuals' quantiles against the
 *                         normal's (ppoints, as R's qqnorm), with R's
 *                         qqline through the quartiles
 *
 * The library's grids hold 64 to 256 fine bins per axis; for the picture
 * adjacent bins are summed (exactly) down to about 2 sqrt(n) per axis,
 * between 16 and 128, so that a small file shows blocks rather than specks.
 * The density is painted as an image with one pixel per bin, scaled without
 * smoothing: an SVG or PDF of a million rows is as small as of a thousand.
 * At most 1,000 of the sample's quantiles are drawn (evenly spaced).
 *
 * Built alone as the module csvreg-plot.so (the only code that needs cairo),
 * loaded by the program when --plot is given (plot_module.c).
 */
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

#define W 1000.0
#define H 800.0
#define FONT "DejaVu Sans"
#define QQ_POINTS 1000
#define PI 3.14159265358979323846

/* ---- numbers ---- */

/* The standard normal quantile (Acklam's rational approximation with one
 * Halley step: relative error about 1e-15, far below a pixel). */
static double qnorm(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double q, r, x;
  if (p < 0.02425) {
    q = sqrt(-2 * log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    q = sqrt(-2 * log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    q = p - 0.5;
    r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  double e = 0.5 * erfc(-x / sqrt(2)) - p, u = e * sqrt(2 * PI) * exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

/* R's ppoints(n)[i] for i from 0. */
static double ppoint(size_t i, size_t n) {
  double a = n <= 10 ? 3.0 / 8 : 0.5;
  return ((double)i + 1 - a) / ((double)n + 1 - 2 * a);
}

/* The quantile at probability p of sorted x (R's type 7). */
static double quantile(const double *x, size_t n, double p) {
  double h = (double)(n - 1) * p;
  size_t lo = (size_t)floor(h);
  if (lo + 1 >= n)
    return x[n - 1];
  return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* ---- panels ---- */

typedef struct panel {
  double px, py, pw, ph; /* the plotting area on the page */
  double x0, x1, y0, y1; /* its data range */
} panel;

static double map_x(const panel *p, double x) {
  return p->px + (x - p->x0) / (p->x1 - p->x0) * p->pw;
}
static double map_y(const panel *p, double y) {
  return p->py + p->ph - (y - p->y0) / (p->y1 - p->y0) * p->ph;
}

/* A range padded by 4% on each side (a point range made 1 wide). */
static void pad(double *lo, double *hi) {
  double w = *hi - *lo;
  if (!(w > 0) || !isfinite(w)) {
    double m = fabs(*lo) > 0 ? fabs(*lo) * 0.05 : 0.5;
    *lo -= m;
    *hi += m;
    return;
  }
  *lo -= 0.04 * w;
  *hi += 0.04 * w;
}

/* A tick step of 1, 2 or 5 times a power of ten giving about `want` ticks. */
static double tick_step(double lo, double hi, int want) {
  double raw = (hi - lo) / want, p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void tick_label(char *buf, size_t size, double v, double step) {
  if (fabs(v) < step * 1e-9)
    v = 0;
  double a = fabs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-4))
    snprintf(buf, size, "%.3g", v);
  else {
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, size, "%.*f", dec, v);
  }
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay) {
  cairo_text_extents_t te;
  cairo_text_extents(cr, s, &te);
  cairo_move_to(cr, x - te.x_advance * ax, y + te.height * ay);
  cairo_show_text(cr, s);
}

static void set_font(cairo_t *cr, double size, int bold) {
  cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

/* Frame, grid lines, ticks, labels and titles of a panel. */
static void axes(cairo_t *cr, const panel *p, const char *title, const char *xlab,
                 const char *ylab) {
  char b[64];
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, p->px, p->py, p->pw, p->ph);
  cairo_fill(cr);
  set_font(cr, 11, 0);
  double sx = tick_step(p->x0, p->x1, 5), sy = tick_step(p->y0, p->y1, 5);
  cairo_set_line_width(cr, 1);
  for (double v = ceil(p->x0 / sx) * sx; v <= p->x1 + sx * 1e-9; v += sx) {
    double x = map_x(p, v);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, x, p->py);
    cairo_line_to(cr, x, p->py + p->ph);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, x, p->py + p->ph);
    cairo_line_to(cr, x, p->py + p->ph + 4);
    cairo_stroke(cr);
    tick_label(b, sizeof b, v, sx);
    text_at(cr, x, p->py + p->ph + 8, b, 0.5, 1);
  }
  for (double v = ceil(p->y0 / sy) * sy; v <= p->y1 + sy * 1e-9; v += sy) {
    double y = map_y(p, v);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, p->px, y);
    cairo_line_to(cr, p->px + p->pw, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, p->px - 4, y);
    cairo_line_to(cr, p->px, y);
    cairo_stroke(cr);
    tick_label(b, sizeof b, v, sy);
    text_at(cr, p->px - 7, y, b, 1, 0.5);
  }
  set_font(cr, 12, 0);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  text_at(cr, p->px + p->pw / 2, p->py + p->ph + 26, xlab, 0.5, 1);
  cairo_save(cr);
  cairo_translate(cr, p->px - 52, p->py + p->ph / 2);
  cairo_rotate(cr, -PI / 2);
  text_at(cr, 0, 0, ylab, 0.5, 0.5);
  cairo_restore(cr);
  set_font(cr, 13, 1);
  text_at(cr, p->px, p->py - 10, title, 0, 0);
}

static void frame(cairo_t *cr, const panel *p) {
  cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, p->px, p->py, p->pw, p->ph);
  cairo_stroke(cr);
}

/* viridis at t in [0, 1] (9 stops, linear between them). */
static void viridis(double t, double rgb[3]) {
  static const double s[9][3] = {
      {0.267, 0.005, 0.329}, {0.283, 0.141, 0.458}, {0.254, 0.265, 0.530},
      {0.207, 0.372, 0.553}, {0.164, 0.471, 0.558}, {0.128, 0.567, 0.551},
      {0.135, 0.659, 0.518}, {0.478, 0.821, 0.318}, {0.993, 0.906, 0.144}};
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  double f = t * 8;
  int i = (int)f;
  if (i >= 8)
    i = 7;
  f -= i;
  for (int k = 0; k < 3; k++)
    rgb[k] = s[i][k] + f * (s[i + 1][k] - s[i][k]);
}

/* The display grid: the library's bins summed in groups of fx by fy. */
typedef struct dgrid {
  size_t nx, ny;
  double x0, dx, y0, dy;
  uint64_t *c, max;
} dgrid;

static size_t display_bins(uint64_t n) {
  double d = 2 * sqrt((double)n);
  return d < 16 ? 16 : d > 128 ? 128 : (size_t)d;
}

static int coarsen(const csvreg_grid *g, size_t want, dgrid *out) {
  size_t fx = (g->nx + want - 1) / want, fy = g->ny > 1 ? (g->ny + want - 1) / want : 1;
  /* group from a multiple of the factor, so that groups are the same
   * whatever part of the grid is in use */
  out->nx = (g->nx + fx - 1) / fx;
  out->ny = (g->ny + fy - 1) / fy;
  out->x0 = g->x0;
  out->dx = g->dx * (double)fx;
  out->y0 = g->y0;
  out->dy = g->dy * (double)fy;
  out->max = 0;
  if (!(out->c = calloc(out->nx * out->ny, sizeof *out->c)))
    return -1;
  for (size_t j = 0; j < g->ny; j++)
    for (size_t i = 0; i < g->nx; i++) {
      uint64_t *v = &out->c[(j / fy) * out->nx + i / fx];
      *v += g->counts[j * g->stride + i];
      if (*v > out->max)
        out->max = *v;
    }
  return 0;
}

/* The density image of a 2-D grid, one pixel per bin, log colour scale. */
static int density(cairo_t *cr, const panel *p, const csvreg_grid *g, uint64_t n) {
  dgrid d;
  if (coarsen(g, display_bins(n), &d))
    return -1;
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)d.nx, (int)d.ny);
  if (cairo_surface_status(img)) {
    free(d.c);
    cairo_surface_destroy(img);
    return -1;
  }
  cairo_surface_flush(img);
  unsigned char *px = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  double lmax = log((double)d.max);
  for (size_t j = 0; j < d.ny; j++) {
    uint32_t *row = (uint32_t *)(void *)(px + (size_t)stride * (d.ny - 1 - j));
    for (size_t i = 0; i < d.nx; i++) {
      uint64_t v = d.c[j * d.nx + i];
      if (!v) {
        row[i] = 0;
        continue;
      }
      double rgb[3];
      viridis(lmax > 0 ? log((double)v) / lmax : 0.0, rgb); /* one row: always dark */
      row[i] = 0xFF000000u | (uint32_t)(rgb[0] * 255 + 0.5) << 16 |
               (uint32_t)(rgb[1] * 255 + 0.5) << 8 | (uint32_t)(rgb[2] * 255 + 0.5);
    }
  }
  cairo_surface_mark_dirty(img);
  double x0 = map_x(p, d.x0), x1 = map_x(p, d.x0 + d.dx * (double)d.nx);
  double y1 = map_y(p, d.y0), y0 = map_y(p, d.y0 + d.dy * (double)d.ny);
  cairo_save(cr);
  cairo_rectangle(cr, p->px, p->py, p->pw, p->ph);
  cairo_clip(cr);
  cairo_translate(cr, x0, y0);
  cairo_scale(cr, (x1 - x0) / (double)d.nx, (y1 - y0) / (double)d.ny);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
  /* the colour bar: counts on a log scale */
  double bx = p->px + p->pw + 10, bw = 12, by = p->py + p->ph * 0.15, bh = p->ph * 0.7;
  for (int k = 0; k < 64; k++) {
    double rgb[3];
    viridis((k + 0.5) / 64, rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, bx, by + bh - (k + 1) * bh / 64, bw, bh / 64 + 0.5);
    cairo_fill(cr);
  }
  set_font(cr, 10, 0);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  char b[32];
  text_at(cr, bx + bw / 2, by + bh + 5, "1", 0.5, 1);
  snprintf(b, sizeof b, "%llu", (unsigned long long)d.max);
  text_at(cr, bx + bw / 2, by - 16, b, 0.5, 0);
  text_at(cr, bx + bw / 2, by - 4, d.max == 1 ? "row" : "rows", 0.5, 0);
  free(d.c);
  return 0;
}

static void line(cairo_t *cr, const panel *p, double xa, double ya, double xb, double yb) {
  cairo_save(cr);
  cairo_rectangle(cr, p->px, p->py, p->pw, p->ph);
  cairo_clip(cr);
  cairo_move_to(cr, map_x(p, xa), map_y(p, ya));
  cairo_line_to(cr, map_x(p, xb), map_y(p, yb));
  cairo_stroke(cr);
  cairo_restore(cr);
}

static void grid_range(const csvreg_grid *g, int axis_y, double *lo, double *hi) {
  if (axis_y) {
    *lo = g->y0;
    *hi = g->y0 + g->dy * (double)g->ny;
  } else {
    *lo = g->x0;
    *hi = g->x0 + g->dx * (double)g->nx;
  }
}

static void fmt_num(char *b, size_t size, double v) {
  if (!isfinite(v))
    snprintf(b, size, "NA");
  else
    snprintf(b, size, "%.4g", v);
}

static int draw(cairo_t *cr, const plot_data *d) {
  const double L = 78, R = 62, T = 98, B = 50, G = 86; /* margins and gaps */
  double pw = (W - L - R - G) / 2, ph = (H - T - B - 62) / 2;
  cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
  cairo_paint(cr);
  /* title */
  char b[512];
  cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
  set_font(cr, 18, 1);
  snprintf(b, sizeof b, "%.110s", d->title);
  text_at(cr, L, 20, b, 0, 1);
  set_font(cr, 12, 0);
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  char rm[32], r2[32];
  fmt_num(rm, sizeof rm, d->m.rmse);
  fmt_num(r2, sizeof r2, d->m.r_squared);
  snprintf(b, sizeof b, "%.80s: n = %llu, RMSE = %s, R\xc2\xb2 = %s", d->source,
           (unsigned long long)d->m.n, rm, r2);
  text_at(cr, L, 46, b, 0, 1);

  panel p[4];
  for (int k = 0; k < 4; k++) {
    p[k].px = L + (k % 2) * (pw + G);
    p[k].py = T + (k / 2) * (ph + 62);
    p[k].pw = pw;
    p[k].ph = ph;
  }
  const csvreg_grid *ga = &d->grid[CSVREG_GRID_ACTUAL], *gr = &d->grid[CSVREG_GRID_RESIDUAL],
                    *gh = &d->grid[CSVREG_GRID_HISTOGRAM];
  /* 1: predicted vs actual, equal axes */
  double a0, a1, c0, c1;
  grid_range(ga, 0, &a0, &a1);
  grid_range(ga, 1, &c0, &c1);
  p[0].x0 = p[0].y0 = a0 < c0 ? a0 : c0;
  p[0].x1 = p[0].y1 = a1 > c1 ? a1 : c1;
  pad(&p[0].x0, &p[0].x1);
  pad(&p[0].y0, &p[0].y1);
  axes(cr, &p[0], "Predicted vs actual", "predicted", "actual");
  if (density(cr, &p[0], ga, d->m.n))
    return -1;
  cairo_set_source_rgba(cr, 0.85, 0.1, 0.1, 0.9);
  cairo_set_line_width(cr, 1.5);
  double dash[] = {6, 4};
  cairo_set_dash(cr, dash, 2, 0);
  line(cr, &p[0], p[0].x0, p[0].x0, p[0].x1, p[0].x1);
  cairo_set_dash(cr, NULL, 0, 0);
  frame(cr, &p[0]);
  /* the metrics in the upper left corner */
  {
    char l1[64], l2[64], l3[64];
    snprintf(l1, sizeof l1, "RMSE  %s", rm);
    snprintf(l2, sizeof l2, "R\xc2\xb2  %s", r2);
    snprintf(l3, sizeof l3, "n  %llu", (unsigned long long)d->m.n);
    set_font(cr, 12, 0);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, p[0].px + 8, p[0].py + 8, 128, 58);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, p[0].px + 14, p[0].py + 14, l1, 0, 1);
    text_at(cr, p[0].px + 14, p[0].py + 32, l2, 0, 1);
    text_at(cr, p[0].px + 14, p[0].py + 50, l3, 0, 1);
  }
  /* 2: residuals vs fitted */
  grid_range(gr, 0, &p[1].x0, &p[1].x1);
  grid_range(gr, 1, &p[1].y0, &p[1].y1);
  if (p[1].y0 > 0)
    p[1].y0 = 0;
  if (p[1].y1 < 0)
    p[1].y1 = 0;
  pad(&p[1].x0, &p[1].x1);
  pad(&p[1].y0, &p[1].y1);
  axes(cr, &p[1], "Residuals vs fitted", "predicted", "residual (actual \xe2\x88\x92 predicted)");
  if (density(cr, &p[1], gr, d->m.n))
    return -1;
  cairo_set_source_rgba(cr, 0.85, 0.1, 0.1, 0.9);
  cairo_set_line_width(cr, 1.5);
  cairo_set_dash(cr, dash, 2, 0);
  line(cr, &p[1], p[1].x0, 0, p[1].x1, 0);
  cairo_set_dash(cr, NULL, 0, 0);
  frame(cr, &p[1]);
  /* 3: the residuals' histogram with the normal of their mean and sd */
  {
    dgrid h;
    size_t want = (size_t)sqrt((double)d->m.n);
    if (coarsen(gh, want < 10 ? 10 : want > 60 ? 60 : want, &h))
      return -1;
    p[2].x0 = h.x0;
    p[2].x1 = h.x0 + h.dx * (double)h.nx;
    pad(&p[2].x0, &p[2].x1);
    double mean = d->m.mean_error, var = d->m.mse - mean * mean, sd = var > 0 ? sqrt(var) : 0;
    double peak = (double)h.max;
    if (sd > 0 && (double)d->m.n * h.dx / (sd * sqrt(2 * PI)) > peak)
      peak = (double)d->m.n * h.dx / (sd * sqrt(2 * PI));
    p[2].y0 = 0;
    p[2].y1 = peak * 1.08;
    if (!(p[2].y1 > 0))
      p[2].y1 = 1;
    axes(cr, &p[2], "Residual histogram", "residual", "rows");
    cairo_save(cr);
    cairo_rectangle(cr, p[2].px, p[2].py, p[2].pw, p[2].ph);
    cairo_clip(cr);
    for (size_t i = 0; i < h.nx; i++) {
      if (!h.c[i])
        continue;
      double xa = map_x(&p[2], h.x0 + h.dx * (double)i),
             xb = map_x(&p[2], h.x0 + h.dx * (double)(i + 1)), yt = map_y(&p[2], (double)h.c[i]);
      cairo_rectangle(cr, xa, yt, xb - xa, map_y(&p[2], 0) - yt);
      cairo_set_source_rgb(cr, 0.23, 0.45, 0.68);
      cairo_fill_preserve(cr);
      cairo_set_source_rgb(cr, 1, 1, 1);
      cairo_set_line_width(cr, h.nx > 40 ? 0.4 : 0.8);
      cairo_stroke(cr);
    }
    if (sd > 0) {
      cairo_set_source_rgba(cr, 0.85, 0.1, 0.1, 0.9);
      cairo_set_line_width(cr, 1.5);
      for (int k = 0; k <= 200; k++) {
        double x = p[2].x0 + (p[2].x1 - p[2].x0) * k / 200, z = (x - mean) / sd;
        double y = (double)d->m.n * h.dx * exp(-z * z / 2) / (sd * sqrt(2 * PI));
        if (k == 0)
          cairo_move_to(cr, map_x(&p[2], x), map_y(&p[2], y));
        else
          cairo_line_to(cr, map_x(&p[2], x), map_y(&p[2], y));
      }
      cairo_stroke(cr);
    }
    cairo_restore(cr);
    frame(cr, &p[2]);
    free(h.c);
  }
  /* 4: normal Q-Q of the sample */
  {
    size_t n = d->nsample, step = n > QQ_POINTS ? (n + QQ_POINTS - 1) / QQ_POINTS : 1;
    double t0 = qnorm(ppoint(0, n)), t1 = qnorm(ppoint(n - 1, n));
    p[3].x0 = t0;
    p[3].x1 = t1;
    p[3].y0 = d->sample[0];
    p[3].y1 = d->sample[n - 1];
    pad(&p[3].x0, &p[3].x1);
    pad(&p[3].y0, &p[3].y1);
    char qt[96];
    if (n < d->m.n)
      snprintf(qt, sizeof qt, "Normal Q-Q (a sample of %zu rows)", n);
    else
      snprintf(qt, sizeof qt, "Normal Q-Q");
    axes(cr, &p[3], qt, "theoretical quantile", "sample quantile of the residuals");
    cairo_save(cr);
    cairo_rectangle(cr, p[3].px, p[3].py, p[3].pw, p[3].ph);
    cairo_clip(cr);
    /* R's qqline: through the first and third quartiles */
    double q1 = quantile(d->sample, n, 0.25), q3 = quantile(d->sample, n, 0.75);
    double z1 = qnorm(0.25), z3 = qnorm(0.75), slope = (q3 - q1) / (z3 - z1),
           icpt = q1 - slope * z1;
    cairo_set_source_rgba(cr, 0.23, 0.45, 0.68, n > 500 ? 0.5 : 0.8);
    double rad = n > 500 ? 1.8 : 3;
    for (size_t i = 0; i < n; i += step) {
      double qx = map_x(&p[3], qnorm(ppoint(i, n))), qy = map_y(&p[3], d->sample[i]);
      /* one path for all the points (one SVG element); dense: small squares */
      cairo_new_sub_path(cr);
      if (n > 500)
        cairo_rectangle(cr, qx - rad, qy - rad, 2 * rad, 2 * rad);
      else
        cairo_arc(cr, qx, qy, rad, 0, 2 * PI);
    }
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_set_source_rgba(cr, 0.85, 0.1, 0.1, 0.9);
    cairo_set_line_width(cr, 1.5);
    cairo_set_dash(cr, dash, 2, 0);
    line(cr, &p[3], p[3].x0, icpt + slope * p[3].x0, p[3].x1, icpt + slope * p[3].x1);
    cairo_set_dash(cr, NULL, 0, 0);
    frame(cr, &p[3]);
  }
  return 0;
}

static cairo_status_t write_fp(void *closure, const unsigned char *data, unsigned int length) {
  return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS
                                                    : CAIRO_STATUS_WRITE_ERROR;
}

/* Exported (the module is built with hidden visibility): the program finds
 * it with dlsym. The file is the caller's (opened and committed atomically
 * in plot_module.c); the rows were checked there too. */
__attribute__((visibility("default"))) plot_draw_fn csvreg_plot_draw_v1;
int csvreg_plot_draw_v1(FILE *fp, const char *path, plot_format fmt, const plot_data *d, char *msg,
                        size_t msgsize) {
  cairo_surface_t *s;
  if (fmt == PLOT_SVG)
    s = cairo_svg_surface_create_for_stream(write_fp, fp, W, H);
  else if (fmt == PLOT_PDF)
    s = cairo_pdf_surface_create_for_stream(write_fp, fp, W, H);
  else
    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)W, (int)H);
  cairo_t *cr = cairo_create(s);
  int bad = draw(cr, d);
  cairo_status_t cs = cairo_status(cr);
  cairo_destroy(cr);
  if (!bad && !cs) {
    if (fmt == PLOT_PNG)
      cs = cairo_surface_write_to_png_stream(s, write_fp, fp);
    cairo_surface_finish(s);
    if (!cs)
      cs = cairo_surface_status(s);
  }
  cairo_surface_destroy(s);
  /* cairo's font caches (and through them fontconfig's) live for the
   * process: release them, so that leak checkers see a clean exit */
  cairo_debug_reset_static_data();
  FcFini();
  if (bad || cs == CAIRO_STATUS_NO_MEMORY) {
    snprintf(msg, msgsize, "%s: out of memory drawing the plot", path);
    return CLI_EXIT_INTERNAL;
  }
  if (cs) {
    snprintf(msg, msgsize, "cannot write %s: %s", path, cairo_status_to_string(cs));
    return CLI_EXIT_IO;
  }
  return 0;
}
