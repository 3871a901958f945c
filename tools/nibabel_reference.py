#!/usr/bin/env python3
"""Writes NIfTI test files with nibabel and records what nibabel reads back.

Output: tests/data/nifti/*.nii[.gz], *.hdr/*.img and tests/data/nifti/expected.json, used by
crates/adamss-io/tests/it/nibabel.rs. Re-run after changing a case:

    .venv/bin/pip install -r tools/requirements.txt
    .venv/bin/python tools/nibabel_reference.py

For every file the JSON holds nibabel's shape, affine (`img.affine`), zooms
(`header.get_zooms()`), datatype code, scaled values (`get_fdata()`, float64) at fixed
indices, and the sum of all scaled values. For the "pixdim only" case (sform and qform codes
both 0) nibabel invents a centred, x-flipped affine; the NIfTI-1 standard (method 1) and this
project use diag(pixdim) with origin 0, so that case records the standard's affine and says so.
"""
import json
import math
from pathlib import Path

import nibabel as nib
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "nifti"


def rot(axis, deg):
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    m = np.eye(3)
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def affine(r, zooms, origin):
    a = np.eye(4)
    a[:3, :3] = r @ np.diag(zooms)
    a[:3, 3] = origin
    return a


def data(shape, dtype, rng, lo, hi):
    if np.issubdtype(dtype, np.integer):
        return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261126)
    oblique = rot(0, 12.0) @ rot(2, -25.0)
    cases = []

    def add(name, arr, qform=None, sform=None, scl=None, pair=False, endian="<", note=None,
            expected_affine=None, pixdim=None):
        hdr = nib.Nifti1Header(endianness=endian)
        hdr.set_data_dtype(arr.dtype)
        cls = nib.Nifti1Pair if pair else nib.Nifti1Image
        img = cls(arr, None, header=hdr)
        if pixdim is not None:
            img.header.set_zooms(pixdim)
        img.set_qform(qform[0] if qform else None, code=qform[1] if qform else 0)
        img.set_sform(sform[0] if sform else None, code=sform[1] if sform else 0)
        if scl is not None:
            img.header.set_slope_inter(*scl)
        path = OUT / name
        nib.save(img, path)
        back = nib.load(path)
        f = back.get_fdata(dtype=np.float64)
        shape3 = f.shape[:3]
        idx = [tuple(int(rng.integers(0, s)) for s in shape3) for _ in range(8)]
        idx += [(0, 0, 0), tuple(s - 1 for s in shape3)]
        vals = [float(f[i + (0,) * (f.ndim - 3)]) for i in idx]
        cases.append({
            "file": name,
            "shape": list(shape3),
            "datatype": int(back.header["datatype"]),
            "affine": (expected_affine if expected_affine is not None else back.affine).tolist(),
            "zooms": [float(z) for z in back.header.get_zooms()[:3]],
            "indices": [list(i) for i in idx],
            "values": vals,
            "sum": float(f.sum()),
            "min": float(f.min()),
            "max": float(f.max()),
            "note": note or "",
        })

    a_q = affine(oblique, [0.9, 1.1, 2.5], [-40.5, 12.25, 30.0])
    add("qform_only.nii.gz", data((10, 12, 7), np.int16, rng, -1000, 1500), qform=(a_q, 1),
        note="qform only (code 1), oblique")
    shear = affine(np.eye(3), [1.2, 0.8, 3.0], [5.0, -7.0, 11.0])
    shear[0, 1] = 0.3
    add("sform_only.nii.gz", data((9, 8, 6), np.float32, rng, -5, 5), sform=(shear, 2),
        note="sform only (code 2), sheared")
    a_s = affine(rot(1, 8.0), [1.0, 1.0, 1.5], [1.0, 2.0, 3.0])
    add("both_differ.nii.gz", data((8, 7, 6), np.float32, rng, 0, 20), qform=(a_q, 1),
        sform=(a_s, 4), note="qform and sform differ: sform wins")
    a_neg = affine(np.diag([-1.0, -1.0, 1.0]), [0.98, 0.98, 3.0], [250.0, 250.0, -100.0])
    add("negative_axes.nii", data((11, 9, 5), np.float64, rng, -1024, 3000), qform=(a_neg, 1),
        sform=(a_neg, 1), note="LPS-like negative x and y axes, float64, uncompressed")
    a_flip = affine(oblique @ np.diag([1.0, 1.0, -1.0]), [2.0, 2.0, 2.0], [0.0, 0.0, 0.0])
    add("qform_flip.nii.gz", data((6, 6, 6), np.uint8, rng, 0, 2), qform=(a_flip, 1),
        note="qform with qfac = -1 (left-handed), uint8 labels")
    add("int16_scaled.nii.gz", data((12, 10, 8), np.int16, rng, -32768, 32767),
        qform=(a_neg, 1), sform=(a_neg, 1), scl=(0.5, -100.0),
        note="int16 with scl_slope 0.5 and scl_inter -100")
    add("float64.nii.gz", data((7, 5, 4), np.float64, rng, -1e6, 1e6), sform=(a_s, 1),
        note="float64")
    add("pair_int32.hdr", data((5, 6, 7), np.int32, rng, -2**31, 2**31 - 1), qform=(a_neg, 1),
        sform=(a_neg, 1), pair=True, note=".hdr/.img pair, int32")
    add("big_endian_int16.nii", data((6, 5, 4), np.int16, rng, -3000, 3000), sform=(a_s, 1),
        endian=">", note="big-endian int16")
    add("uint16.nii.gz", data((4, 5, 6), np.uint16, rng, 0, 65535), sform=(a_s, 1), note="uint16")
    add("int8.nii.gz", data((4, 5, 6), np.int8, rng, -128, 127), sform=(a_s, 1), note="int8")
    add("four_d_singleton.nii.gz", data((5, 4, 3, 1), np.float32, rng, 0, 1), sform=(a_s, 1),
        note="4-D with a trailing dimension of 1")
    pix = np.eye(4)
    pix[0, 0], pix[1, 1], pix[2, 2] = 1.5, 2.0, 2.5
    add("pixdim_only.nii.gz", data((4, 4, 4), np.float32, rng, 0, 1), pixdim=(1.5, 2.0, 2.5),
        expected_affine=pix,
        note="no qform/sform: the NIfTI-1 standard's method 1 affine, diag(pixdim), not nibabel's")
    (OUT / "expected.json").write_text(json.dumps(
        {"generator": "tools/nibabel_reference.py", "nibabel": nib.__version__,
         "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
