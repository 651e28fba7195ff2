#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test suite, proves the int8 core
# on ARM (Embedded Swift build for aarch64 and armv7em, qemu run bit-exact with x86) and fuzzes the
# model reader for a bounded time. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

Tools/setup.sh
echo "== swift build"
swift build --build-tests
echo "== swift test"
swift test --skip-build
echo "== ONNX backend node tests through vigil-convert --float and vigil infer"
.venv/bin/python Tools/conformance/node_tests.py "$(swift build --show-bin-path)"
echo "== converter vs onnxruntime on exporter-shaped models (float32 and int8)"
.venv/bin/python Tools/conformance/converter_models.py "$(swift build --show-bin-path)"
echo "== recurrent models (PyTorch-shaped LSTM/GRU, Keras 2 and 3 fixtures) vs onnxruntime, float32 and int8"
.venv/bin/python Tools/conformance/recurrent_models.py "$(swift build --show-bin-path)"
echo "== attention models (PyTorch transformer encoder and ViT fixtures) vs onnxruntime, float32 and int8 next to onnxruntime int8"
.venv/bin/python Tools/conformance/attention_models.py "$(swift build --show-bin-path)"
echo "== upsampling models (U-Nets, segmentation heads, 1-D ConvTranspose; torch fixtures) vs onnxruntime, float32 and int8 vs its int8"
.venv/bin/python Tools/conformance/upsampling_models.py "$(swift build --show-bin-path)"
echo "== example models on their real evaluation data (agreement and accuracy vs onnxruntime float32)"
.venv/bin/python Tools/conformance/example_models.py "$(swift build --show-bin-path)"
echo "== Embedded core on ARM (qemu-aarch64) vs x86"
Tools/embedded/check-core.sh
echo "== the same core with the ARM C kernels (the device path: neon on cortex-a72, SDOT on cortex-a76)"
VIGIL_EMBEDDED_KERNELS=1 Tools/embedded/check-core.sh
echo "== int8 kernel variants vs the generic kernel: x86 here, NEON and SDOT under qemu-aarch64"
Tools/kernels/test-arm.sh
Tools/kernels/check-isa.sh
echo "== SensorLink: shared test vectors match the spec's Python encoder; Embedded build for armv7em and aarch64"
.venv/bin/python Tools/sensorlink/make_vectors.py --check --no-cobs-oracle
Tools/sensorlink/check-embedded.sh
echo "== DICOM: every pydicom test file vs pydicom's pixel values; libFuzzer on the parser"
Tools/imaging/check.sh
echo "== vitals: R-peaks vs neurokit2 on MIT-BIH 208, pulse rate vs heartpy, respiration rate"
Tools/vitals/check.sh
echo "== SensorBridge firmware: Embedded Swift ELF for the STM32F411 within its flash/RAM budget"
Tools/firmware/check.sh
echo "== MQTT: payloads vs the JSON Schemas, broker restart, last will, TLS/auth/down errors"
Tools/mqtt/check.sh
echo "== sync: kill -9 while events flow, receiver outage, cap, poison entry (FHIR test receiver)"
Tools/sync/check.sh
echo "== agent: the demo for 20 s; sensor-sim -> pty -> vigil run -> mosquitto + FHIR receiver"
VIGIL_E2E_FLAGS=--cloud Tools/agent/check.sh
echo "== fuzz the model reader (${VIGIL_FUZZ_SECONDS:-30} s)"
Tools/fuzz/run.sh "${VIGIL_FUZZ_SECONDS:-30}"
echo "== all tests passed"
