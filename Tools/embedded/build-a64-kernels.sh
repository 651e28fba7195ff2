#!/usr/bin/env bash
# Builds the int8 core (Sources/VigilModel, Sources/VigilRuntime) as Embedded Swift for
# aarch64-none-none-elf WITH the C kernels (Sources/CVigilKernels), links it with driver.c into one
# static-pie aarch64 Linux executable, and optionally runs a model under qemu-aarch64.
#
# run-qemu.sh builds the same core without CVigilKernels, so `#if canImport(CVigilKernels)` is false
# there and every operator runs its Swift reference twin. Here the C module is importable (a
# module map generated in the build folder, as SwiftPM does) and the kernels are compiled as
# Tools/kernels/test-arm.sh compiles them: baseline -march=armv8-a, gemm_dotprod.c alone with
# +dotprod. The variant is picked at run time (getauxval), so one binary runs NEON on
# -cpu cortex-a72, dotprod on cortex-a76 and i8mm on max.
#
# Usage: build-a64-kernels.sh                                   build; the driver is $OUT/driver
#        build-a64-kernels.sh MODEL.vigil INPUT.f32 EXPECTED.f32  build, then run under cortex-a72,
#                                    cortex-a76 and max and require output bytes equal to EXPECTED
# (.f32 files as in run-qemu.sh). The driver's bench mode (driver.c) is what
# Tools/bench/qemu/count_vigil_arm.sh counts.
#
# Environment (defaults in brackets):
#   VIGIL_EMBEDDED_OUT   build directory [.build-embedded/a64-kernels]
#   VIGIL_KERNELS_DIR    the C kernel sources [Sources/CVigilKernels]: every .c under it
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { echo "usage: $0 [MODEL.vigil INPUT.f32 EXPECTED.f32]" >&2; exit 64; }
die() { echo "build-a64-kernels: $*" >&2; exit 2; }
case "${1:-}" in -h|--help) usage ;; esac
[ $# -eq 0 ] || [ $# -eq 3 ] || usage
for f in "$@"; do [ -f "$f" ] || die "no such file: $f"; done

OUT=${VIGIL_EMBEDDED_OUT:-.build-embedded/a64-kernels}
KDIR=${VIGIL_KERNELS_DIR:-Sources/CVigilKernels}
TARGET=aarch64-none-none-elf
for tool in swiftc aarch64-linux-gnu-gcc aarch64-linux-gnu-nm qemu-aarch64 cmp sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found; run Tools/setup.sh"
done
A64_SYSROOT=/usr/aarch64-linux-gnu
[ -f "$A64_SYSROOT/lib/libc.a" ] || die "no aarch64 glibc in $A64_SYSROOT (libc6-dev-arm64-cross); run Tools/setup.sh"
EMB_LIB="$(dirname "$(command -v swiftc)")/../lib/swift/embedded/$TARGET"
[ -f "$EMB_LIB/libswiftUnicodeDataTables.a" ] || die "$EMB_LIB: no Embedded Swift runtime for $TARGET"
SWIFT_VERSION="$(swiftc --version 2>&1 | head -1)"
mkdir -p "$OUT/kernels"
OUT_ABS="$(cd "$OUT" && pwd)"
INC="$(cd "$KDIR/include" && pwd)"

# --- the C module for Swift ----------------------------------------------------------------------
# Sources/CVigilKernels/include has no module.modulemap (SwiftPM makes one); this is the same.
{
  echo "module CVigilKernels {"
  for h in vigil_kernels.h vigil_parallel.h vigil_plan.h; do echo "  header \"$INC/$h\""; done
  echo "  export *"
  echo "}"
} > "$OUT/module.modulemap.new"
cmp -s "$OUT/module.modulemap.new" "$OUT/module.modulemap" 2>/dev/null || mv "$OUT/module.modulemap.new" "$OUT/module.modulemap"
rm -f "$OUT/module.modulemap.new"

# --- C kernels -------------------------------------------------------------------------------------
# As Tools/kernels/test-arm.sh: every kernel source at -march=armv8-a (the x86/ files compile to
# nothing), except the dot-product GEMM, which is only called when the CPU has it.
mapfile -t CSRC < <(find "$KDIR" -name '*.c' | LC_ALL=C sort)
HSUM=$(find "$KDIR" -name '*.h' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)
KOBJS=()
# The compiler SwiftPM uses for C targets on a Pi is clang, and codegen differs a lot between the
# two (GCC kept the accumulator arrays of the NEON GEMM in memory: 2x the instructions), so the
# default is the Swift toolchain's clang; VIGIL_KERNEL_CC=gcc uses aarch64-linux-gnu-gcc instead.
KCC=${VIGIL_KERNEL_CC:-clang}
case "$KCC" in
  clang) KCMD=(clang --target=aarch64-linux-gnu -isystem /usr/aarch64-linux-gnu/include) ;;
  gcc) KCMD=(aarch64-linux-gnu-gcc) ;;
  *) echo "build-a64-kernels: VIGIL_KERNEL_CC must be clang or gcc, not $KCC" >&2; exit 64 ;;
esac
echo "build-a64-kernels: compiling ${#CSRC[@]} C kernel files (${KCMD[0]} -O2)"
for src in "${CSRC[@]}"; do
  obj="$OUT/kernels/$(echo "${src#"$KDIR"/}" | tr / _).o"
  march=armv8-a
  # GCC needs the whole file built for the dot product; clang takes the kernels' target attribute.
  [ "$KCC" = gcc ] && [ "$(basename "$src")" = gemm_dotprod.c ] && march=armv8.2-a+dotprod
  # Rebuilt when the source, any header of the kernel folder, the compiler or the flags changed
  # (content stamps: VIGIL_KERNELS_DIR may point at an extracted commit whose files carry old times).
  stamp=$( { echo "$KCC $march $INC"; cat "$src"; } | sha256sum | cut -c1-32)$HSUM
  if [ ! -f "$obj" ] || [ "$(cat "$obj.stamp" 2>/dev/null)" != "$stamp" ]; then
    "${KCMD[@]}" -O2 -fPIE -march=$march -I "$INC" -c -o "$obj" "$src"
    echo "$stamp" > "$obj.stamp"
  fi
  KOBJS+=("$obj")
done

# --- Embedded Swift ----------------------------------------------------------------------------------
# Each module is rebuilt when its flags, files, compiler, the module map or a module before it changed.
FLAGS=(-target "$TARGET" -enable-experimental-feature Embedded -wmo -parse-as-library -O -I "$OUT"
       -Xcc "-fmodule-map-file=$OUT_ABS/module.modulemap")
prev=$(cat "$OUT/module.modulemap" "$INC"/*.h | sha256sum | cut -c1-32)
for spec in VigilModel=Sources/VigilModel VigilRuntime=Sources/VigilRuntime VigilEmbeddedEntry=Tools/embedded/EmbeddedEntry.swift; do
  name=${spec%%=*} src=${spec#*=}
  if [ -d "$src" ]; then mapfile -t files < <(find "$src" -name '*.swift' | LC_ALL=C sort); else files=("$src"); fi
  stamp=$( { printf '%s\n' "$SWIFT_VERSION" "$prev" "${FLAGS[@]}" "${files[@]}"; cat "${files[@]}"; } | sha256sum | cut -c1-32)
  if [ -f "$OUT/$name.o" ] && [ "$(cat "$OUT/$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "build-a64-kernels: $name up to date"
  else
    echo "build-a64-kernels: $name (${#files[@]} Swift files)"
    rm -f "$OUT/$name.stamp"
    if [ "$name" = VigilEmbeddedEntry ]; then
      swiftc "${FLAGS[@]}" -module-name "$name" -c "${files[@]}" -o "$OUT/$name.o"
    else
      swiftc "${FLAGS[@]}" -module-name "$name" -emit-module -emit-module-path "$OUT/$name.swiftmodule" \
        -c "${files[@]}" -o "$OUT/$name.o"
    fi
    echo "$stamp" > "$OUT/$name.stamp"
  fi
  prev=$stamp
done
# The proof that the kernels are compiled in: the runtime calls the plans, not only the Swift twins.
aarch64-linux-gnu-nm "$OUT/VigilRuntime.o" | grep >/dev/null ' U vigil_conv_run$' ||
  die "VigilRuntime.o does not call vigil_conv_run: canImport(CVigilKernels) was false"

# --- link ------------------------------------------------------------------------------------------
# static-pie for the reasons in run-qemu.sh; -pthread for parallel.c's worker pool (unused at one thread).
echo "build-a64-kernels: linking $OUT/driver"
aarch64-linux-gnu-gcc -O2 -static-pie -DVIGIL_KERNELS -I "$INC" -o "$OUT/driver" Tools/embedded/driver.c \
  "$OUT/VigilModel.o" "$OUT/VigilRuntime.o" "$OUT/VigilEmbeddedEntry.o" "${KOBJS[@]}" \
  "$EMB_LIB/libswiftUnicodeDataTables.a" -lm -pthread

[ $# -eq 3 ] || exit 0

# --- run and compare ---------------------------------------------------------------------------------
status=0
for cpu in cortex-a72 cortex-a76 max; do
  got="$OUT/out-$cpu.f32"
  rm -f "$got"
  if ! msg=$(qemu-aarch64 -cpu "$cpu" "$OUT/driver" "$1" "$2" "$got"); then
    echo "build-a64-kernels: $cpu: driver FAILED" >&2
    status=1
    continue
  fi
  if cmp -s "$got" "$3"; then
    echo "build-a64-kernels: $cpu: $msg, identical to $3"
  else
    echo "build-a64-kernels: $cpu: $msg, DIFFERENT from $3 ($(cmp "$got" "$3" 2>&1 | head -1))" >&2
    status=1
  fi
done
exit $status
