#!/usr/bin/env python3
"""Upsampling models (segmentation nets, U-Nets) as PyTorch's exporter writes them, checked
against onnxruntime.

Graphs built with onnx.helper in the node shapes of torch.onnx.export (opset 17; no torch needed):
- unet_convt: a two-level 2-D U-Net, ConvTranspose(k 2, stride 2) decoder with Concat skips;
- unet_nearest: the same U-Net with nn.Upsample(scale_factor=2) (Resize nearest, asymmetric,
  floor; scales constant, roi absent) + Conv decoder;
- seg_bilinear: a stride-4 segmentation head upsampled back with F.interpolate(size=x.shape[-2:],
  mode="bilinear", align_corners=False) (Resize linear, half_pixel as torch 2.13 writes it, sizes
  from Shape -> Slice -> Concat, which fold);
- seg_bilinear_ac: the same with scale_factor=4, align_corners=True;
- ecg_denoiser: a 1-D encoder/decoder, ConvTranspose1d(k 4, stride 2, padding 1);
- convt_variants: ConvTranspose2d with groups=2, output_padding=1, then a depthwise one with
  dilation 2.
Plus Tools/conformance/torch/*.onnx, real torch.onnx.export fixtures (export.py regenerates them).

Checks per model: `vigil-convert --float` + `vigil infer` within 1e-4 of onnxruntime; the int8
conversion (min-max calibration on 200 inputs) against onnxruntime's own int8 (quantize_static,
QDQ, per-channel weights, int8 activations, same calibration data) on 64 other inputs: SQNR vs
onnxruntime float at most 1 dB below onnxruntime int8's, and for segmentation outputs the per-pixel
argmax agreement with float at most 0.02 below onnxruntime int8's.

Usage: upsampling_models.py BIN_DIR
"""
import glob, logging, os, shutil, subprocess, sys, tempfile
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper as nh

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from converter_models import model  # graph wrapper: input x, output y, opset 17

rng = np.random.default_rng(21)


def w(*shape, s=None):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return rng.normal(0, s if s is not None else (2.0 / fan_in) ** 0.5, shape).astype(np.float32)


def conv(name, x, y, cin, cout, k, nodes, inits, relu=True, **attrs):
    """nn.Conv2d/Conv1d (+ ReLU); `k` is a tuple of kernel sizes."""
    inits += [nh.from_array(w(cout, cin, *k), f"{name}.weight"), nh.from_array(w(cout, s=0.05), f"{name}.bias")]
    out = f"{name}.out" if relu else y
    nodes.append(helper.make_node("Conv", [x, f"{name}.weight", f"{name}.bias"], [out], name=name,
                                  kernel_shape=list(k), **attrs))
    if relu:
        nodes.append(helper.make_node("Relu", [out], [y], name=f"{name}.relu"))


def conv_t(name, x, y, cin, cout, k, nodes, inits, groups=1, relu=False, **attrs):
    """nn.ConvTranspose2d/1d: weight [in, out / groups, k...]."""
    inits += [nh.from_array(w(cin, cout // groups, *k, s=(1.0 / (cin / groups)) ** 0.5), f"{name}.weight"),
              nh.from_array(w(cout, s=0.05), f"{name}.bias")]
    out = f"{name}.out" if relu else y
    nodes.append(helper.make_node("ConvTranspose", [x, f"{name}.weight", f"{name}.bias"], [out], name=name,
                                  kernel_shape=list(k), group=groups, **attrs))
    if relu:
        nodes.append(helper.make_node("Relu", [out], [y], name=f"{name}.relu"))


def upsample_nearest(name, x, y, nodes, inits):
    """nn.Upsample(scale_factor=2) as torch.onnx.export (opset 11+) writes it."""
    inits += [nh.from_array(np.array([1, 1, 2, 2], np.float32), f"{name}.scales")]
    nodes.append(helper.make_node("Resize", [x, "", f"{name}.scales"], [y], name=name, mode="nearest",
                                  coordinate_transformation_mode="asymmetric", nearest_mode="floor", cubic_coeff_a=-0.75))


def unet(name, decoder):
    """Two-level U-Net on [1, 3, 32, 32] -> 4 classes per pixel."""
    nodes, inits = [], []
    k3 = dict(pads=[1, 1, 1, 1])
    conv("enc1a", "x", "e1a", 3, 8, (3, 3), nodes, inits, **k3)
    conv("enc1b", "e1a", "e1", 8, 8, (3, 3), nodes, inits, **k3)
    nodes.append(helper.make_node("MaxPool", ["e1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"))
    conv("enc2", "p1", "e2", 8, 16, (3, 3), nodes, inits, **k3)
    nodes.append(helper.make_node("MaxPool", ["e2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], name="pool2"))
    conv("bottleneck", "p2", "b", 16, 32, (3, 3), nodes, inits, **k3)
    if decoder == "convt":
        conv_t("up2", "b", "u2", 32, 16, (2, 2), nodes, inits, strides=[2, 2])
    else:
        upsample_nearest("up2", "b", "u2r", nodes, inits)
        conv("up2.conv", "u2r", "u2", 32, 16, (3, 3), nodes, inits, relu=False, **k3)
    nodes.append(helper.make_node("Concat", ["u2", "e2"], ["c2"], axis=1, name="skip2"))
    conv("dec2", "c2", "d2", 32, 16, (3, 3), nodes, inits, **k3)
    if decoder == "convt":
        conv_t("up1", "d2", "u1", 16, 8, (2, 2), nodes, inits, strides=[2, 2])
    else:
        upsample_nearest("up1", "d2", "u1r", nodes, inits)
        conv("up1.conv", "u1r", "u1", 16, 8, (3, 3), nodes, inits, relu=False, **k3)
    nodes.append(helper.make_node("Concat", ["u1", "e1"], ["c1"], axis=1, name="skip1"))
    conv("dec1", "c1", "d1", 16, 8, (3, 3), nodes, inits, **k3)
    conv("head", "d1", "y", 8, 4, (1, 1), nodes, inits, relu=False)
    return model(name, nodes, inits, [1, 3, 32, 32], [1, 4, 32, 32]), (3, 32, 32), True


def seg_bilinear(align_corners):
    """Stride-4 features -> 1x1 classifier -> bilinear back to the input size."""
    nodes, inits = [], []
    conv("stem", "x", "s1", 3, 12, (3, 3), nodes, inits, strides=[2, 2], pads=[1, 1, 1, 1])
    conv("layer", "s1", "s2", 12, 16, (3, 3), nodes, inits, strides=[2, 2], pads=[1, 1, 1, 1])
    conv("context", "s2", "s3", 16, 16, (3, 3), nodes, inits, pads=[2, 2, 2, 2], dilations=[2, 2])
    conv("classifier", "s3", "logits", 16, 5, (1, 1), nodes, inits, relu=False)
    if align_corners:
        # F.interpolate(scale_factor=4, mode="bilinear", align_corners=True)
        inits += [nh.from_array(np.array([1, 1, 4, 4], np.float32), "scales")]
        nodes.append(helper.make_node("Resize", ["logits", "", "scales"], ["y"], name="upsample", mode="linear",
                                      coordinate_transformation_mode="align_corners", nearest_mode="floor", cubic_coeff_a=-0.75))
    else:
        # F.interpolate(size=x.shape[-2:], mode="bilinear", align_corners=False) as torch 2.13
        # writes it: sizes = [N, C] of the resized value (Shape -> Slice) + the traced [H, W];
        # coordinate mode half_pixel (older torch wrote pytorch_half_pixel; the node tests cover it).
        inits += [nh.from_array(np.array([0], np.int64), "start"), nh.from_array(np.array([2], np.int64), "end"),
                  nh.from_array(np.array([0], np.int64), "axis0"), nh.from_array(np.array([32, 32], np.int64), "hw")]
        nodes += [helper.make_node("Shape", ["logits"], ["lshape"], name="shape"),
                  helper.make_node("Slice", ["lshape", "start", "end", "axis0"], ["nc"], name="slice_nc"),
                  helper.make_node("Concat", ["nc", "hw"], ["sizes"], axis=0, name="sizes"),
                  helper.make_node("Resize", ["logits", "", "", "sizes"], ["y"], name="upsample", mode="linear",
                                   coordinate_transformation_mode="half_pixel", nearest_mode="floor", cubic_coeff_a=-0.75)]
    name = "seg_bilinear_ac" if align_corners else "seg_bilinear"
    return model(name, nodes, inits, [1, 3, 32, 32], [1, 5, 32, 32]), (3, 32, 32), True


def ecg_denoiser():
    """1-D encoder/decoder on 256 samples: Conv1d x2 (stride 2) -> ConvTranspose1d x2 (k 4, s 2, p 1)."""
    nodes, inits = [], []
    conv("enc1", "x", "e1", 1, 8, (7,), nodes, inits, strides=[2], pads=[3, 3])
    conv("enc2", "e1", "e2", 8, 16, (5,), nodes, inits, strides=[2], pads=[2, 2])
    conv_t("dec2", "e2", "d2", 16, 8, (4,), nodes, inits, relu=True, strides=[2], pads=[1, 1])
    conv_t("dec1", "d2", "y", 8, 1, (4,), nodes, inits, strides=[2], pads=[1, 1])
    return model("ecg_denoiser", nodes, inits, [1, 1, 256], [1, 1, 256]), (1, 256), False


def convt_variants():
    """ConvTranspose2d(8, 8, 3, stride 2, padding 1, output_padding 1, groups 2), then a depthwise
    ConvTranspose2d(8, 8, 3, padding 2, dilation 2, groups 8), then a 1x1 classifier."""
    nodes, inits = [], []
    conv("stem", "x", "s", 4, 8, (3, 3), nodes, inits, pads=[1, 1, 1, 1])
    conv_t("up", "s", "u", 8, 8, (3, 3), nodes, inits, groups=2, relu=True, strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    conv_t("dw", "u", "d", 8, 8, (3, 3), nodes, inits, groups=8, relu=True, pads=[2, 2, 2, 2], dilations=[2, 2])
    conv("head", "d", "y", 8, 4, (1, 1), nodes, inits, relu=False)
    return model("convt_variants", nodes, inits, [1, 4, 16, 16], [1, 4, 32, 32]), (4, 16, 16), True


def ort_int8(path, calib, per_channel=True):
    """onnxruntime's quantize_static as a user runs it (QDQ, int8 activations and weights), as
    converter_models.ort_quantized; per-tensor weights when asked."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"x": c[None]} for c in calib])

        def get_next(self):
            return next(self.it, None)

    out = path.replace(".onnx", f"-ort-int8-{'pc' if per_channel else 'pt'}.onnx")
    quantize_static(path, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    return out


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def sqnr(ref, got):
    return 10 * np.log10((ref.astype(np.float64) ** 2).sum() / max(((got - ref).astype(np.float64) ** 2).sum(), 1e-30))


def check(bins, d, path, name, shape, segmentation, input_name="x"):
    """Float and int8 conversion of one model next to onnxruntime's int8; returns the failures."""
    x = rng.normal(0, 1, (264,) + shape).astype(np.float32)
    calib, ev = x[:200], x[200:]
    cp, ep = os.path.join(d, f"{name}-calib.npy"), os.path.join(d, f"{name}-eval.npy")
    np.save(cp, calib)
    np.save(ep, ev)
    s = ort.InferenceSession(path)
    ref = np.concatenate([s.run(None, {input_name: e[None]})[0] for e in ev])
    failures, got = 0, {}
    for mode, extra in (("float", ["--float"]), ("int8", ["--calibration", cp])):
        v, y = os.path.join(d, f"{name}-{mode}.vigil"), os.path.join(d, f"{name}-{mode}.npy")
        r = run([os.path.join(bins, "vigil-convert"), path, "-o", v] + extra)
        if r.returncode != 0:
            print(f"FAIL {name:15s} {mode}: convert: {r.stderr.strip()}")
            failures += 1
            continue
        r = run([os.path.join(bins, "vigil"), "infer", v, "--input", ep, "--output", y])
        if r.returncode != 0:
            print(f"FAIL {name:15s} {mode}: infer: {r.stderr.strip()}")
            failures += 1
            continue
        got[mode] = np.load(y).reshape(ref.shape)
    if "float" in got:
        err = np.abs(got["float"] - ref).max()
        ok = err <= 1e-4 * max(1.0, np.abs(ref).max())
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name:15s} float32 vs onnxruntime: max |err| {err:.2e}")
    if "int8" in got:
        logging.disable(logging.WARNING)
        ours = sqnr(ref, got["int8"])
        note = ""
        try:
            q = ort_int8(path, calib)
        except ValueError:
            # onnxruntime 1.32's per-channel quantizer takes a grouped ConvTranspose weight's
            # channels from axis 1 (out / groups) and fails on its bias; compare with per-tensor.
            q = ort_int8(path, calib, per_channel=False)
            note = " [onnxruntime: per-tensor weights, its per-channel quantizer fails on grouped ConvTranspose]"
        sq = ort.InferenceSession(q)
        theirs_out = np.concatenate([sq.run(None, {input_name: e[None]})[0] for e in ev])
        theirs = sqnr(ref, theirs_out)
        ok = ours >= theirs - 1
        line = f"int8 SQNR {ours:.1f} dB (onnxruntime int8 {theirs:.1f} dB)"
        if segmentation:
            agree = (got["int8"].argmax(1) == ref.argmax(1)).mean()
            agree_ort = (theirs_out.argmax(1) == ref.argmax(1)).mean()
            ok = ok and agree >= agree_ort - 0.02
            line += f", per-pixel argmax agreement {100 * agree:.2f}% (onnxruntime int8 {100 * agree_ort:.2f}%)"
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name:15s} {line}{note}")
    return failures


def main():
    bins = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for build in (lambda: unet("unet_convt", "convt"), lambda: unet("unet_nearest", "nearest"),
                      lambda: seg_bilinear(False), lambda: seg_bilinear(True), ecg_denoiser, convt_variants):
            m, shape, segmentation = build()
            path = os.path.join(d, f"{m.graph.name}.onnx")
            onnx.save(m, path)
            failures += check(bins, d, path, m.graph.name, shape, segmentation)
        for fixture in sorted(glob.glob(os.path.join(HERE, "torch", "*.onnx"))):
            path = shutil.copy(fixture, os.path.join(d, "torch_" + os.path.basename(fixture)))  # onnxruntime's int8 lands beside it
            m = onnx.load(path)
            inp = m.graph.input[0]
            shape = tuple(dim.dim_value for dim in inp.type.tensor_type.shape.dim)[1:]
            ops = sorted({n.op_type for n in m.graph.node} & {"Resize", "Upsample", "ConvTranspose"})
            print(f"     torch/{os.path.basename(fixture)}: {ops}")
            failures += check(bins, d, path, os.path.basename(path)[:-5], shape,
                              len(shape) == 3, inp.name)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
