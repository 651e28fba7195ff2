#!/usr/bin/env bash
# Proves the int8 core on ARM: runs each int8 test model through the x86 host build (`vigil infer`)
# and through the Embedded Swift aarch64 build under qemu-aarch64 (cortex-a72 and max), and requires
# identical output bytes. Also builds the core for armv7em (Cortex-M4F) — see run-qemu.sh.
# With VIGIL_EMBEDDED_KERNELS=1 the aarch64 build includes the C kernels (build-a64-kernels.sh:
# cortex-a72 NEON, cortex-a76 dotprod, max i8mm) instead, and no M4 build is made.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
VIGIL="$(swift build --show-bin-path)/vigil"
[ -x "$VIGIL" ] || swift build --product vigil
WORK=.build-embedded/check
# upsampling-unet.vigil (Resize nearest and linear, ZeroInsert + Conv in int8) is the int8
# conversion of Tools/conformance/torch/tiny_unet.onnx, calibrated on 64 N(0, 1) samples
# (numpy default_rng(41), then the 4 samples of upsampling-unet-input.npy from the same generator):
#   vigil-convert Tools/conformance/torch/tiny_unet.onnx --calibration CALIB.npy -o Models/test/upsampling-unet.vigil
mkdir -p "$WORK"
status=0
# The attention fixtures (Tools/conformance/attention/), converted to int8 here: MatMul of two
# activations, Softmax over the last of 4 axes, the Gelu table, LayerNormalization in float32
# between Quantize/Dequantize. Calibration and inputs are seeded, so the files are reproducible.
CONVERT="$(dirname "$VIGIL")/vigil-convert"
[ -x "$CONVERT" ] || swift build --product vigil-convert
ATTENTION=()
for fixture in Tools/conformance/attention/encoder.onnx Tools/conformance/attention/vit.onnx; do
  [ -f "$fixture" ] || continue
  name="attention-$(basename "$fixture" .onnx)"
  "$PY" - "$fixture" "$WORK/$name-calib.npy" "$WORK/$name-input.npy" <<'PYEOF'
import sys, numpy as np, onnx
shape = [max(d.dim_value, 1) for d in onnx.load(sys.argv[1]).graph.input[0].type.tensor_type.shape.dim][1:]
rng = np.random.default_rng(7)
np.save(sys.argv[2], rng.normal(0, 1, [64] + shape).astype(np.float32))
np.save(sys.argv[3], rng.normal(0, 1, [4] + shape).astype(np.float32))
PYEOF
  "$CONVERT" "$fixture" --calibration "$WORK/$name-calib.npy" -o "$WORK/$name.vigil" > /dev/null
  ATTENTION+=("$WORK/$name.vigil")
done
for model in Models/test/synthetic-ecg-cnn.vigil Models/test/op-coverage-taps.vigil \
             Models/test/eeg-net-taps.vigil Models/test/attention-cnn-taps.vigil \
             Models/test/upsampling-unet.vigil "${ATTENTION[@]}"; do
  [ -f "$model" ] || continue
  name="$(basename "$model" .vigil)"
  input="$(dirname "$model")/$(echo "$name" | sed -e 's/-cnn$//' -e 's/-taps$//')-input.npy"
  "$VIGIL" infer "$model" --input "$input" --output "$WORK/$name-x86.npy"
  "$PY" - "$input" "$WORK/$name-in.f32" "$WORK/$name-x86.npy" "$WORK/$name-x86.f32" <<'PYEOF'
import sys, os, numpy as np
np.load(sys.argv[1]).astype('<f4').tofile(sys.argv[2])
# outputs 0, 1, 2, ... (Y.npy, Y.1.npy, ...) interleaved per sample, as the driver writes them
stem, i, outs = sys.argv[3][:-4], 1, [np.load(sys.argv[3])]
while os.path.exists(f"{stem}.{i}.npy"):
    outs.append(np.load(f"{stem}.{i}.npy")); i += 1
n = outs[0].shape[0]
np.concatenate([o.reshape(n, -1) for o in outs], axis=1).astype('<f4').tofile(sys.argv[4])
print(f"check-core: {len(outs)} outputs, {n} samples")
PYEOF
  echo "check-core: $model"
  if [ "${VIGIL_EMBEDDED_KERNELS:-0}" = 1 ]; then
    Tools/embedded/build-a64-kernels.sh "$model" "$WORK/$name-in.f32" "$WORK/$name-x86.f32" || status=1
  else
    Tools/embedded/run-qemu.sh "$model" "$WORK/$name-in.f32" "$WORK/$name-x86.f32" || status=1
  fi
done
exit $status
