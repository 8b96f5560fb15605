/*
 * Random-number kernels of ebm-ts: bulk Philox4x32-10 and the uniform / normal conversions of src/random/sample.ts,
 * bit-for-bit identical to the TypeScript versions.
 *
 * Philox is pure integer arithmetic (32x32 -> 64-bit products), so agreement is automatic. The uniform conversions
 * are exact. The normal (Box-Muller) path uses the deterministic log and sin/cos of 2*pi*u defined below, which are
 * the same sequence of IEEE double operations (+ - * / sqrt, floor, exact bit manipulation) as ebmLog / ebmSinCos2Pi
 * in src/random/sample.ts. This file must therefore be compiled WITHOUT floating-point contraction (no FMA fusion:
 * binding.gyp builds it in its own target with -ffp-contract=off) and without -ffast-math.
 *
 * Every loop is written branch-free over independent lanes so that GCC/Clang auto-vectorise it (AVX-512, AVX2, NEON).
 */
#include "ebm.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#if defined(__FAST_MATH__)
#error "native/philox.c must not be compiled with -ffast-math: the normal sampler must match the JS one bit for bit"
#endif

#define M0 0xD2511F53u
#define M1 0xCD9E8D57u
#define W0 0x9E3779B9u
#define W1 0xBB67AE85u

/* Blocks computed together: one vector register per counter word per 16 lanes. */
#define LANES 16

/* nb Philox4x32-10 blocks of stream (k0, k1, domain) starting at block `first`, written as 4*nb words to out. */
static void philox_blocks(uint32_t k0, uint32_t k1, uint32_t domain, uint64_t first, size_t nb, uint32_t *out) {
  uint32_t ka[10], kb[10];
  for (int r = 0; r < 10; r++) {
    ka[r] = k0 + (uint32_t)r * W0;
    kb[r] = k1 + (uint32_t)r * W1;
  }
  size_t b = 0;
  for (; b + LANES <= nb; b += LANES) {
    uint32_t c0[LANES], c1[LANES], c2[LANES], c3[LANES];
    for (int i = 0; i < LANES; i++) {
      const uint64_t ctr = first + b + (uint64_t)i;
      c0[i] = (uint32_t)ctr;
      c1[i] = (uint32_t)(ctr >> 32);
      c2[i] = domain;
      c3[i] = 0;
    }
    for (int r = 0; r < 10; r++) {
      const uint32_t a = ka[r], bb = kb[r];
      for (int i = 0; i < LANES; i++) {
        const uint64_t p0 = (uint64_t)M0 * c0[i];
        const uint64_t p1 = (uint64_t)M1 * c2[i];
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[i] ^ a;
        const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[i] ^ bb;
        c1[i] = (uint32_t)p1;
        c3[i] = (uint32_t)p0;
        c0[i] = n0;
        c2[i] = n2;
      }
    }
    uint32_t *o = out + 4 * b;
    for (int i = 0; i < LANES; i++) {
      o[4 * i] = c0[i];
      o[4 * i + 1] = c1[i];
      o[4 * i + 2] = c2[i];
      o[4 * i + 3] = c3[i];
    }
  }
  for (; b < nb; b++) {
    const uint64_t ctr = first + b;
    uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = domain, c3 = 0;
    for (int r = 0; r < 10; r++) {
      const uint64_t p0 = (uint64_t)M0 * c0;
      const uint64_t p1 = (uint64_t)M1 * c2;
      const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ ka[r];
      const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ kb[r];
      c1 = (uint32_t)p1;
      c3 = (uint32_t)p0;
      c0 = n0;
      c2 = n2;
    }
    out[4 * b] = c0;
    out[4 * b + 1] = c1;
    out[4 * b + 2] = c2;
    out[4 * b + 3] = c3;
  }
}

void ebm_philox_fill(uint32_t k0, uint32_t k1, uint32_t domain, uint64_t start, uint32_t *out, size_t n) {
  if (n == 0) return;
  uint64_t block = start >> 2;
  const unsigned skip = (unsigned)(start & 3);
  size_t j = 0;
  uint32_t tmp[4];
  if (skip) {
    philox_blocks(k0, k1, domain, block, 1, tmp);
    for (unsigned q = skip; q < 4 && j < n; q++) out[j++] = tmp[q];
    block++;
  }
  const size_t full = (n - j) / 4;
  if (full) {
    philox_blocks(k0, k1, domain, block, full, out + j);
    j += 4 * full;
    block += full;
  }
  if (j < n) {
    philox_blocks(k0, k1, domain, block, 1, tmp);
    for (unsigned q = 0; j < n; q++) out[j++] = tmp[q];
  }
}

/* ---------------------------------------------------------------------------------------------------------------
 * Deterministic log and sin/cos(2*pi*u). Keep in sync with ebmLog / ebmSinCos2Pi in src/random/sample.ts: same
 * constants, same operations in the same order. */

static const double LN2_HI = 6.93147180369123816490e-01; /* 0x3fe62e42fee00000: ln 2 rounded to 32 bits */
static const double LN2_LO = 1.9082149292705877e-10;     /* ln 2 - LN2_HI */
/* log(1+f) = f - (hfsq - s*(hfsq + z*P(z))), s = f/(2+f), z = s^2: P fitted on z in [0, (3-2*sqrt2)^2]. */
static const double LG0 = 0.666666666666667, LG1 = 0.39999999999899444, LG2 = 0.2857142862600327,
                    LG3 = 0.22222211130259878, LG4 = 0.18182889455674947, LG5 = 0.15331710618210773,
                    LG6 = 0.14616585424888623;
/* sin(pi/2 f) = f*S(f^2), cos(pi/2 f) = 1 + f^2*C(f^2), fitted on |f| <= 1/2. */
static const double SC0 = 1.5707963267948966, SC1 = -0.6459640975062443, SC2 = 0.07969262624604301,
                    SC3 = -0.004681754132340976, SC4 = 0.0001604411507421909, SC5 = -3.59864335298231e-06,
                    SC6 = 5.633933781537854e-08;
static const double CC0 = -1.2337005501361697, CC1 = 0.2536695079010478, CC2 = -0.020863480763340773,
                    CC3 = 0.0009192602745468447, CC4 = -2.5202039028029178e-05, CC5 = 4.710678405505227e-07,
                    CC6 = -6.329396344967424e-09;

static inline uint64_t d2u(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double u2d(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* Natural log of a positive normal double (the Box-Muller inputs are in [2^-53, 1]). x = 2^k * m with m in
 * [0.7071, 1.4142): k and m by bit manipulation, then the atanh series of log m. Max error 0.78 ulp. */
static inline double det_log_normal(double x) {
  const uint64_t b = d2u(x);
  const uint64_t mant = b & 0x000fffffffffffffULL;
  const uint64_t big = (mant >> 32) >= 0x6a09eULL; /* mantissa >= sqrt(2): use m/2 and k+1 */
  const double m = u2d(mant | ((0x3ffULL - big) << 52));
  /* k + 1023 as an exact double: 2^52 + (biased exponent + big) minus (2^52 + 1023) */
  const double dk = u2d(0x4330000000000000ULL + (b >> 52) + big) - 4503599627371519.0;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double R = z * (LG0 + z * (LG1 + z * (LG2 + z * (LG3 + z * (LG4 + z * (LG5 + z * LG6))))));
  const double hfsq = 0.5 * f * f;
  return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
}

/* sin(2*pi*u) and cos(2*pi*u) for |u| < 2^49. v = 4u = q + f exactly, q = v rounded to the nearest integer (ties to
 * even) by the 1.5*2^52 trick, |f| <= 1/2; then the quadrant symmetries of q mod 4, read from the low bits of
 * v + 1.5*2^52. Max error 1.45 ulp. */
static inline void det_sincos2pi(double u, double *sn, double *cs) {
  const double v = 4.0 * u;
  const double t = v + 6755399441055744.0;
  const double f = v - (t - 6755399441055744.0);
  const uint64_t qi = d2u(t);
  const double z = f * f;
  const double s = f * (SC0 + z * (SC1 + z * (SC2 + z * (SC3 + z * (SC4 + z * (SC5 + z * SC6))))));
  const double c = 1.0 + z * (CC0 + z * (CC1 + z * (CC2 + z * (CC3 + z * (CC4 + z * (CC5 + z * CC6))))));
  const uint64_t odd = qi & 1, neg_s = (qi >> 1) & 1, neg_c = ((qi + 1) >> 1) & 1;
  const double a = odd ? c : s, b = odd ? s : c;
  *sn = (neg_s ? -1.0 : 1.0) * a;
  *cs = (neg_c ? -1.0 : 1.0) * b;
}

double ebm_det_log(double x) {
  if (!(x >= 2.2250738585072014e-308) || x == INFINITY) {
    if (x == 0) return -INFINITY;
    if (x > 0 && x < 2.2250738585072014e-308) return det_log_normal(x * 18014398509481984.0) - 54.0 * LN2_HI - 54.0 * LN2_LO;
    if (x == INFINITY) return INFINITY;
    return NAN;
  }
  return det_log_normal(x);
}

/* Exported form: any finite u (u - floor(u) is exact and changes nothing for |u| < 2^49); NaN/inf give NaN. */
void ebm_det_sincos2pi(double u, double *sn, double *cs) {
  if (!(fabs(u) < 562949953421312.0)) {
    if (!(fabs(u) < INFINITY)) { *sn = NAN; *cs = NAN; return; }
    u = u - floor(u);
  }
  det_sincos2pi(u, sn, cs);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Samplers. Words are generated into an L1-resident buffer, then converted. */

#define WBUF 2048
static const double TWO_M24 = 5.9604644775390625e-8;
static const double TWO_M32 = 2.3283064365386963e-10;
static const double TWO_M53 = 1.1102230246251565e-16;
static const double TWO_P26 = 67108864.0;

/* out[i] = (w[start+i] >> 8) * 2^-24 */
void ebm_uniform_f32(uint32_t k0, uint32_t k1, uint64_t start, float *out, size_t n) {
  uint32_t w[WBUF];
  for (size_t i0 = 0; i0 < n; i0 += WBUF) {
    const size_t cnt = n - i0 < WBUF ? n - i0 : WBUF;
    ebm_philox_fill(k0, k1, 0, start + i0, w, cnt);
    float *o = out + i0;
    for (size_t j = 0; j < cnt; j++) o[j] = (float)((double)(w[j] >> 8) * TWO_M24);
  }
}

/* out[i] = ((w[2(start+i)] >> 5) * 2^26 + (w[2(start+i)+1] >> 6)) * 2^-53 */
void ebm_uniform_f64(uint32_t k0, uint32_t k1, uint64_t start, double *out, size_t n) {
  uint32_t w[WBUF];
  for (size_t i0 = 0; i0 < n; i0 += WBUF / 2) {
    const size_t cnt = n - i0 < WBUF / 2 ? n - i0 : WBUF / 2;
    ebm_philox_fill(k0, k1, 0, 2 * (start + i0), w, 2 * cnt);
    double *o = out + i0;
    for (size_t j = 0; j < cnt; j++)
      o[j] = ((double)(w[2 * j] >> 5) * TWO_P26 + (double)(w[2 * j + 1] >> 6)) * TWO_M53;
  }
}

/* Box-Muller pair from (u1 in (0, 1], u2 in [0, 1)): r cos, r sin with r = sqrt(-2 log u1). */
static inline void box_muller(double u1, double u2, double *a, double *b) {
  const double r = sqrt(-2.0 * det_log_normal(u1));
  double s, c;
  det_sincos2pi(u2, &s, &c);
  *a = r * c;
  *b = r * s;
}

/* Normal pairs p = startPair + i: u1 = (w[2p] + 1) 2^-32, u2 = w[2p+1] 2^-32; out has n elements (odd n drops the
 * last sine). */
void ebm_normal_f32(uint32_t k0, uint32_t k1, uint64_t start_pair, float *out, size_t n) {
  uint32_t w[WBUF];
  const size_t pairs = (n + 1) / 2;
  for (size_t p0 = 0; p0 < pairs; p0 += WBUF / 2) {
    const size_t cnt = pairs - p0 < WBUF / 2 ? pairs - p0 : WBUF / 2;
    ebm_philox_fill(k0, k1, 0, 2 * (start_pair + p0), w, 2 * cnt);
    const size_t full = (2 * (p0 + cnt) <= n) ? cnt : cnt - 1;
    float *o = out + 2 * p0;
    for (size_t j = 0; j < full; j++) {
      double a, b;
      box_muller(((double)w[2 * j] + 1.0) * TWO_M32, (double)w[2 * j + 1] * TWO_M32, &a, &b);
      o[2 * j] = (float)a;
      o[2 * j + 1] = (float)b;
    }
    if (full < cnt) {
      double a, b;
      box_muller(((double)w[2 * full] + 1.0) * TWO_M32, (double)w[2 * full + 1] * TWO_M32, &a, &b);
      o[2 * full] = (float)a;
    }
  }
}

/* Normal pairs p = startPair + i from 53-bit uniforms of words 4p..4p+3 (u1 = (N1 + 1) 2^-53, u2 = N2 2^-53). */
void ebm_normal_f64(uint32_t k0, uint32_t k1, uint64_t start_pair, double *out, size_t n) {
  uint32_t w[WBUF];
  const size_t pairs = (n + 1) / 2;
  for (size_t p0 = 0; p0 < pairs; p0 += WBUF / 4) {
    const size_t cnt = pairs - p0 < WBUF / 4 ? pairs - p0 : WBUF / 4;
    ebm_philox_fill(k0, k1, 0, 4 * (start_pair + p0), w, 4 * cnt);
    const size_t full = (2 * (p0 + cnt) <= n) ? cnt : cnt - 1;
    double *o = out + 2 * p0;
    for (size_t j = 0; j < full; j++) {
      const uint32_t *q = w + 4 * j;
      const double u1 = ((double)(q[0] >> 5) * TWO_P26 + (double)(q[1] >> 6) + 1.0) * TWO_M53;
      const double u2 = ((double)(q[2] >> 5) * TWO_P26 + (double)(q[3] >> 6)) * TWO_M53;
      box_muller(u1, u2, &o[2 * j], &o[2 * j + 1]);
    }
    if (full < cnt) {
      const uint32_t *q = w + 4 * full;
      const double u1 = ((double)(q[0] >> 5) * TWO_P26 + (double)(q[1] >> 6) + 1.0) * TWO_M53;
      const double u2 = ((double)(q[2] >> 5) * TWO_P26 + (double)(q[3] >> 6)) * TWO_M53;
      double b;
      box_muller(u1, u2, &o[2 * full], &b);
    }
  }
}
