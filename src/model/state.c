/*
 * state.c - accumulator state files: the mergeable state written as one line
 * of JSON, so it survives pipes, `sort`, Hadoop Streaming and Spark's pipe().
 * Doubles are exact hex-float strings; the kernel's numbers are written as
 * the kernel names them (csvreg__accum_kernel_fields: "r" for qr, "mean" and "com"
 * for normal), triangles packed column by column; a CRC-32 over the
 * canonical (compact, sorted-key) text of everything else catches edits and
 * truncation.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "formula.h"
#include "hexfloat.h"
#include "internal.h"
#include "json_mem.h"
#include "json_write.h"
#include "linalg.h"
#include "state.h"
#include "state_scan.h"

#define STATE_FORMAT "csvreg-state"
/* Version 2 adds the formula's frame and the categorical part
 * (state_levels.c): written for every spec that keeps a formula (factors or
 * transforms); a state of -y/-x or of plain columns is still written as
 * version 1, byte for byte. */
#define STATE_VERSION 3
/* Version 3 (state_head.c): every line, framed or not, begins with
 * "bounds", its sizes, so that a reader bounds the line by its own terms
 * as it arrives; the rest is the layout of version 1 or 2, a framed state
 * being one with a "formula". The state inside a model keeps version 1 or
 * 2 (a model is bounded by its spec, read first: model_read.c). */

static json_t *hex(double v) {
  char buf[HEXFLOAT_MAX];
  csvreg__hexfloat_format(v, buf);
  return json_string(buf);
}

static json_t *hex_array(const double *v, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    if (json_array_append_new(arr, hex(v[i]))) {
      json_decref(arr);
      return NULL;
    }
  return arr;
}

static json_t *names(const csvreg_accum *a, const char *(*name)(const csvreg_accum *, size_t),
                     size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    if (json_array_append_new(arr, json_string(name(a, i)))) {
      json_decref(arr);
      return NULL;
    }
  return arr;
}

json_t *csvreg__state_to_json_big(const csvreg_accum *a, csvreg__jbig *bigs, size_t *nbigs) {
  *nbigs = 0;
  const size_t ninputs = csvreg__accum_ninputs(a);
  const uint64_t *nabi = csvreg__accum_na_by_input(a);
  accum_totals t;
  csvreg__accum_totals_get(a, &t);
  json_t *na = json_array();
  for (size_t k = 0; na && k < ninputs; k++)
    json_array_append_new(na, json_integer((json_int_t)nabi[k]));
  accum_frame fr;
  const int framed = csvreg__accum_frame_get(a, &fr);
  json_t *o = json_pack(
      "{s:s, s:i, s:s, s:s, s:b, s:b, s:s, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o, "
      "s:b, s:o}",
      "format", STATE_FORMAT, "version", framed ? 2 : 1, "tool",
      "csvreg " CSVREG_VERSION, "solver", csvreg__accum_solver_name(a), "intercept",
      csvreg__accum_intercept(a), "weighted", t.weighted, "target", csvreg__accum_target_name(a),
      "terms", names(a, csvreg__accum_term_name, csvreg__accum_nterms(a)), "inputs",
      names(a, csvreg__accum_input_name, ninputs), "counts", "records",
      (json_int_t)t.counts.records, "used", (json_int_t)t.counts.used, "zero_weight",
      (json_int_t)t.counts.zero_weight, "dropped_na", (json_int_t)t.counts.dropped_na,
      "dropped_bad", (json_int_t)t.counts.dropped_bad, "na_by_input", na, "sum_w", hex(t.sum_w),
      "sum_log_w", hex(t.sum_log_w), "shifted", t.shifted, "shift",
      hex_array(csvreg__accum_shift(a), csvreg__accum_ncols(a)));
  if (!o)
    return NULL;
  if (framed && csvreg__state_levels_put(o, a)) {
    json_decref(o);
    return NULL;
  }
  kernel_field f[KERNEL_MAX_FIELDS];
  size_t nf = csvreg__accum_kernel_fields(a, f);
  const double *k = csvreg__accum_kernel_numbers(a);
  /* The kernel's numbers (O(terms^2)) are not tree nodes: an empty array
   * stands for each, written from the numbers by json_write.c. */
  for (size_t i = 0; i < nf; i++) {
    json_t *slot = json_array();
    if (json_object_set_new(o, f[i].name, slot) || !slot) {
      json_decref(o);
      return NULL;
    }
    csvreg__jbig *b = &bigs[(*nbigs)++];
    memset(b, 0, sizeof *b);
    b->node = slot;
    b->kind = f[i].kind == KERNEL_FIELD_UPPER ? JBIG_UPPER : JBIG_HEX;
    b->n = f[i].n;
    b->v = k + f[i].offset;
  }
  return o;
}

/* The CRC-32 of the canonical text, streamed: the text is never held. A
 * shallow copy drops "checksum" (its members are the same nodes, so the
 * stand-ins of `bigs` are still found). */
csvreg_status csvreg__state_checksum_big(const json_t *o, const csvreg__jbig *bigs, size_t nbigs,
                                         char buf[32], csvreg_error *err) {
  json_t *copy = json_copy((json_t *)o);
  if (!copy)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  json_object_del(copy, "checksum");
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s) {
    json_decref(copy);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  csvreg__jsink_init(s, JSINK_CRC, NULL);
  int failed = csvreg__jwrite(s, copy, 0, bigs, nbigs);
  snprintf(buf, 32, "crc32:%08lx", (unsigned long)s->crc);
  free(s);
  json_decref(copy);
  if (failed)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return CSVREG_OK;
}

csvreg_status csvreg__state_checksum(const json_t *o, char buf[32], csvreg_error *err) {
  return csvreg__state_checksum_big(o, NULL, 0, buf, err);
}

static csvreg_status bad(csvreg_error *err, const char *what) {
  return csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg state: %s", what);
}

static int get_hex(const json_t *v, double *out) {
  return json_is_string(v) ? csvreg__hexfloat_parse(json_string_value(v), out) : -1;
}

static int get_hex_array(const json_t *arr, double *out, size_t n) {
  if (!json_is_array(arr) || json_array_size(arr) != n)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (get_hex(json_array_get(arr, i), &out[i]))
      return -1;
  return 0;
}

static int get_packed_upper(const json_t *arr, double *out, size_t n) {
  if (!json_is_array(arr) || json_array_size(arr) != n * (n + 1) / 2)
    return -1;
  size_t t = 0;
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i <= j; i++)
      if (get_hex(json_array_get(arr, t++), &out[j * n + i]))
        return -1;
  return 0;
}

/* A kernel field held outside the tree (json_write.h): the numbers of a
 * state being copied (JBIG_HEX, JBIG_UPPER), or the numbers a loader read
 * in file order (JBIG_CRC: a packed triangle is flat there). */
static const csvreg__jbig *find_big(const json_t *v, const csvreg__jbig *bigs, size_t nbigs) {
  for (size_t k = 0; v && k < nbigs; k++)
    if (bigs[k].node == v)
      return &bigs[k];
  return NULL;
}

static int get_big(const csvreg__jbig *b, double *out, const kernel_field *f) {
  const size_t n = f->n;
  if (b->bad || b->kind == JBIG_VCOV)
    return -1;
  if (b->kind == JBIG_UPPER) {
    if (f->kind != KERNEL_FIELD_UPPER || b->n != n)
      return -1;
    for (size_t j = 0; j < n; j++)
      memcpy(out + j * n, b->v + j * n, (j + 1) * sizeof *out);
    return 0;
  }
  if (f->kind != KERNEL_FIELD_UPPER) {
    if (b->n != n)
      return -1;
    if (n)
      memcpy(out, b->v, n * sizeof *out);
    return 0;
  }
  if (b->n != n * (n + 1) / 2)
    return -1;
  size_t t = 0;
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i <= j; i++)
      out[j * n + i] = b->v[t++];
  return 0;
}

/* A JSON array of strings as a NULL-free array of borrowed pointers; NULL
 * with *nomem set when the array could not be allocated. */
static const char **get_names(const json_t *arr, size_t *n, int *nomem) {
  if (!json_is_array(arr))
    return NULL;
  *n = json_array_size(arr);
  const char **v = calloc(*n ? *n : 1, sizeof *v);
  if (!v)
    *nomem = 1;
  for (size_t i = 0; v && i < *n; i++)
    if (!(v[i] = json_string_value(json_array_get(arr, i)))) {
      free(v);
      return NULL;
    }
  return v;
}

static int get_count(const json_t *o, const char *key, uint64_t *out) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return -1;
  *out = (uint64_t)json_integer_value(v);
  return 0;
}

/* ---- invariants a forged state with a recomputed checksum could break ----
 * The checksum only proves the text is what some writer wrote; these
 * checks make sure what was written is a state csvreg could have made. */

static int has_name(const char **v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i], name) == 0)
      return 1;
  return 0;
}

/* 1 when `name` is an expression of a formula (log(x), x:z, poly's column
 * "poly(x, 2, raw = TRUE)1") reading only columns of `inputs`. A state does
 * not keep a version 1 formula, so its terms are checked this way. */
static int expression_of(const char *name, const char **inputs, size_t ninputs) {
  size_t len = strlen(name);
  char *text = malloc(len + 3);
  if (!text)
    return -1;
  int ok = 0;
  for (int pass = 0; pass < 2 && !ok; pass++) {
    size_t l = len;
    if (pass) { /* a poly() column: the call, then the power */
      while (l && name[l - 1] >= '0' && name[l - 1] <= '9')
        l--;
      if (l == len || !l || name[l - 1] != ')')
        break;
    }
    snprintf(text, len + 3, "~ %.*s", (int)l, name);
    csvreg__formula *f = NULL;
    if (!csvreg__formula_parse(&f, text, NULL, NULL) &&
        !csvreg__formula_expand(f, NULL, 0, NULL, 0, NULL, NULL) && f->ninputs) {
      ok = 1;
      for (size_t k = 0; ok && k < f->ninputs; k++)
        ok = has_name(inputs, ninputs, f->inputs[k]);
    }
    csvreg__formula_free(f);
  }
  free(text);
  return ok;
}

static csvreg_status invalid(csvreg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static csvreg_status invalid(csvreg_error *err, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return bad(err, what);
}

/* Counts that cannot come from reading rows: more rows used, dropped or
 * missing than records read. */
static csvreg_status check_counts(const csvreg_counts *c, const uint64_t *na, size_t ninputs,
                                  const char **inputs, csvreg_error *err) {
  if (c->used > c->records)
    return invalid(err, "\"counts.used\" (%llu) is more than \"counts.records\" (%llu)",
                   (unsigned long long)c->used, (unsigned long long)c->records);
  uint64_t sum = c->used, parts[3] = {c->zero_weight, c->dropped_na, c->dropped_bad};
  for (size_t i = 0; i < 3; i++)
    if (__builtin_add_overflow(sum, parts[i], &sum) || sum > c->records)
      return invalid(err,
                     "\"counts\": used, zero_weight, dropped_na and dropped_bad add up to more "
                     "than \"counts.records\" (%llu)",
                     (unsigned long long)c->records);
  for (size_t k = 0; k < ninputs; k++)
    if (na[k] > c->records)
      return invalid(err,
                     "\"na_by_input\" of '%.80s' (%llu) is more than \"counts.records\" (%llu)",
                     inputs[k], (unsigned long long)na[k], (unsigned long long)c->records);
  return CSVREG_OK;
}

/* Names (a term named twice is refused by the accumulator): no term that
 * is the target, and (version 1, with inputs) every term and the target an
 * input column or an expression of input columns. A version 1 state keeps no
 * formula: a "formula" member in one is ignored by the loader and not saved
 * again, so it must not excuse a term (the fuzzer found a state that loaded
 * by it and failed to load once saved). */
static csvreg_status check_names(const char **terms, size_t p, const char *target,
                                 const char **inputs, size_t ninputs, int formula,
                                 csvreg_error *err) {
  for (size_t j = 0; j < p; j++) {
    if (strcmp(terms[j], target) == 0)
      return invalid(err, "\"terms\" holds the target '%.80s'", target);
  }
  /* A state without inputs (csvreg_accum_new, no spec) names terms only. */
  for (size_t j = 0; !formula && ninputs && j <= p; j++) {
    const char *name = j < p ? terms[j] : target;
    if (has_name(inputs, ninputs, name))
      continue;
    int e = expression_of(name, inputs, ninputs);
    if (e < 0)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    if (!e)
      return invalid(err, "%s '%.80s' is neither in \"inputs\" nor an expression of the inputs",
                     j < p ? "the term" : "the target", name);
  }
  return CSVREG_OK;
}

/* The numbers: the co-moment matrix ("com", normal solver) is a sum of
 * squares, so its diagonal cannot be negative; no number may be infinite
 * (the hex-float reader refuses those already: checked again here so that
 * a future reader cannot let one through). */
static csvreg_status check_numbers(const kernel_field *f, size_t nf, const double *numbers,
                                   const double *shift, size_t m, const accum_totals *t,
                                   csvreg_error *err) {
  if (!isfinite(t->sum_w) || !isfinite(t->sum_log_w))
    return invalid(err, "\"sum_w\" or \"sum_log_w\" is not finite");
  for (size_t i = 0; i < m; i++)
    if (!isfinite(shift[i]))
      return invalid(err, "\"shift\"[%zu] is not finite", i);
  for (size_t i = 0; i < nf; i++) {
    const double *v = numbers + f[i].offset;
    size_t len = f[i].kind == KERNEL_FIELD_UPPER ? f[i].n * f[i].n : f[i].n;
    for (size_t k = 0; k < len; k++)
      if (!isfinite(v[k]))
        return invalid(err, "\"%s\" holds a number that is not finite", f[i].name);
    if (f[i].kind == KERNEL_FIELD_UPPER && strcmp(f[i].name, "com") == 0)
      for (size_t j = 0; j < f[i].n; j++)
        if (v[j * f[i].n + j] < 0)
          return invalid(err,
                         "\"com\" has the negative diagonal entry %g in column %zu: a sum of "
                         "squares cannot be negative",
                         v[j * f[i].n + j], j + 1);
  }
  return CSVREG_OK;
}

/* The sizes a version 3 line declared first (state_head.c): the reader
 * bounded the line by them, so they must be the state's. */
static csvreg_status check_bounds(const json_t *o, json_int_t version, size_t terms,
                                  csvreg_error *err) {
  json_t *b = json_object_get(o, "bounds");
  if (!b && version < 3)
    return CSVREG_OK;
  json_t *t = json_object_get(b, "terms"), *n = json_object_get(b, "text");
  if (!json_is_object(b) || json_object_size(b) != 2 || !json_is_integer(t) ||
      !json_is_integer(n) || json_integer_value(n) < 0)
    return bad(err, "\"bounds\" must be {\"terms\": T, \"text\": N}, the sizes a line of "
                    "version 3 declares first");
  if (json_integer_value(t) < 0 || (uint64_t)json_integer_value(t) != terms)
    return invalid(err, "\"bounds.terms\" (%lld) is not the number of \"terms\" (%zu)",
                   (long long)json_integer_value(t), terms);
  return CSVREG_OK;
}

csvreg_status csvreg__state_from_json_big(const json_t *o, const csvreg__jbig *bigs, size_t nbigs,
                                          csvreg_accum **out, csvreg_error *err) {
  *out = NULL;
  if (!json_is_object(o))
    return bad(err, "not a JSON object");
  const char *format = json_string_value(json_object_get(o, "format"));
  if (!format || strcmp(format, STATE_FORMAT) != 0)
    return bad(err, "no \"format\": \"" STATE_FORMAT "\" member");
  json_t *ver = json_object_get(o, "version");
  if (!json_is_integer(ver) || json_integer_value(ver) < 1)
    return bad(err, "no valid \"version\"");
  if (json_integer_value(ver) > STATE_VERSION)
    return csvreg__err_set(
        err, CSVREG_E_FORMAT,
        "state format version %lld is newer than this csvreg reads (%d): upgrade csvreg",
        (long long)json_integer_value(ver), STATE_VERSION);
  csvreg_solver solver;
  if (csvreg_solver_parse(json_string_value(json_object_get(o, "solver")), &solver))
    return bad(err, "unknown \"solver\"");
  json_t *icpt = json_object_get(o, "intercept"), *wtd = json_object_get(o, "weighted");
  json_t *shf = json_object_get(o, "shifted");
  const char *target = json_string_value(json_object_get(o, "target"));
  if (!json_is_boolean(icpt) || !json_is_boolean(wtd) || !json_is_boolean(shf) || !target)
    return bad(err, "missing \"intercept\", \"weighted\", \"shifted\" or \"target\"");
  size_t p = 0, ninputs = 0;
  int nomem = 0;
  const char **terms = get_names(json_object_get(o, "terms"), &p, &nomem);
  const char **inputs = get_names(json_object_get(o, "inputs"), &ninputs, &nomem);
  csvreg_accum *a = NULL;
  uint64_t *na_in = NULL;
  double *shift = NULL, *numbers = NULL;
  csvreg_status st;
  if (nomem) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  if (!terms || !inputs) {
    st = bad(err, "\"terms\" and \"inputs\" must be arrays of strings");
    goto done;
  }
  if ((st = check_bounds(o, json_integer_value(ver), p, err)))
    goto done;
  /* version 2, or 3 with a formula: the categorical part (state_levels.c) */
  const int framed = json_integer_value(ver) == 2 ||
                     (json_integer_value(ver) >= 3 &&
                      (json_object_get(o, "formula") || json_object_get(o, "factors") ||
                       json_object_get(o, "selected")));
  if ((st = csvreg__accum_new_named(&a, solver, p, json_is_true(icpt), terms, target, ninputs,
                                    inputs, err))) {
    /* A shape the accumulator refuses (no terms and no intercept, too many
     * terms) is a bad file here, not a bad call. */
    if (st != CSVREG_E_NOMEM) {
      char why[sizeof err->message];
      snprintf(why, sizeof why, "%s", err ? err->message : "unusable model shape");
      st = bad(err, why);
    }
    goto done;
  }
  const size_t m = csvreg__accum_ncols(a);
  na_in = calloc(ninputs ? ninputs : 1, sizeof *na_in);
  shift = malloc(m * sizeof *shift);
  /* the numbers go straight into the new accumulator's zeroed array (issue
   * 12: a copy or a loaded model held a second q x q array meanwhile) */
  numbers = (double *)csvreg__accum_kernel_numbers(a);
  if (!na_in || !shift || !numbers) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  json_t *na = json_object_get(o, "na_by_input"), *c = json_object_get(o, "counts");
  if (!json_is_array(na) || json_array_size(na) != ninputs || !json_is_object(c)) {
    st = bad(err, "\"na_by_input\" or \"counts\"");
    goto done;
  }
  for (size_t k = 0; k < ninputs; k++) {
    json_t *v = json_array_get(na, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
      st = bad(err, "\"na_by_input\" must hold counts");
      goto done;
    }
    na_in[k] = (uint64_t)json_integer_value(v);
  }
  accum_totals t;
  memset(&t, 0, sizeof t);
  if (get_count(c, "records", &t.counts.records) || get_count(c, "used", &t.counts.used) ||
      get_count(c, "zero_weight", &t.counts.zero_weight) ||
      get_count(c, "dropped_na", &t.counts.dropped_na) ||
      get_count(c, "dropped_bad", &t.counts.dropped_bad)) {
    st = bad(err, "\"counts\" must hold records, used, zero_weight, dropped_na, dropped_bad");
    goto done;
  }
  t.weighted = json_is_true(wtd);
  t.shifted = json_is_true(shf);
  int bad_numbers = get_hex(json_object_get(o, "sum_w"), &t.sum_w) ||
                    get_hex(json_object_get(o, "sum_log_w"), &t.sum_log_w) ||
                    get_hex_array(json_object_get(o, "shift"), shift, m);
  kernel_field f[KERNEL_MAX_FIELDS];
  size_t nf = csvreg__accum_kernel_fields(a, f);
  for (size_t i = 0; !bad_numbers && i < nf; i++) {
    json_t *v = json_object_get(o, f[i].name);
    double *dst = numbers + f[i].offset;
    const csvreg__jbig *b = find_big(v, bigs, nbigs);
    bad_numbers = b                                 ? get_big(b, dst, &f[i])
                  : f[i].kind == KERNEL_FIELD_UPPER ? get_packed_upper(v, dst, f[i].n)
                                                    : get_hex_array(v, dst, f[i].n);
  }
  if (bad_numbers) {
    st = bad(err, "numbers must be hex floats and the matrices of the right size");
    goto done;
  }
  if ((t.counts.used == 0) != (t.sum_w == 0) || t.sum_w < 0) {
    st = bad(err, "\"sum_w\" disagrees with \"counts.used\"");
    goto done;
  }
  if ((st = check_counts(&t.counts, na_in, ninputs, inputs, err)) ||
      (st = check_names(terms, p, target, inputs, ninputs, framed, err)) ||
      (st = check_numbers(f, nf, numbers, shift, m, &t, err)))
    goto done;
  csvreg__accum_restore(a, &t, na_in, shift, numbers);
  st = framed ? csvreg__state_levels_get(o, a, err) : CSVREG_OK;
done:
  free(terms);
  free(inputs);
  free(na_in);
  free(shift);
  if (st)
    csvreg_accum_free(a);
  else
    *out = a;
  return st;
}

csvreg_status csvreg__state_from_json(const json_t *o, csvreg_accum **out, csvreg_error *err) {
  return csvreg__state_from_json_big(o, NULL, 0, out, err);
}

/* jansson refuses a string that is not UTF-8; the names are tiny, so a NULL
 * here means the encoding, not memory. */
static int name_is_utf8(const char *s) {
  json_t *v = json_string(s);
  int ok = v != NULL;
  json_decref(v);
  return ok;
}

csvreg_status csvreg__state_check_names(const csvreg_accum *a, csvreg_error *err) {
  const char *bad = NULL;
  if (csvreg__accum_target_name(a) && !name_is_utf8(csvreg__accum_target_name(a)))
    bad = csvreg__accum_target_name(a);
  for (size_t j = 0; !bad && j < csvreg__accum_nterms(a); j++)
    if (!name_is_utf8(csvreg__accum_term_name(a, j)))
      bad = csvreg__accum_term_name(a, j);
  for (size_t k = 0; !bad && k < csvreg__accum_ninputs(a); k++)
    if (!name_is_utf8(csvreg__accum_input_name(a, k)))
      bad = csvreg__accum_input_name(a, k);
  if (!bad)
    return CSVREG_OK;
  char q[160];
  csvreg__err_quote(q, sizeof q, bad, strlen(bad), 40);
  return csvreg__err_set(
      err, CSVREG_E_VALUE,
      "column name \"%s\" is not valid UTF-8: a state or model file cannot hold it", q);
}

/* The checked state object of `a`, for a copy or a file: a small tree, the
 * kernel's numbers in `bigs` (KERNEL_MAX_FIELDS). */
static csvreg_status checked_json(const csvreg_accum *a, json_t **out, csvreg__jbig *bigs,
                                  size_t *nbigs, csvreg_error *err) {
  csvreg_status st = csvreg__state_check_names(a, err);
  if (st)
    return st;
  if (!(*out = csvreg__state_to_json_big(a, bigs, nbigs)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return CSVREG_OK;
}

/* A deep copy through the exact state object: one code path for copies and
 * files (the kernel's numbers are copied from the array, not through text).
 * jansson's out of memory is told from a bad name (json_mem.c). */
csvreg_status csvreg_accum_copy(const csvreg_accum *a, csvreg_accum **out, csvreg_error *err) {
  if (a && csvreg__accum_check_live(a, err))
    return CSVREG_E_USAGE;
  if (!a || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "accum_copy: NULL argument");
  *out = NULL;
  unsigned long mark = csvreg__json_mem_failures();
  json_t *o = NULL;
  csvreg__jbig bigs[KERNEL_MAX_FIELDS];
  size_t nbigs = 0;
  csvreg_status st = checked_json(a, &o, bigs, &nbigs, err);
  if (!st)
    st = csvreg__state_from_json_big(o, bigs, nbigs, out, err);
  json_decref(o);
  if ((st = csvreg__json_mem_check(mark, st, err))) {
    csvreg_accum_free(*out);
    *out = NULL;
  }
  return st;
}

/* A line is version 3: "bounds" first (state_head.c), its "text" the
 * length of the line with the kernel's arrays written as `[]`, the
 * checksum's member (of fixed length) included. The length is measured
 * with a stand-in checksum; "text" holds its own digits, so the count is
 * taken again until its width stops changing. The tree keeps the layout
 * of versions 1 and 2 otherwise ("formula" says it is framed). */
static csvreg_status declare_bounds(json_t *o, size_t terms, csvreg_error *err) {
  json_t *b = json_pack("{s:I, s:I}", "terms", (json_int_t)terms, "text", (json_int_t)0);
  if (!b || json_object_set_new(o, "bounds", b) ||
      json_object_set_new(o, "version", json_integer(STATE_VERSION)) ||
      json_object_set_new(o, "checksum", json_string("crc32:00000000")))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg__jsink_init(s, JSINK_CRC, NULL);
  int failed = csvreg__jwrite(s, o, 0, NULL, 0); /* "text":0, one digit */
  uint64_t base = s->total - 1, text = base + 1;
  free(s);
  json_object_del(o, "checksum");
  if (failed)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (int digits = 1; digits < 21; digits++) {
    char d[24];
    text = base + (uint64_t)digits;
    if ((int)snprintf(d, sizeof d, "%llu", (unsigned long long)text) == digits)
      break;
  }
  if (json_object_set_new(b, "text", json_integer((json_int_t)text)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return CSVREG_OK;
}

/* The state line (no line feed) into `sink`: its checksum first, over the
 * canonical text streamed into a CRC-32, then the text itself. Nothing goes
 * to the sink before the state is known to be writable (names, metadata,
 * memory for the checksum). */
static csvreg_status accum_write(const csvreg_accum *a, const char *meta_json, csvreg__jsink *sink,
                                 csvreg_error *err) {
  json_t *o = NULL;
  csvreg__jbig bigs[KERNEL_MAX_FIELDS];
  size_t nbigs = 0;
  csvreg_status st = checked_json(a, &o, bigs, &nbigs, err);
  if (st)
    return st;
  if (meta_json) {
    json_error_t je;
    json_t *meta = json_loads(meta_json, 0, &je);
    if (!json_is_object(meta)) {
      json_decref(meta);
      json_decref(o);
      return csvreg__err_set(err, CSVREG_E_USAGE, "state metadata is not a JSON object");
    }
    json_object_set_new(o, "meta", meta);
  }
  char sum[32];
  if ((st = declare_bounds(o, csvreg__accum_nterms(a), err))) {
    json_decref(o);
    return st;
  }
  if (!(st = csvreg__state_checksum_big(o, bigs, nbigs, sum, err))) {
    json_object_set_new(o, "checksum", json_string(sum));
    int failed = csvreg__jwrite(sink, o, 0, bigs, nbigs);
    if (failed == 2)
      st = csvreg__err_set(err, CSVREG_E_IO, "error writing the state: %s", strerror(sink->err_no));
    else if (failed)
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  json_decref(o);
  return st;
}

/* Out of memory in jansson reads as a JSON error or a checksum mismatch:
 * json_mem.c tells them apart. With `scan`, the big arrays are read by
 * state_scan.c and jansson parses the rest (the same result and errors:
 * any text that path does not take goes to jansson whole). */
csvreg_status csvreg__state_parse_scan(const char *text, size_t len, json_t **out,
                                       csvreg__jscan *scan, csvreg_error *err) {
  *out = NULL;
  unsigned long mark = csvreg__json_mem_failures();
  json_error_t je;
  json_t *o = NULL;
  int fast = scan ? csvreg__jscan_text(text, len, 0, scan) : 0;
  if (fast < 0)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  if (fast)
    o = csvreg__jscan_tree(scan); /* NULL: jansson on the whole text says what is wrong */
  if (!o)
    o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!o)
    return csvreg__json_mem_check(
        mark,
        csvreg__err_set(err, CSVREG_E_FORMAT, "not a valid csvreg state: JSON error at byte %d: %s",
                        je.position, je.text),
        err);
  csvreg_status st;
  const char *have = json_string_value(json_object_get(o, "checksum"));
  char want[32];
  if (!have)
    st = bad(err, "no \"checksum\" member");
  else if (!(st = csvreg__state_checksum_big(o, scan ? scan->big : NULL, scan ? scan->nbig : 0,
                                             want, err)) &&
           strcmp(have, want) != 0)
    st = csvreg__err_set(
        err, CSVREG_E_FORMAT,
        "state checksum mismatch (%s, computed %s): the state was edited or damaged", have, want);
  if ((st = csvreg__json_mem_check(mark, st, err))) {
    json_decref(o);
    csvreg__jscan_free(scan);
  } else {
    *out = o;
  }
  return st;
}

csvreg_status csvreg__state_parse(const char *text, size_t len, json_t **out, csvreg_error *err) {
  return csvreg__state_parse_scan(text, len, out, NULL, err);
}

static csvreg_status accum_load(csvreg_accum **out, const char *text, size_t len, char **meta_json,
                                csvreg_error *err) {
  json_t *o;
  csvreg__jscan scan;
  memset(&scan, 0, sizeof scan);
  csvreg_status st = csvreg__state_parse_scan(text, len, &o, &scan, err);
  if (!st && !(st = csvreg__state_from_json_big(o, scan.big, scan.nbig, out, err)) && meta_json) {
    json_t *meta = json_object_get(o, "meta");
    if (meta && !(*meta_json = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS))) {
      csvreg_accum_free(*out);
      *out = NULL;
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
  }
  json_decref(o);
  csvreg__jscan_free(&scan);
  return st;
}

/* The two below tell out of memory in jansson from a bad state, a bad column
 * name or metadata, and never return a document jansson left incomplete. */
csvreg_status csvreg_accum_save(const csvreg_accum *a, const char *meta_json, char **out,
                                csvreg_error *err) {
  if (a && csvreg__accum_check_live(a, err))
    return CSVREG_E_USAGE;
  *out = NULL;
  unsigned long mark = csvreg__json_mem_failures();
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg__jsink_init(s, JSINK_BUF, NULL);
  csvreg_status st = csvreg__json_mem_check(mark, accum_write(a, meta_json, s, err), err);
  if (!st && !s->buf && !(s->buf = calloc(1, 1)))
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  if (st)
    free(s->buf);
  else
    *out = s->buf;
  free(s);
  return st;
}

csvreg_status csvreg_accum_write(const csvreg_accum *a, const char *meta_json, FILE *fp,
                                 csvreg_error *err) {
  if (a && csvreg__accum_check_live(a, err))
    return CSVREG_E_USAGE;
  if (!a || !fp)
    return csvreg__err_set(err, CSVREG_E_USAGE, "accum_write: NULL argument");
  unsigned long mark = csvreg__json_mem_failures();
  csvreg__jsink *s = malloc(sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg__jsink_init(s, JSINK_FILE, fp);
  csvreg_status st = accum_write(a, meta_json, s, err);
  if (st != CSVREG_E_IO)
    st = csvreg__json_mem_check(mark, st, err);
  int e = s->err_no;
  free(s);
  if (st == CSVREG_E_IO)
    errno = e; /* the caller's ferror check reports the write's error */
  return st;
}

csvreg_status csvreg_accum_load(csvreg_accum **out, const char *text, size_t len, char **meta_json,
                                csvreg_error *err) {
  *out = NULL;
  if (meta_json)
    *meta_json = NULL;
  unsigned long mark = csvreg__json_mem_failures();
  csvreg_status st = csvreg__json_mem_check(mark, accum_load(out, text, len, meta_json, err), err);
  if (st) {
    csvreg_accum_free(*out);
    *out = NULL;
    if (meta_json) {
      free(*meta_json);
      *meta_json = NULL;
    }
  }
  return st;
}
