#!/usr/bin/env python3
"""Enhanced multi-frame DICOM images (one file holding a whole CT or PET volume, as newer
scanners export it) for adamss-io's DICOM reader, converted by highdicom 0.28.2 from
tools/dicom_reference.py's single-frame series.

highdicom's legacy conversion (`LegacyConvertedEnhancedCTImage`, `…PETImage`: DICOM's
"Legacy Converted Enhanced" IODs) moves every slice into one frame, its position into the
frame's Plane Position functional group, the orientation and pixel spacing into the shared
groups (per frame where they differ) and the rescale slope and intercept into the Pixel Value
Transformation group (per frame for the PET, whose slices each have their own). The frames
are the slices' pixels unchanged, so the volume must be the one SimpleITK reads from the
source series, voxel for voxel, with its geometry: tests/data/dicom/expected.json (written by
tools/dicom_reference.py) is the reference; this script checks, with pydicom, that each
frame's pixels and position are its source slice's (highdicom orders the frames by instance
number, not by position: the reader must sort them).

Cases (tests/data/dicom/multiframe/<case>/image.dcm, with the source series' name):
  ct_axial     Legacy Converted Enhanced CT, explicit VR little endian
  ct_oblique   Legacy Converted Enhanced CT of the oblique series (rotated about two axes)
  pet_slopes   Legacy Converted Enhanced PET: a rescale slope per frame
  bad_compressed  ct_axial's frames under RLE Lossless (pydicom): multi-frame compressed
               pixel data is not read here

Run (after tools/dicom_reference.py): .venv/bin/python tools/dicom_multiframe_reference.py
"""
import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import SimpleITK as sitk
from highdicom.legacy import LegacyConvertedEnhancedCTImage, LegacyConvertedEnhancedPETImage
from pydicom.uid import RLELossless

DICOM = Path(__file__).resolve().parent.parent / "tests" / "data" / "dicom"
OUT = DICOM / "multiframe"
PREFIX = "1.2.826.0.1.3680043.8.498."


def uid(*parts):
    return pydicom.uid.generate_uid(prefix=PREFIX, entropy_srcs=[str(p) for p in parts])


def convert(case, cls):
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(DICOM / case))
    sources = []
    for f in files:
        ds = pydicom.dcmread(f)
        # Attributes the legacy IODs require that the test slices leave out.
        ds.PatientName, ds.PatientBirthDate, ds.PatientSex = "Synthetic^Patient", "", "O"
        ds.StudyID, ds.StudyDate, ds.StudyTime = "1", "20261207", "120000"
        ds.ReferringPhysicianName, ds.AccessionNumber = "", ""
        ds.SeriesNumber, ds.Manufacturer = 1, "synthetic"
        if ds.Modality == "PT":
            ds.SeriesDate, ds.SeriesTime = "20261207", "120000"
            ds.Units, ds.DecayCorrection = "BQML", "START"
            ds.CorrectedImage = ["ATTN", "DECY"]
            ds.AcquisitionDate, ds.AcquisitionTime = "20261207", "120000"
        sources.append(ds)
    image = cls(sources, series_instance_uid=uid(case, "series"), series_number=2,
                sop_instance_uid=uid(case, "sop"), instance_number=1)
    # Reproducible: highdicom stamps times, draws a dimension UID, lists references from a set.
    image.InstanceCreationDate, image.InstanceCreationTime = "20261207", "120000"
    for item in image.ContributingEquipmentSequence:
        if "ContributionDateTime" in item:
            item.ContributionDateTime = "20261207120000"
    dimension = uid(case, "dimension")
    image.DimensionOrganizationSequence[0].DimensionOrganizationUID = dimension
    for item in image.DimensionIndexSequence:
        item.DimensionOrganizationUID = dimension
    for series in image.ReferencedSeriesSequence:
        series.ReferencedInstanceSequence = sorted(series.ReferencedInstanceSequence,
                                                   key=lambda r: r.ReferencedSOPInstanceUID)
    # Each frame is its source slice's pixels (found by SOP instance), at its position.
    assert int(image.NumberOfFrames) == len(sources)
    frames = image.pixel_array.reshape(len(sources), sources[0].Rows, sources[0].Columns)
    by_uid = {s.SOPInstanceUID: s for s in sources}
    for k, frame in enumerate(frames):
        groups = image.PerFrameFunctionalGroupsSequence[k]
        src = by_uid[groups.ConversionSourceAttributesSequence[0].ReferencedSOPInstanceUID]
        assert np.array_equal(src.pixel_array, frame), (case, k)
        pos = groups.PlanePositionSequence[0].ImagePositionPatient
        assert [float(v) for v in pos] == [float(v) for v in src.ImagePositionPatient], (case, k)
    return image


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    for case, cls in (("ct_axial", LegacyConvertedEnhancedCTImage),
                      ("ct_oblique", LegacyConvertedEnhancedCTImage),
                      ("pet_slopes", LegacyConvertedEnhancedPETImage)):
        image = convert(case, cls)
        (OUT / case).mkdir(parents=True)
        image.save_as(OUT / case / "image.dcm", enforce_file_format=True)
        print(case, image.SOPClassUID.name, image.NumberOfFrames, "frames")
    image = convert("ct_axial", LegacyConvertedEnhancedCTImage)
    image.compress(RLELossless, generate_instance_uid=False)
    (OUT / "bad_compressed").mkdir()
    image.save_as(OUT / "bad_compressed" / "image.dcm", enforce_file_format=True)
    print("bad_compressed", image.file_meta.TransferSyntaxUID.name)


if __name__ == "__main__":
    main()
