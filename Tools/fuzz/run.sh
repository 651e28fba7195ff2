#!/usr/bin/env bash
# Fuzzes ModelReader.read and Interpreter(model:) (+ one invoke of small models) with libFuzzer
# and AddressSanitizer for SECONDS (default 60), from the fixed seed VIGIL_FUZZ_SEED (default 1, so
# the test command explores the same inputs first on every machine; set another to explore anew).
# Exits non-zero and prints the reproducer if
# libFuzzer finds a crash, leak, out-of-memory or timeout.
#
#   Tools/fuzz/run.sh [SECONDS]
#   Tools/fuzz/run.sh --repro FILE...     run the built target on files (no fuzzing)
#
# Work dir: .build-fuzz/ (git-ignored): objects, the fuzz-reader binary, the growing corpus
# (kept between runs) and artifacts/ (crash-*, oom-*, timeout-*, leak-*).
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=.build-fuzz
OBJ="$WORK/obj"
BIN="$WORK/fuzz-reader"
CORPUS="$WORK/corpus"
ART="$WORK/artifacts"
OPT="${VIGIL_FUZZ_OPT:--O}"   # -Onone gives Swift's trap messages in reports, at ~10x less speed
SAN=(-sanitize=fuzzer,address)
SWIFTC=(swiftc -swift-version 6 "$OPT" -g "${SAN[@]}" -parse-as-library)
mkdir -p "$OBJ" "$CORPUS" "$ART"

build() {
  local stamp="$OBJ/stamp" sources
  sources=$(ls Sources/VigilModel/*.swift $(find Sources/VigilRuntime -name '*.swift' | sort) Tools/fuzz/FuzzReader.swift "$0")
  local sum; sum=$( (echo "$OPT"; cat $sources) | sha256sum | cut -d' ' -f1)
  if [ -x "$BIN" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return; fi
  echo "fuzz: building ($OPT, ${SAN[*]})"
  # VigilModel, then VigilRuntime against it (-I), each one object from whole-module compilation.
  # VIGIL_OPENBLAS is deliberately not defined: the runtime uses its pure-Swift sgemm.
  "${SWIFTC[@]}" -module-name VigilModel -emit-module -emit-module-path "$OBJ/VigilModel.swiftmodule" \
    -wmo -c Sources/VigilModel/*.swift -o "$OBJ/VigilModel.o"
  "${SWIFTC[@]}" -module-name VigilRuntime -emit-module -emit-module-path "$OBJ/VigilRuntime.swiftmodule" \
    -I "$OBJ" -wmo -c $(find Sources/VigilRuntime -name '*.swift' | sort) -o "$OBJ/VigilRuntime.o"
  "${SWIFTC[@]}" -module-name FuzzReader -I "$OBJ" -wmo -c Tools/fuzz/FuzzReader.swift -o "$OBJ/FuzzReader.o"
  local ld=(); command -v ld.lld >/dev/null 2>&1 && ld=(-use-ld=lld)  # gold warns about every ASan symbol
  swiftc "${SAN[@]}" "${ld[@]}" "$OBJ/VigilModel.o" "$OBJ/VigilRuntime.o" "$OBJ/FuzzReader.o" -o "$BIN"
  echo "$sum" > "$stamp"
}

build

if [ "${1:-}" = "--repro" ]; then
  shift
  exec "$BIN" -runs=1 "$@"
fi

SECONDS_TO_RUN="${1:-60}"

# Seeds: the valid model, the malformed corpus, past findings, and the repository's small test models.
seeds=(Tests/Fixtures/valid/*.vigil Tests/Fixtures/malformed/*.vigil Tools/fuzz/regressions/*.vigil)
for f in Models/test/*.vigil; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] && seeds+=("$f")
done
for f in "${seeds[@]}"; do
  [ -f "$f" ] || continue
  cp "$f" "$CORPUS/seed-$(basename "$f")"
done

# Only new findings count: clear reproducers of earlier runs.
rm -f "$ART"/crash-* "$ART"/oom-* "$ART"/timeout-* "$ART"/leak-* "$ART"/slow-unit-*
LOG="$WORK/last-run.log"
echo "fuzz: ${SECONDS_TO_RUN}s, corpus $CORPUS ($(ls "$CORPUS" | wc -l) files), log $LOG"
status=0
"$BIN" "$CORPUS" \
  -max_total_time="$SECONDS_TO_RUN" -seed="${VIGIL_FUZZ_SEED:-1}" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
  -dict=Tools/fuzz/vigil.dict -use_value_profile=1 -print_final_stats=1 \
  -artifact_prefix="$ART/" > "$LOG" 2>&1 || status=$?

grep -E "^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)" "$LOG" || true
found=$(ls "$ART"/crash-* "$ART"/oom-* "$ART"/timeout-* "$ART"/leak-* 2>/dev/null || true)
if [ "$status" -ne 0 ] || [ -n "$found" ]; then
  echo "fuzz: FAILED (libFuzzer exit $status); report:"
  grep -n -A40 -E "ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|Fatal error|deadly signal" "$LOG" | head -80 || tail -60 "$LOG"
  for f in $found; do
    echo "fuzz: reproducer: $f ($(stat -c %s "$f") bytes); rerun with: Tools/fuzz/run.sh --repro $f"
  done
  exit 1
fi
echo "fuzz: no crash"
