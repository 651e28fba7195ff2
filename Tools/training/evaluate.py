#!/usr/bin/env python3
"""int8-vs-float fidelity of Vigil and of onnxruntime's quantize_static on one example model.

Usage: evaluate.py MODEL_DIR [--method minmax|percentile|entropy] [--vigil-convert BIN] [--vigil BIN]

MODEL_DIR holds model.onnx, calib.npy (float32 [N, ...input shape without its batch of 1]),
eval.npy (same layout), eval_labels.npy (int64 [N]) and labels.txt; train_info.json, when present,
supplies the metadata passed to vigil-convert ("convert_args") and the model card.

Engines compared, all on eval.npy, one sample at a time (the models have a fixed batch of 1):
  ORT float        onnxruntime on model.onnx: the reference
  Vigil float32    vigil-convert --float, then vigil infer (must match ORT float within 1e-4)
  Vigil int8       vigil-convert --calibration calib.npy --method M, then vigil infer, for each of
                   minmax, percentile and entropy (model.vigil is the one chosen by --method)
  ORT int8         onnxruntime.quantization.quantize_static on the same calib.npy: QDQ, per-channel
                   int8 weights, int8 activations, MinMax calibration (also Percentile and Entropy,
                   for the side-by-side), after quant_pre_process
For each: accuracy, macro precision/recall/F1 (over the classes present in eval_labels), top-1
agreement with ORT float, max/mean |score - ORT float score|. The acceptance bar: top-1 agreement
>= 99.5% and accuracy drop <= 0.5 points versus ORT float.

Writes MODEL_DIR/model.vigil, MODEL_DIR/fidelity.json, and the fidelity section of
MODEL_DIR/MODEL_CARD.md (between the <!-- fidelity:begin/end --> markers). Intermediate files
(float .vigil, other methods, onnxruntime's int8 models, raw outputs) go to a temporary directory,
or --workdir.
"""
import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]
METHODS = ["minmax", "percentile", "entropy"]
BAR_AGREEMENT = 0.995
BAR_ACC_DROP_POINTS = 0.5
FLOAT_TOL = 1e-4


# ---------------------------------------------------------------------------------------------
# metrics

def metrics(scores: np.ndarray, labels: np.ndarray, ref: np.ndarray, classes: list) -> dict:
    pred = scores.argmax(axis=1)
    ref_pred = ref.argmax(axis=1)
    present = sorted(set(int(c) for c in labels))
    prec, rec, f1 = [], [], []
    per_class = {}
    for c in present:
        tp = int(((pred == c) & (labels == c)).sum())
        fp = int(((pred == c) & (labels != c)).sum())
        fn = int(((pred != c) & (labels == c)).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        prec.append(p), rec.append(r), f1.append(f)
        per_class[classes[c] if c < len(classes) else str(c)] = {
            "support": int((labels == c).sum()), "precision": p, "recall": r, "f1": f}
    n = len(labels)
    k = scores.shape[1]
    confusion = np.zeros((k, k), dtype=int)
    for t, p in zip(labels, pred):
        confusion[int(t), int(p)] += 1
    err = np.abs(scores.astype(np.float64) - ref.astype(np.float64))
    return {
        "accuracy": float((pred == labels).mean()),
        "precision_macro": float(np.mean(prec)),
        "recall_macro": float(np.mean(rec)),
        "f1_macro": float(np.mean(f1)),
        "agreement_with_ort_float": float((pred == ref_pred).mean()),
        "disagreements_with_ort_float": int((pred != ref_pred).sum()),
        "max_abs_error": float(err.max()),
        "mean_abs_error": float(err.mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "n": n,
    }


# ---------------------------------------------------------------------------------------------
# engines

def run_ort(model_path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [1] + list(x.shape[1:])
    outs = [sess.run(None, {inp.name: x[i].reshape(shape)})[0].reshape(-1) for i in range(len(x))]
    return np.stack(outs).astype(np.float32)


class CalibReader:
    """onnxruntime CalibrationDataReader over calib.npy, one sample (batch of 1) at a time."""

    def __init__(self, x: np.ndarray, input_name: str):
        self.x, self.name, self.i = x, input_name, 0

    def get_next(self):
        if self.i >= len(self.x):
            return None
        s = self.x[self.i][None].astype(np.float32)
        self.i += 1
        return {self.name: s}

    def rewind(self):
        self.i = 0


def ort_quantize(model_path: Path, calib: np.ndarray, out_path: Path, method: str, work: Path,
                 exclude: list) -> None:
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = work / "model-pre.onnx"
    if not pre.exists():
        quant_pre_process(str(model_path), str(pre))
    name = onnx.load(str(pre)).graph.input[0].name
    cm = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
          "entropy": CalibrationMethod.Entropy}[method]
    quantize_static(str(pre), str(out_path), CalibReader(calib, name), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=cm, nodes_to_exclude=exclude or None)


def sh(cmd: list, log: list) -> str:
    log.append(" ".join(str(c) for c in cmd))
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(map(str, cmd))}\n"
                           f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r.stdout + r.stderr


def run_vigil(vigil: Path, model: Path, x_path: Path, out: Path, log: list) -> np.ndarray:
    sh([vigil, "infer", model, "--input", x_path, "--output", out], log)
    y = np.load(out)
    return y.reshape(len(y), -1).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# report

def fmt_row(name: str, m: dict, secs: float) -> str:
    return (f"| {name} | {100 * m['accuracy']:.2f}% | {m['precision_macro']:.4f} | {m['recall_macro']:.4f} | "
            f"{m['f1_macro']:.4f} | {100 * m['agreement_with_ort_float']:.2f}% ({m['disagreements_with_ort_float']}) | "
            f"{m['max_abs_error']:.2e} | {m['mean_abs_error']:.2e} | {secs:.2f} |")


def table(rows: list) -> str:
    head = ("| engine | accuracy | precision (macro) | recall (macro) | F1 (macro) | "
            "top-1 agreement with ORT float (disagreements) | max abs err | mean abs err | time (s) |\n"
            "|---|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(fmt_row(r["engine"], r["metrics"], r["seconds"]) for r in rows)


def verdict(m: dict, ref: dict) -> dict:
    drop = 100 * (ref["accuracy"] - m["accuracy"])
    return {"accuracy_drop_points": drop,
            "agreement_ok": m["agreement_with_ort_float"] >= BAR_AGREEMENT,
            "accuracy_drop_ok": drop <= BAR_ACC_DROP_POINTS,
            "passes": bool(m["agreement_with_ort_float"] >= BAR_AGREEMENT and drop <= BAR_ACC_DROP_POINTS)}


def main() -> int:
    ap = argparse.ArgumentParser(description="int8-vs-float fidelity: Vigil and onnxruntime quantize_static")
    ap.add_argument("model_dir")
    ap.add_argument("--method", default="minmax", choices=METHODS,
                    help="calibration method of the model.vigil written into MODEL_DIR (default minmax)")
    ap.add_argument("--vigil-convert", default=str(ROOT / ".build" / "debug" / "vigil-convert"))
    ap.add_argument("--vigil", default=str(ROOT / ".build" / "debug" / "vigil"))
    ap.add_argument("--keep-float", default=None,
                    help="ONNX nodes to keep in float32, comma separated (default: train_info.json 'keep_float'). "
                         "Vigil int8 is then evaluated both without and with them (vigil-convert --keep-float), "
                         "ORT int8 with them excluded (nodes_to_exclude), and model.vigil uses them")
    ap.add_argument("--workdir", default=None, help="keep intermediate files here (default: a temporary dir)")
    args = ap.parse_args()

    d = Path(args.model_dir).resolve()
    convert, vigil = Path(args.vigil_convert), Path(args.vigil)
    for f in ["model.onnx", "calib.npy", "eval.npy", "eval_labels.npy", "labels.txt"]:
        if not (d / f).exists():
            print(f"evaluate: {d / f} is missing", file=sys.stderr)
            return 2
    for b in [convert, vigil]:
        if not b.exists():
            print(f"evaluate: {b} not found; build it: swift build --product {b.name}", file=sys.stderr)
            return 2
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="vigil-eval-"))
    work.mkdir(parents=True, exist_ok=True)

    calib = np.load(d / "calib.npy").astype(np.float32)
    x = np.load(d / "eval.npy").astype(np.float32)
    y = np.load(d / "eval_labels.npy").astype(np.int64)
    classes = [l.strip() for l in (d / "labels.txt").read_text().splitlines() if l.strip()]
    info = json.loads((d / "train_info.json").read_text()) if (d / "train_info.json").exists() else {}
    meta_args = info.get("convert_args", [])
    keep = [n for n in (args.keep_float.split(",") if args.keep_float is not None
                        else info.get("keep_float", [])) if n]
    log: list = []
    rows = []

    # (a) onnxruntime float: the reference.
    t = time.time()
    ref = run_ort(d / "model.onnx", x)
    rows.append({"engine": "ORT float32 (reference)", "key": "ort_float", "scores": ref, "seconds": time.time() - t})

    # (b) Vigil float32 and int8.
    t = time.time()
    sh([convert, d / "model.onnx", "--float", "-o", work / "model-float.vigil", *meta_args], log)
    conv_float_s = time.time() - t
    t = time.time()
    vf = run_vigil(vigil, work / "model-float.vigil", d / "eval.npy", work / "vigil-float.npy", log)
    rows.append({"engine": "Vigil float32", "key": "vigil_float32", "scores": vf, "seconds": time.time() - t,
                 "convert_seconds": conv_float_s})
    configs = [([], "")] + ([(["--keep-float", ",".join(keep)], ", float " + ",".join(keep))] if keep else [])
    for extra, tag in configs:
        for method in METHODS:
            suffix = method + ("-keepfloat" if extra else "")
            out_model = work / f"model-int8-{suffix}.vigil"
            t = time.time()
            sh([convert, d / "model.onnx", "--calibration", d / "calib.npy", "--method", method, *extra,
                "-o", out_model, "--eval", d / "eval.npy", "--labels", d / "eval_labels.npy",
                "--labels-file", d / "labels.txt", *meta_args], log)
            conv_s = time.time() - t
            t = time.time()
            vq = run_vigil(vigil, out_model, d / "eval.npy", work / f"vigil-int8-{suffix}.npy", log)
            rows.append({"engine": f"Vigil int8 ({method}{tag})", "key": f"vigil_int8_{suffix.replace('-', '_')}",
                         "scores": vq, "seconds": time.time() - t, "convert_seconds": conv_s})
    chosen = args.method + ("-keepfloat" if keep else "")
    shutil.copyfile(work / f"model-int8-{chosen}.vigil", d / "model.vigil")

    # (c) onnxruntime quantize_static, same calibration data.
    for method in METHODS:
        q = work / f"model-ort-int8-{method}.onnx"
        t = time.time()
        ort_quantize(d / "model.onnx", calib, q, method, work, keep)
        qs = time.time() - t
        t = time.time()
        rows.append({"engine": f"ORT int8 QDQ ({method}" + (", excluded " + ",".join(keep) if keep else "") + ")", "key": f"ort_int8_{method}", "scores": run_ort(q, x),
                     "seconds": time.time() - t, "quantize_seconds": qs})

    for r in rows:
        r["metrics"] = metrics(r["scores"], y, ref, classes)
    ref_m = rows[0]["metrics"]
    float_diff = float(np.abs(vf.astype(np.float64) - ref.astype(np.float64)).max())

    # Print the table.
    print(f"\n{d.name}: {len(x)} evaluation samples, {len(calib)} calibration samples, classes {classes}")
    print(table(rows))
    print(f"\nVigil float32 vs ORT float: max |diff| = {float_diff:.3e} "
          f"({'OK' if float_diff <= FLOAT_TOL else 'EXCEEDS'} tolerance {FLOAT_TOL:g})")
    print(f"bar: top-1 agreement >= {100 * BAR_AGREEMENT:.1f}% and accuracy drop <= {BAR_ACC_DROP_POINTS} points")
    for r in rows[2:]:
        v = verdict(r["metrics"], ref_m)
        r["verdict"] = v
        print(f"  {r['engine']:<50} agreement {100 * r['metrics']['agreement_with_ort_float']:6.2f}%  "
              f"accuracy drop {v['accuracy_drop_points']:+.2f} points  -> {'PASS' if v['passes'] else 'MISS'}")

    def git_rev():
        try:
            rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip()
            return rev or None
        except OSError:
            return None

    vigil_version = subprocess.run([str(vigil), "--version"], capture_output=True, text=True).stdout.strip()
    report = {
        "model": d.name,
        "eval_samples": int(len(x)),
        "calibration_samples": int(len(calib)),
        "classes": classes,
        "reference": "onnxruntime float32 on model.onnx",
        "bar": {"top1_agreement_min": BAR_AGREEMENT, "accuracy_drop_max_points": BAR_ACC_DROP_POINTS},
        "model_vigil_method": args.method,
        "model_vigil_keep_float": keep,
        "vigil_float32_vs_ort_float_max_abs_diff": float_diff,
        "vigil_float32_within_1e-4": bool(float_diff <= FLOAT_TOL),
        "engines": {r["key"]: {"engine": r["engine"], **r["metrics"], "seconds": round(r["seconds"], 2),
                               **({"verdict": r["verdict"]} if "verdict" in r else {}),
                               **{k: round(r[k], 2) for k in ("convert_seconds", "quantize_seconds") if k in r}}
                    for r in rows},
        "ort_quantize_static": {"quant_format": "QDQ", "per_channel": True, "activation_type": "QInt8",
                                "weight_type": "QInt8", "preprocess": "quant_pre_process",
                                "calibration": "calib.npy, batch of 1"},
        "versions": {"vigil": vigil_version, "git": git_rev(), "onnxruntime": ort.__version__,
                     "onnx": onnx.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "commands": log,
    }
    (d / "fidelity.json").write_text(json.dumps(report, indent=2) + "\n")
    write_card_section(d, report, rows, ref_m, float_diff)
    print(f"\nwrote {d / 'fidelity.json'}, {d / 'model.vigil'} ({args.method}), MODEL_CARD.md fidelity section"
          + (f"; intermediates in {work}" if args.workdir else ""))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def write_card_section(d: Path, report: dict, rows: list, ref_m: dict, float_diff: float) -> None:
    lines = [
        "## int8 fidelity (generated by `Tools/training/evaluate.py`)",
        "",
        f"{report['eval_samples']} evaluation samples (`eval.npy`), {report['calibration_samples']} calibration "
        f"samples (`calib.npy`). Reference: onnxruntime {report['versions']['onnxruntime']} float32 on "
        "`model.onnx`. Macro precision/recall/F1 over the classes present in `eval_labels.npy`; errors are "
        "on the output scores (softmax probabilities) against the reference. Vigil "
        f"`{report['versions']['vigil']}` (git {report['versions']['git']}).",
        "",
        table(rows),
        "",
        f"- Vigil float32 vs ORT float32: max |diff| = {float_diff:.2e} "
        f"({'within' if float_diff <= FLOAT_TOL else '**exceeds**'} 1e-4).",
        f"- Bar: top-1 agreement ≥ {100 * BAR_AGREEMENT:.1f}% and accuracy drop ≤ {BAR_ACC_DROP_POINTS} points "
        "versus ORT float32:",
    ]
    for r in rows[2:]:
        v = r["verdict"]
        lines.append(f"  - {r['engine']}: agreement {100 * r['metrics']['agreement_with_ort_float']:.2f}%, "
                     f"accuracy drop {v['accuracy_drop_points']:+.2f} points — "
                     f"{'**pass**' if v['passes'] else '**miss**'}")
    lines += [
        f"- `model.vigil` is the Vigil int8 model calibrated with `--method {report['model_vigil_method']}`"
        + (f" and `--keep-float {','.join(report['model_vigil_keep_float'])}`." if report['model_vigil_keep_float'] else "."),
        "- time (s): inference over all evaluation samples (vigil: one `vigil infer` process, debug build, "
        "including start-up; onnxruntime: in-process, one sample per run call).",
        "- ORT int8: `onnxruntime.quantization.quantize_static` after `quant_pre_process`, QDQ format, "
        "per-channel int8 weights, int8 activations, the same `calib.npy` (batch of 1), calibration method "
        "as named.",
        "- Full figures (per class, confusion matrices, commands): `fidelity.json`.",
    ]
    section = "\n".join(lines)
    card_path = d / "MODEL_CARD.md"
    card = card_path.read_text() if card_path.exists() else f"# {d.name}\n\n<!-- fidelity:begin -->\n<!-- fidelity:end -->\n"
    b, e = "<!-- fidelity:begin -->", "<!-- fidelity:end -->"
    if b in card and e in card:
        card = card[: card.index(b) + len(b)] + "\n" + section + "\n" + card[card.index(e):]
    else:
        card = card.rstrip() + f"\n\n{b}\n{section}\n{e}\n"
    card_path.write_text(card)


if __name__ == "__main__":
    sys.exit(main())
