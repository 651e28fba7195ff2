#!/usr/bin/env bash
# Fuzzes the SensorLink stream decoder (FrameDecoder, Frame.decode, COBS) with libFuzzer and
# AddressSanitizer for SECONDS (default 30), seeded with Tests/Fixtures/sensorlink/*.bin. Exits
# non-zero and names the reproducer if libFuzzer finds a crash, a broken property (see
# FuzzDecoder.swift), a leak, an out-of-memory or a timeout.
#
#   Tools/sensorlink/fuzz.sh [SECONDS]
#   Tools/sensorlink/fuzz.sh --repro FILE...
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=.build-fuzz-sensorlink
BIN="$WORK/fuzz-decoder"
CORPUS="$WORK/corpus"
ART="$WORK/artifacts"
SAN=(-sanitize=fuzzer,address)
mkdir -p "$WORK/obj" "$CORPUS" "$ART"

mapfile -t SOURCES < <(find Sources/SensorLink -name '*.swift' | sort)
sum=$(cat "${SOURCES[@]}" Tools/sensorlink/FuzzDecoder.swift "$0" | sha256sum | cut -d' ' -f1)
if [ ! -x "$BIN" ] || [ "$(cat "$WORK/obj/stamp" 2>/dev/null)" != "$sum" ]; then
  echo "fuzz-sensorlink: building (-O, ${SAN[*]})"
  swiftc -swift-version 6 -O -g "${SAN[@]}" -parse-as-library -wmo -module-name SensorLink -emit-module \
    -emit-module-path "$WORK/obj/SensorLink.swiftmodule" -c "${SOURCES[@]}" -o "$WORK/obj/SensorLink.o"
  swiftc -swift-version 6 -O -g "${SAN[@]}" -parse-as-library -wmo -module-name FuzzDecoder -I "$WORK/obj" \
    -c Tools/sensorlink/FuzzDecoder.swift -o "$WORK/obj/FuzzDecoder.o"
  ld=(); command -v ld.lld >/dev/null 2>&1 && ld=(-use-ld=lld)
  swiftc "${SAN[@]}" "${ld[@]}" "$WORK/obj/SensorLink.o" "$WORK/obj/FuzzDecoder.o" -o "$BIN"
  echo "$sum" > "$WORK/obj/stamp"
fi

if [ "${1:-}" = "--repro" ]; then
  shift
  exec "$BIN" -runs=1 "$@"
fi

for f in Tests/Fixtures/sensorlink/*.bin; do cp "$f" "$CORPUS/seed-$(basename "$f")"; done
rm -f "$ART"/crash-* "$ART"/oom-* "$ART"/timeout-* "$ART"/leak-*
LOG="$WORK/last-run.log"
echo "fuzz-sensorlink: ${1:-30}s, corpus $CORPUS ($(ls "$CORPUS" | wc -l) files), log $LOG"
status=0
"$BIN" "$CORPUS" -max_total_time="${1:-30}" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$ART/" > "$LOG" 2>&1 || status=$?
grep -E "^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)" "$LOG" || true
found=$(ls "$ART"/crash-* "$ART"/oom-* "$ART"/timeout-* "$ART"/leak-* 2>/dev/null || true)
if [ "$status" -ne 0 ] || [ -n "$found" ]; then
  echo "fuzz-sensorlink: FAILED (libFuzzer exit $status)"
  grep -n -A30 -E "ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|Fatal error|deadly signal" "$LOG" | head -60 || tail -40 "$LOG"
  for f in $found; do echo "fuzz-sensorlink: reproducer: $f; rerun with: $0 --repro $f"; done
  exit 1
fi
echo "fuzz-sensorlink: no findings"
