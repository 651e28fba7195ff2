#!/usr/bin/env python3
"""Decodes every DICOM file shipped in the pydicom wheel (pydicom/data/test_files), and the
synthetic files in Tests/Fixtures/dicom, with
`vigil dicom` at each stage and compares with pydicom 3.0.2, the oracle:

  stored   == ds.pixel_array                                   (same values, shape and dtype kind/size)
  modality == pydicom.pixels.apply_modality_lut(arr, ds)       (vigil float64; exact equality)
  voi      == apply_voi_lut(apply_modality_lut(arr, ds), ds)   (vigil float64; exact equality)

Files with a compressed transfer syntax other than RLE must be refused with an error naming the
transfer syntax UID and its name. Files pydicom itself cannot read or decode, and files without
pixel data, are counted as skipped with the reason (vigil's answer on them is printed too). Exits
1 if any file failed.

  check_pydicom.py VIGIL_BINARY [WORKDIR]
"""
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import UID

warnings.simplefilter("ignore")

DECODED = {
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5",
}


def run_vigil(vigil, path, out, stage):
    p = subprocess.run([vigil, "dicom", path, "--output", out, "--stage", stage],
                       capture_output=True, text=True, timeout=120)
    err = (p.stderr or "").strip().replace(f"vigil: {path}: ", "")
    return p.returncode, err


def same_dtype(ours, ref):
    # pydicom keeps big-endian files' byte order ('>i2'); vigil writes little-endian.
    return ours.dtype.kind == ref.dtype.kind and ours.dtype.itemsize == ref.dtype.itemsize


def compare(name, stage, ours, ref):
    if ours.shape != ref.shape:
        return f"{stage}: shape {ours.shape} != pydicom {ref.shape}"
    if stage == "stored":
        if not same_dtype(ours, ref):
            return f"stored: dtype {ours.dtype} != pydicom {ref.dtype}"
        if not np.array_equal(ours, ref):
            bad = int(np.count_nonzero(ours != ref))
            return f"stored: {bad} of {ref.size} values differ"
        return None
    if ours.dtype != np.float64:
        return f"{stage}: dtype {ours.dtype}, expected float64"
    r = ref.astype(np.float64)
    if not np.array_equal(ours, r, equal_nan=True):
        diff = np.abs(ours - r)
        return f"{stage}: {int(np.count_nonzero(diff))} values differ, max |diff| {np.nanmax(diff)}"
    return None


def main():
    vigil = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="vigil-dicom-")
    folders = [os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files"),
               os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "dicom")]
    paths = []
    for folder in folders:
        if os.path.isdir(folder):
            paths += [os.path.join(folder, n) for n in sorted(os.listdir(folder))]
    passed, named, skipped, failed = [], [], [], []
    for path in paths:
        name = os.path.basename(path)
        if not os.path.isfile(path) or name == "README.md":
            continue
        out = os.path.join(work, name + ".npy")
        try:
            ds = pydicom.dcmread(path)
        except Exception as e:  # pydicom cannot read it: not our oracle's file
            rc, err = run_vigil(vigil, path, out, "stored")
            skipped.append((name, f"pydicom cannot read it ({type(e).__name__}); vigil: {'exit ' + str(rc) + ': ' + err if rc else 'decoded'}"))
            continue
        if "PixelData" not in ds:
            rc, err = run_vigil(vigil, path, out, "stored")
            skipped.append((name, f"no pixel data; vigil: exit {rc}: {err[:110]}"))
            continue
        ts = str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
        if ts and ts not in DECODED:
            rc, err = run_vigil(vigil, path, out, "stored")
            uid_name = UID(ts).name
            if rc != 0 and ts in err and "unsupported-transfer-syntax" in err:
                named.append((name, f"{ts} ({uid_name})"))
            else:
                failed.append((name, f"compressed {ts} ({uid_name}): expected a named refusal, got exit {rc}: {err}"))
            continue
        try:
            arr = ds.pixel_array
        except Exception as e:
            rc, err = run_vigil(vigil, path, out, "stored")
            note = f"vigil also refuses: {err[:110]}" if rc else "vigil decodes it"
            skipped.append((name, f"pydicom cannot decode it ({type(e).__name__}: {str(e)[:70]}); {note}"))
            continue
        problems = []
        for stage in ("stored", "modality", "voi"):
            try:
                if stage == "stored":
                    ref = arr
                elif stage == "modality":
                    ref = apply_modality_lut(arr, ds)
                else:
                    ref = apply_voi_lut(apply_modality_lut(arr, ds), ds)
                ref_err = None
            except Exception as e:
                ref, ref_err = None, f"{type(e).__name__}: {e}"
            if os.path.exists(out):
                os.remove(out)
            rc, err = run_vigil(vigil, path, out, stage)
            if ref_err is not None:
                if rc == 0:
                    problems.append(f"{stage}: pydicom raises ({ref_err[:60]}) but vigil decoded")
                continue
            if rc != 0:
                problems.append(f"{stage}: vigil exit {rc}: {err}")
                continue
            msg = compare(name, stage, np.load(out), np.asarray(ref))
            if msg:
                problems.append(msg)
        if problems:
            failed.append((name, "; ".join(problems)))
        else:
            passed.append((name, f"{ts} {ds.get('PhotometricInterpretation', '')} {arr.dtype.name} {arr.shape}"))

    for title, rows in (("passed", passed), ("compressed, refused with the named syntax", named),
                        ("skipped", skipped), ("FAILED", failed)):
        print(f"== {title}: {len(rows)}")
        for n, why in rows:
            print(f"  {n}: {why}")
    print(f"vigil dicom vs pydicom: {len(passed)} passed, {len(named)} compressed-with-named-error, "
          f"{len(skipped)} skipped, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
