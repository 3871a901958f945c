#!/usr/bin/env python3
"""GLCM's maximal correlation coefficient two ways, on a cohort's CTs (issue #22): PyRadiomics'
own `getMCCFeatureValue` (it forms Q(i, j) = sum_k p(i,k) p(j,k) / (p_x(i) p_y(k) + eps) and
runs a non-symmetric eigensolver) against the second largest singular value of
B(i, k) = p(i, k) / sqrt(p_x(i) p_y(k)), whose squares are Q's eigenvalues without the eps
(adamss-radiomics computes it this way, `glcm.rs`). Prints each image's grey levels, both
values and their relative difference, and the worst.

    .venv/bin/python tools/mcc_check.py COHORT_DIR [N_PATIENTS]

COHORT_DIR holds a HECKTOR layout (imagesTr/*__CT.nii.gz, labelsTr/*.nii.gz), e.g. one written
by `adamss synth`; original image at binWidth 25 and the eight wavelet sub-bands at binWidth
10, as the AdaMSS radiomics settings (`tools/params_adamss.json`).
"""
import glob
import sys

import numpy as np
import radiomics
import SimpleITK as sitk
from radiomics import glcm, imageoperations


def mcc_from_b(P):
    """The MCC per direction from the singular values of B, averaged as PyRadiomics does."""
    px = P.sum(2, keepdims=True)
    py = P.sum(1, keepdims=True)
    out = []
    for a in range(P.shape[3]):
        p, x, y = P[0, :, :, a], px[0, :, 0, a], py[0, 0, :, a]
        d = np.sqrt(np.outer(x, y))
        b = np.divide(p, d, out=np.zeros_like(p), where=d > 0)
        s = np.linalg.svd(b, compute_uv=False)
        out.append(s[1] if len(s) > 1 else 1.0)
    return float(np.nanmean(out))


def main():
    radiomics.setVerbosity(60)
    root = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    files = sorted(glob.glob(f"{root}/imagesTr/*__CT.nii.gz"))[:count]
    if not files:
        sys.exit(f"no imagesTr/*__CT.nii.gz under {root}")
    worst = 0.0
    for f in files:
        image = sitk.ReadImage(f)
        mask = sitk.ReadImage(f.replace("imagesTr", "labelsTr").replace("__CT", ""))
        images = [("original", image, 25)]
        images += [(name, im, 10) for im, name, _ in imageoperations.getWaveletImage(image, mask)]
        for name, im, bin_width in images:
            c = glcm.RadiomicsGLCM(im, mask, binWidth=bin_width, label=1)
            c._initCalculation()
            theirs = float(c.getMCCFeatureValue()[0])
            ours = mcc_from_b(c.P_glcm)
            rel = abs(ours - theirs) / abs(theirs)
            worst = max(worst, rel)
            print(f"{f.split('/')[-1]} {name}: {c.P_glcm.shape[1]} grey levels, "
                  f"PyRadiomics {theirs:.12f}, from B {ours:.12f}, relative {rel:.2e}")
    print(f"worst relative difference: {worst:.2e}")


if __name__ == "__main__":
    main()
