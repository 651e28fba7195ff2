#!/usr/bin/env bash
# Builds the int8 core (Sources/VigilModel, Sources/VigilRuntime) plus Tools/embedded/EmbeddedEntry.swift
# as Embedded Swift and
#  - for aarch64-none-none-elf: links it with driver.c via aarch64-linux-gnu-gcc and runs MODEL under
#    qemu-aarch64 with -cpu cortex-a72 and -cpu max, requiring the output bytes to equal EXPECTED;
#  - for armv7em-none-none-eabi (Cortex-M4F, hard-float ABI): links it with m4_stub.c against
#    newlib-nano and prints flash/RAM use (arm-none-eabi-size). Link only; nothing runs.
#
# Usage: run-qemu.sh MODEL.vigil INPUT.f32 EXPECTED.f32   build both targets, run, compare
#        run-qemu.sh --build-only                         build both targets, print sizes
#        run-qemu.sh --toy                                the same pipeline on toy/Toy.swift alone
# .f32 files are raw little-endian float32, samples back to back (outputs of a sample in output order).
#
# Environment (defaults in brackets):
#   VIGIL_EMBEDDED_MODULES  "Name=dir ..." Embedded modules compiled in order, each importable by the next
#                           ["VigilModel=Sources/VigilModel VigilRuntime=Sources/VigilRuntime"]; may be empty
#   VIGIL_EMBEDDED_ENTRY    Swift file exporting vigil_embedded_run (module VigilEmbeddedEntry)
#                           [Tools/embedded/EmbeddedEntry.swift]
#   VIGIL_EMBEDDED_OUT      build directory [.build-embedded]
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
  echo "usage: $0 MODEL.vigil INPUT.f32 EXPECTED.f32 | $0 --build-only | $0 --toy" >&2
  exit 64
}
die() { echo "run-qemu: $*" >&2; exit 2; }

mode=run
case "${1:-}" in
  --build-only) mode=build; shift ;;
  --toy) mode=toy; shift ;;
  -h|--help) usage ;;
esac
if [ "$mode" = run ]; then
  [ $# -eq 3 ] || usage
  for f in "$1" "$2" "$3"; do [ -f "$f" ] || die "no such file: $f"; done
else
  [ $# -eq 0 ] || usage
fi

if [ "$mode" = toy ]; then
  MODULES=()
  ENTRY=Tools/embedded/toy/Toy.swift
  OUT=.build-embedded/toy
else
  read -r -a MODULES <<< "${VIGIL_EMBEDDED_MODULES-VigilModel=Sources/VigilModel VigilRuntime=Sources/VigilRuntime}"
  ENTRY=${VIGIL_EMBEDDED_ENTRY:-Tools/embedded/EmbeddedEntry.swift}
  OUT=${VIGIL_EMBEDDED_OUT:-.build-embedded}
fi
[ -f "$ENTRY" ] || die "entry file $ENTRY not found"

# --- tools ------------------------------------------------------------------------------------------
for tool in swiftc aarch64-linux-gnu-gcc qemu-aarch64 arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-readelf \
            arm-none-eabi-nm aarch64-linux-gnu-nm cmp sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found; run Tools/setup.sh"
done
A64_SYSROOT=/usr/aarch64-linux-gnu
[ -f "$A64_SYSROOT/lib/libc.a" ] || die "no aarch64 glibc in $A64_SYSROOT (libc6-dev-arm64-cross); run Tools/setup.sh"
M4_CFLAGS=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -specs=nano.specs)
case "$(arm-none-eabi-gcc "${M4_CFLAGS[@]}" -print-file-name=libc_nano.a)" in
  /*) ;; *) die "newlib-nano for arm-none-eabi not found (libnewlib-arm-none-eabi); run Tools/setup.sh" ;;
esac
EMB_LIB="$(dirname "$(command -v swiftc)")/../lib/swift/embedded"
for t in aarch64-none-none-elf armv7em-none-none-eabi; do
  [ -f "$EMB_LIB/$t/libswiftUnicodeDataTables.a" ] || die "$EMB_LIB/$t: no Embedded Swift runtime for $t (swiftc $(swiftc --version 2>&1 | head -1))"
done
SWIFT_VERSION="$(swiftc --version 2>&1 | head -1)"

# --- Embedded Swift compile ---------------------------------------------------------------------------
SWIFT_COMMON=(-enable-experimental-feature Embedded -wmo -parse-as-library)
# aarch64: generic ARMv8-A. armv7em: swiftc defaults to Cortex-M4 with the FPU but the soft-float calling
# convention; -Xcc -mfloat-abi=hard switches Swift's codegen to the hard-float ABI that M4F firmware uses.
SWIFT_A64=(-O)
SWIFT_M4=(-Osize -Xcc -mfloat-abi=hard -Xcc -mfpu=fpv4-sp-d16)

# compile_target TARGET FLAGS...: every module in MODULES, then ENTRY, into $OUT/TARGET/*.o. A module is
# rebuilt when its flags, files, compiler or any module before it changed (stamp files hold the hashes).
compile_target() {
  local target=$1; shift
  local dir="$OUT/$target"
  local flags=(-target "$target" "${SWIFT_COMMON[@]}" "$@" -I "$dir")
  mkdir -p "$dir"
  local prev="" spec name src files stamp
  for spec in "${MODULES[@]}" "VigilEmbeddedEntry=$ENTRY"; do
    name=${spec%%=*} src=${spec#*=}
    if [ -d "$src" ]; then
      mapfile -t files < <(find "$src" -name '*.swift' | LC_ALL=C sort)
      ((${#files[@]})) || { echo "no Swift files under $src"; return 1; }
    else
      [ -f "$src" ] || { echo "$src: no such file or directory (module $name)"; return 1; }
      files=("$src")
    fi
    stamp=$( { printf '%s\n' "$SWIFT_VERSION" "$prev" "${flags[@]}" "${files[@]}"; cat "${files[@]}"; } | sha256sum | cut -c1-32)
    if [ -f "$dir/$name.o" ] && [ "$(cat "$dir/$name.stamp" 2>/dev/null)" = "$stamp" ]; then
      echo "$name: up to date"
    else
      echo "$name: ${#files[@]} files"
      rm -f "$dir/$name.stamp"
      if [ "$name" = VigilEmbeddedEntry ]; then
        swiftc "${flags[@]}" -module-name "$name" -c "${files[@]}" -o "$dir/$name.o"
      else
        swiftc "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$dir/$name.swiftmodule" \
          -c "${files[@]}" -o "$dir/$name.o"
      fi
      echo "$stamp" > "$dir/$name.stamp"
    fi
    prev=$stamp
  done
}

OBJ_NAMES=()
for spec in "${MODULES[@]}"; do OBJ_NAMES+=("${spec%%=*}.o"); done
OBJ_NAMES+=(VigilEmbeddedEntry.o)
A64="$OUT/aarch64-none-none-elf"
M4="$OUT/armv7em-none-none-eabi"
A64_OBJS=("${OBJ_NAMES[@]/#/$A64/}")
M4_OBJS=("${OBJ_NAMES[@]/#/$M4/}")

# The two targets compile in parallel; each one's compiler output goes to a log shown afterwards.
echo "run-qemu: compiling Embedded Swift (${MODULES[*]:-no modules} + $ENTRY) for aarch64-none-none-elf and armv7em-none-none-eabi"
mkdir -p "$A64" "$M4"
compile_target aarch64-none-none-elf "${SWIFT_A64[@]}" > "$A64/build.log" 2>&1 & pid_a64=$!
compile_target armv7em-none-none-eabi "${SWIFT_M4[@]}" > "$M4/build.log" 2>&1 & pid_m4=$!
failed=0
wait $pid_a64 || failed=1
wait $pid_m4 || failed=$((failed + 2))
sed 's/^/  [aarch64] /' "$A64/build.log"
sed 's/^/  [armv7em] /' "$M4/build.log"
((failed == 0)) || die "Embedded Swift compile failed (logs: $A64/build.log, $M4/build.log)"
aarch64-linux-gnu-nm "$A64/VigilEmbeddedEntry.o" | grep >/dev/null ' T vigil_embedded_run$' ||
  die "$ENTRY does not export vigil_embedded_run (@_cdecl(\"vigil_embedded_run\") public func ...)"

# --- aarch64: driver under qemu -----------------------------------------------------------------------
# -static-pie: Embedded Swift objects use protected visibility, which rules out the copy relocations of
# a non-PIE executable; static glibc supplies posix_memalign, free, memset, arc4random_buf and
# __stack_chk_guard/__stack_chk_fail. libswiftUnicodeDataTables backs String comparison/normalization.
# libm: sqrtf of LayerNormalization (IEEE sqrt is correctly rounded, so still bit-exact with x86).
echo "run-qemu: linking $A64/driver (aarch64-linux-gnu-gcc, static-pie)"
aarch64-linux-gnu-gcc -O2 -static-pie -o "$A64/driver" Tools/embedded/driver.c "${A64_OBJS[@]}" \
  "$EMB_LIB/aarch64-none-none-elf/libswiftUnicodeDataTables.a" -lm

# --- armv7em: Cortex-M4F link proof -------------------------------------------------------------------
# Every Swift object must carry the hard-float ABI tag: the link below needs --no-warn-mismatch because
# the toolchain's libswiftUnicodeDataTables.a is tagged soft-float. That is safe only for its integer-only
# entry points, i.e. all but _swift_stdlib_getNumericValue (returns double), which is checked not used.
for o in "${M4_OBJS[@]}"; do
  arm-none-eabi-readelf -A "$o" | grep >/dev/null 'Tag_ABI_VFP_args: VFP registers' ||
    die "$o is not built for the hard-float ABI (-Xcc -mfloat-abi=hard missing?)"
done
if arm-none-eabi-nm -u "${M4_OBJS[@]}" | grep >/dev/null '_swift_stdlib_getNumericValue'; then
  die "the core uses Unicode numeric values: _swift_stdlib_getNumericValue returns double across the soft/hard ABI mismatch"
fi
echo "run-qemu: linking $M4/core.elf (arm-none-eabi-gcc ${M4_CFLAGS[*]})"
arm-none-eabi-gcc "${M4_CFLAGS[@]}" -Os -ffunction-sections -fdata-sections -Wl,--gc-sections \
  -Wl,--no-warn-mismatch -Wl,--no-enum-size-warning -Wl,--no-warn-execstack \
  -o "$M4/core.elf" Tools/embedded/m4_stub.c "${M4_OBJS[@]}" \
  "$EMB_LIB/armv7em-none-none-eabi/libswiftUnicodeDataTables.a" -lm
arm-none-eabi-size "$M4/core.elf"

[ "$mode" = build ] && exit 0

# --- run --------------------------------------------------------------------------------------------------
if [ "$mode" = toy ]; then
  # The toy ignores the model and copies the input; an empty model must fail with a message.
  head -c 4096 /dev/zero | tr '\0' '\077' > "$OUT/in.f32"
  printf 'toy model' > "$OUT/model.bin"
  : > "$OUT/empty.bin"
  set -- "$OUT/model.bin" "$OUT/in.f32" "$OUT/in.f32"
  if msg=$(qemu-aarch64 -cpu max -L "$A64_SYSROOT" "$A64/driver" "$OUT/empty.bin" "$OUT/in.f32" "$OUT/err.f32" 2>&1); then
    die "toy: the driver succeeded on an empty model"
  fi
  echo "run-qemu: toy error path: $msg"
fi

status=0
for cpu in cortex-a72 max; do
  got="$A64/out-$cpu.f32"
  rm -f "$got"
  echo "run-qemu: qemu-aarch64 -cpu $cpu $A64/driver $1 $2 $got"
  if ! qemu-aarch64 -cpu "$cpu" -L "$A64_SYSROOT" "$A64/driver" "$1" "$2" "$got"; then
    echo "run-qemu: $cpu: driver FAILED" >&2
    status=1
    continue
  fi
  if cmp -s "$got" "$3"; then
    echo "run-qemu: $cpu: output identical to $3 ($(stat -c %s "$got") bytes)"
  else
    diffs=$(cmp -l "$got" "$3" 2>/dev/null | awk '{print int(($1 - 1) / 4)}' | uniq) || true
    if [ -n "$diffs" ]; then
      where="$(printf '%s\n' "$diffs" | wc -l) floats differ, the first at index ${diffs%%$'\n'*}"
    else
      where="the shorter one is a prefix of the other"
    fi
    echo "run-qemu: $cpu: output DIFFERS from $3 ($(stat -c %s "$got") vs $(stat -c %s "$3") bytes; $where)" >&2
    status=1
  fi
done
exit $status
