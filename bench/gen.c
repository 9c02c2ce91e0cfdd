/* Deterministic CSV generator for the csvreg benchmark.
 *
 * Shapes (same seed, same bytes, on any machine: integer arithmetic only, a
 * xorshift64* generator, no libc rand and no libm):
 *   clean  header x1..x10,y; LF; every value has 4 decimals, like -12.3456
 *   messy  the clean values plus two quoted text columns (commas, doubled
 *          quotes), CRLF, ~5% of the numbers written with an exponent
 *          (same value, e.g. 1.5e-3), ~1% of the numeric cells "NA"
 *   wide   header x1..x200,y; otherwise as clean
 *
 * The model: x_j uniform on [-100, 100] in steps of 1e-4 and
 *   y = 3 + sum_j b_j x_j + e,  e ~ Irwin-Hall(12) - 6 (mean 0, sd 1),
 *   b_j = (-1)^(j+1) * (1 + (7 j mod 8)) / 4      (0.25 .. 2, never 0),
 * y rounded down to 4 decimals. `gen --coef` prints the true coefficients.
 *
 * Usage: gen [--shape clean|messy|wide] [--rows N] [--seed S] [--coef]
 * Writes to stdout in large blocks (pipe it or redirect it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTERCEPT_Q 12 /* the intercept, 3, in quarters */

typedef struct {
  uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform integer in [0, n); the modulo bias is below 2^-40 for our n. */
static uint64_t rng_below(rng *r, uint64_t n) { return (rng_next(r) >> 11) % n; }

/* Coefficient b_j in quarters (j is 1-based). */
static int64_t coef_q(int j) {
  int64_t m = 1 + (7 * j) % 8;
  return (j % 2) ? m : -m;
}

typedef struct {
  char *buf;
  size_t len, cap;
} out;

static void out_flush(out *o) {
  if (o->len && fwrite(o->buf, 1, o->len, stdout) != o->len) {
    perror("gen: write");
    exit(1);
  }
  o->len = 0;
}

static void out_str(out *o, const char *s, size_t n) {
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}

/* Writes v * 1e-4 with exactly 4 decimals: -123456 -> -12.3456. */
static void out_fixed4(out *o, int64_t v) {
  char tmp[32];
  int n = 0;
  uint64_t a = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
  for (int i = 0; i < 4; i++, a /= 10) tmp[n++] = (char)('0' + a % 10);
  tmp[n++] = '.';
  do {
    tmp[n++] = (char)('0' + a % 10);
    a /= 10;
  } while (a);
  if (v < 0) tmp[n++] = '-';
  while (n) o->buf[o->len++] = tmp[--n];
}

/* Writes the same value v * 1e-4 in scientific form: 15 -> 1.5e-3,
 * -123456 -> -1.23456e1, 0 -> 0e0. Trailing zeros of the mantissa dropped. */
static void out_exp(out *o, int64_t v) {
  char d[24];
  int nd = 0;
  uint64_t a = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
  if (a == 0) {
    out_str(o, "0e0", 3);
    return;
  }
  char rev[24];
  int nr = 0;
  while (a) {
    rev[nr++] = (char)('0' + a % 10);
    a /= 10;
  }
  while (nr) d[nd++] = rev[--nr];
  int e = nd - 1 - 4;
  while (nd > 1 && d[nd - 1] == '0') nd--;
  if (v < 0) o->buf[o->len++] = '-';
  o->buf[o->len++] = d[0];
  if (nd > 1) {
    o->buf[o->len++] = '.';
    out_str(o, d + 1, (size_t)nd - 1);
  }
  o->len += (size_t)sprintf(o->buf + o->len, "e%d", e);
}

static const char *const names[] = {
    "\"Smith, John\"",           "\"O\"\"Brien, Pat\"", "\"Lee, A.\"",
    "\"van Dijk, \"\"Jan\"\"\"", "\"Garcia, M., Jr.\"", "\"Nguyen, T\"",
};
static const char *const comments[] = {
    "\"said \"\"ok\"\", then left\"", "\"a, b, c\"",          "\"none\"",
    "\"3\"\" pipe, 2\"\" bolt\"",     "\"ok, \"\"fine\"\"\"",
};

static void usage(void) {
  fputs("usage: gen [--shape clean|messy|wide] [--rows N] [--seed S] [--coef]\n", stderr);
  exit(2);
}

int main(int argc, char **argv) {
  const char *shape = "clean";
  uint64_t rows = 2000000, seed = 20240611;
  int coef = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--shape") && i + 1 < argc)
      shape = argv[++i];
    else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
      rows = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--coef"))
      coef = 1;
    else
      usage();
  }
  int messy = !strcmp(shape, "messy");
  int p;
  if (!strcmp(shape, "clean") || messy)
    p = 10;
  else if (!strcmp(shape, "wide"))
    p = 200;
  else
    usage();

  if (coef) { /* the true coefficients, in model order */
    printf("(Intercept) %.17g\n", INTERCEPT_Q / 4.0);
    for (int j = 1; j <= p; j++) printf("x%d %.17g\n", j, coef_q(j) / 4.0);
    return 0;
  }

  /* xorshift must not start at 0; mix the seed with splitmix64's constant. */
  rng r = {seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL};
  if (!r.s) r.s = 1;
  const char *eol = messy ? "\r\n" : "\n";
  size_t eoln = strlen(eol);
  out o = {malloc(1 << 20), 0, 1 << 20};
  if (!o.buf) return 1;

  /* Header. The messy shape puts its text columns among the numbers. */
  for (int j = 1; j <= p; j++) {
    o.len += (size_t)sprintf(o.buf + o.len, "x%d,", j);
    if (messy && j == 5) out_str(&o, "name,", 5);
  }
  if (messy) out_str(&o, "comment,", 8);
  out_str(&o, "y", 1);
  out_str(&o, eol, eoln);

  int64_t x[256];
  for (uint64_t i = 0; i < rows; i++) {
    if (o.cap - o.len < 64 * (size_t)(p + 4)) out_flush(&o);
    /* y in units of 1e-4, times 4 so the quarter coefficients stay exact. */
    int64_t y4 = INTERCEPT_Q * 10000;
    for (int j = 0; j < p; j++) {
      x[j] = (int64_t)rng_below(&r, 2000001) - 1000000;
      y4 += coef_q(j + 1) * x[j];
    }
    int64_t e = -6 * (1 << 20);
    for (int k = 0; k < 12; k++) e += (int64_t)(rng_next(&r) >> 44);
    y4 += 4 * ((e * 10000) >> 20);                   /* sd 1 */
    int64_t y = y4 >= 0 ? y4 / 4 : -((-y4 + 3) / 4); /* floor */
    x[p] = y;

    for (int j = 0; j <= p; j++) {
      uint64_t u = messy ? rng_next(&r) : 0;
      if (messy && (u & 0xFFFF) < 655) /* ~1% of the numeric cells */
        out_str(&o, "NA", 2);
      else if (messy && ((u >> 16) & 0xFFFF) < 3277) /* ~5% with an exponent */
        out_exp(&o, x[j]);
      else
        out_fixed4(&o, x[j]);
      if (j < p) o.buf[o.len++] = ',';
      if (messy && j == 4) {
        const char *s = names[rng_below(&r, sizeof names / sizeof *names)];
        out_str(&o, s, strlen(s));
        o.buf[o.len++] = ',';
      }
      if (messy && j == p - 1) {
        const char *s = comments[rng_below(&r, sizeof comments / sizeof *comments)];
        out_str(&o, s, strlen(s));
        o.buf[o.len++] = ',';
      }
    }
    out_str(&o, eol, eoln);
  }
  out_flush(&o);
  free(o.buf);
  if (fflush(stdout) || ferror(stdout)) {
    perror("gen: write");
    return 1;
  }
  return 0;
}
