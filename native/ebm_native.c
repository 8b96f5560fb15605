/*
 * N-API glue of the ebm-ts native backend (plain C, node_api.h only).
 * Exports: gemm, unary, binary, unaryGrad, sumRows, conv2d, sigmoidBernoulli, info, setUseBlas, setThreads, philoxFill, randomFill, randomMath.
 * Typed-array pointers come from napi_get_typedarray_info; every index range is checked before a kernel runs, so
 * a wrong offset or leading dimension throws a RangeError instead of touching memory outside the array.
 */
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#include "ebm.h"

#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* glibc serves allocations above M_MMAP_THRESHOLD (128 KiB, raised dynamically only after frees) with fresh mmap
 * pages and returns them with munmap on free. Every op output of 32k+ float32 elements is such an ArrayBuffer, so a
 * training step paid a page fault per 4 KiB and an munmap per tensor: measured on the dev box, allocating and
 * writing a 65536-element Float32Array cost ~1000 us of CPU vs ~60 us once large blocks are recycled inside the heap.
 * At load the addon therefore raises the mmap threshold to 32 MiB and the trim threshold to 64 MiB (freed memory
 * above that is still returned to the OS). Skipped when EBM_MALLOC_TUNE=0 or when the user set the glibc variables
 * MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ themselves. */
static int g_malloc_tuned = 0;
static void tune_malloc(void) {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  const char *opt = getenv("EBM_MALLOC_TUNE");
  if (opt && strcmp(opt, "0") == 0) return;
  if (getenv("MALLOC_MMAP_THRESHOLD_") || getenv("MALLOC_TRIM_THRESHOLD_")) return;
  if (mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1) g_malloc_tuned = 1;
#endif
}

#ifdef EBM_HAVE_OPENBLAS
#include <cblas.h>
/* Declared by OpenBLAS's cblas.h; repeated so a netlib cblas.h on the include path still compiles. */
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);
static int g_use_blas = 1;
#else
static int g_use_blas = 0;
#endif

/* Products smaller than this (m*n*k) skip BLAS: its dispatch overhead dominates and the bundled kernel is exact. */
#define EBM_BLAS_MIN_MNK 4096.0

#define THROW_TYPE(msg) do { napi_throw_type_error(env, NULL, msg); return NULL; } while (0)
#define THROW_RANGE(msg) do { napi_throw_range_error(env, NULL, msg); return NULL; } while (0)
#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "ebm_native: N-API call failed: " #call); return NULL; } } while (0)

typedef struct {
  void *data;
  size_t len;
  int f64; /* 1 for Float64Array, 0 for Float32Array */
} farr;

/* Reads a Float32Array/Float64Array argument; `nullable` allows null/undefined (data = NULL). Returns 0 on success,
 * or throws and returns -1. */
static int get_farr(napi_env env, napi_value v, farr *out, const char *name, int nullable) {
  napi_typedarray_type type;
  size_t len;
  void *data;
  /* Fast path first: one N-API call for the common case of a float typed array. */
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) == napi_ok) {
    if (type == napi_float32_array || type == napi_float64_array) {
      out->data = data;
      out->len = len;
      out->f64 = type == napi_float64_array;
      return 0;
    }
  } else if (nullable) {
    napi_valuetype t;
    if (napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined)) {
      out->data = NULL;
      out->len = 0;
      out->f64 = -1;
      return 0;
    }
  }
  char msg[160];
  snprintf(msg, sizeof msg, "ebm_native: argument '%s' must be a Float32Array or Float64Array%s", name,
           nullable ? " or null" : "");
  napi_throw_type_error(env, NULL, msg);
  return -1;
}

static int get_i64(napi_env env, napi_value v, int64_t *out, const char *name) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 || d != (double)(int64_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "ebm_native: argument '%s' must be a non-negative integer", name);
    napi_throw_range_error(env, NULL, msg);
    return -1;
  }
  *out = (int64_t)d;
  return 0;
}

static int get_f64(napi_env env, napi_value v, double *out, const char *name) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "ebm_native: argument '%s' must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

static int get_bool(napi_env env, napi_value v, int *out) {
  bool b = false;
  if (napi_get_value_bool(env, v, &b) != napi_ok) {
    napi_value coerced;
    if (napi_coerce_to_bool(env, v, &coerced) != napi_ok || napi_get_value_bool(env, coerced, &b) != napi_ok) return -1;
  }
  *out = b ? 1 : 0;
  return 0;
}

/* True when every index off + r*ld + c (r < rows, c < cols) lies inside an array of len elements. */
static int span_ok(int64_t off, int64_t rows, int64_t cols, int64_t ld, size_t len) {
  if (rows == 0 || cols == 0) return off <= (int64_t)len;
  const double last = (double)off + (double)(rows - 1) * (double)ld + (double)(cols - 1);
  return last < (double)len;
}

/* gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc) */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 16) THROW_TYPE("ebm_native.gemm: expected 16 arguments");
  int ta, tb;
  int64_t m, n, k, aoff, lda, boff, ldb, coff, ldc;
  double alpha, beta;
  farr A, B, C;
  if (get_bool(env, argv[0], &ta) || get_bool(env, argv[1], &tb)) THROW_TYPE("ebm_native.gemm: bad transpose flag");
  if (get_i64(env, argv[2], &m, "m") || get_i64(env, argv[3], &n, "n") || get_i64(env, argv[4], &k, "k") ||
      get_f64(env, argv[5], &alpha, "alpha") || get_farr(env, argv[6], &A, "a", 0) ||
      get_i64(env, argv[7], &aoff, "aOff") || get_i64(env, argv[8], &lda, "lda") ||
      get_farr(env, argv[9], &B, "b", 0) || get_i64(env, argv[10], &boff, "bOff") ||
      get_i64(env, argv[11], &ldb, "ldb") || get_f64(env, argv[12], &beta, "beta") ||
      get_farr(env, argv[13], &C, "c", 0) || get_i64(env, argv[14], &coff, "cOff") ||
      get_i64(env, argv[15], &ldc, "ldc"))
    return NULL;
  if (A.f64 != B.f64 || A.f64 != C.f64)
    THROW_TYPE("ebm_native.gemm: a, b and c must all be Float32Array or all Float64Array");
  const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  if (m == 0 || n == 0) return NULL;
  if (!span_ok(coff, m, n, ldc, C.len))
    THROW_RANGE("ebm_native.gemm: c is too short for cOff + (m-1)*ldc + n");
  if (k > 0 && alpha != 0) {
    if (!span_ok(aoff, ar, ac, lda, A.len)) THROW_RANGE("ebm_native.gemm: a is too short for aOff, lda and op(A) shape");
    if (!span_ok(boff, br, bc, ldb, B.len)) THROW_RANGE("ebm_native.gemm: b is too short for bOff, ldb and op(B) shape");
  }
  int rc = 0;
#ifdef EBM_HAVE_OPENBLAS
  /* BLAS requires leading dimensions of at least the stored row length. */
  if (g_use_blas && k > 0 && alpha != 0 && (double)m * (double)n * (double)k >= EBM_BLAS_MIN_MNK &&
      lda >= (ac > 1 ? ac : 1) && ldb >= (bc > 1 ? bc : 1) && ldc >= (n > 1 ? n : 1) &&
      m <= 0x7fffffff && n <= 0x7fffffff && k <= 0x7fffffff && lda <= 0x7fffffff && ldb <= 0x7fffffff &&
      ldc <= 0x7fffffff) {
    const enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    if (C.f64)
      cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, alpha, (const double *)A.data + aoff, (int)lda,
                  (const double *)B.data + boff, (int)ldb, beta, (double *)C.data + coff, (int)ldc);
    else
      cblas_sgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, (float)alpha, (const float *)A.data + aoff,
                  (int)lda, (const float *)B.data + boff, (int)ldb, (float)beta, (float *)C.data + coff, (int)ldc);
    return NULL;
  }
#endif
  if (C.f64)
    rc = ebm_gemm_f64(ta, tb, m, n, k, alpha, (const double *)A.data + aoff, lda, (const double *)B.data + boff, ldb,
                      beta, (double *)C.data + coff, ldc);
  else
    rc = ebm_gemm_f32(ta, tb, m, n, k, (float)alpha, (const float *)A.data + aoff, lda, (const float *)B.data + boff,
                      ldb, (float)beta, (float *)C.data + coff, ldc);
  if (rc != 0) {
    napi_throw_error(env, NULL, "ebm_native.gemm: out of memory for packing buffers");
  }
  return NULL;
}

/* unary(code, x, out) */
static napi_value js_unary(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) THROW_TYPE("ebm_native.unary: expected (code, x, out)");
  int32_t op;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= EBM_U_COUNT)
    THROW_RANGE("ebm_native.unary: unknown op code");
  farr X, O;
  if (get_farr(env, argv[1], &X, "x", 0) || get_farr(env, argv[2], &O, "out", 0)) return NULL;
  if (X.f64 != O.f64) THROW_TYPE("ebm_native.unary: x and out must have the same element type");
  if (O.len < X.len) THROW_RANGE("ebm_native.unary: out is shorter than x");
  if (X.f64) ebm_unary_f64(op, (const double *)X.data, (double *)O.data, X.len);
  else ebm_unary_f32(op, (const float *)X.data, (float *)O.data, X.len);
  return NULL;
}

/* binary(code, a, b, out) */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) THROW_TYPE("ebm_native.binary: expected (code, a, b, out)");
  int32_t op;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= EBM_B_COUNT)
    THROW_RANGE("ebm_native.binary: unknown op code");
  farr A, B, O;
  if (get_farr(env, argv[1], &A, "a", 0) || get_farr(env, argv[2], &B, "b", 0) || get_farr(env, argv[3], &O, "out", 0))
    return NULL;
  if (A.f64 != B.f64 || A.f64 != O.f64) THROW_TYPE("ebm_native.binary: a, b and out must have the same element type");
  if (O.len < A.len) THROW_RANGE("ebm_native.binary: out is shorter than a");
  if (B.len != 1 && B.len < A.len && (B.len == 0 || A.len % B.len != 0))
    THROW_RANGE("ebm_native.binary: b must have length 1, at least a.length, or a length dividing a.length (row broadcast)");
  if (A.len == 0) return NULL;
  if (A.f64) ebm_binary_f64(op, (const double *)A.data, (const double *)B.data, B.len, (double *)O.data, A.len);
  else ebm_binary_f32(op, (const float *)A.data, (const float *)B.data, B.len, (float *)O.data, A.len);
  return NULL;
}

/* unaryGrad(code, x, y | null, g, out): out = g * f'(x) for the activations with a fused backward. */
static napi_value js_unary_grad(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) THROW_TYPE("ebm_native.unaryGrad: expected (code, x, y, g, out)");
  int32_t op;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= EBM_U_COUNT)
    THROW_RANGE("ebm_native.unaryGrad: unknown op code");
  farr X, Y, G, O;
  if (get_farr(env, argv[1], &X, "x", 0) || get_farr(env, argv[2], &Y, "y", 1) || get_farr(env, argv[3], &G, "g", 0) ||
      get_farr(env, argv[4], &O, "out", 0))
    return NULL;
  if (X.f64 != G.f64 || X.f64 != O.f64 || (Y.data && Y.f64 != X.f64))
    THROW_TYPE("ebm_native.unaryGrad: x, y, g and out must have the same element type");
  if (G.len < X.len || O.len < X.len || (Y.data && Y.len < X.len))
    THROW_RANGE("ebm_native.unaryGrad: y, g or out is shorter than x");
  int rc = X.f64 ? ebm_unary_grad_f64(op, (const double *)X.data, (const double *)Y.data, (const double *)G.data,
                                      (double *)O.data, X.len)
                 : ebm_unary_grad_f32(op, (const float *)X.data, (const float *)Y.data, (const float *)G.data,
                                      (float *)O.data, X.len);
  if (rc != 0) THROW_RANGE("ebm_native.unaryGrad: op has no fused backward");
  return NULL;
}

/* sumRows(x, rows, cols, out): out[j] = sum_i x[i*cols + j]. */
static napi_value js_sum_rows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) THROW_TYPE("ebm_native.sumRows: expected (x, rows, cols, out)");
  farr X, O;
  int64_t rows, cols;
  if (get_farr(env, argv[0], &X, "x", 0) || get_i64(env, argv[1], &rows, "rows") || get_i64(env, argv[2], &cols, "cols") ||
      get_farr(env, argv[3], &O, "out", 0))
    return NULL;
  if (X.f64 != O.f64) THROW_TYPE("ebm_native.sumRows: x and out must have the same element type");
  if ((double)rows * (double)cols > (double)X.len) THROW_RANGE("ebm_native.sumRows: x is shorter than rows*cols");
  if ((size_t)cols > O.len) THROW_RANGE("ebm_native.sumRows: out is shorter than cols");
  if (X.f64) ebm_sum_rows_f64((const double *)X.data, (size_t)rows, (size_t)cols, (double *)O.data);
  else ebm_sum_rows_f32((const float *)X.data, (size_t)rows, (size_t)cols, (float *)O.data);
  return NULL;
}

/* sigmoidBernoulli(x, bias | null, cols, prob, u | null, sample | null) */
static napi_value js_sigmoid_bernoulli(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) THROW_TYPE("ebm_native.sigmoidBernoulli: expected (x, bias, cols, prob, u, sample)");
  farr X, Bi, P, U, S;
  int64_t cols;
  if (get_farr(env, argv[0], &X, "x", 0) || get_farr(env, argv[1], &Bi, "bias", 1) ||
      get_i64(env, argv[2], &cols, "cols") || get_farr(env, argv[3], &P, "prob", 0) ||
      get_farr(env, argv[4], &U, "u", 1) || get_farr(env, argv[5], &S, "sample", 1))
    return NULL;
  const size_t n = X.len;
  if (P.f64 != X.f64 || (Bi.data && Bi.f64 != X.f64) || (U.data && U.f64 != X.f64) || (S.data && S.f64 != X.f64))
    THROW_TYPE("ebm_native.sigmoidBernoulli: all arrays must have the same element type");
  if (P.len < n) THROW_RANGE("ebm_native.sigmoidBernoulli: prob is shorter than x");
  if (n > 0 && cols == 0) THROW_RANGE("ebm_native.sigmoidBernoulli: cols must be positive");
  if (Bi.data && Bi.len < (size_t)cols && n > 0) THROW_RANGE("ebm_native.sigmoidBernoulli: bias has fewer than cols entries");
  const int do_sample = U.data && S.data;
  if (do_sample && (U.len < n || S.len < n)) THROW_RANGE("ebm_native.sigmoidBernoulli: u or sample is shorter than x");
  if (X.f64)
    ebm_sigmoid_bernoulli_f64((const double *)X.data, (const double *)Bi.data, (size_t)cols, (double *)P.data,
                              do_sample ? (const double *)U.data : NULL, do_sample ? (double *)S.data : NULL, n);
  else
    ebm_sigmoid_bernoulli_f32((const float *)X.data, (const float *)Bi.data, (size_t)cols, (float *)P.data,
                              do_sample ? (const float *)U.data : NULL, do_sample ? (float *)S.data : NULL, n);
  return NULL;
}

/* conv2d(kind, a, b, bias | null, out, n, c, h, w, o, kh, kw, sh, sw, ph, pw): kind 0 forward (a = x, b = filter,
 * out [N,O,OH,OW]), 1 input gradient (a = g [N,O,OH,OW], b = filter, out [N,C,H,W]), 2 filter gradient (a = x,
 * b = g, out [O,C,KH,KW]). The forward's bias has o entries (shared) or n*o (one row [O] per image). Overwrites out. */
static napi_value js_conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 16) THROW_TYPE("ebm_native.conv2d: expected 16 arguments");
  int32_t kind;
  if (napi_get_value_int32(env, argv[0], &kind) != napi_ok || kind < 0 || kind > 2)
    THROW_RANGE("ebm_native.conv2d: kind must be 0, 1 or 2");
  farr A, B, Bi, O;
  if (get_farr(env, argv[1], &A, "a", 0) || get_farr(env, argv[2], &B, "b", 0) || get_farr(env, argv[3], &Bi, "bias", 1) ||
      get_farr(env, argv[4], &O, "out", 0))
    return NULL;
  int64_t v[11];
  static const char *const names[11] = { "n", "c", "h", "w", "o", "kh", "kw", "sh", "sw", "ph", "pw" };
  for (int i = 0; i < 11; i++)
    if (get_i64(env, argv[5 + i], &v[i], names[i])) return NULL;
  if (A.f64 != B.f64 || A.f64 != O.f64 || (Bi.data && Bi.f64 != A.f64))
    THROW_TYPE("ebm_native.conv2d: all arrays must have the same element type");
  ebm_conv_geom g = { v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], 0, 0 };
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1) THROW_RANGE("ebm_native.conv2d: kernel and stride must be >= 1");
  if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw) THROW_RANGE("ebm_native.conv2d: kernel larger than padded input");
  g.oh = (g.h + 2 * g.ph - g.kh) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.kw) / g.sw + 1;
  const double X = (double)g.n * g.c * g.h * g.w, W = (double)g.o * g.c * g.kh * g.kw, Y = (double)g.n * g.o * g.oh * g.ow;
  const double la = kind == 1 ? Y : X, lb = kind == 2 ? Y : W, lo = kind == 0 ? Y : kind == 1 ? X : W;
  if ((double)A.len < la || (double)B.len < lb || (double)O.len < lo) THROW_RANGE("ebm_native.conv2d: an array is shorter than the geometry needs");
  if (Bi.data && (kind != 0 || ((double)Bi.len != (double)g.o && (double)Bi.len != (double)g.n * g.o)))
    THROW_RANGE("ebm_native.conv2d: bias must have o or n*o entries (forward only)");
  const int64_t bstride = Bi.data && (double)Bi.len == (double)g.n * g.o && g.n > 1 ? g.o : 0;
  int rc = A.f64 ? ebm_conv2d_f64(kind, &g, (const double *)A.data, (const double *)B.data, (const double *)Bi.data, bstride, (double *)O.data)
                 : ebm_conv2d_f32(kind, &g, (const float *)A.data, (const float *)B.data, (const float *)Bi.data, bstride, (float *)O.data);
  if (rc != 0) napi_throw_error(env, NULL, "ebm_native.conv2d: out of memory for scratch buffers");
  return NULL;
}

static napi_value str_array(napi_env env, const char *const *names, int count) {
  napi_value arr, s;
  if (napi_create_array_with_length(env, (size_t)count, &arr) != napi_ok) return NULL;
  for (int i = 0; i < count; i++) {
    napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, arr, (uint32_t)i, s);
  }
  return arr;
}

static void set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  if (v) napi_set_named_property(env, obj, key, v);
}

/* info() -> { blasLinked, blas, blasLibrary, blasCore, blasThreads, simd, threads, unaryOps, binaryOps } */
static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
#ifdef EBM_HAVE_OPENBLAS
  napi_get_boolean(env, true, &v);
  set_prop(env, obj, "blasLinked", v);
  napi_get_boolean(env, g_use_blas != 0, &v);
  set_prop(env, obj, "blas", v);
  const char *cfg = openblas_get_config();
  napi_create_string_utf8(env, cfg ? cfg : "OpenBLAS", NAPI_AUTO_LENGTH, &v);
  set_prop(env, obj, "blasLibrary", v);
  const char *core = openblas_get_corename();
  napi_create_string_utf8(env, core ? core : "", NAPI_AUTO_LENGTH, &v);
  set_prop(env, obj, "blasCore", v);
  napi_create_int32(env, openblas_get_num_threads(), &v);
  set_prop(env, obj, "blasThreads", v);
#else
  napi_get_boolean(env, false, &v);
  set_prop(env, obj, "blasLinked", v);
  set_prop(env, obj, "blas", v);
#endif
  napi_create_string_utf8(env, ebm_simd_name(), NAPI_AUTO_LENGTH, &v);
  set_prop(env, obj, "simd", v);
  napi_get_boolean(env, g_malloc_tuned != 0, &v);
  set_prop(env, obj, "mallocTuned", v);
  napi_create_int32(env, ebm_gemm_threads(), &v);
  set_prop(env, obj, "threads", v);
  set_prop(env, obj, "unaryOps", str_array(env, ebm_unary_names, EBM_U_COUNT));
  set_prop(env, obj, "binaryOps", str_array(env, ebm_binary_names, EBM_B_COUNT));
  napi_get_boolean(env, true, &v);
  set_prop(env, obj, "convSampleBias", v);
  return obj;
}

/* setUseBlas(flag) -> whether BLAS is now used (always false when the addon was built without it). */
static napi_value js_set_use_blas(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int flag = 1;
  if (argc >= 1) get_bool(env, argv[0], &flag);
#ifdef EBM_HAVE_OPENBLAS
  g_use_blas = flag;
#else
  (void)flag;
#endif
  napi_get_boolean(env, g_use_blas != 0, &r);
  return r;
}

/* setThreads(n) -> thread count of the bundled GEMM after the change. */
static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t t = 1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &t) != napi_ok) THROW_TYPE("ebm_native.setThreads: expected a number");
  ebm_gemm_set_threads(t);
  napi_create_int32(env, ebm_gemm_threads(), &r);
  return r;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Random kernels (native/philox.c). */

static int get_u32(napi_env env, napi_value v, uint32_t *out, const char *name) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 4294967295.0 || d != (double)(uint32_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "ebm_native: argument '%s' must be an integer in [0, 2^32)", name);
    napi_throw_range_error(env, NULL, msg);
    return -1;
  }
  *out = (uint32_t)d;
  return 0;
}

/* philoxFill(k0, k1, domain, out: Uint32Array, startWord) */
static napi_value js_philox_fill(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) THROW_TYPE("ebm_native.philoxFill: expected (k0, k1, domain, out, startWord)");
  uint32_t k0, k1, dom;
  int64_t start;
  if (get_u32(env, argv[0], &k0, "k0") || get_u32(env, argv[1], &k1, "k1") || get_u32(env, argv[2], &dom, "domain") ||
      get_i64(env, argv[4], &start, "startWord"))
    return NULL;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, argv[3], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint32_array)
    THROW_TYPE("ebm_native.philoxFill: argument 'out' must be a Uint32Array");
  if ((double)start + (double)len > 9007199254740991.0) THROW_RANGE("ebm_native.philoxFill: startWord + out.length exceeds 2^53 - 1");
  ebm_philox_fill(k0, k1, dom, (uint64_t)start, (uint32_t *)data, len);
  return NULL;
}

/* randomFill(kind, k0, k1, out, start): kind 0 = uniform (start = first element), 1 = normal (start = first pair). */
static napi_value js_random_fill(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) THROW_TYPE("ebm_native.randomFill: expected (kind, k0, k1, out, start)");
  int32_t kind;
  uint32_t k0, k1;
  int64_t start;
  farr O;
  if (napi_get_value_int32(env, argv[0], &kind) != napi_ok || kind < 0 || kind > 1)
    THROW_RANGE("ebm_native.randomFill: kind must be 0 (uniform) or 1 (normal)");
  if (get_u32(env, argv[1], &k0, "k0") || get_u32(env, argv[2], &k1, "k1") || get_farr(env, argv[3], &O, "out", 0) ||
      get_i64(env, argv[4], &start, "start"))
    return NULL;
  /* Highest stream word touched: uniform f32 start+n, f64 2(start+n); normal f32 2(start+pairs), f64 4(start+pairs). */
  const double words = (kind == 0 ? (double)start + (double)O.len : (double)start + (double)((O.len + 1) / 2)) * (O.f64 ? (kind ? 4.0 : 2.0) : (kind ? 2.0 : 1.0));
  if (words > 9007199254740991.0) THROW_RANGE("ebm_native.randomFill: the stream position exceeds 2^53 - 1");
  if (kind == 0) {
    if (O.f64) ebm_uniform_f64(k0, k1, (uint64_t)start, (double *)O.data, O.len);
    else ebm_uniform_f32(k0, k1, (uint64_t)start, (float *)O.data, O.len);
  } else {
    if (O.f64) ebm_normal_f64(k0, k1, (uint64_t)start, (double *)O.data, O.len);
    else ebm_normal_f32(k0, k1, (uint64_t)start, (float *)O.data, O.len);
  }
  return NULL;
}

/* randomMath(kind, x: Float64Array, out: Float64Array): 0 = log, 1 = sin(2 pi x), 2 = cos(2 pi x), with the
 * deterministic functions shared with the JS sampler (for tests). */
static napi_value js_random_math(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) THROW_TYPE("ebm_native.randomMath: expected (kind, x, out)");
  int32_t kind;
  farr X, O;
  if (napi_get_value_int32(env, argv[0], &kind) != napi_ok || kind < 0 || kind > 2)
    THROW_RANGE("ebm_native.randomMath: kind must be 0 (log), 1 (sin 2pi x) or 2 (cos 2pi x)");
  if (get_farr(env, argv[1], &X, "x", 0) || get_farr(env, argv[2], &O, "out", 0)) return NULL;
  if (!X.f64 || !O.f64) THROW_TYPE("ebm_native.randomMath: x and out must be Float64Array");
  if (O.len < X.len) THROW_RANGE("ebm_native.randomMath: out is shorter than x");
  const double *x = (const double *)X.data;
  double *o = (double *)O.data;
  for (size_t i = 0; i < X.len; i++) {
    if (kind == 0) o[i] = ebm_det_log(x[i]);
    else {
      double sn, cs;
      ebm_det_sincos2pi(x[i], &sn, &cs);
      o[i] = kind == 1 ? sn : cs;
    }
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  tune_malloc();
  napi_property_descriptor props[] = {
    { "gemm", NULL, js_gemm, NULL, NULL, NULL, napi_default, NULL },
    { "unary", NULL, js_unary, NULL, NULL, NULL, napi_default, NULL },
    { "binary", NULL, js_binary, NULL, NULL, NULL, napi_default, NULL },
    { "sigmoidBernoulli", NULL, js_sigmoid_bernoulli, NULL, NULL, NULL, napi_default, NULL },
    { "unaryGrad", NULL, js_unary_grad, NULL, NULL, NULL, napi_default, NULL },
    { "sumRows", NULL, js_sum_rows, NULL, NULL, NULL, napi_default, NULL },
    { "conv2d", NULL, js_conv2d, NULL, NULL, NULL, napi_default, NULL },
    { "info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL },
    { "setUseBlas", NULL, js_set_use_blas, NULL, NULL, NULL, napi_default, NULL },
    { "setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_default, NULL },
    { "philoxFill", NULL, js_philox_fill, NULL, NULL, NULL, napi_default, NULL },
    { "randomFill", NULL, js_random_fill, NULL, NULL, NULL, napi_default, NULL },
    { "randomMath", NULL, js_random_math, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
