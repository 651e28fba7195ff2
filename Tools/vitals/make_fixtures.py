#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/vitals/: small WFDB (formats 212 and 16) and EDF files written by the
independent `wfdb` and `edfio` packages, with the physical values those packages read back, so the
Swift readers are checked against readers nobody here wrote.

Source signal: the first 2 s of the MIT-BIH record 208 excerpt (Models/ecg-rhythm/data, ODC-By 1.0)
and a derived second channel (the first, inverted and halved), so multi-signal interleaving is
exercised. Run from the repo root: .venv/bin/python Tools/vitals/make_fixtures.py
"""
import os
import shutil
import sys
import tempfile

import numpy as np
import wfdb
import edfio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "vitals")
FS = 360
N = 720


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    x = np.load(os.path.join(ROOT, "Models", "ecg-rhythm", "data", "mitbih-208-excerpt.npy"))[:N].astype(np.float64)
    y = -0.5 * x
    sig = np.stack([x, y], axis=1)
    # The excerpt's own ADC coding: mV = (raw - 1024) / 200, baseline 1024.
    d = np.round(sig * 200 + 1024).astype(np.int64)
    for fmt, name in (("212", "rec212"), ("16", "rec16")):
        with tempfile.TemporaryDirectory() as tmp:
            wfdb.wrsamp(name, fs=FS, units=["mV", "mV"], sig_name=["MLII", "INV"], d_signal=d,
                        fmt=[fmt, fmt], adc_gain=[200.0, 200.0], baseline=[1024, 1024], write_dir=tmp)
            for ext in (".hea", ".dat"):
                shutil.copy(os.path.join(tmp, name + ext), os.path.join(OUT, name + ext))
        rec = wfdb.rdrecord(os.path.join(OUT, name))
        np.savetxt(os.path.join(OUT, name + ".expected.csv"), rec.p_signal, fmt="%.6f", delimiter=",",
                   header="MLII,INV", comments="")

    # EDF: one record per second, 16-bit digital range, physical range ±5 mV.
    sigs = [edfio.EdfSignal(sig[:, k], sampling_frequency=FS, label=lab, physical_dimension="mV",
                            physical_range=(-5.0, 5.0)) for k, lab in enumerate(("MLII", "INV"))]
    edf = edfio.Edf(sigs)
    path = os.path.join(OUT, "rec.edf")
    edf.write(path)
    back = edfio.read_edf(path)
    p = np.stack([s.data for s in back.signals], axis=1)
    np.savetxt(os.path.join(OUT, "rec.edf.expected.csv"), p, fmt="%.6f", delimiter=",", header="MLII,INV", comments="")
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
