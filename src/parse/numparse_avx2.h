/*
 * numparse_avx2.h - numparse_short on four fields at once, for the chunk's
 * loop on AVX2 machines; internal, not installed.
 *
 * The scalar short path spends most of its ~60 instructions a field on work
 * that is the same for every field: digit mask, point check and squeeze,
 * the eight-digit multiply and the division. Here each field is gathered
 * into its 64-bit word as before (numparse_gather), and those steps run on
 * the four words in the lanes of one 256-bit register, with shifts and
 * masks in place of the scalar path's count-trailing-zeros. Every lane
 * computes the same integer and divides by the same exact power of ten as
 * numparse_short does, so a lane's double is bit for bit numparse_short's
 * (tests/numparse/test_numparse_avx2.c checks it on every shape of field).
 */
#ifndef CSVREG_NUMPARSE_AVX2_H
#define CSVREG_NUMPARSE_AVX2_H

#include "numparse.h"

#if NUMPARSE_SWAR && defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) &&            \
    !defined(CSVREG_NO_SIMD)
#define NUMPARSE_X4 1
#include <immintrin.h>

#define NUMPARSE_AVX2 __attribute__((always_inline, target("avx2")))

/* Parses fields [s[i], s[i] + len[i]) for i = 0..3. Returns a 4-bit mask:
 * bit i set when field i took the short path, with out[i] exactly what
 * csvreg_parse_double gives; out[i] is garbage for the other lanes, which
 * the caller sends to the general path. Reads only inside the fields, or,
 * with `wide` (a constant; the fields must be followed by readable input,
 * csvreg__reader_slack), the 9 bytes from each field's start (numparse_gather):
 * the lanes shift out every byte above a field, so the results are the
 * same. */
static inline NUMPARSE_AVX2 unsigned numparse_short_x4(const char *const s[4], const size_t len[4],
                                                       double out[4], const int wide) {
  uint64_t w0, w1, w2, w3, ns0, ns1, ns2, ns3;
  unsigned ok = (unsigned)numparse_gather(s[0], len[0], &w0, &ns0, wide) |
                (unsigned)numparse_gather(s[1], len[1], &w1, &ns1, wide) << 1 |
                (unsigned)numparse_gather(s[2], len[2], &w2, &ns2, wide) << 2 |
                (unsigned)numparse_gather(s[3], len[3], &w3, &ns3, wide) << 3;
  /* Registers, not an array: four 8-byte stores read back by one 32-byte
   * load would miss store forwarding. */
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi64x(1);
  const __m256i bytes01 = _mm256_set1_epi64x(0x0101010101010101);
  const __m256i low8 = _mm256_set1_epi64x(0xff);
  __m256i ns = _mm256_set_epi64x((long long)ns3, (long long)ns2, (long long)ns1, (long long)ns0);
  __m256i N = _mm256_and_si256(ns, _mm256_set1_epi64x(15));
  /* sh = 64 - 8n: the bytes above the number are shifted out. */
  __m256i sh = _mm256_sub_epi64(_mm256_set1_epi64x(64), _mm256_slli_epi64(N, 3));
  __m256i x = _mm256_xor_si256(
      _mm256_set_epi64x((long long)w3, (long long)w2, (long long)w1, (long long)w0),
      _mm256_set1_epi64x(0x3030303030303030));
  x = _mm256_srlv_epi64(_mm256_sllv_epi64(x, sh), sh);
  __m256i keep = _mm256_srlv_epi64(_mm256_set1_epi64x(-1), sh); /* the number's bytes */
  /* numparse_nondigits, lane by lane. */
  __m256i nd = _mm256_and_si256(
      _mm256_or_si256(_mm256_add_epi64(x, _mm256_set1_epi64x(0x7676767676767676)), x),
      _mm256_set1_epi64x((long long)0x8080808080808080u));
  /* lo: the lowest flag; b = 2^(8j) for a point at byte j (0: no point). */
  __m256i lo = _mm256_and_si256(nd, _mm256_sub_epi64(zero, nd));
  __m256i single = _mm256_cmpeq_epi64(nd, lo); /* no flag, or one */
  __m256i nopoint = _mm256_cmpeq_epi64(nd, zero);
  __m256i b = _mm256_srli_epi64(lo, 7);
  /* The flagged byte must be the point: x's byte j is '.' ^ '0' = 0x1e, i.e.
   * x & 0xff * b == 0x1e * b = (b << 5) - (b << 1). Both sides are 0 with no
   * point. */
  __m256i at_j = _mm256_and_si256(x, _mm256_sub_epi64(_mm256_slli_epi64(b, 8), b));
  __m256i dot = _mm256_sub_epi64(_mm256_slli_epi64(b, 5), _mm256_slli_epi64(b, 1));
  __m256i good = _mm256_and_si256(single, _mm256_cmpeq_epi64(at_j, dot));
  /* below: the bytes under the point (all ones with none, so that the
   * squeeze leaves x as it is); the bytes above it move down one. */
  __m256i below = _mm256_sub_epi64(b, one);
  x = _mm256_or_si256(_mm256_and_si256(x, below),
                      _mm256_andnot_si256(below, _mm256_srli_epi64(x, 8)));
  /* Digits before the point (all n with none): one bit per such byte, summed
   * by psadbw; the word holds the digits times 10^(8 - that). */
  __m256i before = _mm256_blendv_epi8(below, keep, nopoint);
  __m256i scale = _mm256_sub_epi64(_mm256_set1_epi64x(8),
                                   _mm256_sad_epu8(_mm256_and_si256(before, bytes01), zero));
  /* numparse_octet: pairs (x * 10 + x >> 8 at bytes 0, 2, 4, 6), then
   * a * 10^6 + c * 10^4 + b * 100 + d from the pairs at bytes 0, 2, 4, 6. */
  x = _mm256_add_epi64(_mm256_add_epi64(_mm256_slli_epi64(x, 3), _mm256_slli_epi64(x, 1)),
                       _mm256_srli_epi64(x, 8));
  __m256i v = _mm256_add_epi64(
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_and_si256(x, low8), _mm256_set1_epi64x(1000000)),
                       _mm256_mul_epu32(_mm256_and_si256(_mm256_srli_epi64(x, 16), low8),
                                        _mm256_set1_epi64x(10000))),
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_and_si256(_mm256_srli_epi64(x, 32), low8),
                                        _mm256_set1_epi64x(100)),
                       _mm256_and_si256(_mm256_srli_epi64(x, 48), low8)));
  /* At most 99999999: the low halves, as int32, convert exactly. */
  __m128i v32 = _mm256_castsi256_si128(
      _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
  __m256d q =
      _mm256_div_pd(_mm256_cvtepi32_pd(v32), _mm256_i64gather_pd(csvreg__numparse_pow10, scale, 8));
  /* The sign bits of ns. */
  q = _mm256_or_pd(
      q, _mm256_castsi256_pd(_mm256_andnot_si256(_mm256_set1_epi64x(0x7fffffffffffffff), ns)));
  _mm256_storeu_pd(out, q);
  return ok & (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(good));
}
#else
#define NUMPARSE_X4 0
#endif

#endif
