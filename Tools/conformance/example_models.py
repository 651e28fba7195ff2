#!/usr/bin/env python3
"""Re-checks the committed example models (Models/ecg-rhythm, Models/breast-cancer-mlp) on their real
evaluation data: converts model.onnx again with vigil-convert (min-max calibration on calib.npy),
runs it and the committed model.vigil with `vigil infer`, and compares with onnxruntime float32 on
model.onnx: top-1 agreement >= 99.5% and accuracy drop <= 0.5 points; the float32 conversion must
match onnxruntime within 1e-4. Usage: example_models.py BIN_DIR
"""
import os, subprocess, sys, tempfile
import numpy as np
import onnxruntime as ort

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def infer(bins, model, x, d, name):
    out = os.path.join(d, f"{name}.npy")
    subprocess.run([os.path.join(bins, "vigil"), "infer", model, "--input", x, "--output", out], check=True)
    return np.load(out)


def main():
    bins = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for name in ("ecg-rhythm", "breast-cancer-mlp"):
            m = os.path.join(ROOT, "Models", name)
            x, labels = os.path.join(m, "eval.npy"), np.load(os.path.join(m, "eval_labels.npy"))
            s = ort.InferenceSession(os.path.join(m, "model.onnx"))
            feed = s.get_inputs()[0].name
            ref = np.concatenate([s.run(None, {feed: e[None]})[0] for e in np.load(x)])
            acc_ref = (ref.argmax(1) == labels).mean()
            conv = {}
            for mode, extra in (("float", ["--float"]), ("int8", ["--calibration", os.path.join(m, "calib.npy")])):
                v = os.path.join(d, f"{name}-{mode}.vigil")
                subprocess.run([os.path.join(bins, "vigil-convert"), os.path.join(m, "model.onnx"), "-o", v] + extra,
                               check=True, capture_output=True)
                conv[mode] = infer(bins, v, x, d, f"{name}-{mode}").reshape(ref.shape)
            err = np.abs(conv["float"] - ref).max()
            ok = err <= 1e-4
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name:18s} float32 vs onnxruntime: max |err| {err:.2e}")
            for label, y in (("int8 (converted now)", conv["int8"]),
                             ("int8 (committed model.vigil)", infer(bins, os.path.join(m, "model.vigil"), x, d, f"{name}-committed").reshape(ref.shape))):
                agree = (y.argmax(1) == ref.argmax(1)).mean()
                drop = 100 * (acc_ref - (y.argmax(1) == labels).mean())
                ok = agree >= 0.995 and drop <= 0.5
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name:18s} {label}: agreement {100 * agree:.2f}%, accuracy drop {drop:+.2f} points "
                      f"({len(labels)} real samples)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
