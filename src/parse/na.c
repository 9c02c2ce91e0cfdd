/*
 * na.c - missing-value tokens (csvreg_na in csvreg.h): the one place that
 * decides whether a cell is missing, for the chunk and for the CLI's
 * predict/eval, which read cells without a chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct csvreg_na {
  size_t n;
  char **tok;  /* trimmed, NUL-terminated */
  size_t *len; /* [n] */
  int empty;   /* the empty cell is missing */
  int numeric; /* some token reads as a number */
};

void csvreg_na_free(csvreg_na *na) {
  if (!na)
    return;
  for (size_t t = 0; t < na->n; t++)
    free(na->tok[t]);
  free(na->tok);
  free(na->len);
  free(na);
}

csvreg_status csvreg_na_new(csvreg_na **out, const char *list, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg_na_new: NULL argument");
  *out = NULL;
  if (!list)
    list = "NA,";
  size_t cap = 1;
  for (const char *p = list; *p; p++)
    cap += *p == ',';
  csvreg_na *na = calloc(1, sizeof *na);
  if (!na || !(na->tok = calloc(cap, sizeof *na->tok)) ||
      !(na->len = calloc(cap, sizeof *na->len))) {
    csvreg_na_free(na);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  for (const char *p = list;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    /* Cells are compared after trimming, so the tokens are trimmed too. */
    while (len && (*p == ' ' || *p == '\t'))
      p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
      len--;
    char *tok = malloc(len + 1);
    if (!tok) {
      csvreg_na_free(na);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    memcpy(tok, p, len);
    tok[len] = '\0';
    na->tok[na->n] = tok;
    na->len[na->n++] = len;
    double v;
    if (len == 0)
      na->empty = 1;
    else if (csvreg_parse_double(tok, len, &v) == CSVREG_OK)
      na->numeric = 1;
    if (!e)
      break;
    p = e + 1;
  }
  *out = na;
  return CSVREG_OK;
}

int csvreg_na_match(const csvreg_na *na, const char *p, size_t len) {
  while (len && (*p == ' ' || *p == '\t'))
    p++, len--;
  while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
    len--;
  if (len == 0)
    return na->empty;
  for (size_t t = 0; t < na->n; t++)
    if (na->len[t] == len && memcmp(na->tok[t], p, len) == 0)
      return 1;
  return 0;
}

int csvreg_na_numeric(const csvreg_na *na) { return na->numeric; }
