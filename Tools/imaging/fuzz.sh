#!/usr/bin/env bash
# Fuzzes the DICOM reader, pixel decoder and pipeline (VigilImaging) with libFuzzer and
# AddressSanitizer for SECONDS (default 60), from the fixed seed VIGIL_FUZZ_SEED (default 1).
# Exits non-zero and prints the reproducer on a crash, leak, out-of-memory or timeout.
#
#   Tools/imaging/fuzz.sh [SECONDS]
#   Tools/imaging/fuzz.sh --repro FILE...     run the built target on files (no fuzzing)
#
# Work dir: .build-fuzz-dicom/ (git-ignored): objects, the binary, the growing corpus and
# artifacts/. Seeds: Tests/Fixtures/dicom/*.dcm and, when the venv has pydicom, its small test files.
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=.build-fuzz-dicom
OBJ="$WORK/obj"
BIN="$WORK/fuzz-dicom"
CORPUS="$WORK/corpus"
ART="$WORK/artifacts"
OPT="${VIGIL_FUZZ_OPT:--O}"
SAN=(-sanitize=fuzzer,address)
SWIFTC=(swiftc -swift-version 6 "$OPT" -g "${SAN[@]}" -parse-as-library)
mkdir -p "$OBJ" "$CORPUS" "$ART"

build() {
  local stamp="$OBJ/stamp" sources
  sources=$(find Sources/VigilImaging -name '*.swift' | sort)
  local sum; sum=$( (echo "$OPT"; cat $sources Tools/imaging/FuzzDicom.swift "$0") | sha256sum | cut -d' ' -f1)
  if [ -x "$BIN" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return; fi
  echo "fuzz-dicom: building ($OPT, ${SAN[*]})"
  # VigilImaging as one object (whole-module), CZlib's module map from Sources/CZlib.
  "${SWIFTC[@]}" -module-name VigilImaging -emit-module -emit-module-path "$OBJ/VigilImaging.swiftmodule" \
    -I Sources/CZlib -wmo -c $sources -o "$OBJ/VigilImaging.o"
  "${SWIFTC[@]}" -module-name FuzzDicom -I "$OBJ" -I Sources/CZlib -wmo -c Tools/imaging/FuzzDicom.swift -o "$OBJ/FuzzDicom.o"
  local ld=(); command -v ld.lld >/dev/null 2>&1 && ld=(-use-ld=lld)
  swiftc "${SAN[@]}" "${ld[@]}" "$OBJ/VigilImaging.o" "$OBJ/FuzzDicom.o" -lz -o "$BIN"
  echo "$sum" > "$stamp"
}

build

if [ "${1:-}" = "--repro" ]; then
  shift
  exec "$BIN" -runs=1 "$@"
fi

SECONDS_TO_RUN="${1:-60}"

seeds=(Tests/Fixtures/dicom/*.dcm)
PYDICOM_FILES=".venv/lib/python3*/site-packages/pydicom/data/test_files"
for f in $PYDICOM_FILES/MR_small*.dcm $PYDICOM_FILES/rtdose_rle_1frame.dcm $PYDICOM_FILES/SC_rgb_small_odd*.dcm \
         $PYDICOM_FILES/image_dfl.dcm $PYDICOM_FILES/UN_sequence.dcm $PYDICOM_FILES/nested_priv_SQ.dcm; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] && seeds+=("$f")
done
for f in "${seeds[@]}"; do
  [ -f "$f" ] || continue
  cp "$f" "$CORPUS/seed-$(basename "$f")"
done

rm -f "$ART"/crash-* "$ART"/oom-* "$ART"/timeout-* "$ART"/leak-* "$ART"/slow-unit-*
LOG="$WORK/last-run.log"
echo "fuzz-dicom: ${SECONDS_TO_RUN}s, corpus $CORPUS ($(ls "$CORPUS" | wc -l) files), log $LOG"
status=0
"$BIN" "$CORPUS" \
  -max_total_time="$SECONDS_TO_RUN" -seed="${VIGIL_FUZZ_SEED:-1}" -max_len=65536 -timeout=20 -rss_limit_mb=2560 \
  -dict=Tools/imaging/dicom.dict -use_value_profile=1 -print_final_stats=1 \
  -artifact_prefix="$ART/" > "$LOG" 2>&1 || status=$?

grep -E "^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)" "$LOG" || true
found=$(ls "$ART"/crash-* "$ART"/oom-* "$ART"/timeout-* "$ART"/leak-* 2>/dev/null || true)
if [ "$status" -ne 0 ] || [ -n "$found" ]; then
  echo "fuzz-dicom: FAILED (libFuzzer exit $status); report:"
  grep -n -A40 -E "ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|Fatal error|deadly signal" "$LOG" | head -80 || tail -60 "$LOG"
  for f in $found; do
    echo "fuzz-dicom: reproducer: $f ($(stat -c %s "$f") bytes); rerun with: Tools/imaging/fuzz.sh --repro $f"
  done
  exit 1
fi
echo "fuzz-dicom: no crash"
