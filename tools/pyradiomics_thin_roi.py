#!/usr/bin/env python3
"""PyRadiomics reference values on ROIs one voxel thick along an axis (issue #20).

PyRadiomics builds its GLRLM only along the directions in which the ROI's bounding box is more
than one voxel wide (a run cannot continue along an axis the ROI does not extend over); the
other texture classes keep all 13 directions. Cases, each with every feature class:

  thin_single_slice_ct    an int16 CT-like image, a one-slice ROI (accepted by default), with
                          the eight wavelet images
  thin_single_row_pet     a float32 PET-like image, a 1-D ROI along x (one voxel thick along
                          y and z; minimumROIDimensions 1)
  thin_plane_xz_pet       a float32 image, a ROI one voxel thick along y only

Writes tests/data/radiomics/thin_*.{image,mask}.nii.gz and thin_roi_expected.json in the
format of expected.json. Run: .venv/bin/python tools/pyradiomics_thin_roi.py
"""
import json
import logging
import os

import numpy as np
from radiomics import __version__ as prver
from radiomics import featureextractor

from pyradiomics_reference import CLASSES, OUT, ellipsoid, smooth, write

logging.getLogger("radiomics").setLevel(logging.ERROR)


def main():
    rng = np.random.default_rng(2020)
    shape = (14, 20, 22)  # (z, y, x); spacing given as (x, y, z)
    ct = np.round(smooth(shape, rng, 300, 40)).clip(-1024, 3000)
    pet = np.abs(smooth(shape, rng, 6, 2))
    cases = {}

    def case(name, image, mask, spacing, dtype, settings, wavelet=False):
        write(f"{name}.image.nii.gz", image, spacing, dtype)
        write(f"{name}.mask.nii.gz", mask, spacing, np.uint8)
        ext = featureextractor.RadiomicsFeatureExtractor(**settings)
        ext.disableAllFeatures()
        for c in CLASSES:
            ext.enableFeatureClassByName(c)
        if wavelet:
            ext.enableImageTypeByName("Wavelet")
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        cases[name] = {"settings": settings, "wavelet": wavelet, "filters": [], "log": [],
                       "dtype": np.dtype(dtype).name, "features": feats}

    one_slice = ellipsoid(shape, (7, 10, 11), (5, 7, 8))
    one_slice[np.arange(shape[0]) != 7] = 0
    case("thin_single_slice_ct", ct, one_slice, (0.98, 0.98, 2.5), np.int16, {"binWidth": 25}, wavelet=True)
    line = np.zeros(shape, np.uint8)
    line[6, 9, 3:18] = 1
    case("thin_single_row_pet", pet, line, (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.25, "minimumROIDimensions": 1})
    plane = ellipsoid(shape, (6, 9, 12), (4, 6, 6), rng, 0.4)
    plane[:, np.arange(shape[1]) != 9, :] = 0
    case("thin_plane_xz_pet", pet, plane, (2.0, 2.0, 3.0), np.float32, {"binWidth": 0.25})

    with open(os.path.join(OUT, "thin_roi_expected.json"), "w") as f:
        json.dump({"pyradiomics": prver, "cases": cases}, f, indent=1, sort_keys=True)
    print("wrote", len(cases), "cases;", {k: len(v["features"]) for k, v in cases.items()})


if __name__ == "__main__":
    main()
