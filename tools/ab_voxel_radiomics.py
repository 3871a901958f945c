#!/usr/bin/env python3
"""Voxel-based radiomics side by side with PyRadiomics, like for like.

A CT-like int16 image (64^3 voxels of 1 mm, textured) and an irregular tumour mask of about
1,000 voxels, written once under target/bench-data/ab/voxel/. Each side does what PyRadiomics'
`execute(image, mask, voxelBased=True)` does: read the parameter file, the image and the mask,
and compute every map of every feature class but shape (93 maps), kept in memory; all inside the
timed region. Two settings: PyRadiomics' defaults with kernelRadius 1, and kernelRadius 2. One
thread each for the per-core figure (ours RAYON_NUM_THREADS=1; SimpleITK's global thread count 1
and one BLAS/OpenMP thread on the Python side); ours again on all cores as a parallel figure
(PyRadiomics computes one image's voxels in one process). PyRadiomics warm (a first untimed
call), ours the second of two extractions in its process. The two alternate, PAIRS pairs per
setting; min and median of each side and of the per-pair ratios.

    cargo build --release -p adamss-radiomics --example radiomics_timing
    .venv/bin/python tools/ab_voxel_radiomics.py [PAIRS]
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import json  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import SimpleITK as sitk  # noqa: E402
from radiomics import featureextractor  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pyradiomics_reference import ellipsoid, smooth  # noqa: E402

logging.getLogger("radiomics").setLevel(logging.CRITICAL)
np.seterr(all="ignore")
sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)

ROOT = Path(__file__).resolve().parent.parent
DIR = ROOT / "target" / "bench-data" / "ab" / "voxel"
EXE = ROOT / "target" / "release" / "examples" / "radiomics_timing"
CLASSES = ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]


def inputs():
    DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(64)
    shape = (64, 64, 64)
    ct = np.round(smooth(shape, rng, 150, 40, blobs=12)).clip(-1024, 3000)
    mask = ellipsoid(shape, (32, 30, 33), (6, 7, 6), rng, 0.3)
    for name, arr, dtype in (("image", ct, np.int16), ("mask", mask, np.uint8)):
        img = sitk.GetImageFromArray(arr.astype(dtype))
        img.SetSpacing((1.0, 1.0, 1.0))
        sitk.WriteImage(img, str(DIR / f"{name}.nii.gz"))
    params = {}
    for radius in (1, 2):
        p = DIR / f"params_r{radius}.json"
        p.write_text(json.dumps({"imageType": {"Original": {}},
                                 "featureClass": {c: None for c in CLASSES},
                                 "voxelSetting": {"kernelRadius": radius}}))
        params[f"kernelRadius {radius}"] = p
    return params, int(mask.sum())


def pyradiomics(params):
    t0 = time.perf_counter()
    r = featureextractor.RadiomicsFeatureExtractor(str(params)).execute(
        str(DIR / "image.nii.gz"), str(DIR / "mask.nii.gz"), voxelBased=True)
    n = sum(1 for k in r if not k.startswith("diagnostics"))
    return time.perf_counter() - t0, n


def ours(params, threads):
    r = subprocess.run([str(EXE), str(params), "2", str(DIR / "image.nii.gz"),
                        str(DIR / "mask.nii.gz")], check=True, capture_output=True, text=True,
                       env=dict(os.environ, RAYON_NUM_THREADS=str(threads), VOXEL_BASED="1"))
    secs, n = r.stdout.splitlines()[-1].split()
    return float(secs), int(n)


def summary(label, py, rs):
    ratio = [a / b for a, b in zip(py, rs)]
    print(f"{label}: PyRadiomics min {min(py):.2f} s median {statistics.median(py):.2f} s; "
          f"ours min {min(rs):.3f} s median {statistics.median(rs):.3f} s; "
          f"ratio per pair min {min(ratio):.1f}x median {statistics.median(ratio):.1f}x", flush=True)


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    params, voxels = inputs()
    cores = os.cpu_count()
    print(f"load before: {os.getloadavg()}  cores: {cores}  ROI: {voxels} voxels")
    for name, p in params.items():
        _, n_py = pyradiomics(p)  # warm-up, untimed
        py, rs, rs_all = [], [], []
        for k in range(pairs):
            t, _ = pyradiomics(p)
            s, n_rs = ours(p, 1)
            a, _ = ours(p, cores)
            py.append(t)
            rs.append(s)
            rs_all.append(a)
            print(f"  {name}, pair {k}: PyRadiomics {t:.2f} s  ours {s:.3f} s (1 thread), "
                  f"{a:.3f} s ({cores} threads)", flush=True)
        summary(f"{name} ({n_py} / {n_rs} maps), one thread each", py, rs)
        summary(f"{name}, ours on {cores} threads (a parallel figure)", py, rs_all)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
