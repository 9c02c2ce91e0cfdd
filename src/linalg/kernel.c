/*
 * kernel.c - the table of kernels and what they share: the one mapping from
 * csvreg_solver to a kernel, the solvers' names, the fold workspace, and the
 * digits estimate both solves report. A new kernel is one more entry here
 * and one file of operations (accum_impl.h states the contract).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accum_impl.h"
#include "internal.h"
#include "qr_update.h"

static const kernel_ops *const kernels[] = {&csvreg__kernel_qr, &csvreg__kernel_normal};
#define NKERNELS (sizeof kernels / sizeof kernels[0])

const kernel_ops *csvreg__kernel_for(csvreg_solver s) {
  for (size_t i = 0; i < NKERNELS; i++)
    if (kernels[i]->solver == s)
      return kernels[i];
  return NULL;
}

int csvreg__accum_kernel_at(size_t i, accum_kernel_info *out) {
  if (i >= NKERNELS)
    return -1;
  out->name = kernels[i]->name;
  out->solver = kernels[i]->solver;
  out->can_subtract = kernels[i]->subtract != NULL;
  out->can_add_columns = kernels[i]->add_columns != NULL;
  return 0;
}

const char *csvreg_solver_name(csvreg_solver s) {
  /* Any value that is not a kernel reads as the default, as it always has. */
  const kernel_ops *k = csvreg__kernel_for(s);
  return k ? k->name : csvreg__kernel_qr.name;
}

csvreg_status csvreg_solver_parse(const char *name, csvreg_solver *out) {
  for (size_t i = 0; name && i < NKERNELS; i++)
    if (strcmp(name, kernels[i]->name) == 0) {
      *out = kernels[i]->solver;
      return CSVREG_OK;
    }
  return CSVREG_E_USAGE;
}

accum_ws *csvreg__accum_ws_new(void) {
  accum_ws *ws = calloc(1, sizeof *ws);
  if (ws)
    ws->qr_avx2 = QR_UPDATE_AVX2 && csvreg__simd_avx2();
  return ws;
}

void csvreg__accum_ws_free(accum_ws *ws) {
  if (!ws)
    return;
  free(ws->work);
  free(ws->tau);
  free(ws);
}

csvreg_status csvreg__accum_ws_reserve(accum_ws *ws, size_t len, csvreg_error *err) {
  if (len <= ws->work_len)
    return CSVREG_OK;
  double *w = realloc(ws->work, len * sizeof *w);
  if (!w)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory for a workspace of %zu doubles",
                           len);
  ws->work = w;
  ws->work_len = len;
  return CSVREG_OK;
}

csvreg_status csvreg__accum_ws_reserve_tau(accum_ws *ws, size_t len, csvreg_error *err) {
  if (len <= ws->tau_len)
    return CSVREG_OK;
  /* Nothing in tau outlives a call: no need to keep it. */
  free(ws->tau);
  ws->tau_len = 0;
  if (!(ws->tau = malloc(len * sizeof *ws->tau)))
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  ws->tau_len = len;
  return CSVREG_OK;
}

double csvreg__digits_estimate(size_t k, const double *b, const double *d, double kappa,
                               int squared, const double *b0, const double *xbar) {
  const double u = 1.1102230246251565e-16; /* 2^-53 */
  double norm = 0, worst = 0, d0 = b0 ? u * fabs(*b0) : 0;
  for (size_t j = 0; j < k; j++)
    norm += (b[j] * d[j]) * (b[j] * d[j]);
  norm = sqrt(norm);
  double rel = squared ? u * kappa * kappa : u * kappa;
  for (size_t j = 0; j < k; j++) {
    double dj = d[j] > 0 ? rel * norm / d[j] : 0;
    /* A coefficient within a few rounding errors of 0 against the scaled
     * solution (|b_j| d_j <= 4 u |D b|: an exact fit whose true effect is
     * 0, a level with no effect) is a zero computed with rounding; it has
     * no relative digits to lose, so its error is judged normwise,
     * |db_j| d_j / |D b| = rel, as its neighbours'. Any larger coefficient
     * keeps the relative bound (a small one next to large ones, as NIST
     * Wampler, gets fewer digits); so does a zero of an ill-conditioned
     * design, through rel itself. */
    double e = fabs(b[j]) * d[j] > 4 * u * norm ? dj / fabs(b[j])
               : norm > 0                       ? dj * d[j] / norm
                                                : 0.0;
    if (e > worst)
      worst = e;
    if (xbar)
      d0 += dj * fabs(xbar[j]);
  }
  if (b0) {
    /* an intercept within rounding of 0 against the terms it is made of
     * (ybar - sum b_j xbar_j): judged against sum |b_j xbar_j| */
    double sc = 0;
    for (size_t j = 0; xbar && j < k; j++)
      sc += fabs(b[j] * xbar[j]);
    double e = fabs(*b0) > 4 * u * sc ? d0 / fabs(*b0) : sc > 0 ? d0 / sc : (d0 > 0 ? 1.0 : 0.0);
    if (e > worst)
      worst = e;
  }
  if (!(worst > 0))
    return 15.9;
  double dg = -log10(worst);
  return dg > 15.9 ? 15.9 : (dg < 0 ? 0 : dg);
}
