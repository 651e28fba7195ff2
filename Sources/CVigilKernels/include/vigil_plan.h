// CVigilKernels: prepared operators ("plans"). A plan is made once, when an interpreter prepares a
// model, and run on every invocation, in the spirit of tflite-micro's Prepare/Eval:
//   size_t n = vigil_conv_plan_bytes(&params, W, variant);   // the caller allocates n bytes,
//   vigil_conv_plan_init(plan, n, &params, W, bias, m, s, variant);  // 64-byte aligned
//   size_t s = vigil_conv_plan_scratch_bytes(plan, threads);  // scratch for up to `threads` threads
//   vigil_conv_run(plan, X, W, scratch, Y, pool);              // per invocation, any number of times
// Init chooses the kernel path for the variant (`variant` is normally vigil_kernel_selected(); a
// plan runs the variant it was made for, whatever is selected later), packs the weights into that
// path's layout, folds the input zero point (and the unsigned shift of the u8 x s8 paths) into the
// bias and computes per-geometry tables. Run does arithmetic and layout copies only: no
// allocation, no lock, no process-wide state. A plan holds no pointers (offsets into itself), so the
// caller may keep it in any 64-byte aligned memory; it keeps no reference to the arrays given to init.
// Run takes the weights again (the model's constant tensor, unchanged since init): paths that read
// them as they are (depthwise, the portable GEMM) do so there rather than keeping a second copy;
// packed layouts live in the plan.
// Every result is bit-exact with the Swift reference operators (ConvOp, DepthwiseConvOp,
// FullyConnectedOp with the kernels off).
#ifndef VIGIL_PLAN_H
#define VIGIL_PLAN_H
#include "vigil_kernels.h"
#include "vigil_parallel.h"

#ifdef __cplusplus
extern "C" {
#endif

/// An int8 convolution, NCHW (1D: height 1): W [out_channels][in_channels / groups][k_h][k_w] int8
/// symmetric per output channel, bias int32 (NULL: zeros), acc = bias + sum (x - zx) * w over the
/// taps inside the input, then the row's requantization (vigil_requantize) to [lo, hi].
typedef struct {
    int batch, in_channels, in_h, in_w, out_channels, out_h, out_w;
    int k_h, k_w, stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left, pad_bottom, pad_right;
    int groups;
    int32_t input_zero_point, output_zero_point, lo, hi;
} vigil_conv_params;

/// Bytes of a plan for p with weights W on variant v; 0 if p is not a valid convolution (sizes,
/// groups). The weights take part in choosing the path (pass the same to init).
size_t vigil_conv_plan_bytes(const vigil_conv_params *p, const int8_t *W, vigil_kernel_variant v);
/// Prepares the plan in `plan` (64-byte aligned, `bytes` from vigil_conv_plan_bytes). multiplier and
/// shift: per output channel (docs/FORMAT.md "Requantization"). Returns 1, or 0 when p is invalid,
/// v is not supported here, or bytes is too small.
int vigil_conv_plan_init(void *plan, size_t bytes, const vigil_conv_params *p, const int8_t *W, const int32_t *bias,
                         const int32_t *multiplier, const int32_t *shift, vigil_kernel_variant v);
/// Scratch bytes vigil_conv_run needs with a pool of `threads` threads (0: none).
size_t vigil_conv_plan_scratch_bytes(const void *plan, int threads);
/// The variant the plan runs, and its path: "direct" (padded input, no im2col), "quads" (u8 x s8
/// GEMM on the quad layout; 1x1 convolutions read their input packed, others through im2col),
/// "columns" (s8 GEMM over [K][positions]), "rows" (im2col [positions][K] and the s8 GEMM),
/// "depthwise" (one input channel: the depthwise kernel with multiplier out_channels), "sdot"
/// (signed quads and SDOT), "lanes" (1x1 by SMLAL by lane, input in place) or "nhwc" (a
/// channel-last copy, SMULL/SMLAL2/SADALP).
vigil_kernel_variant vigil_conv_plan_variant(const void *plan);
const char *vigil_conv_plan_path(const void *plan);
/// Y [batch][out_channels][out_h][out_w] from X [batch][in_channels][in_h][in_w]. `scratch`: at
/// least vigil_conv_plan_scratch_bytes(plan, vigil_pool_threads(pool)) bytes, any alignment.
void vigil_conv_run(const void *plan, const int8_t *X, const int8_t *W, void *scratch, int8_t *Y, vigil_pool *pool);

/// A depthwise convolution (weights [channels * multiplier][k_h * k_w]; see vigil_depthwise_s8) over
/// `batch` images.
size_t vigil_depthwise_plan_bytes(const vigil_depthwise_geometry *g, int batch, vigil_kernel_variant v);
int vigil_depthwise_plan_init(void *plan, size_t bytes, const vigil_depthwise_geometry *g, int batch, const int8_t *W,
                              const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int32_t zero_point,
                              int32_t lo, int32_t hi, vigil_kernel_variant v);
size_t vigil_depthwise_plan_scratch_bytes(const void *plan, int threads);
vigil_kernel_variant vigil_depthwise_plan_variant(const void *plan);
/// "planes" (padded channel planes, vectorized) or "taps" (per-tap loops).
const char *vigil_depthwise_plan_path(const void *plan);
void vigil_depthwise_run(const void *plan, const int8_t *X, const int8_t *W, void *scratch, int8_t *Y, vigil_pool *pool);

/// A fully connected layer: Y [m][n] = requant(bias + sum_k (X[i][k] - zx) * W[j][k]), W [n][k] int8.
typedef struct {
    int m, n, k;
    int32_t input_zero_point, output_zero_point, lo, hi;
} vigil_fc_params;

size_t vigil_fc_plan_bytes(const vigil_fc_params *p, vigil_kernel_variant v);
int vigil_fc_plan_init(void *plan, size_t bytes, const vigil_fc_params *p, const int8_t *W, const int32_t *bias,
                       const int32_t *multiplier, const int32_t *shift, vigil_kernel_variant v);
vigil_kernel_variant vigil_fc_plan_variant(const void *plan);
/// "gemv" (one row, u8 x s8 steps) or "gemm".
const char *vigil_fc_plan_path(const void *plan);
/// No scratch. With a pool the output features are split across its threads.
void vigil_fc_run(const void *plan, const int8_t *X, const int8_t *W, int8_t *Y, vigil_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
