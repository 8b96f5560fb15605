/* ebm-ts native kernels: shared declarations between the N-API glue and the compute kernels. */
#ifndef EBM_NATIVE_H
#define EBM_NATIVE_H

#include <stddef.h>
#include <stdint.h>

/* Unary op codes: the index of the op in UNARY_OPS (src/tensor/backend.ts). Order must match exactly. */
enum ebm_unary_op {
  EBM_U_NEG, EBM_U_EXP, EBM_U_LOG, EBM_U_LOG1P, EBM_U_SQRT, EBM_U_SQUARE, EBM_U_ABS, EBM_U_SIN, EBM_U_COS,
  EBM_U_SIGMOID, EBM_U_LOGSIGMOID, EBM_U_TANH, EBM_U_SOFTPLUS, EBM_U_RELU, EBM_U_SILU, EBM_U_SIGN,
  EBM_U_RECIPROCAL, EBM_U_EXPM1, EBM_U_COUNT
};
/* Binary op codes: the index of the op in BINARY_OPS (src/tensor/backend.ts). */
enum ebm_binary_op { EBM_B_ADD, EBM_B_SUB, EBM_B_MUL, EBM_B_DIV, EBM_B_MAX, EBM_B_MIN, EBM_B_POW, EBM_B_COUNT };

/* Names in code order, exported so the JS loader can verify the tables agree. */
extern const char *const ebm_unary_names[EBM_U_COUNT];
extern const char *const ebm_binary_names[EBM_B_COUNT];

/* Bundled GEMM (row-major, C <- alpha*op(A)*op(B) + beta*C). Returns 0, or -1 when scratch memory was unavailable. */
int ebm_gemm_f32(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
int ebm_gemm_f64(int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
                 const double *b, int64_t ldb, double beta, double *c, int64_t ldc);

/* Worker-thread count used by the bundled GEMM for large products (1 = single-threaded). */
int ebm_gemm_threads(void);
void ebm_gemm_set_threads(int t);
/* Runs fn(args[i]) for i < n on the GEMM worker pool (task 0 on the caller); returns when all are done. */
void ebm_pool_run(void *(*fn)(void *), void **args, int n);
/* Single-threaded GEMM with caller-provided scratch of ebm_gemm_scratch_*(n) elements (64-byte aligned). */
size_t ebm_gemm_scratch_f32(int64_t n);
/* Micro-tile of the bundled GEMM: which 0 = MR (rows), 1 = NR (columns). */
int ebm_gemm_tile_f32(int which);
int ebm_gemm_tile_f64(int which);
size_t ebm_gemm_scratch_f64(int64_t n);
void ebm_gemm_1t_f32(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float beta, float *c, int64_t ldc, float *scratch);
void ebm_gemm_1t_f64(int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
                     const double *b, int64_t ldb, double beta, double *c, int64_t ldc, double *scratch);

/* 2-D convolution geometry (NCHW input [N,C,H,W], filter [O,C,KH,KW], output [N,O,OH,OW]). */
typedef struct {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, oh, ow;
} ebm_conv_geom;
/* Convolution kernels (native/conv.c): im2col per image feeding the single-threaded packed GEMM, batch split over
 * the worker pool. kind 0: forward out = conv(x, w) (+ bias), 1: input gradient dx = conv^T(g, w),
 * 2: filter gradient dw = sum_n g_n col_n^T. bias_stride: 0 for one bias [O] shared by the batch, O for a bias
 * [N][O] per image (e.g. a time embedding). Return 0, or -1 when scratch memory was unavailable. */
int ebm_conv2d_f32(int kind, const ebm_conv_geom *g, const float *a, const float *b, const float *bias, int64_t bias_stride, float *out);
int ebm_conv2d_f64(int kind, const ebm_conv_geom *g, const double *a, const double *b, const double *bias, int64_t bias_stride, double *out);

/* Short description of the vector ISA the bundled kernels were compiled for. */
const char *ebm_simd_name(void);

/* Elementwise kernels. */
void ebm_unary_f32(int op, const float *x, float *out, size_t n);
void ebm_unary_f64(int op, const double *x, double *out, size_t n);
void ebm_binary_f32(int op, const float *a, const float *b, size_t nb, float *out, size_t n);
void ebm_binary_f64(int op, const double *a, const double *b, size_t nb, double *out, size_t n);
/* Fused first-order activation backward out = g * f'(x) for f in {sigmoid, logSigmoid, tanh, softplus, relu, silu}
 * (unary op codes); y = f(x) or NULL. Returns -1 for an op without a fused backward. */
int ebm_unary_grad_f32(int op, const float *x, const float *y, const float *g, float *out, size_t n);
int ebm_unary_grad_f64(int op, const double *x, const double *y, const double *g, double *out, size_t n);
/* Column sums of a row-major rows x cols matrix (bias gradients). */
void ebm_sum_rows_f32(const float *x, size_t rows, size_t cols, float *out);
void ebm_sum_rows_f64(const double *x, size_t rows, size_t cols, double *out);
void ebm_sigmoid_bernoulli_f32(const float *x, const float *bias, size_t cols, float *prob, const float *u,
                               float *sample, size_t n);
void ebm_sigmoid_bernoulli_f64(const double *x, const double *bias, size_t cols, double *prob, const double *u,
                               double *sample, size_t n);

/* Random kernels (native/philox.c): bit-identical to src/random (Philox4x32-10 stream, uniform and Box-Muller
 * normal conversions with the deterministic log / sincos2pi shared with the TypeScript code). */
void ebm_philox_fill(uint32_t k0, uint32_t k1, uint32_t domain, uint64_t start, uint32_t *out, size_t n);
void ebm_uniform_f32(uint32_t k0, uint32_t k1, uint64_t start, float *out, size_t n);
void ebm_uniform_f64(uint32_t k0, uint32_t k1, uint64_t start, double *out, size_t n);
void ebm_normal_f32(uint32_t k0, uint32_t k1, uint64_t start_pair, float *out, size_t n);
void ebm_normal_f64(uint32_t k0, uint32_t k1, uint64_t start_pair, double *out, size_t n);
double ebm_det_log(double x);
void ebm_det_sincos2pi(double u, double *sn, double *cs);

#endif
