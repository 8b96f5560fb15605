/* Convolution template, included once per element type by conv.c with T (float / double) and SUF (f32 / f64). */
#define CCAT2(a, b) a##_##b
#define CCAT(a, b) CCAT2(a, b)
#define CF(name) CCAT(name, SUF)

/* col[K][P] (row k at col + k*ld) <- patches of one image x[C][H][W] (zero outside the image). */
static void CF(im2col)(const ebm_conv_geom *g, const T *restrict x, T *restrict col, int64_t ld) {
  for (int64_t c = 0; c < g->c; c++) {
    const T *xc = x + c * g->h * g->w;
    for (int64_t i = 0; i < g->kh; i++) {
      for (int64_t j = 0; j < g->kw; j++) {
        T *row = col + ((c * g->kh + i) * g->kw + j) * ld;
        for (int64_t oy = 0; oy < g->oh; oy++) {
          const int64_t y = oy * g->sh - g->ph + i;
          T *dst = row + oy * g->ow;
          if (y < 0 || y >= g->h) {
            memset(dst, 0, (size_t)g->ow * sizeof(T));
            continue;
          }
          const T *src = xc + y * g->w;
          /* ox range with 0 <= ox*sw - pw + j < W */
          int64_t lo = 0, hi = g->ow;
          const int64_t off = j - g->pw;
          if (off < 0) lo = (-off + g->sw - 1) / g->sw;
          if (g->w - 1 - off < 0) hi = 0;
          else {
            const int64_t h2 = (g->w - 1 - off) / g->sw + 1;
            if (h2 < hi) hi = h2;
          }
          if (lo > hi) lo = hi;
          for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0;
          if (g->sw == 1) {
            const T *s = src + off;
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] = s[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * g->sw + off];
          }
          for (int64_t ox = hi; ox < g->ow; ox++) dst[ox] = 0;
        }
      }
    }
  }
}

/* x[C][H][W] += fold of col[K][P] (row k at col + k*ld; the adjoint of im2col); x must be zeroed by the caller. */
static void CF(col2im)(const ebm_conv_geom *g, const T *restrict col, T *restrict x, int64_t ld) {
  for (int64_t c = 0; c < g->c; c++) {
    T *xc = x + c * g->h * g->w;
    for (int64_t i = 0; i < g->kh; i++) {
      for (int64_t j = 0; j < g->kw; j++) {
        const T *row = col + ((c * g->kh + i) * g->kw + j) * ld;
        const int64_t off = j - g->pw;
        int64_t lo = 0, hi = g->ow;
        if (off < 0) lo = (-off + g->sw - 1) / g->sw;
        if (g->w - 1 - off < 0) hi = 0;
        else {
          const int64_t h2 = (g->w - 1 - off) / g->sw + 1;
          if (h2 < hi) hi = h2;
        }
        if (lo > hi) lo = hi;
        for (int64_t oy = 0; oy < g->oh; oy++) {
          const int64_t y = oy * g->sh - g->ph + i;
          if (y < 0 || y >= g->h) continue;
          T *dst = xc + y * g->w;
          const T *src = row + oy * g->ow;
          if (g->sw == 1) {
            T *d = dst + off;
            for (int64_t ox = lo; ox < hi; ox++) d[ox] += src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox * g->sw + off] += src[ox];
          }
        }
      }
    }
  }
}

/* Small products (K = C*KH*KW <= 16, e.g. a 1-channel input layer, or O <= 2 output channels, e.g. a score net's
 * output layer): the packed GEMM pads them to its MR x NR tiles and packs more than it multiplies, so plain
 * vectorisable loops over the nb*P columns run instead, in column blocks that stay in L1. */
/* out[r][p] (+)= sum_k w[r][k] col[k][p], r < O; out rows hold the bias already when has_bias. */
static void CF(small_fwd)(int64_t O, int64_t K, int64_t ld, const T *restrict w, const T *restrict col, T *restrict out, int has_bias) {
  for (int64_t p0 = 0; p0 < ld; p0 += EBM_CONV_SMALL_BLOCK) {
    const int64_t pn = ld - p0 < EBM_CONV_SMALL_BLOCK ? ld - p0 : EBM_CONV_SMALL_BLOCK;
    for (int64_t r = 0; r < O; r++) {
      T *restrict o = out + r * ld + p0;
      if (!has_bias) memset(o, 0, (size_t)pn * sizeof(T));
      for (int64_t k = 0; k < K; k++) {
        const T a = w[r * K + k];
        const T *restrict c = col + k * ld + p0;
        for (int64_t p = 0; p < pn; p++) o[p] += a * c[p];
      }
    }
  }
}

/* col[k][p] = sum_r w[r][k] g[r][p] (the input-gradient patch matrix), k < K. */
static void CF(small_dx)(int64_t O, int64_t K, int64_t ld, const T *restrict w, const T *restrict g, T *restrict col) {
  for (int64_t p0 = 0; p0 < ld; p0 += EBM_CONV_SMALL_BLOCK) {
    const int64_t pn = ld - p0 < EBM_CONV_SMALL_BLOCK ? ld - p0 : EBM_CONV_SMALL_BLOCK;
    for (int64_t k = 0; k < K; k++) {
      T *restrict c = col + k * ld + p0;
      const T a0 = w[k];
      const T *restrict g0 = g + p0;
      for (int64_t p = 0; p < pn; p++) c[p] = a0 * g0[p];
      for (int64_t r = 1; r < O; r++) {
        const T a = w[r * K + k];
        const T *restrict gr = g + r * ld + p0;
        for (int64_t p = 0; p < pn; p++) c[p] += a * gr[p];
      }
    }
  }
}

/* sum_p a[p] b[p] with 32 interleaved partial sums (vectorises without reassociation flags; fixed order). */
static T CF(dot)(const T *restrict a, const T *restrict b, int64_t n) {
  T acc[32];
  for (int j = 0; j < 32; j++) acc[j] = 0;
  int64_t p = 0;
  for (; p + 32 <= n; p += 32)
    for (int j = 0; j < 32; j++) acc[j] += a[p + j] * b[p + j];
  T s = 0;
  for (; p < n; p++) s += a[p] * b[p];
  for (int j = 0; j < 32; j++) s += acc[j];
  return s;
}

/* Filter gradient partial: dw[r][k] (trans: dwT[k][r]) (+)= sum_p g[r][p] col[k][p]. */
static void CF(small_dw)(int64_t O, int64_t K, int64_t ld, const T *restrict g, const T *restrict col, T *restrict part, int trans, int accumulate) {
  for (int64_t r = 0; r < O; r++)
    for (int64_t k = 0; k < K; k++) {
      const T v = CF(dot)(g + r * ld, col + k * ld, ld);
      T *dst = part + (trans ? k * O + r : r * K + k);
      *dst = accumulate ? *dst + v : v;
    }
}

typedef struct {
  int kind;
  int trans; /* kind 2: accumulate dw^T [K][O] (fewer padded micro-tiles for this shape) */
  int small; /* loops instead of the packed GEMM (see small_fwd) */
  const ebm_conv_geom *g;
  const T *a, *b, *bias;
  int64_t bias_stride; /* 0: bias [O]; O: bias [N][O] */
  T *out;
  int64_t n0, n1, nb; /* images [n0, n1), nb per GEMM */
  T *col;     /* K x (nb*P) patch matrix of nb images side by side */
  T *tmp;     /* O x (nb*P): forward output or gathered output gradient */
  T *gemm;    /* gemm scratch */
  T *partial; /* kind 2: O*K accumulator of this task */
} CF(conv_task);

/* Images are processed nb at a time: their patch matrices side by side make one wider GEMM (the filter is packed
 * once per nb images and the micro-kernel runs longer rows), measured 10-30% faster than one GEMM per image. */
static void *CF(conv_run)(void *arg) {
  CF(conv_task) *t = (CF(conv_task) *)arg;
  const ebm_conv_geom *g = t->g;
  const int64_t P = g->oh * g->ow, K = g->c * g->kh * g->kw, O = g->o, CHW = g->c * g->h * g->w;
  for (int64_t n = t->n0; n < t->n1; n += t->nb) {
    const int64_t b = t->n1 - n < t->nb ? t->n1 - n : t->nb, ld = b * P;
    if (t->kind == 0) {
      for (int64_t i = 0; i < b; i++) CF(im2col)(g, t->a + (n + i) * CHW, t->col + i * P, ld);
      if (t->bias)
        for (int64_t r = 0; r < O; r++) {
          T *row = t->tmp + r * ld;
          if (t->bias_stride == 0) {
            const T bv = t->bias[r];
            for (int64_t p = 0; p < ld; p++) row[p] = bv;
          } else
            for (int64_t i = 0; i < b; i++) {
              const T bv = t->bias[(n + i) * t->bias_stride + r];
              for (int64_t p = 0; p < P; p++) row[i * P + p] = bv;
            }
        }
      if (t->small) CF(small_fwd)(O, K, ld, t->b, t->col, t->tmp, t->bias != NULL);
      else CCAT(ebm_gemm_1t, SUF)(0, 0, O, ld, K, (T)1, t->b, K, t->col, ld, t->bias ? (T)1 : (T)0, t->tmp, ld, t->gemm);
      for (int64_t i = 0; i < b; i++)
        for (int64_t r = 0; r < O; r++) memcpy(t->out + ((n + i) * O + r) * P, t->tmp + r * ld + i * P, (size_t)P * sizeof(T));
    } else {
      /* Gather the output gradient of the nb images into tmp [O][nb*P]. */
      for (int64_t i = 0; i < b; i++)
        for (int64_t r = 0; r < O; r++) memcpy(t->tmp + r * ld + i * P, (t->kind == 1 ? t->a : t->b) + ((n + i) * O + r) * P, (size_t)P * sizeof(T));
      if (t->kind == 1) {
        if (t->small) CF(small_dx)(O, K, ld, t->b, t->tmp, t->col);
        else CCAT(ebm_gemm_1t, SUF)(1, 0, K, ld, O, (T)1, t->b, K, t->tmp, ld, (T)0, t->col, ld, t->gemm);
        for (int64_t i = 0; i < b; i++) {
          T *dx = t->out + (n + i) * CHW;
          memset(dx, 0, (size_t)CHW * sizeof(T));
          CF(col2im)(g, t->col + i * P, dx, ld);
        }
      } else {
        for (int64_t i = 0; i < b; i++) CF(im2col)(g, t->a + (n + i) * CHW, t->col + i * P, ld);
        const T beta = n == t->n0 ? (T)0 : (T)1;
        if (t->small) CF(small_dw)(O, K, ld, t->tmp, t->col, t->partial, t->trans, beta != (T)0);
        else if (t->trans) /* dw^T [K][O] += col tmp^T */
          CCAT(ebm_gemm_1t, SUF)(0, 1, K, O, ld, (T)1, t->col, ld, t->tmp, ld, beta, t->partial, O, t->gemm);
        else
          CCAT(ebm_gemm_1t, SUF)(0, 1, O, K, ld, (T)1, t->tmp, ld, t->col, ld, beta, t->partial, K, t->gemm);
      }
    }
  }
  if (t->kind == 2 && t->n1 <= t->n0) memset(t->partial, 0, (size_t)(O * K) * sizeof(T));
  return NULL;
}

/* Padded micro-tile area of an m x n GEMM: the work the bundled kernel really does. */
static double CF(tiles)(int64_t m, int64_t n) {
  const int64_t mr = CCAT(ebm_gemm_tile, SUF)(0), nr = CCAT(ebm_gemm_tile, SUF)(1);
  return (double)((m + mr - 1) / mr * mr) * (double)((n + nr - 1) / nr * nr);
}

/* The filter of the flipped geometry: wf[c][o][q] = w[o][c][KK-1-q] (channels transposed, kernel rotated 180
 * degrees), freshly allocated (NULL when out of memory). */
static T *CF(flip_filter)(const T *w, int64_t O, int64_t C, int64_t KK) {
  T *wf = (T *)malloc((size_t)(O * C * KK) * sizeof(T));
  if (!wf) return NULL;
  for (int64_t o = 0; o < O; o++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t q = 0; q < KK; q++) wf[(c * O + o) * KK + q] = w[(o * C + c) * KK + (KK - 1 - q)];
  return wf;
}

int CCAT(ebm_conv2d, SUF)(int kind, const ebm_conv_geom *g, const T *a, const T *b, const T *bias, int64_t bias_stride, T *out) {
  const int64_t N = g->n, P = g->oh * g->ow, K = g->c * g->kh * g->kw, O = g->o;
  if (N <= 0 || P <= 0) {
    if (kind == 2) memset(out, 0, (size_t)(O * K) * sizeof(T));
    else if (kind == 1) memset(out, 0, (size_t)(N * g->c * g->h * g->w) * sizeof(T));
    return 0;
  }
  /* A stride-1 input gradient with fewer output than input channels runs as the forward convolution of the output
   * gradient with the flipped, channel-transposed filter (padding kh-1-ph): dx[c][y][x] = sum_{o,i,j}
   * w[o][c][kh-1-i][kw-1-j] gpad[o][y-(kh-1-ph)+i][x-(kw-1-pw)+j]. Its patch matrix has O*kh*kw rows instead of
   * C*kh*kw and there is no col2im fold, so the memory traffic around the GEMM drops by C/O. */
  if (kind == 1 && g->sh == 1 && g->sw == 1 && g->ph <= g->kh - 1 && g->pw <= g->kw - 1 && O < g->c) {
    const int64_t C = g->c, KK = g->kh * g->kw;
    T *wf = CF(flip_filter)(b, O, C, KK);
    if (!wf) return -1;
    const ebm_conv_geom gt = { N, O, g->oh, g->ow, C, g->kh, g->kw, 1, 1, g->kh - 1 - g->ph, g->kw - 1 - g->pw, g->h, g->w };
    const int rc = CCAT(ebm_conv2d, SUF)(0, &gt, a, wf, NULL, 0, out);
    free(wf);
    return rc;
  }
  /* And a stride-1 forward with O < C is the input gradient of that flipped geometry (a GEMM into an O*kh*kw-row patch
   * matrix and its col2im fold, instead of im2col's C*kh*kw rows), then the bias. */
  if (kind == 0 && g->sh == 1 && g->sw == 1 && g->ph <= g->kh - 1 && g->pw <= g->kw - 1 && O < g->c) {
    const int64_t C = g->c, KK = g->kh * g->kw;
    T *wf = CF(flip_filter)(b, O, C, KK);
    if (!wf) return -1;
    const ebm_conv_geom gt = { N, O, g->oh, g->ow, C, g->kh, g->kw, 1, 1, g->kh - 1 - g->ph, g->kw - 1 - g->pw, g->h, g->w };
    const int rc = CCAT(ebm_conv2d, SUF)(1, &gt, a, wf, NULL, 0, out);
    free(wf);
    if (rc == 0 && bias)
      for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++) {
          const T bv = bias[n * bias_stride + o];
          T *row = out + (n * O + o) * P;
          for (int64_t p = 0; p < P; p++) row[p] += bv;
        }
    return rc;
  }
  /* Likewise a stride-1 filter gradient with O < C: with u = y + i - ph, dw[o][c][i][j] = sum_{n,u,v} x[c][u][v] *
   * gpad[o][u - (kh-1-ph) + (kh-1-i)][v - (kw-1-pw) + (kw-1-j)], the filter gradient of the flipped geometry above with
   * g as its input and x as its output gradient, read back flipped and transposed. Its patch matrix is im2col of g
   * (O*kh*kw rows) instead of x (C*kh*kw rows). */
  if (kind == 2 && g->sh == 1 && g->sw == 1 && g->ph <= g->kh - 1 && g->pw <= g->kw - 1 && O < g->c) {
    const int64_t C = g->c, KK = g->kh * g->kw;
    T *dt = (T *)malloc((size_t)(O * C * KK) * sizeof(T));
    if (!dt) return -1;
    const ebm_conv_geom gt = { N, O, g->oh, g->ow, C, g->kh, g->kw, 1, 1, g->kh - 1 - g->ph, g->kw - 1 - g->pw, g->h, g->w };
    const int rc = CCAT(ebm_conv2d, SUF)(2, &gt, b, a, NULL, 0, dt);
    if (rc == 0)
      for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++)
          for (int64_t q = 0; q < KK; q++) out[(o * C + c) * KK + q] = dt[(c * O + o) * KK + (KK - 1 - q)];
    free(dt);
    return rc;
  }
  const double flops = 2.0 * (double)N * (double)O * (double)K * (double)P;
  int tasks = ebm_gemm_threads();
  if (flops < EBM_CONV_PAR_MIN_FLOPS) tasks = 1;
  if (tasks > N) tasks = (int)N;
  if (tasks > EBM_CONV_MAX_TASKS) tasks = EBM_CONV_MAX_TASKS;
  if (tasks < 1) tasks = 1;
  /* Orientation: the transposed product when it pads clearly fewer micro-tiles (e.g. P = 49 columns, or K = 9). */
  int trans = 0;
  /* Measured (AVX-512, CPU time): the transposed forward was slower on P = 49 (its transposing copy and strided
   * filter packing cost more than the padding saved), so only the filter gradient switches. */
  /* The filter gradient prefers dw^T = col g^T unless it pads clearly more tiles: its transposed operand g is smaller
   * than col, so the strided packing of the transposed operand moves less data (1→32: 1.9 → 1.0 ms; 32→64 ~7%). */
  if (kind == 2) trans = CF(tiles)(K, O) <= 1.15 * CF(tiles)(O, K);
  const int small = K <= 16 || O <= 2;
  const int64_t chunk = (N + tasks - 1) / tasks;
  /* Images per GEMM: up to 8, keeping the patch matrix under ~2^19 elements. */
  int64_t nb = ((int64_t)1 << 19) / (K * P > 0 ? K * P : 1);
  if (nb > 8) nb = 8;
  if (nb > chunk) nb = chunk;
  if (nb < 1) nb = 1;
  int64_t gn = nb * P;
  if (K > gn) gn = K;
  if (O > gn) gn = O;
  const size_t col_e = ((size_t)(K * P * nb) + 15) & ~(size_t)15;
  const size_t tmp_e = ((size_t)(O * P * nb) + 15) & ~(size_t)15;
  const size_t gemm_e = (CCAT(ebm_gemm_scratch, SUF)(gn) + 15) & ~(size_t)15;
  const size_t part_e = kind == 2 ? (((size_t)(O * K) + 15) & ~(size_t)15) : 0;
  const size_t per = col_e + tmp_e + gemm_e + part_e;
  T *buf = NULL;
  if (posix_memalign((void **)&buf, 64, (size_t)tasks * per * sizeof(T)) != 0) return -1;
  CF(conv_task) jobs[EBM_CONV_MAX_TASKS];
  void *args[EBM_CONV_MAX_TASKS];
  for (int t = 0; t < tasks; t++) {
    CF(conv_task) *j = &jobs[t];
    j->kind = kind; j->trans = trans; j->small = small; j->g = g; j->a = a; j->b = b; j->bias = bias; j->bias_stride = bias_stride; j->nb = nb;
    j->n0 = (int64_t)t * chunk < N ? (int64_t)t * chunk : N;
    j->n1 = j->n0 + chunk < N ? j->n0 + chunk : N;
    T *base = buf + (size_t)t * per;
    j->col = base;
    j->tmp = base + col_e;
    j->gemm = base + col_e + tmp_e;
    j->partial = kind == 2 ? (t == 0 && !trans ? out : base + col_e + tmp_e + gemm_e) : NULL;
    j->out = out;
    args[t] = j;
  }
  ebm_pool_run(CF(conv_run), args, tasks);
  if (kind == 2) {
    if (trans) {
      /* out[o][k] = sum over tasks (in task order) of partial_t[k][o] */
      for (int64_t o = 0; o < O; o++)
        for (int64_t k = 0; k < K; k++) {
          T s = jobs[0].partial[k * O + o];
          for (int t = 1; t < tasks; t++) s += jobs[t].partial[k * O + o];
          out[o * K + k] = s;
        }
    } else {
      for (int t = 1; t < tasks; t++) {
        const T *p = jobs[t].partial;
        for (int64_t i = 0; i < O * K; i++) out[i] += p[i];
      }
    }
  }
  free(buf);
  return 0;
}

#undef CF
#undef CCAT
#undef CCAT2
