/* Bundled GEMM for ebm-ts: packing + register-blocked micro-kernel written with GCC vector extensions, so the
 * compiler emits AVX-512, AVX2/FMA, SSE or NEON code depending on the target flags (-march=native). */
#include "ebm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__AVX512F__)
#define VBYTES 64
#define SIMD_NAME "avx512f"
#elif defined(__AVX2__) && defined(__FMA__)
#define VBYTES 32
#define SIMD_NAME "avx2+fma"
#elif defined(__AVX__)
#define VBYTES 32
#define SIMD_NAME "avx"
#elif defined(__ARM_NEON)
#define VBYTES 16
#define SIMD_NAME "neon"
#elif defined(__SSE2__)
#define VBYTES 16
#define SIMD_NAME "sse2"
#else
#define VBYTES 16
#define SIMD_NAME "generic"
#endif

#define EBM_MAX_THREADS 16
/* Below this many flops a product runs on the calling thread. Threads are started per call (~20-50 us idle, far
 * more on a loaded machine); measured on the 2-core dev box, a 512x128x128 product (16.8 Mflop) was faster serial
 * in both CPU and wall time, 128x256x784 (51 Mflop) faster on 2 threads. */
#define EBM_PAR_MIN_FLOPS 3.0e7

typedef float vf32 __attribute__((vector_size(VBYTES)));
typedef double vf64 __attribute__((vector_size(VBYTES)));

const char *ebm_simd_name(void) { return SIMD_NAME; }

static int g_threads = 0; /* 0 = not yet decided */

int ebm_gemm_threads(void) {
  if (g_threads <= 0) {
    int t = 1;
    const char *env = getenv("EBM_NUM_THREADS");
    if (env && *env) t = atoi(env);
    else {
      long n = sysconf(_SC_NPROCESSORS_ONLN);
      t = n > 0 ? (int)n : 1;
    }
    if (t < 1) t = 1;
    if (t > EBM_MAX_THREADS) t = EBM_MAX_THREADS;
    g_threads = t;
  }
  return g_threads;
}

void ebm_gemm_set_threads(int t) {
  if (t < 1) t = 1;
  if (t > EBM_MAX_THREADS) t = EBM_MAX_THREADS;
  g_threads = t;
}

/* Per-calling-thread scratch (Node worker threads each get their own), grown on demand and then reused. */
static _Thread_local void *tl_buf = NULL;
static _Thread_local size_t tl_cap = 0;

static void *ebm_scratch(size_t bytes) {
  if (bytes <= tl_cap) return tl_buf;
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes) != 0) return NULL;
  free(tl_buf);
  tl_buf = p;
  tl_cap = bytes;
  return p;
}

#define T float
#define VT vf32
#define VL (VBYTES / 4)
#define SUF f32
#include "gemm_impl.h"
#undef T
#undef VT
#undef VL
#undef SUF

#define T double
#define VT vf64
#define VL (VBYTES / 8)
#define SUF f64
#include "gemm_impl.h"
#undef T
#undef VT
#undef VL
#undef SUF
