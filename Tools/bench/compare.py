#!/usr/bin/env python3
"""One-run latency and agreement comparison on the reference models: Vigil int8 (`vigil bench`)
against ONNX Runtime float32 and int8 (quantize_static, QDQ, per-channel int8 weights, with int8 and
with uint8 activations) and LiteRT float32 and int8 (.tflite made by litert-torch, int8 through its
PT2E post-training quantizer), every engine on one thread, same machine, same run. Prints one table;
the machines are shared and noisy, so read the ratios.

The reference models are PyTorch modules with seeded random weights (He-normal; latency does not
depend on the weight values), defined here once and exported from the same module objects to ONNX
(torch.onnx.export, for Vigil and ONNX Runtime) and to .tflite (litert-torch, for LiteRT):
a 1D ECG CNN on [1,1,720], a MobileNet-style CNN on a 128x128 grayscale image, MobileNetV2 (the
architecture of Sandler et al. 2018, width 1.0, batch norm folded into conv biases) on
[1,3,224,224], and a small MLP on 30 features.

Every int8 engine is calibrated on the same 16 seeded N(0,1) inputs and compared with the PyTorch
float output on 64 other seeded inputs (top-1 agreement and max |difference| of the softmax
output). Peers run through their Python APIs; their per-call overhead is measured on an identity
graph and printed, with the ratio net of it, so small-model ratios are read honestly. Vigil is
timed in-process by `vigil bench` (no Python in its loop).

Runs in its own venv (Tools/bench/requirements.txt, created by Tools/bench/run.sh).

Usage: compare.py BIN_DIR [--runs N] [--rounds R] [--only NAME]... [--json OUT] [--markdown] [--keep DIR]
"""
import argparse, contextlib, json, logging, os, platform, subprocess, sys, tempfile, time, traceback, warnings

os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from onnx import TensorProto, helper

SEED = 7
N_CALIB, N_EVAL = 16, 64


# ---------------------------------------------------------------- reference models (PyTorch)

def conv(cin, cout, k, stride=1, groups=1, act=nn.ReLU6, dims=2):
    c = (nn.Conv1d if dims == 1 else nn.Conv2d)(cin, cout, k, stride, k // 2, groups=groups)
    return [c, act()] if act else [c]


class Head(nn.Module):
    """Global average pool, fully connected, softmax."""

    def __init__(self, c, classes, dims=2):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool1d(1) if dims == 1 else nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return torch.softmax(self.fc(torch.flatten(self.pool(x), 1)), dim=-1)


class Net(nn.Module):
    def __init__(self, body, head):
        super().__init__()
        self.body, self.head = nn.Sequential(*body), head

    def forward(self, x):
        return self.head(self.body(x))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, t, stride):
        super().__init__()
        h = cin * t
        layers = (conv(cin, h, 1) if t != 1 else []) + conv(h, h, 3, stride, groups=h) + conv(h, cout, 1, act=None)
        self.f = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.f(x) if self.res else self.f(x)


def ecg_cnn():
    body = conv(1, 16, 7, 2, act=nn.ReLU, dims=1) + [nn.MaxPool1d(2, 2)]
    body += conv(16, 32, 5, 2, act=nn.ReLU, dims=1) + conv(32, 64, 5, 2, act=nn.ReLU, dims=1)
    body += conv(64, 64, 3, act=nn.ReLU, dims=1)
    return Net(body, Head(64, 5, dims=1)), (1, 1, 720)


def mobilenet_gray128():
    body, c = conv(1, 16, 3, 2), 16
    for cout, s in [(32, 2), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2)]:
        body += conv(c, c, 3, s, groups=c) + conv(c, cout, 1)   # depthwise, pointwise
        c = cout
    return Net(body, Head(c, 4)), (1, 1, 128, 128)


def mobilenet_v2():
    body, c = conv(3, 32, 3, 2), 32
    for t, cout, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            body.append(InvertedResidual(c, cout, t, s if i == 0 else 1))
            c = cout
    return Net(body + conv(c, 1280, 1), Head(1280, 1000)), (1, 3, 224, 224)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        return torch.softmax(self.f(x), dim=-1)


def mlp():
    return MLP(), (1, 30)


MODELS = {"ecg_cnn_1d": ecg_cnn, "mobilenet_gray128": mobilenet_gray128, "mobilenet_v2": mobilenet_v2, "mlp": mlp}


def build(name):
    torch.manual_seed(SEED)
    m, shape = MODELS[name]()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                mod.weight.normal_(0, (2 / fan_in) ** 0.5)
                mod.bias.normal_(0, 0.01)
        last = [mod for mod in m.modules() if isinstance(mod, nn.Linear)][-1]   # logits: unit-variance init
        last.weight.normal_(0, (1 / last.weight.shape[1]) ** 0.5)
        last.bias.zero_()
    return m.eval(), shape


# ---------------------------------------------------------------- helpers

@contextlib.contextmanager
def quiet():
    """Silences Python and C++ output (converters log to fd 1/2) while converting."""
    sys.stdout.flush(); sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1); os.dup2(null, 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(saved[0], 1); os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def median_us(call, runs, warmup=10):
    for _ in range(warmup):
        call()
    t = np.empty(runs)
    for i in range(runs):
        a = time.perf_counter_ns()
        call()
        t[i] = time.perf_counter_ns() - a
    return float(np.median(t)) / 1000


def agreement(y, ref):
    y, ref = y.reshape(len(ref), -1), ref.reshape(len(ref), -1)
    return {"top1_agree": float(np.mean(y.argmax(1) == ref.argmax(1))), "max_abs_diff": float(np.abs(y - ref).max())}


class Engine:
    """A peer engine: `call()` is the timed inference on one input, `predict(xs)` the outputs on many."""

    def __init__(self, name, call, predict):
        self.name, self.call, self.predict = name, call, predict


# ---------------------------------------------------------------- ONNX Runtime

def ort_session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_engine(name, path, x0):
    s = ort_session(path)
    feed = {"x": x0}
    return Engine(name, lambda: s.run(None, feed), lambda xs: np.stack([s.run(None, {"x": x})[0] for x in xs]))


def ort_quantize(path, calib, activation):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"x": c} for c in calib])

        def get_next(self):
            return next(self.it, None)

    act = {"s8": QuantType.QInt8, "u8": QuantType.QUInt8}[activation]
    out = path.replace(".onnx", f"-ort-{activation}.onnx")
    quantize_static(path, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=act, weight_type=QuantType.QInt8)
    return out


def ort_identity_overhead(d, runs):
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])])
    path = os.path.join(d, "identity.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    return ort_engine("ORT identity", path, np.zeros((1, 16), np.float32))


# ---------------------------------------------------------------- LiteRT (litert-torch export)

def litert_available():
    try:
        with quiet():
            import litert_torch  # noqa: F401
            from ai_edge_litert.interpreter import Interpreter  # noqa: F401
        return None
    except Exception as e:  # reported in the table's notes, the columns stay empty
        why = os.environ.get("BENCH_LITERT_INSTALL_ERROR")
        return (f"LiteRT columns empty: litert-torch / ai-edge-litert not importable ({type(e).__name__}: {e})"
                + (f"; their install failed: {why}" if why else ""))


def channels_last(x):
    """NC... -> N...C: the .tflite models take channel-last input (litert_torch.to_channel_last_io)."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if x.ndim >= 3 else x


def litert_convert(m, shape, calib, path, int8):
    import litert_torch
    if len(shape) >= 3:
        m = litert_torch.to_channel_last_io(m, args=[0]).eval()
    sample = (torch.from_numpy(channels_last(np.zeros(shape, np.float32))),)
    with quiet():
        if not int8:
            em = litert_torch.convert(m, sample)
        else:
            # litert-torch's documented post-training path: torch.export -> PT2E prepare with its
            # PT2EQuantizer (symmetric, per-channel int8 weights, int8 activations) -> calibrate ->
            # convert_pt2e -> litert_torch.convert with the same quantizer in QuantConfig.
            from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
            from litert_torch.quantize.quant_config import QuantConfig
            from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
            q = PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
            pm = prepare_pt2e(torch.export.export(m, sample).module(), q)
            with torch.no_grad():
                for c in calib:
                    pm(torch.from_numpy(channels_last(c)))
            pm = convert_pt2e(pm, fold_quantize=False)
            em = litert_torch.convert(pm, sample, quant_config=QuantConfig(pt2e_quantizer=q))
        em.export(path)
    return path


def litert_engine(name, path, x0):
    from ai_edge_litert.interpreter import Interpreter
    with quiet():
        it = Interpreter(model_path=path, num_threads=1)
        it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    si, zi = i["quantization"]
    so, zo = o["quantization"]

    def to_in(x):   # int8-input models (the input Quantize folded away): quantize outside the timed call
        x = channels_last(x)
        if i["dtype"] == np.float32:
            return x
        info = np.iinfo(i["dtype"])
        return np.clip(np.round(x / si) + zi, info.min, info.max).astype(i["dtype"])

    def from_out(y):
        return y.astype(np.float32) if o["dtype"] == np.float32 else (y.astype(np.float32) - zo) * so

    xi = to_in(x0)

    def call():
        it.set_tensor(i["index"], xi)
        it.invoke()
        return it.get_tensor(o["index"])

    def predict(xs):
        out = []
        for x in xs:
            it.set_tensor(i["index"], to_in(x))
            it.invoke()
            out.append(from_out(it.get_tensor(o["index"])))
        return np.stack(out)

    e = Engine(name, call, predict)
    e.int_io = i["dtype"] != np.float32
    e.ops = [d["op_name"] for d in it._get_ops_details()]
    return e


def litert_identity_overhead(d):
    class Identity(nn.Module):
        def forward(self, x):
            return x
    path = os.path.join(d, "identity.tflite")
    import litert_torch
    with quiet():
        litert_torch.convert(Identity().eval(), (torch.zeros(1, 16),)).export(path)
    return litert_engine("LiteRT identity", path, np.zeros((1, 16), np.float32))


# ---------------------------------------------------------------- Vigil

def vigil_bench(bins, vigil, runs):
    r = vigil_run(bins, ["vigil", "bench", vigil, "--runs", str(runs), "--threads", "1", "--json"], None)
    return json.loads(r.stdout)


def vigil_run(bins, args, d):
    err = ""
    for attempt in range(6):   # the release binaries may be being rebuilt by someone else: retry
        try:
            r = subprocess.run([os.path.join(bins, args[0])] + args[1:], capture_output=True, text=True, cwd=d)
            if r.returncode == 0:
                return r
            err = r.stderr.strip()[-500:]
        except OSError as e:
            err = str(e)
        time.sleep(10)
    raise RuntimeError(f"{' '.join(args[:2])} failed: {err}")


# ---------------------------------------------------------------- main

PEERS = ["ort_f32", "ort_s8", "ort_u8", "litert_f32", "litert_int8"]
LABEL = {"vigil_int8": "Vigil int8", "ort_f32": "ORT fp32", "ort_s8": "ORT s8", "ort_u8": "ORT u8",
         "litert_f32": "LiteRT fp32", "litert_int8": "LiteRT int8"}
INT8 = ["vigil_int8", "ort_s8", "ort_u8", "litert_int8"]


def run_model(name, bins, d, args, overhead, litert_missing, notes):
    m, shape = build(name)
    rng = np.random.default_rng(SEED)
    calib = rng.normal(0, 1, (N_CALIB,) + shape).astype(np.float32)     # each [1, ...]
    held = rng.normal(0, 1, (N_EVAL,) + shape).astype(np.float32)
    with torch.no_grad():
        ref = np.stack([m(torch.from_numpy(x)).numpy() for x in held])

    path = os.path.join(d, f"{name}.onnx")
    with quiet():
        torch.onnx.export(m, (torch.from_numpy(calib[0]),), path, input_names=["x"], output_names=["y"],
                          opset_version=17, dynamo=False)
    row = {"model": name, "input": list(shape), "ops_onnx": sorted({n.op_type for n in onnx.load(path).graph.node})}

    # Vigil: convert with the same calibration samples, bench in-process, infer the held-out set.
    np.save(os.path.join(d, "calib.npy"), calib[:, 0])
    np.save(os.path.join(d, "held.npy"), held[:, 0])
    vigil = os.path.join(d, f"{name}.vigil")
    vigil_run(bins, ["vigil-convert", path, "--calibration", "calib.npy", "-o", vigil], d)
    vigil_run(bins, ["vigil", "infer", vigil, "--input", "held.npy", "--output", "held-vigil.npy"], d)
    row["agree"] = {"vigil_int8": agreement(np.load(os.path.join(d, "held-vigil.npy")), ref)}

    engines = {"ort_f32": ort_engine("ORT fp32", path, calib[0])}
    for act in ("s8", "u8"):
        with quiet():
            q = ort_quantize(path, calib, act)
        engines[f"ort_{act}"] = ort_engine(f"ORT {act}", q, calib[0])
    if litert_missing is None:
        for key, int8 in (("litert_f32", False), ("litert_int8", True)):
            try:
                tfl = litert_convert(m, shape, calib, os.path.join(d, f"{name}-{key}.tflite"), int8)
                engines[key] = litert_engine(LABEL[key], tfl, calib[0])
            except Exception as e:
                msg = f"{name}: litert-torch {'int8' if int8 else 'float'} conversion failed: {type(e).__name__}: {str(e)[:300]}"
                notes.append(msg)
                row.setdefault("errors", []).append(msg)
                if os.environ.get("BENCH_DEBUG"):
                    traceback.print_exc()
        if "litert_int8" in engines:
            row["litert_int8_ops"] = sorted(set(engines["litert_int8"].ops))
    for key, e in engines.items():
        row["agree"][key] = agreement(e.predict(held), ref)

    # Timing: interleaved rounds (Vigil, then each peer), median of the per-round medians.
    per = max(5, args.runs // args.rounds)
    samples = {k: [] for k in ["vigil_int8", *engines]}
    for _ in range(args.rounds):
        ours = vigil_bench(bins, vigil, per)
        samples["vigil_int8"].append(ours["median_us"])
        for key, e in engines.items():
            samples[key].append(median_us(e.call, per))
    row["us"] = {k: float(np.median(v)) for k, v in samples.items()}
    row["vigil"] = {k: ours.get(k) for k in ("kernel", "kernels", "arena_bytes", "load_us", "p99_us", "peak_rss_bytes")
                    if k in ours}
    peers = {k: v for k, v in row["us"].items() if k in PEERS}
    best = min(peers, key=peers.get)
    row["fastest_peer"] = best
    row["ratio"] = row["us"]["vigil_int8"] / peers[best]
    int8 = {k: v for k, v in peers.items() if k in INT8}
    row["fastest_int8_peer"] = min(int8, key=int8.get)
    row["ratio_int8"] = row["us"]["vigil_int8"] / int8[row["fastest_int8_peer"]]
    ovh = overhead["ort" if best.startswith("ort") else "litert"]
    net = peers[best] - ovh if ovh is not None else 0
    row["ratio_net"] = row["us"]["vigil_int8"] / net if net > 0 else None
    return row


def fmt_us(v, md=False):
    if v is None:
        return "n/a"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.1f} " + ("µs" if md else "us")


def cpu_features():
    """The SIMD features that decide the tier (the 'tier' column is the variant Vigil selected)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set()
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags |= set(line.split(":", 1)[1].split())
    except OSError:
        return "unknown"
    wanted = ["avx2", "avx_vnni", "avx512_vnni", "avx512vl", "avx512bw", "avx512vbmi", "asimd", "asimddp", "i8mm"]
    return " ".join(f for f in wanted if f in flags) or "none of " + ", ".join(wanted)


def table(rows, overhead, runs, rounds, md=False):
    cols = ["model", "tier", "Vigil int8", "ORT fp32", "ORT s8", "ORT u8", "LiteRT fp32", "LiteRT int8", "fastest peer",
            "Vigil/fastest", "Vigil/fastest int8", "net of call ovh",
            "top-1 agree Vigil/ORTs8/ORTu8/LRT8", "max abs diff Vigil/ORTs8/ORTu8/LRT8"]
    lines = []
    for r in rows:
        us = r["us"]
        ag = [r["agree"].get(k) for k in INT8]
        lines.append([r["model"], r["vigil"].get("kernel") or "n/a",
                      *[fmt_us(us.get(k), md) for k in ["vigil_int8", *PEERS]], LABEL[r["fastest_peer"]],
                      f"{r['ratio']:.2f}x", f"{r['ratio_int8']:.2f}x ({LABEL[r['fastest_int8_peer']]})",
                      f"{r['ratio_net']:.2f}x" if r["ratio_net"] else "n/a",
                      "/".join("n/a" if a is None else f"{100 * a['top1_agree']:.0f}%" for a in ag),
                      "/".join("n/a" if a is None else f"{a['max_abs_diff']:.3f}" for a in ag)])
    if md:
        out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(l) + " |" for l in lines]
    else:
        w = [max(len(c), *(len(l[i]) for l in lines)) if lines else len(c) for i, c in enumerate(cols)]
        fmt = lambda l: "  ".join(s.ljust(w[i]) if i == 0 else s.rjust(w[i]) for i, s in enumerate(l))
        out = [fmt(cols), "-" * len(fmt(cols))] + [fmt(l) for l in lines]
    out.append("tier = the kernel variant Vigil selected on this CPU (VIGIL_KERNEL=avx2 etc. forces a lower one).")
    out.append(f"Single thread everywhere (ORT intra/inter_op_num_threads=1, LiteRT num_threads=1, vigil --threads 1); "
               f"median of {rounds} interleaved rounds of {max(5, runs // rounds)} runs each.")
    out.append("Python call overhead on an identity graph [1,16]: " +
               ", ".join(f"{ {'ort': 'ONNX Runtime', 'litert': 'LiteRT'}[k]} {fmt_us(v)}" for k, v in overhead.items() if v is not None) +
               "; Vigil is timed in-process by `vigil bench` (no Python). 'net of call ovh' = Vigil / (fastest peer - its overhead); "
               "'fastest int8' = fastest of ORT s8/u8 and LiteRT int8 (the DESIGN.md bar).")
    out.append("LiteRT int8 .tflite files take int8 input (litert-torch folds the input Quantize); it is quantized "
               "outside the timed call. Every timed call includes setting the input and reading the output.")
    out.append(f"Agreement: int8 output vs the PyTorch float output on {N_EVAL} held-out seeded N(0,1) inputs "
               f"(softmax probabilities); all int8 engines calibrated on the same {N_CALIB} inputs.")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bins", help="directory with the release vigil and vigil-convert")
    ap.add_argument("--runs", type=int, default=200, help="timed calls per engine and model, split over rounds")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", action="append", choices=list(MODELS))
    ap.add_argument("--json")
    ap.add_argument("--keep", metavar="DIR", help="write the .onnx/.tflite/.vigil files here instead of a temporary dir")
    ap.add_argument("--markdown", action="store_true", help="also print the table as markdown")
    args = ap.parse_args()
    args.bins = os.path.abspath(args.bins)
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)

    notes = []
    litert_missing = litert_available()
    if litert_missing:
        notes.append(litert_missing)
    rows = []
    with (contextlib.nullcontext(os.path.abspath(args.keep)) if args.keep else tempfile.TemporaryDirectory()) as d:
        os.makedirs(d, exist_ok=True)
        ovh = lambda e: float(np.median([median_us(e.call, 200) for _ in range(5)]))
        overhead = {"ort": ovh(ort_identity_overhead(d, args.runs))}
        overhead["litert"] = None
        if litert_missing is None:
            try:
                overhead["litert"] = ovh(litert_identity_overhead(d))
            except Exception as e:
                notes.append(f"LiteRT identity graph failed: {type(e).__name__}: {e}")
        for name in MODELS:
            if args.only and name not in args.only:
                continue
            t = time.time()
            rows.append(run_model(name, args.bins, d, args, overhead, litert_missing, notes))
            print(f"[{name}: {time.time() - t:.0f}s]", file=sys.stderr, flush=True)

    kernel = {r["vigil"].get("kernel") for r in rows}
    print(f"\nVigil vs peers on {platform.machine()} ({os.cpu_count()} cores), onnxruntime {ort.__version__}, "
          f"torch {torch.__version__}, " + (f"litert-torch {__import__('litert_torch').__version__}, ai-edge-litert "
          f"{__import__('importlib.metadata').metadata.version('ai-edge-litert')}" if litert_missing is None else "LiteRT: n/a")
          + f"; Vigil kernel variant: {', '.join(sorted(k for k in kernel if k))}; CPU features: {cpu_features()}")
    print(table(rows, overhead, args.runs, args.rounds))
    for n in notes:
        print("NOTE:", n)
    if args.markdown:
        print()
        print(table(rows, overhead, args.runs, args.rounds, md=True))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"overhead_us": overhead, "rows": rows, "notes": notes}, f, indent=1)


if __name__ == "__main__":
    main()
