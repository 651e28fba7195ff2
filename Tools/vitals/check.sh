#!/usr/bin/env bash
# Vitals against independent oracles through the `vigil vitals` binary: R peaks on MIT-BIH 208
# vs neurokit2, pulse rate on heartpy's PPG recordings vs heartpy, respiration rate on
# neurokit2-simulated breathing, WFDB/EDF files written by wfdb/edfio. Prints what it measured;
# exits non-zero on a miss. VIGIL_BIN=<dir> picks the binaries (default: swift build --show-bin-path).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${VIGIL_BIN:-$(swift build --show-bin-path)}"
exec .venv/bin/python Tools/vitals/check_vitals.py "$BIN"
