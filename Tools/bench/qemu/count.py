#!/usr/bin/env python3
"""Executed guest instructions per inference, Vigil against its int8 peers, under QEMU user mode.

Latency on shared machines is noisy; an instruction count under TCG is exact and repeatable, and
`-cpu Haswell` pins the x86 tier to AVX2 (QEMU 7.2 emulates AVX2 but not AVX-512 or VNNI), so every
engine runs the kernels it would pick on an AVX2 machine. The count is the number of guest
instructions, not time: a vpmaddubsw and an add count the same. Read it next to compare.py's
latencies, not instead of them.

Per reference model of compare.py (same PyTorch modules, same seeded calibration, files made with
compare.py's own functions), each engine runs under
`qemu-x86_64 -cpu Haswell -plugin libinsncount.so` (insncount.c):

  Vigil int8   `vigil bench MODEL.vigil --threads 1` (its timed calls: store the input, invoke),
               counted by the first of these that works:
               markers  with VIGIL_BENCH_MARKERS=1, a vigil that marks each timed call;
               clock    the counts between its clock reads before and after each timed call
                        (insncount clock=1; needs no change to vigil);
               differencing  whole-process counts of --runs 1 and --runs 1+N: (c(1+N) - c(1)) / N,
                        always run as a cross-check; it also counts the loop's clock reads and the
                        sort of the times afterwards, and varies by ~10k instructions per process
                        (data-dependent sort and number formatting), so read it only for big models.
  ORT s8/u8    quantize_static QDQ models (int8 / uint8 activations, per-channel int8 weights),
               session.run in peer_run.py, markers around each call.
  LiteRT int8  litert-torch PT2E int8 .tflite, Interpreter(num_threads=1), set_tensor + invoke +
               get_tensor in peer_run.py.

Peers' numbers are net of the marking itself (empty marked intervals from Python, ~4k
instructions). Each call includes the engine's Python binding overhead, as compare.py's timed calls
do; that overhead is counted separately on identity graphs and printed. Everything single-threaded
(the plugin sums all threads into one counter).

Usage: count.py [--bins DIR] [--only NAME]... [--runs N] [--warmup W] [--repeat K] [--json OUT]
Runs in the bench venv (.venv-bench); see count_x86.sh.
"""
import argparse, contextlib, json, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))   # Tools/bench: compare.py
import compare  # noqa: E402  (torch, onnx, onnxruntime: host side only)
import numpy as np  # noqa: E402
import torch  # noqa: E402

PEERS = ["ort_s8", "ort_u8", "litert_int8"]
LABEL = {"vigil": "Vigil int8", "ort_s8": "ORT s8", "ort_u8": "ORT u8", "litert_int8": "LiteRT int8"}
# Inferences under emulation cost roughly native time x 30-100: fewer runs for the big model.
VERSIONS = set()   # "ort 1.32.0", "litert 2.3.0": what the guest ran
DEFAULT_RUNS = {"ecg_cnn_1d": 20, "mobilenet_gray128": 10, "mobilenet_v2": 5, "mlp": 20}


# ---------------------------------------------------------------- model files (compare.py's code)

def prepare(name, d, bins, notes, vigil=True):
    """Writes NAME.onnx, NAME-ort-{s8,u8}.onnx, NAME-litert_int8.tflite (kept between runs) and
    NAME.vigil (converted every run: vigil-convert changes more often than the peers)."""
    m, shape = compare.build(name)
    rng = np.random.default_rng(compare.SEED)
    calib = rng.normal(0, 1, (compare.N_CALIB,) + shape).astype(np.float32)   # as compare.run_model
    onnx_path = os.path.join(d, f"{name}.onnx")
    files = {"onnx": onnx_path, "ort_s8": onnx_path.replace(".onnx", "-ort-s8.onnx"),
             "ort_u8": onnx_path.replace(".onnx", "-ort-u8.onnx"),
             "litert_int8": os.path.join(d, f"{name}-litert_int8.tflite"), "vigil": os.path.join(d, f"{name}.vigil")}
    if not os.path.exists(onnx_path):
        with compare.quiet():
            torch.onnx.export(m, (torch.from_numpy(calib[0]),), onnx_path, input_names=["x"], output_names=["y"],
                              opset_version=17, dynamo=False)
    for act in ("s8", "u8"):
        if not os.path.exists(files[f"ort_{act}"]):
            with compare.quiet():
                compare.ort_quantize(onnx_path, calib, act)
    if not os.path.exists(files["litert_int8"]):
        try:
            compare.litert_convert(m, shape, calib, files["litert_int8"], True)
        except Exception as e:
            notes.append(f"{name}: litert-torch int8 conversion failed: {type(e).__name__}: {str(e)[:200]}")
            del files["litert_int8"]
    if not vigil:
        del files["vigil"]
        return files
    np.save(os.path.join(d, f"calib-{name}.npy"), calib[:, 0])
    compare.vigil_run(bins, ["vigil-convert", onnx_path, "--calibration", f"calib-{name}.npy", "-o", files["vigil"]], d)
    return files


def prepare_identity(d):
    """identity.onnx / identity.tflite: the per-call cost of each Python binding."""
    out = {}
    if not os.path.exists(os.path.join(d, "identity.onnx")):
        compare.ort_identity_overhead(d, 1)
    out["ort"] = os.path.join(d, "identity.onnx")
    try:
        if not os.path.exists(os.path.join(d, "identity.tflite")):
            compare.litert_identity_overhead(d)
        out["litert"] = os.path.join(d, "identity.tflite")
    except Exception:
        pass
    return out


# ---------------------------------------------------------------- counting under QEMU

class Qemu:
    def __init__(self, args):
        self.args = args

    def run(self, argv, env=None, plugin_args=""):
        """Runs argv under qemu with the plugin; returns (plugin JSON, guest stdout)."""
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        cmd = ["nice", "-n", "10", self.args.qemu, "-cpu", self.args.cpu, *self.args.qemu_args.split(),
               "-plugin", f"{self.args.plugin},out={out}{plugin_args}", *argv]
        e = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1", SWIFT_DETERMINISTIC_HASHING="1", **dict(kv.split("=", 1) for kv in self.args.guest_env),
                 **(env or {}))
        t = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=ROOT)
        try:
            if r.returncode != 0:
                err = "\n".join(l for l in r.stderr.splitlines() if "TCG doesn't support" not in l)
                raise RuntimeError(f"{' '.join(argv[:3])} exited {r.returncode}: {err[-1500:]}")
            with open(out) as f:
                res = json.load(f)
        finally:
            os.unlink(out)
        if self.args.verbose:
            print(f"  [{time.time() - t:5.0f}s] {' '.join(os.path.basename(a) for a in argv[:4])}: "
                  f"{res['intervals']} intervals, median {res['median']}, total {res['total']}", file=sys.stderr, flush=True)
        return res, r.stdout


def timed_loop(clock_deltas, runs):
    """The `runs` timed calls in the counts between consecutive clock reads of `vigil bench`.

    Its loop reads the clock before and after each call, so the loop shows as 2*runs - 1
    consecutive deltas: call, loop overhead, call, ..., call. The overhead deltas are the same code
    every time and so exactly equal; load and output before and after read the clock too, a
    varying number of times. Returns the calls' counts if exactly one window fits, else None."""
    n = 2 * runs - 1
    fits = [j for j in range(len(clock_deltas) - n + 1)
            if len(set(clock_deltas[j + 1:j + n:2])) == 1 and clock_deltas[j + 1] < min(clock_deltas[j:j + n:2])]
    return clock_deltas[fits[0]:fits[0] + n:2] if len(fits) == 1 else None


def count_vigil(q, bins, model, warmup, runs):
    """Vigil's count per inference: the markers if this vigil has them (VIGIL_BENCH_MARKERS), else
    its clock reads around each timed call (clock=1); differencing of two whole processes as a
    cross-check, which includes the loop's clock reads and the sort of the times afterwards."""
    vigil = os.path.join(bins, "vigil")
    base = [vigil, "bench", model, "--threads", "1", "--json", "--warmup", str(warmup)]
    res, stdout = q.run(base + ["--runs", str(runs)], env={"VIGIL_BENCH_MARKERS": "1"}, plugin_args=",clock=1")
    row = {"kernel": json.loads(stdout).get("kernel")}
    # One list per guest thread that read the clock: vigil's command runs on a thread of its own
    # next to idle runtime threads whose timed waits read the clock too; the loop is in one list.
    fits = [c for c in (timed_loop(d, runs) for d in res.get("clock_deltas", {}).values()) if c] if runs >= 3 else []
    calls = fits[0] if len(fits) == 1 else None
    if res["intervals"] == runs:
        row["markers"] = statistics.median_low(res["deltas"])
        row["marker_deltas"] = res["deltas"]
    if calls:
        row["clock"] = statistics.median_low(calls)
        row["clock_deltas"] = calls
    one, _ = q.run(base + ["--runs", "1"])
    more, _ = q.run(base + ["--runs", str(1 + runs)])
    row["diff"] = (more["total"] - one["total"]) / runs
    row["method"] = "markers" if "markers" in row else "clock" if "clock" in row else "differencing"
    row["value"] = row.get("markers", row.get("clock", row["diff"]))
    return row


def count_peer(q, engine, model, warmup, runs, empty=5):
    res, stdout = q.run([q.args.python, os.path.join(HERE, "peer_run.py"), engine, model,
                    "--warmup", str(warmup), "--runs", str(runs), "--empty", str(empty)])
    if res["intervals"] != empty + runs:
        raise RuntimeError(f"{engine} {model}: {res['intervals']} marked intervals, expected {empty + runs}")
    marker = statistics.median_low(res["deltas"][:empty])
    calls = res["deltas"][empty:]
    VERSIONS.add(stdout.strip())
    return {"value": statistics.median_low(calls) - marker, "marker": marker, "deltas": calls}


# ---------------------------------------------------------------- main

def fmt(v):
    return "n/a" if v is None else f"{round(v):,}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bins", default=os.path.join(ROOT, ".build-qemu", "bin"), help="vigil and vigil-convert (x86_64)")
    ap.add_argument("--convert-bins", help="vigil-convert's directory if not --bins (host, when vigil is a foreign guest)")
    ap.add_argument("--models", default=os.path.join(ROOT, ".build-qemu", "models"), help="model files, kept between runs")
    ap.add_argument("--plugin", default=os.path.join(ROOT, ".build-qemu", "libinsncount.so"))
    ap.add_argument("--qemu", default="qemu-x86_64")
    ap.add_argument("--cpu", default="Haswell")
    ap.add_argument("--qemu-args", default="", help="more qemu options, e.g. '-L SYSROOT' for a foreign guest")
    ap.add_argument("--python", default=sys.executable, help="the guest's Python with numpy, onnxruntime, ai-edge-litert")
    ap.add_argument("--guest-env", action="append", default=[], metavar="KEY=VALUE", help="environment of the guest")
    ap.add_argument("--only", action="append", choices=list(compare.MODELS))
    ap.add_argument("--engines", default="vigil,ort_s8,ort_u8,litert_int8")
    ap.add_argument("--runs", type=int, help="marked inferences per engine (default per model: %s)" % DEFAULT_RUNS)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="count everything K times (repeatability check)")
    ap.add_argument("--json")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.bins, args.models = os.path.abspath(args.bins), os.path.abspath(args.models)
    args.convert_bins = args.convert_bins and os.path.abspath(args.convert_bins)
    engines = args.engines.split(",")
    os.makedirs(args.models, exist_ok=True)
    torch.set_num_threads(1)
    q = Qemu(args)
    notes, rows = [], []

    ident = prepare_identity(args.models)
    overhead = {}
    for eng, path in ident.items():
        overhead[eng] = [count_peer(q, eng, path, args.warmup, 10)["value"] for _ in range(args.repeat)]

    for name in compare.MODELS:
        if args.only and name not in args.only:
            continue
        t = time.time()
        files = prepare(name, args.models, args.convert_bins or args.bins, notes, vigil="vigil" in engines)
        runs = args.runs or DEFAULT_RUNS[name]
        row = {"model": name, "runs": runs, "counts": {}}
        for eng in engines:
            if eng not in files:
                continue
            vals = []
            for _ in range(args.repeat):
                try:
                    if eng == "vigil":
                        r = count_vigil(q, args.bins, files["vigil"], args.warmup, runs)
                        row["vigil"] = r
                    else:
                        r = count_peer(q, "ort" if eng.startswith("ort") else "litert", files[eng], args.warmup, runs)
                    vals.append(r["value"])
                    row.setdefault("detail", {}).setdefault(eng, []).append(r)
                except Exception as e:
                    notes.append(f"{name} {LABEL[eng]}: {type(e).__name__}: {str(e)[:300]}")
                    break
            if vals:
                row["counts"][eng] = vals
        peers = {k: v[0] for k, v in row["counts"].items() if k in PEERS}
        if peers and "vigil" in row["counts"]:
            row["lowest_peer"] = best = min(peers, key=peers.get)
            row["ratio"] = row["counts"]["vigil"][0] / peers[best]
            ovh = overhead.get("ort" if best.startswith("ort") else "litert")
            if ovh and peers[best] > ovh[0]:   # the peer's kernels alone: its binding cost taken off
                row["ratio_net"] = row["counts"]["vigil"][0] / (peers[best] - ovh[0])
        rows.append(row)
        print(f"[{name}: {time.time() - t:.0f}s]", file=sys.stderr, flush=True)

    print_table(rows, overhead, args, notes)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"qemu": args.qemu, "cpu": args.cpu, "overhead": overhead, "rows": rows, "notes": notes}, f, indent=1)


def print_table(rows, overhead, args, notes):
    qv = subprocess.run([args.qemu, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    kernels = sorted({r["vigil"]["kernel"] for r in rows if r.get("vigil", {}).get("kernel")})
    print(f"\nGuest instructions per inference under {qv}, -cpu {args.cpu}; guest Python {args.python}, "
          f"{', '.join(sorted(VERSIONS))}"
          f"; Vigil kernel: {', '.join(kernels) or 'n/a'}\n")
    print("| model | Vigil int8 | ORT s8 | ORT u8 | LiteRT int8 | lowest peer | Vigil / lowest peer | same, peer net of binding | Vigil counted by | Vigil by differencing (cross-check) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        def cell(k):
            v = r["counts"].get(k)
            if not v:
                return "n/a"
            spread = (max(v) - min(v)) / min(v)
            same = "" if len(v) == 1 else f" (same x{len(v)})" if spread == 0 else f" (x{len(v)}: ±{50 * spread:.2f}%)"
            return fmt(v[0]) + same
        vg = r.get("vigil", {})
        method, check = (vg["method"], fmt(vg["diff"])) if vg else ("n/a", "n/a")
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "n/a"
        net = f"{r['ratio_net']:.2f}x" if "ratio_net" in r else "n/a"
        print(f"| {r['model']} | {cell('vigil')} | {cell('ort_s8')} | {cell('ort_u8')} | {cell('litert_int8')} | "
              f"{LABEL.get(r.get('lowest_peer'), 'n/a')} | {ratio} | {net} | {method} | {check} |")
    print(f"\nGuest instructions per call, median of each model's marked runs ({f'--runs {args.runs}' if args.runs else ', '.join(f'{k} {v}' for k, v in DEFAULT_RUNS.items())}) after {args.warmup} warm-up calls; peers net of the marker cost. "
          "Peer calls include their Python binding (as in compare.py); per-call binding cost on an identity graph: "
          + ", ".join(f"{ {'ort': 'ORT', 'litert': 'LiteRT'}[k]} {v[0]:,}" for k, v in overhead.items()) + " instructions.")
    for n in notes:
        print("NOTE:", n)


if __name__ == "__main__":
    main()
