#!/usr/bin/env bash
# Builds and runs gemm_peak.c: the convolution GEMM's throughput as a fraction of the measured int8
# peak of the variant that runs (the best the CPU has; VIGIL_KERNEL=avx512vnni|avxvnni|avx2 forces one).
# Links every CVigilKernels source, so new kernel files need no change here. x86-64 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .build-kernels
K=Sources/CVigilKernels
# clang, as SwiftPM builds the kernels for the runtime (the Swift toolchain's, where none other is
# installed); gcc 12 kept the peak loop's 16 AVX2 chains on the stack and measured half the peak.
CC="${CC:-$(command -v clang || echo cc)}"
"$CC" -O2 -I $K/include -o .build-kernels/gemm-peak Tools/bench/gemm_peak.c $K/*.c $K/x86/*.c $K/arm/*.c -lm
exec .build-kernels/gemm-peak
