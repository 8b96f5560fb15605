/* Bundled GEMM for ebm-ts: packing + register-blocked micro-kernel written with GCC vector extensions, so the
 * compiler emits AVX-512, AVX2/FMA, SSE or NEON code depending on the target flags (-march=native). */
#include "ebm.h"

#include <pthread.h>
#include <stdint.h>
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
/* Below this many flops a product runs on the calling thread. Measured on the 2-core dev box when threads were
 * started per call: a 512x128x128 product (16.8 Mflop) was faster serial in both CPU and wall time, 128x256x784
 * (51 Mflop) faster on 2 threads. */
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

/* A persistent pool of GEMM worker threads, started on first use and parked on a condition variable between
 * products: starting and joining fresh pthreads on every call cost tens of microseconds per product, a large share
 * of a 100x784x500 GEMM (~0.4 ms). One caller at a time owns the pool (a trylock); a concurrent caller (another Node
 * worker thread) falls back to fresh pthreads, so products never wait for each other. */
typedef void *(*ebm_task_fn)(void *);

static pthread_mutex_t pool_use = PTHREAD_MUTEX_INITIALIZER; /* held by the caller that owns the pool */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;  /* guards the fields below */
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static int pool_workers = 0;     /* workers started (ids 1..pool_workers) */
static unsigned long pool_gen = 0; /* incremented once per dispatched product */
static ebm_task_fn pool_fn = NULL;
static void *pool_args[EBM_MAX_THREADS];
static int pool_n = 0;           /* tasks 1..pool_n-1 go to workers with that id */
static int pool_pending = 0;     /* worker tasks not finished yet */
static unsigned long pool_start_gen[EBM_MAX_THREADS]; /* generation current when worker id was started */

static void *pool_main(void *arg) {
  const int id = (int)(intptr_t)arg;
  pthread_mutex_lock(&pool_mu);
  /* The generation at creation, not the current one: the product that started this worker may already have been
   * published (and must still be run) by the time the worker first takes the lock. */
  unsigned long seen = pool_start_gen[id];
  for (;;) {
    while (pool_gen == seen) pthread_cond_wait(&pool_work, &pool_mu);
    seen = pool_gen;
    if (id < pool_n) {
      ebm_task_fn fn = pool_fn;
      void *a = pool_args[id];
      pthread_mutex_unlock(&pool_mu);
      fn(a);
      pthread_mutex_lock(&pool_mu);
      if (--pool_pending == 0) pthread_cond_signal(&pool_done);
    }
  }
  return NULL;
}

/* Runs fn(args[i]) for i = 0..n-1 and returns when all are done: task 0 on the calling thread, the others on pool
 * workers (or on fresh pthreads when the pool is owned by another caller; inline if a thread cannot be started). */
static void ebm_parallel_run(ebm_task_fn fn, void **args, int n) {
  if (n <= 1) {
    if (n == 1) fn(args[0]);
    return;
  }
  if (pthread_mutex_trylock(&pool_use) != 0) {
    pthread_t tids[EBM_MAX_THREADS];
    int started[EBM_MAX_THREADS] = {0};
    for (int t = 1; t < n; t++) started[t] = pthread_create(&tids[t], NULL, fn, args[t]) == 0;
    fn(args[0]);
    for (int t = 1; t < n; t++) {
      if (started[t]) pthread_join(tids[t], NULL);
      else fn(args[t]);
    }
    return;
  }
  pthread_mutex_lock(&pool_mu);
  while (pool_workers < n - 1) {
    pthread_t t;
    pool_start_gen[pool_workers + 1] = pool_gen;
    if (pthread_create(&t, NULL, pool_main, (void *)(intptr_t)(pool_workers + 1)) != 0) break;
    pthread_detach(t);
    pool_workers++;
  }
  const int m = pool_workers + 1 < n ? pool_workers + 1 : n; /* tasks 1..m-1 on workers */
  pool_fn = fn;
  for (int i = 0; i < n; i++) pool_args[i] = args[i];
  pool_n = m;
  pool_pending = m - 1;
  pool_gen++;
  if (m > 1) pthread_cond_broadcast(&pool_work);
  pthread_mutex_unlock(&pool_mu);
  fn(args[0]);
  for (int i = m; i < n; i++) fn(args[i]); /* no worker for these: run them here */
  pthread_mutex_lock(&pool_mu);
  while (pool_pending > 0) pthread_cond_wait(&pool_done, &pool_mu);
  pthread_mutex_unlock(&pool_mu);
  pthread_mutex_unlock(&pool_use);
}

/* Public handle on the pool for other kernels (native/conv.c): same contract as ebm_parallel_run. */
void ebm_pool_run(void *(*fn)(void *), void **args, int n) { ebm_parallel_run(fn, args, n); }

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
