#!/usr/bin/env bash
# VigilImaging's non-Swift checks: every DICOM file in the pydicom 3.0.2 wheel (and
# Tests/Fixtures/dicom) decoded by `vigil dicom` against pydicom at the stored, modality and VOI
# stages, then the DICOM reader fuzzed for VIGIL_DICOM_FUZZ_SECONDS (default 20).
#
# Assumes `swift build` already ran; VIGIL_BIN=<dir> picks another build's binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN_DIR="${VIGIL_BIN:-$(swift build --show-bin-path)}"
VIGIL="$BIN_DIR/vigil"
[ -x "$VIGIL" ] || { echo "imaging: $VIGIL not built" >&2; exit 1; }
PY=.venv/bin/python
"$PY" -c 'import pydicom, sys; sys.exit(pydicom.__version__ != "3.0.2")' || {
  echo "imaging: pydicom==3.0.2 missing from .venv (Tools/setup.sh installs Tools/requirements-test.txt)" >&2; exit 1; }

echo "== vigil dicom vs pydicom 3.0.2 (pydicom test files and Tests/Fixtures/dicom)"
"$PY" Tools/imaging/check_pydicom.py "$VIGIL"

echo "== fuzz the DICOM reader (${VIGIL_DICOM_FUZZ_SECONDS:-20} s)"
Tools/imaging/fuzz.sh "${VIGIL_DICOM_FUZZ_SECONDS:-20}"
