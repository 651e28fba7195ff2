#!/usr/bin/env python3
"""Regenerates the attention fixtures of Tools/conformance/attention/ with seeded random weights,
batch 1, opset 17, exported by torch.onnx.export (the TorchScript exporter, dynamo=False):

  encoder.onnx   a sensor-sequence classifier: [1, 16, 8] (16 steps of 8 features) -> Linear(8, 32)
                 + learned position embedding -> 2 x nn.TransformerEncoderLayer(d_model 32, 4 heads,
                 feed-forward 64, ReLU, post-norm, batch_first) -> mean over the steps -> Linear(32, 5).
  vit.onnx       a tiny ViT: [1, 1, 32, 32] image -> Conv2d(1, 32, 4, stride 4) patch embedding
                 (64 patches) -> class token + position embedding -> 2 x nn.TransformerEncoderLayer
                 (d_model 32, 4 heads, feed-forward 64, GELU, pre-norm) -> LayerNorm -> class token
                 -> Linear(32, 5).

What the exports contain (and vigil-convert must take): MatMul of two activations (Q·Kᵀ, P·V),
Softmax on the last axis of [1, 4, S, S], LayerNormalization, GELU as Div/Erf/Add/Mul/Mul, the
in-projection split into Q, K, V by Gather, Reshape/Transpose of the heads, Concat of the class
token, Gather of the class token, ReduceMean over the steps.

Needs PyTorch, so it runs in a venv of its own, never in the test command:

  python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install "torch==2.13.0+cpu" onnx==1.22.0 onnxscript
  /tmp/venv-torch/bin/python Tools/conformance/attention/export.py

(a CPU-only torch wheel: an unpinned `pip install torch` pulls the CUDA build and its gigabytes of
dependencies.) With torch 2.13.0+cpu and onnx 1.22.0 the script rewrites the committed fixtures byte
for byte. Tools/conformance/attention_models.py checks them.
"""
import os
import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17


class Encoder(nn.Module):
    def __init__(self, steps=16, features=8, d=32, classes=5):
        super().__init__()
        self.proj = nn.Linear(features, d)
        self.pos = nn.Parameter(torch.randn(1, steps, d) * 0.5)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        h = self.encoder(self.proj(x) + self.pos)
        return self.head(h.mean(dim=1))


class ViT(nn.Module):
    def __init__(self, image=32, patch=4, d=32, classes=5):
        super().__init__()
        self.patch = nn.Conv2d(1, d, patch, stride=patch)
        n = (image // patch) ** 2
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, n + 1, d) * 0.5)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)             # [B, 64, d]
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), p], dim=1) + self.pos
        h = self.norm(self.encoder(h))
        return self.head(h[:, 0])


def export(model, shape, name, seed):
    model.eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    path = os.path.join(HERE, name)
    torch.onnx.export(model, (x,), path, opset_version=OPSET, dynamo=False, input_names=["x"], output_names=["y"])
    import onnx
    m = onnx.load(path)
    ops = sorted({n.op_type for n in m.graph.node})
    with torch.no_grad():
        ref = model(x).numpy()
    # One input and PyTorch's own output for it: the float check also reports onnxruntime vs torch.
    np.savez(os.path.join(HERE, name.replace(".onnx", "-torch.npz")), x=x.numpy(), y=ref)
    print(f"{name}: {os.path.getsize(path)} bytes, {len(m.graph.node)} nodes, ops {ops}")


def main():
    torch.manual_seed(20)
    export(Encoder(), (1, 16, 8), "encoder.onnx", 1)
    torch.manual_seed(21)
    export(ViT(), (1, 1, 32, 32), "vit.onnx", 2)


if __name__ == "__main__":
    main()
