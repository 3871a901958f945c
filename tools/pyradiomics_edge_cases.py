#!/usr/bin/env python3
"""PyRadiomics reference values on edge cases users meet (issue #20).

PyRadiomics builds its GLRLM only along the directions in which the ROI's bounding box is more
than one voxel wide (a run cannot continue along an axis the ROI does not extend over); the
other texture classes keep all 13 directions. Cases, each with every feature class:

  thin_single_slice_ct    an int16 CT-like image, a one-slice ROI (accepted by default), with
                          the eight wavelet images
  thin_single_row_pet     a float32 PET-like image, a 1-D ROI along x (one voxel thick along
                          y and z; minimumROIDimensions 1)
  thin_plane_xz_pet       a float32 image, a ROI one voxel thick along y only

Parameter-file cases (run by PyRadiomics on the files, and here by ExtractionPlan::run_files):

  edge_normalize_bincount_ct  normalize with binCount on an int16 CT whose z-scores meet bin
                          edges exactly (SimpleITK's Normalize to the last bit)
  edge_filters_peak_outside_{pet,ct}  Square, SquareRoot, Logarithm and Exponential on images
                          whose largest |value| lies far outside the ROI's box + padDistance
                          (the filters scale by the whole image's largest |value|)
  edge_resample_other_grid_pet, edge_resample_other_grid_correct_ct,
  edge_same_spacing_other_grid_ct   a mask on another grid with resampledPixelSpacing (no
                          correctMask needed; with it, the original mask is still the one
                          resampled; a spacing equal to the image's takes the mask onto the
                          image's grid and crops), resegmentation after resampling
  edge_log_normalized_binwidth_pet  LoG of a normalised float32 image with binWidth (the LoG
                          image is float32 whatever SimpleITK filtered: bins in single precision)
  edge_lbp2d_*            the LBP2D image type (scikit-image's local binary patterns per
                          slice): each method but var, each slicing axis, a 2-D image
  edge_nan_outside_pet    a float32 image with a NaN and an infinity far from the ROI: the
                          original, wavelet, square and gradient images (local filters; only
                          the values the features read must be finite). SimpleITK 2.5.7 reads
                          NaN and ±Inf in a NIfTI file as 0, so PyRadiomics never sees them; the
                          recursive LoG filter, B-spline resampling and `normalize` would spread
                          them over the whole image, and adamss-radiomics refuses those.

"defaults": PyRadiomics with no parameter file, only `label` (what `adamss radiomics --image
--mask --label` runs), on two images of expected.json.

Writes tests/data/radiomics/{thin,edge}_*.{image,mask}.nii.gz (+ .params.json) and
edge_cases_expected.json: "cases" in the format of expected.json, "files" in the format of
resample_expected.json plus PyRadiomics' diagnostics_Image-*/Mask-* entries. Run: .venv/bin/python tools/pyradiomics_edge_cases.py
"""
import json
import logging
import os

import numpy as np
import SimpleITK as sitk
from radiomics import __version__ as prver
from radiomics import featureextractor

from pyradiomics_reference import CLASSES, OUT, ellipsoid, smooth, write

logging.getLogger("radiomics").setLevel(logging.ERROR)


def diagnostics(res):
    """PyRadiomics' diagnostics_Image-* and diagnostics_Mask-* entries (every prefix: original,
    interpolated, corrected, resegmented) as JSON: tuples as lists, numpy numbers as Python's."""
    def plain(v):
        if isinstance(v, (tuple, list)):
            return [plain(x) for x in v]
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, np.floating):
            return float(v)
        return v
    return {k: plain(v) for k, v in res.items()
            if k.startswith("diagnostics_Image-") or k.startswith("diagnostics_Mask-")}


def shape2d_of(name, params):
    """PyRadiomics' shape2D class on a case's files, as its extractor's computeShape runs it
    (the mask checked and cropped to the ROI's box, the case's settings), with the class's
    features the parameter file names."""
    from radiomics import imageoperations, shape2D
    image = sitk.ReadImage(os.path.join(OUT, f"{name}.image.nii.gz"))
    mask = sitk.ReadImage(os.path.join(OUT, f"{name}.mask.nii.gz"))
    settings = dict(params["setting"])
    box, _ = imageoperations.checkMask(image, mask, **settings)
    image, mask = imageoperations.cropToTumorMask(image, mask, box)
    cls = shape2D.RadiomicsShape2D(image, mask, **settings)
    for f in params["featureClass"]["shape2D"] or []:
        cls.enableFeatureByName(f)
    return {f"original_shape2D_{k}": float(v) for k, v in cls.execute().items()}


def main():
    rng = np.random.default_rng(2020)
    shape = (14, 20, 22)  # (z, y, x); spacing given as (x, y, z)
    ct = np.round(smooth(shape, rng, 300, 40)).clip(-1024, 3000)
    pet = np.abs(smooth(shape, rng, 6, 2))
    cases = {}

    def case(name, image, mask, spacing, dtype, settings, wavelet=False, filters=()):
        write(f"{name}.image.nii.gz", image, spacing, dtype)
        write(f"{name}.mask.nii.gz", mask, spacing, np.uint8)
        ext = featureextractor.RadiomicsFeatureExtractor(**settings)
        ext.disableAllFeatures()
        for c in CLASSES:
            ext.enableFeatureClassByName(c)
        if wavelet:
            ext.enableImageTypeByName("Wavelet")
        for f in filters:
            ext.enableImageTypeByName(f)
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        cases[name] = {"settings": settings, "wavelet": wavelet, "filters": list(filters), "log": [],
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

    # Settings a HECKTOR radiomics study uses besides the defaults: force2D (texture within
    # axial or sagittal slices, the wavelet over the two in-slice axes), other wavelets with
    # more levels (PyRadiomics repeats level-1 transforms on the approximation) on int16 and
    # float32 images, and the gradient per voxel.
    roi = ellipsoid(shape, (7, 10, 11), (5, 7, 8))
    case("set_force2d_axial_ct", ct, roi, (0.98, 0.98, 2.5), np.int16,
         {"binWidth": 25, "force2D": True, "force2Ddimension": 0}, wavelet=True)
    pet_roi = ellipsoid(shape, (6, 9, 12), (4, 6, 6), rng, 0.4)
    case("set_force2d_sagittal_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.25, "force2D": True, "force2Ddimension": 2, "distances": [1, 2]}, wavelet=True)
    case("set_db2_levels_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.1, "wavelet": "db2", "level": 2, "start_level": 1}, wavelet=True)
    case("set_haar_ct", ct, roi, (0.98, 0.98, 2.5), np.int16, {"binWidth": 10, "wavelet": "haar"}, wavelet=True)
    case("set_bior_sym_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.25, "wavelet": "bior2.4", "level": 2}, wavelet=True)
    case("set_gradient_voxels_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.25, "gradientUseSpacing": False}, filters=("Gradient",))

    files = {}

    def file_case(name, image, mask, spacing, dtype, params, mask_origin=None, mask_spacing=None):
        write(f"{name}.image.nii.gz", image, spacing, dtype)
        m = write(f"{name}.mask.nii.gz", mask, mask_spacing or spacing, np.uint8)
        if mask_origin is not None:
            m.SetOrigin(mask_origin)
            sitk.WriteImage(m, os.path.join(OUT, f"{name}.mask.nii.gz"))
        pfile = os.path.join(OUT, f"{name}.params.json")
        with open(pfile, "w") as f:
            json.dump(params, f, indent=1)
        ext = featureextractor.RadiomicsFeatureExtractor(pfile)
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        assert all(np.isfinite(v) for v in feats.values()), name
        files[name] = {"dtype": np.dtype(dtype).name, "features": feats, "diagnostics": diagnostics(res)}

    nan_pet = pet.astype(np.float32)
    nan_pet[0, 0, 0] = np.nan
    nan_pet[13, 19, 21] = np.inf
    file_case("edge_nan_outside_pet", nan_pet, ellipsoid(shape, (7, 10, 11), (3, 4, 4)), (2.0, 2.0, 3.0),
              np.float32, {"setting": {"binWidth": 0.25},
                           "imageType": {"Original": {}, "Wavelet": {}, "Square": {}, "Gradient": {}}})

    # PyRadiomics with no parameter file (every class, original image, default settings) and
    # only the label given, on files of expected.json: what `adamss radiomics --image --mask
    # --label` must print.
    defaults = {}
    # Three components when corners connect (SimpleITK's FullyConnected, as PyRadiomics counts
    # VolumeNum), four when only faces do: two blobs and two voxels touching at a corner.
    parts = ellipsoid(shape, (4, 5, 5), (2, 2, 2)) | ellipsoid(shape, (10, 14, 16), (2, 3, 3))
    parts[7, 10, 2] = parts[8, 11, 3] = 1
    write("diag_components.image.nii.gz", ct, (0.98, 0.98, 2.5), np.int16)
    write("diag_components.mask.nii.gz", parts, (0.98, 0.98, 2.5), np.uint8)
    for name, label in [("border_label2", 2), ("pet_irregular", 1), ("diag_components", 1)]:
        ext = featureextractor.RadiomicsFeatureExtractor(label=label)
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        diag = {k: (list(v) if isinstance(v, tuple) else v) for k, v in res.items()
                if k.startswith("diagnostics_Image-original") or k.startswith("diagnostics_Mask-original")}
        diag = {k: (float(v) if isinstance(v, np.floating) else
                    [float(x) if isinstance(x, np.floating) else x for x in v] if isinstance(v, list) else v)
                for k, v in diag.items()}
        defaults[name] = {"label": label, "features": feats, "diagnostics": diag}

    # Parameter-file keys PyRadiomics' users have: an interpolator as SimpleITK's integer
    # constant (2 = sitkLinear) while resampling; a mask 0.004 mm off the image's origin (ITK's
    # default tolerance refuses it, geometryTolerance 1e-3 × 2 mm accepts it as it is); a
    # mask on a coarser, shifted grid resampled onto the image's (correctMask).
    file_case("edge_interpolator_int_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"binWidth": 0.25, "interpolator": 2, "resampledPixelSpacing": [2.5, 2.5, 2.5]},
               "imageType": {"Original": {}}})
    # A deprecated feature PyRadiomics still computes when named (StandardDeviation).
    file_case("edge_deprecated_std_pet", pet, pet_roi, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"binWidth": 0.25}, "imageType": {"Original": {}},
               "featureClass": {"firstorder": ["StandardDeviation", "Mean"]}})
    file_case("edge_geometry_tolerance_ct", ct, roi, (0.98, 0.98, 2.5), np.int16,
              {"setting": {"binWidth": 25, "geometryTolerance": 0.005}, "imageType": {"Original": {}}},
              mask_origin=(12.504, -30.0, 100.0))
    coarse = ellipsoid((7, 10, 11), (3.5, 5, 5.5), (2.5, 3.5, 4))
    file_case("edge_correct_mask_ct", ct, coarse, (0.98, 0.98, 2.5), np.int16,
              {"setting": {"binWidth": 25, "correctMask": True}, "imageType": {"Original": {}}},
              mask_origin=(13.0, -29.5, 101.0), mask_spacing=(1.96, 1.96, 5.0))

    # PyRadiomics' own example parameter files (tests/data/radiomics/pyradiomics_examples/,
    # copied unchanged), run on a CT-like and an MR-like image.
    examples = {}
    ex_dir = os.path.join(OUT, "pyradiomics_examples")
    big = (24, 40, 44)
    ct_big = np.round(smooth(big, rng, 300, 40, blobs=9)).clip(-1024, 3000)
    mr_big = np.abs(smooth(big, rng, 400, 600, blobs=9))
    big_roi = ellipsoid(big, (12, 20, 22), (6, 10, 11), rng, 0.3)
    for fname, image, dtype, spacing in [("exampleCT.yaml", ct_big, np.int16, (0.98, 0.98, 2.5)),
                                         ("exampleMR_NoResampling.yaml", mr_big, np.float32, (1.2, 1.2, 3.0)),
                                         ("exampleMR_3mm.yaml", mr_big, np.float32, (1.2, 1.2, 3.0)),
                                         ("example_allShape.yaml", ct_big, np.int16, (0.98, 0.98, 2.5)),
                                         ("MR_2D_extraction.yaml", mr_big, np.float32, (1.2, 1.2, 3.0))]:
        name = "example_" + fname.split(".")[0]
        write(f"{name}.image.nii.gz", image, spacing, dtype)
        roi = big_roi
        if fname == "MR_2D_extraction.yaml":  # shape2D: the ROI of one axial slice
            roi = big_roi.copy()
            roi[np.arange(big[0]) != 12] = 0
        write(f"{name}.mask.nii.gz", roi, spacing, np.uint8)
        ext = featureextractor.RadiomicsFeatureExtractor(os.path.join(ex_dir, fname))
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        examples[name] = {"params": fname, "dtype": np.dtype(dtype).name, "features": feats}

    # normalize + binCount on an int16 CT: bin edges fall exactly on the z-scores of some CT
    # values, so the z-scores must be SimpleITK's to the last bit (ITK's Kahan sums, variance
    # from the sum of squares, (x - mean) * (1 / sigma)): a two-pass variance and a division
    # moved one ulp and put 76 of the 107 features 1-14 % off. Own generator (seed 4, one that
    # has such a tie), so the draws above are unchanged.
    rng_tie = np.random.default_rng(4)
    ct_tie = np.round(smooth(shape, rng_tie, 400, 40)).clip(-1024, 3000)
    roi_tie = ellipsoid(shape, (7, 10, 11), (4, 6, 7), rng_tie, 0.3)
    file_case("edge_normalize_bincount_ct", ct_tie, roi_tie, (0.98, 0.98, 2.5), np.int16,
              {"setting": {"normalize": True, "binCount": 32}, "imageType": {"Original": {}}})

    # The element-wise filters scale by the largest |value| of the image they are given, which
    # is the whole image unless preCrop or resampling crops it first: a hot spot far from the
    # ROI (outside its box + padDistance) changes every value. The CT gets a negative spot
    # (Logarithm and SquareRoot keep the sign).
    rng_peak = np.random.default_rng(7)
    pet_peak = np.abs(smooth(shape, rng_peak, 6, 2))
    pet_peak[1, 1, 1] = 40.0
    ct_peak = np.round(smooth(shape, rng_peak, 300, 40)).clip(-1024, 3000)
    ct_peak[0, 0, 0] = -3000
    roi_peak = ellipsoid(shape, (8, 11, 12), (3, 4, 4), rng_peak, 0.3)
    elementwise = {"Original": {}, "Square": {}, "SquareRoot": {}, "Logarithm": {}, "Exponential": {}}
    file_case("edge_filters_peak_outside_pet", pet_peak, roi_peak, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"binWidth": 0.25}, "imageType": elementwise})
    file_case("edge_filters_peak_outside_ct", ct_peak, roi_peak, (0.98, 0.98, 2.5), np.int16,
              {"setting": {"binCount": 32}, "imageType": elementwise})

    # A mask on another grid than the image's, with resampledPixelSpacing: PyRadiomics builds
    # the new grid from the mask and reads the image through its own geometry, before any grid
    # check, so it needs no correctMask; with correctMask it resamples the original mask all
    # the same (the correction comes after). With a spacing equal to the image's it takes the
    # mask onto the image's grid by nearest neighbour and crops. Resegmentation after
    # resampling. Own generator (seed 11): the draws above are unchanged.
    rng_grid = np.random.default_rng(11)
    pet_grid = np.abs(smooth(shape, rng_grid, 6, 2))
    ct_grid = np.round(smooth(shape, rng_grid, 300, 40)).clip(-1024, 3000)
    coarse_grid = ellipsoid((7, 10, 11), (3.5, 5, 5.5), (2.5, 3.5, 4), rng_grid, 0.3)
    file_case("edge_resample_other_grid_pet", pet_grid, coarse_grid, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"binWidth": 0.25, "resampledPixelSpacing": [2.5, 2.5, 2.5],
                           "interpolator": "sitkLinear", "resegmentRange": [1.0]},
               "imageType": {"Original": {}}},
              mask_origin=(13.1, -29.4, 101.2), mask_spacing=(3.9, 3.9, 6.0))
    file_case("edge_resample_other_grid_correct_ct", ct_grid, coarse_grid, (0.98, 0.98, 2.5), np.int16,
              {"setting": {"binWidth": 25, "resampledPixelSpacing": [1.5, 1.5, 2.0], "correctMask": True},
               "imageType": {"Original": {}}},
              mask_origin=(13.0, -29.5, 101.0), mask_spacing=(1.96, 1.96, 5.0))
    file_case("edge_same_spacing_other_grid_ct", ct_grid, coarse_grid, (0.98, 0.98, 2.5), np.int16,
              {"setting": {"binWidth": 25, "resampledPixelSpacing": [0.98, 0.98, 2.5]},
               "imageType": {"Original": {}}},
              mask_origin=(13.0, -29.5, 101.0), mask_spacing=(1.96, 1.96, 5.0))

    # LoG of a normalised image with binWidth: SimpleITK's LoG is float32 even for the float64
    # image Normalize returns, so NumPy computes the bin bounds in single precision (binned in
    # double, 91 of 214 features were off). Own generator (seed 13).
    rng_log = np.random.default_rng(13)
    pet_log = np.abs(smooth(shape, rng_log, 6, 2))
    roi_log = ellipsoid(shape, (7, 10, 11), (5, 7, 8), rng_log, 0.3)
    file_case("edge_log_normalized_binwidth_pet", pet_log, roi_log, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"normalize": True, "normalizeScale": 100, "binWidth": 0.1, "sigma": [1.0, 2.0]},
               "imageType": {"LoG": {}}})

    # The shape2D class on one-slice ROIs across each force2Ddimension: anisotropic in-plane
    # spacing (the plane's axes in numpy's order), a hole, pixels touching only at a corner
    # (marching-squares saddles), a one-pixel-wide spur; SphericalDisproportion (deprecated,
    # computed when named) and resegmentation (the shape classes describe the mask cropped to
    # the resegmented ROI's box). Own generator (seed 17).
    rng_2d = np.random.default_rng(17)
    pet_2d = np.abs(smooth(shape, rng_2d, 6, 2))
    ct_2d = np.round(smooth(shape, rng_2d, 300, 40)).clip(-1024, 3000)

    def flat(axis, index, irregular):
        roi = ellipsoid(shape, (7, 10, 11), (5, 7, 8), rng_2d, irregular)
        keep = [slice(None)] * 3
        for k in range(shape[axis]):
            if k != index:
                keep[axis] = k
                roi[tuple(keep)] = 0
        return roi

    axial = flat(0, 7, 0.3)
    axial[7, 9:11, 9:12] = 0                      # a hole
    axial[7, 1, 2] = axial[7, 2, 3] = 1           # corner-touching pixels
    axial[7, 10, 17:21] = 1                       # a one-pixel-wide spur
    file_case("edge_shape2d_axial_ct", ct_2d, axial, (0.7, 0.9, 2.5), np.int16,
              {"setting": {"binWidth": 25, "force2D": True, "force2Ddimension": 0},
               "imageType": {"Original": {}},
               "featureClass": {"shape2D": None, "shape": None, "firstorder": None}})
    coronal = flat(1, 9, 0.4)
    coronal[3, 9, 4] = 1
    coronal_params = {"setting": {"binWidth": 0.25, "force2D": True, "force2Ddimension": 1},
                      "imageType": {"Original": {}},
                      "featureClass": {"shape2D": ["SphericalDisproportion", "Sphericity", "MeshSurface",
                                                   "Perimeter", "MaximumDiameter", "Elongation"],
                                       "glcm": None}}
    file_case("edge_shape2d_coronal_pet", pet_2d, coronal, (1.1, 1.7, 3.0), np.float32, coronal_params)
    # PyRadiomics 3.1.4's extractor tests the ROI's extent across force2Ddimension in
    # SimpleITK's (x, y, z) order, and inverted ("size ... is greater than 1" when it is 1), so
    # it never computes shape2D across y (it does across z and x only because it then reads
    # the x, resp. z, extent): the values are its class's, run as the extractor runs it on the
    # mask cropped to the ROI's box.
    assert not any("shape2D" in k for k in files["edge_shape2d_coronal_pet"]["features"])
    files["edge_shape2d_coronal_pet"]["features"].update(
        shape2d_of("edge_shape2d_coronal_pet", coronal_params))
    sagittal = flat(2, 12, 0.4)
    file_case("edge_shape2d_sagittal_resegment_pet", pet_2d, sagittal, (1.3, 0.8, 2.0), np.float32,
              {"setting": {"binWidth": 0.25, "force2D": True, "force2Ddimension": 2,
                           "resegmentRange": [1.5]},
               "imageType": {"Original": {}},
               "featureClass": {"shape2D": None, "shape": None, "glszm": None}})
    # A parameter file without featureClass (or with `{}`) enables every class, shape2D
    # included, which PyRadiomics computes where it applies (force2D, a one-slice ROI); an
    # empty imageType is the original image.
    file_case("edge_every_class_force2d_ct", ct_2d, axial, (0.7, 0.9, 2.5), np.int16,
              {"setting": {"binWidth": 25, "force2D": True}})
    file_case("edge_empty_blocks_pet", pet_2d, sagittal, (1.3, 0.8, 2.0), np.float32,
              {"setting": {"binWidth": 0.25}, "imageType": {}, "featureClass": {}})
    # A LoG sigma too large for the image (20 mm across 6 slices of 3 mm needs 8): PyRadiomics
    # skips it with a warning and extracts the other sigma. Own generator (seed 19).
    rng_big = np.random.default_rng(19)
    short = (6, 20, 22)
    pet_short = np.abs(smooth(short, rng_big, 6, 2))
    roi_short = ellipsoid(short, (3, 10, 11), (2, 6, 7), rng_big, 0.3)
    file_case("edge_log_sigma_too_large_pet", pet_short, roi_short, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"binWidth": 0.25, "sigma": [1.0, 20.0]}, "imageType": {"LoG": {}},
               "featureClass": {"firstorder": None, "glcm": None}})
    assert not any("sigma-20" in k for k in files["edge_log_sigma_too_large_pet"]["features"])
    # LBP2D (scikit-image's local_binary_pattern slice by slice, on the crop): 3-D extraction
    # (PyRadiomics warns), force2D across y and x, every method but var, other radii and
    # samples, a radius beyond padDistance (neighbours outside the crop read 0), a normalised
    # float32 image. Own generator (seed 29).
    rng_lbp = np.random.default_rng(29)
    lbp_shape = (12, 18, 20)
    ct_l = np.round(smooth(lbp_shape, rng_lbp, 300, 40)).clip(-1024, 3000)
    pet_l = np.abs(smooth(lbp_shape, rng_lbp, 6, 2))
    roi_l = ellipsoid(lbp_shape, (6, 9, 10), (4, 6, 7), rng_lbp, 0.3)
    file_case("edge_lbp2d_ct", ct_l, roi_l, (0.9, 0.8, 2.5), np.int16,
              {"setting": {"binWidth": 1}, "imageType": {"Original": {}, "LBP2D": {}}})
    file_case("edge_lbp2d_coronal_pet", pet_l, roi_l, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"binWidth": 0.25, "force2D": True, "force2Ddimension": 1},
               "imageType": {"LBP2D": {"lbp2DSamples": 12,
                                       "lbp2DRadius": 1.5, "binWidth": 3}},
               "featureClass": {c: None for c in ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]}})
    file_case("edge_lbp2d_sagittal_ror_ct", ct_l, roi_l, (0.9, 0.8, 2.5), np.int16,
              {"setting": {"binCount": 16, "force2D": True, "force2Ddimension": 2},
               "imageType": {"LBP2D": {"lbp2DMethod": "ror", "lbp2DRadius": 2.0}},
               "featureClass": {c: None for c in ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]}})
    file_case("edge_lbp2d_default_normalized_pet", pet_l, roi_l, (2.0, 2.0, 3.0), np.float32,
              {"setting": {"binWidth": 7, "normalize": True, "padDistance": 1},
               "imageType": {"LBP2D": {"lbp2DMethod": "default", "lbp2DRadius": 2.5}},
               "featureClass": {"firstorder": None, "glcm": None, "glszm": None}})
    # The local filters read beyond padDistance where the image PyRadiomics filters has voxels
    # (it filters the whole image, or the preCrop window, and crops afterwards).
    file_case("edge_gradient_pad0_ct", ct_l, roi_l, (0.9, 0.8, 2.5), np.int16,
              {"setting": {"binWidth": 10, "padDistance": 0}, "imageType": {"Gradient": {}},
               "featureClass": {"firstorder": None, "glcm": None}})
    file_case("edge_lbp2d_precrop_ct", ct_l, roi_l, (0.9, 0.8, 2.5), np.int16,
              {"setting": {"binWidth": 1, "preCrop": True, "padDistance": 1},
               "imageType": {"LBP2D": {"lbp2DRadius": 2.0}}, "featureClass": {"firstorder": None}})
    # 2-D images (NIfTI dim[0] = 2, which SimpleITK reads as 2-D): PyRadiomics' 2-D angles and
    # sub-bands, TotalEnergy per pixel area, no 3-D shape class, shape2D without force2D (a
    # file without featureClass enables it), SimpleITK's 2-D LoG, resampling in the plane (two
    # spacings). Own generator (seed 23).
    rng_flat = np.random.default_rng(23)
    plane_shape = (1, 36, 40)
    ct_flat = np.round(smooth(plane_shape, rng_flat, 300, 40)).clip(-1024, 3000)[0]
    pet_flat = np.abs(smooth(plane_shape, rng_flat, 6, 2))[0]
    roi_flat = ellipsoid(plane_shape, (0, 18, 20), (1, 10, 13), rng_flat, 0.4)[0]

    def write_2d(name, arr, spacing, dtype):
        img = sitk.GetImageFromArray(arr.astype(dtype))
        img.SetSpacing(spacing)
        img.SetOrigin((12.5, -30.0))
        sitk.WriteImage(img, os.path.join(OUT, name))

    for name, image, dtype, spacing, params in [
            ("edge_2d_every_class_ct", ct_flat, np.int16, (0.8, 0.7), {"setting": {"binWidth": 25}}),
            ("edge_2d_filters_pet", pet_flat, np.float32, (2.0, 2.5),
             {"setting": {"binWidth": 0.25, "normalize": True, "distances": [1, 2]},
              "imageType": {"Original": {}, "Wavelet": {}, "Square": {}, "Gradient": {}}}),
            ("edge_2d_log_ct", ct_flat, np.int16, (0.8, 0.7),
             {"setting": {"binWidth": 10, "sigma": [1.0, 3.0]}, "imageType": {"LoG": {}},
              "featureClass": {"firstorder": None, "glcm": None, "glszm": None}}),
            ("edge_2d_lbp_ct", ct_flat, np.int16, (0.8, 0.7),
             {"setting": {"binWidth": 1}, "imageType": {"LBP2D": {}},
              "featureClass": {"firstorder": None, "glcm": None, "gldm": None}}),
            ("edge_2d_resample_pet", pet_flat, np.float32, (2.0, 2.5),
             {"setting": {"binWidth": 0.25, "resampledPixelSpacing": [1.5, 1.5], "sigma": [2.0]},
              "imageType": {"Original": {}, "LoG": {}},
              "featureClass": {"firstorder": None, "glrlm": None, "ngtdm": None, "shape2D": None}})]:
        write_2d(f"{name}.image.nii.gz", image, spacing, dtype)
        write_2d(f"{name}.mask.nii.gz", roi_flat, spacing, np.uint8)
        pfile = os.path.join(OUT, f"{name}.params.json")
        with open(pfile, "w") as f:
            json.dump(params, f, indent=1)
        res = featureextractor.RadiomicsFeatureExtractor(pfile).execute(
            os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        assert not any(k.startswith("original_shape_") for k in feats), name
        files[name] = {"dtype": np.dtype(dtype).name, "features": feats}

    with open(os.path.join(OUT, "edge_cases_expected.json"), "w") as f:
        json.dump({"pyradiomics": prver, "cases": cases, "files": files, "defaults": defaults, "examples": examples}, f, indent=1,
                  sort_keys=True)
    print("wrote", len(cases) + len(files) + len(examples), "cases;",
          {k: len(v["features"]) for k, v in list(cases.items()) + list(files.items()) + list(examples.items())})


if __name__ == "__main__":
    main()
