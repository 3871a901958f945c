#!/usr/bin/env python3
"""DICOM RT Structure Sets (RTSTRUCT: the contours a treatment-planning system stores for a
CT, GTVs among them) for adamss-io's reader (`adamss_io::dicom::read_structure_set`), written
by pydicom on tools/dicom_reference.py's CT series, and the masks their contours bound on each
CT's grid: the reference.

Each contour is drawn in the CT's continuous index space (columns i, rows j, on slice k),
turned into patient coordinates (LPS mm) by SimpleITK's
`TransformContinuousIndexToPhysicalPoint` on the series as SimpleITK reads it, and written as
`ContourData`. The reference mask of a ROI takes each CLOSED_PLANAR contour's points back to
continuous indices with SimpleITK's `TransformPhysicalPointToContinuousIndex` (within 1e-9 of
a whole index taken as it), on the slice they lie on, and fills it with scikit-image 0.26's
`skimage.draw.polygon` (the pixels whose centres lie inside the polygon, on an edge or at a
vertex), contours on one slice combined by exclusive or (an inner
contour is a hole), as plastimatch and dcmrtstruct2nii combine them.

Cases (tests/data/dicom/rtstruct/<case>.dcm):
  ct_axial_rois   on ct_axial: ROI 1 "GTVp" (a 23-gon on slices 1–3), ROI 2 "GTVn" (a concave
                  12-gon on slices 3–4), ROI 3 "Ring" (an outer and an inner contour on slice 2:
                  a hole), ROI 4 "Marker" (a POINT contour: no region), ROI 5 "Empty" (no
                  contours), ROI 6 "GTVn2" (overlapping GTVn on slice 3), ROI 8 "Box" (a
                  rectangle whose corners are voxel centres, on slice 5: the fill's ties)
  ct_oblique_roi  on ct_oblique (rotated about two axes): ROI 7 "GTVp" on slices 1 and 3
  bad_off_plane   on ct_axial: a contour halfway between slices 2 and 3
  bad_nonplanar   on ct_axial: a contour whose points lie on two slices

Writes tests/data/dicom/rtstruct/*.dcm and expected.json (per case: the CT series folder, the
ROIs' numbers, names and interpreted types, each region ROI's voxels as flat indices on the CT
grid, x fastest; for ct_axial_rois also PyRadiomics 3.1.4's default features of the CT in ROI
3 as a label map: what `adamss radiomics --image ct_axial --mask rtstruct/ct_axial_rois.dcm
--label 3` must give). Run (after tools/dicom_reference.py, whose CT series it contours):
.venv/bin/python tools/dicom_rtstruct_reference.py
"""
import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from skimage.draw import polygon

from dicom_seg_reference import pyradiomics_of

DICOM = Path(__file__).resolve().parent.parent / "tests" / "data" / "dicom"
OUT = DICOM / "rtstruct"
PREFIX = "1.2.826.0.1.3680043.8.498."
RTSTRUCT = "1.2.840.10008.5.1.4.1.1.481.3"


def uid(*parts):
    return generate_uid(prefix=PREFIX, entropy_srcs=[str(p) for p in parts])


def ngon(ci, cj, ri, rj, n, phase=0.1, wobble=0.0):
    t = phase + 2 * np.pi * np.arange(n) / n
    r = 1 + wobble * np.cos(3 * t)
    return list(zip(ci + ri * r * np.cos(t), cj + rj * r * np.sin(t)))


def image(folder):
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(DICOM / folder))
    return sitk.ReadImage(files), pydicom.dcmread(files[0], stop_before_pixels=True)


def write(case, folder, rois):
    """rois: [(number, name, type, [(geometric type, [(i, j, k), ...]), ...])]"""
    img, first = image(folder)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = RTSTRUCT
    meta.MediaStorageSOPInstanceUID = uid(case, "sop")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = RTSTRUCT, meta.MediaStorageSOPInstanceUID
    ds.Modality = "RTSTRUCT"
    ds.StudyInstanceUID = first.StudyInstanceUID
    ds.SeriesInstanceUID = uid(case, "series")
    ds.FrameOfReferenceUID = first.FrameOfReferenceUID
    ds.PatientID = "synthetic"
    ds.StructureSetLabel = case
    ref = Dataset()
    ref.FrameOfReferenceUID = first.FrameOfReferenceUID
    ds.ReferencedFrameOfReferenceSequence = Sequence([ref])
    ds.StructureSetROISequence = Sequence()
    ds.ROIContourSequence = Sequence()
    ds.RTROIObservationsSequence = Sequence()
    for number, name, kind, contours in rois:
        item = Dataset()
        item.ROINumber = number
        item.ReferencedFrameOfReferenceUID = first.FrameOfReferenceUID
        item.ROIName = name
        ds.StructureSetROISequence.append(item)
        rc = Dataset()
        rc.ReferencedROINumber = number
        rc.ROIDisplayColor = [255, 0, 0]
        if contours:
            rc.ContourSequence = Sequence()
            for geometric, points in contours:
                c = Dataset()
                c.ContourGeometricType = geometric
                c.NumberOfContourPoints = len(points)
                xyz = [img.TransformContinuousIndexToPhysicalPoint(tuple(map(float, p)))
                       for p in points]
                c.ContourData = [f"{v:.6f}" for p in xyz for v in p]
                rc.ContourSequence.append(c)
        ds.ROIContourSequence.append(rc)
        obs = Dataset()
        obs.ObservationNumber = number
        obs.ReferencedROINumber = number
        obs.RTROIInterpretedType = kind
        ds.RTROIObservationsSequence.append(obs)
    path = OUT / f"{case}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path, img


def reference_mask(path, img, number):
    """The ROI's mask from the written file: SimpleITK's indices, skimage's polygon fill."""
    ds = pydicom.dcmread(path)
    size = img.GetSize()  # (x, y, z)
    mask = np.zeros(size[::-1], dtype=np.uint8)  # (z, y, x)
    rc = next(r for r in ds.ROIContourSequence if r.ReferencedROINumber == number)
    for c in rc.get("ContourSequence", []):
        assert c.ContourGeometricType == "CLOSED_PLANAR"
        xyz = np.array(c.ContourData, dtype=float).reshape(-1, 3)
        idx = np.array([img.TransformPhysicalPointToContinuousIndex(tuple(p)) for p in xyz])
        # Within 1e-9 of a whole index, the whole index (as ours): the Box's corners are voxel
        # centres, and which side of an edge a centre falls must not hang on rounding.
        idx = np.where(np.abs(idx - np.round(idx)) < 1e-9, np.round(idx), idx)
        k = np.round(idx[:, 2])
        assert np.all(np.abs(idx[:, 2] - k) < 1e-3) and np.all(k == k[0]), idx
        rr, cc = polygon(idx[:, 1], idx[:, 0], shape=(size[1], size[0]))
        mask[int(k[0])][rr, cc] ^= 1
    return [int(v) for v in np.flatnonzero(mask.ravel())]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    cases = {}
    # ct_axial: 14 columns × 11 rows × 6 slices.
    gtvp = [("CLOSED_PLANAR", [(i, j, k) for i, j in ngon(6.3, 5.2, r, 0.8 * r, 23, 0.37)])
            for k, r in ((1, 2.6), (2, 3.7), (3, 2.2))]
    concave = [(2.2, 1.3), (9.7, 1.6), (9.4, 4.8), (5.6, 5.1), (5.9, 8.3), (2.4, 8.6),
               (1.7, 6.2), (3.9, 5.6), (4.2, 3.9), (1.6, 3.2), (1.1, 2.4), (1.9, 1.7)]
    gtvn = [("CLOSED_PLANAR", [(i + 2.15, j + 0.35, k) for i, j in concave]) for k in (3, 4)]
    ring = [("CLOSED_PLANAR", [(i, j, 2) for i, j in ngon(6.6, 5.4, 5.1, 4.3, 31, 0.21)]),
            ("CLOSED_PLANAR", [(i, j, 2) for i, j in ngon(6.9, 5.1, 2.3, 1.9, 17, 0.53)])]
    marker = [("POINT", [(4.3, 4.7, 2)])]
    # Vertices on voxel centres: the crossing rule's ties (half-open rows, strict columns).
    box = [("CLOSED_PLANAR", [(2, 2, 5), (6, 2, 5), (6, 5, 5), (2, 5, 5)])]
    gtvn2 = [("CLOSED_PLANAR", [(i, j, 3) for i, j in ngon(7.1, 5.3, 2.7, 2.1, 14, 0.77, 0.2)])]
    rois = [(1, "GTVp", "GTV", gtvp), (2, "GTVn", "GTV", gtvn), (3, "Ring", "ORGAN", ring),
            (4, "Marker", "MARKER", marker), (5, "Empty", "GTV", []), (6, "GTVn2", "GTV", gtvn2),
            (8, "Box", "ORGAN", box)]
    path, img = write("ct_axial_rois", "ct_axial", rois)
    cases["ct_axial_rois"] = {
        "series": "ct_axial",
        "rois": [{"number": n, "name": name, "type": kind,
                  **({"voxels": reference_mask(path, img, n)} if n != 4 else {})}
                 for n, name, kind, _ in rois],
    }
    # PyRadiomics' default features of the CT in ROI 3 (the ring: a hole), as a label map.
    ring_mask = np.zeros(img.GetSize()[::-1], dtype=np.uint8)
    ring_mask.ravel()[cases["ct_axial_rois"]["rois"][2]["voxels"]] = 3
    cases["ct_axial_rois"]["pyradiomics_roi3"] = pyradiomics_of("ct_axial", ring_mask, 3)
    # ct_oblique: rotated about two axes.
    img, _ = image("ct_oblique")
    size = img.GetSize()
    shape = [("CLOSED_PLANAR", [(i, j, k) for i, j in
                                ngon(size[0] / 2 - 0.3, size[1] / 2 + 0.2, 3.3, 2.4, 19, 0.61, 0.15)])
             for k in (1, 3)]
    rois = [(7, "GTVp", "GTV", shape)]
    path, img = write("ct_oblique_roi", "ct_oblique", rois)
    cases["ct_oblique_roi"] = {
        "series": "ct_oblique",
        "rois": [{"number": 7, "name": "GTVp", "type": "GTV", "voxels": reference_mask(path, img, 7)}],
    }
    write("bad_off_plane", "ct_axial",
          [(1, "GTVp", "GTV", [("CLOSED_PLANAR", [(i, j, 2.5) for i, j in ngon(6, 5, 2, 2, 9)])])])
    write("bad_nonplanar", "ct_axial",
          [(1, "GTVp", "GTV", [("CLOSED_PLANAR", [(i, j, 2 + (n % 2)) for n, (i, j) in
                                                   enumerate(ngon(6, 5, 2, 2, 9))])])])
    (OUT / "expected.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print({c: [(r["name"], len(r.get("voxels", []))) for r in v["rois"]] for c, v in cases.items()})


if __name__ == "__main__":
    main()
