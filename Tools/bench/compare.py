#!/usr/bin/env python3
"""One-run latency comparison on reference models: Vigil int8 (`vigil bench`) against onnxruntime
float32 and onnxruntime int8 (quantize_static, QDQ, per-channel), all single-threaded, same machine,
same run. Prints one table; the machines are shared and noisy, so read the ratios.

Reference models are built here with onnx.helper and seeded random weights (latency does not depend
on the weight values): a 1D ECG CNN on [1,1,720], a MobileNet-style CNN on a 128x128 grayscale
image, MobileNetV2 (the architecture of Sandler et al. 2018, width 1.0) on [1,3,224,224], and a
small MLP on 30 features.

Usage: compare.py BIN_DIR [--runs N] [--only NAME] [--json OUT]
"""
import json, os, subprocess, sys, tempfile, time
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper as nh

rng = np.random.default_rng(7)


class Graph:
    def __init__(self, name):
        self.name, self.nodes, self.inits, self.n = name, [], [], 0

    def const(self, a, base):
        self.n += 1
        name = f"{base}_{self.n}"
        self.inits.append(nh.from_array(np.asarray(a, dtype=np.float32), name))
        return name

    def node(self, op, inputs, **attrs):
        self.n += 1
        out = f"{op.lower()}_{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, group=1, act="relu6", dims=2):
        fan = cin // group * k ** dims
        w = self.const(rng.normal(0, np.sqrt(2 / fan), (cout, cin // group) + (k,) * dims), "w")
        b = self.const(rng.normal(0, 0.01, cout), "b")
        p = k // 2
        y = self.node("Conv", [x, w, b], strides=[stride] * dims, pads=[p] * (2 * dims), group=group)
        if act == "relu6":
            y = self.node("Clip", [y, self.const(0.0, "lo"), self.const(6.0, "hi")])
        elif act == "relu":
            y = self.node("Relu", [y])
        return y

    def model(self, x_shape, y, classes):
        g = helper.make_graph(self.nodes, self.name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, classes])], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        onnx.checker.check_model(m)
        return m

    def head(self, x, c, classes):
        g = self.node("GlobalAveragePool", [x])
        f = self.node("Flatten", [g])
        w = self.const(rng.normal(0, np.sqrt(1 / c), (c, classes)), "fc")
        return self.node("Softmax", [self.node("Add", [self.node("MatMul", [f, w]), self.const(np.zeros(classes), "fb")])], axis=-1)


def ecg_cnn():
    g = Graph("ecg_cnn_1d")
    x = g.conv("x", 1, 16, 7, stride=2, act="relu", dims=1)
    x = g.node("MaxPool", [x], kernel_shape=[2], strides=[2])
    x = g.conv(x, 16, 32, 5, stride=2, act="relu", dims=1)
    x = g.conv(x, 32, 64, 5, stride=2, act="relu", dims=1)
    x = g.conv(x, 64, 64, 3, act="relu", dims=1)
    return g.model([1, 1, 720], g.head(x, 64, 5), 5), (1, 720)


def mobilenet_gray128():
    g = Graph("mobilenet_gray128")
    x = g.conv("x", 1, 16, 3, stride=2)
    c = 16
    for cout, s in [(32, 2), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2)]:
        x = g.conv(x, c, c, 3, stride=s, group=c)       # depthwise
        x = g.conv(x, c, cout, 1)                        # pointwise
        c = cout
    return g.model([1, 1, 128, 128], g.head(x, c, 4), 4), (1, 128, 128)


def mobilenet_v2():
    g = Graph("mobilenet_v2")
    x = g.conv("x", 3, 32, 3, stride=2)
    c = 32
    for t, cout, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            h = x
            if t != 1:
                h = g.conv(h, c, c * t, 1)
            h = g.conv(h, c * t, c * t, 3, stride=stride, group=c * t)
            h = g.conv(h, c * t, cout, 1, act=None)
            x = g.node("Add", [x, h]) if stride == 1 and c == cout else h
            c = cout
    x = g.conv(x, c, 1280, 1)
    return g.model([1, 3, 224, 224], g.head(x, 1280, 1000), 1000), (3, 224, 224)


def mlp():
    g = Graph("mlp")
    x = "x"
    for cin, cout in [(30, 64), (64, 32)]:
        x = g.node("Relu", [g.node("Gemm", [x, g.const(rng.normal(0, np.sqrt(2 / cin), (cout, cin)), "w"),
                                             g.const(np.zeros(cout), "b")], transB=1)])
    x = g.node("Gemm", [x, g.const(rng.normal(0, 0.2, (2, 32)), "w"), g.const(np.zeros(2), "b")], transB=1)
    return g.model([1, 30], g.node("Softmax", [x], axis=-1), 2), (30,)


def ort_latency(path, x, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feed = {"x": x[None]}
    for _ in range(5):
        s.run(None, feed)
    t = []
    for _ in range(runs):
        a = time.perf_counter_ns()
        s.run(None, feed)
        t.append((time.perf_counter_ns() - a) / 1000)
    return float(np.median(t))


def ort_int8(path, calib):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"x": c[None]} for c in calib])

        def get_next(self):
            return next(self.it, None)

    out = path.replace(".onnx", "-ort-int8.onnx")
    quantize_static(path, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    return out


def main():
    bins = sys.argv[1]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 50
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    import logging
    logging.disable(logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for build in (ecg_cnn, mobilenet_gray128, mobilenet_v2, mlp):
            m, shape = build()
            if only and m.graph.name != only:
                continue
            path = os.path.join(d, f"{m.graph.name}.onnx")
            onnx.save(m, path)
            calib = rng.normal(0, 1, (16,) + shape).astype(np.float32)
            np.save(os.path.join(d, "calib.npy"), calib)
            vigil = os.path.join(d, f"{m.graph.name}.vigil")
            subprocess.run([os.path.join(bins, "vigil-convert"), path, "--calibration", os.path.join(d, "calib.npy"), "-o", vigil],
                           check=True, capture_output=True)
            r = subprocess.run([os.path.join(bins, "vigil"), "bench", vigil, "--runs", str(runs), "--json"],
                               check=True, capture_output=True, text=True)
            ours = json.loads(r.stdout)
            fl = ort_latency(path, calib[0], runs)
            q8 = ort_latency(ort_int8(path, calib), calib[0], runs)
            rows.append({"model": m.graph.name, "vigil_int8_us": ours["median_us"], "vigil_p99_us": ours["p99_us"],
                         "ort_float_us": round(fl, 1), "ort_int8_us": round(q8, 1), "kernel": ours["kernel"],
                         "arena_bytes": ours["arena_bytes"], "load_us": ours["load_us"]})
    print(f"{'model':20s} {'vigil int8':>11s} {'ORT fp32':>10s} {'ORT int8':>10s} {'vs best peer':>13s}  kernel   arena")
    for r in rows:
        best = min(r["ort_float_us"], r["ort_int8_us"])
        print(f"{r['model']:20s} {r['vigil_int8_us']:9.1f}us {r['ort_float_us']:8.1f}us {r['ort_int8_us']:8.1f}us "
              f"{r['vigil_int8_us'] / best:12.2f}x  {r['kernel']:8s} {r['arena_bytes']}")
    print("single thread, median of", runs, "runs; LiteRT is not measured yet (needs a TFLite export path).")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
