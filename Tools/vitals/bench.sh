#!/usr/bin/env bash
# Vitals DSP throughput: 8 ECG channels at 500 Hz through the filter chain and the R-peak detector
# (ECGMonitor) on one core, release-built (-O, whole module) straight from the SensorLink and
# VigilSensors sources, so it needs no full release build of the package. Prints one JSON line;
# exits non-zero if the pipeline runs below MIN_X (default 100) times real time.
set -euo pipefail
cd "$(dirname "$0")/../.."
MIN_X="${MIN_X:-100}"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
swiftc -O -wmo -parse-as-library -module-name SensorLink -emit-module -emit-module-path "$T/SensorLink.swiftmodule" \
    -emit-object -o "$T/SensorLink.o" Sources/SensorLink/*.swift
swiftc -O -wmo -parse-as-library -module-name VigilSensors -I "$T" -emit-module -emit-module-path "$T/VigilSensors.swiftmodule" \
    -emit-object -o "$T/VigilSensors.o" $(find Sources/VigilSensors -name '*.swift' | sort)
swiftc -O -I "$T" Tools/vitals/bench/main.swift "$T/SensorLink.o" "$T/VigilSensors.o" -o "$T/vitals-bench"
out="$("$T/vitals-bench" Models/ecg-rhythm/data/mitbih-208-excerpt.npy 360 8 "${BENCH_SECONDS:-600}")"
echo "$out"
x="$(echo "$out" | sed -n 's/.*"x_realtime": \([0-9.]*\).*/\1/p')"
awk -v x="$x" -v m="$MIN_X" 'BEGIN { if (x + 0 < m + 0) { print "FAIL: " x "x real time < " m "x"; exit 1 } else { print "ok: " x "x real time (>= " m "x)" } }'
