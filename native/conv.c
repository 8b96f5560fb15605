/* Convolution kernels of ebm-ts: per-image im2col (and its adjoint col2im) feeding the packed single-threaded GEMM
 * of gemm.c, with the batch split over the GEMM worker pool. Layout: NCHW input, [O, C, KH, KW] filter, and each
 * image's patch matrix col[K][P] (K = C*KH*KW rows, P = OH*OW columns), so out_n[O][P] = W[O][K] col_n[K][P] lands
 * directly in NCHW order. A stride-1 convolution with fewer output than input channels runs each kind as another
 * kind of the flipped geometry (smaller patch matrix), and tiny products (K <= 16 or O <= 2) use plain loops instead
 * of the GEMM (conv_impl.h). Results are deterministic for a fixed thread count (filter-gradient partials are summed
 * in task order). */
#include "ebm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EBM_CONV_MAX_TASKS 16
/* Below this many flops a convolution runs on the calling thread (the pool hand-off costs ~10-50 us). */
#define EBM_CONV_PAR_MIN_FLOPS 2.0e6
/* Column block of the small-product loops (conv_impl.h small_fwd / small_dx): a few KiB per row, kept in L1. */
#define EBM_CONV_SMALL_BLOCK 512

#define T float
#define SUF f32
#include "conv_impl.h"
#undef T
#undef SUF

#define T double
#define SUF f64
#include "conv_impl.h"
#undef T
#undef SUF
