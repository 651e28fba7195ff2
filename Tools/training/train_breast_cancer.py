#!/usr/bin/env python3
"""Train the `breast-cancer-mlp` example model on scikit-learn's Wisconsin diagnostic breast cancer data.

Data: sklearn.datasets.load_breast_cancer (569 samples, 30 features, shipped inside scikit-learn;
no download). Classes: 0 malignant, 1 benign (scikit-learn's coding). Fixed stratified split,
70% train / 30% test, random_state 0.

Model: standardisation (training-set mean and standard deviation) -> Linear 30->32 -> ReLU ->
Linear 32->16 -> ReLU -> Linear 16->2 -> Softmax, trained in PyTorch.

The standardisation is part of the exported model, so model.onnx takes the 30 raw features.
--standardize chooses how:
  sub-div  (default) explicit Sub(mean) and Div(std) nodes with constant operands before the first
           Gemm; the converter quantizes the standardised features, which share one scale.
  fold     folded into the first layer (W' = W / std, b' = b - W' @ mean); the input tensor is the
           raw features, whose ranges differ by 5 orders of magnitude (area ~ 1e3, fractal
           dimension ~ 0.06), so one per-tensor int8 input scale erases most of them.
  external not in the model; calib/eval hold standardised features and the mean/std are recorded
           as the preprocessing recipe (train_info.json convert_args: --input-mean/--input-std).

Writes into OUT_DIR (default Models/breast-cancer-mlp): model.onnx (opset 17, batch 1),
calib.npy (the training set), eval.npy / eval_labels.npy (the test set), labels.txt,
train_info.json, MODEL_CARD.md (the fidelity section is filled by evaluate.py).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

SEED = 20240611
SPLIT_SEED = 0
TEST_SIZE = 0.3
EPOCHS = 300
ROOT = Path(__file__).resolve().parents[2]
LABELS = ["malignant", "benign"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "Models" / "breast-cancer-mlp"))
    ap.add_argument("--standardize", default="sub-div", choices=["sub-div", "fold", "external"])
    args = ap.parse_args()
    out = Path(args.out)

    import sklearn
    import torch
    import torch.nn as nn
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    t0 = time.time()
    torch.manual_seed(SEED)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    data = load_breast_cancer()
    x, y = data.data.astype(np.float64), data.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=y)
    mean = xtr.mean(axis=0)
    std = xtr.std(axis=0)
    ztr = ((xtr - mean) / std).astype(np.float32)
    zte = ((xte - mean) / std).astype(np.float32)

    mlp = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.AdamW(mlp.parameters(), lr=3e-3, weight_decay=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(ztr), torch.from_numpy(ytr)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        mlp.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            loss = loss_fn(mlp(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    mlp.eval()
    with torch.no_grad():
        train_acc = float((mlp(xt).argmax(1) == yt).float().mean())
        test_acc = float((mlp(torch.from_numpy(zte)).argmax(1).numpy() == yte).mean())
    t_train = time.time() - t0
    print(f"train acc {train_acc:.4f}, test acc {test_acc:.4f} (torch float, {t_train:.1f}s)", flush=True)

    class Standardize(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

        def forward(self, v):
            return (v - self.mean) / self.std

    if args.standardize == "sub-div":
        export = nn.Sequential(Standardize(), mlp, nn.Softmax(dim=-1))
        x_cal, x_eval = xtr.astype(np.float32), xte.astype(np.float32)
    elif args.standardize == "fold":
        first = nn.Linear(30, 32)
        with torch.no_grad():
            w = mlp[0].weight.double() / torch.tensor(std)
            first.weight.copy_(w.float())
            first.bias.copy_((mlp[0].bias.double() - w @ torch.tensor(mean)).float())
        export = nn.Sequential(first, *list(mlp)[1:], nn.Softmax(dim=-1))
        x_cal, x_eval = xtr.astype(np.float32), xte.astype(np.float32)
    else:
        export = nn.Sequential(mlp, nn.Softmax(dim=-1))
        x_cal, x_eval = ztr, zte
    export.eval()

    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "model.onnx"
    torch.onnx.export(export, (torch.zeros(1, 30),), str(onnx_path), dynamo=False, opset_version=17,
                      input_names=["features"], output_names=["probabilities"], do_constant_folding=True)
    import onnx
    m = onnx.load(str(onnx_path))
    m.producer_name = "Vigil Tools/training/train_breast_cancer.py"
    m.doc_string = ("Malignant/benign from the 30 Wisconsin diagnostic breast cancer features"
                    + (" (raw values)" if args.standardize != "external" else " (standardised)")
                    + ". Example model, not for clinical use.")
    onnx.checker.check_model(m)
    onnx.save(m, str(onnx_path))
    with torch.no_grad():
        exp_acc = float((export(torch.from_numpy(x_eval)).argmax(1).numpy() == yte).mean())
    assert abs(exp_acc - test_acc) < 1e-9, (exp_acc, test_acc)

    np.save(out / "calib.npy", x_cal)
    np.save(out / "eval.npy", x_eval)
    np.save(out / "eval_labels.npy", yte.astype(np.int64))
    (out / "labels.txt").write_text("\n".join(LABELS) + "\n")

    convert_args = ["--name", "breast-cancer-mlp", "--model-version", "1", "--input-kind", "features",
                    "--intended-use", "Example model for measuring int8-vs-float fidelity. Not for clinical use."]
    if args.standardize == "external":
        convert_args += ["--input-mean", ",".join(f"{v:.9g}" for v in mean),
                         "--input-std", ",".join(f"{v:.9g}" for v in std)]
    # With the standardisation inside the model, keep its Sub/Div in float32: the raw features span
    # five orders of magnitude, so neither they nor the per-feature mean/(1/std) vectors survive one
    # per-tensor int8 scale (onnxruntime's quantize_static leaves Sub/Div unquantized by default).
    keep_float = [n.name for n in m.graph.node if n.op_type in ("Sub", "Div")] if args.standardize == "sub-div" else []
    info = {
        "model": "breast-cancer-mlp",
        "task": "binary classification: 0 malignant, 1 benign",
        "input": {"name": "features", "shape": [1, 30],
                  "features": list(map(str, data.feature_names)),
                  "standardization": args.standardize,
                  "train_mean": [float(v) for v in mean], "train_std": [float(v) for v in std]},
        "output": {"name": "probabilities", "shape": [1, 2], "kind": "softmax"},
        "parameters": int(sum(p.numel() for p in mlp.parameters())),
        "seed": SEED,
        "split": {"test_size": TEST_SIZE, "random_state": SPLIT_SEED, "stratified": True,
                  "train": int(len(xtr)), "test": int(len(xte)),
                  "train_class_counts": np.bincount(ytr, minlength=2).tolist(),
                  "test_class_counts": np.bincount(yte, minlength=2).tolist()},
        "training": {"epochs": EPOCHS, "batch": 32, "optimizer": "AdamW lr 3e-3, weight decay 1e-2",
                     "train_accuracy": round(train_acc, 4), "test_accuracy_torch": round(test_acc, 4)},
        "calibration": {"samples": int(len(x_cal)), "source": "the whole training split"},
        "convert_args": convert_args,
        "keep_float": keep_float,
        "timings_s": {"total": round(time.time() - t0, 1)},
        "versions": {"torch": torch.__version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__,
                     "onnx": onnx.__version__},
    }
    (out / "train_info.json").write_text(json.dumps(info, indent=2) + "\n")
    write_model_card(out, info)
    print(f"wrote {out} in {time.time() - t0:.1f}s", flush=True)
    return 0


def write_model_card(out: Path, info: dict) -> None:
    sp, tr = info["split"], info["training"]
    std_text = {
        "sub-div": "inside the model as `Sub(mean)` and `Div(std)` nodes with constant operands (training-split "
                   "statistics), so `features` are the **raw** values",
        "fold": "folded into the first layer (W' = W/std, b' = b − W'·mean), so `features` are the **raw** values",
        "external": "outside the model: `features` must be standardised with the training-split mean and standard "
                    "deviation recorded in `train_info.json` and in the model's preprocessing metadata",
    }[info["input"]["standardization"]]
    conv_text = ""
    if info["keep_float"]:
        conv_text = f"""
**Conversion:** `vigil-convert model.onnx --calibration calib.npy --keep-float {','.join(info['keep_float'])} -o model.vigil`.
The standardisation nodes stay in float32 and the int8 part starts at the first Gemm. Without
`--keep-float`, Vigil quantizes the raw features with one per-tensor int8 scale (≈ 16.7 for a
range of ~4250), which erases every feature below ~8, and quantizes the per-feature mean and 1/std
vectors per tensor too; the int8 model then predicts one class for every sample (see the fidelity
table). onnxruntime's `quantize_static` leaves Sub/Div in float by default.
"""
    card = f"""# breast-cancer-mlp — example model card

**Not for clinical use.** An example model that exists to measure how faithfully Vigil's int8
conversion reproduces a float model. It is not a medical device and has not been validated
clinically; the data set is small, old and from one institution.

## Task
Malignant (`0`) or benign (`1`) from 30 features of a fine-needle-aspirate image
(`labels.txt`).

- **Input** `features`: float32 `[1, 30]`, in scikit-learn's feature order (`train_info.json`).
  Standardisation is {std_text}.
- **Output** `probabilities`: float32 `[1, 2]`, softmax.
{conv_text}
## Data
Wisconsin Diagnostic Breast Cancer data set as shipped by scikit-learn
(`sklearn.datasets.load_breast_cancer`, {info['versions']['scikit-learn']}): 569 samples (212 malignant,
357 benign). Stratified split, test fraction {sp['test_size']}, `random_state={sp['random_state']}`:
{sp['train']} training samples {sp['train_class_counts']}, {sp['test']} test samples {sp['test_class_counts']}
(malignant, benign).

- Calibration (`calib.npy`): the whole training split ({sp['train']} samples).
- Evaluation (`eval.npy`, `eval_labels.npy`): the test split ({sp['test']} samples).

## Model and training
MLP 30 → 32 → 16 → 2 with ReLU, softmax output ({info['parameters']} parameters), PyTorch
{info['versions']['torch']}; {tr['optimizer']}, batch {tr['batch']}, {tr['epochs']} epochs, seed {info['seed']}.
Training accuracy {tr['train_accuracy']:.4f}; test accuracy (PyTorch float) {tr['test_accuracy_torch']:.4f}.
Exported with `torch.onnx.export` (TorchScript exporter, opset 17, batch 1).

## Limitations
- **Not for clinical use.**
- {sp['test']} test samples: one misclassified sample moves accuracy by {100 / sp['test']:.2f} points, and
  one int8/float disagreement moves top-1 agreement by the same amount — so the 99.5% agreement bar
  allows no disagreement at all on this test set.
- One split of a small data set; no cross-validation, no calibration of the probabilities.

<!-- fidelity:begin -->
_Fidelity section not yet generated: run `Tools/training/evaluate.py` on this directory._
<!-- fidelity:end -->
"""
    (out / "MODEL_CARD.md").write_text(card)


if __name__ == "__main__":
    sys.exit(main())
