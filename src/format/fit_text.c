/*
 * fit_text.c - the lines a formula's text report adds under its title: the
 * formula as R's summary.lm shows it in its "Call:" line (deparsed: spaces
 * around ~ + - *, none around : ^ /), each categorical variable's level
 * count and baseline (the level whose column treatment contrasts drop, so a
 * reader knows what each dummy column is measured against), and the
 * transforms (variables computed from the columns). The fit keeps only the
 * formula's text and the final levels (model files and states keep no
 * more), so the formula is parsed and expanded again here against the
 * fit's inputs: the transforms and the coding of each factor are structure,
 * not data. A `.` expands to bare columns, which are never transforms, so
 * the header the fit lacks does not matter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit_impl.h"
#include "formula.h"
#include "internal.h"

/* A growing string (the library has no memory streams: C11 alone). */
typedef struct tbuf {
  char *s;
  size_t n, cap;
  int oom;
} tbuf;

static void put(tbuf *b, const char *fmt, ...) CSVREG_PRINTF(2, 3);
static void put(tbuf *b, const char *fmt, ...) {
  if (b->oom)
    return;
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (len < 0) {
    b->oom = 1;
    return;
  }
  if (b->n + (size_t)len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + (size_t)len + 1)
      cap *= 2;
    char *t = realloc(b->s, cap);
    if (!t) {
      b->oom = 1;
      return;
    }
    b->s = t;
    b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
  va_end(ap);
  b->n += (size_t)len;
}

/* A level as R prints a string: in double quotes, with \" \\ and control
 * bytes escaped (a level may hold any byte the CSV cell held). */
static void put_quoted(tbuf *out, const char *s) {
  put(out, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '"': put(out, "\\\""); break;
    case '\\': put(out, "\\\\"); break;
    case '\n': put(out, "\\n"); break;
    case '\t': put(out, "\\t"); break;
    case '\r': put(out, "\\r"); break;
    default:
      if (c < 0x20 || c == 0x7f)
        put(out, "\\x%02x", c);
      else
        put(out, "%c", c);
    }
  }
  put(out, "\"");
}

/* The expanded formula of the fit, or NULL when it does not rebuild (then
 * the report shows the formula as given and nothing more). */
static csvreg__formula *expand_again(const csvreg_fit *f) {
  csvreg__formula *fm = NULL;
  if (csvreg__formula_parse(&fm, f->formula, NULL, NULL) != CSVREG_OK)
    return NULL;
  if (csvreg__formula_expand(fm, (const char *const *)f->input_names, f->s.ninputs, NULL, 0, NULL,
                             NULL) != CSVREG_OK) {
    csvreg__formula_free(fm);
    return NULL;
  }
  return fm;
}

/* Whether variable v of the expanded formula is one of the fit's factors. */
static int is_factor(const csvreg_fit *f, const csvreg__formula *fm, size_t v) {
  for (size_t k = 0; k < f->nfactors; k++)
    if (strcmp(fm->vars[v].name, f->factor_names[k]) == 0)
      return 1;
  return 0;
}

/* 1 when some term codes variable v by contrasts (a baseline dropped);
 * 0 when every term that holds it has a column for each level. As
 * model.matrix (csvreg__formula_columns), without an intercept the first
 * factor of the first term holding one has a column for each level. */
static int has_baseline(const csvreg_fit *f, const csvreg__formula *fm, size_t v) {
  int first = !fm->intercept;
  for (size_t t = 0; t < fm->nterms; t++)
    for (size_t i = 0; i < fm->terms[t].nvars; i++) {
      size_t u = fm->terms[t].vars[i];
      int all = first && is_factor(f, fm, u);
      if (all)
        first = 0;
      if (u == v && fm->terms[t].code[i] == 1 && !all)
        return 1;
    }
  return 0;
}

static void write_lines(tbuf *out, const csvreg_fit *f, const csvreg__formula *fm) {
  char *dep = fm ? csvreg__formula_deparse(fm) : NULL;
  put(out, "Formula: %s\n", dep ? dep : f->formula);
  free(dep);
  for (size_t k = 0; k < f->nfactors; k++) {
    size_t v = 0;
    while (fm && v < fm->nvars && strcmp(fm->vars[v].name, f->factor_names[k]) != 0)
      v++;
    const int coded = !fm || v == fm->nvars || has_baseline(f, fm, v);
    put(out, "Factor %s: %zu level%s, ", f->factor_names[k], f->factor_nlev[k],
        f->factor_nlev[k] == 1 ? "" : "s");
    if (coded && f->factor_nlev[k]) {
      put(out, "baseline ");
      put_quoted(out, f->factor_levels[k][0]);
      put(out, "\n");
    } else {
      put(out, "a column for each level (no baseline)\n");
    }
  }
  const char *sep = "Transforms: ";
  for (size_t v = 0; fm && v < fm->nvars; v++) {
    if (fm->vars[v].kind != CSVREG__VAR_EXPR && fm->vars[v].kind != CSVREG__VAR_POLY)
      continue;
    put(out, "%s%s%s", sep, fm->vars[v].name, v == 0 && fm->has_response ? " (response)" : "");
    sep = ", ";
  }
  if (sep[0] == ',')
    put(out, "\n");
}

csvreg_status csvreg_fit_formula_lines(const csvreg_fit *f, char **out, csvreg_error *err) {
  if (!f || !out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "fit_formula_lines: NULL argument");
  *out = NULL;
  if (!f->formula)
    return CSVREG_OK;
  tbuf b = {0};
  csvreg__formula *fm = expand_again(f);
  write_lines(&b, f, fm);
  csvreg__formula_free(fm);
  if (b.oom || !b.s) {
    free(b.s);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  *out = b.s;
  return CSVREG_OK;
}
