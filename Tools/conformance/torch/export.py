#!/usr/bin/env python3
"""Regenerates the PyTorch fixtures of this folder: small seeded upsampling nets exported with
torch.onnx.export (opset 17), so that upsampling_models.py checks the converter on graphs torch
itself wrote, next to the onnx.helper graphs built in the same node shapes.

Needs torch, which the test command never installs:
    python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch onnx onnxscript
    /tmp/venv-torch/bin/python Tools/conformance/torch/export.py
Writes tiny_unet.onnx (ConvTranspose + nn.Upsample nearest + bilinear, align_corners False/True)
and ecg_denoiser.onnx (ConvTranspose1d with output_padding, groups); prints the ops of each.
"""
import os
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.bottleneck = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.up2 = nn.ConvTranspose2d(16, 16, 2, stride=2)
        self.dec2 = nn.Sequential(nn.Conv2d(32, 8, 3, padding=1), nn.ReLU())
        self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec1 = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(8, 4, 1)
        self.aux = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        b = self.bottleneck(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        aux = F.interpolate(self.aux(b), size=x.shape[-2:], mode="bilinear", align_corners=False)
        aux2 = F.interpolate(self.aux(b), scale_factor=4, mode="bilinear", align_corners=True)
        return self.head(d1) + aux + aux2


class ECGDenoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv1d(1, 8, 7, stride=2, padding=3), nn.ReLU(),
                                 nn.Conv1d(8, 16, 5, stride=2, padding=2), nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose1d(16, 8, 3, stride=2, padding=1, output_padding=1, groups=2), nn.ReLU(),
                                 nn.ConvTranspose1d(8, 1, 4, stride=2, padding=1))

    def forward(self, x):
        return self.dec(self.enc(x))


def export(module, shape, name):
    torch.manual_seed(20)
    m = module().eval()
    for p in m.modules():
        if isinstance(p, nn.BatchNorm2d):
            p.running_mean.uniform_(-0.2, 0.2)
            p.running_var.uniform_(0.5, 2)
    path = os.path.join(HERE, name)
    torch.onnx.export(m, torch.randn(*shape), path, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
    import onnx
    print(name, sorted({n.op_type for n in onnx.load(path).graph.node}), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    export(TinyUNet, (1, 3, 32, 32), "tiny_unet.onnx")
    export(ECGDenoiser, (1, 1, 256), "ecg_denoiser.onnx")
