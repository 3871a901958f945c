#!/usr/bin/env python3
"""PyRadiomics reference values for adamss-radiomics (tests/it in that crate).

PyRadiomics 3.1.4 (`pyradiomics-bhklab`, identical values to upstream 3.x; upstream 3.1.0 does
not build on Python 3.11). Writes small image/mask pairs and the features PyRadiomics extracts
from them with the stated settings:

  tests/data/radiomics/<case>.image.nii.gz, <case>.mask.nii.gz
  tests/data/radiomics/expected.json   {case: {"settings": {...}, "features": {name: value}}}
  tests/data/radiomics/resample_expected.json   resampling cases, each with <case>.params.json

Run: .venv/bin/python tools/pyradiomics_reference.py
"""
import json
import logging
import os

import nibabel as nib
import numpy as np
import SimpleITK as sitk
from radiomics import __version__ as prver
from radiomics import featureextractor

logging.getLogger("radiomics").setLevel(logging.ERROR)
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "radiomics")
CLASSES = ["shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]


def smooth(shape, rng, scale, offset, blobs=5):
    z, y, x = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    f = np.zeros(shape)
    for _ in range(blobs):
        c = [rng.uniform(0, n) for n in shape]
        r = rng.uniform(1.5, 4)
        f += rng.uniform(-1, 1) * np.exp(-((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) / (2 * r * r))
    return f * scale + offset + rng.normal(0, scale * 0.05, shape)


def ellipsoid(shape, centre, radii, rng=None, irregular=0.0):
    z, y, x = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    d = ((z - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 + ((x - centre[2]) / radii[2]) ** 2
    if irregular and rng is not None:
        d += rng.uniform(-irregular, irregular, shape)
    return (d <= 1).astype(np.uint8)


def write(name, arr, spacing, dtype):
    img = sitk.GetImageFromArray(arr.astype(dtype))
    img.SetSpacing(spacing)
    img.SetOrigin((12.5, -30.0, 100.0))
    sitk.WriteImage(img, os.path.join(OUT, name))
    return img


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(1126)
    cases = {}

    def case(name, image, mask, spacing, dtype, settings, wavelet=False, filters=(), log=()):
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
        if log:
            ext.enableImageTypeByName("LoG", customArgs={"sigma": list(log)})
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        cases[name] = {"settings": settings, "wavelet": wavelet, "filters": list(filters), "log": list(log),
                       "dtype": np.dtype(dtype).name, "features": feats}

    # (z, y, x) arrays; spacing (x, y, z)
    shape = (14, 20, 22)
    ct = np.round(smooth(shape, rng, 300, 40)).clip(-1024, 3000)
    case("ct_ellipsoid", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16, {"binWidth": 25})
    pet = np.abs(smooth(shape, rng, 6, 2))
    case("pet_irregular", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6), rng, 0.6), (4.0, 4.0, 3.0), np.float32,
         {"binWidth": 0.25})
    case("pet_bincount", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6)), (2.0, 2.0, 2.0), np.float32, {"binCount": 16})
    # mask touching the image border, and a 2-label mask (label 2 selected)
    m = ellipsoid(shape, (0, 10, 11), (4, 7, 7))
    m[ellipsoid(shape, (10, 10, 11), (3, 3, 3)) == 1] = 2
    case("border_label2", ct, m, (1.0, 1.0, 1.0), np.int16, {"binWidth": 10, "label": 2})
    case("border_label1", ct, m, (1.0, 1.0, 1.0), np.int16, {"binWidth": 10, "label": 1, "voxelArrayShift": 1000})
    # tiny, flat-ish ROI: a 3x3x2 block
    small = np.zeros(shape, np.uint8)
    small[5:7, 8:11, 9:12] = 1
    case("small_block", ct, small, (1.0, 1.0, 1.0), np.int16, {"binWidth": 25})

    # Wavelet (coif1, level 1): even dims with a mask near the border (padding clipped), and
    # odd dims (PyRadiomics' wrap padding) with a PET-like image.
    case("wavelet_ct", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16, {"binWidth": 10},
         wavelet=True)
    odd = (13, 19, 21)
    pet_odd = np.abs(smooth(odd, rng, 6, 2))
    case("wavelet_pet_odd", pet_odd, ellipsoid(odd, (6, 9, 10), (4, 6, 7), rng, 0.4), (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.1}, wavelet=True)

    # The simple filters, on an int16 CT-like image (negative values) and a float32 PET.
    simple = ("Square", "SquareRoot", "Logarithm", "Exponential", "Gradient")
    case("filters_ct", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16, {"binWidth": 25},
         filters=simple)
    case("filters_pet", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6)), (2.0, 2.0, 3.0), np.float32, {"binWidth": 0.25},
         filters=simple)

    # Resegmentation (resegmentRange/resegmentMode) on the original image, applied to every
    # image type: absolute (with wavelet, whose crop follows the resegmented ROI), sigma,
    # relative with one bound.
    case("reseg_ct_absolute", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16,
         {"binWidth": 25, "resegmentRange": [150, -50]}, wavelet=True, filters=("Square",))
    case("reseg_pet_sigma", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6)), (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.25, "resegmentRange": [-1.5, 2.0], "resegmentMode": "sigma"})
    case("reseg_pet_relative", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6)), (2.0, 2.0, 3.0), np.float32,
         {"binCount": 16, "resegmentRange": [0.4], "resegmentMode": "relative"})

    # Normalisation of the whole image (sitk.Normalize: sample sd, f64), with outlier clipping
    # and a scale, then resegmentation on the normalised values; and PET with Wavelet.
    case("normalize_ct", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16,
         {"binWidth": 5, "normalize": True, "normalizeScale": 100, "removeOutliers": 1.5,
          "resegmentRange": [-120, 140]}, filters=("Square",))
    case("normalize_pet", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6)), (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.1, "normalize": True}, wavelet=True)

    # LoG (SimpleITK's recursive-Gaussian Laplacian on the whole image, normalised across
    # scale): anisotropic int16 CT, and float32 PET with sigma-mode resegmentation.
    case("log_ct", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16, {"binWidth": 5},
         log=(1.0, 2.5))
    case("log_pet_reseg", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6), rng, 0.4), (2.0, 2.0, 3.0), np.float32,
         {"binWidth": 0.05, "resegmentRange": [-2.0, 2.0], "resegmentMode": "sigma"}, log=(1.5, 3.0))

    # preCrop: the LoG is taken on the ROI's box plus padDistance, not on the whole image (CT
    # with wavelet; PET normalised on the whole image first, then cropped).
    big = (24, 36, 40)
    ct_big = np.round(smooth(big, rng, 300, 40)).clip(-1024, 3000)
    case("precrop_ct", ct_big, ellipsoid(big, (10, 20, 14), (5, 6, 7)), (1.2, 0.9, 0.9), np.int16,
         {"binWidth": 25, "preCrop": True, "padDistance": 3}, wavelet=True, log=(1.0, 2.0))
    pet_big = np.abs(smooth(big, rng, 6, 2))
    case("precrop_pet_normalized", pet_big, ellipsoid(big, (12, 16, 25), (4, 5, 6)), (2.0, 2.0, 2.0), np.float32,
         {"binWidth": 0.1, "normalize": True, "preCrop": True, "interpolator": "sitkBSpline"}, log=(1.5,))
    # resampledPixelSpacing equal to the image's own spacing (directly, and through 0 = keep):
    # PyRadiomics crops to the ROI's box plus padDistance instead of resampling.
    case("resample_same_ct", ct_big, ellipsoid(big, (10, 20, 14), (5, 6, 7)), (1.2, 0.9, 0.9), np.int16,
         {"binWidth": 25, "resampledPixelSpacing": [1.2, 0.9, 0.9], "padDistance": 2}, wavelet=True,
         log=(1.0, 2.0))
    case("resample_keep_pet", pet_big, ellipsoid(big, (12, 16, 25), (4, 5, 6)), (2.0, 2.0, 2.0), np.float32,
         {"binWidth": 0.25, "resampledPixelSpacing": [0, 2.0, 0]}, log=(1.5,))

    # Texture settings: weightingNorm (GLCM and GLRLM directions merged, weighted by offset
    # length on anisotropic voxels), distances (GLCM, GLDM, NGTDM), symmetricalGLCM, gldm_a.
    case("texture_manhattan_d12", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16,
         {"binWidth": 25, "weightingNorm": "manhattan", "distances": [1, 2]})
    case("texture_euclidean_asym", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6), np.random.default_rng(2027), 0.4),
         (2.0, 2.0, 3.0),
         np.float32, {"binWidth": 0.25, "weightingNorm": "euclidean", "symmetricalGLCM": False, "gldm_a": 1})
    case("texture_infinity_d2", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (1.0, 0.8, 1.5), np.int16,
         {"binWidth": 10, "weightingNorm": "infinity", "distances": [2], "gldm_a": 2})
    case("texture_no_weighting_asym", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16,
         {"binWidth": 25, "weightingNorm": "no_weighting", "symmetricalGLCM": False}, wavelet=True)

    # Resampling to another spacing (resampledPixelSpacing + interpolator): each case a
    # parameter file, run by PyRadiomics on the files and by ExtractionPlan::run_files.
    resampled = {}

    def resample_case(name, image, mask, spacing, dtype, params, writer=None):
        if writer is None:
            write(f"{name}.image.nii.gz", image, spacing, dtype)
        else:
            writer(f"{name}.image.nii.gz", image, spacing)
        write(f"{name}.mask.nii.gz", mask, spacing, np.uint8)
        pfile = os.path.join(OUT, f"{name}.params.json")
        with open(pfile, "w") as f:
            json.dump(params, f, indent=1)
        ext = featureextractor.RadiomicsFeatureExtractor(pfile)
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        # The resampled pair itself, as PyRadiomics' loadImage returns it (stored type kept).
        rimg, rmsk = ext.loadImage(os.path.join(OUT, f"{name}.image.nii.gz"),
                                   os.path.join(OUT, f"{name}.mask.nii.gz"), None, **ext.settings)
        sitk.WriteImage(rimg, os.path.join(OUT, f"{name}.resampled.image.nii.gz"))
        sitk.WriteImage(sitk.Cast(rmsk, sitk.sitkUInt8), os.path.join(OUT, f"{name}.resampled.mask.nii.gz"))
        resampled[name] = {"dtype": np.dtype(dtype).name, "features": feats,
                           "resampled_size": [int(x) for x in res["diagnostics_Image-interpolated_Size"]],
                           "resampled_spacing": [float(x) for x in res["diagnostics_Image-interpolated_Spacing"]]}

    all_classes = {c: [] for c in CLASSES}
    # int16 CT, 0.98 x 0.98 x 2.5 mm to 1 mm (B-spline, truncated to int16), with wavelet and LoG.
    resample_case("resample_ct_bspline", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16,
                  {"setting": {"binWidth": 25, "resampledPixelSpacing": [1, 1, 1], "interpolator": "sitkBSpline"},
                   "imageType": {"Original": {}, "Wavelet": {"binWidth": 10}, "LoG": {"sigma": [1.0, 2.0]}},
                   "featureClass": all_classes})
    # An odd downsampling ratio (0.8 -> 2.4 mm in-plane, z kept through 0): new voxel centres fall
    # on old ones, where ITK's single-precision floor and the int16 truncation both matter.
    grid = (20, 30, 33)
    ct_grid = np.round(smooth(grid, rng, 300, 40)).clip(-1024, 3000)
    resample_case("resample_ct_odd_ratio", ct_grid, ellipsoid(grid, (10, 15, 16), (6, 11, 12)), (0.8, 0.8, 2.0),
                  np.int16,
                  {"setting": {"binWidth": 25, "resampledPixelSpacing": [2.4, 2.4, 0], "padDistance": 3},
                   "imageType": {"Original": {}}, "featureClass": all_classes})
    # The same grid on a float64 image (resampled in f64, so any ulp of the interpolation shows).
    resample_case("resample_f64_odd_ratio", ct_grid + 0.25, ellipsoid(grid, (10, 15, 16), (6, 11, 12)),
                  (0.8, 0.8, 2.0), np.float64,
                  {"setting": {"binWidth": 25, "resampledPixelSpacing": [2.4, 2.4, 0], "padDistance": 3},
                   "imageType": {"Original": {}}, "featureClass": all_classes})
    # float32 PET normalised (f64) before resampling to 3 x 2.5 x 1.5 mm, with LoG; label 2.
    m = ellipsoid(big, (12, 16, 25), (4, 5, 6))
    m[ellipsoid(big, (12, 16, 8), (3, 4, 4)) == 1] = 2
    resample_case("resample_pet_normalized", pet_big, m, (2.0, 2.0, 2.0), np.float32,
                  {"setting": {"binWidth": 0.1, "normalize": True, "label": 2,
                               "resampledPixelSpacing": [3.0, 2.5, 1.5]},
                   "imageType": {"Original": {}, "LoG": {"sigma": [2.0]}}, "featureClass": all_classes})
    # Nearest-neighbour image interpolation, float32 PET, 4 x 4 x 3 mm to 2.5 mm, with wavelet.
    resample_case("resample_pet_nearest", pet, ellipsoid(shape, (6, 9, 12), (4, 6, 6), rng, 0.4), (4.0, 4.0, 3.0),
                  np.float32,
                  {"setting": {"binWidth": 0.25, "resampledPixelSpacing": [2.5, 2.5, 2.5],
                               "interpolator": "sitkNearestNeighbor"},
                   "imageType": {"Original": {}, "Wavelet": {}}, "featureClass": all_classes})

    # Trilinear (sitkLinear) on a float64 image, 0.98 x 0.98 x 2.5 mm to 0.7 x 0.7 x 1.3 mm, with LoG.
    resample_case("resample_f64_linear", ct + 0.125, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5),
                  np.float64,
                  {"setting": {"binWidth": 25, "resampledPixelSpacing": [0.7, 0.7, 1.3], "interpolator": "sitkLinear"},
                   "imageType": {"Original": {}, "LoG": {"sigma": [1.0]}}, "featureClass": all_classes})

    # An int16 file with scl_inter (nibabel): SimpleITK reads it as float32, so the resampled
    # values are rounded to float32, not truncated.
    def scaled_writer(fname, arr, spacing):
        data = (arr.astype(np.float64) + 1024.0).astype(np.int16)
        affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
        affine[:3, 3] = [-12.5, 30.0, 100.0]
        img = nib.Nifti1Image(np.ascontiguousarray(data.transpose(2, 1, 0)), affine)
        img.header.set_data_dtype(np.int16)
        img.header.set_slope_inter(1.0, -1024.0)
        nib.save(img, os.path.join(OUT, fname))
    resample_case("resample_ct_scaled", ct, ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.int16,
                  {"setting": {"binWidth": 25, "resampledPixelSpacing": [1.5, 1.5, 1.5]},
                   "imageType": {"Original": {}}, "featureClass": all_classes},
                  writer=scaled_writer)
    with open(os.path.join(OUT, "resample_expected.json"), "w") as f:
        json.dump({"pyradiomics": prver, "cases": resampled}, f, indent=1, sort_keys=True)

    # A JSON parameter file, read by PyRadiomics itself and by ExtractionPlan::from_json_file.
    params = {
        "setting": {"binWidth": 25, "label": 1, "additionalInfo": True},
        "imageType": {"Original": {}, "Square": {"binWidth": 5}, "Wavelet": {"binWidth": 10}},
        "featureClass": {"firstorder": ["Mean", "Median", "Entropy"], "glcm": None, "ngtdm": []},
    }
    with open(os.path.join(OUT, "params_case.params.json"), "w") as f:
        json.dump(params, f, indent=1)
    write("params_case.image.nii.gz", ct, (0.98, 0.98, 2.5), np.int16)
    write("params_case.mask.nii.gz", ellipsoid(shape, (7, 10, 11), (5, 7, 8)), (0.98, 0.98, 2.5), np.uint8)
    ext = featureextractor.RadiomicsFeatureExtractor(os.path.join(OUT, "params_case.params.json"))
    res = ext.execute(os.path.join(OUT, "params_case.image.nii.gz"), os.path.join(OUT, "params_case.mask.nii.gz"))
    params_expected = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
    with open(os.path.join(OUT, "params_case.expected.json"), "w") as f:
        json.dump(params_expected, f, indent=1, sort_keys=True)
    write_yaml_params(params, ext)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"pyradiomics": prver, "cases": cases}, f, indent=1, sort_keys=True)
    shape_reference(cases)
    print("wrote", len(cases), "cases;", {k: len(v["features"]) for k, v in cases.items()})


def shape_reference(cases):
    """The shape class (all 14 features) of every case's mask, with the case's label, and of
    shape-only masks that stress the marching-cubes mesh: a fragmented random mask (many faces
    with two diagonal ROI voxels, where PyRadiomics' mesh has holes), a noisy blob with another
    label beside it, a blob touching every border, and four voxels that touch only at corners; anisotropic spacings."""
    rng = np.random.default_rng(2611)
    extra = {}
    frag = (rng.random((9, 10, 12)) < 0.35).astype(np.uint8)
    extra["shape_fragmented"] = (frag, (0.7, 1.3, 2.1), 1)
    blob = ellipsoid((12, 14, 11), (6, 7, 5), (4, 5, 4), rng, 0.9) * 2
    blob[blob == 0] = (rng.random(blob.shape) < 0.1)[blob == 0]
    extra["shape_noisy_blob"] = (blob, (1.0, 0.8, 3.0), 2)
    border = ((rng.random((8, 8, 8)) < 0.8) | (ellipsoid((8, 8, 8), (3.5, 3.5, 3.5), (5, 5, 5)) == 1)).astype(np.uint8)
    extra["shape_border"] = (border, (2.0, 2.0, 1.5), 1)
    corner = np.zeros((5, 5, 5), np.uint8)
    for z, y, x in [(2, 2, 2), (1, 1, 1), (3, 3, 1), (3, 1, 3)]:
        corner[z, y, x] = 1
    extra["shape_corners"] = (corner, (0.9, 1.1, 1.3), 1)
    for name, (mask, spacing, _) in extra.items():
        write(f"{name}.image.nii.gz", rng.normal(0, 1, mask.shape), spacing, np.float32)
        write(f"{name}.mask.nii.gz", mask, spacing, np.uint8)
    jobs = [(name, c["settings"].get("label", 1)) for name, c in cases.items()]
    jobs += [(name, label) for name, (_, _, label) in extra.items()]
    out = {}
    for name, label in jobs:
        ext = featureextractor.RadiomicsFeatureExtractor(label=label)
        ext.disableAllFeatures()
        ext.enableFeatureClassByName("shape")
        res = ext.execute(os.path.join(OUT, f"{name}.image.nii.gz"), os.path.join(OUT, f"{name}.mask.nii.gz"))
        feats = {k: float(v) for k, v in res.items() if k.startswith("original_shape_")}
        out[name] = {"label": label, "features": feats}
    with open(os.path.join(OUT, "shape_expected.json"), "w") as f:
        json.dump({"pyradiomics": prver, "cases": out}, f, indent=1, sort_keys=True)


PARAMS_YAML = """\
# The parameter file of params_case.params.json in PyRadiomics' YAML form (as in its
# examples/exampleSettings): comments, a class with no value (all its defaults), flow lists.
setting:
  binWidth: 25
  label: 1
  additionalInfo: true
imageType:
  Original: {}
  Square:
    binWidth: 5
  Wavelet:
    binWidth: 10
featureClass:
  firstorder: [Mean, Median, Entropy]
  glcm:
  ngtdm: []
"""


def write_yaml_params(params, ext_json):
    """Writes the YAML twin of the JSON parameter file and checks, with PyRadiomics itself,
    that it is the same file: same settings, image types and enabled features."""
    import yaml  # PyYAML, which PyRadiomics uses to read YAML parameter files

    path = os.path.join(OUT, "params_case.params.yaml")
    with open(path, "w") as f:
        f.write(PARAMS_YAML)
    assert yaml.safe_load(PARAMS_YAML) == params, "the YAML twin must equal the JSON file"
    ext_yaml = featureextractor.RadiomicsFeatureExtractor(path)
    assert ext_yaml.settings == ext_json.settings
    assert ext_yaml.enabledImagetypes == ext_json.enabledImagetypes
    assert ext_yaml.enabledFeatures == ext_json.enabledFeatures


if __name__ == "__main__":
    main()
