/*
 * report.c - writing a fit: the text report (laid out like R's summary.lm,
 * numbers at 7 significant digits), the coefficient table as CSV (%.17g, so
 * values round-trip) and JSON (built by the library's csvreg_fit_to_json).
 * Non-finite numbers are always written as NA (text, CSV) or null (JSON):
 * "nan" or "inf" in a report would be a bug shown as a result.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* R's format.pval prints p-values below machine epsilon as "< 2.2e-16". */
#define PVAL_EPS 2.220446049250313e-16
#define TEXT_DIGITS 7

int report_format_parse(const char *name, report_format *out) {
  static const char *const names[] = {"text", "json", "csv"};
  for (int i = 0; i < 3; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (report_format)i;
      return 0;
    }
  return -1;
}

const char *report_num(char *buf, size_t size, double v, int digits) {
  if (!isfinite(v))
    snprintf(buf, size, "NA");
  else
    snprintf(buf, size, "%.*g", digits, v == 0 ? 0.0 : v); /* no "-0" */
  return buf;
}

static const char *fmt_pval(char *buf, size_t size, double p) {
  if (!isfinite(p))
    snprintf(buf, size, "NA");
  else if (p < PVAL_EPS)
    snprintf(buf, size, "< 2.2e-16");
  else
    snprintf(buf, size, "%.4g", p);
  return buf;
}

/* R's significance codes: intervals closed on the right, 0 included. */
static const char *stars(double p) {
  if (!isfinite(p))
    return "";
  if (p <= 0.001)
    return "***";
  if (p <= 0.01)
    return "**";
  if (p <= 0.05)
    return "*";
  if (p <= 0.1)
    return ".";
  return "";
}

/* "2.5 %" / "97.5 %" as R's confint names them (3 significant digits). */
static void ci_labels(double level, char *lo, char *hi, size_t size) {
  double a = (1 - level) / 2;
  snprintf(lo, size, "%.3g %%", 100 * a);
  snprintf(hi, size, "%.3g %%", 100 * (1 - a));
}

enum { NCOLS = 7 }; /* estimate, se, t, p, stars, ci lo, ci hi */
#define CELL 40

/* report_num, but an infinity printed as R prints it. */
static const char *num_or_inf(char *buf, double v) {
  if (isinf(v)) {
    snprintf(buf, CELL, v > 0 ? "Inf" : "-Inf");
    return buf;
  }
  return report_num(buf, CELL, v, TEXT_DIGITS);
}

/* The low-digits warning (below 8 estimated correct digits), shared by the
 * text report and stderr. The estimate is a conservative first-order bound
 * for the least accurate coefficient, so the wording says "may". */
static int digits_warning(const csvreg_fit *fit, char *buf, size_t size) {
  const csvreg_fit_summary *f = csvreg_fit_get_summary(fit);
  char b[CELL];
  if (f->digits >= 8)
    return 0;
  snprintf(buf, size,
           "ill-conditioned design (condition number %s): the least accurate coefficient may "
           "have only %d correct digits",
           report_num(b, CELL, f->condition_number, 2),
           isfinite(f->digits) && f->digits > 0 ? (int)floor(f->digits) : 0);
  return 1;
}

static void term_cells(const csvreg_term *t, char cells[NCOLS][CELL]) {
  if (t->aliased) { /* as R: the whole row is NA */
    for (int j = 0; j < NCOLS; j++)
      snprintf(cells[j], CELL, j == 4 ? "" : "NA");
    return;
  }
  report_num(cells[0], CELL, t->estimate, TEXT_DIGITS);
  report_num(cells[1], CELL, t->std_error, TEXT_DIGITS);
  report_num(cells[2], CELL, t->t_value, TEXT_DIGITS);
  fmt_pval(cells[3], CELL, t->p_value);
  snprintf(cells[4], CELL, "%s", stars(t->p_value));
  report_num(cells[5], CELL, t->ci_lower, TEXT_DIGITS);
  report_num(cells[6], CELL, t->ci_upper, TEXT_DIGITS);
}

static void write_coef_table(FILE *out, const csvreg_fit *fit) {
  const csvreg_fit_summary *f = csvreg_fit_get_summary(fit);
  char lo[32], hi[32];
  ci_labels(f->level, lo, hi, sizeof lo);
  const char *head[NCOLS] = {"Estimate", "Std. Error", "t value", "Pr(>|t|)", "", lo, hi};
  size_t width[NCOLS];
  size_t name_w = 0;
  int any_star = 0;
  char cells[NCOLS][CELL];
  for (int j = 0; j < NCOLS; j++)
    width[j] = strlen(head[j]);
  width[4] = 3;
  for (size_t i = 0; i < f->nterms; i++) {
    size_t n = strlen(csvreg_fit_term(fit, i)->name);
    if (n > name_w)
      name_w = n;
    term_cells(csvreg_fit_term(fit, i), cells);
    for (int j = 0; j < NCOLS; j++)
      if (strlen(cells[j]) > width[j])
        width[j] = strlen(cells[j]);
    if (cells[4][0])
      any_star = 1;
  }
  size_t naliased = f->nterms - f->rank;
  if (naliased)
    fprintf(out, "Coefficients: (%zu not defined because of singularities)\n", naliased);
  else
    fprintf(out, "Coefficients:\n");
  fprintf(out, "%-*s", (int)name_w, "");
  for (int j = 0; j < NCOLS; j++)
    fprintf(out, j == 4 ? " %-*s" : "  %*s", (int)width[j], head[j]);
  fputc('\n', out);
  for (size_t i = 0; i < f->nterms; i++) {
    term_cells(csvreg_fit_term(fit, i), cells);
    fprintf(out, "%-*s", (int)name_w, csvreg_fit_term(fit, i)->name);
    for (int j = 0; j < NCOLS; j++)
      fprintf(out, j == 4 ? " %-*s" : "  %*s", (int)width[j], cells[j]);
    fputc('\n', out);
  }
  if (any_star)
    fprintf(out, "---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n");
}

/* Which covariance the table's errors are, for a robust fit (nothing for a
 * classical one: its report is unchanged). */
static void robust_note(FILE *out, const csvreg_fit *fit) {
  csvreg_vcov_type t = csvreg_fit_vcov_type(fit);
  if (t == CSVREG_VCOV_CLASSICAL)
    return;
  if (t != CSVREG_VCOV_CLUSTER) {
    fprintf(out,
            "Standard errors: heteroskedasticity-consistent %s (sandwich::vcovHC(type = \"%s\"))\n",
            csvreg_vcov_name(t), csvreg_vcov_name(t));
    return;
  }
  const char *a = NULL, *b = NULL;
  size_t ga = csvreg_fit_clusters(fit, 0, &a), gb = csvreg_fit_clusters(fit, 1, &b);
  if (!b) {
    fprintf(out, "Standard errors: clustered by %s (%zu clusters; sandwich::vcovCL, type HC1)\n", a,
            ga);
    return;
  }
  fprintf(out,
          "Standard errors: clustered by %s (%zu clusters) and %s (%zu clusters; %zu in their "
          "intersection; sandwich::vcovCL, type HC1)\n",
          a, ga, b, gb, csvreg_fit_clusters(fit, 2, NULL));
}

static csvreg_status write_text(FILE *out, const csvreg_fit *fit, csvreg_error *err) {
  const csvreg_fit_summary *f = csvreg_fit_get_summary(fit);
  char b1[CELL], b2[CELL], b3[CELL], b4[CELL];
  const csvreg_counts *k = &f->counts;
  size_t nx = f->nterms - (f->intercept ? 1 : 0);
  /* a formula's fit says what it was: the formula, baselines, transforms */
  char *formula = NULL;
  csvreg_status st = csvreg_fit_formula_lines(fit, &formula, err);
  if (st)
    return st;

  fprintf(out, "Linear regression of %s on %zu term%s%s%s\n", csvreg_fit_target(fit), nx,
          nx == 1 ? "" : "s", f->intercept ? " and an intercept" : ", no intercept",
          f->weighted ? ", weighted" : "");
  if (formula)
    fputs(formula, out);
  free(formula);
  fputc('\n', out);
  write_coef_table(out, fit);
  robust_note(out, fit);

  fprintf(out, "\nResidual standard error: %s on %s degrees of freedom\n",
          report_num(b1, CELL, f->residual_sd, TEXT_DIGITS),
          report_num(b2, CELL, f->df_residual, 15));
  if (k->dropped_na) {
    fprintf(out, "  (%llu observation%s deleted due to missingness)\n",
            (unsigned long long)k->dropped_na, CLI_PLURAL(k->dropped_na));
    const char *sep = "  (missing values by column: ";
    for (size_t i = 0; i < f->ninputs; i++)
      if (csvreg_fit_input_na(fit, i)) {
        fprintf(out, "%s%s %llu", sep, csvreg_fit_input_name(fit, i),
                (unsigned long long)csvreg_fit_input_na(fit, i));
        sep = ", ";
      }
    if (sep[0] == ',')
      fprintf(out, ")\n");
  }
  if (k->dropped_bad)
    fprintf(out, "  (%llu row%s with a bad value or the wrong number of fields skipped)\n",
            (unsigned long long)k->dropped_bad, CLI_PLURAL(k->dropped_bad));
  if (k->zero_weight)
    fprintf(out, "  (%llu observation%s with zero weight not used)\n",
            (unsigned long long)k->zero_weight, CLI_PLURAL(k->zero_weight));
  fprintf(out, "Multiple R-squared:  %s,  Adjusted R-squared:  %s\n",
          report_num(b1, CELL, f->r_squared, TEXT_DIGITS),
          report_num(b2, CELL, f->adj_r_squared, TEXT_DIGITS));
  /* As R, no F test for a model with nothing but the intercept. */
  if (f->f_df1 > 0 && csvreg_fit_vcov_type(fit) != CSVREG_VCOV_CLASSICAL)
    fprintf(out, "Wald F-statistic (%s): %s on %s and %s DF,  p-value: %s\n",
            csvreg_vcov_name(csvreg_fit_vcov_type(fit)),
            report_num(b1, CELL, f->f_statistic, TEXT_DIGITS), report_num(b2, CELL, f->f_df1, 15),
            report_num(b3, CELL, f->f_df2, 15), fmt_pval(b4, CELL, f->f_p_value));
  else if (f->f_df1 > 0)
    fprintf(out, "F-statistic: %s on %s and %s DF,  p-value: %s\n",
            report_num(b1, CELL, f->f_statistic, TEXT_DIGITS), report_num(b2, CELL, f->f_df1, 15),
            report_num(b3, CELL, f->f_df2, 15), fmt_pval(b4, CELL, f->f_p_value));

  /* A saturated fit (no residual degrees of freedom) has RSS 0: R prints
   * its log-likelihood Inf and AIC and BIC -Inf. */
  fprintf(out, "\nLog-likelihood: %s (df=%zu),  AIC: %s,  BIC: %s\n",
          num_or_inf(b1, f->log_likelihood), f->rank + 1, num_or_inf(b2, f->aic),
          num_or_inf(b3, f->bic));
  fprintf(out, "Observations: %llu used, %llu read\n", (unsigned long long)k->used,
          (unsigned long long)k->records);
  fprintf(out, "Solver: %s,  condition number: %s,  estimated correct digits: ",
          csvreg_solver_name(f->solver), report_num(b1, CELL, f->condition_number, 4));
  if (isfinite(f->digits))
    fprintf(out, "%.1f\n", f->digits);
  else
    fprintf(out, "NA\n");
  size_t rpasses = 0;
  double rdigits = NAN;
  const char *rstop = "";
  size_t rsteps = csvreg_fit_refined(fit, &rpasses, &rdigits, &rstop);
  if (rpasses) /* --refine: the steps, and the digits as the solution of the values as read */
    fprintf(out,
            "Refined: %zu step%s in %zu more pass%s (%s),  digits of the values as read: %.1f\n",
            rsteps, rsteps == 1 ? "" : "s", rpasses, rpasses == 1 ? "" : "es", rstop, rdigits);
  char w[256];
  if (digits_warning(fit, w, sizeof w))
    fprintf(out, "Warning: %s\n", w);
  if (f->df_residual == 0)
    fprintf(out, "Warning: no residual degrees of freedom: standard errors are not defined\n");
  return CSVREG_OK;
}

/* RFC 4180: quote a field holding the delimiter, a quote or a line break. */
static void csv_field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void csv_num(FILE *out, double v, int aliased) {
  if (isfinite(v) && !aliased)
    fprintf(out, ",%.17g", v);
  else
    fputs(",NA", out);
}

static void write_csv(FILE *out, const csvreg_fit *fit) {
  const csvreg_fit_summary *f = csvreg_fit_get_summary(fit);
  fputs("term,estimate,std_error,t_value,p_value,ci_lower,ci_upper,aliased\n", out);
  for (size_t i = 0; i < f->nterms; i++) {
    const csvreg_term *t = csvreg_fit_term(fit, i);
    csv_field(out, t->name);
    csv_num(out, t->estimate, t->aliased);
    csv_num(out, t->std_error, t->aliased);
    csv_num(out, t->t_value, t->aliased);
    csv_num(out, t->p_value, t->aliased);
    csv_num(out, t->ci_lower, t->aliased);
    csv_num(out, t->ci_upper, t->aliased);
    fputs(t->aliased ? ",true\n" : ",false\n", out);
  }
}

csvreg_status report_put_text(FILE *out, csvreg_status st, char *text) {
  if (!st) {
    fputs(text, out);
    fputc('\n', out);
  }
  free(text);
  return st;
}

csvreg_status report_write(FILE *out, const csvreg_fit *fit, report_format format,
                           csvreg_error *err) {
  switch (format) {
  case REPORT_TEXT: return write_text(out, fit, err);
  case REPORT_CSV: write_csv(out, fit); return CSVREG_OK;
  case REPORT_JSON: return csvreg_fit_write_json(fit, out, err);
  }
  return CSVREG_OK;
}

csvreg_status report_buf_open(report_buf *b) {
  b->text = NULL;
  b->len = 0;
  b->fp = open_memstream(&b->text, &b->len);
  return b->fp ? CSVREG_OK : CSVREG_E_NOMEM;
}

void report_buf_direct(report_buf *b, FILE *out) {
  memset(b, 0, sizeof *b);
  b->fp = out;
  b->direct = 1;
}

csvreg_status report_buf_close(report_buf *b) {
  if (b->direct) { /* write errors are stdout's, reported when it is closed */
    b->fp = NULL;
    return CSVREG_OK;
  }
  /* A memory stream's only write error is a buffer that could not grow. */
  int bad = ferror(b->fp);
  bad |= fclose(b->fp) != 0;
  b->fp = NULL;
  if (!bad && b->text)
    return CSVREG_OK;
  free(b->text);
  b->text = NULL;
  b->len = 0;
  return CSVREG_E_NOMEM;
}

void report_buf_print(report_buf *b, FILE *out) {
  if (b->fp && !b->direct)
    fclose(b->fp);
  if (b->text && out)
    fwrite(b->text, 1, b->len, out);
  free(b->text);
  memset(b, 0, sizeof *b);
}

void report_warnings(const csvreg_fit *fit) {
  const csvreg_fit_summary *f = csvreg_fit_get_summary(fit);
  char w[256];
  if (digits_warning(fit, w, sizeof w))
    cli_warnf("%s", w);
  if (f->df_residual == 0)
    cli_warnf("no residual degrees of freedom: standard errors are not defined");
}
