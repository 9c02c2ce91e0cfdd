/*
 * accum_head.c - the level head: one factor's main-effect indicator columns
 * kept apart from the dense QR state while rows are folded (issue 12, a
 * factor of 1000 levels).
 *
 * Why. A fold of a row into the dense R costs O(q^2), and with a factor of
 * k levels q ~ k: at 1000 levels and 2M rows that was 239 s. But the k
 * indicator columns H of one factor are orthogonal (a row has exactly one
 * 1 among them), so with H ordered before every other column T the
 * triangular factor of A = [H | T] is
 *     R = [D  E     ]   D: k x k diagonal, d_j^2 = sum of w at level j
 *         [0  R_tail]   E: k x q_tail, R_tail: q_tail x q_tail
 * in exact arithmetic. A row (s e_j, s t) (s = sqrt(w), t the shifted tail
 * row) changes only head row j: one Givens rotation of (d_j, s) applied to
 * [d_j E_j] and [s, s t] makes the new head row and a residual row that is
 * 0 on every head column, which goes to R_tail as any data row (dense
 * fold, q_tail wide). So a row costs O(q_tail), and the memory is d (k)
 * plus E (k x q_tail), no k x k block.
 *
 * Rounding. Row j is kept on its own shift: E'_j = E_j -
 * delta_j d_j, delta_j a row near the level's running mean (the level's
 * first row, then re-centred at its 2nd, 4th, 8th, ... row: O(q log n)).
 * On the global shift K (the first row) E_j = d_j (mean_j - K), and each
 * rotation rounds at eps |E_j|, so a level mean's error grew like a
 * recursive sum of its rows' distances from K: level coefficients were
 * 5e-13 of their SE from the exact answer on 60k rows of 7 levels (dense:
 * 1e-14), 6e-11 when the first row is ~1000 from the levels' means.
 * Shifting by delta_j (a multiple of head column j) leaves the residual rows
 * as they are in exact algebra, so only the rounding changes: now <= 6e-14
 * (tests/cli/cases/formula_level_head_shift). At the flush the global shift
 * itself moves to the data's mean, so the pseudo-rows hold the levels'
 * distances from it.
 *
 * Exactness conditions, checked by the caller (accum_chunk.c): the columns
 * are one factor's main effect coded by indicators (the live columns give
 * every level one, baseline included), every folded row has a level, and
 * the head's columns are not shifted (K = 0: an indicator minus 1 would be
 * dense). With an intercept, the intercept column is the sum of H, so its
 * entry in E_j is d_j and in a residual row exactly 0: both are set so.
 *
 * E holds the dense state's q columns in its order (intercept, tail terms,
 * responses), so tail columns added mid-stream (csvreg__accum_head_add_terms)
 * are zero columns of E too. Before anything but a fold reads the state
 * (merge, clone, finish, a state file, a solve: csvreg__accum_head_flush is
 * called at those doors), the head is flushed: its columns are added to the
 * dense state as zero columns (exact: the residual rows are 0 there) and its
 * k rows, the pseudo-rows [E_j (tail) | d_j e_j (head)] with E_j = E'_j +
 * delta_j d_j, are folded into R.
 * Then R'R = A'A as before, and nothing downstream knows there was a head.
 * The QR kernel only; the normal kernel keeps its dense fold.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"

struct accum_head {
  size_t tag;     /* the caller's: which factor the head holds */
  size_t k, kcap; /* head rows (levels), room */
  size_t ld;      /* stride of E's rows, >= the dense state's q */
  double *d;      /* [kcap] */
  double *e;      /* [kcap * ld] row j: E'_j over the dense state's columns */
  double *dl;     /* [kcap * ld] row j: the level's shift delta_j (0 at the intercept) */
  uint64_t *cnt;  /* [kcap] rows folded into row j (re-centred at 2, 4, 8, ...) */
  char **names;   /* [kcap] each row's term name (owned) */
  size_t *hash;   /* [hcap] open addressing: row + 1, 0 empty */
  size_t hcap;
};

/* Residual rows folded at a time, and pseudo-rows at a flush (a block of
 * the full width q: kept small, the dense R is q^2 already). */
#define HEAD_BLOCK 256
#define FLUSH_BLOCK 64

void csvreg__accum_head_allow(csvreg_accum *a) {
  /* Whether a head starts, and on which factor, is the chunk's plan
   * (src/fit/accum_chunk.c, csvreg__sink_plan_chunk, where the
   * CSVREG_LEVEL_HEAD knob is read): this only marks a pass's sink. */
  a->head_allowed = 1;
}

int csvreg__accum_head_active(const csvreg_accum *a) { return a->head != NULL; }

int csvreg__accum_head_may_start(const csvreg_accum *a) {
  return a->head_allowed && !a->head_off && !a->head && a->ops == &csvreg__kernel_qr &&
         a->counts.used == 0 && a->counts.zero_weight == 0;
}

void csvreg__accum_head_drop(csvreg_accum *a) {
  struct accum_head *h = a->head;
  if (!h)
    return;
  for (size_t j = 0; j < h->k; j++)
    free(h->names[j]);
  free(h->names);
  free(h->d);
  free(h->e);
  free(h->dl);
  free(h->cnt);
  free(h->hash);
  free(h);
  a->head = NULL;
}

csvreg_status csvreg__accum_head_start(csvreg_accum *a, size_t tag, csvreg_error *err) {
  if (!csvreg__accum_head_may_start(a))
    return csvreg__err_set(err, CSVREG_E_INTERNAL, "a level head cannot start here");
  struct accum_head *h = calloc(1, sizeof *h);
  if (!h)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  h->ld = a->q;
  h->tag = tag;
  a->head = h;
  return CSVREG_OK;
}

size_t csvreg__accum_head_nrows(const csvreg_accum *a) { return a->head ? a->head->k : 0; }
size_t csvreg__accum_head_tag(const csvreg_accum *a) { return a->head ? a->head->tag : (size_t)-1; }

static uint64_t fnv(const char *s) {
  uint64_t x = 1469598103934665603ull;
  for (; *s; s++)
    x = (x ^ (unsigned char)*s) * 1099511628211ull;
  return x;
}

static size_t slot(const struct accum_head *h, const char *name) {
  size_t i = (size_t)(fnv(name) & (h->hcap - 1));
  while (h->hash[i] && strcmp(h->names[h->hash[i] - 1], name) != 0)
    i = (i + 1) & (h->hcap - 1);
  return i;
}

/* Room for one more row: arrays doubled, the table at most half full. */
static csvreg_status grow_rows(struct accum_head *h, csvreg_error *err) {
  if (h->k == h->kcap) {
    size_t cap = h->kcap ? 2 * h->kcap : 16;
    double *d = realloc(h->d, cap * sizeof *d);
    if (d)
      h->d = d;
    double *e = d ? realloc(h->e, cap * h->ld * sizeof *e) : NULL;
    if (e)
      h->e = e;
    double *dl = e ? realloc(h->dl, cap * h->ld * sizeof *dl) : NULL;
    if (dl)
      h->dl = dl;
    uint64_t *c = dl ? realloc(h->cnt, cap * sizeof *c) : NULL;
    if (c)
      h->cnt = c;
    char **n = c ? realloc(h->names, cap * sizeof *n) : NULL;
    if (!n)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for %zu level rows", cap);
    h->names = n;
    h->kcap = cap;
  }
  if (2 * (h->k + 1) > h->hcap) {
    size_t cap = h->hcap ? 2 * h->hcap : 64;
    size_t *t = calloc(cap, sizeof *t);
    if (!t)
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    free(h->hash);
    h->hash = t;
    h->hcap = cap;
    for (size_t j = 0; j < h->k; j++)
      h->hash[slot(h, h->names[j])] = j + 1;
  }
  return CSVREG_OK;
}

csvreg_status csvreg__accum_head_row(csvreg_accum *a, const char *name, size_t *row,
                                     csvreg_error *err) {
  struct accum_head *h = a->head;
  if (h->hcap) {
    size_t i = slot(h, name);
    if (h->hash[i]) {
      *row = h->hash[i] - 1;
      return CSVREG_OK;
    }
  }
  csvreg_status st = grow_rows(h, err);
  if (st)
    return st;
  char *copy = csvreg__xstrdup(name);
  if (!copy)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  /* A level not seen yet: a row of zeros (no folded row has it). */
  h->names[h->k] = copy;
  h->d[h->k] = 0;
  h->cnt[h->k] = 0;
  memset(h->e + h->k * h->ld, 0, h->ld * sizeof *h->e);
  memset(h->dl + h->k * h->ld, 0, h->ld * sizeof *h->dl);
  h->hash[slot(h, name)] = h->k + 1;
  *row = h->k++;
  return CSVREG_OK;
}

/* Rows j < k of `src` (stride ld) to `dst` (stride ld2 >= ld; dst == src
 * or an array apart), k zero columns inserted at t. Rows are moved from the
 * last back when the stride stays (no row overwrites one not yet moved:
 * each goes to the same or a later place). */
static void spread_rows(const double *src, double *dst, size_t k, size_t ld, size_t ld2,
                        size_t q, size_t t, size_t add) {
  for (size_t j = k; j-- > 0;) {
    const double *r = src + j * ld;
    double *o = dst + j * ld2;
    memmove(o + t + add, r + t, (q - t) * sizeof *o);
    if (o != r)
      memmove(o, r, t * sizeof *o);
    memset(o + t, 0, add * sizeof *o);
  }
}

csvreg_status csvreg__accum_head_add_terms(csvreg_accum *a, size_t k, const char *const *names,
                                           csvreg_error *err) {
  struct accum_head *h = a->head;
  const size_t t = (size_t)a->intercept + a->p, q = a->q, q2 = q + k;
  double *e2 = NULL, *dl2 = NULL;
  size_t ld2 = h->ld;
  if (k == 0)
    return CSVREG_OK;
  if (q2 > h->ld) {
    ld2 = q2 > 2 * h->ld ? q2 : 2 * h->ld;
    if (h->kcap && (!(e2 = malloc(h->kcap * ld2 * sizeof *e2)) ||
                    !(dl2 = malloc(h->kcap * ld2 * sizeof *dl2)))) {
      free(e2);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for %zu level rows", h->kcap);
    }
  }
  csvreg_status st = csvreg__accum_add_columns(a, k, names, err);
  if (st) {
    free(e2);
    free(dl2);
    return st;
  }
  /* E'_j and delta_j gain k zero columns before the responses, as R does:
   * the new columns were 0 on every row folded so far, so their shift is
   * 0 too. */
  spread_rows(h->e, e2 ? e2 : h->e, h->k, h->ld, ld2, q, t, k);
  spread_rows(h->dl, dl2 ? dl2 : h->dl, h->k, h->ld, ld2, q, t, k);
  if (e2) {
    free(h->e);
    free(h->dl);
    h->e = e2;
    h->dl = dl2;
  }
  h->ld = ld2; /* no rows yet (kcap 0): the first rows take the new stride */
  return CSVREG_OK;
}

/* E'_j's entry en (on shift delta) moved to the shift near the level's
 * running mean, delta + en / d: returns the new E'_j entry, *delta set.
 * E'_j + delta_j d_j, the head row on the global shift, stays (up to one
 * rounding of the small new entry): the step is the exact difference of
 * the two shifts, and fma rounds the entry once. */
static double recentre(double en, double *delta, double d) {
  const double old = *delta, moved = old + en / d, step = moved - old;
  *delta = moved;
  return fma(-d, step, en);
}

static accum_ws *own_ws(csvreg_accum *a, csvreg_error *err) {
  if (!a->ws && !(a->ws = csvreg__accum_ws_new()))
    csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  return a->ws;
}

csvreg_status csvreg__accum_head_fold(csvreg_accum *a, size_t n, const double *x, size_t ldx,
                                      const size_t *xcol, const double *y, const double *w,
                                      const size_t *hrow, csvreg_error *err) {
  struct accum_head *h = a->head;
  const size_t p = a->p, q = a->q, ic = (size_t)a->intercept;
  if (n == 0)
    return CSVREG_OK;
  accum_ws *ws = own_ws(a, err);
  if (!ws)
    return CSVREG_E_NOMEM;
  const size_t nb = n < HEAD_BLOCK ? n : HEAD_BLOCK;
  /* The residual block (nb x q, column-major) and per row of a block its
   * row index, sqrt(w), rotation (c, sn; sn < 0: the level's first row),
   * new d and whether its level re-centres after it (1) or not (0). */
  csvreg_status st = csvreg__accum_ws_reserve(ws, nb * q + 6 * nb, err);
  if (st)
    return st;
  double *b = ws->work, *rs = b + nb * q, *rc = rs + nb, *rsn = rc + nb, *rd = rsn + nb,
         *ri = rd + nb, *rre = ri + nb;
  uint64_t used = 0, zero = 0;
  double slw = 0, sw = 0;
  for (size_t i0 = 0; i0 < n; i0 += nb) {
    const size_t m = n - i0 < nb ? n - i0 : nb;
    /* Rows first: the rotations, in row order (rows of one level chain). */
    size_t nr = 0, nres = 0;
    for (size_t i = i0; i < i0 + m; i++) {
      double wi = w ? w[i] : 1.0;
      if (!(wi > 0)) {
        zero++;
        continue;
      }
      used++;
      sw += wi;
      if (w) {
        slw += log(wi);
        a->weighted = 1;
      }
      if (!a->shifted) {
        /* The tail's shift from the first row, as csvreg__accum_fold sets
         * it; the head's columns are not in the dense state yet and get
         * shift 0 when they join it (csvreg__accum_add_columns). */
        if (ic) {
          for (size_t j = 0; j < p; j++)
            a->shift[j] = xcol[j] == (size_t)-1 ? 0 : x[xcol[j] * ldx + i];
          a->shift[p] = y[i];
        }
        a->shifted = 1;
      }
      const double s = w ? sqrt(wi) : 1.0, dj = h->d[hrow[i]];
      const uint64_t cnt = ++h->cnt[hrow[i]];
      ri[nr] = (double)i;
      rs[nr] = s;
      rre[nr] = cnt >= 2 && (cnt & (cnt - 1)) == 0; /* 2, 4, 8, ... rows */
      if (dj == 0) {
        /* The level's first row: it becomes the head row, no residual. */
        rc[nr] = 0;
        rsn[nr] = -1;
        rd[nr] = s;
      } else {
        const double hyp = hypot(dj, s);
        rc[nr] = dj / hyp;
        rsn[nr] = s / hyp;
        rd[nr] = hyp;
        nres++;
      }
      h->d[hrow[i]] = rd[nr];
      nr++;
    }
    /* Then column by column: v = s ((x - K) - delta_j) read down a column
     * of the block, the residuals written down a column of b. Shifting by
     * delta_j (a multiple of the head's column j, which is 1 on the row)
     * changes u by delta_j d_j and v by delta_j s, and the residual
     * -sn u + c v by delta_j (-s d_j + d_j s) / hypot = 0: the residual
     * rows are those of the global shift, in exact arithmetic. */
    for (size_t col = 0; col < q; col++) {
      const int icol = ic && col == 0;
      const size_t xj = icol || col - ic >= p ? 0 : xcol[col - ic];
      const double *xc = icol ? NULL : col - ic >= p ? y : xj == (size_t)-1 ? NULL : x + xj * ldx;
      const double k = icol ? 0 : a->shift[col - ic];
      double *bc = b + col * nres;
      size_t r = 0;
      for (size_t t = 0; t < nr; t++) {
        const size_t i = (size_t)ri[t];
        double *e = h->e + hrow[i] * h->ld + col;
        if (icol) {
          /* The intercept is the sum of the head's columns: its entry is
           * d_j in the head row and 0 in the residual, exactly (and it has
           * no shift). */
          *e = rd[t];
          if (rsn[t] >= 0)
            bc[r++] = 0;
          continue;
        }
        double *dl = h->dl + hrow[i] * h->ld + col;
        const double dx = (xc ? xc[i] : 0.0) - k;
        if (rsn[t] < 0) {
          /* The level's first row: its shift is the row, E'_j = 0. */
          *dl = dx;
          *e = 0;
          continue;
        }
        const double u = *e, v = rs[t] * (dx - *dl);
        double en = rc[t] * u + rsn[t] * v;
        bc[r++] = -rsn[t] * u + rc[t] * v;
        if (rre[t] != 0)
          en = recentre(en, dl, rd[t]);
        *e = en;
      }
    }
    if (nres && (st = csvreg__qr_fold_rows(a, ws, nres, b, err)))
      return st;
  }
  a->sum_w += sw;
  a->sum_log_w += slw;
  a->counts.used += used;
  a->counts.zero_weight += zero;
  return CSVREG_OK;
}

/* Before a flush, with an intercept: the global shift K of each column
 * moved by bar[col] to near the data's mean (the head rows' weighted mean
 * of K + delta_j + E'_j / d_j), so that the pseudo-rows hold the levels'
 * distances from it, not from the first row: they are folded into R by
 * Householder reflections that round at eps times their size, and a level
 * coefficient is a difference of them. Exact algebra: every residual row
 * in the dense state is 0 on the intercept, so a shift (a multiple of the
 * intercept column) leaves it as it is. K + bar must be a double exactly
 * (checked by TwoSum); a column where it is not keeps K (bar 0). */
static void move_shift(csvreg_accum *a, double *bar) {
  const struct accum_head *h = a->head;
  if (!a->intercept || !a->shifted)
    return;
  for (size_t col = 1; col < a->q; col++) {
    double num = 0, den = 0;
    for (size_t j = 0; j < h->k; j++) {
      const double dj = h->d[j];
      num += dj * fma(h->dl[j * h->ld + col], dj, h->e[j * h->ld + col]);
      den += dj * dj;
    }
    const double kold = a->shift[col - 1], knew = kold + (den > 0 ? num / den : 0);
    const double step = knew - kold;
    /* TwoSum of kold + step: exact when the sum is knew, error 0 */
    const double sum = kold + step, bv = sum - kold, av = sum - bv;
    if (!isfinite(knew) || sum != knew || (kold - av) + (step - bv) != 0)
      continue;
    a->shift[col - 1] = knew;
    bar[col] = step;
  }
}

csvreg_status csvreg__accum_head_flush(csvreg_accum *a, csvreg_error *err) {
  struct accum_head *h = a ? a->head : NULL;
  if (!h)
    return CSVREG_OK;
  const size_t k = h->k, t = (size_t)a->intercept + a->p, qt = a->q;
  csvreg_status st = CSVREG_OK;
  if (k) {
    accum_ws *ws = own_ws(a, err);
    double *bar = calloc(qt, sizeof *bar);
    if (!ws || !bar) {
      free(bar);
      return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
    }
    move_shift(a, bar);
    /* Zero columns for the rows folded so far (every residual row is 0
     * there); they come after the tail's terms, before the responses, with
     * shift 0 as the head kept them. */
    const size_t q = qt + k, nb = k < FLUSH_BLOCK ? k : FLUSH_BLOCK;
    if ((st = csvreg__accum_add_columns(a, k, (const char *const *)h->names, err)) ||
        (st = csvreg__accum_ws_reserve(ws, nb * q, err))) {
      free(bar);
      return st;
    }
    for (size_t j0 = 0; j0 < k && !st; j0 += nb) {
      size_t rows = k - j0 < nb ? k - j0 : nb;
      double *b = ws->work;
      memset(b, 0, rows * q * sizeof *b);
      for (size_t r = 0; r < rows; r++) {
        /* E_j = E'_j + (delta_j - bar) d_j: the row on the global shift,
         * moved by bar (the intercept's delta and bar are 0) */
        const double *e = h->e + (j0 + r) * h->ld, *dl = h->dl + (j0 + r) * h->ld;
        const double dj = h->d[j0 + r];
        for (size_t col = 0; col < t; col++)
          b[col * rows + r] = fma(dl[col] - bar[col], dj, e[col]);
        b[(t + j0 + r) * rows + r] = dj;
        for (size_t col = t; col < qt; col++)
          b[(col + k) * rows + r] = fma(dl[col] - bar[col], dj, e[col]);
      }
      st = csvreg__qr_fold_rows(a, ws, rows, b, err);
    }
    free(bar);
    if (st)
      return st; /* the state is broken now: the caller fails the pass */
  }
  csvreg__accum_head_drop(a);
  a->head_off = 1;
  /* head12c: the flush's workspace (64 pseudo-rows of the full width and
   * dtpqrt's blocks, ~1 MB at 1000 levels) back before the solve, which
   * comes next and needs its own; a later fold makes one again */
  csvreg__accum_ws_free(a->ws);
  a->ws = NULL;
  return CSVREG_OK;
}

void csvreg__accum_head_reset(csvreg_accum *a) {
  struct accum_head *h = a->head;
  if (!h)
    return;
  memset(h->d, 0, h->k * sizeof *h->d);
  memset(h->cnt, 0, h->k * sizeof *h->cnt);
  memset(h->e, 0, h->k * h->ld * sizeof *h->e);
  memset(h->dl, 0, h->k * h->ld * sizeof *h->dl);
}
