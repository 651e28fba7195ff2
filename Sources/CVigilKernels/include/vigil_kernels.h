// CVigilKernels: int8 micro-kernels and CPU feature detection. Operators use them through plans
// (vigil_plan.h), which choose among the kernels below per variant; the entry points here run the
// process-wide selected variant, for tests and tools.
// Every kernel here is bit-exact with the Swift reference operators in VigilRuntime and with the
// requantization rule of docs/FORMAT.md.
#ifndef VIGIL_KERNELS_H
#define VIGIL_KERNELS_H
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel variants. Which exist depends on the architecture the library was built for.
typedef enum {
    VIGIL_KERNEL_GENERIC = 0,
    VIGIL_KERNEL_AVX2 = 1,      // x86-64 with AVX2 (VPMADDWD: exact u8 x s8 dot steps, x86/dpbusd_avx2.h)
    VIGIL_KERNEL_NEON = 2,      // AArch64 Advanced SIMD (Cortex-A72: SMULL/SMLAL, SADALP)
    VIGIL_KERNEL_DOTPROD = 3,   // AArch64 with the dot-product extension (Cortex-A76: SDOT)
    VIGIL_KERNEL_AVXVNNI = 4,   // x86-64 with AVX-VNNI (VPDPBUSD on unsigned-shifted activations)
    VIGIL_KERNEL_AVX512VNNI = 5, // AVX512-VNNI/BW/VL (EVEX VPDPBUSD; AVX-VNNI not needed): 512-bit kernels
    VIGIL_KERNEL_I8MM = 6,      // AArch64 with the int8 matrix-multiply extension (SMMLA GEMM; the rest as dotprod)
    VIGIL_KERNEL_COUNT = 7
} vigil_kernel_variant;

/// The variant in use: the best the CPU supports, unless VIGIL_KERNEL=generic|avx2|avxvnni|avx512vnni|
/// neon|dotprod|i8mm names another supported one (for tests and benchmarks).
vigil_kernel_variant vigil_kernel_selected(void);
/// Forces a variant; returns 0 if the CPU (or this build) cannot run it.
int vigil_kernel_select(vigil_kernel_variant v);
/// 1 if this build and CPU can run `v`.
int vigil_kernel_supported(vigil_kernel_variant v);
/// 1 if the selected variant is x86 AVX2 or one that includes it (avxvnni, avx512vnni).
int vigil_kernel_has_avx2(void);
/// 1 if the selected variant has VPDPBUSD (avxvnni, avx512vnni).
int vigil_kernel_has_vnni(void);
/// A stable, human-readable name for a variant ("generic", "avx2", "avxvnni", "avx512vnni", "neon",
/// "dotprod", "i8mm").
const char *vigil_kernel_name(vigil_kernel_variant v);

/// Requantize one int32 accumulator (docs/FORMAT.md, "Requantization"):
/// clamp(zp + saturate_int32((acc * m + 2^(n-1)) >> n), lo, hi), m in [2^30, 2^31) or 0, n in [1, 62].
static inline int32_t vigil_requantize(int32_t acc, int32_t m, int32_t n, int32_t zp,
                                       int32_t lo, int32_t hi) {
    int64_t p = (int64_t)acc * (int64_t)m + ((int64_t)1 << (n - 1));
    int64_t v = p >> n;
    v = v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : v);
    v += zp;
    return (int32_t)(v < lo ? lo : (v > hi ? hi : v));
}

/// Requantization parameters of one output row (output channel).
typedef struct {
    const int32_t *bias;        // [rows] accumulator offsets (bias with the input zero point folded in)
    const int32_t *multiplier;  // [rows]
    const int32_t *shift;       // [rows]
    int32_t zero_point, lo, hi;
} vigil_requant_rows;

/// C[r * ldr + c * ldc] = requant_r(bias[r] + sum_k A[r*K + k] * B[c*K + k]) for r < rows, c < cols.
/// A and B are int8 with K contiguous; no alignment is required.
void vigil_gemm_s8(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                   const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc);

/// One input row (a fully connected layer on a single row) through u8 x s8 products:
/// C[r * ldr] = requant_r(bias[r] + sum_k A[r*K + k] * (b[k] + 128)), A and b int8 with K
/// contiguous. The caller folds -(zx + 128) * sum(A row) into bias (as for vigil_gemm_u8s8_k4), so
/// the result is that of vigil_gemm_s8 with bias - zx * sum. Fully connected plans (vigil_plan.h)
/// use it on AVX512-VNNI, where eight rows share each 64-byte step of the shifted input.
void vigil_gemv_u8s8(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q, int8_t *C,
                     ptrdiff_t ldr);
void vigil_gemv_u8s8_generic(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q,
                             int8_t *C, ptrdiff_t ldr);

/// Packs A [rows][K] int8 into pairs for vigil_gemm_s8_kn: P[r * ((K+1)/2) + i] holds A[r][2i] in
/// its low and A[r][2i+1] (0 past K) in its high 16 bits, both sign-extended. P has
/// rows * ((K + 1) / 2) entries.
void vigil_pack_pairs_s8(const int8_t *A, int rows, int K, int32_t *P);

/// C[r * ldc + c] = requant_r(bias[r] + sum_k A[r][k] * B[k * ldb + c]) with A packed by
/// vigil_pack_pairs_s8 — the layout of a convolution: B is the input plane of a 1x1 convolution
/// ([K = Cin][N = H*W], read in place) or an im2col buffer, C is NCHW. Convolution plans use it on
/// NEON, dotprod and i8mm (4x16 tiles with SMLAL); every x86 variant uses the quad GEMM below
/// (AVX2 through the exact VPMADDWD step of x86/dpbusd_avx2.h).
void vigil_gemm_s8_kn(const int32_t *Apairs, const int8_t *B, ptrdiff_t ldb, int rows, int cols, int K,
                      const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
void vigil_gemm_s8_kn_generic(const int32_t *Apairs, const int8_t *B, ptrdiff_t ldb, int rows, int cols, int K,
                              const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);

/// Convolution GEMM for VPDPBUSD-class steps (u8 x s8, four products per int32 lane, exact):
/// C[r * ldc + c] = requant_r(bias[r] + sum_k A[r][k] * U[k][c]) where U holds activations shifted
/// to unsigned (x + 128), laid out as [K4][cols][4] (K4 = ceil(K / 4), k = 4 * k4 + j), and A as
/// int32 quads [rows][K4] (weights k..k+3, zero past K). The caller folds -128 * sum(w) into bias.
void vigil_gemm_u8s8_k4(const int32_t *Aquads, const uint8_t *U, int rows, int cols, int K4,
                        const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
/// Packs the input of a 1x1 stride-1 convolution, X [channels][positions] int8 (row stride
/// `plane`), into U [ceil(channels/4)][positions][4] of x + 128 (missing channels: 0).
void vigil_pack_quads_u8(const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U);
void vigil_gemm_u8s8_k4_generic(const int32_t *Aquads, const uint8_t *U, int rows, int cols, int K4,
                                const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);

/// Geometry of a depthwise convolution over one image, NCHW (1D: height 1).
typedef struct {
    int channels, multiplier, in_h, in_w, out_h, out_w;
    int k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    int32_t input_zero_point;
} vigil_depthwise_geometry;

/// Depthwise convolution: output channel oc = c * multiplier + m reads input channel c with filter
/// W[oc] (k_h * k_w int8); acc = bias[oc] + sum (x - zx) * w over taps inside the input (padding
/// contributes nothing), then the row's requantization. The Swift reference is DepthwiseConvOp.
/// `scratch` holds vigil_depthwise_s8_scratch_bytes(g) bytes (any alignment; NULL when that is 0).
void vigil_depthwise_s8(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                        const vigil_requant_rows *q, void *scratch, int8_t *Y);
/// Scratch bytes of vigil_depthwise_s8 for this geometry, the same for every variant: the padded
/// input plane(s) of one channel and one flattened output plane when the shape has a vectorized
/// path (stride 1 or 2 in both directions, no horizontal dilation), else 0.
size_t vigil_depthwise_s8_scratch_bytes(const vigil_depthwise_geometry *g);
/// The portable reference (no scratch), for tests.
void vigil_depthwise_s8_generic(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                const vigil_requant_rows *q, int8_t *Y);

/// Direct convolution for VPDPBUSD-class instructions (no im2col buffer). The input is first copied
/// by vigil_conv_pad_rows_u8 or vigil_conv_pad_quads_u8 into a padded buffer of x + 128 (padding:
/// zx + 128) in which the four bytes of reduction quad k of output position p start at
/// base + p * pos_stride + offsets[k]. W holds the weight quads as [ceil(rows/16)][K4][16] int32
/// (row r of block b at lane r % 16; zero for rows past `rows` and for reduction terms that do not
/// exist). Computes Y[r * ldc + p] = requant_r(bias[r] + sum_k W quad * activation quad) for
/// r < rows, p < positions; the caller folds -(zx + 128) * sum(w) into bias, which makes padding
/// contribute nothing, as in the reference.
void vigil_conv_u8s8_direct(const int32_t *W, int rows, const uint8_t *base, ptrdiff_t pos_stride, int positions,
                            const int32_t *offsets, int K4, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
void vigil_conv_u8s8_direct_generic(const int32_t *W, int rows, const uint8_t *base, ptrdiff_t pos_stride,
                                    int positions, const int32_t *offsets, int K4, const vigil_requant_rows *q,
                                    int8_t *Y, ptrdiff_t ldc);
/// Copies X [channels][in_h][in_w] into P [channels][hp][wp] as x + 128, padded with `pad`:
/// P[c][r][col] = X[c][r - pad_top][col - pad_left] + 128 where that is inside X.
void vigil_conv_pad_rows_u8(const int8_t *X, int channels, int in_h, int in_w, int pad_top, int pad_left,
                            int hp, int wp, uint8_t pad, uint8_t *P);
/// Copies X [channels][in_h][in_w] into P [ceil(channels/4)][hp][wp][4] — four channels
/// interleaved per position — as x + 128, padded with `pad` (positions outside X, and channels
/// past `channels`).
void vigil_conv_pad_quads_u8(const int8_t *X, int channels, int in_h, int in_w, int pad_top, int pad_left,
                             int hp, int wp, uint8_t pad, uint8_t *P);
void vigil_conv_pad_quads_u8_generic(const int8_t *X, int channels, int in_h, int in_w, int pad_top, int pad_left,
                                     int hp, int wp, uint8_t pad, uint8_t *P);

/// Geometry of a pooling window over `planes` planes (N * C), NCHW (1D: height 1).
typedef struct {
    int planes, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
} vigil_pool_geometry;

/// int8 MaxPool: the maximum over the window's positions inside the input (padding never wins;
/// a window with none gives -128). The Swift reference is MaxPoolOp.
void vigil_maxpool_s8(const int8_t *X, const vigil_pool_geometry *g, int8_t *Y);
/// int8 GlobalAveragePool: Y[p] = requantize(sum(X[p][i] - zero_in), m, n, zero_out, -128, 127)
/// over the `area` elements of each plane (AveragePoolOp with the whole plane as window).
void vigil_global_avgpool_s8(const int8_t *X, int planes, int area, int32_t zero_in, int32_t m, int32_t n,
                             int32_t zero_out, int8_t *Y);

/// int8 Add of two same-shape tensors (AddOp, docs/FORMAT.md "Add"): Y[i] = clamp(zy +
/// (((A[i] - za) * ma + (B[i] - zb) * mb + 2^(n-1)) >> n), lo, hi) with 64-bit products, n in [1, 62].
void vigil_add_s8(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma, int64_t mb,
                  int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y);

/// float32 -> int8 Quantize with one scale: Y[i] = clamp(clamp(round_half_even(X[i] / scale),
/// -2^30, 2^30) + zero_point, lo, hi), NaN -> clamp(zero_point, lo, hi) (QuantizeOp's rule).
void vigil_quantize_f32_s8(const float *X, int n, float scale, int32_t zero_point, int32_t lo, int32_t hi, int8_t *Y);

// Variant entry points (tests call them directly to compare bit for bit).
void vigil_gemm_s8_generic(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                           const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc);

#ifdef __cplusplus
}
#endif
#endif
