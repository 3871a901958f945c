#!/usr/bin/env python3
"""PyRadiomics' values for the AdaMSS preset (tools/params_adamss.json: binWidth 25, Original +
Wavelet with binWidth 10, all seven classes: 851 features per image) on the radiomics bench's
160^3 PET + CT pair, for the golden test tests/it/radiomics.rs. Also records each volume's
voxel sum so the test can tell a changed generator from a changed feature.

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


if __name__ == "__main__":
    main()
