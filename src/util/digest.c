/*
 * digest.c - XXH64 (Yann Collet's xxHash, 64-bit, seed 0) written out here
 * rather than linked: about 8 GB/s on one core, so hashing every byte of a
 * streamed block costs a few per cent of parsing it, and no new dependency
 * for CI. The streaming form keeps a 32-byte tail between updates, so the
 * digest does not depend on how the input was cut into reads.
 */
#include "digest.h"

#include <string.h>

#include "csvreg.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Little-endian loads whatever the host's order (memcpy: no alignment). */
static uint64_t rd64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t round1(uint64_t acc, uint64_t in) {
  acc += in * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}

static uint64_t merge_round(uint64_t acc, uint64_t v) {
  acc ^= round1(0, v);
  return acc * P1 + P4;
}

void csvreg__digest_init(csvreg__digest *d) {
  memset(d, 0, sizeof *d);
  d->v[0] = P1 + P2;
  d->v[1] = P2;
  d->v[2] = 0;
  d->v[3] = 0 - P1;
}

/* The four lanes over whole 32-byte stripes of p[0, n); returns the bytes used. */
static size_t stripes(csvreg__digest *d, const unsigned char *p, size_t n) {
  uint64_t v0 = d->v[0], v1 = d->v[1], v2 = d->v[2], v3 = d->v[3];
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    v0 = round1(v0, rd64(p + i));
    v1 = round1(v1, rd64(p + i + 8));
    v2 = round1(v2, rd64(p + i + 16));
    v3 = round1(v3, rd64(p + i + 24));
  }
  d->v[0] = v0;
  d->v[1] = v1;
  d->v[2] = v2;
  d->v[3] = v3;
  return i;
}

void csvreg__digest_update(csvreg__digest *d, const void *data, size_t len) {
  const unsigned char *p = data;
  if (!len)
    return;
  d->total += len;
  if (d->buflen) {
    size_t k = 32 - d->buflen < len ? 32 - d->buflen : len;
    memcpy(d->buf + d->buflen, p, k);
    d->buflen += k;
    p += k;
    len -= k;
    if (d->buflen < 32)
      return;
    stripes(d, d->buf, 32);
    d->buflen = 0;
  }
  size_t used = stripes(d, p, len);
  memcpy(d->buf, p + used, len - used);
  d->buflen = len - used;
}

uint64_t csvreg__digest_final(const csvreg__digest *d) {
  uint64_t h;
  if (d->total >= 32) {
    h = rotl(d->v[0], 1) + rotl(d->v[1], 7) + rotl(d->v[2], 12) + rotl(d->v[3], 18);
    for (int k = 0; k < 4; k++)
      h = merge_round(h, d->v[k]);
  } else {
    h = d->v[2] + P5;
  }
  h += d->total;
  const unsigned char *p = d->buf;
  size_t n = d->buflen;
  for (; n >= 8; p += 8, n -= 8) {
    h ^= round1(0, rd64(p));
    h = rotl(h, 27) * P1 + P4;
  }
  if (n >= 4) {
    h ^= (uint64_t)rd32(p) * P1;
    h = rotl(h, 23) * P2 + P3;
    p += 4;
    n -= 4;
  }
  for (; n > 0; p++, n--) {
    h ^= (*p) * P5;
    h = rotl(h, 11) * P1;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

void csvreg_digest_hex(const void *data, size_t len, char out[CSVREG_DIGEST_HEX]) {
  csvreg__digest d;
  csvreg__digest_init(&d);
  csvreg__digest_update(&d, data, len);
  csvreg_digest_format(csvreg__digest_final(&d), out);
}

void csvreg_digest_format(uint64_t h, char out[CSVREG_DIGEST_HEX]) {
  static const char hex[] = "0123456789abcdef";
  memcpy(out, "xxh64:", 6);
  for (int i = 0; i < 16; i++)
    out[6 + i] = hex[(h >> (60 - 4 * i)) & 15];
  out[22] = '\0';
}
