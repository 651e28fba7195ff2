#!/usr/bin/env bash
# Builds the int8 core (Sources/VigilModel, Sources/VigilRuntime) as Embedded Swift and
#  - for aarch64-none-none-elf: links it with driver.c via aarch64-linux-gnu-gcc and runs MODEL under
#    qemu-aarch64 with -cpu cortex-a72 and -cpu max, comparing the output bytes with EXPECTED;
#  - for armv7em-none-none-eabi (Cortex-M4F): links it with newlib-nano and prints flash/RAM use.
# Usage: run-qemu.sh MODEL.vigil INPUT.f32 EXPECTED.f32 | run-qemu.sh --build-only
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in swiftc aarch64-linux-gnu-gcc qemu-aarch64 arm-none-eabi-gcc; do
  command -v "$tool" >/dev/null || { echo "run-qemu: $tool not found; run Tools/setup.sh" >&2; exit 2; }
done
OUT=.build-embedded
mkdir -p "$OUT"
SOURCES_MODEL=(Sources/VigilModel/*.swift)
mapfile -t SOURCES_RUNTIME < <(find Sources/VigilRuntime -name '*.swift' | sort)
ENTRY=Tools/embedded/EmbeddedEntry.swift

# Compiles the core as three Embedded modules for one target into $OUT/<target>/.
build_core() {
  local target=$1 opt=$2 dir="$OUT/$1"
  mkdir -p "$dir"
  local flags=(-target "$target" -enable-experimental-feature Embedded -wmo -parse-as-library "$opt" -I "$dir")
  local stamp="$dir/.inputs"
  local want
  want=$(cat "${SOURCES_MODEL[@]}" "${SOURCES_RUNTIME[@]}" "$ENTRY" | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dir/Entry.o" ]; then return; fi
  swiftc "${flags[@]}" -module-name VigilModel -emit-module -emit-module-path "$dir/VigilModel.swiftmodule" \
    -c "${SOURCES_MODEL[@]}" -o "$dir/VigilModel.o"
  swiftc "${flags[@]}" -module-name VigilRuntime -emit-module -emit-module-path "$dir/VigilRuntime.swiftmodule" \
    -c "${SOURCES_RUNTIME[@]}" -o "$dir/VigilRuntime.o"
  swiftc "${flags[@]}" -module-name VigilEmbeddedEntry -c "$ENTRY" -o "$dir/Entry.o"
  echo "$want" > "$stamp"
}

echo "run-qemu: Embedded Swift core for aarch64-none-none-elf"
build_core aarch64-none-none-elf -O
A64="$OUT/aarch64-none-none-elf"
# The Unicode tables back String operations in error messages. -static-pie: Embedded objects use
# protected visibility, which rules out the copy relocations of a non-PIE link.
EMB_LIB=$(dirname "$(command -v swiftc)")/../lib/swift/embedded
aarch64-linux-gnu-gcc -O2 -static-pie -o "$A64/driver" Tools/embedded/driver.c "$A64"/VigilModel.o \
  "$A64"/VigilRuntime.o "$A64"/Entry.o "$EMB_LIB/aarch64-none-none-elf/libswiftUnicodeDataTables.a"

echo "run-qemu: Embedded Swift core for armv7em-none-none-eabi (Cortex-M4F)"
build_core armv7em-none-none-eabi -Osize
M4="$OUT/armv7em-none-none-eabi"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -specs=nano.specs -Os \
  -Wl,--gc-sections -ffunction-sections -o "$M4/core.elf" Tools/embedded/m4_stub.c \
  "$M4"/VigilModel.o "$M4"/VigilRuntime.o "$M4"/Entry.o \
  "$EMB_LIB/armv7em-none-none-eabi/libswiftUnicodeDataTables.a" -lm
arm-none-eabi-size "$M4/core.elf"

[ "${1:-}" = "--build-only" ] && exit 0
[ $# -eq 3 ] || { echo "usage: $0 MODEL.vigil INPUT.f32 EXPECTED.f32 | $0 --build-only" >&2; exit 64; }
status=0
for cpu in cortex-a72 max; do
  got="$A64/out-$cpu.f32"
  qemu-aarch64 -cpu "$cpu" "$A64/driver" "$1" "$2" "$got"
  if cmp -s "$got" "$3"; then
    echo "run-qemu: $cpu output identical to x86 ($(stat -c %s "$got") bytes)"
  else
    echo "run-qemu: $cpu output DIFFERS from x86:" >&2
    cmp "$got" "$3" >&2 || true
    status=1
  fi
done
exit $status
