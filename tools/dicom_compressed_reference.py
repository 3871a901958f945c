#!/usr/bin/env python3
"""Compressed DICOM series for adamss-io's DICOM reader (`Volume::read` on a folder,
`read_series`), transcoded from tools/dicom_reference.py's uncompressed series, and what
SimpleITK (GDCM) reads from them: the reference.

Each file of a source series is re-encoded, every other attribute kept: RLE Lossless by
pydicom 3.0.2's `Dataset.compress` (its own encoder), JPEG Lossless (process 14 and its
first-order-prediction form SV1) and JPEG 2000 (lossless, and irreversible at 8:1) by GDCM's
`ImageChangeTransferSyntax` (python-gdcm 3.2.6: pydicom has no JPEG lossless encoder, and its
JPEG 2000 encoder, pylibjpeg-openjpeg, asks for more resolution levels than 14 × 11 pixels
hold), JPEG-LS by pyjpegls. SimpleITK 2.5.7's `ImageSeriesReader` (GDCM's decoders) then reads each
series as float64: for the lossless syntaxes it must equal the source series' reading voxel
for voxel (checked here), so our reader must too; for lossy JPEG 2000 its voxels are recorded.

Cases (tests/data/dicom/compressed/<case>/):
  rle_ct_axial            RLE Lossless (1.2.840.10008.1.2.5), unsigned 12-of-16 bits
  rle_ct_oblique          RLE Lossless, signed 16 bits
  jpegll_ct_axial         JPEG Lossless SV1 (1.2.840.10008.1.2.4.70)
  jpegll_ct_oblique       JPEG Lossless SV1, signed
  jpegll14_pet_slopes     JPEG Lossless process 14 (1.2.840.10008.1.2.4.57), PET with a slope
                          per slice
  j2k_ct_oblique          JPEG 2000 lossless (1.2.840.10008.1.2.4.90), signed
  j2k_ct_axial            JPEG 2000 lossless, unsigned 12-of-16 bits (GDCM does not encode
                          the 10 × 8 PET slices)
  j2k_lossy_ct_axial      JPEG 2000 (1.2.840.10008.1.2.4.91), irreversible, compression 8:1
Refused (tests/data/dicom/compressed/bad_<case>/):
  bad_jpegls              JPEG-LS Lossless (pyjpegls 1.5.1): a syntax not decoded here
  bad_rle_cut             RLE whose second segment is cut short
  bad_j2k_size            a JPEG 2000 frame of a 14 × 11 image under Rows 11 / Columns 12

Writes tests/data/dicom/compressed/expected.json (per case: transfer syntax, SimpleITK's
geometry and voxels, x fastest, as tools/dicom_reference.py records them). Run (after tools/dicom_reference.py, whose series it transcodes):
.venv/bin/pip install python-gdcm==3.2.6 pylibjpeg==2.1.0 pylibjpeg-openjpeg==2.6.0 \
pyjpegls==1.5.1 pylibjpeg-libjpeg==2.5.0 && .venv/bin/python tools/dicom_compressed_reference.py
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import (JPEG2000, JPEG2000Lossless, JPEGLossless, JPEGLosslessSV1,
                         JPEGLSLossless, RLELossless)

sys.path.insert(0, str(Path(__file__).resolve().parent))

DICOM = Path(__file__).resolve().parent.parent / "tests" / "data" / "dicom"
OUT = DICOM / "compressed"

CASES = {
    "rle_ct_axial": ("ct_axial", RLELossless),
    "rle_ct_oblique": ("ct_oblique", RLELossless),
    "jpegll_ct_axial": ("ct_axial", JPEGLosslessSV1),
    "jpegll_ct_oblique": ("ct_oblique", JPEGLosslessSV1),
    "jpegll14_pet_slopes": ("pet_slopes", JPEGLossless),
    "j2k_ct_oblique": ("ct_oblique", JPEG2000Lossless),
    "j2k_ct_axial": ("ct_axial", JPEG2000Lossless),
    "j2k_lossy_ct_axial": ("ct_axial", JPEG2000),
}
LOSSY = {JPEG2000}
# GDCM's names of the syntaxes it encodes here. python-gdcm and SimpleITK each carry their own
# GDCM and OpenJPEG, which corrupt each other's heap in one process: the transcoding runs in a
# child process (`--transcode`) that never imports SimpleITK.
GDCM_SYNTAX = {
    JPEGLosslessSV1: "JPEGLosslessProcess14_1",
    JPEGLossless: "JPEGLosslessProcess14",
    JPEG2000Lossless: "JPEG2000Lossless",
    JPEG2000: "JPEG2000",
}


def transcode(src, dst, syntax):
    if syntax in GDCM_SYNTAX:
        import gdcm

        reader = gdcm.ImageReader()
        reader.SetFileName(str(src))
        assert reader.Read(), src
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, GDCM_SYNTAX[syntax])))
        change.SetInput(reader.GetImage())
        if syntax == JPEG2000:  # irreversible wavelet, 8:1
            codec = gdcm.JPEG2000Codec()
            codec.SetReversible(False)
            codec.SetRate(0, 8)
            change.SetUserCodec(codec)
        assert change.Change(), (src, syntax)
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(dst))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        assert writer.Write(), dst
        # GDCM fills the absent StudyDate / StudyTime with the present moment: fixed here.
        ds = pydicom.dcmread(dst)
        assert ds.file_meta.TransferSyntaxUID == syntax, dst
        ds.StudyDate, ds.StudyTime = "20261207", "120000"
        ds.save_as(dst, enforce_file_format=True)
        return
    ds = pydicom.dcmread(src)
    ds.compress(syntax, generate_instance_uid=False)
    ds.save_as(dst, enforce_file_format=True)


def transcode_all():
    """The files of every case (the child process)."""
    for name, (source, syntax) in CASES.items():
        folder = OUT / name
        folder.mkdir()
        for f in sorted((DICOM / source).glob("*.dcm")):
            transcode(f, folder / f.name, syntax)
    bad = OUT / "bad_jpegls"
    bad.mkdir()
    for f in sorted((DICOM / "ct_axial").glob("*.dcm"))[:2]:
        transcode(f, bad / f.name, JPEGLSLossless)


def series_uid(folder):
    import SimpleITK as sitk


    ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    assert len(ids) == 1, ids
    return ids[0]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    subprocess.run([sys.executable, __file__, "--transcode"], check=True)
    from dicom_reference import sitk_read

    cases = {}
    for name, (source, syntax) in CASES.items():
        folder = OUT / name
        got = sitk_read(folder, series_uid(folder))
        want = sitk_read(DICOM / source, series_uid(DICOM / source))
        if syntax not in LOSSY:
            assert got["values"] == want["values"], name
        else:
            diff = np.abs(np.array(got["values"]) - np.array(want["values"]))
            assert diff.max() > 0, name  # lossy indeed (random voxels: large errors at 8:1)
        cases[name] = {"source": source, "transfer_syntax": str(syntax), "lossy": syntax in LOSSY,
                       **got}

    bad = OUT / "bad_rle_cut"
    bad.mkdir()
    f = sorted((OUT / "rle_ct_axial").glob("*.dcm"))[0]
    ds = pydicom.dcmread(f)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([frame[:len(frame) - 40]])
    ds.save_as(bad / f.name, enforce_file_format=True)

    bad = OUT / "bad_j2k_size"
    bad.mkdir()
    f = sorted((OUT / "j2k_lossy_ct_axial").glob("*.dcm"))[0]
    ds = pydicom.dcmread(f)
    ds.Columns = 12
    ds.save_as(bad / f.name, enforce_file_format=True)

    (OUT / "expected.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print({n: (c["transfer_syntax"], len(c["values"])) for n, c in cases.items()})


if __name__ == "__main__":
    transcode_all() if sys.argv[1:] == ["--transcode"] else main()
