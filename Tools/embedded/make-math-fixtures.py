#!/usr/bin/env python3
"""Writes the check-core fixtures of the Reduce / UnaryFunction / Sub / Div / Max / Min / Expand
operators: Models/test/{eeg-net,attention-cnn}-taps.vigil (int8, every intermediate value also a
graph output, so check-core compares each operator's output, not only the last) and their
-input.npy (4 samples). The models are eeg_net and attention_cnn of
Tools/conformance/converter_models.py, calibrated on their own 200 seeded calibration inputs.

Usage: make-math-fixtures.py BIN_DIR   (from the repository root; needs vigil-convert built)
"""
import os, subprocess, sys, tempfile
import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
import converter_models as cm  # noqa: E402


def main():
    bins = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        for build, stem in ((cm.eeg_net, "eeg-net"), (cm.attention_cnn, "attention-cnn")):
            m, shape = build()
            outputs = {o.name for o in m.graph.output}
            for n in m.graph.node:
                for o in n.output:
                    if o and o not in outputs:
                        m.graph.output.append(helper.make_tensor_value_info(o, TensorProto.FLOAT, None))
                        outputs.add(o)
            path = os.path.join(d, f"{stem}.onnx")
            onnx.save(m, path)
            x = np.random.default_rng(cm.INPUT_SEEDS[m.graph.name]).normal(0, 1, (264,) + shape).astype(np.float32)
            np.save(os.path.join(d, "calib.npy"), x[:200])
            np.save(f"Models/test/{stem}-input.npy", x[200:204])
            subprocess.run([os.path.join(bins, "vigil-convert"), path, "--calibration", os.path.join(d, "calib.npy"),
                            "-o", f"Models/test/{stem}-taps.vigil"], check=True)


if __name__ == "__main__":
    main()
