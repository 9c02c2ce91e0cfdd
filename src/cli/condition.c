/*
 * condition.c - the small grammar of `eval --fail-if`, parsed before the
 * data are read so that a typo fails at once (exit 2, with a caret), not
 * after an hour's pass:
 *
 *   expr  := and ('or' and)*
 *   and   := term ('and' term)*          ('and' binds tighter than 'or')
 *   term  := '(' expr ')' | METRIC OP NUMBER
 *   OP    := '<' | '<=' | '>' | '>=' | '==' | '!='
 *
 * METRIC is a name as eval prints it (n, mse, rmse, ...). The NUMBER is read
 * with strtod in the C locale the program runs in. A comparison with a
 * metric that is NA (NaN: an R^2 of constant y, a MAPE of all-zero y) is
 * false whatever the operator, so an undefined metric never raises an alarm
 * on its own. The tree is a flat array of nodes.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition.h"

const char condition_metric_names[] = "n, mse, rmse, mae, mape, max_error, mean_error, r_squared, "
                                      "explained_variance, sum_w, n_zero_y";

enum { M_N, M_MSE, M_RMSE, M_MAE, M_MAPE, M_MAX, M_MEAN, M_R2, M_EV, M_SUMW, M_NZERO, M_COUNT };
static const char *const metric_name[M_COUNT] = {"n",          "mse",       "rmse",
                                                 "mae",        "mape",      "max_error",
                                                 "mean_error", "r_squared", "explained_variance",
                                                 "sum_w",      "n_zero_y"};

enum { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };
enum { NODE_CMP, NODE_AND, NODE_OR };

typedef struct node {
  int kind;
  int metric, op; /* NODE_CMP */
  double value;
  size_t a, b; /* NODE_AND / NODE_OR: the operands' nodes */
} node;

struct condition {
  node *nodes;
  size_t n, cap;
  size_t root;
};

typedef struct parser {
  const char *text, *p;
  condition *c;
  char *msg;
  size_t msgsize, where;
  int failed;
} parser;

static void skip_space(parser *ps) {
  while (*ps->p && isspace((unsigned char)*ps->p))
    ps->p++;
}

static int fail(parser *ps, const char *at, const char *fmt, const char *arg) {
  if (!ps->failed) {
    ps->failed = 1;
    ps->where = (size_t)(at - ps->text);
    snprintf(ps->msg, ps->msgsize, fmt, arg);
  }
  return -1;
}

static int add_node(parser *ps, node nd, size_t *out) {
  condition *c = ps->c;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 8;
    node *t = realloc(c->nodes, cap * sizeof *t);
    if (!t) {
      ps->failed = 1;
      ps->where = (size_t)-1;
      snprintf(ps->msg, ps->msgsize, "out of memory");
      return -1;
    }
    c->nodes = t;
    c->cap = cap;
  }
  c->nodes[c->n] = nd;
  *out = c->n++;
  return 0;
}

/* The word at p (letters, digits, '_'), its length. */
static size_t word_len(const char *p) {
  size_t n = 0;
  while (isalnum((unsigned char)p[n]) || p[n] == '_')
    n++;
  return n;
}

static int is_keyword(parser *ps, const char *kw) {
  size_t n = word_len(ps->p);
  return n == strlen(kw) && strncmp(ps->p, kw, n) == 0;
}

static int parse_or(parser *ps, size_t *out);

static int parse_term(parser *ps, size_t *out) {
  skip_space(ps);
  if (*ps->p == '(') {
    const char *open = ps->p++;
    if (parse_or(ps, out))
      return -1;
    skip_space(ps);
    if (*ps->p != ')')
      return fail(ps, *ps->p ? ps->p : open, "%s",
                  *ps->p ? "expected 'and', 'or' or ')'" : "unclosed '('");
    ps->p++;
    return 0;
  }
  size_t n = word_len(ps->p);
  if (n == 0 || isdigit((unsigned char)*ps->p))
    return fail(ps, ps->p, "expected a metric name (%s)", condition_metric_names);
  int m = -1;
  for (int i = 0; i < M_COUNT; i++)
    if (strlen(metric_name[i]) == n && strncmp(ps->p, metric_name[i], n) == 0)
      m = i;
  if (m < 0)
    return fail(ps, ps->p, "unknown metric (one of %s)", condition_metric_names);
  ps->p += n;
  skip_space(ps);
  int op;
  const char *q = ps->p;
  if (q[0] == '<' && q[1] == '=')
    op = OP_LE;
  else if (q[0] == '>' && q[1] == '=')
    op = OP_GE;
  else if (q[0] == '=' && q[1] == '=')
    op = OP_EQ;
  else if (q[0] == '!' && q[1] == '=')
    op = OP_NE;
  else if (q[0] == '<')
    op = OP_LT;
  else if (q[0] == '>')
    op = OP_GT;
  else
    return fail(ps, q, "%s", "expected a comparison (<, <=, >, >=, ==, !=)");
  ps->p += (op == OP_LT || op == OP_GT) ? 1 : 2;
  skip_space(ps);
  q = ps->p;
  /* a plain decimal number: no hex, inf or nan, which strtod would take */
  const char *d = q + (*q == '+' || *q == '-');
  if (!(isdigit((unsigned char)*d) || (*d == '.' && isdigit((unsigned char)d[1]))))
    return fail(ps, q, "%s", "expected a number");
  char *end;
  errno = 0;
  double v = strtod(q, &end);
  if (errno == ERANGE && isinf(v))
    return fail(ps, q, "%s", "number out of range");
  if (word_len(end) || *end == '.')
    return fail(ps, end, "%s", "expected a number");
  ps->p = end;
  node nd = {NODE_CMP, m, op, v, 0, 0};
  return add_node(ps, nd, out);
}

static int parse_and(parser *ps, size_t *out) {
  if (parse_term(ps, out))
    return -1;
  for (;;) {
    skip_space(ps);
    if (!is_keyword(ps, "and"))
      return 0;
    ps->p += 3;
    size_t rhs;
    if (parse_term(ps, &rhs))
      return -1;
    node nd = {NODE_AND, 0, 0, 0, *out, rhs};
    if (add_node(ps, nd, out))
      return -1;
  }
}

static int parse_or(parser *ps, size_t *out) {
  if (parse_and(ps, out))
    return -1;
  for (;;) {
    skip_space(ps);
    if (!is_keyword(ps, "or"))
      return 0;
    ps->p += 2;
    size_t rhs;
    if (parse_and(ps, &rhs))
      return -1;
    node nd = {NODE_OR, 0, 0, 0, *out, rhs};
    if (add_node(ps, nd, out))
      return -1;
  }
}

condition *condition_parse(const char *text, char *msg, size_t msgsize, size_t *where) {
  condition *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(msg, msgsize, "out of memory");
    *where = (size_t)-1;
    return NULL;
  }
  parser ps = {text, text, c, msg, msgsize, 0, 0};
  if (!parse_or(&ps, &c->root)) {
    skip_space(&ps);
    if (*ps.p)
      fail(&ps, ps.p, "%s", ps.p[0] == ')' ? "unmatched ')'" : "expected 'and', 'or' or the end");
  }
  if (ps.failed) {
    *where = ps.where;
    condition_free(c);
    return NULL;
  }
  return c;
}

void condition_free(condition *c) {
  if (!c)
    return;
  free(c->nodes);
  free(c);
}

static double metric_value(int m, const csvreg_metrics *x) {
  switch (m) {
  case M_N: return (double)x->n;
  case M_MSE: return x->mse;
  case M_RMSE: return x->rmse;
  case M_MAE: return x->mae;
  case M_MAPE: return x->mape;
  case M_MAX: return x->max_error;
  case M_MEAN: return x->mean_error;
  case M_R2: return x->r_squared;
  case M_EV: return x->explained_variance;
  case M_SUMW: return x->sum_w;
  default: return (double)x->n_zero_y;
  }
}

static int holds(const condition *c, size_t i, const csvreg_metrics *m) {
  const node *nd = &c->nodes[i];
  if (nd->kind == NODE_AND)
    return holds(c, nd->a, m) && holds(c, nd->b, m);
  if (nd->kind == NODE_OR)
    return holds(c, nd->a, m) || holds(c, nd->b, m);
  double v = metric_value(nd->metric, m);
  if (isnan(v))
    return 0;
  switch (nd->op) {
  case OP_LT: return v < nd->value;
  case OP_LE: return v <= nd->value;
  case OP_GT: return v > nd->value;
  case OP_GE: return v >= nd->value;
  case OP_EQ: return v == nd->value;
  default: return v != nd->value;
  }
}

int condition_holds(const condition *c, const csvreg_metrics *m) { return holds(c, c->root, m); }
