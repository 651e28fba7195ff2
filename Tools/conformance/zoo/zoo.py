#!/usr/bin/env python3
"""Our model zoo: architectures clinical teams train, exported from PyTorch with seeded random
weights (batch 1, opset 17), converted with vigil-convert and checked against onnxruntime.

For every model it reports:
  float32   `vigil-convert --float` + `vigil infer` against onnxruntime float on the same inputs:
            max |err|, passing within 1e-4 (relative to the output's magnitude when that exceeds 1)
            or within 3x onnxruntime's own difference from PyTorch, where that is larger.
  int8      `vigil-convert --calibration` + `vigil infer` against onnxruntime float: top-1
            agreement (per pixel for segmentation) and SQNR, next to onnxruntime's own int8
            (quantize_static, QDQ, per-channel int8 weights, uint8 activations, min-max calibration)
            on the same calibration and evaluation inputs. Passing: agreement within 0.02 of
            onnxruntime's int8 or SQNR within 1 dB of it; recurrent models >= 99% agreement
            with float over 500 inputs (an exact tie of the int8 output's top scores that
            includes the float top-1 counted as agreement).
  precision the operators the int8 model runs in float32 (from the fidelity report).

Random-weight networks are poor int8 subjects: with BatchNormalization at its initial statistics
the features of a deep net barely depend on the input, and a classifier gives nearly the same
logits for every input, so top-1 would measure noise. Before export, every BatchNormalization
takes the statistics of the calibration inputs (as training would have given it), and each
classifier's last Linear is re-centred and scaled on them (bias = -W·mean(features), W scaled
so the logits have unit spread across inputs). Weights are otherwise the seeded initialisation.

Needs PyTorch and torchvision, so it runs in its own venv, never in the test command:

  Tools/conformance/zoo/setup.sh            # creates .venv-zoo (torch CPU, torchvision, onnxruntime)
  swift build -c release
  .venv-zoo/bin/python Tools/conformance/zoo/zoo.py "$(swift build -c release --show-bin-path)"
  ... --only unet_convt,vit_tiny   --report zoo.md   --keep DIR (leave the .onnx/.vigil files)

Exits non-zero when any model fails a check.
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
warnings.filterwarnings("ignore")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The fused encoder-layer kernel PyTorch picks in eval mode has no ONNX export; the exporter
# needs the plain layer (the same arithmetic).
torch.backends.mha.set_fastpath_enabled(False)

OPSET = 17
KERAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras")
N_CALIB, N_EVAL = 64, 64


# ---------------------------------------------------------------------------------------------
# Custom architectures (the shapes medical teams build: 1-D signal nets, U-Nets, recurrent
# classifiers, small transformers).

def conv_block(cin, cout, dims=2):
    Conv, BN = (nn.Conv1d, nn.BatchNorm1d) if dims == 1 else (nn.Conv2d, nn.BatchNorm2d)
    return nn.Sequential(Conv(cin, cout, 3, padding=1, bias=False), BN(cout), nn.ReLU(inplace=True),
                         Conv(cout, cout, 3, padding=1, bias=False), BN(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Two-level U-Net for 1x64x64 slices, 3 classes; decoder by ConvTranspose or by Upsample+Conv."""

    def __init__(self, up="convt", c=8, classes=3):
        super().__init__()
        self.e1, self.e2, self.b = conv_block(1, c), conv_block(c, 2 * c), conv_block(2 * c, 4 * c)
        if up == "convt":
            self.u2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2)
            self.u1 = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        else:
            self.u2 = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4 * c, 2 * c, 1))
            self.u1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.Conv2d(2 * c, c, 1))
        self.d2, self.d1 = conv_block(4 * c, 2 * c), conv_block(2 * c, c)
        self.head = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        b = self.b(F.max_pool2d(e2, 2))
        d2 = self.d2(torch.cat([self.u2(b), e2], 1))
        d1 = self.d1(torch.cat([self.u1(d2), e1], 1))
        return self.head(d1)


class ResBlock1d(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv1d(cin, cout, 7, stride, 3, bias=False)
        self.b1 = nn.BatchNorm1d(cout)
        self.c2 = nn.Conv1d(cout, cout, 7, 1, 3, bias=False)
        self.b2 = nn.BatchNorm1d(cout)
        self.skip = nn.Sequential(nn.Conv1d(cin, cout, 1, stride, bias=False), nn.BatchNorm1d(cout)) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))) + self.skip(x))


class ResNet1d(nn.Module):
    """ECG classifier: 1 lead, 1000 samples (2 s at 500 Hz), 5 rhythm classes."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(1, 16, 15, 2, 7, bias=False), nn.BatchNorm1d(16), nn.ReLU(), nn.MaxPool1d(3, 2, 1))
        self.blocks = nn.Sequential(ResBlock1d(16, 16, 1), ResBlock1d(16, 32, 2), ResBlock1d(32, 64, 2))
        self.fc = nn.Linear(64, 5)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(-1))


class TCN(nn.Module):
    """Causal temporal convolutions with dilations 1, 2, 4, 8: pad both sides, trim the future."""

    def __init__(self, c=16, k=3):
        super().__init__()
        self.k = k
        self.inp = nn.Conv1d(2, c, 1)
        self.convs = nn.ModuleList([nn.Conv1d(c, c, k, padding=(k - 1) * d, dilation=d) for d in (1, 2, 4, 8)])
        self.fc = nn.Linear(c, 4)

    def forward(self, x):
        h = self.inp(x)
        for conv in self.convs:
            trim = (self.k - 1) * conv.dilation[0]
            h = h + F.relu(conv(h)[:, :, :-trim])
        return self.fc(h[:, :, -1])


class Recurrent(nn.Module):
    """Batch-first recurrent classifier over 50 steps of 8 features (e.g. vitals trends)."""

    def __init__(self, cell="lstm", bidirectional=False, layers=1):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(8, 24, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(24 * (2 if bidirectional else 1), 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


class Encoder(nn.Module):
    """Transformer encoder over 32 steps of 12 features: Linear embed, 2 layers, mean pool, head."""

    def __init__(self, d=32):
        super().__init__()
        self.embed = nn.Linear(12, d)
        self.pos = nn.Parameter(torch.randn(1, 32, d) * 0.1)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(d, 4)

    def forward(self, x):
        return self.fc(self.enc(self.embed(x) + self.pos).mean(1))


class ViT(nn.Module):
    """A small ViT: 1x32x32 image, 4x4 patches, class token, 2 layers (GELU), LayerNorm, head."""

    def __init__(self, d=32):
        super().__init__()
        self.patch = nn.Conv2d(1, d, 4, 4)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.1)
        self.pos = nn.Parameter(torch.randn(1, 65, d) * 0.1)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 6)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), p], 1) + self.pos
        return self.fc(self.norm(self.enc(h))[:, 0])


def tv(name, **kw):
    import torchvision
    return lambda: getattr(torchvision.models, name)(weights=None, **kw)


def segmentation():
    import torchvision
    return torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=4)


class SegOut(nn.Module):
    """torchvision segmentation models return a dict; export its tensor."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


# name -> (constructor, input shape without batch, kind)
ZOO = {
    "mobilenet_v3_small": (tv("mobilenet_v3_small", num_classes=10), (3, 128, 128), "classifier"),
    "efficientnet_b0": (tv("efficientnet_b0", num_classes=10), (3, 128, 128), "classifier"),
    "shufflenet_v2": (tv("shufflenet_v2_x0_5", num_classes=10), (3, 128, 128), "classifier"),
    "regnet_x_400mf": (tv("regnet_x_400mf", num_classes=10), (3, 128, 128), "classifier"),
    "densenet121": (tv("densenet121", num_classes=10), (3, 128, 128), "classifier"),
    "resnet18": (tv("resnet18", num_classes=10), (3, 128, 128), "classifier"),
    "lraspp_mobilenet_v3": (lambda: SegOut(segmentation()), (3, 128, 128), "segmentation"),
    "unet_convt": (lambda: UNet("convt"), (1, 64, 64), "segmentation"),
    "unet_upsample": (lambda: UNet("upsample"), (1, 64, 64), "segmentation"),
    "resnet1d_ecg": (ResNet1d, (1, 1000), "classifier"),
    "tcn": (TCN, (2, 256), "classifier"),
    "lstm": (lambda: Recurrent("lstm"), (50, 8), "recurrent"),
    "gru": (lambda: Recurrent("gru"), (50, 8), "recurrent"),
    "bilstm": (lambda: Recurrent("lstm", bidirectional=True, layers=2), (50, 8), "recurrent"),
    "transformer_encoder": (Encoder, (32, 12), "classifier"),
    "vit_tiny": (ViT, (1, 32, 32), "classifier"),
    # The product's seed Keras model (Conv2D, MaxPooling2D, LSTM, Dense), saved as .h5 (Keras 2)
    # and .keras (Keras 3) and exported with tf2onnx: Tools/conformance/keras/export.py.
    "keras2_h5_lstm": (os.path.join(KERAS, "seed_keras2_h5.onnx"), (32, 8, 1), "recurrent"),
    "keras3_keras_lstm": (os.path.join(KERAS, "seed_keras3_keras.onnx"), (32, 8, 1), "recurrent"),
}


def sample_counts(kind):
    """Calibration and evaluation sizes: recurrent models are cheap and their bar (99%) needs more
    than 64 samples to mean anything."""
    return (500, 500) if kind == "recurrent" else (N_CALIB, N_EVAL)


def inputs(shape, n, seed):
    """Seeded inputs: images as smooth noise (a blurred field, closer to a scan than white noise)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n,) + shape, generator=g)
    if len(shape) == 3 and shape[1] >= 32:
        x = F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), 5, 1) * 2
    return x


def last_linear(m):
    lin = [mod for mod in m.modules() if isinstance(mod, nn.Linear)]
    return lin[-1] if lin else None


def calibrate_batchnorm(m, calib):
    """Give BatchNormalization the statistics of the calibration inputs (cumulative averages over
    one train-mode pass), as training would have: with its initial mean 0 / variance 1, a deep
    random network's features barely depend on the input (EfficientNet's logits vary by 1e-8)."""
    bns = [b for b in m.modules() if isinstance(b, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for b in bns:
        b.reset_running_stats()
        b.momentum = None
    m.train()
    with torch.no_grad():
        for chunk in calib.split(16):
            m(chunk)
    m.eval()


def rescale_head(m, calib):
    """Centre and scale the last Linear on the calibration inputs (see the module docstring)."""
    lin = last_linear(m)
    if lin is None:
        return
    feats = []
    h = lin.register_forward_hook(lambda mod, i, o: feats.append(i[0].detach().reshape(-1, i[0].shape[-1])))
    with torch.no_grad():
        m(calib)
    h.remove()
    f = torch.cat(feats)
    with torch.no_grad():
        mean = f.mean(0)
        logits = (f - mean) @ lin.weight.T
        spread = logits.std().clamp_min(1e-6)
        lin.weight /= spread
        lin.bias.copy_(-(lin.weight @ mean))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        lines = [l.strip() for l in (r.stderr + r.stdout).strip().splitlines() if l.strip()]
        if not lines:
            raise RuntimeError(f"exit {r.returncode}")
        said = lines[0].removeprefix("vigil-convert: ")
        if said.endswith(":"):  # "unsupported operators (7 nodes):" then one node per line
            said += " " + ", ".join(sorted({l.split()[0] for l in lines[1:]}))
        raise RuntimeError(said)
    return r


def ort_int8(path, calib, out, x_name):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{x_name: c[None]} for c in calib])

        def get_next(self):
            return next(self.it, None)

    quantize_static(path, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


def metrics(got, ref, kind):
    """(top-1 agreement, SQNR dB) of got against ref, per pixel for segmentation (axis 1 is the
    class axis). For recurrent models (bar: 99%) an exact tie of got's top scores that includes the
    float top-1 counts as agreement: int8 outputs are discrete, and a Softmax head's 1/256 step or
    a logit's quantization step makes close classes equal (the convention of recurrent_models.py)."""
    g, r = got.argmax(1), ref.argmax(1)
    hit = g == r
    if kind == "recurrent":
        hit |= np.take_along_axis(got, np.expand_dims(r, 1), 1)[:, 0] == got.max(1)
    agree = float(hit.mean())
    sqnr = float(10 * np.log10((ref ** 2).sum() / max(((got - ref) ** 2).sum(), 1e-30)))
    return agree, sqnr


def check(name, bins, work, log):
    import onnx
    import onnxruntime as ort
    ctor, shape, kind = ZOO[name]
    n_calib, n_eval = sample_counts(kind)
    calib_t, eval_t = inputs(shape, n_calib, 1), inputs(shape, n_eval, 2)
    path = os.path.join(work, f"{name}.onnx")
    if isinstance(ctor, str):  # a committed fixture (Keras through tf2onnx): no PyTorch reference
        import shutil
        shutil.copyfile(ctor, path)
        m, ref_torch = None, None
    else:
        torch.manual_seed(0)
        m = ctor().eval()
        calibrate_batchnorm(m, calib_t)
        if kind != "segmentation":
            rescale_head(m, calib_t)
        with torch.no_grad():
            torch.onnx.export(m, (eval_t[:1],), path, opset_version=OPSET, dynamo=False, input_names=["x"], output_names=["y"])
            ref_torch = torch.cat([m(e[None]) for e in eval_t]).numpy()
    graph = onnx.load(path).graph
    ops = sorted({n.op_type for n in graph.node})
    x_name = graph.input[0].name
    calib, ev = calib_t.numpy().astype(np.float32), eval_t.numpy().astype(np.float32)
    np.save(os.path.join(work, f"{name}.calib.npy"), calib)
    np.save(os.path.join(work, f"{name}.eval.npy"), ev)
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ref = np.concatenate([s.run(None, {x_name: e[None]})[0] for e in ev])
    row = {"model": name, "kind": kind, "onnx_ops": ops,
           "params": int(sum(np.prod(t.dims) for t in graph.initializer))}
    ort_vs_torch = float(np.abs(ref - ref_torch).max()) if ref_torch is not None else 0.0

    # float32
    try:
        v = os.path.join(work, f"{name}-float.vigil")
        run([os.path.join(bins, "vigil-convert"), path, "--float", "-o", v])
        y = os.path.join(work, f"{name}-float.npy")
        run([os.path.join(bins, "vigil"), "infer", v, "--input", os.path.join(work, f"{name}.eval.npy"), "--output", y])
        got = np.load(y).reshape(ref.shape)
        err = float(np.abs(got - ref).max())
        bound = max(1e-4 * max(1.0, float(np.abs(ref).max())), 3 * ort_vs_torch)
        row["float"] = {"max_err": err, "bound": bound, "ort_vs_torch": ort_vs_torch, "ok": err <= bound}
    except Exception as e:  # noqa: BLE001 - a failed conversion is a result to report
        row["float"] = {"error": str(e), "ok": False}

    # onnxruntime's own int8
    try:
        q = os.path.join(work, f"{name}-ort-int8.onnx")
        ort_int8(path, calib, q, x_name)
        sq = ort.InferenceSession(q, providers=["CPUExecutionProvider"])
        ref_q = np.concatenate([sq.run(None, {x_name: e[None]})[0] for e in ev])
        row["ort_int8"] = dict(zip(("agree", "sqnr"), metrics(ref_q, ref, kind)))
    except Exception as e:  # noqa: BLE001
        row["ort_int8"] = {"error": str(e).splitlines()[0][:200]}

    # ours int8
    try:
        v = os.path.join(work, f"{name}-int8.vigil")
        rep = os.path.join(work, f"{name}-report")
        run([os.path.join(bins, "vigil-convert"), path, "--calibration", os.path.join(work, f"{name}.calib.npy"), "-o", v,
             "--eval", os.path.join(work, f"{name}.eval.npy"), "--report", rep])
        y = os.path.join(work, f"{name}-int8.npy")
        run([os.path.join(bins, "vigil"), "infer", v, "--input", os.path.join(work, f"{name}.eval.npy"), "--output", y])
        got = np.load(y).reshape(ref.shape)
        agree, sqnr = metrics(got, ref, kind)
        row["int8"] = {"agree": agree, "sqnr": sqnr, "float_ops": float_ops(rep)}
        o = row.get("ort_int8", {})
        if kind == "recurrent":
            ok = agree >= 0.99
        elif "agree" in o:
            ok = agree >= o["agree"] - 0.02 or sqnr >= o["sqnr"] - 1.0
        else:
            ok = sqnr >= 25
        row["int8"]["ok"] = ok
    except Exception as e:  # noqa: BLE001
        row["int8"] = {"error": str(e), "ok": False}
    log(row)
    return row


def float_ops(report_dir):
    """The operators the int8 model runs in float32, from the converter's fidelity.json."""
    try:
        with open(os.path.join(report_dir, "fidelity.json")) as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    return sorted({o["op"] for o in doc.get("float_operators", [])})


def fmt_row(r):
    f, q, o = r.get("float", {}), r.get("int8", {}), r.get("ort_int8", {})
    fs = f"{f['max_err']:.1e}" if "max_err" in f else f"FAIL: {f.get('error', '')[:90]}"
    qs = f"{100 * q['agree']:.1f}% / {q['sqnr']:.1f} dB" if "agree" in q else ("(as float32)" if q.get("error") == f.get("error") else f"FAIL: {q.get('error', '')[:90]}")
    os_ = f"{100 * o['agree']:.1f}% / {o['sqnr']:.1f} dB" if "agree" in o else f"n/a ({o.get('error', '')[:40]})"
    fl = ", ".join(q.get("float_ops") or []) or "-"
    ok = "ok" if f.get("ok") and q.get("ok") else "FAIL"
    return f"| {r['model']} | {fs} | {qs} | {os_} | {fl} | {ok} |"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bins", help="directory with vigil and vigil-convert (a release build)")
    ap.add_argument("--only", help="comma-separated model names (default: all): " + ", ".join(ZOO))
    ap.add_argument("--report", help="write the Markdown table here")
    ap.add_argument("--json", help="write every figure as JSON here")
    ap.add_argument("--keep", help="work directory to keep (default: a temporary one)")
    a = ap.parse_args()
    names = a.only.split(",") if a.only else list(ZOO)
    unknown = [n for n in names if n not in ZOO]
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)}")
    work = a.keep or tempfile.mkdtemp(prefix="vigil-zoo-")
    os.makedirs(work, exist_ok=True)
    rows = []
    header = ["| model | float32 max \\|err\\| vs onnxruntime | Vigil int8: top-1 / SQNR | onnxruntime int8: top-1 / SQNR | float32 ops in our int8 | result |",
              "|---|---|---|---|---|---|"]
    for i, n in enumerate(names, 1):
        t = time.time()
        print(f"[{i}/{len(names)}] {n} ...", file=sys.stderr, flush=True)
        rows.append(check(n, a.bins, work, lambda r: None))
        print(f"    {fmt_row(rows[-1])}  ({time.time() - t:.0f} s)", file=sys.stderr, flush=True)
    table = "\n".join(header + [fmt_row(r) for r in rows])
    print(table)
    if a.report:
        with open(a.report, "w") as fh:
            fh.write(table + "\n")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    failed = [r["model"] for r in rows if not (r["float"].get("ok") and r["int8"].get("ok"))]
    print(f"\n{len(rows) - len(failed)}/{len(rows)} models pass" + (f"; failing: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
