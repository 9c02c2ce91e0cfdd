/*
 * numparse_verify.c - checks csvreg_parse_double bit for bit against
 * strtod_l in the C locale on N generated strings (seeded, reproducible).
 *
 *   numparse_verify N [SEED [print]]
 *
 * "strtod accepts" a string when, after trimming spaces and tabs, it is
 * non-empty, strtod_l consumed all of it, the result is finite, and it matches
 * the grammar [+-]?(D+(.D*)?|.D+)([eE][+-]?D+)? (checked here by a small
 * automaton written independently of the parser, so that "0x10", "inf", "nan"
 * and "\n5", which strtod takes, count as rejected). Both must accept exactly
 * the same strings, with the same bits; a rejected string must leave *out
 * untouched. Each string is parsed with a digit placed right after its end,
 * so a parser that read past s + len would show up as a mismatch.
 * Prints counts, mismatches (the first 20 in full) and the time; exits 1 on
 * any mismatch.
 */
#define _GNU_SOURCE
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csvreg.h"

#define MAXLEN 2048

/* xoshiro256** seeded by splitmix64: fast and reproducible everywhere. */
static uint64_t rng_state[4];

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(void) {
  uint64_t *s = rng_state;
  uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return r;
}

/* Uniform in [0, n). */
static uint64_t rnd_below(uint64_t n) { return rnd() % n; }

static double bits_double(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static uint64_t double_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

/* A finite double with uniformly random bits (so every binary exponent,
 * subnormals included, is equally likely). */
static double rnd_finite(void) {
  for (;;) {
    double d = bits_double(rnd());
    if (isfinite(d))
      return d;
  }
}

/* ---- generators: each writes a string (may hold NULs) and returns its length */

static size_t gen_printf_random(char *b, const char *fmt) {
  return (size_t)snprintf(b, MAXLEN, fmt, rnd_finite());
}

/* Everyday values: a few significant digits at a moderate scale. */
static size_t gen_everyday(char *b) {
  double v = ((double)(int64_t)(rnd() >> 11) / 9007199254740992.0 - 0.5) *
             pow(10.0, (double)((int)rnd_below(21) - 10));
  int prec = 1 + (int)rnd_below(20);
  return (size_t)snprintf(b, MAXLEN, rnd_below(2) ? "%.*g" : "%.*f", prec, v);
}

static size_t gen_digits(char *b) {
  size_t n = 0;
  static const char *signs[] = {"", "", "-", "+"};
  n += (size_t)sprintf(b + n, "%s", signs[rnd_below(4)]);
  int nd = 1 + (int)rnd_below(40);
  int point = rnd_below(3) ? (int)rnd_below((uint64_t)nd + 1) : -1;
  int lead = rnd_below(4) == 0 ? (int)rnd_below(6) : 0;
  for (int i = 0; i < lead; i++)
    b[n++] = '0';
  for (int i = 0; i < nd; i++) {
    if (i == point)
      b[n++] = '.';
    b[n++] = (char)('0' + rnd_below(10));
  }
  if (point == nd)
    b[n++] = '.';
  if (rnd_below(3))
    n += (size_t)sprintf(b + n, "%c%s%d", rnd_below(2) ? 'e' : 'E', rnd_below(4) == 0 ? "+" : "",
                         (int)rnd_below(801) - 400);
  return n;
}

/* Exact midpoints between adjacent doubles, just below and just above them.
 * A midpoint has 54 significant bits, so x87 long double (64) holds it and
 * glibc prints it exactly. */
static size_t gen_halfway(char *b) {
  double a;
  int r = (int)rnd_below(8);
  if (r == 0)
    a = bits_double(rnd_below((uint64_t)1 << 52)); /* subnormal */
  else if (r == 1)
    a = DBL_MAX;
  else
    a = fabs(rnd_finite());
  long double mid;
  if (a == DBL_MAX)
    mid = (long double)DBL_MAX + ldexpl(1.0L, 970);
  else
    mid = ((long double)a + (long double)nextafter(a, INFINITY)) / 2;
  int e2;
  frexpl(mid, &e2);
  /* mid = M * 2^(e2-64) with M < 2^64: at most 20 + 0.7 (64 - e2) significant
   * digits for e2 < 64, about 0.31 e2 + 20 otherwise. */
  int prec = e2 < 64 ? 22 + (64 - e2) * 7 / 10 : 22 + e2 * 31 / 100;
  if (prec > 1100)
    prec = 1100;
  char tmp[MAXLEN];
  snprintf(tmp, sizeof tmp, "%.*Le", prec, mid);
  char *e = strchr(tmp, 'e');
  char *last = e - 1;
  while (*last == '0')
    last--;
  if (*last == '.')
    last--;
  size_t mant = (size_t)(last + 1 - tmp);
  int variant = (int)rnd_below(3);
  size_t n = 0;
  if (rnd_below(2))
    b[n++] = '-';
  if (variant == 1 && mant > 3) /* truncated: just below the midpoint */
    mant = 3 + rnd_below(mant - 2);
  memcpy(b + n, tmp, mant);
  n += mant;
  if (variant == 2) { /* just above */
    if (!memchr(tmp, '.', mant))
      b[n++] = '.';
    n += (size_t)sprintf(b + n, "%0*d1", (int)rnd_below(4), 0);
  }
  n += (size_t)sprintf(b + n, "%s", e);
  return n;
}

/* Around the edges of the range: DBL_MAX, DBL_MIN, the smallest subnormal. */
static size_t gen_edges(char *b) {
  static const double bases[] = {DBL_MAX, DBL_MIN, 4.9406564584124654e-324, 1e-320, 1e308};
  double base = bases[rnd_below(5)];
  int64_t k = (int64_t)rnd_below(2001) - 1000;
  int64_t bits = (int64_t)double_bits(base) + k;
  if (bits < 0)
    bits = -bits;
  if (bits > (int64_t)double_bits(DBL_MAX))
    bits = (int64_t)double_bits(DBL_MAX) - (bits - (int64_t)double_bits(DBL_MAX));
  double v = bits_double((uint64_t)bits);
  if (rnd_below(2))
    v = -v;
  int prec = (int)rnd_below(26);
  return (size_t)snprintf(b, MAXLEN, rnd_below(2) ? "%.*g" : "%.*e", prec, v);
}

/* Long runs of zeros: leading, after the point, or trailing with an exponent. */
static size_t gen_zeros(char *b) {
  size_t n = 0;
  int z = (int)rnd_below(400);
  int kind = (int)rnd_below(4);
  if (rnd_below(2))
    b[n++] = '-';
  if (kind == 0) { /* 0.000...ddd[e+x] */
    b[n++] = '0';
    b[n++] = '.';
    memset(b + n, '0', (size_t)z);
    n += (size_t)z;
  } else if (kind == 1) { /* 000...ddd */
    memset(b + n, '0', (size_t)z);
    n += (size_t)z;
  }
  int nd = kind == 3 ? 0 : 1 + (int)rnd_below(20);
  for (int i = 0; i < nd; i++)
    b[n++] = (char)('0' + rnd_below(10));
  if (kind == 2 || kind == 3) { /* ddd000...0e-x or 0000.0000e+x */
    if (kind == 3)
      b[n++] = '0';
    memset(b + n, '0', (size_t)z);
    n += (size_t)z;
    if (kind == 3)
      b[n++] = '.';
    n += (size_t)sprintf(b + n, "e%d", (int)rnd_below(1201) - 600);
  } else if (rnd_below(2)) {
    n += (size_t)sprintf(b + n, "e%d", (int)rnd_below(801) - 400);
  }
  return n;
}

/* Short strings over the grammar's alphabet: every small corner case. */
static size_t gen_short(char *b) {
  static const char alphabet[] = "0123456789..eE+-+- \t";
  size_t n = rnd_below(7);
  for (size_t i = 0; i < n; i++)
    b[i] = alphabet[rnd_below(sizeof alphabet - 1)];
  return n;
}

static size_t gen_valid(char *b);

/* A valid string with one to three random edits: mostly rejections. */
static size_t gen_mutant(char *b) {
  static const char alphabet[] = "0123456789+-.eE \t,x\nIiNnAaFfd";
  size_t n = gen_valid(b);
  int edits = 1 + (int)rnd_below(3);
  for (int k = 0; k < edits; k++) {
    char c = rnd_below(16) == 0 ? '\0' : alphabet[rnd_below(sizeof alphabet - 1)];
    size_t at = rnd_below(n + 1);
    int op = (int)rnd_below(3);
    if (op == 0 && at < n) {
      b[at] = c;
    } else if (op == 1 && n + 1 < MAXLEN) {
      memmove(b + at + 1, b + at, n - at);
      b[at] = c;
      n++;
    } else if (at < n) {
      memmove(b + at, b + at + 1, n - at - 1);
      n--;
    }
  }
  return n;
}

static size_t gen_valid(char *b) {
  switch (rnd_below(8)) {
  case 0: return gen_printf_random(b, "%.17g");
  case 1: return gen_printf_random(b, "%.15g");
  case 2: return gen_printf_random(b, "%.6g");
  case 3: return gen_printf_random(b, "%.3e");
  case 4: return gen_everyday(b);
  case 5: return gen_digits(b);
  case 6: return gen_edges(b);
  default: return gen_zeros(b);
  }
}

enum { NGEN = 11 };
static const char *gen_names[NGEN] = {"%.17g",   "%.15g", "%.6g",  "%.3e",  "everyday", "digits",
                                      "halfway", "edges", "zeros", "short", "mutant"};

static size_t generate(char *b, int g) {
  switch (g) {
  case 0: return gen_printf_random(b, "%.17g");
  case 1: return gen_printf_random(b, "%.15g");
  case 2: return gen_printf_random(b, "%.6g");
  case 3: return gen_printf_random(b, "%.3e");
  case 4: return gen_everyday(b);
  case 5: return gen_digits(b);
  case 6: return gen_halfway(b);
  case 7: return gen_edges(b);
  case 8: return gen_zeros(b);
  case 9: return gen_short(b);
  default: return gen_mutant(b);
  }
}

/* Spaces and tabs around a string, sometimes. */
static size_t add_blanks(char *b, size_t n) {
  if (rnd_below(16) != 0 || n + 8 >= MAXLEN)
    return n;
  size_t lead = rnd_below(3), trail = rnd_below(3);
  memmove(b + lead, b, n);
  for (size_t i = 0; i < lead; i++)
    b[i] = rnd_below(2) ? ' ' : '\t';
  for (size_t i = 0; i < trail; i++)
    b[lead + n + i] = rnd_below(2) ? ' ' : '\t';
  return lead + n + trail;
}

/* ---- the reference ---------------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [+-]?(D+(.D*)?|.D+)([eE][+-]?D+)? over exactly n bytes. */
static int grammar_ok(const char *s, size_t n) {
  enum { START, SIGN, INT, POINT0, FRAC, E, ESIGN, EXP } st = START;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    switch (st) {
    case START:
    case SIGN:
      if (st == START && (c == '+' || c == '-'))
        st = SIGN;
      else if (is_digit(c))
        st = INT;
      else if (c == '.')
        st = POINT0;
      else
        return 0;
      break;
    case INT:
      if (c == '.')
        st = FRAC;
      else if (c == 'e' || c == 'E')
        st = E;
      else if (!is_digit(c))
        return 0;
      break;
    case POINT0:
      if (!is_digit(c))
        return 0;
      st = FRAC;
      break;
    case FRAC:
      if (c == 'e' || c == 'E')
        st = E;
      else if (!is_digit(c))
        return 0;
      break;
    case E:
    case ESIGN:
      if (st == E && (c == '+' || c == '-'))
        st = ESIGN;
      else if (is_digit(c))
        st = EXP;
      else
        return 0;
      break;
    case EXP:
      if (!is_digit(c))
        return 0;
      break;
    }
  }
  return st == INT || st == FRAC || st == EXP;
}

static int reference(locale_t c_locale, const char *s, size_t n, double *out) {
  static char tmp[MAXLEN + 1];
  while (n && (*s == ' ' || *s == '\t'))
    s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (n == 0)
    return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  char *end;
  double v = strtod_l(tmp, &end, c_locale);
  if (end != tmp + n || !isfinite(v) || !grammar_ok(tmp, n))
    return 0;
  *out = v;
  return 1;
}

static void show(const char *s, size_t n, size_t max) {
  putchar('"');
  for (size_t i = 0; i < n && i < max; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
      printf("\\x%02x", c);
    else
      putchar(c);
  }
  printf(n > max ? "...\" (%zu bytes)" : "\" (%zu bytes)", n);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: numparse_verify N [SEED [print]]\n");
    return 2;
  }
  uint64_t count = strtoull(argv[1], NULL, 10);
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 20240611;
  for (int i = 0; i < 4; i++)
    rng_state[i] = splitmix64(&seed);
  locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!c_locale) {
    fprintf(stderr, "numparse_verify: newlocale(C) failed\n");
    return 2;
  }

  static char str[MAXLEN + 16], buf[MAXLEN + 16];
  uint64_t per_gen[NGEN] = {0}, accepted = 0, mismatches = 0;
  const uint64_t sentinel = 0x7ff4dead0000beefu; /* a NaN no parse produces */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (uint64_t i = 0; i < count; i++) {
    int g = (int)(i % NGEN);
    size_t n = generate(str, g);
    if (g != 9)
      n = add_blanks(str, n);
    per_gen[g]++;

    double want = 0.0;
    int ref_ok = reference(c_locale, str, n, &want);
    memcpy(buf, str, n);
    buf[n] = '7'; /* a parser reading past the end would take it as a digit */
    double got = bits_double(sentinel);
    csvreg_status st = csvreg_parse_double(buf, n, &got);
    int ok = st == CSVREG_OK;
    int bad = ok != ref_ok || (ok && double_bits(got) != double_bits(want)) ||
              (!ok && (st != CSVREG_E_VALUE || double_bits(got) != sentinel));
    accepted += (uint64_t)ref_ok;
    if (argc > 3) { /* "print": every string, to inspect the generators */
      printf("%s %s ", gen_names[g], ref_ok ? "accept" : "reject");
      show(str, n, MAXLEN);
      printf("\n");
    }
    if (bad) {
      if (++mismatches <= 20) {
        printf("MISMATCH [%s] ", gen_names[g]);
        show(str, n, 200);
        printf(": strtod_l %s %a, csvreg_parse_double status %d %a\n",
               ref_ok ? "accepts" : "rejects", want, (int)st, got);
      }
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  printf("strings %llu (seed %llu): accepted %llu, rejected %llu, mismatches %llu, %.1f s\n",
         (unsigned long long)count,
         (unsigned long long)(argc > 2 ? strtoull(argv[2], NULL, 10) : 20240611),
         (unsigned long long)accepted, (unsigned long long)(count - accepted),
         (unsigned long long)mismatches, secs);
  printf("per generator:");
  for (int g = 0; g < NGEN; g++)
    printf(" %s %llu", gen_names[g], (unsigned long long)per_gen[g]);
  printf("\n");
  freelocale(c_locale);
  return mismatches ? 1 : 0;
}
