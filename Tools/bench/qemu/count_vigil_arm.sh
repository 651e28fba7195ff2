#!/usr/bin/env bash
# Guest instructions per inference of Vigil itself on aarch64, under qemu-aarch64 -cpu cortex-a72
# (NEON kernels) and -cpu cortex-a76 (dot-product kernels), next to the peers of count_arm.sh.
#
# Vigil here is the Embedded Swift core with the real ARM C kernels, linked with
# Tools/embedded/driver.c (Tools/embedded/build-a64-kernels.sh): there is no Swift SDK for aarch64
# Linux to build the `vigil` executable. Each model's output on each CPU is first required to equal
# the host's `vigil infer` bit for bit; then `driver --bench` is counted with insncount clock=1
# (count_vigil_arm.py says how). Models: .build-qemu/models/*.vigil, made by count_x86.sh/count_arm.sh.
#
#   Tools/bench/qemu/count_vigil_arm.sh [count_vigil_arm.py options...]   e.g. --only ecg_cnn_1d --runs 5,
#       --symbols 5 (the five hottest symbols of ours per model and CPU)
#   Tools/bench/qemu/count_vigil_arm.sh --ops [vigil_ops_arm.py options...]   per-operator counts,
#       e.g. --ops --only mobilenet_v2 --json .build-qemu/ops-arm.json (driver --ops; see vigil_ops_arm.py)
#
# Environment:
#   VIGIL_HOST           x86 vigil for the output check [.build-qemu/bin/vigil, else .build/release/vigil]
#   VIGIL_KERNELS_DIR    C kernel sources to build [Sources/CVigilKernels] (see build-a64-kernels.sh)
#   VIGIL_EMBEDDED_OUT   build directory [.build-embedded/a64-kernels]
# Peers: .build-qemu/count-arm-a72.json and count-arm-a76.json (count_arm.sh --json ...), if present.
# Needs no root: the driver is static and reads no /proc/cpuinfo (getauxval).
set -euo pipefail
cd "$(dirname "$0")/../../.."
command -v qemu-aarch64 >/dev/null || { echo "count_vigil_arm: qemu-aarch64 missing (apt-get install qemu-user)" >&2; exit 1; }
HOST=${VIGIL_HOST:-}
if [ -z "$HOST" ]; then
  for h in .build-qemu/bin/vigil .build/release/vigil; do [ -x "$h" ] && { HOST=$h; break; }; done
fi
[ -n "$HOST" ] && [ -x "$HOST" ] || { echo "count_vigil_arm: no host vigil; set VIGIL_HOST (swift build -c release --product vigil)" >&2; exit 1; }
OUT=${VIGIL_EMBEDDED_OUT:-.build-embedded/a64-kernels}
VIGIL_EMBEDDED_OUT=$OUT Tools/embedded/build-a64-kernels.sh >&2
PLUGIN="$(Tools/bench/qemu/build.sh)"
if [ "${1:-}" = --ops ]; then
  shift
  exec python3 Tools/bench/qemu/vigil_ops_arm.py --driver "$OUT/driver" --plugin "$PLUGIN" --host "$HOST" "$@"
fi
exec python3 Tools/bench/qemu/count_vigil_arm.py --driver "$OUT/driver" --plugin "$PLUGIN" --host "$HOST" \
  --peers cortex-a72=.build-qemu/count-arm-a72.json --peers cortex-a76=.build-qemu/count-arm-a76.json "$@"
