/*
 * closest.c - "did you mean": the name nearest to a mistyped one. Used for
 * unknown columns here and for unknown options by the program (through the
 * public csvreg_closest_name), so that both suggest by the same rule.
 */
#include <ctype.h>
#include <string.h>

#include "internal.h"

/* Levenshtein distance, capped: names past 64 bytes are never "near". */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb) {
  enum { MAX = 64 };
  if (na > MAX || nb > MAX)
    return (size_t)-1;
  size_t row[MAX + 1];
  for (size_t j = 0; j <= nb; j++)
    row[j] = j;
  for (size_t i = 1; i <= na; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= nb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[nb];
}

/* Near: a name the typed text starts (an abbreviation), equal but for case,
 * or within a third of its length in edits (at least 1, at most 3). */
size_t csvreg_closest_name(const char *typed, size_t len, const char *const *names, size_t n) {
  size_t best = n, best_d = (size_t)-1;
  if (!typed || !names || len == 0)
    return n;
  size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
  for (size_t k = 0; k < n; k++) {
    if (!names[k])
      continue;
    size_t nk = strlen(names[k]), d;
    if (nk > len && strncmp(names[k], typed, len) == 0)
      d = 1;
    else {
      d = edit_distance(typed, len, names[k], nk);
      if (d > 0 && nk == len) {
        size_t i = 0;
        while (i < len && tolower((unsigned char)typed[i]) == tolower((unsigned char)names[k][i]))
          i++;
        if (i == len)
          d = 0; /* only the case differs: the nearest there is */
      }
    }
    if (d <= limit && d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best;
}
