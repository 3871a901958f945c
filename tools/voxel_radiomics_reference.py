#!/usr/bin/env python3
"""PyRadiomics reference feature maps of voxel-based extraction (`execute(..., voxelBased=True)`).

PyRadiomics computes each feature in a kernel around every ROI voxel: the voxels within
Chebyshev distance `kernelRadius` (within the slice with `force2D`), of the ROI only
(`maskedKernel`, default) or all of them, discretised with the bins of the whole ROI (or of the
whole image cropped to the ROI's box + kernelRadius when `maskedKernel` is false); the maps lie on
the image cropped to the ROI's box + kernelRadius, `initValue` outside the ROI. Cases (small
volumes; every class but shape, which PyRadiomics leaves out of voxel-based extraction):

  voxel_default_ct        int16 CT-like image, PyRadiomics' defaults (binWidth 25, radius 1), a
                          ROI reaching the image's edge (kernels clipped there), an isolated
                          voxel (no GLCM pairs: NaN) and a one-voxel-thick arm
  voxel_unmasked_r2_pet   float32 PET-like image, maskedKernel false, kernelRadius 2, binCount
  voxel_force2d_ct        force2D across z, distances [1, 2], gldm_a 1, label 2, initValue -1,
                          voxelBatch 7 (PyRadiomics' batches of voxels; no effect on values)
  voxel_weighted_pet      weightingNorm euclidean, symmetricalGLCM false, resegmentRange,
                          voxelArrayShift, a parameter file naming some features only
  voxel_filters_ct        LoG, Wavelet, Square and Gradient images (a few features of each class,
                          the deprecated StandardDeviation among them)
  voxel_filters_precrop_pet  normalize, preCrop with padDistance 1 < kernelRadius 2 (the maps'
                          crop stays in the pre-cropped window), force2D; SquareRoot, LBP2D and
                          Wavelet (in-plane) images

Writes tests/data/radiomics/voxel_*.{image,mask}.nii.gz, voxel_*.params.json and
voxel_expected.json: per case, the cropped map's size (x, y, z) and origin, and per feature the
map's values at the ROI's voxels (in NumPy's (z, y, x) C order of `mask == label`, i.e. x
fastest; NaN as null), plus one whole map (`original_firstorder_Mean`, x fastest) for the fill
outside the ROI. Run: .venv/bin/python tools/voxel_radiomics_reference.py
"""
import json
import logging
import os

import numpy as np
import SimpleITK as sitk
from radiomics import __version__ as prver
from radiomics import featureextractor

from pyradiomics_reference import OUT, ellipsoid, smooth, write

logging.getLogger("radiomics").setLevel(logging.ERROR)
np.seterr(all="ignore")

CLASSES = ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]


def plain(v):
    """13 significant digits (the tests compare to 1e-9), NaN as null."""
    v = float(v)
    return None if np.isnan(v) else float(f"{v:.13g}")


class Failures(logging.Handler):
    """The features whose computation PyRadiomics logged as FAILED (their voxels keep
    initValue: PyRadiomics 3.1.4's MCC fails for a whole batch of voxels when one kernel has a
    direction without pairs, as numpy's eigvals refuses the NaN of that direction)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.features = set()

    def emit(self, record):
        text = record.getMessage()
        if "FAILED" in text:
            for line in text.splitlines():
                if line.strip().startswith("File") and " in get" in line:
                    self.features.add(line.rsplit(" in get", 1)[1][: -len("FeatureValue")])


def main():
    rng = np.random.default_rng(3107)
    shape = (9, 12, 13)  # (z, y, x); spacing given as (x, y, z)
    ct = np.round(smooth(shape, rng, 120, 40)).clip(-1024, 3000)
    pet = np.abs(smooth(shape, rng, 6, 2))
    cases = {}

    def case(name, image, mask, spacing, dtype, params, label=1):
        write(f"{name}.image.nii.gz", image, spacing, dtype)
        write(f"{name}.mask.nii.gz", mask, spacing, np.uint8)
        pfile = os.path.join(OUT, f"{name}.params.json")
        with open(pfile, "w") as f:
            json.dump(params, f, indent=1)
        ext = featureextractor.RadiomicsFeatureExtractor(pfile)
        failures = Failures()
        logging.getLogger("radiomics").addHandler(failures)
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"),
                          os.path.join(OUT, f"{name}.mask.nii.gz"), voxelBased=True)
        logging.getLogger("radiomics").removeHandler(failures)
        maps = {k: v for k, v in res.items() if not k.startswith("diagnostics")}
        ref = next(iter(maps.values()))
        orig = sitk.ReadImage(os.path.join(OUT, f"{name}.mask.nii.gz"))
        roi = sitk.GetArrayFromImage(orig) == label
        # The ROI's voxels in the map: the map's origin is the crop's corner in the image.
        corner = orig.TransformPhysicalPointToIndex(ref.GetOrigin())  # (x, y, z)
        zz, yy, xx = np.where(roi)
        at = (zz - corner[2], yy - corner[1], xx - corner[0])
        values = {k: [plain(x) for x in sitk.GetArrayFromImage(v)[at]] for k, v in maps.items()}
        mean = sitk.GetArrayFromImage(maps["original_firstorder_Mean"])
        init = params.get("voxelSetting", {}).get("initValue", 0)
        cases[name] = {
            "label": label,
            "size": list(ref.GetSize()),
            "corner": list(corner),
            "origin": list(ref.GetOrigin()),
            "voxels": int(roi.sum()),
            "maps": values,
            # Per feature PyRadiomics failed on: the ROI voxels left at initValue (skipped).
            "failed": {k: [i for i, x in enumerate(values[k]) if x == init]
                       for k in maps if k.rsplit("_", 1)[1] in failures.features},
            "mean_map": [plain(x) for x in mean.ravel()],
        }

    # A ROI over the image's last x column and first z slice, with an isolated voxel and an arm.
    roi = ellipsoid(shape, (2, 6, 9), (3, 3.5, 4.5), rng, 0.3)
    roi[0, 5:8, 12] = 1
    roi[6, 2, 2] = 1
    roi[5, 6, 4:8] = 1
    case("voxel_default_ct", ct, roi, (0.98, 0.98, 2.5), np.int16,
         {"imageType": {"Original": {}}, "featureClass": {c: None for c in CLASSES}})
    pet_roi = ellipsoid(shape, (4, 6, 6), (2.5, 3, 3), rng, 0.3)
    case("voxel_unmasked_r2_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
         {"setting": {"binCount": 16}, "voxelSetting": {"maskedKernel": False, "kernelRadius": 2},
          "imageType": {"Original": {}}, "featureClass": {c: None for c in CLASSES}})
    two = 2 * ellipsoid(shape, (4, 6, 6), (3, 4, 4), rng, 0.3)
    case("voxel_force2d_ct", ct, two, (0.98, 0.98, 2.5), np.int16,
         {"setting": {"binWidth": 20, "force2D": True, "force2Ddimension": 0, "distances": [1, 2],
                      "gldm_a": 1, "label": 2},
          "voxelSetting": {"initValue": -1, "voxelBatch": 7},
          "imageType": {"Original": {}}, "featureClass": {c: None for c in CLASSES}}, label=2)
    case("voxel_weighted_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
         {"setting": {"binWidth": 0.5, "weightingNorm": "euclidean", "symmetricalGLCM": False,
                      "resegmentRange": [0.5], "voxelArrayShift": 3},
          "imageType": {"Original": {}},
          "featureClass": {"firstorder": ["Mean", "Skewness", "Entropy", "TotalEnergy"],
                           "glcm": None, "glrlm": None}})

    # Filtered image types: each image cropped to the ROI's box + kernelRadius, its kernels as
    # the original's (a few features per class keep the file small).
    few = {"firstorder": ["Mean", "Variance", "StandardDeviation"], "glcm": ["Contrast", "Idmn"],
           "glrlm": ["RunEntropy"], "glszm": ["ZoneEntropy"], "gldm": ["DependenceEntropy"],
           "ngtdm": ["Busyness"]}
    small = ellipsoid(shape, (4, 5, 7), (1.5, 2.5, 2.5), rng, 0.3)
    case("voxel_filters_ct", ct, small, (0.98, 0.98, 2.5), np.int16,
         {"setting": {"binWidth": 10, "sigma": [1.0]},
          "imageType": {"Original": {}, "LoG": {}, "Wavelet": {}, "Square": {}, "Gradient": {}},
          "featureClass": few})
    case("voxel_filters_precrop_pet", pet, small, (2.0, 2.0, 3.0), np.float32,
         {"setting": {"binWidth": 0.25, "normalize": True, "preCrop": True, "padDistance": 1,
                      "force2D": True, "force2Ddimension": 0},
          "voxelSetting": {"kernelRadius": 2},
          "imageType": {"Original": {}, "SquareRoot": {}, "LBP2D": {}, "Wavelet": {}},
          "featureClass": few})

    with open(os.path.join(OUT, "voxel_expected.json"), "w") as f:
        json.dump({"pyradiomics": prver, "simpleitk": sitk.Version_VersionString(),
                   "numpy": np.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
