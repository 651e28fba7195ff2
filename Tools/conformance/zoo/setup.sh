#!/usr/bin/env bash
# Creates, idempotently, the venv the model zoo needs: PyTorch (the CPU wheel when its index is
# reachable), torchvision, onnx, onnxruntime. Kept apart from .venv: the test command never
# installs PyTorch.
set -euo pipefail
cd "$(dirname "$0")/../../.."
VENV=".venv-zoo"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import torch, torchvision, onnx, onnxruntime, onnxscript" 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check torch --index-url https://download.pytorch.org/whl/cpu ||
    "$VENV/bin/pip" install -q --disable-pip-version-check torch
  "$VENV/bin/pip" install -q --disable-pip-version-check torchvision onnx onnxruntime onnxscript
fi
"$VENV/bin/python" -c "import torch, torchvision, onnxruntime; print('zoo venv: torch', torch.__version__, 'torchvision', torchvision.__version__, 'onnxruntime', onnxruntime.__version__)"
