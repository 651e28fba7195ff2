#!/usr/bin/env bash
# Builds the QEMU instruction-counting plugin (insncount.c) into .build-qemu/libinsncount.so and
# prints its path. Plain gcc: QEMU loads it with dlopen and resolves qemu_plugin_* from itself.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT="${QEMU_BUILD:-.build-qemu}"
mkdir -p "$OUT"
src=Tools/bench/qemu/insncount.c
lib="$OUT/libinsncount.so"
if [ ! -f "$lib" ] || [ "$src" -nt "$lib" ]; then
  gcc -std=gnu11 -shared -fPIC -O2 -Wall -Wextra -fvisibility=hidden -o "$lib" "$src"
fi
echo "$PWD/$lib"
