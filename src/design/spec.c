/*
 * spec.c - what to fit: resolves the user's column choices (names or 1-based
 * positions) against the header into *input columns* (cells that are parsed)
 * and *model terms* (columns of the design). Each term is one input column,
 * unless a feature holds text (csvreg_spec_options.text_columns): then the
 * options spell the formula `target ~ f1 + f2 + ...` and the spec is that
 * formula's (spec_formula.c), with the text columns categorical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "spec.h"

void csvreg_spec_options_init(csvreg_spec_options *o) {
  memset(o, 0, sizeof *o);
  o->intercept = 1;
}

void csvreg_spec_free(csvreg_spec *s) {
  if (!s)
    return;
  if (s->input_names)
    for (size_t k = 0; k < s->ninputs; k++)
      free(s->input_names[k]);
  free(s->input_names);
  free(s->input_cols);
  free(s->term_input);
  free(s->key_input);
  csvreg_na_free(s->na);
  csvreg__spec_free_formula(s);
  free(s);
}

/* A column reference: an exact name first (it must be unique), else a
 * 1-based position. Returns the 0-based index or an error naming `role`. */
static csvreg_status resolve(const char *ref, size_t len, const char *role,
                             const char *const *names, size_t ncols, size_t *out,
                             csvreg_error *err) {
  size_t found = ncols, count = 0;
  for (size_t j = 0; j < ncols; j++) {
    if (strlen(names[j]) == len && memcmp(names[j], ref, len) == 0) {
      if (count++ == 0)
        found = j;
      else
        return csvreg__err_set(err, CSVREG_E_COLUMN,
                               "%s column '%.*s' is ambiguous: columns %zu and %zu share the name",
                               role, (int)len, ref, found + 1, j + 1);
    }
  }
  if (count) {
    *out = found;
    return CSVREG_OK;
  }
  size_t pos = 0, i = 0;
  for (; i < len && ref[i] >= '0' && ref[i] <= '9' && pos <= ncols; i++)
    pos = pos * 10 + (size_t)(ref[i] - '0');
  if (len > 0 && i == len) {
    if (pos >= 1 && pos <= ncols) {
      *out = pos - 1;
      return CSVREG_OK;
    }
    return csvreg__err_set(err, CSVREG_E_COLUMN,
                           "%s column %.*s is out of range: the input has %zu columns", role,
                           (int)len, ref, ncols);
  }
  if (len == 0)
    return csvreg__err_set(err, CSVREG_E_COLUMN, "empty %s column name", role);
  return csvreg__spec_no_column(err, role, ref, len, names, ncols);
}

/* The unknown-column error, with what the user needs to fix it: the nearest
 * name ("did you mean"), the header's names (the first few), and for a header
 * of one field that holds tabs, semicolons or bars a hint that the delimiter
 * is wrong (a .tsv read as CSV has one column named "a\tb\tc"). */
csvreg_status csvreg__spec_no_column(csvreg_error *err, const char *role, const char *ref,
                                     size_t len, const char *const *names, size_t ncols) {
  char q[96], list[320];
  csvreg__err_quote(q, sizeof q, ref, len, 64);
  if (ncols == 1) {
    static const struct {
      char c;
      const char *option;
    } delims[] = {{'\t', "-d tab"}, {';', "-d ';'"}, {'|', "-d '|'"}, {',', "-d ,"}};
    for (size_t d = 0; d < sizeof delims / sizeof delims[0]; d++)
      if (strchr(names[0], delims[d].c)) {
        char h[96];
        csvreg__err_quote(h, sizeof h, names[0], strlen(names[0]), 48);
        return csvreg__err_set(err, CSVREG_E_COLUMN,
                               "no %s column named '%s': the header has one field, \"%s\"; is the "
                               "delimiter wrong? (try %s)",
                               role, q, h, delims[d].option);
      }
  }
  size_t used = 0;
  list[0] = '\0';
  for (size_t j = 0; j < ncols && used + 1 < sizeof list; j++) {
    char name[64];
    csvreg__err_quote(name, sizeof name, names[j], strlen(names[j]), 40);
    int w = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", name);
    if (w < 0 || (size_t)w >= sizeof list - used - 16 || j == 11) {
      list[used] = '\0';
      snprintf(list + used, sizeof list - used, ", ... (%zu in all)", ncols);
      break;
    }
    used += (size_t)w;
  }
  size_t near = csvreg_closest_name(ref, len, names, ncols);
  if (near < ncols) {
    char m[96];
    csvreg__err_quote(m, sizeof m, names[near], strlen(names[near]), 64);
    return csvreg__err_set(err, CSVREG_E_COLUMN,
                           "no %s column named '%s' in the header; did you mean '%s'? (columns: "
                           "%s)",
                           role, q, m, list);
  }
  return csvreg__err_set(err, CSVREG_E_COLUMN,
                         "no %s column named '%s' in the header (columns: %s)", role, q, list);
}

/* Adds column j to the input list unless it is there; returns its index k.
 * where[j] is j's index in the list (SIZE_MAX: not in it), so a header of
 * 10^6 columns is resolved in linear time (issue 17 item 10: the list was
 * searched for every column, 172 s to fail on such a header). */
static size_t add_input(csvreg_spec *s, size_t *where, size_t j) {
  if (where[j] != SIZE_MAX)
    return where[j];
  s->input_cols[s->ninputs] = j;
  return where[j] = s->ninputs++;
}

/* The header's names in an open-addressing table: for each distinct name its
 * first column and the second (SIZE_MAX: none), which is what check_unique
 * needs to name the smallest other column with the same name. */
typedef struct name_slot {
  size_t first, second; /* first == SIZE_MAX: empty slot */
} name_slot;

static uint64_t name_hash(const char *p) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211u;
  return h;
}

/* NULL when out of memory; *mask is the table's size less one. */
static name_slot *name_table(const char *const *names, size_t ncols, size_t *mask) {
  size_t cap = 16;
  while (cap < 2 * ncols)
    cap *= 2;
  name_slot *t = malloc(cap * sizeof *t);
  if (!t)
    return NULL;
  for (size_t i = 0; i < cap; i++)
    t[i].first = t[i].second = SIZE_MAX;
  for (size_t j = 0; j < ncols; j++) {
    size_t i = (size_t)name_hash(names[j]) & (cap - 1);
    while (t[i].first != SIZE_MAX && strcmp(names[t[i].first], names[j]) != 0)
      i = (i + 1) & (cap - 1);
    if (t[i].first == SIZE_MAX)
      t[i].first = j;
    else if (t[i].second == SIZE_MAX)
      t[i].second = j;
  }
  *mask = cap - 1;
  return t;
}

/* A name shared by two columns cannot be reported unambiguously; refuse it
 * for every column the model uses, even when it was chosen by position. */
static csvreg_status check_unique(const char *const *names, const name_slot *t, size_t mask,
                                  size_t j, csvreg_error *err) {
  size_t i = (size_t)name_hash(names[j]) & mask;
  while (strcmp(names[t[i].first], names[j]) != 0)
    i = (i + 1) & mask;
  size_t other = t[i].first != j ? t[i].first : t[i].second;
  if (other != SIZE_MAX)
    return csvreg__err_set(err, CSVREG_E_COLUMN,
                           "duplicate column name '%s' (columns %zu and %zu): rename one", names[j],
                           (other < j ? other : j) + 1, (other < j ? j : other) + 1);
  return CSVREG_OK;
}

/* A name as a formula reads it back: always backquoted, with ` and \
 * escaped (the formula names a syntactic name without its quotes, as R). */
static void put_name(char **p, const char *name) {
  *(*p)++ = '`';
  for (; *name; name++) {
    if (*name == '`' || *name == '\\')
      *(*p)++ = '\\';
    *(*p)++ = *name;
  }
  *(*p)++ = '`';
}

/* -y/-x with a text feature: the spec of the formula they spell,
 * `target ~ f1 + f2 + ...` in the features' order (R's read.csv + lm: the
 * text columns categorical). The columns were resolved in `s`; the target
 * and the weights are read as numbers whatever the sample said. */
static csvreg_status as_formula(csvreg_spec **out, const csvreg_spec *s, const char *const *names,
                                size_t ncols, const csvreg_spec_options *o, csvreg_error *err) {
  size_t len = 8;
  for (size_t k = 0; k < s->ninputs; k++)
    len += 2 * strlen(names[s->input_cols[k]]) + 8;
  char *text = malloc(len);
  unsigned char *flags = malloc(ncols);
  csvreg_status st = CSVREG_OK;
  if (!text || !flags) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto done;
  }
  char *p = text;
  put_name(&p, names[s->input_cols[s->target_input]]);
  memcpy(p, " ~ ", 3);
  p += 3;
  for (size_t t = 0; t < s->nterms; t++) {
    if (t) {
      memcpy(p, " + ", 3);
      p += 3;
    }
    put_name(&p, names[s->input_cols[s->term_input[t]]]);
  }
  *p = '\0';
  memcpy(flags, o->text_columns, ncols);
  flags[s->input_cols[s->target_input]] = 0;
  csvreg_spec_options fo = *o;
  fo.target = NULL;
  fo.features = NULL;
  fo.weights = s->weights_input >= 0 ? names[s->input_cols[s->weights_input]] : NULL;
  if (s->weights_input >= 0)
    flags[s->input_cols[s->weights_input]] = 0;
  st = csvreg__spec_new_formula_text(out, names, ncols, flags, text, &fo, NULL, err);
done:
  free(text);
  free(flags);
  return st;
}

csvreg_status csvreg_spec_new(csvreg_spec **out, const char *const *names, size_t ncols,
                              const csvreg_spec_options *o, csvreg_error *err) {
  *out = NULL;
  if (!o || !names || ncols == 0)
    return csvreg__err_set(err, CSVREG_E_USAGE, "no columns to choose from");
  if (!o->target)
    return csvreg__err_set(err, CSVREG_E_USAGE, "no target column given");
  csvreg_spec *s = calloc(1, sizeof *s);
  if (!s)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  csvreg_status st = CSVREG_OK;
  s->ncolumns = ncols;
  s->intercept = o->intercept ? 1 : 0;
  s->skip_bad = o->skip_bad ? 1 : 0;
  s->input_cols = malloc((ncols + 2) * sizeof *s->input_cols);
  s->term_input = malloc((ncols + 1) * sizeof *s->term_input);
  size_t *where = malloc(ncols * sizeof *where), mask = 0;
  name_slot *table = NULL;
  if (!s->input_cols || !s->term_input || !where) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto fail;
  }
  for (size_t j = 0; j < ncols; j++)
    where[j] = SIZE_MAX;
  size_t target, weights = ncols;
  if ((st = resolve(o->target, strlen(o->target), "target", names, ncols, &target, err)))
    goto fail;
  if (o->weights &&
      (st = resolve(o->weights, strlen(o->weights), "weights", names, ncols, &weights, err)))
    goto fail;
  if (weights == target) {
    st = csvreg__err_set(err, CSVREG_E_COLUMN,
                         "column '%s' cannot be both the target and the weights", names[target]);
    goto fail;
  }

  if (o->features) {
    const char *p = o->features;
    for (;;) {
      const char *e = strchr(p, ',');
      size_t len = e ? (size_t)(e - p) : strlen(p), j;
      /* `-x 'wt, hp'`: spaces around an item are the list's, not the name's,
       * unless a column is named with them. */
      if ((st = resolve(p, len, "feature", names, ncols, &j, err))) {
        const char *b = p;
        size_t n = len;
        while (n && (*b == ' ' || *b == '\t'))
          b++, n--;
        while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
          n--;
        if (n == len || (st = resolve(b, n, "feature", names, ncols, &j, err)))
          goto fail;
      }
      if (j == target || j == weights) {
        st = csvreg__err_set(err, CSVREG_E_COLUMN,
                             "column '%s' is the %s and cannot also be a feature", names[j],
                             j == target ? "target" : "weights");
        goto fail;
      }
      if (where[j] != SIZE_MAX) { /* only features are in the list yet */
        st = csvreg__err_set(err, CSVREG_E_COLUMN, "feature '%s' is listed twice", names[j]);
        goto fail;
      }
      s->term_input[s->nterms++] = add_input(s, where, j);
      if (!e)
        break;
      p = e + 1;
    }
  } else {
    for (size_t j = 0; j < ncols; j++)
      if (j != target && j != weights)
        s->term_input[s->nterms++] = add_input(s, where, j);
  }
  if (s->nterms > CSVREG_MAX_TERMS) {
    st = csvreg__err_set(err, CSVREG_E_LIMIT, "%zu features: at most %d are supported", s->nterms,
                         CSVREG_MAX_TERMS);
    goto fail;
  }
  s->target_input = (ptrdiff_t)add_input(s, where, target);
  s->weights_input = weights < ncols ? (ptrdiff_t)add_input(s, where, weights) : -1;

  s->input_names = calloc(s->ninputs, sizeof *s->input_names);
  table = name_table(names, ncols, &mask);
  if (!s->input_names || !table) {
    st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    goto fail;
  }
  for (size_t k = 0; k < s->ninputs; k++) {
    if ((st = check_unique(names, table, mask, s->input_cols[k], err)))
      goto fail;
    if (!(s->input_names[k] = csvreg__xstrdup(names[s->input_cols[k]]))) {
      st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      goto fail;
    }
  }
  free(where);
  free(table);
  where = NULL;
  table = NULL;
  if (o->text_columns) {
    for (size_t t = 0; t < s->nterms; t++)
      if (o->text_columns[s->input_cols[s->term_input[t]]]) {
        st = as_formula(out, s, names, ncols, o, err);
        csvreg_spec_free(s);
        return st;
      }
  }
  if ((st = csvreg_na_new(&s->na, o->na, err)))
    goto fail;
  *out = s;
  return CSVREG_OK;
fail:
  free(where);
  free(table);
  csvreg_spec_free(s);
  return st;
}

size_t csvreg_spec_nterms(const csvreg_spec *s) { return s->nterms; }
const char *csvreg_spec_term_name(const csvreg_spec *s, size_t i) {
  if (i >= s->nterms)
    return NULL;
  return s->term_names ? s->term_names[i] : s->input_names[s->term_input[i]];
}
const char *csvreg_spec_target_name(const csvreg_spec *s) {
  if (s->target_expr)
    return s->target_expr;
  return s->target_input < 0 ? NULL : s->input_names[s->target_input];
}
const char *csvreg_spec_weights_name(const csvreg_spec *s) {
  return s->weights_input < 0 ? NULL : s->input_names[s->weights_input];
}
int csvreg_spec_intercept(const csvreg_spec *s) { return s->intercept; }
size_t csvreg_spec_ninputs(const csvreg_spec *s) { return s->ninputs; }
size_t csvreg_spec_input_column(const csvreg_spec *s, size_t k) {
  return k < s->ninputs ? s->input_cols[k] : (size_t)-1;
}
const char *csvreg_spec_input_name(const csvreg_spec *s, size_t k) {
  return k < s->ninputs ? s->input_names[k] : NULL;
}

csvreg_status csvreg__spec_add_keys(csvreg_spec *s, const size_t *cols, const char *const *names,
                                    size_t n, csvreg_error *err) {
  if (!s || s->nkeys || (n && (!cols || !names)))
    return csvreg__err_set(err, CSVREG_E_USAGE, "spec_add_keys: bad arguments");
  size_t m = s->ninputs + n;
  size_t *ic = realloc(s->input_cols, m * sizeof *ic);
  if (ic)
    s->input_cols = ic;
  char **in = ic ? realloc(s->input_names, m * sizeof *in) : NULL;
  if (in)
    s->input_names = in;
  unsigned char *tx = in ? realloc(s->input_text, m) : NULL;
  if (tx && !s->input_text)
    memset(tx, 0, s->ninputs);
  if (tx)
    s->input_text = tx;
  s->key_input = tx ? calloc(n ? n : 1, sizeof *s->key_input) : NULL;
  if (!s->key_input)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t q = 0; q < n; q++) {
    size_t k = 0;
    while (k < s->ninputs && s->input_cols[k] != cols[q])
      k++;
    if (k == s->ninputs) {
      if (!(s->input_names[k] = csvreg__xstrdup(names[q])))
        return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
      s->input_cols[k] = cols[q];
      s->input_text[k] = 2;
      s->ninputs++;
    }
    s->key_input[q] = k;
  }
  s->nkeys = n;
  return CSVREG_OK;
}
