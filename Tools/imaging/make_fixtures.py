#!/usr/bin/env python3
"""Writes the small synthetic DICOM files in Tests/Fixtures/dicom/ (the fuzzer's seed corpus and
handy CLI examples) with pydicom 3.0.2. Pixel values are made up; no patient data.

  make_fixtures.py [OUTDIR]     (default Tests/Fixtures/dicom)
"""
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                         DeflatedExplicitVRLittleEndian, RLELossless, generate_uid)


def base(ts, arr, photometric="MONOCHROME2", signed=False, bits_stored=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.1.1"
    meta.TransferSyntaxUID = ts
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    frames = arr.shape[0] if (arr.ndim == 3 and photometric.startswith("MONO")) or arr.ndim == 4 else 1
    ds.Rows, ds.Columns = (arr.shape[-3], arr.shape[-2]) if photometric == "RGB" else (arr.shape[-2], arr.shape[-1])
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
    if photometric == "RGB":
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = arr.tobytes() if ts != ExplicitVRBigEndian else arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    return ds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/dicom"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    ct = (rng.integers(-1024, 2000, size=(8, 8))).astype(np.int16)

    ds = base(ExplicitVRLittleEndian, ct, signed=True, bits_stored=12)
    ds.RescaleSlope, ds.RescaleIntercept = "1.5", "-100"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.4"
    ds.ReferencedImageSequence = Sequence([item, Dataset()])
    ds["ReferencedImageSequence"].is_undefined_length = True
    ds.save_as(os.path.join(out, "ct_explicit_le_sq.dcm"), enforce_file_format=True)

    ds = base(ImplicitVRLittleEndian, ct, signed=True)
    ds.WindowCenter, ds.WindowWidth = ["40", "300"], ["400", "1500"]
    ds.save_as(os.path.join(out, "ct_implicit.dcm"), enforce_file_format=True)

    rgb = rng.integers(0, 256, size=(4, 5, 3)).astype(np.uint8)
    ds = base(ExplicitVRBigEndian, rgb, photometric="RGB")
    ds.save_as(os.path.join(out, "rgb_big_endian.dcm"), enforce_file_format=True)

    mono1 = rng.integers(0, 4096, size=(6, 6)).astype(np.uint16)
    ds = base(DeflatedExplicitVRLittleEndian, mono1, photometric="MONOCHROME1", bits_stored=12)
    ds.save_as(os.path.join(out, "mono1_deflated.dcm"), enforce_file_format=True)

    frames = rng.integers(0, 1000, size=(2, 4, 4)).astype(np.uint16)
    frames[1, :, :] = 500  # long replicate runs
    ds = base(ExplicitVRLittleEndian, frames)
    ds.compress(RLELossless, frames)
    ds.save_as(os.path.join(out, "rle_2frame.dcm"), enforce_file_format=True)
    for n in sorted(os.listdir(out)):
        if n.endswith(".dcm"):
            print(n, os.path.getsize(os.path.join(out, n)), "bytes")


if __name__ == "__main__":
    main()
