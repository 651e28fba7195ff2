#!/usr/bin/env python3
"""Runs the ONNX backend node tests (shipped in the onnx==1.22.0 wheel, onnx/backend/test/data/node)
for every op vigil-convert claims, through `vigil-convert --float` and `vigil infer`, and compares
with the expected outputs (float: |got - want| <= 1e-4 * max(1, |want|)). Prints pass / fail /
unsupported per op and exits non-zero if any claimed test fails.

Usage: node_tests.py BIN_DIR [--json OUT] [--verbose]
"""
import json, os, re, subprocess, sys, tempfile
from collections import defaultdict

import numpy as np
import onnx
from onnx import numpy_helper

# ONNX ops the converter claims (float path), and the node-test name prefixes that exercise them.
CLAIMED = {
    "Conv": ["test_conv_", "test_basic_conv_"],
    "BatchNormalization": ["test_batchnorm_"],
    "Gemm": ["test_gemm_"],
    "MatMul": ["test_matmul_"],
    "Add": ["test_add"],
    "Sub": ["test_sub"],
    "Mul": ["test_mul"],
    "Div": ["test_div"],
    "Concat": ["test_concat_"],
    "MaxPool": ["test_maxpool_"],
    "AveragePool": ["test_averagepool_"],
    "GlobalAveragePool": ["test_globalaveragepool"],
    "Relu": ["test_relu"],
    "Clip": ["test_clip"],
    "LeakyRelu": ["test_leakyrelu"],
    "Sigmoid": ["test_sigmoid"],
    "Tanh": ["test_tanh"],
    "HardSwish": ["test_hardswish"],
    "HardSigmoid": ["test_hardsigmoid"],
    "Softmax": ["test_softmax_"],
    "Reshape": ["test_reshape_"],
    "Flatten": ["test_flatten_"],
    "Squeeze": ["test_squeeze"],
    "Unsqueeze": ["test_unsqueeze"],
    "Transpose": ["test_transpose_"],
    "Pad": ["test_constant_pad", "test_edge_pad", "test_reflect_pad"],
    "Identity": ["test_identity"],
    "Dropout": ["test_dropout_default"],
    "QuantizeLinear": ["test_quantizelinear"],
    "DequantizeLinear": ["test_dequantizelinear"],
    "QLinearConv": ["test_qlinearconv"],
    "QLinearMatMul": ["test_qlinearmatmul_"],
    "ConvInteger": ["test_convinteger_"],
    "MatMulInteger": ["test_matmulinteger"],
    "LSTM": ["test_lstm_"],
    "GRU": ["test_gru_"],
    "Slice": ["test_slice"],
    "Gather": ["test_gather_"],
    "LayerNormalization": ["test_layer_normalization_"],
    "Erf": ["test_erf"],
    "Gelu": ["test_gelu_"],
    "ReduceMean": ["test_reduce_mean_"],
    "ReduceSum": ["test_reduce_sum_"],
    "ReduceMax": ["test_reduce_max_"],
    "ReduceMin": ["test_reduce_min_"],
    "Exp": ["test_exp"],
    "Log": ["test_log"],
    "Sqrt": ["test_sqrt"],
    "Neg": ["test_neg"],
    "Abs": ["test_abs"],
    "Reciprocal": ["test_reciprocal"],
    "Pow": ["test_pow"],
    "Split": ["test_split_"],
    "Expand": ["test_expand_"],
    "Max": ["test_max_"],
    "Min": ["test_min_"],
    "Resize": ["test_resize_"],
    "Upsample": ["test_upsample_"],
    "ConvTranspose": ["test_convtranspose"],
}

# Ops whose integer output vigil infer writes dequantized: (scale input index, zero point index).
DEQUANTIZED_OUTPUT = {"QuantizeLinear": (1, 2), "QLinearConv": (6, 7), "QLinearMatMul": (6, 7)}


# Input positions each op takes as run-time data. The node tests feed every operand as a graph
# input; operands Vigil requires to be constant (weights, shapes, axes, pads, clip bounds,
# quantization parameters, Pow's exponent) are frozen into the model as initializers from the
# test's own data before conversion.
DYNAMIC = {
    "Add": [0, 1], "Sub": [0, 1], "Mul": [0, 1], "Div": [0, 1], "Concat": list(range(64)),
    "Max": list(range(64)), "Min": list(range(64)),
    # Both operands at run time: attention's MatMul of two activations (a constant right-hand side
    # becomes FullyConnected, which the Gemm tests and converter_models.py cover).
    "MatMul": [0, 1],
}


def freeze(model, data_inputs, inputs_dir, op):
    keep = DYNAMIC.get(op, [0])
    init = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in init]
    live = []
    for k, gi in enumerate(graph_inputs):
        if k in keep:
            live.append(k)
            continue
        t = onnx.TensorProto()
        with open(os.path.join(inputs_dir, data_inputs[k]), "rb") as f:
            t.ParseFromString(f.read())
        t.name = gi.name
        model.graph.initializer.append(t)
    frozen = {gi.name for k, gi in enumerate(graph_inputs) if k not in keep}
    kept = [i for i in model.graph.input if i.name not in frozen]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    return live


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def run_case(case_dir, bins, work, op):
    data = os.path.join(case_dir, "test_data_set_0")
    inputs = sorted(f for f in os.listdir(data) if f.startswith("input_"))
    outputs = sorted(f for f in os.listdir(data) if f.startswith("output_"))
    m = onnx.load(os.path.join(case_dir, "model.onnx"))
    live = freeze(m, inputs, data, op)
    model = os.path.join(work, "model.onnx")
    onnx.save(m, model)
    out = os.path.join(work, "m.vigil")
    r = subprocess.run([os.path.join(bins, "vigil-convert"), model, "--float", "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        return "unsupported", r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "convert failed"
    args = []
    for k in live:
        a = load_pb(os.path.join(data, inputs[k]))
        p = os.path.join(work, f"in{k}.npy")
        np.save(p, np.ascontiguousarray(a))
        args += ["--input", p]
    y = os.path.join(work, "y.npy")
    r = subprocess.run([os.path.join(bins, "vigil"), "infer", out] + args + ["--output", y], capture_output=True, text=True)
    if r.returncode != 0:
        return "fail", "infer: " + (r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed")
    for k, f in enumerate(outputs):
        want = load_pb(os.path.join(data, f))
        if op in DEQUANTIZED_OUTPUT:
            # vigil infer writes float32, dequantized with the output's own parameters.
            si, zi = DEQUANTIZED_OUTPUT[op]
            scale = load_pb(os.path.join(data, inputs[si])).astype(np.float64)
            zp = load_pb(os.path.join(data, inputs[zi])).astype(np.float64) if len(inputs) > zi else np.zeros_like(scale)
            axis = next((a.i for n in m.graph.node for a in n.attribute if a.name == "axis"), 1) if op == "QuantizeLinear" else 1
            if scale.ndim == 1:
                shape = [1] * want.ndim
                shape[axis] = scale.size
                scale, zp = scale.reshape(shape), zp.reshape(shape)
            want = ((want.astype(np.float64) - zp) * scale).astype(np.float32)
        path = y if k == 0 else os.path.join(work, f"y.{k}.npy")
        if not os.path.exists(path):
            return "fail", f"output {k} missing"
        got = np.load(path).reshape(want.shape) if np.load(path).size == want.size else None
        if got is None:
            return "fail", f"output {k}: {np.load(path).shape} vs {want.shape}"
        if want.dtype.kind in "iub":
            if not np.array_equal(got.astype(np.int64), want.astype(np.int64)):
                return "fail", f"output {k}: integer mismatch"
        else:
            err = np.abs(got.astype(np.float64) - want.astype(np.float64))
            tol = 1e-4 * np.maximum(1.0, np.abs(want.astype(np.float64)))
            nan_ok = np.isnan(want) == np.isnan(got)
            if not (np.all(nan_ok) and np.all((err <= tol) | np.isnan(want))):
                return "fail", f"output {k}: max abs error {np.nanmax(err):.3g}"
    return "pass", ""


def main():
    bins = sys.argv[1]
    verbose = "--verbose" in sys.argv
    root = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    cases = sorted(os.listdir(root))
    results = defaultdict(lambda: defaultdict(list))
    with tempfile.TemporaryDirectory() as work:
        for op, prefixes in CLAIMED.items():
            for c in cases:
                if not any(c.startswith(p) for p in prefixes) or c.endswith("_expanded") or "_expanded_" in c:
                    continue
                # Only tests whose graph is the op itself (node tests are one node each).
                ops = {n.op_type for n in onnx.load(os.path.join(root, c, "model.onnx"), load_external_data=False).graph.node}
                if op not in ops:
                    continue
                status, why = run_case(os.path.join(root, c), bins, work, op)
                results[op][status].append((c, why))
                if verbose or status == "fail":
                    print(f"  {status:11s} {c} {why}")
    total = defaultdict(int)
    print(f"{'op':20s} {'pass':>5s} {'fail':>5s} {'unsupported':>12s}")
    for op in CLAIMED:
        r = results[op]
        for k in ("pass", "fail", "unsupported"):
            total[k] += len(r[k])
        print(f"{op:20s} {len(r['pass']):5d} {len(r['fail']):5d} {len(r['unsupported']):12d}")
    print(f"{'total':20s} {total['pass']:5d} {total['fail']:5d} {total['unsupported']:12d}")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump({op: {k: v for k, v in r.items()} for op, r in results.items()}, f, indent=1)
    return 1 if total["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
