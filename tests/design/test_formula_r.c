/*
 * test_formula_r.c REF_DIR - compares csvreg's formula expansion with R's.
 * formula_ref.R wrote REF_DIR/data.csv and REF_DIR/ref.txt: for each formula
 * R's term labels, intercept and the columns of model.matrix (names and
 * values as hex floats). This program expands each formula with the
 * library's formula module, builds every design column from the data (levels
 * sorted by bytes, factor() of a number by value, relevel's baseline first)
 * and counts mismatches: labels and names must be equal, values equal to the
 * bit (a difference of one ulp is counted apart and tolerated).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvreg.h"
#include "expr.h"
#include "formula.h"

#define MAXR 64
#define MAXC 16

static size_t nrows, ncols;
static char *names[MAXC];
static char *cell[MAXR][MAXC];
static double num[MAXC * MAXR]; /* column-major, ld MAXR */
static int is_text[MAXC];

static char *dupn(const char *s, size_t n) {
  char *p = malloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static size_t split(char *line, char **out) {
  size_t k = 0;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *s = line;; k++) {
    char *c = strchr(s, ',');
    out[k] = dupn(s, c ? (size_t)(c - s) : strlen(s));
    if (!c)
      return k + 1;
    s = c + 1;
  }
}

static void read_csv(const char *path) {
  FILE *fp = fopen(path, "r");
  if (!fp) {
    perror(path);
    exit(2);
  }
  char line[4096];
  if (!fgets(line, sizeof line, fp))
    exit(2);
  ncols = split(line, names);
  while (fgets(line, sizeof line, fp) && nrows < MAXR)
    split(line, cell[nrows++]);
  fclose(fp);
  for (size_t j = 0; j < ncols; j++)
    for (size_t i = 0; i < nrows; i++) {
      double v;
      if (csvreg_parse_double(cell[i][j], strlen(cell[i][j]), &v) != CSVREG_OK)
        is_text[j] = 1;
      else
        num[j * MAXR + i] = v;
    }
}

static size_t column(const char *name) {
  for (size_t j = 0; j < ncols; j++)
    if (strcmp(names[j], name) == 0)
      return j;
  fprintf(stderr, "no column %s\n", name);
  exit(2);
}

static int by_bytes(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}
static size_t sort_col;
static int by_value(const void *a, const void *b) {
  double x, y;
  csvreg_parse_double(*(char *const *)a, strlen(*(char *const *)a), &x);
  csvreg_parse_double(*(char *const *)b, strlen(*(char *const *)b), &y);
  (void)sort_col;
  return x < y ? -1 : x > y;
}

/* Distinct values of column j, sorted; relevel's ref moved to the front. */
static size_t levels_of(size_t j, int numeric, const char *ref, const char **out) {
  size_t n = 0;
  for (size_t i = 0; i < nrows; i++) {
    size_t k = 0;
    while (k < n && strcmp(out[k], cell[i][j]) != 0)
      k++;
    if (k == n)
      out[n++] = cell[i][j];
  }
  qsort(out, n, sizeof *out, numeric ? by_value : by_bytes);
  if (ref)
    for (size_t k = 0; k < n; k++)
      if (strcmp(out[k], ref) == 0) {
        const char *r = out[k];
        memmove(out + 1, out, k * sizeof *out);
        out[0] = r;
      }
  return n;
}

static uint64_t bits(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_formula_r REF_DIR\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/data.csv", argv[1]);
  read_csv(path);
  snprintf(path, sizeof path, "%s/ref.txt", argv[1]);
  FILE *fp = fopen(path, "r");
  if (!fp) {
    perror(path);
    return 2;
  }
  static char line[1 << 16];
  size_t nform = 0, bad_label = 0, bad_name = 0, bad_value = 0, ulp1 = 0, nvalues = 0;
  size_t ncolumns = 0, nlabels = 0;
  csvreg__formula *f = NULL;
  csvreg__dcols *dc = NULL;
  size_t li = 0, ci = 0;
  int failed = 0; /* this formula */
  double *vals = NULL;
  const char *fname = "";
  static char ftext[4096];
  static int cat[64];
  static size_t nlev[64];
  static const char **lev[64];
  static const char *levbuf[64][MAXR];
  while (fgets(line, sizeof line, fp)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == 'F') {
      snprintf(ftext, sizeof ftext, "%s", line + 2);
      fname = ftext;
      nform++;
      failed = 0;
      li = ci = 0;
      csvreg_error err;
      size_t where;
      if (csvreg__formula_parse(&f, fname, &where, &err) != CSVREG_OK ||
          csvreg__formula_expand(f, (const char *const *)names, ncols, NULL, 0, &where, &err) !=
              CSVREG_OK) {
        printf("FAIL %s: %s (at %zu)\n", fname, err.message, where);
        bad_label++;
        failed = 1;
        csvreg__formula_free(f);
        f = NULL;
        continue;
      }
      /* categorical variables and their levels */
      memset(cat, 0, sizeof cat);
      memset(nlev, 0, sizeof nlev);
      memset(lev, 0, sizeof lev);
      for (size_t v = 0; v < f->nvars && v < 64; v++) {
        const csvreg__fvar *fv = &f->vars[v];
        if (fv->kind != CSVREG__VAR_COLUMN && fv->kind != CSVREG__VAR_FACTOR)
          continue;
        size_t j = column(f->inputs[fv->input]);
        if (fv->kind == CSVREG__VAR_FACTOR || is_text[j]) {
          cat[v] = 1;
          nlev[v] = levels_of(j, !is_text[j], fv->ref, levbuf[v]);
          lev[v] = levbuf[v];
        }
      }
      if (csvreg__formula_columns(f, cat, nlev, (const char *const *const *)lev, &dc, &err) !=
          CSVREG_OK) {
        printf("FAIL %s: columns: %s\n", fname, err.message);
        failed = 1;
        continue;
      }
      /* values of each variable: numeric ones evaluated over all rows */
      free(vals);
      vals = calloc(f->nvars * MAXR, sizeof *vals);
      size_t map[64];
      if (f->nvars > 64 || f->ninputs > 64)
        return 2;
      for (size_t k = 0; k < f->ninputs; k++)
        map[k] = column(f->inputs[k]);
      double *scratch = NULL;
      for (size_t v = 0; v < f->nvars; v++) {
        const csvreg__fvar *fv = &f->vars[v];
        if (fv->expr) {
          scratch = realloc(scratch, (csvreg__expr_scratch(fv->expr, nrows) + 1) * sizeof *scratch);
          csvreg__expr_eval(fv->expr, nrows, num, MAXR, map, vals + v * MAXR, scratch);
        } else if (!cat[v]) {
          memcpy(vals + v * MAXR, num + map[fv->input] * MAXR, nrows * sizeof *vals);
        }
      }
      free(scratch);
      continue;
    }
    if (!f || failed) {
      if (line[0] == 'E' && dc) {
        csvreg__dcols_free(dc);
        dc = NULL;
      }
      if (line[0] == 'E') {
        csvreg__formula_free(f);
        f = NULL;
      }
      continue;
    }
    if (line[0] == 'L') {
      nlabels++;
      if (li >= f->nterms || strcmp(f->terms[li].label, line + 2) != 0) {
        printf("FAIL %s: label %zu: R '%s', csvreg '%s'\n", fname, li + 1, line + 2,
               li < f->nterms ? f->terms[li].label : "(none)");
        bad_label++;
        failed = 1;
      }
      li++;
    } else if (line[0] == 'I') {
      if (li != f->nterms || f->intercept != atoi(line + 2)) {
        printf("FAIL %s: %zu labels/intercept %d, csvreg %zu/%d\n", fname, li, atoi(line + 2),
               f->nterms, f->intercept);
        bad_label++;
        failed = 1;
      }
    } else if (line[0] == 'C') {
      char *name = line + 2, *tab = strchr(name, '\t');
      *tab = '\0';
      ncolumns++;
      const char *mine = NULL;
      size_t j = ci;
      if (dc->intercept && ci == 0)
        mine = "(Intercept)";
      else if (ci - (size_t)dc->intercept < dc->ncols)
        mine = dc->cols[ci - dc->intercept].name;
      if (!mine || strcmp(mine, name) != 0) {
        printf("FAIL %s: column %zu: R '%s', csvreg '%s'\n", fname, ci + 1, name,
               mine ? mine : "(none)");
        bad_name++;
        failed = 1;
        ci++;
        continue;
      }
      /* values */
      char *s = tab + 1;
      for (size_t i = 0; i < nrows; i++) {
        double r = strtod(s, &s);
        s++;
        double v = 1;
        if (!(dc->intercept && j == 0)) {
          const csvreg__dcol *c = &dc->cols[j - dc->intercept];
          for (size_t q = 0; q < c->nfac; q++) {
            const csvreg__dfac *fc = &c->fac[q];
            const csvreg__fvar *fv = &f->vars[fc->var];
            double x;
            if (cat[fc->var])
              x = strcmp(cell[i][column(f->inputs[fv->input])], lev[fc->var][fc->index]) == 0;
            else if (fv->kind == CSVREG__VAR_POLY)
              x = csvreg__r_pow(vals[fc->var * MAXR + i], (double)(fc->index + 1));
            else
              x = vals[fc->var * MAXR + i];
            v = q == 0 ? x : v * x;
          }
        }
        if (bits(r) != bits(v)) {
          uint64_t a = bits(r), b = bits(v);
          if ((a > b ? a - b : b - a) == 1) {
            ulp1++;
          } else {
            if (bad_value < 20)
              printf("FAIL %s: column %s row %zu: R %a, csvreg %a\n", fname, name, i + 1, r, v);
            bad_value++;
          }
        }
        nvalues++;
      }
      ci++;
    } else if (line[0] == 'E') {
      if (ci != dc->ncols + (size_t)dc->intercept) {
        printf("FAIL %s: R has %zu columns, csvreg %zu\n", fname, ci,
               dc->ncols + (size_t)dc->intercept);
        bad_name++;
      }
      csvreg__dcols_free(dc);
      dc = NULL;
      csvreg__formula_free(f);
      f = NULL;
    }
  }
  fclose(fp);
  free(vals);
  csvreg__dcols_free(dc);
  csvreg__formula_free(f);
  printf("formulas checked: %zu; term labels %zu, columns %zu, values %zu\n", nform, nlabels,
         ncolumns, nvalues);
  printf("mismatches: labels %zu, column names %zu, values %zu (one ulp apart: %zu)\n", bad_label,
         bad_name, bad_value, ulp1);
  return bad_label || bad_name || bad_value || nform < 40;
}
