#!/usr/bin/env bash
# Static check of which VNNI encodings each x86 variant can execute. The avx512vnni variant is
# selected on CPUs with AVX512-VNNI/VL whether or not they have AVX-VNNI (the VEX encoding of
# VPDPBUSD: absent on Cascade Lake, Ice Lake server and Zen 4), so no function it reaches may hold
# a VEX VPDPBUSD. Compiles the x86 kernel files to objects and requires that
#   - every function holding a VEX-encoded VPDPBUSD is an avxvnni one (its name says so), and
#   - no avx512vnni function calls an avxvnni one.
# (The dispatchers choose by variant name; this pins the encodings behind those names.)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -m)" = x86_64 ] || { echo "check-isa: x86-64 only, skipped on $(uname -m)"; exit 0; }
OUT="${VIGIL_KERNELS_OUT:-.build-kernels}/isa"
mkdir -p "$OUT"
for f in Sources/CVigilKernels/*.c Sources/CVigilKernels/x86/*.c; do
  cc -O2 -c -I Sources/CVigilKernels/include -o "$OUT/$(basename "$f" .c).o" "$f"
done
objdump -d --no-show-raw-insn "$OUT"/*.o > "$OUT/kernels.dis"
awk '
  /^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn) }
  /vpdpbusd/ { if ($0 ~ /\{vex\}/) vex[fn]++; else evex[fn]++ }
  /call/ && /avxvnni/ && fn ~ /avx512/ { bad = bad "\n  " fn " calls an avxvnni function: " $0 }
  END {
    for (f in vex) if (f !~ /avxvnni/) bad = bad "\n  " f " holds " vex[f] " VEX VPDPBUSD but is not an avxvnni function"
    nv = 0; ne = 0
    for (f in vex) nv++
    for (f in evex) ne++
    if (nv == 0 || ne == 0) bad = bad "\n  no VEX (" nv ") or no EVEX (" ne ") VPDPBUSD found at all: the check is not seeing the kernels"
    if (bad != "") { print "check-isa: FAILED" bad; exit 1 }
    printf "check-isa: VEX VPDPBUSD only in %d avxvnni functions; EVEX in %d functions; avx512vnni calls no avxvnni code\n", nv, ne
  }' "$OUT/kernels.dis"
