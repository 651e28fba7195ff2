#!/usr/bin/env bash
# Checks insncount against a loop of known instruction count (selftest.c), on x86_64 and, if clang
# (e.g. the Swift toolchain's) can target aarch64, on aarch64 too. Prints the intervals and PASS/FAIL.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PLUGIN="$(Tools/bench/qemu/build.sh)"
OUT="${QEMU_BUILD:-.build-qemu}"
flags=(-O2 -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie)
gcc "${flags[@]}" -o "$OUT/selftest-x86_64" Tools/bench/qemu/selftest.c
targets=("x86_64 Haswell")
CLANG="$(command -v clang || ls /opt/swift/usr/bin/clang 2>/dev/null || true)"
if [ -n "$CLANG" ] && "$CLANG" --target=aarch64-linux-gnu -fuse-ld=lld "${flags[@]}" -o "$OUT/selftest-aarch64" Tools/bench/qemu/selftest.c 2>/dev/null; then
  targets+=("aarch64 cortex-a76")
fi
status=0
for t in "${targets[@]}"; do
  set -- $t
  qemu-"$1" -cpu "$2" -plugin "$PLUGIN,out=$OUT/selftest-$1.json" "$OUT/selftest-$1" 2>/dev/null
  python3 - "$1" "$OUT/selftest-$1.json" <<'PY' || status=1
import json, sys
r = json.load(open(sys.argv[2]))
ns = [1, 10, 1000, 1000000, 1000000]   # selftest.c
d = r["deltas"]
c = {x - 4 * n for x, n in zip(d, ns)}
ok = len(d) == len(ns) and len(c) == 1 and r["unmatched_markers"] == 0
print(f"{sys.argv[1]}: intervals {d} = 4*N + {sorted(c)}: {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
done
exit $status
