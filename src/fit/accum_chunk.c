/*
 * accum_chunk.c - where the design stage meets the accumulator: an
 * accumulator made for a spec (its term, target and input names) and the
 * fold of a chunk's design block with its counts. It lives in the fit stage
 * so that src/linalg knows nothing of chunks or specs.
 */
#include <stdlib.h>

#include "internal.h"
#include "linalg.h"
#include "spec.h"

csvreg_status csvreg_accum_new_for_spec(csvreg_accum **out, const csvreg_spec *s,
                                        csvreg_solver solver, csvreg_error *err) {
  const char **terms = malloc((s->nterms ? s->nterms : 1) * sizeof *terms);
  if (!terms)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  for (size_t j = 0; j < s->nterms; j++)
    terms[j] = csvreg_spec_term_name(s, j);
  csvreg_status st = csvreg__accum_new_named(out, solver, s->nterms, s->intercept, terms,
                                             csvreg_spec_target_name(s), s->ninputs,
                                             (const char *const *)s->input_names, err);
  free(terms);
  return st;
}

csvreg_status csvreg_accum_add_chunk(csvreg_accum *a, const csvreg_chunk *c, csvreg_error *err) {
  const double *x, *y, *w;
  size_t ldx;
  csvreg_chunk_design(c, &x, &ldx, &y, &w);
  /* The chunk's values came through the number parser, which admits only
   * finite numbers, and its weights were checked to be >= 0. */
  csvreg_status st = csvreg__accum_fold(a, NULL, csvreg_chunk_rows(c), x, ldx, y, w, err);
  if (st)
    return st;
  const csvreg_counts *cc = csvreg_chunk_counts(c);
  csvreg__accum_add_counts(a, cc->records, cc->dropped_na, cc->dropped_bad,
                           csvreg_chunk_na_counts(c));
  return CSVREG_OK;
}
