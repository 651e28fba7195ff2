#!/usr/bin/env python3
"""Converts small ONNX models of the shapes exporters write (conv stacks with BatchNormalization,
depthwise blocks, MLPs with standardization, concat/pad/transpose graphs, a MobileNetV3-style
squeeze-excitation block with HardSigmoid) and checks them against
onnxruntime: `vigil-convert --float` + `vigil infer` must match within 1e-4, and the int8
conversion (min-max calibration) must keep the output SQNR above 25 dB and top-1 agreement >= 95%
on random inputs. Usage: converter_models.py BIN_DIR
"""
import os, subprocess, sys, tempfile
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper as nh

rng = np.random.default_rng(17)


def w(*shape, s=0.3):
    return rng.normal(0, s, shape).astype(np.float32)


def bn(name, c):
    return [nh.from_array(rng.uniform(0.5, 1.5, c).astype(np.float32), f"{name}.g"),
            nh.from_array(w(c, s=0.1), f"{name}.b"), nh.from_array(w(c, s=0.1), f"{name}.m"),
            nh.from_array(rng.uniform(0.5, 2, c).astype(np.float32), f"{name}.v")]


def model(name, nodes, inits, x_shape, y_shape, opset=17):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    return m


def ecg_cnn():
    inits = [nh.from_array(w(8, 1, 7), "W1"), nh.from_array(w(8), "B1"), *bn("bn1", 8),
             nh.from_array(w(16, 8, 3), "W2"), nh.from_array(w(16, 3), "Wf"), nh.from_array(w(3), "bf"),
             nh.from_array(np.array([1, -1], np.int64), "shape")]
    nodes = [helper.make_node("Conv", ["x", "W1", "B1"], ["c1"], strides=[2], pads=[3, 3], name="conv1"),
             helper.make_node("BatchNormalization", ["c1", "bn1.g", "bn1.b", "bn1.m", "bn1.v"], ["n1"], name="bn1"),
             helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2], strides=[2], name="pool1"),
             helper.make_node("Conv", ["p1", "W2"], ["c2"], pads=[1, 1], name="conv2"),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
             helper.make_node("Reshape", ["g", "shape"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "Wf"], ["mm"], name="fc"),
             helper.make_node("Add", ["mm", "bf"], ["logits"], name="fc.bias"),
             helper.make_node("Softmax", ["logits"], ["y"], axis=-1, name="softmax")]
    return model("ecg_cnn", nodes, inits, [1, 1, 720], [1, 3]), (1, 720)


def mobile_block():
    inits = [nh.from_array(w(8, 3, 3, 3), "W1"), *bn("bn1", 8), nh.from_array(w(8, 1, 3, 3), "Wd"), *bn("bnd", 8),
             nh.from_array(w(8, 8, 1, 1), "Wp"), nh.from_array(w(8), "Bp"), nh.from_array(w(5, 8), "Wf"), nh.from_array(w(5), "bf")]
    nodes = [helper.make_node("Conv", ["x", "W1"], ["c1"], strides=[2, 2], auto_pad="SAME_UPPER", name="stem"),
             helper.make_node("BatchNormalization", ["c1", "bn1.g", "bn1.b", "bn1.m", "bn1.v"], ["n1"], name="stem.bn"),
             helper.make_node("HardSwish", ["n1"], ["h1"], name="stem.act"),
             helper.make_node("Conv", ["h1", "Wd"], ["d"], group=8, pads=[1, 1, 1, 1], name="dw"),
             helper.make_node("BatchNormalization", ["d", "bnd.g", "bnd.b", "bnd.m", "bnd.v"], ["dn"], name="dw.bn"),
             helper.make_node("Clip", ["dn"], ["d6"], name="dw.relu6", min=0.0, max=6.0) if False else
             helper.make_node("Relu", ["dn"], ["d6"], name="dw.relu"),
             helper.make_node("Conv", ["d6", "Wp", "Bp"], ["pw"], name="pw"),
             helper.make_node("Add", ["pw", "h1"], ["res"], name="residual"),
             helper.make_node("GlobalAveragePool", ["res"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "Wf", "bf"], ["logits"], transB=1, name="classifier"),
             helper.make_node("Softmax", ["logits"], ["y"], name="softmax")]
    return model("mobile_block", nodes, inits, [1, 3, 32, 32], [1, 5]), (3, 32, 32)


def se_block():
    """MobileNetV3-shaped: HardSwish stem, depthwise, squeeze-excitation (global pool, two 1x1
    convolutions, HardSigmoid as PyTorch exports it: alpha 1/6, beta 0.5; broadcast Mul)."""
    inits = [nh.from_array(w(8, 3, 3, 3), "W1"), *bn("bn1", 8), nh.from_array(w(8, 1, 3, 3), "Wd"), *bn("bnd", 8),
             nh.from_array(w(4, 8, 1, 1), "Ws1"), nh.from_array(w(4), "Bs1"), nh.from_array(w(8, 4, 1, 1), "Ws2"),
             nh.from_array(w(8), "Bs2"), nh.from_array(w(12, 8, 1, 1), "Wp"), nh.from_array(w(5, 12), "Wf"),
             nh.from_array(w(5), "bf")]
    nodes = [helper.make_node("Conv", ["x", "W1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1], name="stem"),
             helper.make_node("BatchNormalization", ["c1", "bn1.g", "bn1.b", "bn1.m", "bn1.v"], ["n1"], name="stem.bn"),
             helper.make_node("HardSwish", ["n1"], ["h1"], name="stem.act"),
             helper.make_node("Conv", ["h1", "Wd"], ["d"], group=8, pads=[1, 1, 1, 1], name="dw"),
             helper.make_node("BatchNormalization", ["d", "bnd.g", "bnd.b", "bnd.m", "bnd.v"], ["dn"], name="dw.bn"),
             helper.make_node("GlobalAveragePool", ["dn"], ["sq"], name="se.pool"),
             helper.make_node("Conv", ["sq", "Ws1", "Bs1"], ["s1"], name="se.fc1"),
             helper.make_node("Relu", ["s1"], ["s1r"], name="se.relu"),
             helper.make_node("Conv", ["s1r", "Ws2", "Bs2"], ["s2"], name="se.fc2"),
             helper.make_node("HardSigmoid", ["s2"], ["gate"], alpha=1.0 / 6, beta=0.5, name="se.gate"),
             helper.make_node("Mul", ["dn", "gate"], ["e"], name="se.scale"),
             helper.make_node("Conv", ["e", "Wp"], ["pw"], name="pw"),
             helper.make_node("GlobalAveragePool", ["pw"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "Wf", "bf"], ["logits"], transB=1, name="classifier"),
             helper.make_node("Softmax", ["logits"], ["y"], name="softmax")]
    return model("se_block", nodes, inits, [1, 3, 32, 32], [1, 5]), (3, 32, 32)


def mlp():
    mean = rng.normal(5, 2, 30).astype(np.float32)
    std = rng.uniform(0.5, 3, 30).astype(np.float32)
    inits = [nh.from_array(mean, "mean"), nh.from_array(std, "std"), nh.from_array(w(30, 32), "W1"), nh.from_array(w(32), "B1"),
             nh.from_array(w(32, 16), "W2"), nh.from_array(w(16), "B2"), nh.from_array(w(16, 2), "W3"), nh.from_array(w(2), "B3")]
    nodes = [helper.make_node("Sub", ["x", "mean"], ["xc"], name="center"),
             helper.make_node("Div", ["xc", "std"], ["xs"], name="scale"),
             helper.make_node("Gemm", ["xs", "W1", "B1"], ["h1"], name="fc1"),
             helper.make_node("LeakyRelu", ["h1"], ["a1"], alpha=0.1, name="act1"),
             helper.make_node("MatMul", ["a1", "W2"], ["m2"], name="fc2"),
             helper.make_node("Add", ["m2", "B2"], ["h2"], name="fc2.bias"),
             helper.make_node("Tanh", ["h2"], ["a2"], name="act2"),
             helper.make_node("Gemm", ["a2", "W3", "B3"], ["logits"], name="fc3"),
             helper.make_node("Sigmoid", ["logits"], ["y"], name="sigmoid")]
    return model("mlp", nodes, inits, [1, 30], [1, 2]), (30,)


def concat_pad():
    inits = [nh.from_array(w(4, 2, 3, 3), "Wa"), nh.from_array(w(4, 2, 1, 1), "Wb"),
             nh.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"), nh.from_array(w(72, 4), "Wf")]
    nodes = [helper.make_node("Conv", ["x", "Wa"], ["a"], pads=[1, 1, 1, 1], name="branch_a"),
             helper.make_node("Conv", ["x", "Wb"], ["b"], name="branch_b"),
             helper.make_node("Sigmoid", ["b"], ["bs"], name="gate"),
             helper.make_node("Mul", ["a", "bs"], ["ab"], name="gated"),
             helper.make_node("Concat", ["a", "ab"], ["c"], axis=1, name="concat"),
             helper.make_node("Pad", ["c", "pads"], ["p"], mode="reflect", name="pad"),
             helper.make_node("AveragePool", ["p"], ["ap"], kernel_shape=[3, 3], strides=[3, 3], ceil_mode=1, name="pool"),
             helper.make_node("Transpose", ["ap"], ["t"], perm=[0, 2, 3, 1], name="nhwc"),
             helper.make_node("Flatten", ["t"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "Wf"], ["y"], name="head")]
    return model("concat_pad", nodes, inits, [1, 2, 7, 7], [1, 4]), (2, 7, 7)


def shape_arith():
    """Exporter shape arithmetic that must fold away: Shape -> Gather -> Equal/Less/And/Not/Mod ->
    Where picks the Reshape target; Expand broadcasts a constant (as around LSTM initial states)."""
    inits = [nh.from_array(np.array(2, np.int64), "i2"), nh.from_array(np.array(6, np.int64), "six"),
             nh.from_array(np.array(4, np.int64), "four"), nh.from_array(np.array([1, 24], np.int64), "flat"),
             nh.from_array(np.array([24, 1], np.int64), "tall"), nh.from_array(np.array([1, 1], np.int64), "ones"),
             nh.from_array(np.array(2, np.int64), "two"), nh.from_array(w(1, 1, s=0.5), "c"),
             nh.from_array(w(24, 3), "Wf")]
    nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
             helper.make_node("Gather", ["s", "i2"], ["d2"], axis=0, name="dim2"),
             helper.make_node("Equal", ["d2", "six"], ["is6"], name="eq"),
             helper.make_node("Less", ["d2", "four"], ["lt4"], name="lt"),
             helper.make_node("Not", ["lt4"], ["ge4"], name="not"),
             helper.make_node("And", ["is6", "ge4"], ["ok"], name="and"),
             helper.make_node("Mod", ["d2", "four"], ["rem"], name="mod"),
             helper.make_node("Equal", ["rem", "two"], ["rem2"], name="eq2"),
             helper.make_node("And", ["ok", "rem2"], ["ok2"], name="and2"),
             helper.make_node("Where", ["ok2", "flat", "tall"], ["target"], name="where"),
             helper.make_node("Reshape", ["x", "target"], ["f"], name="reshape"),
             helper.make_node("Expand", ["c", "ones"], ["cb"], name="expand"),
             helper.make_node("Mul", ["f", "cb"], ["fs"], name="scale"),
             helper.make_node("MatMul", ["fs", "Wf"], ["y"], name="head")]
    return model("shape_arith", nodes, inits, [1, 4, 6], [1, 3]), (4, 6)


# Models from here on draw weights and inputs from generators of their own (INPUT_SEEDS), so the
# models above keep theirs.
def _w(g, *shape, s=0.3):
    return g.normal(0, s, shape).astype(np.float32)


def _scalar(v, name):
    return nh.from_array(np.array(v, np.float32), name)


def _i64(v, name):
    return nh.from_array(np.array(v, np.int64), name)


def _balance_head(m, feat, shape, seed):
    """Random weights on noise give one class everywhere; like scaling a head on calibration data,
    this standardizes the features entering the final Gemm (fc.w, fc.b) over 256 probe inputs, so
    that the classes differ."""
    probe = onnx.ModelProto()
    probe.CopyFrom(m)
    del probe.graph.output[:]
    probe.graph.output.extend([helper.make_tensor_value_info(feat, TensorProto.FLOAT, None)])
    s = ort.InferenceSession(probe.SerializeToString())
    x = np.random.default_rng(seed).normal(0, 1, (256,) + shape).astype(np.float32)
    f = np.concatenate([s.run(None, {"x": e[None]})[0] for e in x])
    mu, sd = f.mean(0), f.std(0) + 1e-6
    inits = {i.name: i for i in m.graph.initializer}
    W, b = nh.to_array(inits["fc.w"]), nh.to_array(inits["fc.b"])
    inits["fc.w"].CopyFrom(nh.from_array((W / sd).astype(np.float32), "fc.w"))
    inits["fc.b"].CopyFrom(nh.from_array((b - (W * mu / sd).sum(1)).astype(np.float32), "fc.b"))
    return m


def eeg_net():
    """An EEG-style 1-D net as torch.onnx.export writes it (opset 17): Conv1d -> BatchNorm -> SiLU
    (x * sigmoid(x)); a channel split (torch.split, sizes as an input) into a conv branch and a
    ReLU branch re-joined with Concat; squeeze-excitation whose squeeze is ReduceMean over time
    (keepdims) and whose gate multiplies x[N,C,L] by [N,C,1]; amplitude normalisation
    x / (mean(|x|, time) + eps) (ReduceMean + Div of two run-time values); log-power features
    log(mean(x^2, time)) (Pow 2 -> ReduceMean keepdims=0 -> Log); ReduceMax over time (keepdims=0),
    Max of the two feature vectors; Linear -> Softmax."""
    g = np.random.default_rng(2001)
    inits = [nh.from_array(_w(g, 8, 4, 7, s=0.4), "c1.w"), nh.from_array(_w(g, 8, s=0.1), "c1.b"),
             nh.from_array(g.uniform(0.5, 1.5, 8).astype(np.float32), "bn.g"), nh.from_array(_w(g, 8, s=0.1), "bn.b"),
             nh.from_array(_w(g, 8, s=0.1), "bn.m"), nh.from_array(g.uniform(0.5, 2, 8).astype(np.float32), "bn.v"),
             _i64([4, 4], "split"), nh.from_array(_w(g, 4, 4, 3, s=0.5), "ba.w"),
             nh.from_array(_w(g, 4, 8, 1, s=0.5), "se1.w"), nh.from_array(_w(g, 4, s=0.1), "se1.b"),
             nh.from_array(_w(g, 8, 4, 1, s=0.5), "se2.w"), nh.from_array(_w(g, 8, s=0.1), "se2.b"),
             _scalar(1e-3, "eps"), _scalar(2.0, "two"),
             nh.from_array(_w(g, 8, 8, 5, s=0.3), "c2.w"),
             nh.from_array(_w(g, 5, 16, s=0.8), "fc.w"), nh.from_array(_w(g, 5, s=0.1), "fc.b")]
    nodes = [helper.make_node("Conv", ["x", "c1.w", "c1.b"], ["c1"], pads=[3, 3], strides=[2], name="conv1"),
             helper.make_node("BatchNormalization", ["c1", "bn.g", "bn.b", "bn.m", "bn.v"], ["n1"], name="bn1"),
             helper.make_node("Sigmoid", ["n1"], ["n1s"], name="silu.sigmoid"),
             helper.make_node("Mul", ["n1", "n1s"], ["a1"], name="silu"),
             helper.make_node("Split", ["a1", "split"], ["sa", "sb"], axis=1, name="split"),
             helper.make_node("Conv", ["sa", "ba.w"], ["ba"], pads=[1, 1], name="branch_a"),
             helper.make_node("Relu", ["sb"], ["bb"], name="branch_b"),
             helper.make_node("Concat", ["ba", "bb"], ["cat"], axis=1, name="join"),
             helper.make_node("ReduceMean", ["cat"], ["sq"], axes=[2], keepdims=1, name="se.squeeze"),
             helper.make_node("Conv", ["sq", "se1.w", "se1.b"], ["e1"], name="se.fc1"),
             helper.make_node("Relu", ["e1"], ["e1r"], name="se.relu"),
             helper.make_node("Conv", ["e1r", "se2.w", "se2.b"], ["e2"], name="se.fc2"),
             helper.make_node("Sigmoid", ["e2"], ["gate"], name="se.gate"),
             helper.make_node("Mul", ["cat", "gate"], ["se"], name="se.scale"),
             helper.make_node("Abs", ["se"], ["mag"], name="norm.abs"),
             helper.make_node("ReduceMean", ["mag"], ["amp"], axes=[2], keepdims=1, name="norm.mean"),
             helper.make_node("Add", ["amp", "eps"], ["amp_eps"], name="norm.eps"),
             helper.make_node("Div", ["se", "amp_eps"], ["normed"], name="norm.div"),
             helper.make_node("Conv", ["normed", "c2.w"], ["c2"], pads=[2, 2], name="conv2"),
             helper.make_node("Pow", ["c2", "two"], ["pw"], name="power.pow"),
             helper.make_node("ReduceMean", ["pw"], ["pm"], axes=[2], keepdims=0, name="power.mean"),
             helper.make_node("Log", ["pm"], ["logp"], name="power.log"),
             helper.make_node("ReduceMax", ["c2"], ["peak"], axes=[2], keepdims=0, name="peak"),
             helper.make_node("Max", ["logp", "peak"], ["mx"], name="max"),
             helper.make_node("Concat", ["logp", "mx"], ["feat"], axis=1, name="features"),
             helper.make_node("Gemm", ["feat", "fc.w", "fc.b"], ["logits"], transB=1, name="fc"),
             helper.make_node("Softmax", ["logits"], ["y"], axis=-1, name="softmax")]
    return _balance_head(model("eeg_net", nodes, inits, [1, 4, 256], [1, 5]), "feat", (4, 256), 4001), (4, 256)


def attention_cnn():
    """A 2-D CNN with squeeze-excitation written as x / (1 + exp(-s)) (Neg, Exp, Add, Div with a
    [N,C,1,1] divisor), a gate broadcast by Expand (expand_as), channel attention from ReduceMax
    and ReduceMean over channels, Sub and Min of two activations, a per-channel RMS
    sqrt(ReduceSum(x^2) / HW) with ReduceSum's axes as an input (opset 13+), then Linear -> Softmax."""
    g = np.random.default_rng(2002)
    inits = [nh.from_array(_w(g, 8, 3, 3, 3, s=0.4), "c1.w"), nh.from_array(_w(g, 8, s=0.1), "c1.b"),
             nh.from_array(_w(g, 8, 8, 1, 1, s=0.4), "se.w"), nh.from_array(_w(g, 8, s=0.1), "se.b"),
             _scalar(1.0, "one"), _i64([1, 8, 8, 8], "full"), nh.from_array(_w(g, 8, 8, 3, 3, s=0.3), "c2.w"),
             _i64([2, 3], "hw"), _scalar(2.0, "two"), _scalar(1 / 64, "inv_hw"), _scalar(0.5, "half"),
             nh.from_array(_w(g, 4, 8, s=0.8), "fc.w"), nh.from_array(_w(g, 4, s=0.1), "fc.b")]
    nodes = [helper.make_node("Conv", ["x", "c1.w", "c1.b"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("ReduceMean", ["r1"], ["sq"], axes=[2, 3], keepdims=1, name="se.squeeze"),
             helper.make_node("Conv", ["sq", "se.w", "se.b"], ["s"], name="se.fc"),
             helper.make_node("Neg", ["s"], ["ns"], name="se.neg"),
             helper.make_node("Exp", ["ns"], ["es"], name="se.exp"),
             helper.make_node("Add", ["es", "one"], ["den"], name="se.add"),
             helper.make_node("Div", ["r1", "den"], ["se"], name="se.div"),
             helper.make_node("Expand", ["den", "full"], ["den_full"], name="expand_as"),
             helper.make_node("Sub", ["se", "den_full"], ["d"], name="sub"),
             helper.make_node("ReduceMax", ["d"], ["cmax"], axes=[1], keepdims=1, name="chan.max"),
             helper.make_node("ReduceMean", ["d"], ["cmean"], axes=[1], keepdims=1, name="chan.mean"),
             helper.make_node("Add", ["cmax", "cmean"], ["att"], name="chan.add"),
             helper.make_node("Sigmoid", ["att"], ["attg"], name="chan.gate"),
             helper.make_node("Mul", ["d", "attg"], ["a"], name="chan.scale"),
             helper.make_node("Min", ["a", "r1"], ["m"], name="min"),
             helper.make_node("Conv", ["m", "c2.w"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
             helper.make_node("Pow", ["c2", "two"], ["sq2"], name="rms.pow"),
             helper.make_node("ReduceSum", ["sq2", "hw"], ["ss"], keepdims=0, name="rms.sum"),
             helper.make_node("Mul", ["ss", "inv_hw"], ["ms"], name="rms.mean"),
             helper.make_node("Pow", ["ms", "half"], ["rms"], name="rms.sqrt"),
             helper.make_node("Gemm", ["rms", "fc.w", "fc.b"], ["logits"], transB=1, name="fc"),
             helper.make_node("Softmax", ["logits"], ["y"], axis=-1, name="softmax")]
    return _balance_head(model("attention_cnn", nodes, inits, [1, 3, 16, 16], [1, 4]), "rms", (3, 16, 16), 4002), (3, 16, 16)


def opset18_reduce():
    """Opset 18 forms: ReduceMean / ReduceMax with axes as inputs, Split by num_outputs, Sqrt,
    Reciprocal, and a constant divided by a run-time value (3 / x)."""
    g = np.random.default_rng(2003)
    inits = [nh.from_array(_w(g, 6, 2, 5, s=0.5), "c.w"), nh.from_array(_w(g, 6, s=0.1), "c.b"),
             _i64([2], "time"), _i64([1], "chan"), _scalar(1.0, "one"), _scalar(3.0, "three"),
             nh.from_array(_w(g, 3, 6, s=0.8), "fc.w"), nh.from_array(_w(g, 3, s=0.1), "fc.b")]
    nodes = [helper.make_node("Conv", ["x", "c.w", "c.b"], ["c"], pads=[2, 2], name="conv"),
             helper.make_node("Split", ["c"], ["p", "q"], axis=1, num_outputs=2, name="split"),
             helper.make_node("Mul", ["p", "p"], ["p2"], name="square"),
             helper.make_node("Add", ["p2", "one"], ["p21"], name="plus_one"),
             helper.make_node("Sqrt", ["p21"], ["mag"], name="sqrt"),
             helper.make_node("Reciprocal", ["mag"], ["inv"], name="reciprocal"),
             helper.make_node("Mul", ["q", "inv"], ["qs"], name="scale"),
             helper.make_node("Div", ["three", "p21"], ["d3"], name="three_over"),
             helper.make_node("Sub", ["qs", "d3"], ["qs3"], name="minus_three_over"),
             helper.make_node("Concat", ["qs3", "mag"], ["cat"], axis=1, name="join"),
             helper.make_node("ReduceMax", ["cat", "chan"], ["cm"], keepdims=1, name="chan.max"),
             helper.make_node("Sub", ["cat", "cm"], ["centred"], name="centre"),
             helper.make_node("ReduceMean", ["centred", "time"], ["feat"], keepdims=0, name="time.mean"),
             helper.make_node("Gemm", ["feat", "fc.w", "fc.b"], ["y"], transB=1, name="fc")]
    return _balance_head(model("opset18_reduce", nodes, inits, [1, 2, 64], [1, 3], opset=18), "feat", (2, 64), 4003), (2, 64)


# Seeds of the evaluation inputs of the models that do not share `rng`.
INPUT_SEEDS = {"eeg_net": 3001, "attention_cnn": 3002, "opset18_reduce": 3003}


def ort_quantized(path, calib, fmt, activation, ops=None):
    """onnxruntime's own quantize_static (per-channel int8 weights), as a user would run it."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"x": c[None]} for c in calib])

        def get_next(self):
            return next(self.it, None)

    out = path.replace(".onnx", f"-{fmt}-{activation}.onnx")
    quantize_static(path, out, Reader(), quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                    per_channel=True, activation_type=QuantType.QInt8 if activation == "s8" else QuantType.QUInt8,
                    weight_type=QuantType.QInt8, op_types_to_quantize=ops)
    return out


def sklearn_pipeline(bins, d):
    """skl2onnx export of StandardScaler + MLPClassifier on the breast-cancer data (scikit-learn):
    the ai.onnx.ml Scaler, Cast, the 1 - sigmoid binary head, and --outputs to drop the label ops."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from skl2onnx import to_onnx
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    p = make_pipeline(StandardScaler(), MLPClassifier((32, 16), max_iter=400, random_state=0)).fit(X[:400], y[:400])
    m = to_onnx(p, X[:1], options={id(p): {"zipmap": False}}, target_opset=17)
    path = os.path.join(d, "sklearn_mlp.onnx")
    onnx.save(m, path)
    for name, a in (("calib", X[:400]), ("eval", X[400:]), ("labels", y[400:].astype(np.int64))):
        np.save(os.path.join(d, f"skl_{name}.npy"), a)
    s = ort.InferenceSession(path)
    ref = np.concatenate([s.run(["probabilities"], {"X": x[None]})[0] for x in X[400:]])
    failures = 0
    for mode, extra in (("float", ["--float"]), ("int8", ["--calibration", os.path.join(d, "skl_calib.npy"), "--keep-float", "Scaler"])):
        v = os.path.join(d, f"skl-{mode}.vigil")
        r = subprocess.run([os.path.join(bins, "vigil-convert"), path, "--outputs", "probabilities", "-o", v] + extra, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL sklearn_mlp  {mode}: {r.stderr.strip()}")
            failures += 1
            continue
        out = os.path.join(d, f"skl-{mode}.npy")
        subprocess.run([os.path.join(bins, "vigil"), "infer", v, "--input", os.path.join(d, "skl_eval.npy"), "--output", out], check=True)
        got = np.load(out).reshape(ref.shape)
        if mode == "float":
            err = np.abs(got - ref).max()
            ok = err <= 1e-4
            print(f"{'ok  ' if ok else 'FAIL'} sklearn_mlp   float32 vs onnxruntime: max |err| {err:.2e}")
        else:
            acc_f = (ref.argmax(1) == y[400:]).mean()
            acc_q = (got.argmax(1) == y[400:]).mean()
            agree = (got.argmax(1) == ref.argmax(1)).mean()
            ok = agree >= 0.99 and acc_f - acc_q <= 0.005
            print(f"{'ok  ' if ok else 'FAIL'} sklearn_mlp   int8 (Scaler kept float): accuracy {100 * acc_q:.2f}% vs float {100 * acc_f:.2f}%, agreement {100 * agree:.1f}%")
        failures += not ok
    return failures


def main():
    bins = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        # New models go last: the shared generator would otherwise give the ones after them other
        # weights and inputs.
        for build in (ecg_cnn, mobile_block, mlp, concat_pad, shape_arith, se_block, eeg_net, attention_cnn, opset18_reduce):
            m, shape = build()
            name = m.graph.name
            path = os.path.join(d, f"{name}.onnx")
            onnx.save(m, path)
            scale = 3.0 if name == "mlp" else 1.0
            gen = np.random.default_rng(INPUT_SEEDS[name]) if name in INPUT_SEEDS else rng
            x = (gen.normal(0, scale, (264,) + shape) + (5 if name == "mlp" else 0)).astype(np.float32)
            calib, ev = x[:200], x[200:]
            np.save(os.path.join(d, "calib.npy"), calib)
            np.save(os.path.join(d, "eval.npy"), ev)
            s = ort.InferenceSession(path)
            ref = np.concatenate([s.run(None, {"x": e[None]})[0] for e in ev])
            out = {}
            for mode, extra in (("float", ["--float"]), ("int8", ["--calibration", os.path.join(d, "calib.npy")])):
                v = os.path.join(d, f"{name}-{mode}.vigil")
                r = subprocess.run([os.path.join(bins, "vigil-convert"), path, "-o", v] + extra, capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"FAIL {name} {mode}: convert: {r.stderr.strip()}")
                    failures += 1
                    continue
                y = os.path.join(d, f"{name}-{mode}.npy")
                r = subprocess.run([os.path.join(bins, "vigil"), "infer", v, "--input", os.path.join(d, "eval.npy"), "--output", y],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"FAIL {name} {mode}: infer: {r.stderr.strip()}")
                    failures += 1
                    continue
                out[mode] = np.load(y).reshape(ref.shape)
            if "float" in out:
                err = np.abs(out["float"] - ref).max()
                ok = err <= 1e-4 * max(1.0, np.abs(ref).max())
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name:13s} float32 vs onnxruntime: max |err| {err:.2e}")
            # Already-quantized models: onnxruntime's QDQ (int8 and uint8 activations; no calibration
            # needed, its scales are kept) and QOperator QLinearConv/QLinearMatMul.
            if name in ("ecg_cnn", "mobile_block"):
                import logging
                logging.disable(logging.WARNING)
                for fmt, act, ops, calib_args in (("qdq", "s8", None, []), ("qdq", "u8", None, []),
                                                  ("qop", "u8", ["Conv", "MatMul"], ["--calibration", os.path.join(d, "calib.npy")])):
                    q = ort_quantized(path, calib, fmt, act, ops)
                    v, y = q.replace(".onnx", ".vigil"), q.replace(".onnx", ".npy")
                    r = subprocess.run([os.path.join(bins, "vigil-convert"), q, "-o", v] + calib_args, capture_output=True, text=True)
                    r2 = r.returncode == 0 and subprocess.run([os.path.join(bins, "vigil"), "infer", v, "--input", os.path.join(d, "eval.npy"),
                                                               "--output", y], capture_output=True, text=True).returncode == 0
                    if not r2:
                        print(f"FAIL {name:13s} import of onnxruntime {fmt}/{act}: {r.stderr.strip()}")
                        failures += 1
                        continue
                    got = np.load(y).reshape(ref.shape)
                    sq = ort.InferenceSession(q)
                    ort_q = np.concatenate([sq.run(None, {"x": e[None]})[0] for e in ev])
                    agree = (got.argmax(1) == ort_q.argmax(1)).mean()
                    sqnr = 10 * np.log10((ref ** 2).sum() / max(((got - ref) ** 2).sum(), 1e-30))
                    ok = agree >= 0.95 and sqnr >= 25
                    failures += not ok
                    print(f"{'ok  ' if ok else 'FAIL'} {name:13s} onnxruntime {fmt}/{act} import: agreement with onnxruntime int8 {100 * agree:.1f}%, SQNR vs float {sqnr:.1f} dB")
            if "int8" in out:
                noise = ((out["int8"] - ref) ** 2).sum()
                sqnr = 10 * np.log10((ref ** 2).sum() / max(noise, 1e-30))
                agree = (out["int8"].argmax(1) == ref.argmax(1)).mean()
                ok = sqnr >= 25 and agree >= 0.95
                line = f"int8 vs onnxruntime float: SQNR {sqnr:.1f} dB, top-1 agreement {100 * agree:.1f}%"
                if name in INPUT_SEEDS:
                    # Newer models: as exact as onnxruntime's own int8 (QDQ, per-channel, int8
                    # activations) on the same inputs: SQNR within 1 dB and agreement within 0.02.
                    import logging
                    logging.disable(logging.WARNING)
                    sq = ort.InferenceSession(ort_quantized(path, calib, "qdq", "s8"))
                    ort_q = np.concatenate([sq.run(None, {"x": e[None]})[0] for e in ev])
                    ort_sqnr = 10 * np.log10((ref ** 2).sum() / max(((ort_q - ref) ** 2).sum(), 1e-30))
                    ort_agree = (ort_q.argmax(1) == ref.argmax(1)).mean()
                    ok = sqnr >= ort_sqnr - 1 and agree >= ort_agree - 0.02
                    line += f" (onnxruntime int8: {ort_sqnr:.1f} dB, {100 * ort_agree:.1f}%)"
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name:13s} {line}")
        failures += sklearn_pipeline(bins, d)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
