/* Elementwise kernels for ebm-ts. Formulas mirror the pure-TS backend (src/tensor/backend.ts) exactly, including the
 * overflow-free branches of sigmoid / softplus / logSigmoid and the NaN behaviour of relu, sign, max and min. */
#include "ebm.h"

#include <math.h>

const char *const ebm_unary_names[EBM_U_COUNT] = {
  "neg", "exp", "log", "log1p", "sqrt", "square", "abs", "sin", "cos", "sigmoid", "logSigmoid", "tanh",
  "softplus", "relu", "silu", "sign", "reciprocal", "expm1",
};
const char *const ebm_binary_names[EBM_B_COUNT] = { "add", "sub", "mul", "div", "max", "min", "pow" };

/* e^x for x <= 0 (or NaN), branch-free so loops calling it vectorise: e^x = 2^n e^r with n = round(x / ln 2),
 * |r| <= ln2/2 (Cody-Waite split of ln 2), e^r by the degree-7 minimax polynomial of Cephes expf (about 1 ulp).
 * Below -87.33 (where 2^n leaves the normal range) the result is 0; NaN propagates through the arithmetic. */
static inline float exp_nonpos_f(float x) {
  const float xc = x < -87.33654f ? -87.33654f : x;
  const float t = xc * 1.44269504088896341f + 12582912.0f; /* adding 1.5*2^23 rounds to an integer */
  const float n = t - 12582912.0f;
  uint32_t ti;
  __builtin_memcpy(&ti, &t, 4);
  const uint32_t bits = (ti - 0x4B400000u + 127u) << 23; /* exponent field of 2^n, n in [-126, 0] */
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  float scale;
  __builtin_memcpy(&scale, &bits, 4);
  const float y = p * scale;
  return x < -87.33654f ? 0.0f : y;
}

/* Stable logistic: the exp argument is -|x| <= 0, so nothing overflows; branch-free (vectorises). NaN propagates. */
static inline float sigmoid_f(float x) {
  const float e = exp_nonpos_f(-__builtin_fabsf(x));
  const float inv = 1.0f / (1.0f + e);
  return x >= 0 ? inv : e * inv;
}
static inline double sigmoid_d(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  const double e = exp(x);
  return e / (1.0 + e);
}
/* Branch-free float tanh (vectorises with the addon's -fno-trapping-math): for |x| < 0.625 the odd minimax
 * polynomial of Cephes tanhf, above it (1 - e)/(1 + e) with e = e^(-2|x|) <= 0.29, so neither form cancels; the sign
 * is restored at the end. ±Inf give ±1, NaN propagates. Within a few ulps of the double-precision reference. */
static inline float tanh_f(float x) {
  const float a = __builtin_fabsf(x);
  const float s = x * x;
  const float p = ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s + 1.33314422036e-1f) * s -
                   3.33332819422e-1f) * s * a + a;
  const float e = exp_nonpos_f(-2.0f * a);
  const float q = (1.0f - e) / (1.0f + e);
  const float t = a < 0.625f ? p : q;
  return x < 0 ? -t : t;
}

/* log(w) for w in [1, 2] (or NaN), branch-free: w = 2^k m with m in [sqrt(1/2), sqrt(2)), k in {0, 1}, and log m by
 * the degree-9 polynomial of Cephes logf in m - 1, ln 2 split as in exp_nonpos_f. */
static inline float log_1to2_f(float w) {
  const float k = w > 1.41421356f ? 1.0f : 0.0f;
  const float m = w > 1.41421356f ? 0.5f * w : w;
  const float r = m - 1.0f, z = r * r;
  float p = 7.0376836292e-2f;
  p = p * r - 1.1514610310e-1f;
  p = p * r + 1.1676998740e-1f;
  p = p * r - 1.2420140846e-1f;
  p = p * r + 1.4249322787e-1f;
  p = p * r - 1.6668057665e-1f;
  p = p * r + 2.0000714765e-1f;
  p = p * r - 2.4999993993e-1f;
  p = p * r + 3.3333331174e-1f;
  float y = r * z * p;
  y += -2.12194440e-4f * k;
  y += -0.5f * z;
  return r + y + 0.693359375f * k;
}
/* log1p(u) for u in [0, 1] (or NaN): log(1 + u) corrected for the rounding of 1 + u (log(w)·u/(w − 1)), and u itself
 * when 1 + u rounds to 1. Branch-free. */
static inline float log1p_unit_f(float u) {
  const float w = 1.0f + u;
  const float d = w - 1.0f;
  const float l = log_1to2_f(w) * (u / (d == 0.0f ? 1.0f : d));
  return d == 0.0f ? u : l;
}
/* Stable softplus log(1+e^x) = max(x, 0) + log1p(e^-|x|); branch-free in float (vectorises), NaN propagates. */
static inline float softplus_f(float x) {
  const float l = log1p_unit_f(exp_nonpos_f(-__builtin_fabsf(x)));
  return (x > 0 ? x : 0.0f) + l;
}
static inline double softplus_d(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

#define UNARY_BODY(T, S, EXP, LOG, LOG1P, SQRT, FABS, SIN, COS, TANH, EXPM1)                            \
  switch (op) {                                                                                          \
    case EBM_U_NEG: for (size_t i = 0; i < n; i++) out[i] = -x[i]; return;                               \
    case EBM_U_EXP: for (size_t i = 0; i < n; i++) out[i] = EXP(x[i]); return;                           \
    case EBM_U_LOG: for (size_t i = 0; i < n; i++) out[i] = LOG(x[i]); return;                           \
    case EBM_U_LOG1P: for (size_t i = 0; i < n; i++) out[i] = LOG1P(x[i]); return;                       \
    case EBM_U_SQRT: for (size_t i = 0; i < n; i++) out[i] = SQRT(x[i]); return;                         \
    case EBM_U_SQUARE: for (size_t i = 0; i < n; i++) out[i] = x[i] * x[i]; return;                      \
    case EBM_U_ABS: for (size_t i = 0; i < n; i++) out[i] = FABS(x[i]); return;                          \
    case EBM_U_SIN: for (size_t i = 0; i < n; i++) out[i] = SIN(x[i]); return;                           \
    case EBM_U_COS: for (size_t i = 0; i < n; i++) out[i] = COS(x[i]); return;                           \
    case EBM_U_SIGMOID: for (size_t i = 0; i < n; i++) out[i] = sigmoid_##S(x[i]); return;               \
    case EBM_U_LOGSIGMOID: for (size_t i = 0; i < n; i++) out[i] = -softplus_##S(-x[i]); return;         \
    case EBM_U_TANH: for (size_t i = 0; i < n; i++) out[i] = TANH(x[i]); return;                         \
    case EBM_U_SOFTPLUS: for (size_t i = 0; i < n; i++) out[i] = softplus_##S(x[i]); return;             \
    case EBM_U_RELU: for (size_t i = 0; i < n; i++) { const T v = x[i]; out[i] = v > 0 ? v : (T)0; } return; \
    case EBM_U_SILU: for (size_t i = 0; i < n; i++) { const T v = x[i]; out[i] = v * sigmoid_##S(v); } return; \
    case EBM_U_SIGN:                                                                                     \
      for (size_t i = 0; i < n; i++) { const T v = x[i]; out[i] = v > 0 ? (T)1 : v < 0 ? (T)-1 : (T)0; } \
      return;                                                                                            \
    case EBM_U_RECIPROCAL: for (size_t i = 0; i < n; i++) out[i] = (T)1 / x[i]; return;                  \
    case EBM_U_EXPM1: for (size_t i = 0; i < n; i++) out[i] = EXPM1(x[i]); return;                       \
    default: return;                                                                                     \
  }

/* x and out may be the same array (in-place); the compiler versions vectorised loops on a runtime overlap check. */
void ebm_unary_f32(int op, const float *x, float *out, size_t n) {
  UNARY_BODY(float, f, expf, logf, log1pf, sqrtf, fabsf, sinf, cosf, tanh_f, expm1f)
}
void ebm_unary_f64(int op, const double *x, double *out, size_t n) {
  UNARY_BODY(double, d, exp, log, log1p, sqrt, fabs, sin, cos, tanh, expm1)
}

/* nb == 1: scalar b; nb >= n: elementwise; otherwise (nb divides n, checked by the caller) b is repeated along a,
 * i.e. a row-broadcast of a [n/nb, nb] matrix by a [nb] vector (bias add, per-feature scale). */
#define BINARY_LOOP(EXPR)                                                 \
  if (nb == 1 && n != 1) {                                                \
    const T s = b[0];                                                     \
    for (size_t i = 0; i < n; i++) { const T u = a[i], v = s; out[i] = EXPR; } \
  } else if (nb >= n) {                                                   \
    for (size_t i = 0; i < n; i++) { const T u = a[i], v = b[i]; out[i] = EXPR; } \
  } else {                                                                \
    for (size_t o = 0; o + nb <= n; o += nb) {                            \
      const T *ar = a + o;                                                \
      T *orow = out + o;                                                  \
      for (size_t i = 0; i < nb; i++) { const T u = ar[i], v = b[i]; orow[i] = EXPR; } \
    }                                                                     \
  }                                                                       \
  return;

#define BINARY_BODY(POW)                                \
  switch (op) {                                         \
    case EBM_B_ADD: BINARY_LOOP(u + v)                  \
    case EBM_B_SUB: BINARY_LOOP(u - v)                  \
    case EBM_B_MUL: BINARY_LOOP(u * v)                  \
    case EBM_B_DIV: BINARY_LOOP(u / v)                  \
    case EBM_B_MAX: BINARY_LOOP(u >= v ? u : v)         \
    case EBM_B_MIN: BINARY_LOOP(u <= v ? u : v)         \
    case EBM_B_POW: BINARY_LOOP(POW(u, v))              \
    default: return;                                    \
  }

void ebm_binary_f32(int op, const float *a, const float *b, size_t nb, float *out, size_t n) {
#define T float
  BINARY_BODY(powf)
#undef T
}
void ebm_binary_f64(int op, const double *a, const double *b, size_t nb, double *out, size_t n) {
#define T double
  BINARY_BODY(pow)
#undef T
}

void ebm_sigmoid_bernoulli_f32(const float *x, const float *bias, size_t cols, float *prob, const float *u,
                               float *sample, size_t n) {
  for (size_t i = 0, j = 0; i < n; i++) {
    /* The sum and the logistic are evaluated in double, exactly as the js backend does, then rounded once: this
     * keeps prob within an ulp of the reference (a float sum would lose ~|x|*eps). */
    const float p = (float)sigmoid_d(bias ? (double)x[i] + (double)bias[j] : (double)x[i]);
    prob[i] = p;
    if (u && sample) sample[i] = u[i] < p ? 1.0f : 0.0f;
    if (++j == cols) j = 0;
  }
}
void ebm_sigmoid_bernoulli_f64(const double *x, const double *bias, size_t cols, double *prob, const double *u,
                               double *sample, size_t n) {
  for (size_t i = 0, j = 0; i < n; i++) {
    const double p = sigmoid_d(bias ? x[i] + bias[j] : x[i]);
    prob[i] = p;
    if (u && sample) sample[i] = u[i] < p ? 1.0 : 0.0;
    if (++j == cols) j = 0;
  }
}


/* First-order backward of the activations: out[i] = g[i] * f'(x[i]). y (= f(x)) is optional; sigmoid and tanh use
 * it when given (saving a transcendental), otherwise everything is recomputed from x. Formulas as in
 * src/tensor/backend.ts (unaryGradJs). */
#define GRAD_BODY(T, S, TANH)                                                                            \
  switch (op) {                                                                                          \
    case EBM_U_SIGMOID:                                                                                  \
      for (size_t i = 0; i < n; i++) { const T s = y ? y[i] : sigmoid_##S(x[i]); out[i] = g[i] * s * ((T)1 - s); } \
      return 0;                                                                                          \
    case EBM_U_LOGSIGMOID: for (size_t i = 0; i < n; i++) out[i] = g[i] * sigmoid_##S(-x[i]); return 0; \
    case EBM_U_TANH:                                                                                     \
      for (size_t i = 0; i < n; i++) { const T t = y ? y[i] : TANH(x[i]); out[i] = g[i] * ((T)1 - t * t); } \
      return 0;                                                                                          \
    case EBM_U_SOFTPLUS: for (size_t i = 0; i < n; i++) out[i] = g[i] * sigmoid_##S(x[i]); return 0;    \
    case EBM_U_RELU: for (size_t i = 0; i < n; i++) out[i] = x[i] > 0 ? g[i] : (T)0; return 0;          \
    case EBM_U_SILU:                                                                                     \
      for (size_t i = 0; i < n; i++) {                                                                   \
        const T v = x[i], s = sigmoid_##S(v);                                                            \
        out[i] = g[i] * s * ((T)1 + v * ((T)1 - s));                                                     \
      }                                                                                                  \
      return 0;                                                                                          \
    default: return -1;                                                                                  \
  }

int ebm_unary_grad_f32(int op, const float *x, const float *y, const float *g, float *out, size_t n) {
  GRAD_BODY(float, f, tanh_f)
}
int ebm_unary_grad_f64(int op, const double *x, const double *y, const double *g, double *out, size_t n) {
  GRAD_BODY(double, d, tanh)
}

/* out[j] = sum_i x[i*cols + j] for i < rows, accumulated row by row in T (the order of the js backend). */
void ebm_sum_rows_f32(const float *x, size_t rows, size_t cols, float *out) {
  for (size_t j = 0; j < cols; j++) out[j] = 0;
  for (size_t i = 0; i < rows; i++) {
    const float *r = x + i * cols;
    for (size_t j = 0; j < cols; j++) out[j] += r[j];
  }
}
void ebm_sum_rows_f64(const double *x, size_t rows, size_t cols, double *out) {
  for (size_t j = 0; j < cols; j++) out[j] = 0;
  for (size_t i = 0; i < rows; i++) {
    const double *r = x + i * cols;
    for (size_t j = 0; j < cols; j++) out[j] += r[j];
  }
}
