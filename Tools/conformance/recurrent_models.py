#!/usr/bin/env python3
"""Recurrent models as exporters write them, checked against onnxruntime.

PyTorch-shaped graphs built with onnx.helper (no torch needed): an ECG classifier Conv1d -> LSTM
(initial states through Expand) -> last step (Gather) -> Linear -> Softmax, a batch-first
bidirectional LSTM read through Y_h, and two stacked GRUs (linear_before_reset 1 as PyTorch writes
it, then a reverse GRU with linear_before_reset 0 and a constant initial state). Plus the Keras fixtures in
Tools/conformance/keras/ (tf2onnx exports of Keras 2 `.h5` and Keras 3 `.keras` models; regenerate
with Tools/conformance/keras/export.py, which needs TensorFlow and is never run here).

Checks: `vigil-convert --float` + `vigil infer` within 1e-4 of onnxruntime; the int8 conversion
(LSTM/GRU kept in float32 automatically) with top-1 agreement >= 99% against onnxruntime float on
seeded random inputs; the fidelity report and `vigil inspect` name the float32 operators and why.

Usage: recurrent_models.py BIN_DIR
"""
import glob, os, subprocess, sys, tempfile
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper as nh

rng = np.random.default_rng(20)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from converter_models import model  # one graph wrapper for both scripts: input x, output y, opset 17


def w(*shape, s=0.3):
    return rng.normal(0, s, shape).astype(np.float32)


# Random-weight classifiers on noise are poor int8 subjects: many inputs sit near a tie between two
# classes, decided by int8 noise or the 1/256 step of the int8 Softmax output. The heads keep their
# random scale; evaluation uses 1000 samples so that the agreement figure is not a few-sample accident.

def ecg_lstm():
    """torch: Conv1d(1, 8, 7, stride 2) -> ReLU -> MaxPool1d(4) -> permute(2, 0, 1) -> LSTM(8, 16)
    with zero (h0, c0) -> out[-1] -> Linear(16, 4) -> softmax."""
    H = 16
    inits = [nh.from_array(w(8, 1, 7), "conv.w"), nh.from_array(w(8, s=0.1), "conv.b"),
             nh.from_array(w(1, 4 * H, 8, s=0.6), "lstm.W"), nh.from_array(w(1, 4 * H, H), "lstm.R"),
             nh.from_array(w(1, 8 * H, s=0.1), "lstm.B"),
             nh.from_array(np.zeros((1, 1, H), np.float32), "zeros"),
             nh.from_array(np.array([1, 1, H], np.int64), "state_shape"),
             nh.from_array(np.array([1], np.int64), "axis1"), nh.from_array(np.array(-1, np.int64), "last"),
             nh.from_array(w(4, H), "fc.w"), nh.from_array(w(4, s=0.1), "fc.b")]
    nodes = [helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], strides=[2], pads=[3, 3], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[4], strides=[4], name="pool"),
             helper.make_node("Transpose", ["p"], ["seq"], perm=[2, 0, 1], name="permute"),
             helper.make_node("Expand", ["zeros", "state_shape"], ["h0"], name="h0"),
             helper.make_node("Expand", ["zeros", "state_shape"], ["c0"], name="c0"),
             helper.make_node("LSTM", ["seq", "lstm.W", "lstm.R", "lstm.B", "", "h0", "c0"], ["Y", "Y_h", "Y_c"],
                              hidden_size=H, name="lstm"),
             helper.make_node("Squeeze", ["Y", "axis1"], ["out"], name="squeeze"),
             helper.make_node("Gather", ["out", "last"], ["h"], axis=0, name="last_step"),
             helper.make_node("Gemm", ["h", "fc.w", "fc.b"], ["logits"], transB=1, name="fc"),
             helper.make_node("Softmax", ["logits"], ["y"], axis=-1, name="softmax")]
    return model("ecg_lstm", nodes, inits, [1, 1, 360], [1, 4]), (1, 360)


def bilstm():
    """torch: LSTM(6, 12, batch_first=True, bidirectional=True) -> cat(h_n[0], h_n[1]) -> Linear -> softmax."""
    H = 12
    inits = [nh.from_array(w(2, 4 * H, 6), "W"), nh.from_array(w(2, 4 * H, H), "R"), nh.from_array(w(2, 8 * H, s=0.1), "B"),
             nh.from_array(np.array([1, 2 * H], np.int64), "flat"), nh.from_array(w(5, 2 * H), "fc.w"), nh.from_array(w(5, s=0.1), "fc.b")]
    nodes = [helper.make_node("Transpose", ["x"], ["seq"], perm=[1, 0, 2], name="to_seq_first"),
             helper.make_node("LSTM", ["seq", "W", "R", "B"], ["", "Y_h"], hidden_size=H, direction="bidirectional", name="bilstm"),
             helper.make_node("Transpose", ["Y_h"], ["hb"], perm=[1, 0, 2], name="to_batch_first"),
             helper.make_node("Reshape", ["hb", "flat"], ["h"], name="concat_directions"),
             helper.make_node("Gemm", ["h", "fc.w", "fc.b"], ["logits"], transB=1, name="fc"),
             helper.make_node("Softmax", ["logits"], ["y"], axis=-1, name="softmax")]
    return model("bilstm", nodes, inits, [1, 50, 6], [1, 5]), (50, 6)


def stacked_gru():
    """torch GRU (linear_before_reset=1) -> a reverse GRU (linear_before_reset=0, constant initial_h)
    -> h_n -> Linear -> softmax. (onnxruntime has no batch-first layout=1; the node tests cover it.)"""
    H1, H2 = 10, 8
    inits = [nh.from_array(w(1, 3 * H1, 5), "W1"), nh.from_array(w(1, 3 * H1, H1), "R1"), nh.from_array(w(1, 6 * H1, s=0.1), "B1"),
             nh.from_array(w(1, 3 * H2, H1), "W2"), nh.from_array(w(1, 3 * H2, H2), "R2"), nh.from_array(w(1, 6 * H2, s=0.1), "B2"),
             nh.from_array(w(1, 1, H2, s=0.5), "h2_0"), nh.from_array(np.array([1], np.int64), "axis1"),
             nh.from_array(np.array([1, H2], np.int64), "flat"), nh.from_array(w(3, H2), "fc.w"), nh.from_array(w(3, s=0.1), "fc.b")]
    nodes = [helper.make_node("Transpose", ["x"], ["seq"], perm=[1, 0, 2], name="to_seq_first"),
             helper.make_node("GRU", ["seq", "W1", "R1", "B1"], ["Y1"], hidden_size=H1, linear_before_reset=1, name="gru1"),
             helper.make_node("Squeeze", ["Y1", "axis1"], ["s1"], name="squeeze"),
             helper.make_node("GRU", ["s1", "W2", "R2", "B2", "", "h2_0"], ["", "Y_h"], hidden_size=H2, direction="reverse",
                              name="gru2"),
             helper.make_node("Reshape", ["Y_h", "flat"], ["h"], name="flatten"),
             helper.make_node("Gemm", ["h", "fc.w", "fc.b"], ["logits"], transB=1, name="fc"),
             helper.make_node("Softmax", ["logits"], ["y"], axis=-1, name="softmax")]
    return model("stacked_gru", nodes, inits, [1, 40, 5], [1, 3]), (40, 5)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def inputs(shape):
    x = rng.normal(0, 1, (1200,) + shape).astype(np.float32)
    return x[:200], x[200:]


def check(bins, d, path, name, calib, ev, input_name, out_name=None):
    """Float and int8 conversion of one model; returns the number of failures."""
    cp, ep = os.path.join(d, f"{name}-calib.npy"), os.path.join(d, f"{name}-eval.npy")
    np.save(cp, calib)
    np.save(ep, ev)
    s = ort.InferenceSession(path)
    ref = np.concatenate([s.run([out_name] if out_name else None, {input_name: e[None]})[0] for e in ev])
    ref = ref.reshape(len(ev), -1)
    failures = 0
    extra_out = ["--outputs", out_name] if out_name else []
    for mode, extra in (("float", ["--float"]), ("int8", ["--calibration", cp, "--eval", ep])):
        v, y = os.path.join(d, f"{name}-{mode}.vigil"), os.path.join(d, f"{name}-{mode}.npy")
        r = run([os.path.join(bins, "vigil-convert"), path, "-o", v] + extra + extra_out)
        if r.returncode != 0:
            print(f"FAIL {name:12s} {mode}: convert: {r.stderr.strip()}")
            failures += 1
            continue
        r2 = run([os.path.join(bins, "vigil"), "infer", v, "--input", ep, "--output", y])
        if r2.returncode != 0:
            print(f"FAIL {name:12s} {mode}: infer: {r2.stderr.strip()}")
            failures += 1
            continue
        got = np.load(y).reshape(ref.shape)
        if mode == "float":
            err = np.abs(got - ref).max()
            ok = err <= 1e-4 * max(1.0, np.abs(ref).max())
            print(f"{'ok  ' if ok else 'FAIL'} {name:12s} float32 vs onnxruntime: max |err| {err:.2e}")
        else:
            strict = (got.argmax(1) == ref.argmax(1)).mean()
            # Ties: the int8 Softmax output has a 1/256 step, so two close classes can come out
            # equal; the int8 model then ranks the float top-1 class first, jointly.
            agree = (got[np.arange(len(got)), ref.argmax(1)] == got.max(1)).mean()
            sqnr = 10 * np.log10((ref ** 2).sum() / max(((got - ref) ** 2).sum(), 1e-30))
            # The recurrent ops must be reported as float32 with their reason, by the converter's
            # fidelity text and by vigil inspect.
            said = "ran in float32:" in r.stdout + r.stderr and "(no int8 kernel)" in r.stdout + r.stderr
            ins = run([os.path.join(bins, "vigil"), "inspect", v]).stdout
            shown = "float32 (no int8 kernel)" in ins and " int8 " in ins
            ok = agree >= 0.99 and said and shown
            print(f"{'ok  ' if ok else 'FAIL'} {name:12s} int8 (recurrent ops float32) vs onnxruntime float: top-1 agreement "
                  f"{100 * agree:.1f}% (strict argmax {100 * strict:.1f}%), SQNR {sqnr:.1f} dB{'' if said else ', fidelity report does not name the float ops'}"
                  f"{'' if shown else ', vigil inspect does not show the precisions'}")
        failures += not ok
    return failures


def main():
    bins = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for build in (ecg_lstm, bilstm, stacked_gru):
            m, shape = build()
            calib, ev = inputs(shape)
            path = os.path.join(d, f"{m.graph.name}.onnx")
            onnx.save(m, path)
            failures += check(bins, d, path, m.graph.name, calib, ev, "x")
        # Keras 3 exported directly: Loop/Less/And; Less/And fold, the Loop is refused by name.
        loop = os.path.join(HERE, "keras", "seed_keras3_loop.onnx")
        r = run([os.path.join(bins, "vigil-convert"), loop, "--float", "-o", os.path.join(d, "loop.vigil")])
        ok = r.returncode != 0 and "Loop" in r.stderr
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} seed_keras3_loop.onnx (direct Keras 3 export) is refused naming Loop: "
              f"{r.stderr.strip().splitlines()[0] if r.stderr.strip() else 'converted'}")
        fixtures = sorted(f for f in glob.glob(os.path.join(HERE, "keras", "*.onnx")) if f != loop)
        if not fixtures:
            print("FAIL keras fixtures missing in Tools/conformance/keras/")
            failures += 1
        for path in fixtures:
            m = onnx.load(path)
            inp = m.graph.input[0]
            shape = tuple(max(dim.dim_value, 1) for dim in inp.type.tensor_type.shape.dim)[1:]
            ops = sorted({n.op_type for n in m.graph.node} & {"LSTM", "GRU", "Loop"})
            print(f"     {os.path.basename(path)}: recurrent ops {ops}")
            failures += check(bins, d, path, os.path.basename(path)[:-5], *inputs(shape), inp.name)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
