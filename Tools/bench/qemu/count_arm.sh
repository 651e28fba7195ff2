#!/usr/bin/env bash
# Guest instructions per inference of the int8 peers (ONNX Runtime s8/u8, LiteRT int8) on the
# reference models, under qemu-aarch64 -cpu cortex-a76 (or QEMU_CPU=cortex-a72). Vigil on ARM is
# built elsewhere; with one, add: --engines vigil,ort_s8,ort_u8,litert_int8 --bins DIR_WITH_AARCH64_VIGIL
# --convert-bins .build-qemu/bin (vigil-convert runs on the host). An aarch64 vigil that is not
# static needs its Swift runtime libraries in the sysroot (qemu -L) or on LD_LIBRARY_PATH there.
#
#   Tools/bench/qemu/count_arm.sh [count.py options...]          e.g. --only mlp --repeat 2 -v
#   QEMU_CPU=cortex-a72 Tools/bench/qemu/count_arm.sh ...
#
# Needs root (unshare -m, mount --bind), qemu-user, the bench venv (.venv-bench: host side, exports
# the models) and, made here once under .build-qemu/aarch64/ without arm64 multiarch:
#   sysroot/  Debian bookworm arm64 python3.11 and its libraries (apt-get download into a private
#             apt state, dpkg -x), run as qemu-aarch64 -L sysroot sysroot/usr/bin/python3.11;
#   site/     aarch64 wheels of numpy, onnxruntime, ai-edge-litert (pip install --target);
#             ai-edge-litert 1.4.0: the last with a cp311 aarch64 wheel (x86 side has 2.3.0);
#   cpuinfo-* an ARM /proc/cpuinfo: QEMU 7.2 shows the guest the host's x86 one, on which ORT's
#             cpuinfo fails; it is bind-mounted over /proc/cpuinfo in a private mount namespace.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT="$PWD"
S="$ROOT/.build-qemu/aarch64"
CPU="${QEMU_CPU:-cortex-a76}"
VENV="${BENCH_VENV:-.venv-bench}"
command -v qemu-aarch64 >/dev/null || { echo "count_arm: qemu-aarch64 missing (apt-get install qemu-user)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || { echo "count_arm: no $VENV; run Tools/bench/run.sh once to create it" >&2; exit 1; }

if [ ! -x "$S/sysroot/usr/bin/python3.11" ]; then
  echo "count_arm: making the arm64 python3.11 sysroot in $S" >&2
  A="$S/apt"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$S/sysroot"
  : > "$A/status"   # empty dpkg status: apt resolves the whole dependency closure down to libc6
  # The machine's own apt sources, read for arm64 only (APT::Architectures) into the private state.
  opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o "Dir::State::Lists=$A/lists"
        -o "Dir::Cache=$A/cache" -o "Dir::State::status=$A/status" -o Debug::NoLocking=1)
  apt-get "${opts[@]}" update -qq
  apt-get "${opts[@]}" install -qq --download-only -y python3.11 >/dev/null
  for d in "$A"/cache/archives/*.deb; do dpkg -x "$d" "$S/sysroot"; done
fi
if [ ! -d "$S/site/onnxruntime" ]; then
  echo "count_arm: installing aarch64 wheels into $S/site" >&2
  plat=(--only-binary=:all: --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64
        --platform manylinux_2_28_aarch64 --python-version 3.11 --implementation cp --abi cp311)
  "$VENV/bin/pip" download -q --disable-pip-version-check "${plat[@]}" -d "$S/wheels" \
    numpy==2.2.6 onnxruntime==1.32.0 ai-edge-litert==1.4.0
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${plat[@]}" --target "$S/site" "$S"/wheels/*.whl
fi
python3 - "$S" <<'PY'
# Two cores of each CPU as an arm64 Linux kernel prints them (ORT's cpuinfo reads implementer/part).
import sys
cpus = {"cortex-a76": ("0x4", "0xd0b", "1", "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"),
        "cortex-a72": ("0x0", "0xd08", "3", "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid")}
for name, (var, part, rev, feat) in cpus.items():
    with open(f"{sys.argv[1]}/cpuinfo-{name}", "w") as f:
        for i in range(2):
            f.write(f"processor\t: {i}\nBogoMIPS\t: 50.00\nFeatures\t: {feat}\nCPU implementer\t: 0x41\n"
                    f"CPU architecture: 8\nCPU variant\t: {var}\nCPU part\t: {part}\nCPU revision\t: {rev}\n\n")
PY
[ -f "$S/cpuinfo-$CPU" ] || { echo "count_arm: no cpuinfo for $CPU (cortex-a76 or cortex-a72)" >&2; exit 1; }
PLUGIN="$(Tools/bench/qemu/build.sh)"
exec unshare -m bash -c 'mount --bind "$1" /proc/cpuinfo && shift && exec "$@"' _ "$S/cpuinfo-$CPU" \
  nice -n 10 "$VENV/bin/python" Tools/bench/qemu/count.py --plugin "$PLUGIN" --qemu qemu-aarch64 --cpu "$CPU" \
  --qemu-args "-L $S/sysroot" --python "$S/sysroot/usr/bin/python3.11" --guest-env "PYTHONPATH=$S/site" \
  --engines ort_s8,ort_u8,litert_int8 "$@"
