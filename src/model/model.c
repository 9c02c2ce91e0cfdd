/*
 * model.c - model files: the fit kept for predict and eval, and the
 * accumulator state kept for updates, in one versioned JSON object with a
 * CRC-32 (see csvreg.h). Loading trusts nothing: format, version, checksum,
 * then the state is solved again and must agree with the stored report,
 * which catches a file whose parts were put together from different fits.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"
#include "json_mem.h"
#include "model_impl.h"
#include "state.h"

void csvreg_model_options_init(csvreg_model_options *o) {
  memset(o, 0, sizeof *o);
  o->delimiter = ',';
  o->header = 1;
  csvreg_solve_options_init(&o->solve);
}

void csvreg_model_free(csvreg_model *m) {
  if (!m)
    return;
  csvreg_accum_free(m->accum);
  csvreg_fit_free(m->fit);
  free(m->weights);
  free(m->na);
  free(m->kept);
  free(m->u);
  free(m);
}

/* Takes ownership of `a`; copies the option strings; solves. */
static csvreg_status model_make(csvreg_model **out, csvreg_accum *a, const csvreg_model_options *o,
                                csvreg_error *err) {
  *out = NULL;
  csvreg_model *m = calloc(1, sizeof *m);
  if (!m) {
    csvreg_accum_free(a);
    return err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  m->accum = a;
  m->opt = *o;
  if ((o->weights && !(m->weights = xstrdup(o->weights))) || (o->na && !(m->na = xstrdup(o->na)))) {
    csvreg_model_free(m);
    return err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  m->opt.weights = m->weights;
  m->opt.na = m->na;
  csvreg_status st = csvreg_accum_solve(a, &o->solve, &m->fit, err);
  if (!st)
    st = model_prepare_factor(m, err);
  if (st) {
    csvreg_model_free(m);
    return st;
  }
  *out = m;
  return CSVREG_OK;
}

/* A deep copy through the exact state text: one code path for copies and files. */
static csvreg_status accum_copy(const csvreg_accum *a, csvreg_accum **out, csvreg_error *err) {
  *out = NULL;
  unsigned long mark = json_mem_failures(); /* see json_mem.c */
  csvreg_status st = state_check_names(a, err);
  json_t *o = st ? NULL : state_to_json(a);
  if (!st && !o)
    st = err_set(err, CSVREG_E_NOMEM, "out of memory");
  if (!st)
    st = state_from_json(o, out, err);
  json_decref(o);
  if ((st = json_mem_check(mark, st, err))) {
    csvreg_accum_free(*out);
    *out = NULL;
  }
  return st;
}

csvreg_status csvreg_model_new(csvreg_model **out, const csvreg_accum *a,
                               const csvreg_model_options *o, csvreg_error *err) {
  if (!out || !a || !o)
    return err_set(err, CSVREG_E_USAGE, "model_new: NULL argument");
  *out = NULL;
  csvreg_accum *copy;
  csvreg_status st = accum_copy(a, &copy, err);
  return st ? st : model_make(out, copy, o, err);
}

static json_t *delimiter_json(char d) {
  char s[2] = {d, '\0'};
  return json_string(s);
}

static json_t *options_json(const csvreg_model *m) {
  const csvreg_accum *a = m->accum;
  json_t *features = json_array();
  for (size_t j = 0; features && j < a->p; j++)
    if (json_array_append_new(features, json_string(a->term_names[j]))) {
      json_decref(features);
      features = NULL;
    }
  return json_pack(
      "{s:s, s:o, s:o*, s:b, s:o*, s:o, s:b, s:s, s:f, s:f}", "target", a->target_name, "features",
      features, "weights", m->weights ? json_string(m->weights) : json_null(), "intercept",
      a->intercept, "na", m->na ? json_string(m->na) : json_null(), "delimiter",
      delimiter_json(m->opt.delimiter), "header", m->opt.header, "solver",
      csvreg_solver_name(a->solver), "tol", m->opt.solve.tol, "level", m->opt.solve.level);
}

static csvreg_status model_save(const csvreg_model *m, char **out, csvreg_error *err) {
  char *fit_text = NULL;
  csvreg_status st = state_check_names(m->accum, err);
  if (st)
    return st;
  st = csvreg_fit_to_json(m->fit, &fit_text, err);
  if (st)
    return st;
  json_error_t je;
  json_t *fit = json_loads(fit_text, 0, &je);
  free(fit_text);
  json_t *o = json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "format", CSVREG_MODEL_FORMAT, "version",
                        CSVREG_MODEL_VERSION, "tool", "csvreg " CSVREG_VERSION, "options",
                        options_json(m), "fit", fit, "state", state_to_json(m->accum));
  char sum[32];
  if (!o)
    return err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
  if (!(st = state_checksum(o, sum, err))) {
    if (json_object_set_new(o, "checksum", json_string(sum)) ||
        !(*out = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17)))) {
      st = err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
    } else {
      size_t n = strlen(*out);
      char *t = realloc(*out, n + 2);
      if (!t) {
        free(*out);
        *out = NULL;
        st = err_set(err, CSVREG_E_NOMEM, "out of memory writing the model");
      } else {
        t[n] = '\n';
        t[n + 1] = '\0';
        *out = t;
      }
    }
  }
  json_decref(o);
  return st;
}

static csvreg_status bad(csvreg_error *err, const char *what) {
  return err_set(err, CSVREG_E_FORMAT, "not a valid csvreg model: %s", what);
}

/* Two doubles that should be the same computation: the stored report was
 * written from the same state, so they agree to the last bits on one machine;
 * the slack allows another BLAS. */
static int close_enough(double a, double b) {
  if (isnan(a) || isnan(b))
    return isnan(a) && isnan(b);
  return fabs(a - b) <= 1e-8 * fmax(fabs(a), fabs(b)) + 1e-300;
}

/* The stored report must describe the state's fit. */
static csvreg_status check_consistent(const csvreg_model *m, const json_t *fit, const json_t *opts,
                                      csvreg_error *err) {
  const csvreg_fit *f = m->fit;
  const csvreg_accum *a = m->accum;
  json_t *terms = json_object_get(fit, "terms");
  json_t *n = json_object_get(fit, "n");
  if (!json_is_array(terms) || json_array_size(terms) != f->nterms || !json_is_integer(n) ||
      (uint64_t)json_integer_value(n) != f->counts.used)
    return bad(err, "the fit report does not match the state (terms or n)");
  for (size_t j = 0; j < f->nterms; j++) {
    json_t *t = json_array_get(terms, j);
    const char *name = json_string_value(json_object_get(t, "name"));
    json_t *est = json_object_get(t, "estimate");
    double e = json_is_number(est) ? json_number_value(est) : NAN;
    if (!name || strcmp(name, f->terms[j].name) != 0 ||
        json_is_true(json_object_get(t, "aliased")) != f->terms[j].aliased ||
        (!f->terms[j].aliased && !close_enough(e, f->terms[j].estimate)))
      return err_set(err, CSVREG_E_FORMAT,
                     "not a valid csvreg model: the report's coefficient of '%s' does not match "
                     "the state's fit",
                     f->terms[j].name);
  }
  const char *target = json_string_value(json_object_get(opts, "target"));
  json_t *feats = json_object_get(opts, "features");
  if (!target || strcmp(target, a->target_name) != 0 || !json_is_array(feats) ||
      json_array_size(feats) != a->p)
    return bad(err, "\"options\" target or features do not match the state");
  for (size_t j = 0; j < a->p; j++) {
    const char *s = json_string_value(json_array_get(feats, j));
    if (!s || strcmp(s, a->term_names[j]) != 0)
      return bad(err, "\"options\" features do not match the state");
  }
  if (json_is_true(json_object_get(opts, "intercept")) != a->intercept)
    return bad(err, "\"options\" intercept does not match the state");
  const char *solver = json_string_value(json_object_get(opts, "solver"));
  if (!solver || strcmp(solver, csvreg_solver_name(a->solver)) != 0)
    return bad(err, "\"options\" solver does not match the state");
  return CSVREG_OK;
}

static csvreg_status read_options(const json_t *opts, csvreg_model_options *o, csvreg_error *err) {
  csvreg_model_options_init(o);
  if (!json_is_object(opts))
    return bad(err, "no \"options\" object");
  json_t *w = json_object_get(opts, "weights"), *na = json_object_get(opts, "na");
  json_t *d = json_object_get(opts, "delimiter"), *h = json_object_get(opts, "header");
  json_t *tol = json_object_get(opts, "tol"), *lev = json_object_get(opts, "level");
  if (!(json_is_null(w) || json_is_string(w)) || !(json_is_null(na) || json_is_string(na)) ||
      !json_is_string(d) || json_string_length(d) != 1 || !json_is_boolean(h) ||
      !json_is_number(tol) || !json_is_number(lev))
    return bad(err, "\"options\" needs weights, na, delimiter, header, tol and level");
  o->weights = json_string_value(w);
  o->na = json_string_value(na);
  o->delimiter = json_string_value(d)[0];
  o->header = json_is_true(h);
  o->solve.tol = json_number_value(tol);
  o->solve.level = json_number_value(lev);
  if (!(o->solve.tol > 0 && o->solve.tol < 1) || !(o->solve.level > 0 && o->solve.level < 1))
    return bad(err, "\"options\" tol and level must be in (0, 1)");
  return CSVREG_OK;
}

static csvreg_status model_load(csvreg_model **out, const char *text, size_t len,
                                csvreg_error *err) {
  json_error_t je;
  json_t *o = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &je);
  if (!o && len == 0)
    return err_set(err, CSVREG_E_FORMAT, "not a csvreg model: the file is empty");
  if (!o && je.position >= (int)len)
    return err_set(err, CSVREG_E_FORMAT,
                   "not a csvreg model: the JSON ends early at line %d (truncated?)", je.line);
  if (!o)
    return err_set(err, CSVREG_E_FORMAT,
                   "not a csvreg model: invalid JSON at line %d, column %d: %s", je.line, je.column,
                   je.text);
  csvreg_status st = CSVREG_OK;
  csvreg_accum *a = NULL;
  const char *format = json_string_value(json_object_get(o, "format"));
  json_t *ver = json_object_get(o, "version");
  const char *have = json_string_value(json_object_get(o, "checksum"));
  char want[32];
  csvreg_model_options mo;
  if (!json_is_object(o) || !format) {
    st = bad(err, "a JSON value without \"format\": \"" CSVREG_MODEL_FORMAT "\"");
  } else if (strcmp(format, "csvreg-state") == 0) {
    st = err_set(err, CSVREG_E_FORMAT,
                 "this is a csvreg state file, not a model: fit a model with 'fit -o'");
  } else if (strcmp(format, CSVREG_MODEL_FORMAT) != 0) {
    st = err_set(err, CSVREG_E_FORMAT, "not a csvreg model: format is \"%s\", expected \"%s\"",
                 format, CSVREG_MODEL_FORMAT);
  } else if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
    st = bad(err, "no valid \"version\"");
  } else if (json_integer_value(ver) > CSVREG_MODEL_VERSION) {
    st = err_set(err, CSVREG_E_FORMAT,
                 "model format version %lld is newer than this csvreg reads (%d): upgrade csvreg",
                 (long long)json_integer_value(ver), CSVREG_MODEL_VERSION);
  } else if (!have) {
    st = bad(err, "no \"checksum\" member");
  } else if (!(st = state_checksum(o, want, err)) && strcmp(have, want) != 0) {
    st = err_set(err, CSVREG_E_FORMAT,
                 "model checksum mismatch (%s, computed %s): the file was edited or damaged", have,
                 want);
  } else if (!st && !(st = read_options(json_object_get(o, "options"), &mo, err)) &&
             !(st = state_from_json(json_object_get(o, "state"), &a, err))) {
    csvreg_model *m;
    /* model_make copies the option strings, which live in `o` until here. */
    if (!(st = model_make(&m, a, &mo, err))) {
      if ((st = check_consistent(m, json_object_get(o, "fit"), json_object_get(o, "options"), err)))
        csvreg_model_free(m);
      else
        *out = m;
    } else if (st != CSVREG_E_NOMEM) {
      /* A state that cannot be solved did not come from fit -o. */
      st = CSVREG_E_FORMAT;
      if (err)
        err->status = st;
    }
  }
  json_decref(o);
  return st;
}

/* The two below tell out of memory in jansson from a bad model file or a bad
 * column name, and never return a document jansson left incomplete. */
csvreg_status csvreg_model_save(const csvreg_model *m, char **out, csvreg_error *err) {
  if (!m || !out)
    return err_set(err, CSVREG_E_USAGE, "model_save: NULL argument");
  *out = NULL;
  unsigned long mark = json_mem_failures();
  csvreg_status st = json_mem_check(mark, model_save(m, out, err), err);
  if (st) {
    free(*out);
    *out = NULL;
  }
  return st;
}

csvreg_status csvreg_model_load(csvreg_model **out, const char *text, size_t len,
                                csvreg_error *err) {
  if (!out || (!text && len))
    return err_set(err, CSVREG_E_USAGE, "model_load: NULL argument");
  *out = NULL;
  unsigned long mark = json_mem_failures();
  csvreg_status st = json_mem_check(mark, model_load(out, text, len, err), err);
  if (st) {
    csvreg_model_free(*out);
    *out = NULL;
  }
  return st;
}

const csvreg_fit *csvreg_model_fit(const csvreg_model *m) { return m->fit; }
const csvreg_accum *csvreg_model_accum(const csvreg_model *m) { return m->accum; }
const csvreg_model_options *csvreg_model_get_options(const csvreg_model *m) { return &m->opt; }
size_t csvreg_model_nfeatures(const csvreg_model *m) { return m->accum->p; }
const char *csvreg_model_feature(const csvreg_model *m, size_t j) {
  return j < m->accum->p ? m->accum->term_names[j] : NULL;
}
const char *csvreg_model_target(const csvreg_model *m) { return m->accum->target_name; }
