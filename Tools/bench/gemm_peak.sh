#!/usr/bin/env bash
# Builds and runs gemm_peak.c: the convolution GEMM's throughput as a fraction of measured int8 peak.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .build-kernels
K=Sources/CVigilKernels
cc -O2 -I $K/include -o .build-kernels/gemm-peak Tools/bench/gemm_peak.c $K/cpu_features.c $K/gemm_generic.c $K/depthwise_generic.c \
  $K/x86/*.c $K/arm/gemm_neon.c $K/arm/gemm_dotprod.c
exec .build-kernels/gemm-peak
