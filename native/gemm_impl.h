/*
 * Blocked GEMM template, included once per element type by gemm.c with these macros defined:
 *   T   element type (float / double)      VT  GCC vector of T, VBYTES wide      VL  lanes of VT
 *   SUF function-name suffix (f32 / f64)
 * Structure (Goto/BLIS style): C is cut into NC-column slabs; for each KC-deep slice of k, op(B) is packed into
 * NR-wide panels and op(A) (scaled by alpha) into MR-tall panels, so transposes cost nothing in the inner loop.
 * A register-blocked MR x NR micro-kernel accumulates in vector registers and adds its tile into C.
 */
#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUF)

#define MR 6
#define NV 2
#define NR (NV * VL)
#define KC 256
#define MC (MR * 16)
#define NC 3072

/* acc(MR x NR) = sum_p a[p][0..MR) x b[p][0..NR); then C[0..mr, 0..nr) += acc. */
static inline void FN(kernel)(int64_t kc, const T *restrict a, const T *restrict b, T *restrict c, int64_t ldc,
                              int mr, int nr) {
  VT acc[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = (VT){0};
  for (int64_t p = 0; p < kc; p++) {
    VT bv[NV];
    for (int v = 0; v < NV; v++) __builtin_memcpy(&bv[v], b + v * VL, sizeof(VT));
    for (int r = 0; r < MR; r++) {
      const VT ar = (VT){0} + a[r];
      for (int v = 0; v < NV; v++) acc[r][v] += ar * bv[v];
    }
    a += MR;
    b += NR;
  }
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; r++) {
      T *cr = c + r * ldc;
      for (int v = 0; v < NV; v++) {
        VT cv;
        __builtin_memcpy(&cv, cr + v * VL, sizeof(VT));
        cv += acc[r][v];
        __builtin_memcpy(cr + v * VL, &cv, sizeof(VT));
      }
    }
  } else {
    T tmp[MR * NR] __attribute__((aligned(64)));
    for (int r = 0; r < MR; r++)
      for (int v = 0; v < NV; v++) __builtin_memcpy(tmp + r * NR + v * VL, &acc[r][v], sizeof(VT));
    for (int r = 0; r < mr; r++)
      for (int j = 0; j < nr; j++) c[r * ldc + j] += tmp[r * NR + j];
  }
}

/* Packs alpha*op(A)[i0.., p0..] (mc x kc) into MR-row panels, zero-padding the last panel. */
static void FN(pack_a)(int ta, const T *a, int64_t lda, int64_t i0, int64_t p0, int64_t mc, int64_t kc, T alpha,
                       T *restrict dst) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int mr = (int)(mc - ir < MR ? mc - ir : MR);
    if (!ta) {
      const T *rows[MR];
      for (int r = 0; r < mr; r++) rows[r] = a + (i0 + ir + r) * lda + p0;
      for (int64_t p = 0; p < kc; p++) {
        int r = 0;
        for (; r < mr; r++) dst[r] = alpha * rows[r][p];
        for (; r < MR; r++) dst[r] = 0;
        dst += MR;
      }
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const T *src = a + (p0 + p) * lda + i0 + ir;
        int r = 0;
        for (; r < mr; r++) dst[r] = alpha * src[r];
        for (; r < MR; r++) dst[r] = 0;
        dst += MR;
      }
    }
  }
}

/* Packs op(B)[p0.., j0..] (kc x nc) into NR-column panels, zero-padding the last panel. */
static void FN(pack_b)(int tb, const T *b, int64_t ldb, int64_t p0, int64_t j0, int64_t kc, int64_t nc,
                       T *restrict dst) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int nr = (int)(nc - jr < NR ? nc - jr : NR);
    if (!tb) {
      for (int64_t p = 0; p < kc; p++) {
        const T *src = b + (p0 + p) * ldb + j0 + jr;
        int j = 0;
        if (nr == NR) {
          for (; j < NR; j++) dst[j] = src[j];
        } else {
          for (; j < nr; j++) dst[j] = src[j];
          for (; j < NR; j++) dst[j] = 0;
        }
        dst += NR;
      }
    } else {
      for (int j = 0; j < NR; j++) {
        if (j < nr) {
          const T *src = b + (j0 + jr + j) * ldb + p0;
          for (int64_t p = 0; p < kc; p++) dst[p * NR + j] = src[p];
        } else {
          for (int64_t p = 0; p < kc; p++) dst[p * NR + j] = 0;
        }
      }
      dst += kc * NR;
    }
  }
}

/* Scratch needed by one serial GEMM over n columns, in elements of T. */
static size_t FN(scratch_elems)(int64_t n) {
  int64_t nc = n < NC ? n : NC;
  nc = (nc + NR - 1) / NR * NR;
  return (size_t)(MC * KC) + (size_t)(KC * nc) + 64;
}

/* Serial GEMM: C (m x n) <- alpha op(A) op(B) + beta C, using scratch of scratch_elems(n) elements (64-aligned). */
static void FN(gemm_serial)(int ta, int tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t lda,
                            const T *b, int64_t ldb, T beta, T *c, int64_t ldc, T *scratch) {
  if (beta != (T)1) {
    for (int64_t i = 0; i < m; i++) {
      T *ci = c + i * ldc;
      if (beta == (T)0)
        for (int64_t j = 0; j < n; j++) ci[j] = 0;
      else
        for (int64_t j = 0; j < n; j++) ci[j] *= beta;
    }
  }
  if (alpha == (T)0 || k == 0 || m == 0 || n == 0) return;
  T *pa = scratch;
  T *pb = scratch + MC * KC;
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = n - jc < NC ? n - jc : NC;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = k - pc < KC ? k - pc : KC;
      FN(pack_b)(tb, b, ldb, pc, jc, kc, nc, pb);
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = m - ic < MC ? m - ic : MC;
        FN(pack_a)(ta, a, lda, ic, pc, mc, kc, alpha, pa);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = (int)(nc - jr < NR ? nc - jr : NR);
          const T *bp = pb + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = (int)(mc - ir < MR ? mc - ir : MR);
            FN(kernel)(kc, pa + ir * kc, bp, c + (ic + ir) * ldc + jc + jr, ldc, mr, nr);
          }
        }
      }
    }
  }
}

typedef struct {
  int ta, tb;
  int64_t m, n, k;
  T alpha, beta;
  const T *a, *b;
  T *c;
  int64_t lda, ldb, ldc;
  T *scratch;
} FN(job);

static void *FN(job_run)(void *arg) {
  FN(job) *j = (FN(job) *)arg;
  FN(gemm_serial)(j->ta, j->tb, j->m, j->n, j->k, j->alpha, j->a, j->lda, j->b, j->ldb, j->beta, j->c, j->ldc,
                  j->scratch);
  return NULL;
}

int FN(ebm_gemm)(int ta, int tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t lda, const T *b,
                 int64_t ldb, T beta, T *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return 0;
  int threads = ebm_gemm_threads();
  const double flops = 2.0 * (double)m * (double)n * (double)k;
  /* Split along the longer of m and n; each part must still fill whole micro-tiles. */
  const int split_n = n >= m;
  const int64_t extent = split_n ? n : m;
  const int64_t unit = split_n ? NR : MR;
  if (flops < EBM_PAR_MIN_FLOPS || k == 0) threads = 1;
  if (threads > extent / unit) threads = (int)(extent / unit);
  if (threads < 1) threads = 1;
  if (threads > EBM_MAX_THREADS) threads = EBM_MAX_THREADS;

  int64_t part = (extent + threads - 1) / threads;
  part = (part + unit - 1) / unit * unit;
  const size_t per = FN(scratch_elems)(split_n ? part : n);
  const size_t per_bytes = (per * sizeof(T) + 63) & ~(size_t)63;
  char *buf = (char *)ebm_scratch((size_t)threads * per_bytes);
  if (!buf) return -1;
  if (threads == 1) {
    FN(gemm_serial)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, (T *)buf);
    return 0;
  }
  FN(job) jobs[EBM_MAX_THREADS];
  void *args[EBM_MAX_THREADS];
  int nj = 0;
  for (int t = 0; t < threads; t++) {
    const int64_t s = (int64_t)t * part;
    if (s >= extent) break;
    const int64_t e = s + part < extent ? s + part : extent;
    FN(job) *j = &jobs[nj++];
    j->ta = ta; j->tb = tb; j->k = k; j->alpha = alpha; j->beta = beta;
    j->lda = lda; j->ldb = ldb; j->ldc = ldc;
    j->scratch = (T *)(buf + (size_t)t * per_bytes);
    if (split_n) {
      j->m = m; j->n = e - s;
      j->a = a;
      j->b = tb ? b + s * ldb : b + s;
      j->c = c + s;
    } else {
      j->m = e - s; j->n = n;
      j->a = ta ? a + s : a + s * lda;
      j->b = b;
      j->c = c + s * ldc;
    }
  }
  /* Job 0 runs on the calling thread, the others on the persistent pool (see ebm_parallel_run in gemm.c). */
  for (int t = 0; t < nj; t++) args[t] = &jobs[t];
  ebm_parallel_run(FN(job_run), args, nj);
  return 0;
}

/* Single-threaded entry for kernels that run their own threads (native/conv.c): scratch must hold
 * ebm_gemm_scratch_<T>(n) elements, 64-byte aligned. */
size_t FN(ebm_gemm_scratch)(int64_t n) { return FN(scratch_elems)(n); }
int FN(ebm_gemm_tile)(int which) { return which ? NR : MR; }
void FN(ebm_gemm_1t)(int ta, int tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t lda, const T *b,
                     int64_t ldb, T beta, T *c, int64_t ldc, T *scratch) {
  if (m <= 0 || n <= 0) return;
  FN(gemm_serial)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, scratch);
}

#undef MR
#undef NV
#undef NR
#undef KC
#undef MC
#undef NC
#undef FN
#undef CAT
#undef CAT2
