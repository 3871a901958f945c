#!/usr/bin/env python3
"""DICOM series for adamss-io's DICOM reader (`adamss_io::dicom`, `Volume::read` on a folder),
written by pydicom, and what SimpleITK (GDCM) reads from them: the reference.

Every file is written here with pydicom (full control of each tag and of the pixel bytes);
SimpleITK 2.5's `ImageSeriesReader` is then the trusted reader: `GetGDCMSeriesIDs` and
`GetGDCMSeriesFileNames` (GDCM's sorting by position along the slice normal), read as float64
(each file's own RescaleSlope / RescaleIntercept applied), its origin, spacing and direction
(ITK's LPS) and every voxel recorded.

Good series (tests/data/dicom/<case>/):
  ct_axial     CT, 14 columns × 11 rows × 6 slices, unsigned 12-of-16 bits, intercept −1024,
               row spacing 0.8 ≠ column spacing 0.7, explicit VR little endian; the file names'
               order and the instance numbers both differ from the slices' order in space
  ct_oblique   CT, signed 16 bits, an oblique orientation (rotated about two axes), slices
               3 mm apart along its normal, implicit VR little endian
  pet_slopes   PET, unsigned 16 bits, a different RescaleSlope on every slice (as scanners
               write PET), feet first: instance numbers run down the body
  two_series   a CT series and a PET series in one folder, and a text file that is not DICOM

Broken series (tests/data/dicom/bad_<case>/), refused by our reader (SimpleITK reads the
first with a warning, fails or guesses on the others):
  bad_gap        a slice missing: positions 0, 2, 4, 8 mm
  bad_jpeg       pixel data encapsulated under JPEG Baseline (compressed; not decoded here)
  bad_rows       one slice with 10 rows among 11-row slices
  bad_duplicate  two slices at one position

ct_axial also gets a box mask (ct_axial_mask.nii.gz, written by SimpleITK on the series'
grid) and PyRadiomics 3.1.4's default features of the series in it.

Writes tests/data/dicom/expected.json. Run: .venv/bin/pip install pydicom==3.0.2 &&
.venv/bin/python tools/dicom_reference.py
"""
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit,
                         generate_uid)

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "dicom"
CT = "1.2.840.10008.5.1.4.1.1.2"
PET = "1.2.840.10008.5.1.4.1.1.128"
PREFIX = "1.2.826.0.1.3680043.8.498."  # pydicom's root, for reproducible UIDs


def uid(*parts):
    return generate_uid(prefix=PREFIX, entropy_srcs=[str(p) for p in parts])


def write_slice(path, *, series, study, k, modality, rows, cols, pixel_spacing, ipp, iop,
                stored, bits_stored, signed, slope=1.0, intercept=0.0, instance=None,
                syntax=ExplicitVRLittleEndian, compressed=False):
    sop_class = PET if modality == "PT" else CT
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid(series, "sop", k)
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.FrameOfReferenceUID = uid(study, "frame")
    ds.Modality = modality
    ds.PatientID = "synthetic"
    ds.SeriesDescription = f"{modality} synthetic"
    ds.InstanceNumber = k + 1 if instance is None else instance
    ds.ImagePositionPatient = [f"{v:.6f}" for v in ipp]
    ds.ImageOrientationPatient = [f"{v:.8f}" for v in iop]
    ds.PixelSpacing = [f"{v}" for v in pixel_spacing]
    ds.SliceThickness = "2.5"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits_stored, bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.RescaleSlope = f"{slope:.10g}"
    ds.RescaleIntercept = f"{intercept:.10g}"
    data = np.asarray(stored, dtype="<i2" if signed else "<u2").reshape(rows, cols)
    if compressed:
        ds.PixelData = encapsulate([data.tobytes()])
        ds["PixelData"].VR = "OB"
    else:
        ds.PixelData = data.tobytes()
    ds.save_as(path, enforce_file_format=True, implicit_vr=syntax == ImplicitVRLittleEndian,
               little_endian=True)


def series_slices(folder, name, *, modality, rows, cols, slices, pixel_spacing, origin, iop,
                  step, bits_stored, signed, slopes=None, intercept=0.0, syntax=ExplicitVRLittleEndian,
                  file_order=None, instances=None, positions=None, rows_of=None, compressed=False):
    """Writes one series; returns its UID."""
    study = uid(name, "study")
    series = uid(name, "series")
    rng = np.random.default_rng(len(name) * 7919)
    row, col = np.array(iop[:3]), np.array(iop[3:])
    normal = np.cross(row, col)
    for k in range(slices):
        along = positions[k] if positions is not None else k * step
        ipp = np.array(origin) + along * normal
        r = rows_of[k] if rows_of is not None else rows
        lo, hi = (-2000, 3000) if signed else (0, 2 ** bits_stored - 1)
        stored = rng.integers(lo, hi, size=r * cols)
        fname = file_order[k] if file_order is not None else f"{name}_{k:03d}.dcm"
        write_slice(folder / fname, series=series, study=study, k=k, modality=modality, rows=r,
                    cols=cols, pixel_spacing=pixel_spacing, ipp=ipp, iop=iop, stored=stored,
                    bits_stored=bits_stored, signed=signed,
                    slope=slopes[k] if slopes is not None else 1.0, intercept=intercept,
                    instance=instances[k] if instances is not None else None, syntax=syntax,
                    compressed=compressed)
    return series


def rotation(a, b):
    ca, sa, cb, sb = np.cos(a), np.sin(a), np.cos(b), np.sin(b)
    rz = np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cb, -sb], [0, sb, cb]])
    return rz @ rx


def sitk_read(folder, series):
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    reader.SetOutputPixelType(sitk.sitkFloat64)
    img = reader.Execute()
    values = sitk.GetArrayFromImage(img)  # (z, y, x): flattening gives x fastest
    return {
        "series_uid": series,
        "files": [Path(f).name for f in files],
        "size": list(img.GetSize()),
        "spacing": list(img.GetSpacing()),
        "origin_lps": list(img.GetOrigin()),
        "direction_lps": list(img.GetDirection()),
        "values": [float(v) for v in values.ravel()],
    }


def pyradiomics_of(folder, series):
    """PyRadiomics' default features of the series (SimpleITK's reading) in a box ROI written
    beside it as ct_axial_mask.nii.gz (SimpleITK, the series' geometry): what `adamss radiomics
    --image FOLDER --mask MASK` must give."""
    import radiomics
    from radiomics import featureextractor
    radiomics.setVerbosity(40)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series))
    image = reader.Execute()
    mask = sitk.Image(image.GetSize(), sitk.sitkUInt8)
    mask.CopyInformation(image)
    arr = np.zeros(image.GetSize()[::-1], np.uint8)
    arr[1:5, 2:9, 3:11] = 1
    arr[2, 4, 6] = 0
    m = sitk.GetImageFromArray(arr)
    m.CopyInformation(image)
    sitk.WriteImage(m, str(OUT / "ct_axial_mask.nii.gz"))
    result = featureextractor.RadiomicsFeatureExtractor().execute(image, m)
    return {"version": radiomics.__version__,
            "features": {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}}


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    cases = {}

    d = OUT / "ct_axial"
    d.mkdir()
    order = ["b.dcm", "e.dcm", "a.dcm", "f.dcm", "c.dcm", "d.dcm"]
    s = series_slices(d, "ct_axial", modality="CT", rows=11, cols=14, slices=6,
                      pixel_spacing=[0.8, 0.7], origin=[-5.0, 12.5, -100.0],
                      iop=[1, 0, 0, 0, 1, 0], step=2.5, bits_stored=12, signed=False,
                      intercept=-1024.0, file_order=order, instances=[6, 5, 4, 3, 2, 1])
    cases["ct_axial"] = sitk_read(d, s)
    cases["ct_axial"]["pyradiomics"] = pyradiomics_of(d, s)

    d = OUT / "ct_oblique"
    d.mkdir()
    r = rotation(0.3, -0.2)
    iop = list(r[:, 0]) + list(r[:, 1])
    s = series_slices(d, "ct_oblique", modality="CT", rows=9, cols=12, slices=5,
                      pixel_spacing=[1.1, 0.9], origin=[20.0, -30.0, 55.5], iop=iop, step=3.0,
                      bits_stored=16, signed=True, syntax=ImplicitVRLittleEndian)
    cases["ct_oblique"] = sitk_read(d, s)

    d = OUT / "pet_slopes"
    d.mkdir()
    slopes = [0.0131 * (1 + k / 7) for k in range(7)]
    s = series_slices(d, "pet_slopes", modality="PT", rows=8, cols=10, slices=7,
                      pixel_spacing=[4.0, 4.0], origin=[-18.0, -16.0, 300.0],
                      iop=[1, 0, 0, 0, 1, 0], step=-3.27, bits_stored=16, signed=False,
                      slopes=slopes)
    cases["pet_slopes"] = sitk_read(d, s)

    d = OUT / "two_series"
    d.mkdir()
    ct = series_slices(d, "two_ct", modality="CT", rows=6, cols=5, slices=3,
                       pixel_spacing=[1.0, 1.0], origin=[0, 0, 0], iop=[1, 0, 0, 0, 1, 0],
                       step=2.0, bits_stored=16, signed=True)
    pt = series_slices(d, "two_pt", modality="PT", rows=4, cols=4, slices=3,
                       pixel_spacing=[2.0, 2.0], origin=[0, 0, 0], iop=[1, 0, 0, 0, 1, 0],
                       step=2.0, bits_stored=16, signed=False, slopes=[0.5, 0.25, 0.125])
    (d / "README.txt").write_text("not a DICOM file\n")
    ids = sorted(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(d)))
    assert ids == sorted([ct, pt]), ids
    cases["two_series"] = {"series": {"CT": sitk_read(d, ct), "PT": sitk_read(d, pt)}}

    bad = {}
    common = dict(modality="CT", rows=11, cols=14, pixel_spacing=[1.0, 1.0], origin=[0, 0, 0],
                  iop=[1, 0, 0, 0, 1, 0], step=2.0, bits_stored=16, signed=True)
    for name, extra in {
        "bad_gap": dict(slices=4, positions=[0, 2, 4, 8]),
        "bad_jpeg": dict(slices=3, syntax=JPEGBaseline8Bit, compressed=True),
        "bad_rows": dict(slices=4, rows_of=[11, 11, 10, 11]),
        "bad_duplicate": dict(slices=4, positions=[0, 2, 2, 4]),
    }.items():
        d = OUT / name
        d.mkdir()
        series_slices(d, name, **{**common, **extra})
        bad[name] = {"slices": extra["slices"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {"generator": "tools/dicom_reference.py", "pydicom": pydicom.__version__,
               "SimpleITK": sitk.Version_VersionString(), "cases": cases, "bad": bad}
    (OUT / "expected.json").write_text(json.dumps(out, indent=1) + "\n")
    for name, case in cases.items():
        if "size" in case:
            print(name, case["size"], case["spacing"], case["files"])


if __name__ == "__main__":
    main()
