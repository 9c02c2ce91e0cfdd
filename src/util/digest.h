/*
 * digest.h - a fast 64-bit digest of bytes (XXH64, seed 0), fed in pieces of
 * any size: the same bytes give the same digest however a reader cut them.
 * Used to tell one streamed block (parallel --pipepart, a Hadoop split) from
 * another in merge, and the inputs fit --update has folded. Not a
 * cryptographic hash: it catches accidents (a block delivered twice, a file
 * folded again), not forgeries.
 */
#ifndef CSVREG_DIGEST_H
#define CSVREG_DIGEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct csvreg__digest {
  uint64_t v[4];
  uint64_t total;
  unsigned char buf[32];
  size_t buflen;
} csvreg__digest;

void csvreg__digest_init(csvreg__digest *d);
void csvreg__digest_update(csvreg__digest *d, const void *data, size_t len);
uint64_t csvreg__digest_final(const csvreg__digest *d);

#endif
