#!/usr/bin/env bash
# Proves Sources/SensorLink compiles as Embedded Swift for the sensor bridge (armv7em-none-none-eabi,
# Cortex-M4F) and for aarch64-none-none-elf, and prints the object sizes. Exits non-zero if either
# compile fails. With arm-none-eabi-gcc installed (Tools/setup.sh) it also links
# Tools/sensorlink/FootprintProbe.swift into Cortex-M4 images with newlib-nano and --gc-sections and
# prints what the codec costs the firmware: encoder only (the firmware's path) and encoder + decoder.
#
#   Tools/sensorlink/check-embedded.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v swiftc >/dev/null || { echo "check-embedded: swiftc not found" >&2; exit 2; }

OUT=.build-embedded/sensorlink
mkdir -p "$OUT"
mapfile -t SOURCES < <(find Sources/SensorLink -name '*.swift' | sort)
status=0
for target in armv7em-none-none-eabi aarch64-none-none-elf; do
  dir="$OUT/$target"
  mkdir -p "$dir"
  if swiftc -target "$target" -enable-experimental-feature Embedded -wmo -parse-as-library -Osize \
      -module-name SensorLink -emit-module -emit-module-path "$dir/SensorLink.swiftmodule" \
      -c "${SOURCES[@]}" -o "$dir/SensorLink.o"; then
    echo "check-embedded: $target: SensorLink.o compiled"
    size "$dir/SensorLink.o"
  else
    echo "check-embedded: $target: Embedded Swift compile FAILED" >&2
    status=1
  fi
done

M4="$OUT/armv7em-none-none-eabi"
if [ $status -eq 0 ] && command -v arm-none-eabi-gcc >/dev/null; then
  EMB_LIB=$(dirname "$(command -v swiftc)")/../lib/swift/embedded/armv7em-none-none-eabi
  # One section per function so that --gc-sections keeps only what the probe reaches.
  swiftc -target armv7em-none-none-eabi -enable-experimental-feature Embedded -wmo -parse-as-library -Osize \
    -Xfrontend -function-sections -module-name SensorLink -c "${SOURCES[@]}" -o "$M4/SensorLink-sections.o"
  for variant in encoder decoder; do
    defs=(); cdefs=()
    if [ "$variant" = decoder ]; then defs=(-DSENSORLINK_PROBE_DECODER); cdefs=(-DSENSORLINK_PROBE_DECODER); fi
    swiftc -target armv7em-none-none-eabi -enable-experimental-feature Embedded -wmo -parse-as-library -Osize \
      -I "$M4" "${defs[@]}" -module-name FootprintProbe -c Tools/sensorlink/FootprintProbe.swift -o "$M4/probe-$variant.o"
    arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -specs=nano.specs -Os -ffunction-sections \
      -Wl,--gc-sections "${cdefs[@]}" -o "$M4/probe-$variant.elf" Tools/sensorlink/footprint_stub.c \
      "$M4/probe-$variant.o" "$M4/SensorLink-sections.o" "$EMB_LIB/libswiftUnicodeDataTables.a" \
      2> >(grep -v -e 'uses 32-bit enums' -e 'GNU-stack' -e 'NOTE: This behaviour' >&2)
    echo "check-embedded: Cortex-M4 image with the $variant probe (newlib-nano, --gc-sections):"
    arm-none-eabi-size "$M4/probe-$variant.elf"
    own=0
    while read -r _ sz _ name; do
      [[ "$name" == *SensorLink* ]] && own=$((own + 16#$sz))
    done < <(arm-none-eabi-nm -S "$M4/probe-$variant.elf" | awk 'NF == 4')
    echo "check-embedded: of which SensorLink's own functions and data: $own bytes"
  done
else
  [ $status -eq 0 ] && echo "check-embedded: arm-none-eabi-gcc not found; skipped the Cortex-M4 link (Tools/setup.sh installs it)"
fi
exit $status
