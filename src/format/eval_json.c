/*
 * eval_json.c - `eval --format json` with --every and --plot: the metrics
 * object of csvreg_metrics_to_json (the same text: it is read back and
 * extended, so the two never differ) plus the windows' metrics and the
 * plot's bins, which a test sums to n. Written a window at a time
 * (csvreg_scoring_write_json), so the text of 2M windows is never held:
 * the object is laid out as jansson's JSON_INDENT(2) dump of the whole
 * would be.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *window_object(const csvreg_scoring *s, uint64_t k, csvreg_status *st,
                             csvreg_error *err) {
  uint64_t first, last;
  csvreg_metrics m;
  csvreg_scoring_window(s, k, &first, &last, NULL);
  if ((*st = csvreg_scoring_window_get(s, k, &m, err)))
    return NULL;
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

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(17))

/* The writer: pieces of text, the first failure kept. */
typedef struct jout {
  csvreg_text_fn fn;
  void *ctx;
  int failed;
} jout;

static void put(jout *o, const char *t, size_t n) {
  if (!o->failed && n && o->fn(o->ctx, t, n))
    o->failed = 1;
}
static void puts_(jout *o, const char *t) { put(o, t, strlen(t)); }

/* An object dumped at the top level, written as a member of an array two
 * levels down (jansson's own layout there: every line 4 spaces further). */
static void put_indented(jout *o, const char *text) {
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
    puts_(o, "    ");
    put(o, p, n);
    p += n;
  }
}

/* The object of the eval JSON as jansson would dump it whole
 * (JSON_INDENT(2)), without holding the windows: the total's members, then
 * "windows" one object at a time, then "plot". */
csvreg_status csvreg_scoring_write_json(const csvreg_scoring *s, const char *target, int weighted,
                                        int grids, csvreg_text_fn fn, void *ctx,
                                        csvreg_error *err) {
  if (!s || !target || !fn)
    return csvreg__err_set(err, CSVREG_E_USAGE, "scoring_write_json: NULL argument");
  csvreg_metrics m;
  csvreg_counts k;
  csvreg_scoring_result(s, &m, &k);
  char *text = NULL;
  csvreg_status st = csvreg_metrics_to_json(&m, &k, target, weighted, &text, err);
  if (st)
    return st;
  json_t *o = json_loads(text, 0, NULL);
  free(text);
  text = o ? json_dumps(o, DUMP_FLAGS) : NULL;
  json_decref(o);
  size_t len = text ? strlen(text) : 0;
  if (len < 2 || text[len - 1] != '}' || text[len - 2] != '\n') {
    free(text);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing JSON");
  }
  jout w = {fn, ctx, 0};
  put(&w, text, len - 2); /* without "\n}" */
  free(text);
  uint64_t nw = csvreg_scoring_nwindows(s);
  if (nw)
    puts_(&w, ",\n  \"windows\": [\n");
  for (uint64_t i = 0; i < nw && !w.failed; i++) {
    json_t *wo = window_object(s, i, &st, err);
    if (st)
      return st;
    char *t = wo ? json_dumps(wo, DUMP_FLAGS) : NULL;
    json_decref(wo);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing JSON");
    if (i)
      puts_(&w, ",\n");
    put_indented(&w, t);
    free(t);
  }
  if (nw)
    puts_(&w, "\n  ]");
  if (grids) {
    /* {"plot": ...} dumped, written without its own braces */
    json_t *p = json_object(), *wrap = json_object();
    int bad = !p || !wrap || json_object_set_new(wrap, "plot", p);
    if (bad)
      json_decref(p);
    const char *names[3] = {"actual", "residual", "histogram"};
    for (int i = 0; !bad && i < 3; i++) {
      json_t *g = grid_object(s, i);
      bad = !g || json_object_set_new(p, names[i], g);
    }
    char *t = bad ? NULL : json_dumps(wrap, DUMP_FLAGS);
    json_decref(wrap);
    size_t tl = t ? strlen(t) : 0;
    if (tl < 4) {
      free(t);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory writing JSON");
    }
    puts_(&w, ",\n");
    put(&w, t + 2, tl - 4); /* without "{\n" and "\n}" */
    free(t);
  }
  puts_(&w, "\n}");
  if (w.failed)
    return csvreg__err_set(err, CSVREG_E_IO, "write failed");
  return CSVREG_OK;
}
