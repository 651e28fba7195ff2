#!/usr/bin/env bash
# The main job on its bundled demo. Until the bedside agent (`vigil run`) lands, the demo shows the
# runtime: it inspects the bundled test model and runs it on the bundled input windows.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh >/dev/null
swift build -c release --product vigil
VIGIL=.build/release/vigil
$VIGIL inspect Models/test/synthetic-ecg-cnn.vigil
OUT="$(mktemp -d)"
$VIGIL infer Models/test/synthetic-ecg-cnn.vigil --input Models/test/synthetic-ecg-input.npy --output "$OUT/scores.npy"
.venv/bin/python -c "import numpy as np, sys; y = np.load(sys.argv[1]); print('scores', y.shape); print(np.round(y, 3))" "$OUT/scores.npy"
