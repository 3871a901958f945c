#!/usr/bin/env python3
"""PET DICOM series for adamss-io's SUV conversion (`adamss_io::dicom::read_suv`,
`suv_conversion`), and their SUV factors by @cornerstonejs/calculate-suv 1.1.0 (OHIF /
Cornerstone's implementation of the QIBA vendor-neutral SUV pseudo-code): the reference.

Each series is written by pydicom with tools/dicom_reference.py's `series_slices` (PT, 16-bit
unsigned, a RescaleSlope per slice), then given the PET attributes an SUV needs. Each file is
read back with pydicom and its attributes handed to calculate-suv as a viewer would hand them
(`InstanceMetadata`: DICOM keywords, the first Radiopharmaceutical Information Sequence item's
values, Philips' and GE's private elements found through their creators), instances in GDCM's
order; its factors (one object per instance) are the reference. The expected SUV volume is
SimpleITK's reading of the series (float64, each file's slope and intercept) times each file's
factor.

Cases (tests/data/dicom/suv/<case>/):
  bqml_datetime        Bq/mL, RadiopharmaceuticalStartDateTime, a man with his size: SUVbw,
                       SUVlbm (Janmahasatian) and SUVbsa
  bqml_time_female     RadiopharmaceuticalStartTime only (on the SeriesDate), a woman, times
                       with six-digit fractions
  bqml_rewritten_ge    SeriesTime after the acquisitions (rewritten), GE's private scan time
                       (0009,xx0D "GEMS_PETD_01"), implicit VR (private values as unknown bytes)
  bqml_rewritten       SeriesTime after the acquisitions, no GE time: the earliest of the
                       slices' own AcquisitionTimes
  cnts_philips_suv     counts with Philips' SUV scale factor (7053,1000), one per slice
  cnts_philips_activity  counts with Philips' activity-concentration factor (7053,1009) only
  cnts_philips_block   as cnts_philips_suv with the Philips creator at (7053,0011), so its
                       elements at (7053,11xx); implicit VR
  gml                  already SUVbw (factor 1)
Refused by both (the reference's error recorded):
  bad_no_weight, bad_not_decay_corrected (CorrectedImage without DECY), bad_injection_after_scan,
  bad_units (PROPCNTS), bad_mixed_series (one slice's PatientWeight differs)
Refused by ours, not by the reference (which decays the dose whatever DecayCorrection says):
  bad_admin (DecayCorrection ADMIN)

Known differences from calculate-suv 1.1.0, avoided by these cases: a TM fraction with
leading zeros (".05", ".005") reads as ".5" there (its `padEnd`); SUVlbm / SUVbsa of CNTS
and GML series apply there to the unscaled values (here SUVbw × mass / weight); its James
lean-body-mass factor (120 for men, not James' 128) is not compared (ours offers
Janmahasatian's only).

Writes tests/data/dicom/suv/<case>/*.dcm and tests/data/dicom/suv/expected.json.
Run (after tools/dicom_reference.py, which wipes tests/data/dicom): (cd tools/suv && npm ci) &&
.venv/bin/python tools/dicom_suv_reference.py
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dicom_reference import series_slices  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "dicom" / "suv"
NODE = ROOT / "tools" / "suv" / "calculate_suv.cjs"
PHILIPS = "Philips PET Private Group"
GE = "GEMS_PETD_01"

BASE = dict(
    Units="BQML", CorrectedImage=["ATTN", "DECY", "SCAT", "NORM"], DecayCorrection="START",
    PatientWeight="72.5", PatientSize="1.78", PatientSex="M", SeriesDate="20261207",
    SeriesTime="093000", AcquisitionDate="20261207", AcquisitionTime="093000",
    RadionuclideTotalDose="370000000", RadionuclideHalfLife="6586.2",
    RadiopharmaceuticalStartDateTime="20261207081530.500000",
)

CASES = {
    "bqml_datetime": dict(),
    "bqml_time_female": dict(
        PatientWeight="58.25", PatientSize="1.64", PatientSex="F",
        SeriesTime="091744.123456", AcquisitionTime="091744.123456",
        RadiopharmaceuticalStartDateTime=None, RadiopharmaceuticalStartTime="081102.654321",
        RadionuclideTotalDose="251000000"),
    "bqml_rewritten_ge": dict(
        SeriesTime="113000", AcquisitionTime=["094500", "094512", "094524"],
        ge="20261207094012.500000", syntax=ImplicitVRLittleEndian),
    "bqml_rewritten": dict(
        SeriesTime="113000", AcquisitionTime=["094500", "094430.5", "094600"]),
    "cnts_philips_suv": dict(
        Units="CNTS", philips_suv=["0.000123", "0.0001245", "0.000126"],
        philips_activity=["1.5", "1.5", "1.5"]),
    "cnts_philips_activity": dict(Units="CNTS", philips_activity=["1.25", "1.3", "1.35"]),
    "cnts_philips_block": dict(
        Units="CNTS", philips_suv=["0.000223", "0.0002245", "0.000226"], philips_block=0x11,
        syntax=ImplicitVRLittleEndian),
    "gml": dict(Units="GML"),
    "bad_no_weight": dict(PatientWeight=None),
    "bad_not_decay_corrected": dict(CorrectedImage=["ATTN", "SCAT"]),
    "bad_injection_after_scan": dict(
        RadiopharmaceuticalStartDateTime=None, RadiopharmaceuticalStartTime="233000"),
    "bad_units": dict(Units="PROPCNTS"),
    "bad_mixed_series": dict(PatientWeight=["72.5", "72.5", "73"]),
    "bad_admin": dict(DecayCorrection="ADMIN"),
}
IN_SEQUENCE = ("RadionuclideTotalDose", "RadionuclideHalfLife", "RadiopharmaceuticalStartTime",
               "RadiopharmaceuticalStartDateTime")


def write_case(name, spec):
    attrs = {**BASE, **{k: v for k, v in spec.items()
                        if k not in ("ge", "philips_suv", "philips_activity", "philips_block",
                                     "syntax")}}
    folder = OUT / name
    folder.mkdir(parents=True)
    syntax = spec.get("syntax", ExplicitVRLittleEndian)
    series_slices(folder, name, modality="PT", rows=4, cols=5, slices=3,
                  pixel_spacing=[4.0, 4.0], origin=[-10.0, -8.0, 120.0],
                  iop=[1, 0, 0, 0, 1, 0], step=-3.27, bits_stored=16, signed=False,
                  slopes=[0.0131, 0.0149, 0.0167], syntax=syntax)
    for k, f in enumerate(sorted(folder.iterdir())):
        ds = pydicom.dcmread(f)
        item = pydicom.Dataset()
        for key, value in attrs.items():
            if value is None:
                continue
            if isinstance(value, list) and key != "CorrectedImage":
                value = value[k]
            setattr(item if key in IN_SEQUENCE else ds, key, value)
        ds.RadiopharmaceuticalInformationSequence = [item]
        if "ge" in spec:
            block = ds.private_block(0x0009, GE, create=True)
            block.add_new(0x0D, "DT", spec["ge"])
        if "philips_suv" in spec or "philips_activity" in spec:
            if "philips_block" in spec:  # occupy 0010 with another creator first
                ds.add_new(0x70530010, "LO", "Some Other Private Group")
            block = ds.private_block(0x7053, PHILIPS, create=True)
            if "philips_suv" in spec:
                block.add_new(0x00, "DS", spec["philips_suv"][k])
            if "philips_activity" in spec:
                block.add_new(0x09, "DS", spec["philips_activity"][k])
        ds.save_as(f, enforce_file_format=True, implicit_vr=syntax == ImplicitVRLittleEndian,
                   little_endian=True)
    return folder


def number(v):
    return None if v is None else float(v)


def metadata(path):
    """calculate-suv's InstanceMetadata of one file, as a viewer reads it with pydicom."""
    ds = pydicom.dcmread(path)
    item = ds.RadiopharmaceuticalInformationSequence[0]
    m = {
        "CorrectedImage": list(ds.CorrectedImage) if "CorrectedImage" in ds else [],
        "Units": ds.get("Units"),
        "DecayCorrection": ds.get("DecayCorrection"),
        "PatientWeight": number(ds.get("PatientWeight")),
        "PatientSize": number(ds.get("PatientSize")),
        "PatientSex": ds.get("PatientSex"),
        "SeriesDate": ds.SeriesDate, "SeriesTime": ds.SeriesTime,
        "AcquisitionDate": ds.AcquisitionDate, "AcquisitionTime": ds.AcquisitionTime,
        "RadionuclideTotalDose": number(item.get("RadionuclideTotalDose")),
        "RadionuclideHalfLife": number(item.get("RadionuclideHalfLife")),
    }
    for key in ("RadiopharmaceuticalStartTime", "RadiopharmaceuticalStartDateTime"):
        if key in item:
            m[key] = str(item.get(key))
    try:
        block = ds.private_block(0x7053, PHILIPS)
        group = {}
        for offset, key in ((0x00, "SUVScaleFactor"), (0x09, "ActivityConcentrationScaleFactor")):
            if block.get_tag(offset) in ds:
                raw = ds[block.get_tag(offset)].value
                group[key] = float(raw.decode() if isinstance(raw, bytes) else raw)
        m["PhilipsPETPrivateGroup"] = group
    except KeyError:
        pass
    try:
        block = ds.private_block(0x0009, GE)
        raw = ds[block.get_tag(0x0D)].value
        m["GEPrivatePostInjectionDateTime"] = (raw.decode() if isinstance(raw, bytes)
                                               else str(raw)).strip()
    except KeyError:
        pass
    return {k: v for k, v in m.items() if v is not None}


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    files, instances = {}, {}
    for name, spec in CASES.items():
        folder = write_case(name, spec)
        order = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder))
        files[name] = order
        instances[name] = [metadata(f) for f in order]
    ref = json.loads(subprocess.run(["node", str(NODE)], input=json.dumps(instances), text=True,
                                    capture_output=True, check=True).stdout)
    expected = {"generator": "@cornerstonejs/calculate-suv 1.1.0", "cases": {}}
    for name in CASES:
        r = ref[name]
        case = {"files": [Path(f).name for f in files[name]]}
        if "error" in r:
            case["reference_error"] = r["error"]
        else:
            factors = r["factors"]
            case["reference_factors"] = factors
            if name.startswith("bad_"):
                case["reference_gives_values"] = True
            else:
                image = sitk.ReadImage(files[name], sitk.sitkFloat64)
                values = sitk.GetArrayFromImage(image)  # (z, y, x)
                suv = values * np.array([f["suvbw"] for f in factors])[:, None, None]
                case["suvbw_voxels"] = suv.transpose(2, 1, 0).ravel(order="F").tolist()
        expected["cases"][name] = case
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(json.dumps({n: c.get("reference_error", c.get("reference_factors", [{}])[0])
                      for n, c in expected["cases"].items()}, indent=1))


if __name__ == "__main__":
    main()
