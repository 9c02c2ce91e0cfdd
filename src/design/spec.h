/*
 * spec.h - the resolved model specification, shared by chunk.c and design.c.
 */
#ifndef CSVREG_SPEC_H
#define CSVREG_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "csvreg.h"

struct csvreg_spec {
  size_t ncolumns;         /* width of the input */
  size_t ninputs;          /* input columns the model reads */
  size_t *input_cols;      /* [ninputs] 0-based column of each input */
  char **input_names;      /* [ninputs] */
  size_t nterms;           /* model terms, intercept excluded */
  size_t *term_input;      /* [nterms] the input each term reads */
  ptrdiff_t target_input;  /* input index of the target, -1: none (predict) */
  ptrdiff_t weights_input; /* input index of the weights, -1: none */
  int intercept;
  int skip_bad;
  csvreg_na *na; /* missing-value tokens */
  /* A formula spec whose design is computed (csvreg_spec_new_formula with a
   * term or response that is not a plain column); NULL/0 otherwise, and a
   * formula of plain columns gives the same spec as the options would. */
  struct csvreg__formula *formula; /* owned */
  struct csvreg__dcols *dcols;     /* owned: design column t is term t */
  size_t *fin_input;               /* [formula->ninputs] formula input -> spec input */
  char **term_names;               /* [nterms] R's column names */
  char *target_expr;               /* the response as written when it is an expression */
  /* Categorical variables (factor(), relevel()): their levels are found in
   * the data, a chunk at a time (chunk.c), and their design columns grow
   * with them; nterms/term_names/dcols above are the columns known before
   * any level (numeric terms only). */
  size_t nfactors;
  size_t *factor_var;        /* [nfactors] formula variable of each */
  size_t *var_factor;        /* [formula->nvars] its factor slot, or (size_t)-1 */
  unsigned char *input_text; /* [ninputs] 1: read as text only (not parsed) */
  size_t max_levels;         /* per categorical variable */
  char **column_names;       /* [ncolumns] the header, with categorical variables (for a
                                state's frame: accum_chunk.c); else NULL */
  size_t ncolumn_names;      /* column_names' count: ncolumns when made, which a model's spec
                              * rebinding to another file's header changes */
  int from_formula;          /* made from a formula (a plain one keeps no formula) */
  /* A saved model's spec (csvreg__spec_fix_levels): each factor's levels are
   * final (R's order, baseline first) and dcols/term_names are R's columns,
   * the model's terms; a chunk adds no level, and a row with a level not
   * among them is left out (CSVREG_ROW_NEW_LEVEL). */
  int fixed;
  size_t *fixed_nlev;   /* [nfactors] */
  char ***fixed_levels; /* [nfactors][fixed_nlev[f]] owned */
  /* Key columns (robust errors' clusters, csvreg__spec_add_keys): inputs
   * whose cell text the chunk keeps for each complete row
   * (csvreg__chunk_key). An input added only as a key has input_text 2:
   * neither parsed nor tested for NA, so it drops no row. */
  size_t nkeys;
  size_t *key_input; /* [nkeys] owned */
  /* predict --residuals (CSVREG_MODEL_BIND_TARGET_OPTIONAL): a missing
   * target or weight (an NA token) is NaN in a complete row, and a response
   * that is not finite does not drop the row: the prediction needs neither. */
  int target_optional;
};

#define CSVREG__DEFAULT_MAX_LEVELS 1000
#define CSVREG__LEVEL_SENTINEL "\x01"

/* csvreg_spec_new_formula where text[j] = 1 says column j holds text (its
 * bare uses in the formula are categorical, as R's read.csv + lm); NULL:
 * none. */
csvreg_status csvreg__spec_new_formula_text(csvreg_spec **out, const char *const *names,
                                            size_t ncols, const unsigned char *text,
                                            const char *formula, const csvreg_spec_options *o,
                                            size_t *where, csvreg_error *err);

/* The error for a column name not in the header: names the closest column,
 * lists the header's names, and suggests -d when the header is one field
 * holding another delimiter (spec.c). */
csvreg_status csvreg__spec_no_column(csvreg_error *err, const char *role, const char *ref,
                                     size_t len, const char *const *names, size_t ncols);

/* The live design columns of a formula spec for the levels seen so far:
 * nlev[f] levels levs[f][...] of each factor slot f, in any order (every
 * level gets a column, the baseline included: the final choice is at the
 * end, csvreg__accum_finish_factors). Column names are R's. */
csvreg_status csvreg__spec_live_columns(const csvreg_spec *s, const size_t *nlev,
                                        const char *const *const *levs, struct csvreg__dcols **out,
                                        csvreg_error *err);

/* Orders the levels o[0 .. n) of factor slot k as R does at the end of a
 * fit: byte order (C collation), numeric order when every level reads as a
 * number, relevel's ref first (CSVREG_E_VALUE when it is not a level). The
 * strings are not copied. */
csvreg_status csvreg__spec_order_levels(const csvreg_spec *s, size_t k, const char **o, size_t n,
                                        csvreg_error *err);

/* Makes `s` (a formula spec with factors, no chunk made yet) a saved
 * model's: levels[k][0 .. nlev[k]) are factor slot k's final levels
 * (copied); the terms become R's design columns for them. */
csvreg_status csvreg__spec_fix_levels(csvreg_spec *s, const size_t *nlev,
                                      const char *const *const *levels, csvreg_error *err);

/* Adds the header's columns cols[0 .. n) as key inputs (see nkeys); a
 * column the spec already reads is keyed as it is. Call before any chunk
 * is made. */
csvreg_status csvreg__spec_add_keys(csvreg_spec *s, const size_t *cols, const char *const *names,
                                    size_t n, csvreg_error *err);

/* Frees the formula fields (spec_formula.c); the rest is csvreg_spec_free's. */
void csvreg__spec_free_formula(csvreg_spec *s);

/* chunk.c: the chunk's design columns (names valid until the next fill)
 * and the levels of factor slot f it has seen, in order of appearance. */
const csvreg_spec *csvreg__chunk_spec(const csvreg_chunk *c);
size_t csvreg__chunk_ncolumns(const csvreg_chunk *c);
const char *csvreg__chunk_column_name(const csvreg_chunk *c, size_t j);
const char *const *csvreg__chunk_levels(const csvreg_chunk *c, size_t f, size_t *n);
/* Each row's level of factor slot f (an index into csvreg__chunk_levels). */
const uint32_t *csvreg__chunk_row_levels(const csvreg_chunk *c, size_t f);
/* Live column j's product of factors (head12: levels are index - 1 into
 * csvreg__chunk_levels, 0 being the sentinel); NULL for a fixed or
 * factor-free spec. */
const struct csvreg__dcol *csvreg__chunk_column(const csvreg_chunk *c, size_t j);
/* The level head's columns out of the design block: an option of the
 * chunk that its owner (the pass, by the fit stage's rule,
 * csvreg__chunk_plan_head) sets once, after the first fill. From the next
 * fill on, the main-effect indicator columns of factor slot k ((size_t)-1:
 * none) are left out of csvreg_chunk_design's block; a consumer folds them
 * from csvreg__chunk_row_levels. csvreg__chunk_head is slot k (what the
 * chunk hands its consumers, from the fill that chose it on),
 * csvreg__chunk_head_set whether the option was set. Live column j is
 * block column csvreg__chunk_column_pos (or (size_t)-1 when left out),
 * csvreg__chunk_omitted the slot this fill left out,
 * csvreg__chunk_column_values column j's values either way (rows of the
 * chunk). A chunk without the option keeps every column, at its index. */
void csvreg__chunk_set_head(csvreg_chunk *c, size_t k);
int csvreg__chunk_head_set(const csvreg_chunk *c);
size_t csvreg__chunk_head(const csvreg_chunk *c);
size_t csvreg__chunk_omitted(const csvreg_chunk *c);
size_t csvreg__chunk_column_pos(const csvreg_chunk *c, size_t j);
void csvreg__chunk_column_values(const csvreg_chunk *c, size_t j, double *dst);
/* 1 when live column j is factor slot k's main effect (the head's kind). */
int csvreg__chunk_main_effect(const csvreg_chunk *c, size_t j, size_t k);
/* Row i's cell text of key q (not NUL-terminated), valid until the next fill. */
const char *csvreg__chunk_key(const csvreg_chunk *c, size_t q, size_t i, size_t *len);

#endif
