#!/usr/bin/env python3
"""PyRadiomics' values for the AdaMSS preset (tools/params_adamss.json: binWidth 25, Original +
Wavelet with binWidth 10, all seven classes: 851 features per image) on the radiomics bench's
160^3 PET + CT pair, for the golden test tests/it/radiomics.rs. Also records each volume's
voxel sum so the test can tell a changed generator from a changed feature. And the GLCM class
alone on the CT at binWidth 2 (86 grey levels in the tumour, as many as wavelet sub-bands of
real CT tumours have), with and without symmetricalGLCM, for the test of the MCC's eigenproblem
at that size (tests/data/radiomics/glcm_many_levels_expected.json).

Run `cargo bench --bench radiomics -- shape_14` first (it writes the files), then
    .venv/bin/python tools/pyradiomics_adamss_160.py
"""
import json
import logging
import os

import numpy as np
import SimpleITK as sitk
import radiomics
from radiomics import featureextractor

logging.getLogger("radiomics").setLevel(logging.ERROR)
HERE = os.path.dirname(__file__)
D = os.path.join(HERE, "..", "target", "bench-data", "radiomics")
OUT = os.path.join(HERE, "..", "tests", "data", "radiomics", "adamss_160_expected.json")
OUT_GLCM = os.path.join(HERE, "..", "tests", "data", "radiomics", "glcm_many_levels_expected.json")


def glcm_many_levels():
    ct = os.path.join(D, "ct.nii.gz")
    mask = os.path.join(D, "mask.nii.gz")
    out = {"pyradiomics": radiomics.__version__, "binWidth": 2}
    for key, symmetric in (("symmetric", True), ("asymmetric", False)):
        ext = featureextractor.RadiomicsFeatureExtractor(binWidth=2, symmetricalGLCM=symmetric)
        ext.disableAllFeatures()
        ext.enableFeatureClassByName("glcm")
        res = ext.execute(ct, mask)
        out[key] = {k: float(v) for k, v in res.items() if k.startswith("original_glcm_")}
        assert len(out[key]) == 24, len(out[key])
    with open(OUT_GLCM, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    print("wrote", os.path.normpath(OUT_GLCM))


def main():
    ext = featureextractor.RadiomicsFeatureExtractor(os.path.join(HERE, "params_adamss.json"))
    mask = os.path.join(D, "mask.nii.gz")
    out = {"pyradiomics": radiomics.__version__, "params": "tools/params_adamss.json"}
    for key, name in (("CT", "ct.nii.gz"), ("PET", "pet.nii.gz")):
        path = os.path.join(D, name)
        res = ext.execute(path, mask)
        feats = {k: float(v) for k, v in res.items() if not k.startswith("diagnostics")}
        assert len(feats) == 851, len(feats)
        out[key] = feats
        out[f"{key}_voxel_sum"] = float(sitk.GetArrayFromImage(sitk.ReadImage(path)).astype(np.float64).sum())
    out["mask_voxels"] = int(sitk.GetArrayFromImage(sitk.ReadImage(mask)).sum())
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    print("wrote", os.path.normpath(OUT))
    glcm_many_levels()


if __name__ == "__main__":
    main()
