#!/usr/bin/env bash
# Builds CVigilKernels for AArch64 with aarch64-linux-gnu-gcc and runs the kernel parity test under
# qemu-aarch64 as a Cortex-A72 (NEON; no dot product, no i8mm) and as `max` (NEON, dot product and
# i8mm), on this machine (x86: generic, AVX2, AVX-VNNI, AVX512-VNNI, whichever it has) and, on x86,
# under qemu-x86_64 as a Haswell (generic and AVX2). Every
# variant must match the generic kernel bit for bit. Each line names the variants that ran and those
# the CPU lacks; the variants an emulated CPU has are required (VIGIL_PARITY_REQUIRE), so a
# detection bug fails the run instead of skipping a kernel. VIGIL_KERNELS_OUT sets the build folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in aarch64-linux-gnu-gcc qemu-aarch64 cc; do
  command -v "$tool" >/dev/null || { echo "test-arm: $tool not found; run Tools/setup.sh" >&2; exit 2; }
done
OUT="${VIGIL_KERNELS_OUT:-.build-kernels}"
mkdir -p "$OUT"
SRC=(Sources/CVigilKernels/cpu_features.c Sources/CVigilKernels/gemm_generic.c Sources/CVigilKernels/arm/gemm_neon.c Sources/CVigilKernels/arm/gemm_kn_neon.c
     Sources/CVigilKernels/arm/gemm_i8mm.c Sources/CVigilKernels/parallel.c
     Sources/CVigilKernels/x86/gemm_avx2.c Sources/CVigilKernels/x86/gemm_vnni.c Sources/CVigilKernels/x86/gemm_vnni_avx512.c Sources/CVigilKernels/x86/gemm_vnni_avx512_narrow.c Sources/CVigilKernels/x86/pack_quads_avx2.c Sources/CVigilKernels/x86/pack_quads_avx512.c
     Sources/CVigilKernels/depthwise_generic.c Sources/CVigilKernels/x86/depthwise_avx2.c
     Sources/CVigilKernels/x86/depthwise_avx512.c Sources/CVigilKernels/x86/depthwise_planes_avx2.c Sources/CVigilKernels/arm/depthwise_neon.c
     Sources/CVigilKernels/gemv_u8s8.c Sources/CVigilKernels/x86/gemv_vnni_avx512.c
     Sources/CVigilKernels/conv_direct_generic.c Sources/CVigilKernels/x86/conv_direct_vnni.c Sources/CVigilKernels/pool.c Sources/CVigilKernels/x86/pad_quads_avx2.c Sources/CVigilKernels/x86/conv_direct_avx512.c Sources/CVigilKernels/quantize.c Sources/CVigilKernels/add.c
     Sources/CVigilKernels/plan.c Tools/kernels/parity_test.c)
# Baseline armv8-a everywhere except the dot-product kernel, which is only called when the CPU has it
# (the i8mm kernel carries its own target attribute, so it builds with the rest).
aarch64-linux-gnu-gcc -O2 -march=armv8.2-a+dotprod -I Sources/CVigilKernels/include -c -o "$OUT/gemm_dotprod.o" \
  Sources/CVigilKernels/arm/gemm_dotprod.c
aarch64-linux-gnu-gcc -O2 -static -march=armv8-a -I Sources/CVigilKernels/include -o "$OUT/parity-aarch64" "${SRC[@]}" "$OUT/gemm_dotprod.o" -lm -pthread
cc -O2 -I Sources/CVigilKernels/include -o "$OUT/parity-host" "${SRC[@]}" Sources/CVigilKernels/arm/gemm_dotprod.c -lm -pthread
status=0
echo -n "host ($(uname -m)):     "; "$OUT/parity-host" || status=1
echo -n "qemu cortex-a72:  "; VIGIL_PARITY_REQUIRE=generic,neon qemu-aarch64 -cpu cortex-a72 "$OUT/parity-aarch64" || status=1
echo -n "qemu max:         "; VIGIL_PARITY_REQUIRE=generic,neon,dotprod,i8mm qemu-aarch64 -cpu max "$OUT/parity-aarch64" || status=1
# The AVX2 tier on any x86 host: QEMU 7.2 emulates a Haswell (AVX2, no VNNI), so the AVX2 kernels
# run here even where the host would pick a VNNI variant. (QEMU warns once per CPU feature TCG
# lacks; those lines are dropped.)
if [ "$(uname -m)" = x86_64 ] && command -v qemu-x86_64 >/dev/null; then
  echo -n "qemu Haswell:     "
  VIGIL_PARITY_REQUIRE=generic,avx2 qemu-x86_64 -cpu Haswell "$OUT/parity-host" 2> >(grep -v "TCG doesn't support requested feature" >&2) || status=1
fi
exit $status
