#!/usr/bin/env bash
# Guest instructions per inference, Vigil int8 against ONNX Runtime and LiteRT int8, on the
# reference models of Tools/bench/compare.py, under qemu-x86_64 -cpu Haswell (the AVX2 tier).
# See count.py's docstring for what is counted and how.
#
#   Tools/bench/qemu/count_x86.sh [count.py options...]      e.g. --only mlp --repeat 2 -v
#   VIGIL_BIN=DIR Tools/bench/qemu/count_x86.sh ...          vigil/vigil-convert from DIR
#
# VIGIL_BIN defaults to .build-qemu/bin (copies of release binaries, so a rebuild of .build/release
# in the middle of a count does not change what is counted). Needs qemu-user (apt-get install
# qemu-user) and the bench venv (.venv-bench, made by Tools/bench/run.sh). Single-threaded only.
set -euo pipefail
cd "$(dirname "$0")/../../.."
command -v qemu-x86_64 >/dev/null || { echo "count_x86: qemu-x86_64 missing (apt-get install qemu-user)" >&2; exit 1; }
VENV="${BENCH_VENV:-.venv-bench}"
[ -x "$VENV/bin/python" ] || { echo "count_x86: no $VENV; run Tools/bench/run.sh once to create it" >&2; exit 1; }
BIN="${VIGIL_BIN:-.build-qemu/bin}"
[ -x "$BIN/vigil" ] && [ -x "$BIN/vigil-convert" ] || { echo "count_x86: no vigil/vigil-convert in $BIN (copy them from .build/release)" >&2; exit 1; }
PLUGIN="$(Tools/bench/qemu/build.sh)"
exec nice -n 10 "$VENV/bin/python" Tools/bench/qemu/count.py --bins "$BIN" --plugin "$PLUGIN" --qemu qemu-x86_64 --cpu Haswell "$@"
