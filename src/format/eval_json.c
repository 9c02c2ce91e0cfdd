/*
 * eval_json.c - `eval --format json` with --every and --plot: the metrics
 * object of csvreg_metrics_to_json (the same text: it is read back and
 * extended, so the two never differ) plus the windows' metrics and the
 * plot's bins, which a test sums to n.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *window_object(const csvreg_scoring *s, uint64_t k) {
  uint64_t first, last;
  csvreg_metrics m;
  csvreg_scoring_window(s, k, &first, &last, &m);
  json_t *o = json_object();
  if (!o)
    return NULL;
  int bad =
      json_object_set_new(o, "window", json_integer((json_int_t)k + 1)) ||
      json_object_set_new(o, "first_record", json_integer((json_int_t)first)) ||
      json_object_set_new(o, "last_record", json_integer((json_int_t)last)) ||
      json_object_set_new(o, "n", json_integer((json_int_t)m.n)) ||
      json_object_set_new(o, "mse", num(m.mse)) || json_object_set_new(o, "rmse", num(m.rmse)) ||
      json_object_set_new(o, "mae", num(m.mae)) || json_object_set_new(o, "mape", num(m.mape)) ||
      json_object_set_new(o, "max_error", num(m.max_error)) ||
      json_object_set_new(o, "mean_error", num(m.mean_error)) ||
      json_object_set_new(o, "r_squared", num(m.r_squared)) ||
      json_object_set_new(o, "explained_variance", num(m.explained_variance)) ||
      json_object_set_new(o, "sum_w", num(m.sum_w)) ||
      json_object_set_new(o, "n_zero_y", json_integer((json_int_t)m.n_zero_y));
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *grid_object(const csvreg_scoring *s, int which) {
  csvreg_grid g;
  json_t *o = json_object(), *rows = json_array();
  int bad = !o || !rows;
  if (!bad && !csvreg_scoring_grid(s, which, &g)) {
    json_decref(rows);
    return o; /* no rows: an empty object */
  }
  bad = bad || json_object_set_new(o, "x0", num(g.x0)) || json_object_set_new(o, "dx", num(g.dx)) ||
        json_object_set_new(o, "nx", json_integer((json_int_t)g.nx)) ||
        json_object_set_new(o, "y0", num(g.y0)) || json_object_set_new(o, "dy", num(g.dy)) ||
        json_object_set_new(o, "ny", json_integer((json_int_t)g.ny)) ||
        json_object_set_new(o, "total", json_integer((json_int_t)g.total));
  for (size_t j = 0; !bad && j < g.ny; j++) {
    json_t *r = json_array();
    bad = !r || json_array_append_new(rows, r);
    for (size_t i = 0; !bad && i < g.nx; i++)
      bad = json_array_append_new(r, json_integer((json_int_t)g.counts[j * g.stride + i]));
  }
  if (bad || json_object_set_new(o, "counts", rows)) {
    json_decref(o);
    return NULL;
  }
  return o;
}

csvreg_status csvreg_scoring_to_json(const csvreg_scoring *s, const char *target, int weighted,
                                     int grids, char **out, csvreg_error *err) {
  if (!s || !target || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "scoring_to_json: NULL argument");
  *out = NULL;
  csvreg_metrics m;
  csvreg_counts k;
  csvreg_scoring_result(s, &m, &k);
  char *text = NULL;
  csvreg_status st = csvreg_metrics_to_json(&m, &k, target, weighted, &text, err);
  if (st)
    return st;
  json_t *o = json_loads(text, 0, NULL);
  free(text);
  int bad = !o;
  uint64_t nw = csvreg_scoring_nwindows(s);
  if (!bad && nw) {
    json_t *a = json_array();
    bad = !a || json_object_set_new(o, "windows", a);
    for (uint64_t w = 0; !bad && w < nw; w++) {
      json_t *wo = window_object(s, w);
      bad = !wo || json_array_append_new(a, wo);
    }
  }
  if (!bad && grids) {
    json_t *p = json_object();
    bad = !p || json_object_set_new(o, "plot", p);
    const char *names[3] = {"actual", "residual", "histogram"};
    for (int i = 0; !bad && i < 3; i++) {
      json_t *g = grid_object(s, i);
      bad = !g || json_object_set_new(p, names[i], g);
    }
  }
  text = bad ? NULL : json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  json_decref(o);
  if (!text)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing JSON");
  *out = text;
  return CSVREG_OK;
}
