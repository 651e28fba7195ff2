#!/usr/bin/env python3
"""Extract the MIT-BIH record 208 excerpt that SciPy 1.11 shipped as scipy.misc.electrocardiogram.

The excerpt (5 minutes, 360 Hz, 108000 samples) is the file scipy/misc/ecg.dat inside the
scipy==1.11.4 wheel: an .npz holding uint16 ADC values; mV = (raw - 1024) / 200.
SciPy 1.11.4 itself is NOT installed (it conflicts with numpy 2): the wheel is only downloaded
with pip and the one file read with zipfile.

Usage: fetch_mitbih_excerpt.py OUT.npy      (writes float32 mV, shape [108000])
Needs: numpy, and pip able to reach PyPI.
"""
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

WHEEL_SPEC = "scipy==1.11.4"
MEMBER = "scipy/misc/ecg.dat"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", WHEEL_SPEC, "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64", "-q", "-d", tmp],
            check=True,
        )
        wheel = next(Path(tmp).glob("scipy-1.11.4-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            raw = z.read(MEMBER)
    with np.load(io.BytesIO(raw)) as f:
        adc = f["ecg"]
    assert adc.dtype == np.uint16 and adc.shape == (108000,), (adc.dtype, adc.shape)
    mv = ((adc.astype(np.float64) - 1024.0) / 200.0).astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, mv)
    print(f"{out}: {mv.shape[0]} samples, {mv.min():.3f}..{mv.max():.3f} mV, "
          f"ecg.dat sha256 {hashlib.sha256(raw).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
