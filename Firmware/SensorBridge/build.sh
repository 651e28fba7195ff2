#!/usr/bin/env bash
# Builds the sensor-bridge firmware for the STM32F411CEU6 "Black Pill" (Cortex-M4F) as Embedded
# Swift and links it with the Debian gcc-arm-none-eabi toolchain and newlib-nano:
#   Sources/SensorLink               the frame codec            (module SensorLink)
#   Sources/SensorBridgeCore/        drivers, scheduler, rings  (module SensorBridgeCore; Simulation/ left out)
#   Board/*.swift                    STM32F411 registers, entry (module SensorBridgeFirmware)
#   Board/startup.c, stm32f411.ld    vector table, reset handler, memory map
# Produces sensor-bridge.elf and sensor-bridge.bin, prints flash use (text + data) and RAM use
# (data + bss + heap + stack reservations), and exits 1 if either exceeds its budget.
#
#   Firmware/SensorBridge/build.sh            output in .build-firmware/ (SENSORBRIDGE_OUT overrides)
#   FLASH_BUDGET=65536 RAM_BUDGET=16384       the budgets (bytes), defaults shown
#   build.sh --check-only                     measure the existing ELF against the budgets, no build
set -euo pipefail
CHECK_ONLY=0
[ "${1:-}" = --check-only ] && CHECK_ONLY=1
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${SENSORBRIDGE_OUT:-$ROOT/.build-firmware}"
FLASH_BUDGET=${FLASH_BUDGET:-65536}
RAM_BUDGET=${RAM_BUDGET:-16384}
HEAP_SIZE=${HEAP_SIZE:-10240}
STACK_SIZE=${STACK_SIZE:-4096}

die() { echo "build.sh: $*" >&2; exit 2; }
for tool in swiftc arm-none-eabi-gcc arm-none-eabi-objcopy arm-none-eabi-size arm-none-eabi-readelf arm-none-eabi-nm; do
  command -v "$tool" >/dev/null || die "$tool not found (Tools/setup.sh installs gcc-arm-none-eabi and libnewlib-arm-none-eabi)"
done
CFLAGS=(-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -specs=nano.specs)
case "$(arm-none-eabi-gcc "${CFLAGS[@]}" -print-file-name=libc_nano.a)" in
  /*) ;; *) die "newlib-nano for arm-none-eabi not found (libnewlib-arm-none-eabi)" ;;
esac
EMB_LIB="$(dirname "$(command -v swiftc)")/../lib/swift/embedded/armv7em-none-none-eabi"
[ -d "$EMB_LIB" ] || die "no Embedded Swift support for armv7em-none-none-eabi in this toolchain"

mkdir -p "$OUT"
if [ $CHECK_ONLY -eq 0 ]; then
# Hard-float ABI (the M4F's FPU registers carry float arguments); one section per function and
# datum so that --gc-sections drops what the firmware never calls.
SWIFT=(swiftc -target armv7em-none-none-eabi -enable-experimental-feature Embedded -wmo -parse-as-library -Osize
       -Xcc -mfloat-abi=hard -Xcc -mfpu=fpv4-sp-d16 -Xfrontend -function-sections -I "$OUT")

mapfile -t LINK_SRC < <(find "$ROOT/Sources/SensorLink" -name '*.swift' | LC_ALL=C sort)
mapfile -t CORE_SRC < <(find "$HERE/Sources/SensorBridgeCore" -name '*.swift' -not -path '*/Simulation/*' | LC_ALL=C sort)
mapfile -t BOARD_SRC < <(find "$HERE/Board" -name '*.swift' | LC_ALL=C sort)

echo "build.sh: SensorLink (${#LINK_SRC[@]} files)"
"${SWIFT[@]}" -module-name SensorLink -emit-module -emit-module-path "$OUT/SensorLink.swiftmodule" \
  -c "${LINK_SRC[@]}" -o "$OUT/SensorLink.o"
echo "build.sh: SensorBridgeCore (${#CORE_SRC[@]} files)"
"${SWIFT[@]}" -module-name SensorBridgeCore -emit-module -emit-module-path "$OUT/SensorBridgeCore.swiftmodule" \
  -c "${CORE_SRC[@]}" -o "$OUT/SensorBridgeCore.o"
echo "build.sh: SensorBridgeFirmware (${#BOARD_SRC[@]} files)"
"${SWIFT[@]}" -module-name SensorBridgeFirmware -c "${BOARD_SRC[@]}" -o "$OUT/SensorBridgeFirmware.o"
OBJS=("$OUT/SensorLink.o" "$OUT/SensorBridgeCore.o" "$OUT/SensorBridgeFirmware.o")
for o in "${OBJS[@]}"; do
  arm-none-eabi-readelf -A "$o" | grep -q 'Tag_ABI_VFP_args: VFP registers' || die "$o is not hard-float"
done

# The Unicode tables are linked only to resolve what String would need; the firmware must not need
# them (~380 KB), which the budget below would catch, and this names the cause.
echo "build.sh: linking sensor-bridge.elf"
arm-none-eabi-gcc "${CFLAGS[@]}" -nostartfiles -Os -ffunction-sections -fdata-sections \
  -T "$HERE/Board/stm32f411.ld" -Wl,--defsym=HEAP_SIZE="$HEAP_SIZE" -Wl,--defsym=STACK_SIZE="$STACK_SIZE" \
  -Wl,--gc-sections -Wl,--no-warn-mismatch -Wl,--no-enum-size-warning -Wl,--no-warn-execstack \
  -Wl,-Map="$OUT/sensor-bridge.map" -o "$OUT/sensor-bridge.elf" \
  "$HERE/Board/startup.c" "${OBJS[@]}" "$EMB_LIB/libswiftUnicodeDataTables.a" -lm
arm-none-eabi-objcopy -O binary "$OUT/sensor-bridge.elf" "$OUT/sensor-bridge.bin"
if arm-none-eabi-nm "$OUT/sensor-bridge.elf" | grep -q '_swift_stdlib_.*[Nn]ormaliz\|_swift_stdlib_getNormData\|_swift_stdlib_nfd'; then
  echo "build.sh: WARNING: Unicode normalization tables are linked (String comparison somewhere in the firmware)" >&2
fi
fi
[ -f "$OUT/sensor-bridge.elf" ] || die "$OUT/sensor-bridge.elf not built"

arm-none-eabi-size -A "$OUT/sensor-bridge.elf" | sed 's/^/  /'
section() { arm-none-eabi-size -A "$OUT/sensor-bridge.elf" | awk -v s="$1" '$1 == s { print $2; found=1 } END { if (!found) print 0 }'; }
data=$(section .data) bss=$(section .bss) heap=$(section .heap) stack=$(section .stack)
# Flash: the image that gets programmed (vectors, code, read-only data, .data's initial values).
flash=$(stat -c %s "$OUT/sensor-bridge.bin")
# RAM: every allocated section in SRAM (0x20000000-0x2001FFFF); each must be one of ours.
ram=0
while read -r name size addr; do
  if [ "$addr" -ge $((0x20000000)) ] && [ "$addr" -lt $((0x20020000)) ]; then
    case "$name" in .data|.bss|.heap|.stack) ;; *) die "unexpected section $name in RAM (orphan? add it to stm32f411.ld)" ;; esac
    ram=$((ram + size))
  fi
done < <(arm-none-eabi-size -A -d "$OUT/sensor-bridge.elf" | awk 'NF == 3 && $1 ~ /^\./ && $2 > 0')
echo "build.sh: flash $flash bytes (the .bin: vectors, text, rodata, .data image) of budget $FLASH_BUDGET"
echo "build.sh: RAM $ram bytes (data $data + bss $bss + heap $heap + stack $stack) of budget $RAM_BUDGET"
status=0
if [ "$flash" -gt "$FLASH_BUDGET" ]; then echo "build.sh: FLASH OVER BUDGET by $((flash - FLASH_BUDGET)) bytes" >&2; status=1; fi
if [ "$ram" -gt "$RAM_BUDGET" ]; then echo "build.sh: RAM OVER BUDGET by $((ram - RAM_BUDGET)) bytes" >&2; status=1; fi
[ $status -eq 0 ] && echo "build.sh: within budget: $OUT/sensor-bridge.elf, $OUT/sensor-bridge.bin"
exit $status
