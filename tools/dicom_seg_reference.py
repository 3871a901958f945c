#!/usr/bin/env python3
"""DICOM Segmentation objects (SEG) for adamss-io's SEG reader
(`adamss_io::dicom::read_segmentation`), written by highdicom on the CT series of
tools/dicom_reference.py, and the masks they hold on each CT's grid: the reference.

highdicom (0.28.2, the reference implementation of DICOM SEG by its authors) writes each SEG
from a mask array given per source slice; the truth is that array, placed on the grid
SimpleITK reads from the CT series (GDCM's slice order, index (x, y, z)). highdicom's own
reader (`segread`, `get_pixels_by_source_instance`) reads every SEG back here and must give
the same masks, so the file is right before our reader is judged on it.

Cases (tests/data/dicom/seg/<case>.dcm):
  ct_axial_two     BINARY, on ct_axial (14 columns × 11 rows × 6 slices: 154 bits a frame, so
                   frames start inside bytes), segments 1 "GTVp" (a box on slices 1–3) and
                   2 "GTVn" (a blob on slices 3–4), empty frames omitted (highdicom's default):
                   frames only where a segment has voxels, in highdicom's order
  ct_oblique_one   BINARY, on ct_oblique (rotated about two axes), segment 1 "GTVp" on every
                   other slice
  ct_axial_overlap BINARY, on ct_axial, segments 1 and 2 overlapping in 4 voxels (a SEG may
                   hold overlapping segments; a label map of it is refused)
  bad_fractional   FRACTIONAL (8-bit probabilities) on ct_axial: refused by our reader

Writes tests/data/dicom/seg/*.dcm and tests/data/dicom/seg/expected.json (per case: the CT
series folder, the segments' numbers, labels and algorithm types, and each segment's voxels as
flat indices on the CT grid, x fastest; for ct_axial_two also PyRadiomics 3.1.4's default
features of the CT in segment 2, from the same masks as a label map: what `adamss radiomics
--image ct_axial --mask seg/ct_axial_two.dcm --label 2` must give).
Run: .venv/bin/pip install highdicom==0.28.2 && .venv/bin/python tools/dicom_seg_reference.py
(after tools/dicom_reference.py, whose CT series it segments).
"""
import json
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.sr.codedict import codes

DICOM = Path(__file__).resolve().parent.parent / "tests" / "data" / "dicom"
OUT = DICOM / "seg"
PREFIX = "1.2.826.0.1.3680043.8.498."


def uid(*parts):
    return pydicom.uid.generate_uid(prefix=PREFIX, entropy_srcs=[str(p) for p in parts])


def source(folder):
    """The series' datasets in GDCM's order, with the patient/study attributes highdicom
    needs (the test series carry only what an image reader reads), and the grid's size."""
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(DICOM / folder))
    size = sitk.ReadImage(files).GetSize()
    datasets = []
    for f in files:
        ds = pydicom.dcmread(f)
        ds.PatientName = "Synthetic^Patient"
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.StudyID = "1"
        ds.StudyDate = "20261207"
        ds.StudyTime = "120000"
        ds.ReferringPhysicianName = ""
        ds.AccessionNumber = ""
        ds.SeriesNumber = 1
        datasets.append(ds)
    return datasets, size


def description(number, label):
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Neoplasm,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )


def write(case, folder, masks, labels, kind=hd.seg.SegmentationTypeValues.BINARY):
    """masks: (segments, z, y, x) booleans on the CT grid (or probabilities for FRACTIONAL)."""
    datasets, size = source(folder)
    assert masks.shape[1:] == (size[2], size[1], size[0]), (masks.shape, size)
    pixels = np.moveaxis(masks, 0, -1)  # (frames = source slices, rows, columns, segments)
    if kind == hd.seg.SegmentationTypeValues.BINARY:
        pixels = pixels.astype(bool)
    seg = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=pixels,
        segmentation_type=kind,
        segment_descriptions=[description(k + 1, label) for k, label in enumerate(labels)],
        series_instance_uid=uid(case, "series"),
        series_number=100,
        sop_instance_uid=uid(case, "sop"),
        instance_number=1,
        manufacturer="adamss tests",
        manufacturer_model_name="dicom_seg_reference.py",
        software_versions=hd.__version__,
        device_serial_number="0",
        max_fractional_value=255 if kind == hd.seg.SegmentationTypeValues.FRACTIONAL else None,
    )
    # Fixed creation times, so that rerunning writes the same files.
    seg.ContentDate = seg.InstanceCreationDate = "20261207"
    seg.ContentTime = seg.InstanceCreationTime = "120000"
    for element in seg.iterall():
        if element.keyword == "ContributionDateTime":
            element.value = "20261207120000"
        elif element.keyword == "DimensionOrganizationUID":
            element.value = uid(case, "dimensions")
    path = OUT / f"{case}.dcm"
    seg.save_as(path)
    # highdicom reads it back: the same masks on the same source slices.
    back = hd.seg.segread(path)
    sop_uids = [ds.SOPInstanceUID for ds in datasets]
    got = back.get_pixels_by_source_instance(
        source_sop_instance_uids=sop_uids,
        segment_numbers=list(range(1, len(labels) + 1)),
        assert_missing_frames_are_empty=True,
    )
    if kind == hd.seg.SegmentationTypeValues.BINARY:
        assert np.array_equal(np.moveaxis(got, -1, 0).astype(bool), masks.astype(bool)), case
    return dict(
        series=folder,
        file=f"seg/{case}.dcm",
        frames=int(seg.NumberOfFrames),
        segments=[
            dict(number=k + 1, label=label, algorithm_type="MANUAL",
                 voxels=[int(i) for i in np.flatnonzero(masks[k].ravel())])
            for k, label in enumerate(labels)
        ],
    )


def pyradiomics_of(folder, labels, label):
    """PyRadiomics' default features of the CT series (SimpleITK's reading) in the label map
    `labels` (z, y, x) on its grid, for one label: what `adamss radiomics --image FOLDER --mask
    SEG --label N` must give."""
    import radiomics
    from radiomics import featureextractor
    radiomics.setVerbosity(40)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(DICOM / folder)))
    image = reader.Execute()
    mask = sitk.GetImageFromArray(labels.astype(np.uint8))
    mask.CopyInformation(image)
    result = featureextractor.RadiomicsFeatureExtractor(label=label).execute(image, mask)
    return {"version": radiomics.__version__, "label": label,
            "features": {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    expected = dict(generator="tools/dicom_seg_reference.py", highdicom=hd.__version__, cases={})
    cases = expected["cases"]
    # ct_axial: size (14, 11, 6) → masks (z, y, x) = (6, 11, 14).
    gtvp = np.zeros((6, 11, 14), bool)
    gtvp[1:4, 2:7, 3:9] = True
    gtvn = np.zeros((6, 11, 14), bool)
    gtvn[3:5, 6:10, 9:13] = True
    gtvn[4, 9, 9] = False
    cases["ct_axial_two"] = write("ct_axial_two", "ct_axial", np.stack([gtvp, gtvn]),
                                  ["GTVp", "GTVn"])
    cases["ct_axial_two"]["pyradiomics_label2"] = pyradiomics_of("ct_axial", gtvp + 2 * gtvn, 2)
    overlap = gtvn.copy()
    overlap[3, 5:7, 7:9] = True  # 4 voxels, of which gtvp has [3, 5:7, 7:9] ∩ its box
    assert (overlap & gtvp).sum() == 4
    cases["ct_axial_overlap"] = write("ct_axial_overlap", "ct_axial",
                                      np.stack([gtvp, overlap]), ["GTVp", "GTVn"])
    datasets, size = source("ct_oblique")
    rng = np.random.default_rng(5)
    one = rng.random((size[2], size[1], size[0])) < 0.3
    one[1::2] = False
    cases["ct_oblique_one"] = write("ct_oblique_one", "ct_oblique", one[None], ["GTVp"])
    fractional = np.zeros((1, 6, 11, 14), np.float32)
    fractional[0, 2, 3:6, 3:6] = 0.75
    write("bad_fractional", "ct_axial", fractional, ["GTVp"],
          kind=hd.seg.SegmentationTypeValues.FRACTIONAL)
    path = OUT / "expected.json"
    path.write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
