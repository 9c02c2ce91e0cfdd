/*
 * formula.c - R's model formulas: a recursive-descent parser with R's
 * operator precedence, R's deparse (the names R prints), and the term algebra
 * of R's terms() (src/library/stats/src/model.c: ExtractVars, EncodeVars,
 * TermCode) followed by model.matrix's column rules.
 *
 * Why R's algorithm and not a cleaner one: users compare our coefficient
 * names and their order with R's output, and R's rules have corners (a:b
 * labelled in the order variables first appear, `(a+b+c)^2` ordered by the
 * product loop, a factor coded by indicators when the term without it is not
 * in a *preceding* term) that only the same algorithm reproduces.
 *
 * The syntax tree is an array of nodes referring to each other by index,
 * which keeps freeing trivial and bounds nothing but memory. Terms are
 * bitsets over the variables, as in R.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formula.h"
#include "internal.h"

#define NONE ((size_t)-1)
#define MAX_DEPTH 200                 /* nesting of the syntax tree */
#define MAX_TERMS ((size_t)1 << 13)   /* terms after expansion (designs take 4096) */
#define MAX_PRODUCT ((size_t)1 << 20) /* terms of one product before duplicates go */
#define MAX_POLY_DEGREE 64
#define MAX_COLUMNS ((size_t)1 << 20)

/* ------------------------------------------------------------------------ */
/* Syntax tree                                                              */
/* ------------------------------------------------------------------------ */

typedef enum ntype { N_NUM, N_STR, N_NAME, N_BOOL, N_CALL, N_BIN, N_UN, N_PAREN } ntype;

enum { OP_IN = 'i' }; /* %in%; other operators are their own character */

typedef struct node {
  ntype type;
  size_t off;    /* the token: operator, name, number, call's name */
  int op;        /* N_BIN, N_UN; N_BOOL: 0/1 */
  double num;    /* N_NUM */
  char *str;     /* N_NAME, N_STR, N_CALL (the function) */
  size_t a, b;   /* operands; N_CALL: a = first argument */
  size_t next;   /* the next argument of a call */
  char *argname; /* a named argument's name, else NULL */
  size_t end;    /* one past the node's last byte */
} node;

typedef struct tree {
  node *v;
  size_t n, cap;
  size_t root;
} tree;

static void tree_free(tree *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++) {
    free(t->v[i].str);
    free(t->v[i].argname);
  }
  free(t->v);
  free(t);
}

/* ------------------------------------------------------------------------ */
/* Growing strings                                                          */
/* ------------------------------------------------------------------------ */

typedef struct sbuf {
  char *s;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t len) {
  if (b->oom)
    return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 32;
    while (cap < b->n + len + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, len);
  b->n += len;
  b->s[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }

/* Takes the string (never NULL unless out of memory). */
static char *sb_take(sbuf *b) {
  if (!b->oom && !b->s)
    sb_putn(b, "", 0);
  if (b->oom) {
    free(b->s);
    b->s = NULL;
  }
  char *s = b->s;
  b->s = NULL;
  b->n = b->cap = 0;
  return s;
}

/* ------------------------------------------------------------------------ */
/* Lexer and parser                                                         */
/* ------------------------------------------------------------------------ */

enum tok_type { T_END, T_NUM, T_STR, T_NAME, T_BOOL, T_OP, T_LP, T_RP, T_COMMA, T_EQ };

typedef struct parser {
  const char *s;
  size_t len, pos;
  /* current token */
  enum tok_type tt;
  size_t toff;
  int top; /* T_OP: the operator; T_BOOL: value */
  double tnum;
  char *tstr; /* T_NAME, T_STR: decoded text (owned until consumed) */
  tree *t;
  size_t depth;
  csvreg_status st;
  csvreg_error *err;
  size_t where;
} parser;

static csvreg_status perr(parser *p, size_t off, const char *fmt, ...) CSVREG_PRINTF(3, 4);
static csvreg_status perr(parser *p, size_t off, const char *fmt, ...) {
  if (p->st != CSVREG_OK)
    return p->st;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->st = csvreg__err_set(p->err, CSVREG_E_USAGE, "formula: %s", msg);
  p->where = off;
  return p->st;
}

static csvreg_status poom(parser *p) {
  if (p->st == CSVREG_OK)
    p->st = csvreg__err_set(p->err, CSVREG_E_NOMEM, "out of memory");
  return p->st;
}

static int is_name_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c >= 0x80;
}
static int is_name_char(unsigned char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '_';
}
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Words R reserves: they cannot be bare names. */
static const char *const reserved[] = {
    "if",          "else",     "repeat",        "while",       "function", "for", "next",
    "break",       "TRUE",     "FALSE",         "NULL",        "Inf",      "NaN", "NA",
    "NA_integer_", "NA_real_", "NA_character_", "NA_complex_", "in"};

static int is_reserved(const char *s) {
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
    if (strcmp(s, reserved[i]) == 0)
      return 1;
  return 0;
}

/* R's rule for names that deparse without backquotes. */
static int is_syntactic(const char *s) {
  const unsigned char *u = (const unsigned char *)s;
  if (!*u || !is_name_start(u[0]) || (u[0] == '.' && is_digit(u[1])))
    return 0;
  for (size_t i = 1; u[i]; i++)
    if (!is_name_char(u[i]))
      return 0;
  if (is_reserved(s))
    return 0;
  /* ..1, ..2: R's dot-dot arguments */
  if (u[0] == '.' && u[1] == '.' && u[2]) {
    size_t i = 2;
    while (is_digit(u[i]))
      i++;
    if (!u[i])
      return 0;
  }
  return 1;
}

/* Decodes a quoted string or backquoted name starting at p->pos (the quote). */
static csvreg_status lex_quoted(parser *p, char q) {
  size_t start = p->pos++;
  sbuf b = {0};
  for (;;) {
    if (p->pos >= p->len) {
      free(b.s);
      return perr(p, start, q == '`' ? "unterminated backquoted name" : "unterminated string");
    }
    char c = p->s[p->pos++];
    if (c == q)
      break;
    if (c == '\\') {
      if (p->pos >= p->len)
        continue; /* reported as unterminated */
      char e = p->s[p->pos++];
      switch (e) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case '\\':
      case '"':
      case '\'':
      case '`':
      case ' ': c = e; break;
      default: free(b.s); return perr(p, p->pos - 2, "unsupported escape '\\%c'", e);
      }
    } else if (c == '\0') {
      free(b.s);
      return perr(p, p->pos - 1, "NUL byte in a formula");
    }
    sb_putc(&b, c);
  }
  p->tstr = sb_take(&b);
  if (!p->tstr)
    return poom(p);
  if (q == '`' && !*p->tstr)
    return perr(p, start, "empty backquoted name");
  p->tt = q == '`' ? T_NAME : T_STR;
  return CSVREG_OK;
}

/* Reads the next token into p. */
static csvreg_status lex(parser *p) {
  free(p->tstr);
  p->tstr = NULL;
  while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
    p->pos++;
  p->toff = p->pos;
  if (p->pos >= p->len) {
    p->tt = T_END;
    return CSVREG_OK;
  }
  const unsigned char *u = (const unsigned char *)p->s;
  unsigned char c = u[p->pos];
  if (is_digit(c) || (c == '.' && p->pos + 1 < p->len && is_digit(u[p->pos + 1]))) {
    size_t i = p->pos;
    while (i < p->len && is_digit(u[i]))
      i++;
    if (i < p->len && u[i] == '.')
      for (i++; i < p->len && is_digit(u[i]); i++)
        ;
    if (i < p->len && (u[i] == 'e' || u[i] == 'E')) {
      size_t j = i + 1;
      if (j < p->len && (u[j] == '+' || u[j] == '-'))
        j++;
      if (j >= p->len || !is_digit(u[j]))
        return perr(p, i, "malformed number");
      for (i = j; i < p->len && is_digit(u[i]); i++)
        ;
    }
    if (i < p->len && u[i] == 'x' && i == p->pos + 1 && c == '0')
      return perr(p, p->pos, "hexadecimal numbers are not supported");
    if (csvreg_parse_double(p->s + p->pos, i - p->pos, &p->tnum) != CSVREG_OK)
      return perr(p, p->pos, "number out of range");
    if (i < p->len && u[i] == 'L') { /* R's integer literal; deparsed without L */
      if (p->tnum != floor(p->tnum))
        return perr(p, p->pos, "integer literal with a fraction");
      i++;
    }
    if (i < p->len && is_name_char(u[i]))
      return perr(p, i, "unexpected symbol after a number");
    p->pos = i;
    p->tt = T_NUM;
    return CSVREG_OK;
  }
  if (is_name_start(c)) {
    size_t i = p->pos;
    while (i < p->len && is_name_char(u[i]))
      i++;
    p->tstr = malloc(i - p->pos + 1);
    if (!p->tstr)
      return poom(p);
    memcpy(p->tstr, p->s + p->pos, i - p->pos);
    p->tstr[i - p->pos] = '\0';
    p->pos = i;
    if (strcmp(p->tstr, "TRUE") == 0 || strcmp(p->tstr, "FALSE") == 0) {
      p->tt = T_BOOL;
      p->top = p->tstr[0] == 'T';
      return CSVREG_OK;
    }
    if (is_reserved(p->tstr))
      return perr(p, p->toff, "'%s' is not supported in a formula", p->tstr);
    p->tt = T_NAME;
    return CSVREG_OK;
  }
  if (c == '"' || c == '\'' || c == '`')
    return lex_quoted(p, (char)c);
  p->pos++;
  switch (c) {
  case '(': p->tt = T_LP; return CSVREG_OK;
  case ')': p->tt = T_RP; return CSVREG_OK;
  case ',': p->tt = T_COMMA; return CSVREG_OK;
  case '=':
    if (p->pos < p->len && p->s[p->pos] == '=')
      return perr(p, p->toff, "'==' is not supported in a formula");
    p->tt = T_EQ;
    return CSVREG_OK;
  case '*':
    if (p->pos < p->len && p->s[p->pos] == '*') { /* R reads ** as ^ */
      p->pos++;
      c = '^';
    }
    /* fall through */
  case '+':
  case '-':
  case '/':
  case '^':
  case ':':
  case '~':
    p->tt = T_OP;
    p->top = c;
    return CSVREG_OK;
  case '%': {
    size_t i = p->pos;
    while (i < p->len && p->s[i] != '%' && p->s[i] != '\n')
      i++;
    if (i >= p->len || p->s[i] != '%')
      return perr(p, p->toff, "unterminated %%...%% operator");
    if (i - p->pos == 2 && memcmp(p->s + p->pos, "in", 2) == 0) {
      p->pos = i + 1;
      p->tt = T_OP;
      p->top = OP_IN;
      return CSVREG_OK;
    }
    return perr(p, p->toff, "operator '%.*s' is not supported", (int)(i + 1 - p->toff),
                p->s + p->toff);
  }
  default:
    if (c < 0x20 || c == 0x7f)
      return perr(p, p->toff, "unexpected control character");
    return perr(p, p->toff, "unexpected '%c'", c);
  }
}

static size_t new_node(parser *p, ntype type, size_t off) {
  tree *t = p->t;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    node *v = realloc(t->v, cap * sizeof *v);
    if (!v) {
      poom(p);
      return NONE;
    }
    t->v = v;
    t->cap = cap;
  }
  node *n = &t->v[t->n];
  memset(n, 0, sizeof *n);
  n->type = type;
  n->off = off;
  n->a = n->b = n->next = NONE;
  n->end = p->pos;
  return t->n++;
}

/* Binding power of binary operators (R's ?Syntax, low to high). */
enum { P_TILDE = 1, P_SUM, P_PROD, P_SPECIAL, P_COLON, P_UNARY, P_POW };

static int binprec(int op) {
  switch (op) {
  case '~': return P_TILDE;
  case '+':
  case '-': return P_SUM;
  case '*':
  case '/': return P_PROD;
  case OP_IN: return P_SPECIAL;
  case ':': return P_COLON;
  case '^': return P_POW;
  default: return 0;
  }
}

static size_t parse_expr(parser *p, int minprec);

static const char *tok_desc(const parser *p) {
  switch (p->tt) {
  case T_END: return "end of formula";
  case T_RP: return "')'";
  case T_COMMA: return "','";
  case T_EQ: return "'='";
  default: return "token";
  }
}

static size_t parse_call(parser *p, size_t callnode) {
  size_t lp = p->toff; /* at '(' */
  if (lex(p) != CSVREG_OK)
    return NONE;
  size_t last = NONE;
  if (p->tt == T_RP) {
    p->t->v[callnode].end = p->pos;
    return lex(p) == CSVREG_OK ? callnode : NONE;
  }
  for (;;) {
    char *argname = NULL;
    if ((p->tt == T_NAME || p->tt == T_STR) && p->pos < p->len) {
      /* a named argument: name '=' expr (peek past blanks for '=') */
      size_t i = p->pos;
      while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t' || p->s[i] == '\n'))
        i++;
      if (i < p->len && p->s[i] == '=' && (i + 1 >= p->len || p->s[i + 1] != '=')) {
        argname = p->tstr;
        p->tstr = NULL;
        p->pos = i + 1;
        if (lex(p) != CSVREG_OK) {
          free(argname);
          return NONE;
        }
      }
    }
    if (p->tt == T_COMMA || p->tt == T_RP) {
      free(argname);
      perr(p, p->toff, "empty argument");
      return NONE;
    }
    size_t a = parse_expr(p, P_TILDE + 1);
    if (a == NONE) {
      free(argname);
      return NONE;
    }
    p->t->v[a].argname = argname;
    if (last == NONE)
      p->t->v[callnode].a = a;
    else
      p->t->v[last].next = a;
    last = a;
    if (p->tt == T_COMMA) {
      if (lex(p) != CSVREG_OK)
        return NONE;
      continue;
    }
    if (p->tt == T_RP) {
      p->t->v[callnode].end = p->pos;
      return lex(p) == CSVREG_OK ? callnode : NONE;
    }
    if (p->tt == T_END) {
      perr(p, lp, "unbalanced '(': no matching ')'");
      return NONE;
    }
    perr(p, p->toff, "expected ',' or ')' in the arguments of %s(), found %s",
         p->t->v[callnode].str, tok_desc(p));
    return NONE;
  }
}

static size_t parse_prefix(parser *p) {
  size_t off = p->toff;
  switch (p->tt) {
  case T_NUM: {
    size_t n = new_node(p, N_NUM, off);
    if (n == NONE)
      return NONE;
    p->t->v[n].num = p->tnum;
    return lex(p) == CSVREG_OK ? n : NONE;
  }
  case T_BOOL: {
    size_t n = new_node(p, N_BOOL, off);
    if (n == NONE)
      return NONE;
    p->t->v[n].op = p->top;
    return lex(p) == CSVREG_OK ? n : NONE;
  }
  case T_STR:
  case T_NAME: {
    size_t n = new_node(p, p->tt == T_STR ? N_STR : N_NAME, off);
    if (n == NONE)
      return NONE;
    p->t->v[n].str = p->tstr;
    p->tstr = NULL;
    int was_name = p->tt == T_NAME;
    if (lex(p) != CSVREG_OK)
      return NONE;
    if (p->tt == T_LP) {
      if (!was_name) {
        perr(p, off, "a string cannot be called");
        return NONE;
      }
      p->t->v[n].type = N_CALL;
      return parse_call(p, n);
    }
    return n;
  }
  case T_LP: {
    if (lex(p) != CSVREG_OK)
      return NONE;
    size_t in = parse_expr(p, P_TILDE);
    if (in == NONE)
      return NONE;
    if (p->tt != T_RP) {
      perr(p, off, "unbalanced '(': no matching ')'");
      return NONE;
    }
    size_t n = new_node(p, N_PAREN, off);
    if (n == NONE)
      return NONE;
    p->t->v[n].a = in;
    return lex(p) == CSVREG_OK ? n : NONE;
  }
  case T_OP:
    if (p->top == '-' || p->top == '+' || p->top == '~') {
      int op = p->top;
      if (lex(p) != CSVREG_OK)
        return NONE;
      size_t a = parse_expr(p, op == '~' ? P_TILDE : P_UNARY);
      if (a == NONE)
        return NONE;
      size_t n = new_node(p, N_UN, off);
      if (n == NONE)
        return NONE;
      p->t->v[n].op = op;
      p->t->v[n].a = a;
      return n;
    }
    perr(p, off, "unexpected operator '%s'", p->top == OP_IN ? "%in%" : (char[]){(char)p->top, 0});
    return NONE;
  case T_RP: perr(p, off, "unbalanced ')'"); return NONE;
  case T_END: perr(p, off, "unexpected end of formula"); return NONE;
  case T_COMMA: perr(p, off, "unexpected ','"); return NONE;
  case T_EQ: perr(p, off, "unexpected '='"); return NONE;
  }
  return NONE;
}

static size_t parse_expr(parser *p, int minprec) {
  if (++p->depth > MAX_DEPTH) {
    perr(p, p->toff, "formula nested too deeply");
    return NONE;
  }
  size_t left = parse_prefix(p);
  while (left != NONE && p->tt == T_OP) {
    int op = p->top, prec = binprec(op);
    if (prec < minprec)
      break;
    size_t off = p->toff;
    if (lex(p) != CSVREG_OK)
      return NONE;
    /* ^ is right-associative; the others left */
    size_t right = parse_expr(p, op == '^' ? P_POW : prec + 1);
    if (right == NONE)
      return NONE;
    size_t n = new_node(p, N_BIN, off);
    if (n == NONE)
      return NONE;
    p->t->v[n].op = op;
    p->t->v[n].a = left;
    p->t->v[n].b = right;
    left = n;
  }
  p->depth--;
  return left;
}

/* ------------------------------------------------------------------------ */
/* Deparse: R's text for an expression                                      */
/* ------------------------------------------------------------------------ */

void csvreg__formula_num(double v, char *buf, size_t size) {
  if (v == 0) {
    snprintf(buf, size, "0");
    return;
  }
  if (!isfinite(v)) {
    snprintf(buf, size, isnan(v) ? "NaN" : v > 0 ? "Inf" : "-Inf");
    return;
  }
  /* 15 significant digits, as deparse; then the fewest that give the same */
  char e[40];
  snprintf(e, sizeof e, "%.14e", v);
  const char *m = e + (e[0] == '-');
  char *x = strchr(e, 'e');
  int kp = atoi(x + 1);
  int nsig = 15;
  while (nsig > 1 && m[1 + nsig - 1] == '0') /* m = d.dddd..., digit i at m[i+1] */
    nsig--;
  int neg = v < 0;
  int rgt = nsig - kp - 1;
  if (rgt < 0)
    rgt = 0;
  int left = kp + 1;
  int wf = neg + (left <= 0 ? 1 : left) + rgt + (rgt ? 1 : 0);
  int we = neg + (nsig > 1 ? nsig + 1 : nsig) + (abs(kp) >= 100 ? 5 : 4);
  if (wf <= we) {
    snprintf(buf, size, "%.*f", rgt, v);
  } else {
    /* the mantissa from the correctly rounded digits, not from a division */
    char mant[32];
    int k = 0;
    if (neg)
      mant[k++] = '-';
    mant[k++] = m[0];
    if (nsig > 1) {
      mant[k++] = '.';
      for (int i = 1; i < nsig; i++)
        mant[k++] = m[i + 1];
    }
    mant[k] = '\0';
    snprintf(buf, size, "%se%c%02d", mant, kp < 0 ? '-' : '+', abs(kp));
  }
}

static void deparse_name(sbuf *b, const char *s) {
  if (is_syntactic(s)) {
    sb_puts(b, s);
    return;
  }
  sb_putc(b, '`');
  for (; *s; s++) {
    if (*s == '`' || *s == '\\')
      sb_putc(b, '\\');
    sb_putc(b, *s);
  }
  sb_putc(b, '`');
}

static void deparse_str(sbuf *b, const char *s) {
  sb_putc(b, '"');
  for (; *s; s++) {
    switch (*s) {
    case '"': sb_puts(b, "\\\""); break;
    case '\\': sb_puts(b, "\\\\"); break;
    case '\n': sb_puts(b, "\\n"); break;
    case '\t': sb_puts(b, "\\t"); break;
    case '\r': sb_puts(b, "\\r"); break;
    default: sb_putc(b, *s);
    }
  }
  sb_putc(b, '"');
}

static void deparse(const tree *t, size_t i, sbuf *b) {
  const node *n = &t->v[i];
  switch (n->type) {
  case N_NUM: {
    char buf[48];
    csvreg__formula_num(n->num, buf, sizeof buf);
    sb_puts(b, buf);
    break;
  }
  case N_BOOL: sb_puts(b, n->op ? "TRUE" : "FALSE"); break;
  case N_STR: deparse_str(b, n->str); break;
  case N_NAME: deparse_name(b, n->str); break;
  case N_CALL:
    deparse_name(b, n->str);
    sb_putc(b, '(');
    for (size_t a = n->a; a != NONE; a = t->v[a].next) {
      if (a != n->a)
        sb_puts(b, ", ");
      if (t->v[a].argname) {
        deparse_name(b, t->v[a].argname);
        sb_puts(b, " = ");
      }
      deparse(t, a, b);
    }
    sb_putc(b, ')');
    break;
  case N_PAREN:
    sb_putc(b, '(');
    deparse(t, n->a, b);
    sb_putc(b, ')');
    break;
  case N_UN:
    sb_putc(b, (char)n->op);
    deparse(t, n->a, b);
    break;
  case N_BIN:
    deparse(t, n->a, b);
    switch (n->op) {
    case '+': sb_puts(b, " + "); break;
    case '-': sb_puts(b, " - "); break;
    case '*': sb_puts(b, " * "); break;
    case '~': sb_puts(b, " ~ "); break;
    case OP_IN: sb_puts(b, " %in% "); break;
    default: sb_putc(b, (char)n->op); /* / ^ : */
    }
    deparse(t, n->b, b);
    break;
  }
}

static char *deparse_str_of(const tree *t, size_t i) {
  sbuf b = {0};
  deparse(t, i, &b);
  return sb_take(&b);
}

char *csvreg__formula_deparse(const csvreg__formula *f) {
  const tree *t = f ? f->tree : NULL;
  return t ? deparse_str_of(t, t->root) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Checks after parsing: what may stand where                               */
/* ------------------------------------------------------------------------ */

/* Functions of a numeric expression: name, fewest and most arguments. */
static const struct {
  const char *name;
  int min, max;
  csvreg__expr_op op;
} numfun[] = {
    {"I", 1, 1, CSVREG__EXPR_ADD /* unused */}, {"log", 1, 2, CSVREG__EXPR_LOG},
    {"log2", 1, 1, CSVREG__EXPR_LOG2},          {"log10", 1, 1, CSVREG__EXPR_LOG10},
    {"log1p", 1, 1, CSVREG__EXPR_LOG1P},        {"exp", 1, 1, CSVREG__EXPR_EXP},
    {"sqrt", 1, 1, CSVREG__EXPR_SQRT},          {"abs", 1, 1, CSVREG__EXPR_ABS},
};
#define KNOWN_FUNCTIONS "I, log, log2, log10, log1p, exp, sqrt, abs, factor, relevel, poly"

static int find_numfun(const char *name) {
  for (size_t i = 0; i < sizeof numfun / sizeof *numfun; i++)
    if (strcmp(name, numfun[i].name) == 0)
      return (int)i;
  return -1;
}

static size_t nargs(const tree *t, size_t call) {
  size_t k = 0;
  for (size_t a = t->v[call].a; a != NONE; a = t->v[a].next)
    k++;
  return k;
}

/* Where node i's text starts (a binary node's `off` is its operator). */
static size_t node_start(const tree *t, size_t i) {
  while (t->v[i].type == N_BIN)
    i = t->v[i].a;
  return t->v[i].off;
}

static int is_whole(double v, double lo, double hi) { return v == floor(v) && v >= lo && v <= hi; }

static csvreg_status check_numeric(parser *p, size_t i);

static csvreg_status check_numcall(parser *p, size_t i) {
  const tree *t = p->t;
  const node *n = &t->v[i];
  int f = find_numfun(n->str);
  if (f < 0) {
    if (strcmp(n->str, "factor") == 0 || strcmp(n->str, "relevel") == 0 ||
        strcmp(n->str, "poly") == 0)
      return perr(p, n->off, "%s() cannot stand inside an arithmetic expression", n->str);
    return perr(p, n->off, "unknown function '%s' (known: " KNOWN_FUNCTIONS ")", n->str);
  }
  size_t k = nargs(t, i);
  if (k < (size_t)numfun[f].min || k > (size_t)numfun[f].max)
    return perr(p, n->off, "%s() takes %s", n->str,
                numfun[f].max == 1 ? "one argument" : "one or two arguments: log(x, base)");
  size_t pos = 0;
  for (size_t a = n->a; a != NONE; a = t->v[a].next, pos++) {
    const char *an = t->v[a].argname;
    if (an && !(pos == 0 && strcmp(an, "x") == 0) &&
        !(pos == 1 && strcmp(n->str, "log") == 0 && strcmp(an, "base") == 0))
      return perr(p, t->v[a].off, "%s(): unexpected argument name '%s'", n->str, an);
    if (check_numeric(p, a) != CSVREG_OK)
      return p->st;
  }
  return CSVREG_OK;
}

static csvreg_status check_numeric(parser *p, size_t i) {
  const tree *t = p->t;
  const node *n = &t->v[i];
  switch (n->type) {
  case N_NUM: return CSVREG_OK;
  case N_NAME:
    if (strcmp(n->str, ".") == 0)
      return perr(p, n->off, "'.' cannot stand inside an expression");
    return CSVREG_OK;
  case N_STR: return perr(p, n->off, "a string cannot stand in an arithmetic expression");
  case N_BOOL: return perr(p, n->off, "TRUE/FALSE cannot stand in an arithmetic expression");
  case N_PAREN: return check_numeric(p, n->a);
  case N_UN:
    if (n->op == '~')
      return perr(p, n->off, "'~' may appear only once, between the response and the terms");
    return check_numeric(p, n->a);
  case N_BIN:
    switch (n->op) {
    case ':':
      return perr(p, n->off,
                  "':' (interaction) has no meaning inside an arithmetic expression; "
                  "'*' multiplies");
    case '~':
      return perr(p, n->off, "'~' may appear only once, between the response and the terms");
    case OP_IN: return perr(p, n->off, "%%in%% has no meaning inside an arithmetic expression");
    default: break;
    }
    if (check_numeric(p, n->a) != CSVREG_OK)
      return p->st;
    return check_numeric(p, n->b);
  case N_CALL: return check_numcall(p, i);
  }
  return CSVREG_OK;
}

/* factor(x), relevel(x, ref = "b"), poly(x, k, raw = TRUE) or a numeric call. */
static csvreg_status check_varcall(parser *p, size_t i) {
  const tree *t = p->t;
  const node *n = &t->v[i];
  size_t k = nargs(t, i);
  if (strcmp(n->str, "factor") == 0) {
    size_t a = n->a;
    if (k != 1 || t->v[a].argname)
      return perr(p, n->off, "factor() takes one column: factor(x)");
    if (t->v[a].type != N_NAME || strcmp(t->v[a].str, ".") == 0)
      return perr(p, node_start(t, a), "factor() takes a column name");
    return CSVREG_OK;
  }
  if (strcmp(n->str, "relevel") == 0) {
    size_t x = NONE, ref = NONE, pos = 0;
    for (size_t a = n->a; a != NONE; a = t->v[a].next, pos++) {
      const char *an = t->v[a].argname;
      if (an ? strcmp(an, "x") == 0 : pos == 0)
        x = a;
      else if (an ? strcmp(an, "ref") == 0 : pos == 1)
        ref = a;
      else
        return perr(p, t->v[a].off, "relevel() takes a column and ref = \"level\"");
    }
    if (x == NONE)
      return perr(p, n->off, "relevel() needs a column: relevel(x, ref = \"level\")");
    if (ref == NONE)
      return perr(p, n->off, "relevel() needs the baseline level: relevel(x, ref = \"level\")");
    const node *xn = &t->v[x];
    if (xn->type == N_CALL && strcmp(xn->str, "factor") == 0) {
      if (check_varcall(p, x) != CSVREG_OK)
        return p->st;
    } else if (xn->type != N_NAME || strcmp(xn->str, ".") == 0) {
      return perr(p, node_start(t, x), "relevel() takes a column name or factor(column)");
    }
    if (t->v[ref].type != N_STR)
      return perr(p, node_start(t, ref),
                  "ref must be a level in quotes: relevel(x, ref = \"level\")");
    return CSVREG_OK;
  }
  if (strcmp(n->str, "poly") == 0) {
    size_t x = NONE, deg = NONE, raw = NONE, pos = 0;
    for (size_t a = n->a; a != NONE; a = t->v[a].next) {
      const char *an = t->v[a].argname;
      if (!an) {
        if (pos == 0)
          x = a;
        else if (pos == 1)
          deg = a;
        else
          return perr(p, t->v[a].off,
                      "poly() takes one column and a degree: poly(x, k, raw = TRUE)");
        pos++;
      } else if (strcmp(an, "degree") == 0 && deg == NONE) {
        deg = a;
      } else if (strcmp(an, "raw") == 0 && raw == NONE) {
        raw = a;
      } else if (strcmp(an, "x") == 0 && x == NONE) {
        x = a;
      } else {
        return perr(p, t->v[a].off, "poly(): unsupported argument '%s'", an);
      }
    }
    if (x == NONE)
      return perr(p, n->off, "poly() needs a column: poly(x, k, raw = TRUE)");
    if (check_numeric(p, x) != CSVREG_OK)
      return p->st;
    if (deg != NONE && (t->v[deg].type != N_NUM || !is_whole(t->v[deg].num, 1, MAX_POLY_DEGREE)))
      return perr(p, node_start(t, deg), "the degree of poly() must be a whole number from 1 to %d",
                  MAX_POLY_DEGREE);
    int is_raw = 0;
    if (raw != NONE) {
      const node *r = &t->v[raw];
      if (r->type == N_BOOL)
        is_raw = r->op;
      else if (r->type == N_NAME && (strcmp(r->str, "T") == 0 || strcmp(r->str, "F") == 0))
        is_raw = r->str[0] == 'T';
      else
        return perr(p, node_start(t, raw), "raw must be TRUE or FALSE");
    }
    if (!is_raw)
      return perr(p, n->off,
                  "orthogonal poly() needs the whole data before the fit; write "
                  "poly(x, k, raw = TRUE) for raw powers");
    return CSVREG_OK;
  }
  return check_numcall(p, i);
}

static csvreg_status check_rhs(parser *p, size_t i) {
  const tree *t = p->t;
  const node *n = &t->v[i];
  switch (n->type) {
  case N_NUM:
    if (n->num != 0 && n->num != 1)
      return perr(p, n->off,
                  "a number among the terms must be 0 or 1 (the intercept); "
                  "arithmetic goes inside I()");
    return CSVREG_OK;
  case N_NAME: return CSVREG_OK;
  case N_STR: return perr(p, n->off, "unexpected string among the terms");
  case N_BOOL: return perr(p, n->off, "unexpected TRUE/FALSE among the terms");
  case N_PAREN: return check_rhs(p, n->a);
  case N_UN:
    if (n->op == '~')
      return perr(p, n->off, "'~' may appear only once, between the response and the terms");
    return check_rhs(p, n->a);
  case N_BIN:
    if (n->op == '~')
      return perr(p, n->off, "'~' may appear only once, between the response and the terms");
    if (check_rhs(p, n->a) != CSVREG_OK)
      return p->st;
    if (n->op == '^') {
      const node *b = &t->v[n->b];
      if (b->type != N_NUM || !is_whole(b->num, 1, 1e9))
        return perr(p, node_start(t, n->b),
                    "the power of terms must be a whole number >= 1, as in "
                    "(a + b)^2; arithmetic goes inside I()");
      return CSVREG_OK;
    }
    return check_rhs(p, n->b);
  case N_CALL: return check_varcall(p, i);
  }
  return CSVREG_OK;
}

csvreg_status csvreg__formula_parse(csvreg__formula **out, const char *text, size_t *where,
                                    csvreg_error *err) {
  if (where)
    *where = CSVREG__NO_OFFSET;
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "formula_parse: NULL argument");
  *out = NULL;
  if (!text)
    return csvreg__err_set(err, CSVREG_E_USAGE, "formula_parse: NULL argument");
  parser p = {0};
  p.s = text;
  p.len = strlen(text);
  p.err = err;
  p.where = CSVREG__NO_OFFSET;
  p.t = calloc(1, sizeof *p.t);
  csvreg__formula *f = calloc(1, sizeof *f);
  if (!p.t || !f || !(f->text = csvreg__xstrdup(text))) {
    free(p.t);
    free(f);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  f->tree = p.t;
  size_t root = NONE;
  if (lex(&p) == CSVREG_OK) {
    if (p.tt == T_END)
      perr(&p, 0, "empty formula: write response ~ terms");
    else
      root = parse_expr(&p, P_TILDE);
  }
  if (p.st == CSVREG_OK && p.tt != T_END)
    perr(&p, p.toff, p.tt == T_RP ? "unbalanced ')'" : "unexpected text after the formula");
  if (p.st == CSVREG_OK) {
    p.t->root = root;
    const node *r = &p.t->v[root];
    if (r->type == N_BIN && r->op == '~') {
      const node *l = &p.t->v[r->a];
      if (l->type == N_BIN && l->op == '~')
        perr(&p, r->off, "'~' may appear only once, between the response and the terms");
      else if (check_numeric(&p, r->a) == CSVREG_OK)
        check_rhs(&p, r->b);
    } else if (r->type == N_UN && r->op == '~') {
      check_rhs(&p, r->a);
    } else {
      perr(&p, 0, "no '~': write response ~ terms, as in y ~ x1 + x2");
    }
  }
  free(p.tstr);
  if (p.st != CSVREG_OK) {
    if (where)
      *where = p.where;
    csvreg__formula_free(f);
    return p.st;
  }
  *out = f;
  return CSVREG_OK;
}

/* ------------------------------------------------------------------------ */
/* Expansion: variables and terms as R's terms()                            */
/* ------------------------------------------------------------------------ */

/* A list of terms, each `nw` words of bits over the variables. */
typedef struct tlist {
  size_t n, cap;
  uint64_t *w;
} tlist;

typedef struct xctx {
  csvreg__formula *f;
  const tree *t;
  /* variables while ExtractVars runs */
  size_t nv, vcap;
  char **vname;  /* deparsed */
  size_t *vnode; /* node, or NONE for a column `.` stands for */
  char **vcol;   /* the column of a `.` variable */
  size_t *voff;
  const char **dot; /* the names `.` stands for */
  size_t ndot;
  size_t nw;
  int intercept, parity;
  csvreg_status st;
  csvreg_error *err;
  size_t where;
} xctx;

static csvreg_status xerr(xctx *x, csvreg_status st, size_t off, const char *fmt, ...)
    CSVREG_PRINTF(4, 5);
static csvreg_status xerr(xctx *x, csvreg_status st, size_t off, const char *fmt, ...) {
  if (x->st != CSVREG_OK)
    return x->st;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  x->st = csvreg__err_set(x->err, st, "formula: %s", msg);
  x->where = off;
  return x->st;
}

static csvreg_status xoom(xctx *x) {
  if (x->st == CSVREG_OK)
    x->st = csvreg__err_set(x->err, CSVREG_E_NOMEM, "out of memory");
  return x->st;
}

/* R's InstallVar: the index of the variable deparsed as `name` (taken). */
static size_t install_var(xctx *x, char *name, size_t nd, const char *col, size_t off) {
  if (!name) {
    xoom(x);
    return NONE;
  }
  for (size_t i = 0; i < x->nv; i++)
    if (strcmp(x->vname[i], name) == 0) {
      free(name);
      return i;
    }
  if (x->nv == x->vcap) {
    size_t cap = x->vcap ? 2 * x->vcap : 16;
    char **a = realloc(x->vname, cap * sizeof *a);
    if (a)
      x->vname = a;
    size_t *b = realloc(x->vnode, cap * sizeof *b);
    if (b)
      x->vnode = b;
    char **c = realloc(x->vcol, cap * sizeof *c);
    if (c)
      x->vcol = c;
    size_t *d = realloc(x->voff, cap * sizeof *d);
    if (d)
      x->voff = d;
    if (!a || !b || !c || !d) {
      free(name);
      xoom(x);
      return NONE;
    }
    x->vcap = cap;
  }
  x->vname[x->nv] = name;
  x->vnode[x->nv] = nd;
  x->vcol[x->nv] = NULL;
  x->voff[x->nv] = off;
  if (col && !(x->vcol[x->nv] = csvreg__xstrdup(col))) {
    free(name);
    xoom(x);
    return NONE;
  }
  return x->nv++;
}

static char *name_of_column(const char *col) {
  sbuf b = {0};
  deparse_name(&b, col);
  return sb_take(&b);
}

/* R's ExtractVars over the right-hand side. */
static void extract_vars(xctx *x, size_t i) {
  if (x->st != CSVREG_OK)
    return;
  const node *n = &x->t->v[i];
  switch (n->type) {
  case N_NUM:
  case N_STR:
  case N_BOOL: return;
  case N_NAME:
    if (strcmp(n->str, ".") == 0) {
      if (!x->dot) {
        xerr(x, CSVREG_E_USAGE, n->off, "'.' needs the names of the columns");
        return;
      }
      for (size_t k = 0; k < x->ndot && x->st == CSVREG_OK; k++)
        install_var(x, name_of_column(x->dot[k]), NONE, x->dot[k], n->off);
      return;
    }
    install_var(x, deparse_str_of(x->t, i), i, NULL, n->off);
    return;
  case N_CALL: install_var(x, deparse_str_of(x->t, i), i, NULL, n->off); return;
  case N_PAREN:
  case N_UN: extract_vars(x, n->a); return;
  case N_BIN:
    extract_vars(x, n->a);
    if (n->op != '^')
      extract_vars(x, n->b);
    return;
  }
}

static int tl_reserve(xctx *x, tlist *l, size_t n) {
  if (n <= l->cap)
    return 1;
  if (n > MAX_PRODUCT) {
    xerr(x, CSVREG_E_LIMIT, NONE, "the formula expands to more than %zu terms",
         (size_t)MAX_PRODUCT);
    return 0;
  }
  size_t cap = l->cap ? l->cap : 8;
  while (cap < n)
    cap *= 2;
  uint64_t *w = realloc(l->w, cap * x->nw * sizeof *w);
  if (!w) {
    xoom(x);
    return 0;
  }
  l->w = w;
  l->cap = cap;
  return 1;
}

static uint64_t *tl_at(const xctx *x, const tlist *l, size_t i) { return l->w + i * x->nw; }

static int tl_push(xctx *x, tlist *l, const uint64_t *term) {
  if (!tl_reserve(x, l, l->n + 1))
    return 0;
  memcpy(tl_at(x, l, l->n), term, x->nw * sizeof *term);
  l->n++;
  return 1;
}

static int term_zero(const xctx *x, const uint64_t *a) {
  for (size_t k = 0; k < x->nw; k++)
    if (a[k])
      return 0;
  return 1;
}

static int term_eq(const xctx *x, const uint64_t *a, const uint64_t *b) {
  return memcmp(a, b, x->nw * sizeof *a) == 0;
}

/* a is a subset of b */
static int term_sub(const xctx *x, const uint64_t *a, const uint64_t *b) {
  for (size_t k = 0; k < x->nw; k++)
    if (a[k] & ~b[k])
      return 0;
  return 1;
}

static size_t term_order(const xctx *x, const uint64_t *a) {
  size_t c = 0;
  for (size_t k = 0; k < x->nw; k++)
    for (uint64_t v = a[k]; v; v &= v - 1)
      c++;
  return c;
}

static size_t term_hash(const xctx *x, const uint64_t *a) {
  uint64_t hv = 1469598103934665603ull;
  for (size_t k = 0; k < x->nw; k++)
    hv = (hv ^ a[k]) * 1099511628211ull;
  return (size_t)(hv ^ (hv >> 29));
}

/* R's TrimRepeats: drops empty terms and repeats, keeping first occurrences
 * (a hash set keeps this linear: products can hold a million terms). */
static void tl_trim(xctx *x, tlist *l) {
  if (x->st != CSVREG_OK || l->n == 0)
    return;
  size_t hcap = 16;
  while (hcap < 2 * l->n)
    hcap *= 2;
  size_t *h = malloc(hcap * sizeof *h);
  if (!h) {
    xoom(x);
    return;
  }
  for (size_t k = 0; k < hcap; k++)
    h[k] = NONE;
  size_t kept = 0;
  for (size_t i = 0; i < l->n; i++) {
    const uint64_t *a = tl_at(x, l, i);
    if (term_zero(x, a))
      continue;
    size_t s = term_hash(x, a) & (hcap - 1);
    int dup = 0;
    for (; h[s] != NONE; s = (s + 1) & (hcap - 1))
      if (term_eq(x, tl_at(x, l, h[s]), a)) {
        dup = 1;
        break;
      }
    if (dup)
      continue;
    if (kept != i)
      memcpy(tl_at(x, l, kept), a, x->nw * sizeof *a);
    h[s] = kept++;
  }
  l->n = kept;
  free(h);
}

/* [l | r for l in left for r in right] */
static void tl_product(xctx *x, const tlist *left, const tlist *right, tlist *out) {
  out->n = 0;
  if (left->n && right->n > MAX_PRODUCT / left->n) {
    xerr(x, CSVREG_E_LIMIT, NONE, "the formula expands to more than %zu terms",
         (size_t)MAX_PRODUCT);
    return;
  }
  if (!tl_reserve(x, out, left->n * right->n))
    return;
  for (size_t i = 0; i < left->n; i++)
    for (size_t j = 0; j < right->n; j++) {
      uint64_t *o = tl_at(x, out, out->n++);
      const uint64_t *a = tl_at(x, left, i), *b = tl_at(x, right, j);
      for (size_t k = 0; k < x->nw; k++)
        o[k] = a[k] | b[k];
    }
}

static void tl_append(xctx *x, tlist *a, const tlist *b) {
  if (!tl_reserve(x, a, a->n + b->n))
    return;
  if (b->n)
    memcpy(tl_at(x, a, a->n), b->w, b->n * x->nw * sizeof *b->w);
  a->n += b->n;
}

static size_t var_index(const xctx *x, size_t i) {
  char *s = deparse_str_of(x->t, i);
  size_t v = NONE;
  if (s)
    for (size_t k = 0; k < x->nv; k++)
      if (strcmp(x->vname[k], s) == 0) {
        v = k;
        break;
      }
  free(s);
  return v;
}

/* R's EncodeVars: the terms of node i into `out` (empty on entry). */
static void encode(xctx *x, size_t i, tlist *out) {
  if (x->st != CSVREG_OK)
    return;
  const node *n = &x->t->v[i];
  switch (n->type) {
  case N_NUM:
    /* 1 adds the intercept and 0 removes it; under '-' the other way */
    if (n->num == 1)
      x->intercept = x->parity ? 1 : 0;
    else
      x->intercept = x->parity ? 0 : 1;
    return;
  case N_NAME:
    if (strcmp(n->str, ".") == 0) {
      uint64_t *term = calloc(x->nw, sizeof *term);
      if (!term) {
        xoom(x);
        return;
      }
      for (size_t k = 0; k < x->ndot && x->st == CSVREG_OK; k++) {
        char *s = name_of_column(x->dot[k]);
        if (!s) {
          xoom(x);
          break;
        }
        for (size_t v = 0; v < x->nv; v++)
          if (strcmp(x->vname[v], s) == 0) {
            memset(term, 0, x->nw * sizeof *term);
            term[v / 64] |= (uint64_t)1 << (v % 64);
            tl_push(x, out, term);
            break;
          }
        free(s);
      }
      free(term);
      return;
    }
    /* fall through */
  case N_CALL: {
    size_t v = var_index(x, i);
    if (v == NONE) {
      xoom(x); /* deparse failed: every variable was installed */
      return;
    }
    if (!tl_reserve(x, out, 1))
      return;
    uint64_t *o = tl_at(x, out, 0);
    memset(o, 0, x->nw * sizeof *o);
    o[v / 64] |= (uint64_t)1 << (v % 64);
    out->n = 1;
    return;
  }
  case N_STR:
  case N_BOOL: return; /* rejected by the checks */
  case N_PAREN: encode(x, n->a, out); return;
  case N_UN:
    if (n->op == '-') { /* DeleteTerms(NULL, a) */
      tlist r = {0};
      x->parity = !x->parity;
      encode(x, n->a, &r);
      x->parity = !x->parity;
      for (size_t k = 0; k < r.n; k++)
        if (term_zero(x, tl_at(x, &r, k)))
          x->intercept = 0;
      free(r.w);
      return;
    }
    encode(x, n->a, out);
    return;
  case N_BIN: break;
  }
  tlist l = {0}, r = {0}, p = {0};
  switch (n->op) {
  case '+':
    encode(x, n->a, out);
    encode(x, n->b, &r);
    tl_append(x, out, &r);
    tl_trim(x, out);
    break;
  case ':':
    encode(x, n->a, &l);
    encode(x, n->b, &r);
    tl_product(x, &l, &r, out);
    tl_trim(x, out);
    break;
  case '*':
    encode(x, n->a, out);
    encode(x, n->b, &r);
    tl_product(x, out, &r, &p);
    tl_append(x, out, &r);
    tl_append(x, out, &p);
    tl_trim(x, out);
    break;
  case OP_IN: /* every left term with all variables of the right */
  case '/': { /* a / b = a + b %in% a */
    encode(x, n->a, &l);
    encode(x, n->b, &r);
    const tlist *all = n->op == '/' ? &l : &r;
    tlist *each = n->op == '/' ? &r : &l;
    uint64_t *u = calloc(x->nw, sizeof *u);
    if (!u) {
      xoom(x);
      break;
    }
    for (size_t k = 0; k < all->n; k++)
      for (size_t w = 0; w < x->nw; w++)
        u[w] |= tl_at(x, all, k)[w];
    for (size_t k = 0; k < each->n; k++)
      for (size_t w = 0; w < x->nw; w++)
        tl_at(x, each, k)[w] |= u[w];
    free(u);
    if (n->op == '/')
      tl_append(x, out, &l);
    tl_append(x, out, each);
    tl_trim(x, out);
    break;
  }
  case '-': { /* DeleteTerms(a, b) */
    encode(x, n->a, out);
    x->parity = !x->parity;
    encode(x, n->b, &r);
    x->parity = !x->parity;
    for (size_t k = 0; k < r.n && x->st == CSVREG_OK; k++) {
      const uint64_t *d = tl_at(x, &r, k);
      if (term_zero(x, d))
        x->intercept = 0;
      size_t kept = 0;
      for (size_t j = 0; j < out->n; j++)
        if (!term_eq(x, tl_at(x, out, j), d)) {
          if (kept != j)
            memcpy(tl_at(x, out, kept), tl_at(x, out, j), x->nw * sizeof *d);
          kept++;
        }
      out->n = kept;
    }
    break;
  }
  case '^': { /* R's PowerTerms */
    size_t power = (size_t)x->t->v[n->b].num;
    encode(x, n->a, &l);
    tl_append(x, out, &l);
    tl_append(x, &r, &l);
    for (size_t it = 1; it < power && x->st == CSVREG_OK; it++) {
      tl_product(x, &l, &r, &p);
      tl_trim(x, &p);
      /* the next round would repeat this one exactly: (a + b)^1000 stops */
      int same = p.n == r.n && (p.n == 0 || memcmp(p.w, r.w, p.n * x->nw * sizeof *p.w) == 0);
      tlist tmp = r;
      r = p;
      p = tmp;
      if (same)
        break;
    }
    out->n = 0;
    tl_append(x, out, &r);
    break;
  }
  default: break;
  }
  free(l.w);
  free(r.w);
  free(p.w);
}

static size_t install_input(xctx *x, const char *name, size_t off) {
  csvreg__formula *f = x->f;
  for (size_t k = 0; k < f->ninputs; k++)
    if (strcmp(f->inputs[k], name) == 0)
      return k;
  char **a = realloc(f->inputs, (f->ninputs + 1) * sizeof *a);
  if (a)
    f->inputs = a;
  size_t *b = realloc(f->input_offset, (f->ninputs + 1) * sizeof *b);
  if (b)
    f->input_offset = b;
  char *s = csvreg__xstrdup(name);
  if (!a || !b || !s) {
    free(s);
    xoom(x);
    return NONE;
  }
  f->inputs[f->ninputs] = s;
  f->input_offset[f->ninputs] = off;
  return f->ninputs++;
}

/* Appends the program of numeric node i to e. */
static void compile(xctx *x, size_t i, csvreg__expr *e) {
  if (x->st != CSVREG_OK)
    return;
  const node *n = &x->t->v[i];
  csvreg__expr_op op = CSVREG__EXPR_ADD;
  switch (n->type) {
  case N_NUM:
    if (csvreg__expr_push(e, CSVREG__EXPR_CONST, 0, n->num, x->err) != CSVREG_OK)
      x->st = x->err ? x->err->status : CSVREG_E_NOMEM;
    return;
  case N_NAME: {
    size_t k = install_input(x, n->str, n->off);
    if (k != NONE && csvreg__expr_push(e, CSVREG__EXPR_INPUT, k, 0, x->err) != CSVREG_OK)
      x->st = CSVREG_E_NOMEM;
    return;
  }
  case N_PAREN: compile(x, n->a, e); return;
  case N_UN:
    compile(x, n->a, e);
    if (n->op == '-' && x->st == CSVREG_OK &&
        csvreg__expr_push(e, CSVREG__EXPR_NEG, 0, 0, x->err) != CSVREG_OK)
      x->st = CSVREG_E_NOMEM;
    return;
  case N_BIN:
    compile(x, n->a, e);
    compile(x, n->b, e);
    switch (n->op) {
    case '+': op = CSVREG__EXPR_ADD; break;
    case '-': op = CSVREG__EXPR_SUB; break;
    case '*': op = CSVREG__EXPR_MUL; break;
    case '/': op = CSVREG__EXPR_DIV; break;
    default: op = CSVREG__EXPR_POW; break;
    }
    break;
  case N_CALL: {
    int fn = find_numfun(n->str);
    for (size_t a = n->a; a != NONE; a = x->t->v[a].next)
      compile(x, a, e);
    if (fn == 0) /* I() */
      return;
    op = numfun[fn].op;
    if (op == CSVREG__EXPR_LOG && nargs(x->t, i) == 2)
      op = CSVREG__EXPR_LOGB;
    break;
  }
  default: return; /* rejected by the checks */
  }
  if (x->st == CSVREG_OK && csvreg__expr_push(e, op, 0, 0, x->err) != CSVREG_OK)
    x->st = CSVREG_E_NOMEM;
}

/* Kind, inputs and program of variable v. */
static void describe_var(xctx *x, size_t v) {
  csvreg__fvar *fv = &x->f->vars[v];
  fv->degree = 1;
  fv->offset = x->voff[v];
  fv->input = NONE;
  if (x->vnode[v] == NONE) { /* from `.` */
    fv->kind = CSVREG__VAR_COLUMN;
    fv->input = install_input(x, x->vcol[v], CSVREG__NO_OFFSET);
    return;
  }
  const node *n = &x->t->v[x->vnode[v]];
  if (n->type == N_NAME) {
    fv->kind = CSVREG__VAR_COLUMN;
    fv->input = install_input(x, n->str, n->off);
    return;
  }
  if (n->type == N_CALL && strcmp(n->str, "factor") == 0) {
    fv->kind = CSVREG__VAR_FACTOR;
    fv->input = install_input(x, x->t->v[n->a].str, x->t->v[n->a].off);
    return;
  }
  if (n->type == N_CALL && strcmp(n->str, "relevel") == 0) {
    size_t xa = NONE, ref = NONE, pos = 0;
    for (size_t a = n->a; a != NONE; a = x->t->v[a].next, pos++) {
      const char *an = x->t->v[a].argname;
      if (an ? strcmp(an, "x") == 0 : pos == 0)
        xa = a;
      else
        ref = a;
    }
    const node *xn = &x->t->v[xa];
    if (xn->type == N_CALL) /* factor(col) */
      xn = &x->t->v[xn->a];
    fv->kind = CSVREG__VAR_FACTOR;
    fv->input = install_input(x, xn->str, xn->off);
    if (!(fv->ref = csvreg__xstrdup(x->t->v[ref].str)))
      xoom(x);
    return;
  }
  if (csvreg__expr_new(&fv->expr, x->err) != CSVREG_OK) {
    xoom(x);
    return;
  }
  if (n->type == N_CALL && strcmp(n->str, "poly") == 0) {
    size_t xa = NONE, pos = 0;
    fv->kind = CSVREG__VAR_POLY;
    for (size_t a = n->a; a != NONE; a = x->t->v[a].next) {
      const char *an = x->t->v[a].argname;
      if (!an) {
        if (pos == 0)
          xa = a;
        else
          fv->degree = (unsigned)x->t->v[a].num;
        pos++;
      } else if (strcmp(an, "degree") == 0) {
        fv->degree = (unsigned)x->t->v[a].num;
      } else if (strcmp(an, "x") == 0) {
        xa = a;
      }
    }
    compile(x, xa, fv->expr);
    return;
  }
  fv->kind = CSVREG__VAR_EXPR;
  compile(x, x->vnode[v], fv->expr);
}

/* The column names a node reads (the response's, for `.`). */
static int reads_column(const tree *t, size_t i, const char *col) {
  const node *n = &t->v[i];
  switch (n->type) {
  case N_NAME: return strcmp(n->str, col) == 0;
  case N_PAREN:
  case N_UN: return reads_column(t, n->a, col);
  case N_BIN: return reads_column(t, n->a, col) || reads_column(t, n->b, col);
  case N_CALL:
    for (size_t a = n->a; a != NONE; a = t->v[a].next)
      if (reads_column(t, a, col))
        return 1;
    return 0;
  default: return 0;
  }
}

static int uses_dot(const tree *t, size_t i) {
  const node *n = &t->v[i];
  switch (n->type) {
  case N_NAME: return strcmp(n->str, ".") == 0;
  case N_PAREN:
  case N_UN: return uses_dot(t, n->a);
  case N_BIN: return uses_dot(t, n->a) || (n->op != '^' && uses_dot(t, n->b));
  default: return 0;
  }
}

csvreg_status csvreg__formula_expand(csvreg__formula *f, const char *const *names, size_t nnames,
                                     const char *const *exclude, size_t nexclude, size_t *where,
                                     csvreg_error *err) {
  if (where)
    *where = CSVREG__NO_OFFSET;
  if (!f || (!names && nnames) || (!exclude && nexclude))
    return csvreg__err_set(err, CSVREG_E_USAGE, "formula_expand: NULL argument");
  if (f->expanded)
    return csvreg__err_set(err, CSVREG_E_USAGE, "formula_expand: already expanded");
  f->expanded = 1;
  const tree *t = f->tree;
  const node *root = &t->v[t->root];
  size_t lhs = root->type == N_BIN ? root->a : NONE;
  size_t rhs = root->type == N_BIN ? root->b : root->a;
  xctx x = {0};
  x.f = f;
  x.t = t;
  x.err = err;
  x.where = CSVREG__NO_OFFSET;
  uint64_t *mark = NULL;
  tlist terms = {0};
  size_t *order = NULL, *hset = NULL, *ostart = NULL, hcap = 0;

  if (uses_dot(t, rhs) && names) {
    x.dot = malloc((nnames ? nnames : 1) * sizeof *x.dot);
    if (!x.dot) {
      xoom(&x);
      goto done;
    }
    for (size_t k = 0; k < nnames; k++) {
      int skip = lhs != NONE && reads_column(t, lhs, names[k]);
      for (size_t j = 0; j < nexclude && !skip; j++)
        skip = strcmp(names[k], exclude[j]) == 0;
      if (skip)
        continue;
      for (size_t j = 0; j < x.ndot; j++)
        if (strcmp(x.dot[j], names[k]) == 0) {
          xerr(&x, CSVREG_E_COLUMN, NONE, "two columns are named '%s': '.' cannot tell them apart",
               names[k]);
          goto done;
        }
      x.dot[x.ndot++] = names[k];
    }
  }
  if (lhs != NONE) {
    install_var(&x, deparse_str_of(t, lhs), lhs, NULL, t->v[lhs].off);
    f->has_response = 1;
  }
  extract_vars(&x, rhs);
  if (x.st != CSVREG_OK)
    goto done;
  x.nw = x.nv ? (x.nv + 63) / 64 : 1;
  x.intercept = 1;
  x.parity = 1;
  encode(&x, rhs, &terms);
  if (x.st != CSVREG_OK)
    goto done;
  if (terms.n > MAX_TERMS) {
    xerr(&x, CSVREG_E_LIMIT, NONE, "the formula expands to %zu terms; the limit is %zu", terms.n,
         (size_t)MAX_TERMS);
    goto done;
  }
  f->intercept = x.intercept;

  /* variables */
  f->vars = calloc(x.nv ? x.nv : 1, sizeof *f->vars);
  if (!f->vars) {
    xoom(&x);
    goto done;
  }
  f->nvars = x.nv;
  for (size_t v = 0; v < x.nv; v++) {
    f->vars[v].name = x.vname[v];
    x.vname[v] = NULL;
  }
  for (size_t v = 0; v < x.nv && x.st == CSVREG_OK; v++)
    describe_var(&x, v);
  if (x.st != CSVREG_OK)
    goto done;

  /* terms sorted by order, stable (keep.order = FALSE) */
  order = malloc((terms.n ? terms.n : 1) * sizeof *order);
  f->terms = calloc(terms.n ? terms.n : 1, sizeof *f->terms);
  if (!order || !f->terms) {
    xoom(&x);
    goto done;
  }
  size_t nsorted = 0;
  for (size_t ord = 1; ord <= x.nv && nsorted < terms.n; ord++)
    for (size_t i = 0; i < terms.n; i++)
      if (term_order(&x, tl_at(&x, &terms, i)) == ord)
        order[nsorted++] = i;
  terms.n = nsorted; /* (no term is empty: trimming drops those) */
  f->nterms = terms.n;
  mark = malloc(x.nw * sizeof *mark);
  /* The terms by their bits (a hash set) and where each order starts, so
   * that TermCode's search of the preceding terms is mostly one look-up. */
  hcap = 16;
  while (hcap < 2 * terms.n)
    hcap *= 2;
  hset = malloc(hcap * sizeof *hset);
  ostart = calloc(x.nv + 2, sizeof *ostart);
  if (!mark || !hset || !ostart) {
    xoom(&x);
    goto done;
  }
  for (size_t q = 0; q < hcap; q++)
    hset[q] = NONE;
  for (size_t k = 0; k < terms.n; k++) {
    size_t q = term_hash(&x, tl_at(&x, &terms, order[k])) & (hcap - 1);
    while (hset[q] != NONE)
      q = (q + 1) & (hcap - 1);
    hset[q] = k;
  }
  for (size_t o = 0; o < x.nv + 2; o++)
    ostart[o] = terms.n;
  for (size_t k = terms.n; k-- > 0;)
    ostart[term_order(&x, tl_at(&x, &terms, order[k]))] = k;
  for (size_t o = x.nv + 1; o-- > 0;) /* the first term of order >= o */
    if (ostart[o + 1] < ostart[o])
      ostart[o] = ostart[o + 1];
  for (size_t k = 0; k < terms.n && x.st == CSVREG_OK; k++) {
    const uint64_t *tk = tl_at(&x, &terms, order[k]);
    csvreg__fterm *ft = &f->terms[k];
    size_t m = term_order(&x, tk);
    ft->vars = malloc(m * sizeof *ft->vars);
    ft->code = malloc(m);
    sbuf lb = {0};
    if (!ft->vars || !ft->code) {
      xoom(&x);
      break;
    }
    for (size_t v = 0; v < x.nv; v++) {
      if (!(tk[v / 64] >> (v % 64) & 1))
        continue;
      if (ft->nvars)
        sb_putc(&lb, ':');
      sb_puts(&lb, f->vars[v].name);
      /* R's TermCode: contrasts when the term without v is empty or within
       * a preceding term; indicators otherwise */
      memcpy(mark, tk, x.nw * sizeof *mark);
      mark[v / 64] &= ~((uint64_t)1 << (v % 64));
      int code = 2;
      if (term_zero(&x, mark))
        code = 1;
      for (size_t q = term_hash(&x, mark) & (hcap - 1); code == 2 && hset[q] != NONE;
           q = (q + 1) & (hcap - 1))
        if (hset[q] < k && term_eq(&x, tl_at(&x, &terms, order[hset[q]]), mark))
          code = 1;
      /* else a preceding term of order >= m - 1 that holds it */
      for (size_t j = ostart[m - 1]; j < k && code == 2; j++)
        if (term_sub(&x, mark, tl_at(&x, &terms, order[j])))
          code = 1;
      ft->code[ft->nvars] = (unsigned char)code;
      ft->vars[ft->nvars++] = v;
    }
    if (!(ft->label = sb_take(&lb)))
      xoom(&x);
  }

done:
  if (x.vname)
    for (size_t v = 0; v < x.nv; v++)
      free(x.vname[v]);
  if (x.vcol)
    for (size_t v = 0; v < x.nv; v++)
      free(x.vcol[v]);
  free(x.vname);
  free(x.vcol);
  free(x.vnode);
  free(x.voff);
  free(x.dot);
  free(mark);
  free(order);
  free(hset);
  free(ostart);
  free(terms.w);
  if (x.st != CSVREG_OK && where)
    *where = x.where == NONE ? CSVREG__NO_OFFSET : x.where;
  return x.st;
}

void csvreg__formula_free(csvreg__formula *f) {
  if (!f)
    return;
  tree_free(f->tree);
  for (size_t k = 0; k < f->ninputs; k++)
    free(f->inputs[k]);
  free(f->inputs);
  free(f->input_offset);
  if (f->vars)
    for (size_t v = 0; v < f->nvars; v++) {
      free(f->vars[v].name);
      free(f->vars[v].ref);
      csvreg__expr_free(f->vars[v].expr);
    }
  free(f->vars);
  if (f->terms)
    for (size_t k = 0; k < f->nterms; k++) {
      free(f->terms[k].vars);
      free(f->terms[k].code);
      free(f->terms[k].label);
    }
  free(f->terms);
  free(f->text);
  free(f);
}

/* ------------------------------------------------------------------------ */
/* Design columns: R's model.matrix                                         */
/* ------------------------------------------------------------------------ */

void csvreg__dcols_free(csvreg__dcols *d) {
  if (!d)
    return;
  for (size_t j = 0; j < d->ncols; j++) {
    free(d->cols[j].name);
    free(d->cols[j].fac);
  }
  free(d->cols);
  free(d);
}

/* One variable's contribution to a term: `n` (index, name suffix) pairs. */
static int add_col(csvreg__dcols *d, size_t *cap, size_t term, size_t nfac) {
  if (d->ncols == *cap) {
    size_t c = *cap ? 2 * *cap : 16;
    csvreg__dcol *p = realloc(d->cols, c * sizeof *p);
    if (!p)
      return 0;
    d->cols = p;
    *cap = c;
  }
  csvreg__dcol *c = &d->cols[d->ncols];
  memset(c, 0, sizeof *c);
  c->term = term;
  c->fac = malloc(nfac * sizeof *c->fac);
  if (!c->fac)
    return 0;
  d->ncols++;
  return 1;
}

csvreg_status csvreg__formula_columns(const csvreg__formula *f, const int *categorical,
                                      const size_t *nlevels, const char *const *const *levels,
                                      csvreg__dcols **out, csvreg_error *err) {
  if (!out)
    return csvreg__err_set(err, CSVREG_E_USAGE, "formula_columns: NULL argument");
  *out = NULL;
  if (!f || !f->expanded)
    return csvreg__err_set(err, CSVREG_E_USAGE, "formula_columns: formula not expanded");
  csvreg__dcols *d = calloc(1, sizeof *d);
  if (!d)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  d->intercept = f->intercept;
  size_t cap = 0;
#define IS_CAT(v)                                                                                  \
  (f->vars[v].kind == CSVREG__VAR_FACTOR ||                                                        \
   (f->vars[v].kind == CSVREG__VAR_COLUMN && categorical && categorical[v]))
  /* Without an intercept model.matrix codes the first categorical variable
   * of the first term that has one by indicators (R tests nlevels > 1; here
   * categorical, so that the coding does not change as levels arrive). */
  size_t first_term = NONE, first_var = NONE;
  if (!f->intercept)
    for (size_t k = 0; k < f->nterms && first_term == NONE; k++)
      for (size_t i = 0; i < f->terms[k].nvars; i++)
        if (IS_CAT(f->terms[k].vars[i])) {
          first_term = k;
          first_var = i;
          break;
        }
  csvreg_status st = CSVREG_OK;
  for (size_t k = 0; k < f->nterms && st == CSVREG_OK; k++) {
    const csvreg__fterm *ft = &f->terms[k];
    size_t start = d->ncols;
    for (size_t i = 0; i < ft->nvars && st == CSVREG_OK; i++) {
      size_t v = ft->vars[i];
      const csvreg__fvar *fv = &f->vars[v];
      size_t lo = 0, hi = 1; /* the variable's entries [lo, hi) */
      int cat = IS_CAT(v);
      if (cat) {
        int code = (k == first_term && i == first_var) ? 2 : ft->code[i];
        hi = nlevels ? nlevels[v] : 0;
        lo = code == 1 ? 1 : 0;
        if (hi < lo)
          hi = lo;
        if (hi > lo && (!levels || !levels[v]))
          st = csvreg__err_set(err, CSVREG_E_USAGE, "formula_columns: no levels for %s", fv->name);
      } else if (fv->kind == CSVREG__VAR_POLY) {
        hi = fv->degree;
      }
      if (f->has_response && v == 0)
        hi = lo; /* model.matrix drops the response from the right-hand side */
      size_t nold = d->ncols - start, nnew = hi - lo;
      if (i > 0 && nold == 0)
        break; /* an empty factor emptied the term */
      if (i == 0)
        nold = 1;
      if (nnew && nold > (MAX_COLUMNS - d->ncols) / nnew) {
        st = csvreg__err_set(err, CSVREG_E_LIMIT, "the design would have more than %zu columns",
                             (size_t)MAX_COLUMNS);
        break;
      }
      /* new columns: the old ones (varying fastest) times each entry */
      size_t base = d->ncols;
      for (size_t e = lo; e < hi && st == CSVREG_OK; e++)
        for (size_t j = 0; j < nold && st == CSVREG_OK; j++) {
          if (!add_col(d, &cap, k, i + 1)) {
            st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
            break;
          }
          csvreg__dcol *c = &d->cols[d->ncols - 1];
          sbuf nb = {0};
          if (i > 0) {
            const csvreg__dcol *o = &d->cols[start + j];
            memcpy(c->fac, o->fac, i * sizeof *c->fac);
            sb_puts(&nb, o->name);
            sb_putc(&nb, ':');
          }
          c->nfac = i + 1;
          c->fac[i] = (csvreg__dfac){v, e};
          sb_puts(&nb, fv->name);
          if (cat) {
            sb_puts(&nb, levels[v][e]);
          } else if (fv->kind == CSVREG__VAR_POLY && fv->degree > 1) {
            /* model.matrix adds a matrix's column names only past one column */
            char num[24];
            snprintf(num, sizeof num, "%zu", e + 1);
            sb_puts(&nb, num);
          }
          if (!(c->name = sb_take(&nb)))
            st = csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
        }
      if (i > 0 && st == CSVREG_OK) {
        /* drop the old columns: move the new ones down */
        for (size_t j = start; j < base; j++) {
          free(d->cols[j].name);
          free(d->cols[j].fac);
        }
        memmove(d->cols + start, d->cols + base, (d->ncols - base) * sizeof *d->cols);
        d->ncols -= base - start;
      }
      if (nnew == 0) {
        /* no entries: the term has no columns */
        for (size_t j = start; j < d->ncols; j++) {
          free(d->cols[j].name);
          free(d->cols[j].fac);
        }
        d->ncols = start;
        break;
      }
    }
  }
#undef IS_CAT
  if (st != CSVREG_OK) {
    csvreg__dcols_free(d);
    return st;
  }
  *out = d;
  return CSVREG_OK;
}

/* ------------------------------------------------------------------------ */
/* The caret under an error                                                 */
/* ------------------------------------------------------------------------ */

size_t csvreg__formula_caret(const char *text, size_t offset, size_t indent, char *buf,
                             size_t size) {
  sbuf b = {0};
  size_t len = text ? strlen(text) : 0, col = 0;
  for (size_t k = 0; k < indent; k++)
    sb_putc(&b, ' ');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    sb_putc(&b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    if (i < offset && (c & 0xC0) != 0x80)
      col++;
  }
  sb_putc(&b, '\n');
  if (offset > len)
    offset = len;
  for (size_t k = 0; k < indent + col; k++)
    sb_putc(&b, ' ');
  sb_putc(&b, '^');
  size_t n = b.oom ? 0 : b.n;
  if (size) {
    size_t m = n < size - 1 ? n : size - 1;
    if (m)
      memcpy(buf, b.s, m);
    buf[m] = '\0';
  }
  free(b.s);
  return n;
}
